import { shellQuote } from "./commands";

/** Releases a Pi keeps unless told otherwise (config, and state written before it could be). */
export const DEFAULT_KEEP_RELEASES = 5;

/** Where and what to roll out on the Pi. */
export interface RolloutParams {
  /** Directory of releases on the Pi, e.g. /home/deploy/lucid. */
  remoteDir: string;
  /** Compose project name: the prefix of every container, network and volume. */
  project: string;
  /** Names this release: the hash of its compose file. */
  release: string;
  /** Seconds the whole set may take to become healthy before it is rolled back. */
  healthTimeout: number;
  /** Releases kept on the Pi, current and previous included (at least 2). */
  keep: number;
  /** Services whose containers are removed before `up` (drift compose does not replace). */
  recreate?: readonly string[];
  /** Seconds to wait for another rollout's lock. @default healthTimeout + 120 */
  lockWait?: number;
}

/** The fixed part of the rollout: bash on the Pi, the values above set before it. (No "$" + "{"
 * in it: this is a template literal.) */
const ROLLOUT = String.raw`
set -euo pipefail
mkdir -p "$dir/releases"
# What the rollout says goes to the caller and to $dir/rollout.log, the Pi's own record.
exec 2> >(tee -a "$dir/rollout.log" >&2)
echo "lucid: $(date -u +%FT%TZ) rollout of release $release begins" >&2
# One rollout at a time: the lock is a directory holding its rollout's pid. Another live rollout
# is waited for (bounded); a lock whose rollout is gone (its SSH connection dropped) is taken over.
lock="$dir/.lock"
waited=0
until mkdir "$lock" 2>/dev/null; do
  holder="$(cat "$lock/pid" 2>/dev/null || true)"
  if [ -n "$holder" ] && [ ! -d "/proc/$holder" ]; then
    echo "lucid: rollout $holder left its lock behind and is gone; taking it over" >&2
    rm -rf "$lock"
    continue
  fi
  if [ "$waited" -ge "$lockwait" ]; then
    echo "lucid: another rollout (pid $holder) still holds $lock after $lockwait s; nothing was changed" >&2
    exit 75
  fi
  [ "$waited" -gt 0 ] || echo "lucid: waiting for another rollout (pid $holder) to finish" >&2
  sleep 2
  waited=$((waited + 2))
done
echo "$$" >"$lock/pid"
trap 'rm -rf "$lock"' EXIT
new="$dir/releases/$release"
mkdir -p "$new"
# The release's files arrive on stdin, one per line, "<name> <base64>" (the compose file and an
# env file per service, secrets among them): each written whole, mode 600, then moved into
# place, so no file is ever half written.
umask 077
while read -r name data; do
  [[ "$name" =~ ^[a-z0-9][a-z0-9._-]*$ ]] || { echo "lucid: refusing file name '$name'" >&2; exit 1; }
  printf %s "$data" | base64 -d >"$new/$name.tmp"
  mv -f "$new/$name.tmp" "$new/$name"
done
[ -s "$new/docker-compose.yml" ] || { echo "lucid: no compose file arrived" >&2; exit 1; }
umask 022
prev="$(readlink -e "$dir/current" 2>/dev/null || true)" # empty for a first release
compose() { local r="$1"; shift; docker-compose --ansi never -p "$project" -f "$r/docker-compose.yml" "$@"; }
# Which service is not healthy (empty when all are); "!" marks one that failed for sure.
unhealthy() {
  local id state name out=""
  for id in $(compose "$1" ps -q); do
    state="$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$id")"
    name="$(docker inspect -f '{{index .Config.Labels "com.docker.compose.service"}}' "$id")"
    case "$state" in healthy) ;; unhealthy|exited|dead) echo "!$name"; return ;; *) out="$name" ;; esac
  done
  if [ -z "$out" ] && [ "$(compose "$1" ps -q | wc -l)" -lt "$(compose "$1" config --services | wc -l)" ]; then
    out="(not all created)"
  fi
  echo "$out"
}
rollback() {
  local bad="$1" why="$2" back="no previous release to go back to"
  echo "lucid: $bad $why; its last log lines:" >&2
  compose "$new" logs --no-color --tail 15 "$bad" 2>&1 | sed 's/^/  /' >&2 || true
  if [ -n "$prev" ] && [ "$prev" != "$new" ]; then
    back="rolled back to release $(basename "$prev")"
    compose "$prev" up -d --remove-orphans >/dev/null 2>&1 || back="rollback to $(basename "$prev") FAILED"
  elif [ -z "$prev" ]; then
    # A first release has nothing to go back to: none of it is left running (half a set that
    # restarts a failing service for ever); its volumes stay.
    back="no previous release: its containers were taken down, volumes kept"
    compose "$new" down --remove-orphans >/dev/null 2>&1 || back="no previous release, and taking its containers down FAILED"
  fi
  echo "lucid: rollout of release $release failed: $bad $why; $back" >&2
  exit 1
}
if ! compose "$new" pull --quiet 2>&1; then
  echo "lucid: pulling the images of release $release failed (above); the running release was not touched" >&2
  exit 1
fi
# Drift compose does not undo by itself (another image under a service's name, a container it
# did not make): those containers go first, so up puts the right ones back. Volumes stay.
for svc in $recreate; do
  for id in $(docker ps -aq --filter "label=com.docker.compose.project=$project" --filter "label=com.docker.compose.service=$svc") \
            $(docker ps -aq --filter "name=^/$project"_"$svc"_); do
    docker rm -f "$id" >/dev/null
  done
done
# Containers of the project that the release does not name go too (compose 1.29's
# --remove-orphans misses those it did not label as its own).
wanted=" $(compose "$new" config --services | tr '\n' ' ')"
for id in $(docker ps -aq --filter "label=com.docker.compose.project=$project"); do
  svc="$(docker inspect -f '{{index .Config.Labels "com.docker.compose.service"}}' "$id")"
  case "$wanted" in *" $svc "*) ;; *) docker rm -f "$id" >/dev/null ;; esac
done
compose "$new" up -d --remove-orphans 2>&1
deadline=$((SECONDS + timeout))
while :; do
  bad="$(unhealthy "$new")"
  [ -z "$bad" ] && break
  case "$bad" in "!"*) rollback "$(printf %s "$bad" | cut -c2-)" "is unhealthy" ;; esac
  [ "$SECONDS" -lt "$deadline" ] || rollback "$bad" "did not become healthy within $timeout s"
  sleep 2
done
ln -sfn "releases/$release" "$dir/current.tmp"
mv -fT "$dir/current.tmp" "$dir/current"
# Old releases go; volumes are never touched.
ls -1t "$dir/releases" | tail -n +$((keep + 1)) | while read -r old; do
  [ "$dir/releases/$old" = "$prev" ] || rm -rf "$dir/releases/$old"
done
# So do the images only they used (a Pi's card is small): from the repositories the kept
# releases pull from, never one a kept release names, never one a container still uses (rmi
# without -f refuses it). Releases that name an image by tag: nothing can be told; all stay.
prune_images() {
  local refs ref repo n=0
  refs=" $(sed -n 's/^ *image: *//p' "$dir"/releases/*/docker-compose.yml | tr -d "\"'" | sort -u | tr '\n' ' ')"
  for ref in $refs; do [[ "$ref" == *@sha256:* ]] || return 0; done
  for repo in $(printf '%s\n' $refs | sed 's/@.*//' | sort -u); do
    for ref in $(docker images --digests --format '{{.Repository}}@{{.Digest}}' "$repo"); do
      [[ "$ref" == *@sha256:* ]] || continue
      case "$refs" in *" $ref "*) continue ;; esac
      docker rmi "$ref" >/dev/null 2>&1 && n=$((n + 1))
    done
  done
  [ "$n" -eq 0 ] || echo "lucid: images only older releases used, removed: $n" >&2
}
prune_images || echo "lucid: removing older releases' images failed (the release is healthy)" >&2
echo "lucid: release $release is healthy"
`;

