#!/usr/bin/env bash
# Makes sure the browser the dashboard's end-to-end tests drive is installed: Debian's chromium
# (playwright-core cannot download its own browser here; the tests point it at /usr/bin/chromium).
# Installed from Debian's packages when missing; needs root.
#
#   FLEETCAST_SKIP_SERVICES=1   do nothing
set -euo pipefail
[ "${FLEETCAST_SKIP_SERVICES:-}" = 1 ] && exit 0
here=$(dirname "$0")
# shellcheck source=ops/lib.sh
. "$here/lib.sh"
if [ ! -x /usr/bin/chromium ]; then
  [ "$(id -u)" = 0 ] || die "chromium is not installed and this is not root: run  sudo apt-get install -y chromium"
  # Another apt-get may hold the dpkg lock for a while (a parallel install): wait for it.
  lock=(-o DPkg::Lock::Timeout=600)
  say "apt-get update"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq "${lock[@]}" >/dev/null
  say "installing chromium from Debian packages"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${lock[@]}" chromium >/dev/null
fi
say "$(/usr/bin/chromium --version 2>/dev/null | head -1) present"
