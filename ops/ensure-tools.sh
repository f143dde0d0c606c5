#!/usr/bin/env bash
# Makes sure the programs `fleetcast up` and `fleetcast demo` run are installed: git,
# bubblewrap (the build sandbox) and nats-server (installed from Debian's packages when
# missing; needs root). Services such as
# MariaDB are not needed: the demo runs on embedded defaults.
#
#   FLEETCAST_SKIP_SERVICES=1   do nothing
set -euo pipefail
[ "${FLEETCAST_SKIP_SERVICES:-}" = 1 ] && exit 0
here=$(dirname "$0")
# shellcheck source=ops/lib.sh
. "$here/lib.sh"
ensure_tools