/** The rollout as one bash program (the compose file comes on its stdin). */
export function rolloutScript(p: RolloutParams): string {
  const vars = [
    `dir=${shellQuote(p.remoteDir)}`,
    `project=${shellQuote(p.project)}`,
    `release=${shellQuote(p.release)}`,
    `timeout=${Math.floor(p.healthTimeout)}`,
    `keep=${Math.max(2, Math.floor(p.keep))}`,
    `recreate=${shellQuote((p.recreate ?? []).join(" "))}`,
    `lockwait=${Math.floor(p.lockWait ?? p.healthTimeout + 120)}`,
  ];
  return `${vars.join("\n")}\n${ROLLOUT.trimStart()}`;
}

/** Takes the set down; volumes stay (no -v), and so do the releases. */
export function teardownScript(p: Pick<RolloutParams, "remoteDir" | "project">): string {
  return [
    `dir=${shellQuote(p.remoteDir)}`,
    `project=${shellQuote(p.project)}`,
    String.raw`set -euo pipefail
if [ -e "$dir/current/docker-compose.yml" ]; then
  docker-compose --ansi never -p "$project" -f "$dir/current/docker-compose.yml" down --remove-orphans
  rm -f "$dir/current"
fi`,
  ].join("\n");
}

/** Runs a bash program given as one argument (no login-shell word splitting of its text). */
export const bashC = (program: string): string[] => ["bash", "-c", program];
