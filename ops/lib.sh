# Shared by the ops/ scripts: messages, installing Debian packages, the tools fleetcast runs.
say() { echo "ops: $*"; }
die() { echo "ops: ERROR: $*" >&2; exit 1; }

say() { echo "ops: $*"; }
die() { echo "ops: ERROR: $*" >&2; exit 1; }

apt_updated=""
apt_install() {
  if [ "$(id -u)" != 0 ]; then
    die "$1 is not installed and this is not root: run  sudo apt-get install -y $*  (or run this script as root)"
  fi
  command -v apt-get >/dev/null || die "$1 is not installed and there is no apt-get here: install $* with your package manager"
  if [ -z "$apt_updated" ]; then
    say "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    apt_updated=1
  fi
  say "installing $* from Debian packages"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# ---- programs fleetcast runs: git and bubblewrap (builders), nats-server (private hubs and leaves), openssl (up's CA)
ensure_tools() {
  command -v git >/dev/null || apt_install git
  say "git $(git --version | awk '{print $3}') present"
  # The build sandbox (FLEETCAST_BUILD_SANDBOX=bwrap, the default).
  command -v bwrap >/dev/null || apt_install bubblewrap
  say "bubblewrap $(bwrap --version | awk '{print $2}') present"
  command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ] || apt_install nats-server
  say "nats-server present"
  # fleetcast up's local CA and certificates (TLS on its NATS links).
  command -v openssl >/dev/null || apt_install openssl
  say "$(openssl version | awk '{print $1, $2}') present"
}
