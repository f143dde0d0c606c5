#!/usr/bin/env bash
# Makes sure the services fleetcast's tests and benchmarks use are running on this machine:
#   MariaDB on 127.0.0.1:3306 (user root, empty password)  and  NATS with JetStream on 127.0.0.1:4222.
# For each: if it answers, nothing to do; if it is installed but stopped, start it; if it is not
# installed, install it from Debian's packages (needs root) and start it. Then wait until it
# answers, and say what was done. Exits non-zero, naming what is missing, if it cannot.
#
#   FLEETCAST_SKIP_SERVICES=1   do nothing (you run the services yourself)
set -euo pipefail

[ "${FLEETCAST_SKIP_SERVICES:-}" = 1 ] && { echo "ops: FLEETCAST_SKIP_SERVICES=1, not checking services"; exit 0; }

here=$(dirname "$0")
# shellcheck source=ops/lib.sh
. "$here/lib.sh"

wait_for() { # description, seconds, command...
  local what=$1 seconds=$2; shift 2
  for _ in $(seq $((seconds * 5))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  return 1
}

# ---- MariaDB ---------------------------------------------------------------------------
mariadb_tcp_ok() { mariadb-admin --protocol=tcp --host=127.0.0.1 --port=3306 --user=root --connect-timeout=2 ping; }
mariadb_socket_ok() { mariadb-admin --user=root --connect-timeout=2 ping; }

ensure_mariadb() {
  if command -v mariadb-admin >/dev/null && mariadb_tcp_ok >/dev/null 2>&1; then
    say "MariaDB answers on 127.0.0.1:3306"
    return
  fi
  if ! command -v mariadbd >/dev/null && [ ! -x /usr/sbin/mariadbd ]; then
    apt_install mariadb-server mariadb-client
  fi
  if ! mariadb_socket_ok >/dev/null 2>&1 && ! mariadb_tcp_ok >/dev/null 2>&1; then
    say "starting MariaDB"
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
    if [ ! -d /var/lib/mysql/mysql ]; then
      say "initialising the MariaDB data directory"
      mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
    fi
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql --bind-address=127.0.0.1 --port=3306
    wait_for "MariaDB" 60 mariadb_socket_ok || wait_for "MariaDB" 5 mariadb_tcp_ok ||
      die "MariaDB did not start within 60 s; see /var/log/mysql/error.log"
  fi
  if ! mariadb_tcp_ok >/dev/null 2>&1; then
    # A fresh Debian install lets root in over the socket only; the tests connect over TCP.
    say "allowing root@127.0.0.1 with an empty password (test setup)"
    mariadb --user=root -e "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
      GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
      ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket;
      FLUSH PRIVILEGES;" || die "could not let root log in over TCP: check MariaDB's users"
    wait_for "MariaDB over TCP" 10 mariadb_tcp_ok || die "MariaDB is running but refuses root@127.0.0.1:3306"
  fi
  mariadb --protocol=tcp --host=127.0.0.1 --user=root -e "CREATE DATABASE IF NOT EXISTS test" ||
    die "MariaDB answers but root cannot create databases"
  say "MariaDB ready on 127.0.0.1:3306"
}

# ---- NATS with JetStream ---------------------------------------------------------------
nats_info() { timeout 3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/4222 && head -1 <&3' 2>/dev/null; }
nats_jetstream_ok() { nats_info | grep -q '"jetstream":true'; }

ensure_nats() {
  if nats_jetstream_ok; then
    say "NATS with JetStream answers on 127.0.0.1:4222"
  else
    if nats_info | grep -q '^INFO'; then
      die "a NATS server on 127.0.0.1:4222 runs without JetStream: restart it with -js (e.g. nats-server -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server)"
    fi
    command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ] || apt_install nats-server
    local bin; bin=$(command -v nats-server || echo /usr/sbin/nats-server)
    say "starting NATS with JetStream"
    mkdir -p /var/lib/nats-server /var/log
    start-stop-daemon --start --oknodo --background --exec "$bin" -- \
      -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
    wait_for "NATS" 30 nats_jetstream_ok || die "NATS did not start with JetStream within 30 s; see /var/log/nats-server.log"
    say "NATS with JetStream ready on 127.0.0.1:4222"
  fi
  # Private hubs and leaves (tests, fleetcast up) run this binary themselves.
  command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ] || die "nats-server binary missing: apt-get install nats-server"
}

ensure_mariadb
ensure_nats
ensure_tools
