#!/usr/bin/env bash
# Shows what the Pi runs, read-only: the `current` link, the hashes of the release's compose and
# environment files, every container of the project (by label, or by a container name either
# Compose generation gives; only the fields drift compares, never a container's environment),
# and the image id the Pi has for each expected reference. Sections start with `@`. Docker must
# answer: an Engine that does not is an error, never "no containers".
# Environment: LUCID_DIR, LUCID_PROJECT, LUCID_RELEASE. Arguments: the expected image references.
set -euo pipefail
shopt -s inherit_errexit
dir="${LUCID_DIR:?}"
project="${LUCID_PROJECT:?}"
release="${LUCID_RELEASE:?}"

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
