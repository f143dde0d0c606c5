#!/usr/bin/env bash
# Makes sure the `prometheus` program is installed (Debian's package, installed when missing;
# needs root): the metric-gate tests start their own Prometheus process (generated config,
# OS-chosen port, temporary storage) scraping the sample service the agents run. The package's
# system service is not started: a policy-rc.d that refuses starts is in place during the install
# (unless one exists already), so nothing listens on :9090 behind the tests' back.
#
#   FLEETCAST_SKIP_SERVICES=1   do nothing
set -euo pipefail
[ "${FLEETCAST_SKIP_SERVICES:-}" = 1 ] && exit 0
here=$(dirname "$0")
# shellcheck source=ops/lib.sh
. "$here/lib.sh"

if ! command -v prometheus >/dev/null; then
  policy=/usr/sbin/policy-rc.d
  if [ "$(id -u)" = 0 ] && [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# fleetcast ops/ensure-prometheus.sh: no service starts during its install\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt_install prometheus
fi
say "prometheus $(prometheus --version 2>&1 | awk 'NR==1 {print $3}') present"
