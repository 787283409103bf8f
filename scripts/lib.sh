# shellcheck shell=bash disable=SC2034 # its constants are for the scripts that source it
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
PI_V2_USER="deploy-v2" # the tests' second flavour: Compose v2 (pi-compose-v2.sh)
BUILDKIT_SOCK="$LUCID_RUN/buildkitd.sock"
BUILDER_NAME="lucid"

# On a terminal the progress ticker keeps a live line at the bottom: clear it before a log line.
if [[ -t 2 ]]; then LUCID_EOL=$'\r\033[K'; else LUCID_EOL=""; fi
log() { printf '%s[lucid %s] %s\n' "$LUCID_EOL" "$(date +%H:%M:%S)" "$*" >&2; }
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
    step "apt-update" apt-get update -q || die "apt-get update failed (see $LUCID_LOG/apt-update.log)"
    touch "$LUCID_HOME/.apt-updated"
  fi
  local before
  before="$(dpkg-query -W -f='${Package}\n' | sort)"
  DEBIAN_FRONTEND=noninteractive step "apt-install" apt-get install -y -q --no-install-recommends \
    "${missing[@]}" || die "apt-get install ${missing[*]} failed (see $LUCID_LOG/apt-install.log)"
  # What the project added to the machine, dependencies included, for `scripts/purge.sh
  # --packages` (kept outside LUCID_HOME, which a purge deletes).
  mkdir -p "$(dirname "$LUCID_APT_RECORD")"
  comm -13 <(echo "$before") <(dpkg-query -W -f='${Package}\n' | sort) >>"$LUCID_APT_RECORD"
}
LUCID_APT_RECORD=/var/lib/lucid/apt-installed

# start_daemon NAME LOGFILE CMD...: start CMD in the background, detached, pid in $LUCID_RUN/NAME.pid.
start_daemon() {
  local name="$1" logfile="$2"; shift 2
  setsid "$@" >>"$logfile" 2>&1 </dev/null &
  echo $! >"$LUCID_RUN/$name.pid"
  disown $! # a daemon outlives the script: not one of the jobs lucid_exit ends
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

# --- Progress on long work -------------------------------------------------------------------
# step NAME CMD...: one named step of a long job. Its output goes to $LUCID_LOG/NAME.log; while it
# runs, the ticker names it with its elapsed time (a line every 30 s, or a live line on a
# terminal), so no step is silent for more than a minute; its time goes to $LUCID_LOG/steps.tsv
# (bench/cold-steps.sh prints where the time went). Returns CMD's exit code.
step() {
  local name="$1" t0=$SECONDS rc=0 mark; shift
  progress_start
  mark="$LUCID_PROGRESS_DIR/$name.$BASHPID"
  printf '%s\n' "$(date +%s)" >"$mark"
  "$@" >"$LUCID_LOG/$name.log" 2>&1 </dev/null || rc=$?
  rm -f "$mark"
  record_step "$name" "$((SECONDS - t0))" "$rc"
  ((rc == 0)) && log "$name: done in $(duration $((SECONDS - t0)))"
  return "$rc"
}

# timed NAME CMD...: a step that prints its own progress (a Pulumi run, the test runner): its
# output stays on the console; only its time is recorded. Returns CMD's exit code.
timed() {
  local name="$1" t0=$SECONDS rc=0; shift
  "$@" || rc=$?
  record_step "$name" "$((SECONDS - t0))" "$rc"
  return "$rc"
}

record_step() { printf '%s\t%s\t%s\t%s\n' "$(date +%s)" "$1" "$2" "$3" >>"$LUCID_LOG/steps.tsv"; }

duration() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

# progress_start: the outermost script starts one ticker for itself and every script it runs.
progress_start() {
  [[ -n "${LUCID_PROGRESS_DIR:-}" && -d "$LUCID_PROGRESS_DIR" ]] && return 0
  LUCID_PROGRESS_DIR="$(mktemp -d "$LUCID_RUN/progress.XXXXXX")" LUCID_PROGRESS_OWNER=$$
  export LUCID_PROGRESS_DIR
  progress_ticker "$LUCID_PROGRESS_DIR" "$$" &
  trap lucid_exit EXIT
}

# Background work a script started (the ticker, parallel builds) ends with it, whatever its exit.
kill_tree() { # kill_tree PID: PID and every process under it, children first
  local child
  for child in $(pgrep -P "$1" 2>/dev/null); do kill_tree "$child"; done
  kill "$1" 2>/dev/null || true
}
lucid_exit() {
  local rc=$? pid
  for pid in $(jobs -p); do kill_tree "$pid"; done # still running: never a reused pid
  [[ -n "${LUCID_PROGRESS_OWNER:-}" && "$LUCID_PROGRESS_OWNER" == "$$" ]] && rm -rf "$LUCID_PROGRESS_DIR"
  [[ -t 2 ]] && printf '\r\033[K' >&2
  return "$rc"
}

# progress_ticker DIR OWNER: names the running steps (one file each in DIR) until OWNER exits or
# DIR goes; bounded at 6 hours. Every 30 s a line, or every second a live line on a terminal.
progress_ticker() {
  local dir="$1" owner="$2" i now line f name t0 every=30 last
  set +e # a file that goes while it is read is no reason to stop naming the others
  [[ -t 2 ]] && every=1
  for ((i = 0; i < 6 * 3600; i++)); do
    sleep 1
    { [[ -d "$dir" ]] && kill -0 "$owner" 2>/dev/null; } || break
    ((i % every == every - 1)) || continue
    now="$(date +%s)" line=""
    for f in "$dir"/*; do
      [[ -f "$f" ]] || continue
      name="${f##*/}" name="${name%.*}" t0="$(cat "$f" 2>/dev/null)" || continue
      last="$(tail -n 1 "$LUCID_LOG/$name.log" 2>/dev/null | tr -d '\r' | cut -c1-60)"
      line+="${line:+; }$name $(duration $((now - t0)))${last:+ (${last})}"
    done
    [[ -n "$line" ]] || continue
    if [[ -t 2 ]]; then printf '\r\033[K[lucid] running: %s' "$(cut -c1-$((${COLUMNS:-100} - 18)) <<<"$line")" >&2
    else printf '[lucid %s] running: %s\n' "$(date +%H:%M:%S)" "$line" >&2; fi
  done
}

progress_start
