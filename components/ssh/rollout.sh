#!/usr/bin/env bash
# The rollout of one release on the Pi: take the lock, write the release's files, pull, up, gate
# on health, then commit (move `current`) or roll back. Volumes are never removed.
# Run by `bash -c` over SSH, after compose.sh (components/pi-remote.ts sends both).
#
# It runs in two parts, so that a dropped link never cuts a rollout short: the part the SSH
# channel runs takes the release's files off stdin into $LUCID_DIR/runs/<run>/, starts the
# rollout proper detached from the channel (its own session, stdin /dev/null, its output to
# files there), and follows its log to the end, exiting with its status. If the link goes, only
# the follower dies: the rollout runs to its end, writes its whole record (runs/<run>/log and
# rollout.log) and its exit status (runs/<run>/status), and a follower started again later
# (LUCID_FOLLOW=1, no stdin) prints what it did.
# Environment:
#   LUCID_DIR             releases directory, e.g. /home/deploy/lucid
#   LUCID_PROJECT         compose project: prefix of every container, network and volume
#   LUCID_RELEASE         the release's name (a hash of its files)
#   LUCID_RUN_ID          this rollout's name, unique per attempt (the client's: it finds it again)
#   LUCID_HEALTH_TIMEOUT  seconds the set may take to become healthy before it is rolled back
#   LUCID_KEEP            releases kept, current and previous included (at least 2)
#   LUCID_LOCK_WAIT       seconds to wait for another rollout's lock
#   LUCID_FOLLOW_BOUND    seconds a follower waits for the rollout's end
#   LUCID_RECREATE        services whose containers go before `up` (drift compose does not undo)
#   LUCID_POLL            seconds between looks at the health gate (default 2)
#   LUCID_FOLLOW          1: take no files, start nothing; follow run LUCID_RUN_ID to its end
# Stdin: the release's files, one per line, "<name> <base64>", then a line ".".
set -euo pipefail
shopt -s inherit_errexit
dir="$(realpath -m -- "${LUCID_DIR:?}")" # one form of every path: `current` is compared with it
project="${LUCID_PROJECT:?}"
release="${LUCID_RELEASE:?}"
run_id="${LUCID_RUN_ID:?}"
timeout="${LUCID_HEALTH_TIMEOUT:?}"
keep="${LUCID_KEEP:?}"
lockwait="${LUCID_LOCK_WAIT:?}"
follow_bound="${LUCID_FOLLOW_BOUND:?}"
recreate="${LUCID_RECREATE:-}"
poll="${LUCID_POLL:-2}"
[ "$keep" -ge 2 ] || keep=2
[[ "$run_id" =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || { echo "lucid: LUCID_RUN_ID '$run_id' is not a run name" >&2; exit 64; }
run="$dir/runs/$run_id"
# shellcheck source=compose.sh
declare -F compose >/dev/null || . "$(dirname "${BASH_SOURCE[0]}")/compose.sh"
# Milliseconds since the epoch: bounds are kept to the millisecond, not to the second.
now_ms() {
  if [ -n "${EPOCHREALTIME:-}" ]; then
    local us="${EPOCHREALTIME//[.,]/}"
    echo $((us / 1000))
  else date +%s%3N; fi
}

# This boot of the Pi: a pid of another boot is no process of ours.
boot_id() { cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown; }

# The release's files off stdin into the run's directory (mode 700; each file 600), the names
# checked; nothing is started unless all arrived. A link cut here leaves a run that never ran.
# Whether it starts is decided once, by whoever makes $run/go first: this intake, all files in,
# or a follower that stopped waiting for it (then it never starts). Refused or cut short, the
# files (secrets among them) go.
intake() {
  local name data complete=""
  umask 077
  mkdir -p "$dir/runs"
  mkdir "$run" || { echo "lucid: run $run_id exists on the Pi already; nothing was changed" >&2; exit 1; }
  mkdir "$run/files"
  echo "$$" >"$run/intake" # who takes the files: a follower waits for it while it lives
  refuse() { rm -rf "$run/files"; echo "lucid: $1" >&2; exit 1; }
  while read -r name data; do
    [ "$name" = . ] && complete=1 && break
    [[ "$name" =~ ^[a-z0-9][a-z0-9._-]*$ ]] || refuse "refusing file name '$name'"
    printf %s "$data" | base64 -d >"$run/files/$name" || refuse "file $name is not base64"
  done
  [ -n "$complete" ] || refuse "the release's files did not all arrive (no closing line); nothing was started"
  [ -s "$run/files/docker-compose.yml" ] || refuse "no compose file arrived"
  mkdir "$run/go" 2>/dev/null || refuse "a follower gave this run up before its files were all in; nothing was started"
  umask 022
}

# Starts the rollout proper in its own session, this very program again (bash keeps the text it
# was given in BASH_EXECUTION_STRING; from a checkout, the file), its output to the run's files.
detach() {
  local program=(-c "${BASH_EXECUTION_STRING:-}" lucid-rollout)
  [ -n "${BASH_EXECUTION_STRING:-}" ] || program=("${BASH_SOURCE[0]}")
  LUCID_DETACHED=1 setsid -f bash --norc "${program[@]}" </dev/null >"$run/out" 2>"$run/log"
}

# Prints the run's log as it grows until the rollout ends (bounded: LUCID_FOLLOW_BOUND), then
# what it printed, and exits with its status. A rollout that ended without one
# was killed (or the Pi restarted): said so, with where `current` points. (Bash alone: `tail -f
# --pid` notices the end a second or more late.)
follow() {
  local pid="" boot="" i line part="" ended="" deadline
  deadline=$(($(now_ms) + follow_bound * 1000))
  # No run yet: its intake has not begun (or never will); made here, it never can.
  if mkdir -p "$dir/runs" && mkdir "$run" 2>/dev/null; then
    mkdir "$run/go"
    echo "lucid: the Pi has no rollout $run_id: it never started; nothing was changed" >&2
    exit 66
  fi
  # Its intake, while it lives (bounded: 10 s), then the rollout's pid (written first thing).
  for ((i = 0; i < 200; i++)); do
    [ -d "$run/go" ] && break
    kill -0 "$(cat "$run/intake" 2>/dev/null || echo none)" 2>/dev/null || break
    sleep 0.05
  done
  if mkdir "$run/go" 2>/dev/null; then # the intake never decided: now it never starts
    rm -rf "$run/files"
    echo "lucid: rollout $run_id never started on the Pi (its files did not all arrive); nothing was changed" >&2
    exit 66
  fi
  for ((i = 0; i < 200; i++)); do
    { [ -s "$run/pid" ] || [ -f "$run/status" ]; } && break
    sleep 0.05
  done
  # A pid of an earlier boot is no process of this run's, whoever has that number now.
  read -r pid boot 2>/dev/null <"$run/pid" || true
  [ "${boot:-}" = "$(boot_id)" ] || pid=""
  if [ -n "${LUCID_FOLLOW:-}" ]; then
    echo "lucid: $(date -u +%FT%TZ) run $run_id (release $release) followed again by its caller, after a lost link" >>"$dir/rollout.log" 2>/dev/null || true
  fi
  exec 3<"$run/log" || { echo "lucid: rollout $run_id has no log on the Pi ($run/log)" >&2; exit 70; }
  while :; do
    # The status is written after the log's last line: seen first, the drain below gets them all.
    { [ -f "$run/status" ] || [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; } && ended=1
    while IFS= read -r line <&3; do
      printf '%s\n' "$part$line" >&2
      part=""
    done
    part+="$line" # a line still being written
    [ -n "$ended" ] || [ "$(now_ms)" -ge "$deadline" ] && break
    sleep 0.1
  done
  [ -z "$part" ] || printf '%s\n' "$part" >&2
  if [ -f "$run/status" ]; then
    cat "$run/out"
    exit "$(cat "$run/status")"
  fi
  if [ -z "$ended" ]; then
    echo "lucid: the rollout of release $release (run $run_id) is still running on the Pi after $follow_bound s" >&2
    exit 75
  fi
  echo "lucid: the rollout of release $release (run $run_id) ended on the Pi without a result: it was killed, or the Pi restarted. It never makes half a release current; \`current\` is $(readlink "$dir/current" 2>/dev/null || echo "not set")" >&2
  exit 1
}

if [ -z "${LUCID_DETACHED:-}" ]; then
  if [ -z "${LUCID_FOLLOW:-}" ]; then
    pick_compose # before anything is written: a Pi without Compose is told what to install
    intake
    detach
  fi
  follow
fi
# The rollout proper, detached. Its pid (with the boot it belongs to) says it started, first
# thing; its status, however it ends, says how, after its last line.
echo "$$ $(boot_id)" >"$run/pid.tmp" && mv -f "$run/pid.tmp" "$run/pid"
holding=""
record=""
ends() {
  local status=$? i
  if [ -n "$holding" ]; then
    rm -f "$lock.holder"
    echo "lucid: $(date -u +%FT%TZ) rollout of release $release ends (exit $status)" >&2
  fi
  rm -rf "$run/files" # moved into the release, or never to be: no secret stays behind
  # The Pi's record is whole before the status is written and the lock goes (the next rollout's
  # lines come after these): tee sees its input end and is let finish, for at most 5 s (a stalled
  # disk must not keep the lock).
  exec 2>&-
  for ((i = 0; i < 50; i++)); do
    if [ -z "$record" ] || ! kill -0 "$record" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "$status" >"$run/status.tmp" && mv -f "$run/status.tmp" "$run/status"
  exit "$status"
}
trap ends EXIT
pick_compose
mkdir -p "$dir/releases"
# What the rollout says goes to the run's log (the follower shows it to the caller) and to
# $dir/rollout.log, the Pi's own record of every run: the deploy user's alone (it names services,
# images and failures; an older one is made so too).
{ touch "$dir/rollout.log" && chmod 600 "$dir/rollout.log"; } 2>/dev/null ||
  echo "lucid: warning: $dir/rollout.log is not the deploy user's to write and make private" >&2
exec 2> >(tee -a "$dir/rollout.log" >&2)
record=$!
echo "lucid: $(date -u +%FT%TZ) rollout of release $release begins" >&2

# One rollout at a time: an flock(2) on $dir/.rollout.lock, held by this process (and whatever
# it runs) until it ends, however it ends: a dropped link, a kill, the Pi rebooting. The kernel
# lets go then, so no lock is ever left behind to take over, and no pid in a file can be mistaken
# for its holder. Another rollout is waited for, bounded. Who holds it is in .rollout.lock.holder,
# for the messages only.
lock="$dir/.rollout.lock"
exec 9>>"$lock"
if ! flock -n 9; then
  echo "lucid: waiting for another rollout ($(cat "$lock.holder" 2>/dev/null || echo "holder unknown")) to finish" >&2
  if ! flock -w "$lockwait" 9; then
    echo "lucid: another rollout ($(cat "$lock.holder" 2>/dev/null || echo "holder unknown")) still holds $lock after $lockwait s; nothing was changed" >&2
    exit 75
  fi
fi
echo "pid $$, release $release, since $(date -u +%FT%TZ)" >"$lock.holder"
holding=1
echo "lucid: $(date -u +%FT%TZ) rollout of release $release holds the lock" >&2

# The release's files (the compose file and its `environment`, the secrets), whole since intake,
# moved into the release's directory (a rename: no file is ever half there). Runs older than the
# newest 20 go (their logs are in rollout.log too).
new="$dir/releases/$release"
mkdir -p "$new"
for f in "$run/files"/*; do mv -f "$f" "$new/"; done
# shellcheck disable=SC2012 # run names are the client's [A-Za-z0-9._-]
ls -1t "$dir/runs" | tail -n +21 | while read -r old; do rm -rf "${dir:?}/runs/$old"; done
prev="$(readlink -e "$dir/current" 2>/dev/null || true)" # empty for a first release

# A service whose process exits this many times during the gate (its restart policy starting it
# again each time) fails it at once: it is not starting, it is crashing. Fewer is a start-up race
# (tunnel-tools before Tor's control port), which the restart policy is there to ride out.
MAX_RESTARTS=3
declare -A restarts_before=() # container id -> its restart count when the gate began
INSPECT='{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}|{{.State.Status}}|{{.RestartCount}}|{{index .Config.Labels "com.docker.compose.service"}}'
# read_state ID: the container's health (or state), state, restart count and service, into
# state, status, restarts and name; returns 2 when Docker cannot say, or says nonsense.
read_state() {
  local info
  info="$(docker inspect -f "$INSPECT" "$1")" || return 2
  IFS='|' read -r state status restarts name <<<"$info"
  [[ "$restarts" =~ ^[0-9]+$ && -n "$name" ]] || { echo "lucid: docker inspect $1 said '$info'" >&2; return 2; }
}
# unhealthy RELEASE_DIR: prints the service that is not healthy yet (nothing when all are),
# "!<service> <why>" for one that failed for sure. Returns 2, Docker's error on stderr, when the
# set cannot be read: an error is never "not yet".
unhealthy() {
  local ids id state status restarts name out="" wanted more
  ids="$(compose "$1" ps -a -q)" || return 2 # -a: v2 lists only running ones without it
  for id in $ids; do
    read_state "$id" || return 2
    case "$state" in
      healthy) ;;
      unhealthy) echo "!$name is unhealthy" && return 0 ;;
      exited | dead) echo "!$name has $state" && return 0 ;;
      *)
        more=$((restarts - ${restarts_before[$id]:-0}))
        if [ "$more" -ge "$MAX_RESTARTS" ]; then
          echo "!$name keeps exiting (restarted $more times${status:+, now $status})" && return 0
        fi
        out="$name" ;;
    esac
  done
  if [ -z "$out" ]; then
    wanted="$(compose "$1" config --services)" || return 2
    [ "$(wc -w <<<"$ids")" -ge "$(wc -w <<<"$wanted")" ] || out="(not all created)"
  fi
  echo "$out"
}

# rollback SERVICE WHY: back to the previous release (a first release: its containers go), then
# fail, naming the service and showing its last log lines.
rollback() {
  local bad="$1" why="$2" back="no previous release to go back to" out
  if [ -n "$bad" ]; then
    echo "lucid: $bad $why; its last log lines:" >&2
    compose "$new" logs --no-color --tail 15 "$bad" 2>&1 | sed 's/^/  /' >&2 || true
  fi
  if [ -n "$prev" ] && [ "$prev" != "$new" ]; then
    back="rolled back to release $(basename "$prev")"
    if ! out="$(compose "$prev" up -d --remove-orphans 2>&1)"; then
      back="rollback to $(basename "$prev") FAILED (compose's last lines above)"
      tail -n 15 <<<"$out" | sed 's/^/  /' >&2
    fi
  elif [ -z "$prev" ]; then
    # A first release has nothing to go back to: none of it is left running (half a set that
    # restarts a failing service for ever); its volumes stay.
    back="no previous release: its containers were taken down, volumes kept"
    if ! out="$(compose "$new" down --remove-orphans 2>&1)"; then
      back="no previous release, and taking its containers down FAILED (compose's last lines above)"
      tail -n 15 <<<"$out" | sed 's/^/  /' >&2
    fi
  fi
  echo "lucid: rollout of release $release failed: ${bad:+$bad }$why; $back" >&2
  exit 1
}

if ! compose "$new" pull --quiet 2>&1; then
  echo "lucid: pulling the images of release $release failed (above); the running release was not touched" >&2
  exit 1
fi
# Drift compose does not undo by itself (another image under a service's name, a container it
# did not make): those containers go first, so up puts the right ones back. Volumes stay.
# From here on the running set changes: any failure rolls back (a first release: taken down).
for svc in $recreate; do
  ids="$(project_containers "$svc")" || rollback "" "the containers of $svc could not be listed (above)"
  for id in $ids; do
    docker rm -f "$id" >/dev/null || rollback "" "container $id of $svc could not be removed (above)"
  done
done
# Containers of the project that the release does not name go too (compose 1.29's
# --remove-orphans misses those it did not label as its own).
wanted="$(compose "$new" config --services)" || rollback "" "compose refused the release's file (above)"
ids="$(project_containers)" || rollback "" "the project's containers could not be listed (above)"
for id in $ids; do
  svc="$(docker inspect -f '{{index .Config.Labels "com.docker.compose.service"}}' "$id")" ||
    rollback "" "container $id could not be read (above)"
  grep -qxF -- "$svc" <<<"$wanted" || docker rm -f "$id" >/dev/null ||
    rollback "" "container $id of service $svc could not be removed (above)"
done
compose "$new" up -d --remove-orphans 2>&1 || rollback "" "compose up failed (above)"

# Restarts before the gate (a container this release left as it was may have some) are not its.
ids="$(compose "$new" ps -a -q)" || rollback "" "the set's containers could not be listed (above)"
for id in $ids; do
  n="$(docker inspect -f '{{.RestartCount}}' "$id")" || rollback "" "container $id could not be read (above)"
  restarts_before[$id]=$n
done
echo "lucid: $(date -u +%FT%TZ) release $release is up; its health gate waits at most $timeout s" >&2
deadline=$(($(now_ms) + timeout * 1000))
while :; do
  verdict=0
  bad="$(unhealthy "$new")" || verdict=$?
  [ "$verdict" -eq 0 ] || rollback "" "the set's health could not be read from Docker (above)"
  [ -z "$bad" ] && break
  case "$bad" in "!"*) bad="${bad#!}" && rollback "${bad%% *}" "${bad#* }" ;; esac
  [ "$(now_ms)" -lt "$deadline" ] || rollback "$bad" "did not become healthy within $timeout s"
  sleep "$poll"
done
ln -sfn "releases/$release" "$dir/current.tmp"
mv -fT "$dir/current.tmp" "$dir/current"

# Old releases go, and with them the images only they named (a Pi's card is small); volumes are
# never touched. What the removed releases named is all that is looked at: never an image of
# another stack on the Pi, even from the same repository, nor one a kept release names, nor one a
# container still uses (rmi without -f refuses it). Releases that name an image by tag: nothing
# can be told; all stay.
images_of() { sed -n 's/^ *image: *//p' "$@" 2>/dev/null | tr -d "\"'" | sort -u; }
gone=""
# shellcheck disable=SC2012 # release names are hex hashes
while read -r old; do
  [ "$dir/releases/$old" = "$prev" ] && continue
  gone+="$(images_of "$dir/releases/$old/docker-compose.yml")"$'\n'
  rm -rf "${dir:?}/releases/$old"
done < <(ls -1t "$dir/releases" | tail -n +$((keep + 1)))
prune_images() {
  local kept ref n=0
  kept="$(images_of "$dir"/releases/*/docker-compose.yml)"
  for ref in $kept; do [[ "$ref" == *@sha256:* ]] || return 0; done
  while read -r ref; do
    [[ "$ref" == *@sha256:* ]] || continue
    grep -qxF "$ref" <<<"$kept" && continue
    docker rmi "$ref" </dev/null >/dev/null 2>&1 && n=$((n + 1))
  done < <(sort -u <<<"$gone")
  [ "$n" -eq 0 ] || echo "lucid: images only older releases used, removed: $n" >&2
}
prune_images || echo "lucid: removing older releases' images failed (the release is healthy)" >&2
echo "lucid: release $release is healthy"
