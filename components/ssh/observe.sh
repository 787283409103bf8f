#!/usr/bin/env bash
# Shows what the Pi runs, read-only: the `current` link, the hashes of the release's compose and
# environment files, every container of the project (by label, or by a container name either
# Compose generation gives; only the fields drift compares, never a container's environment),
# and the image id the Pi has for each expected reference. Sections start with `@`. Docker must
# answer: an Engine that does not is an error, never "no containers".
# A rollout running on the Pi (one whose link was lost, say) is waited for, bounded: what is read
# is a settled set, never one half way through a rollout.
# Environment: LUCID_DIR, LUCID_PROJECT, LUCID_RELEASE, LUCID_LOCK_WAIT (seconds; default 0).
# Arguments: the expected image references.
set -euo pipefail
shopt -s inherit_errexit
dir="${LUCID_DIR:?}"
project="${LUCID_PROJECT:?}"
release="${LUCID_RELEASE:?}"
lockwait="${LUCID_LOCK_WAIT:-0}"

# The rollout's lock (rollout.sh), taken shared: many reads at once, never beside a rollout.
lock="$dir/.rollout.lock"
if [ -f "$lock" ]; then
  exec 9<"$lock"
  if ! flock -s -n 9; then
    echo "lucid: a rollout ($(cat "$lock.holder" 2>/dev/null || echo "holder unknown")) is running on the Pi; reading back when it ends" >&2
    flock -s -w "$lockwait" 9 || {
      echo "lucid: a rollout ($(cat "$lock.holder" 2>/dev/null || echo "holder unknown")) still runs on the Pi after $lockwait s; read again when it has ended" >&2
      exit 75
    }
  fi
fi

echo @current
readlink "$dir/current" 2>/dev/null || echo -
for f in compose:docker-compose.yml environment:environment; do
  echo "@${f%%:*}"
  if [ -f "$dir/releases/$release/${f#*:}" ]; then
    sha256sum "$dir/releases/$release/${f#*:}" | cut -d' ' -f1
  else echo -; fi
done
ids="$(
  docker ps -aq --no-trunc --filter "label=com.docker.compose.project=$project"
  docker ps -aq --no-trunc --filter "name=^/${project}_"
  docker ps -aq --no-trunc --filter "name=^/${project}-"
)"
# A JSON object a line: name, image, the two compose labels, state (a plain `docker inspect`
# would carry the container's environment, its secrets, off the Pi).
view='{"Name":{{json .Name}},"Image":{{json .Image}},"Ref":{{json .Config.Image}}'
view+=',"Project":{{json (index .Config.Labels "com.docker.compose.project")}}'
view+=',"Service":{{json (index .Config.Labels "com.docker.compose.service")}}'
view+=',"Status":{{json .State.Status}},"ExitCode":{{json .State.ExitCode}}'
view+=',"Health":{{if .State.Health}}{{json .State.Health.Status}}{{else}}null{{end}}}'
echo @containers
if [ -n "$ids" ]; then
  # shellcheck disable=SC2046 # one argument per container id
  docker inspect -f "$view" $(sort -u <<<"$ids")
fi
echo @images
for ref in "$@"; do
  printf '%s %s\n' "$ref" "$(docker image inspect -f '{{.Id}}' "$ref" 2>/dev/null || echo -)"
done
