#!/usr/bin/env bash
# Makes sure the tools of the swarm benchmark against BitTorrent (issue 20) are installed:
# ip and tc (iproute2) for network namespaces and capped links, and the BitTorrent baseline —
# aria2 (seed and downloaders), opentracker (tracker), mktorrent — from Debian's packages when
# missing (needs root).
#
#   FLEETCAST_SKIP_SERVICES=1   do nothing
set -euo pipefail
[ "${FLEETCAST_SKIP_SERVICES:-}" = 1 ] && exit 0
here=$(dirname "$0")
# shellcheck source=ops/lib.sh
. "$here/lib.sh"
command -v ip >/dev/null && command -v tc >/dev/null || apt_install iproute2
command -v aria2c >/dev/null || apt_install aria2
command -v opentracker >/dev/null || [ -x /usr/bin/opentracker ] || apt_install opentracker
command -v mktorrent >/dev/null || apt_install mktorrent
say "swarm benchmark tools present: $(aria2c --version | head -1), opentracker, mktorrent"
