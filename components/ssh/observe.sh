#!/usr/bin/env bash
# Shows what the Pi runs, read-only: the `current` link, the release's compose file hash, every
# container of the project (by label, or by a container name either Compose generation gives),
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
echo @compose
if [ -f "$dir/releases/$release/docker-compose.yml" ]; then
  sha256sum "$dir/releases/$release/docker-compose.yml" | cut -d' ' -f1
else echo -; fi
ids="$(
  docker ps -aq --no-trunc --filter "label=com.docker.compose.project=$project"
  docker ps -aq --no-trunc --filter "name=^/${project}_"
  docker ps -aq --no-trunc --filter "name=^/${project}-"
)"
echo @containers
if [ -n "$ids" ]; then
  # shellcheck disable=SC2046 # one argument per container id
  docker inspect $(sort -u <<<"$ids")
else echo '[]'; fi
echo @images
for ref in "$@"; do
  printf '%s %s\n' "$ref" "$(docker image inspect -f '{{.Id}}' "$ref" 2>/dev/null || echo -)"
done
