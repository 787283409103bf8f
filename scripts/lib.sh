# Shared helpers for the bootstrap scripts. Sourced, never run.
# Every wait here is bounded in tries and seconds; every failure names the part.

set -euo pipefail
# No `cmd | grep -q` in these scripts: grep -q exits at the first match, cmd dies of SIGPIPE, and
# pipefail turns a match into a failure. `grep -q X <<<"$(cmd)"` instead.

LUCID_HOME="${LUCID_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/lucid}"
LUCID_BIN="$LUCID_HOME/bin"
LUCID_RUN="${LUCID_RUN:-/run/lucid}"
LUCID_LOG="$LUCID_HOME/log"
export LUCID_HOME LUCID_BIN LUCID_RUN LUCID_LOG
export PATH="$LUCID_BIN:$PATH"
mkdir -p "$LUCID_BIN" "$LUCID_RUN" "$LUCID_LOG"

# Addresses of the local parts; one place to change them.
# The registry listens on the host side of the Pi's link (not on 127.0.0.1): buildx's imagetools
# forces plain HTTP for any loopback registry while docker-build's manifest reads insist on HTTPS
# (seen: the Index's create and read disagreeing), so it serves TLS on an address that neither
# special-cases, and the Pi pulls from the same address, as a real Pi pulls from Docker Hub.
PI_NETNS="${LUCID_PI_NETNS:-lucid-pi}"
PI_HOST_IP="10.250.0.1"   # host side of the veth: the registry's address
REGISTRY_ADDR="$PI_HOST_IP:${LUCID_REGISTRY_PORT:-5000}"
PI_IP="10.250.0.2"        # the Pi stand-in's own address
PI_BRIDGE_CIDR="10.251.0.1/24"
PI_DOCKER_SOCK="/run/docker-pi.sock"
PI_SSH_PORT=22
PI_USER="deploy"
BUILDKIT_SOCK="$LUCID_RUN/buildkitd.sock"
BUILDER_NAME="lucid"

log() { printf '[lucid %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[lucid] error: %s\n' "$*" >&2; exit 1; }

# wait_until SECONDS DESCRIPTION CMD...: poll CMD every 0.5 s, at most SECONDS.
wait_until() {
  local seconds="$1" what="$2"; shift 2
  local tries=$((seconds * 2)) i
  for ((i = 0; i < tries; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  return 1
}

# port_owner ADDR:PORT -> prints the process listening there (empty when free).
port_owner() {
  ss -Hltnp "sport = :${1##*:}" 2>/dev/null | awk -v a="$1" '
    $4 == a || $4 ~ /^(\*|0\.0\.0\.0|\[::\]):/ { print ($NF ~ /users:/ ? $NF : "another process") }' \
    | sed -E 's/users:\(\("([^"]+)",pid=([0-9]+).*/\1 (pid \2)/' | head -1
}

# require_port_free ADDR:PORT PART: fail clearly when someone else holds the port.
require_port_free() {
  local owner
  owner="$(port_owner "$1")"
  [[ -z "$owner" ]] || die "$2: port $1 is already taken by $owner; free it or choose another port (LUCID_REGISTRY_PORT)"
}

need_cmd() { command -v "$1" >/dev/null 2>&1 || die "$2"; }

# apt_install PKG...: install only what is missing (fast when all are there).
apt_install() {
  local missing=() p
  for p in "$@"; do
    grep -q "ok installed" <<<"$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  log "installing Debian packages: ${missing[*]}"
  if [[ ! -f "$LUCID_HOME/.apt-updated" ]] || [[ -n "$(find "$LUCID_HOME/.apt-updated" -mmin +720)" ]]; then
    apt-get update -q >"$LUCID_LOG/apt.log" 2>&1 || die "apt-get update failed (see $LUCID_LOG/apt.log)"
    touch "$LUCID_HOME/.apt-updated"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" \
    >>"$LUCID_LOG/apt.log" 2>&1 || die "apt-get install ${missing[*]} failed (see $LUCID_LOG/apt.log)"
}

# start_daemon NAME LOGFILE CMD...: start CMD in the background, detached, pid in $LUCID_RUN/NAME.pid.
start_daemon() {
  local name="$1" logfile="$2"; shift 2
  setsid "$@" >>"$logfile" 2>&1 </dev/null &
  echo $! >"$LUCID_RUN/$name.pid"
}

# await_daemon NAME SECONDS WHAT CHECK...: wait until CHECK passes, at most SECONDS; stop early and
# fail, with the daemon's last log lines, when the process started as NAME has exited.
await_daemon() {
  local name="$1" seconds="$2" what="$3"; shift 3
  local pid i logfile="$LUCID_LOG/$name.log"
  pid="$(cat "$LUCID_RUN/$name.pid")"
  for ((i = 0; i < seconds * 2; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      die "$what did not start: it exited at once. Last lines of $logfile:
$(tail -n 12 "$logfile")"
    fi
    sleep 0.5
  done
  die "$what did not become ready within $seconds s. Last lines of $logfile:
$(tail -n 12 "$logfile")"
}

# Debian's docker client speaks to Engine 20.10 and has `build --platform`; prefer it.
DOCKER="${LUCID_DOCKER:-/usr/bin/docker}"
[[ -x "$DOCKER" ]] || DOCKER="$(command -v docker || echo docker)"
