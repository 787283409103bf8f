#!/usr/bin/env bash
# Takes the set down; its volumes stay (no -v), and so do the releases.
# Environment: LUCID_DIR (releases directory), LUCID_PROJECT (compose project).
set -euo pipefail
shopt -s inherit_errexit
dir="${LUCID_DIR:?}"
project="${LUCID_PROJECT:?}"
# shellcheck source=compose.sh
declare -F compose >/dev/null || . "$(dirname "${BASH_SOURCE[0]}")/compose.sh"

if [ -e "$dir/current/docker-compose.yml" ]; then
  pick_compose
  compose "$dir/current" down --remove-orphans
  rm -f "$dir/current"
fi
