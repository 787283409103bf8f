#!/usr/bin/env bash
# The rollout of one release on the Pi: take the lock, write the release's files, pull, up, gate
# on health, then commit (move `current`) or roll back. Volumes are never removed.
# Run by `bash -c` over SSH, after compose.sh (components/pi-remote.ts sends both).
# Environment:
#   LUCID_DIR             releases directory, e.g. /home/deploy/lucid
#   LUCID_PROJECT         compose project: prefix of every container, network and volume
#   LUCID_RELEASE         the release's name (a hash of its files)
#   LUCID_HEALTH_TIMEOUT  seconds the set may take to become healthy before it is rolled back
#   LUCID_KEEP            releases kept, current and previous included (at least 2)
#   LUCID_LOCK_WAIT       seconds to wait for another rollout's lock
#   LUCID_RECREATE        services whose containers go before `up` (drift compose does not undo)
#   LUCID_POLL            seconds between looks at the health gate (default 2)
# Stdin: the release's files, one per line, "<name> <base64>".
set -euo pipefail
shopt -s inherit_errexit
dir="$(realpath -m -- "${LUCID_DIR:?}")" # one form of every path: `current` is compared with it
project="${LUCID_PROJECT:?}"
release="${LUCID_RELEASE:?}"
timeout="${LUCID_HEALTH_TIMEOUT:?}"
keep="${LUCID_KEEP:?}"
lockwait="${LUCID_LOCK_WAIT:?}"
recreate="${LUCID_RECREATE:-}"
poll="${LUCID_POLL:-2}"
[ "$keep" -ge 2 ] || keep=2
# shellcheck source=compose.sh
declare -F compose >/dev/null || . "$(dirname "${BASH_SOURCE[0]}")/compose.sh"
# Milliseconds since the epoch: bounds are kept to the millisecond, not to the second.
now_ms() {
  if [ -n "${EPOCHREALTIME:-}" ]; then
    local us="${EPOCHREALTIME//[.,]/}"
    echo $((us / 1000))
  else date +%s%3N; fi
}

pick_compose
mkdir -p "$dir/releases"
# What the rollout says goes to the caller and to $dir/rollout.log, the Pi's own record: the
# deploy user's alone (it names services, images and failures; an older one is made so too).
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
echo "lucid: $(date -u +%FT%TZ) rollout of release $release holds the lock" >&2
ends() {
  local status=$? i
  rm -f "$lock.holder"
  echo "lucid: $(date -u +%FT%TZ) rollout of release $release ends (exit $status)" >&2
  # The Pi's record is whole before the lock goes (so the next rollout's lines come after these):
  # tee sees its input end and is let finish, for at most 5 s (a stalled caller must not keep the
  # lock).
  exec 2>&-
  for ((i = 0; i < 50; i++)); do kill -0 "$record" 2>/dev/null || break; sleep 0.1; done
  exit "$status"
}
trap ends EXIT

# The release's files (the compose file and its `environment`, the secrets): each
# written whole, mode 600, then moved into place, so no file is ever half written.
new="$dir/releases/$release"
mkdir -p "$new"
umask 077
while read -r name data; do
  [[ "$name" =~ ^[a-z0-9][a-z0-9._-]*$ ]] || { echo "lucid: refusing file name '$name'" >&2; exit 1; }
  printf %s "$data" | base64 -d >"$new/$name.tmp"
  mv -f "$new/$name.tmp" "$new/$name"
done
[ -s "$new/docker-compose.yml" ] || { echo "lucid: no compose file arrived" >&2; exit 1; }
umask 022
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
