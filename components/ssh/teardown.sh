#!/usr/bin/env bash
# Takes the set down; its volumes stay (no -v), and so do the releases. Under the rollout's lock:
# a rollout still running on the Pi is waited for (bounded), never undone half-way.
# Environment: LUCID_DIR (releases directory), LUCID_PROJECT (compose project), LUCID_LOCK_WAIT.
set -euo pipefail
shopt -s inherit_errexit
dir="$(realpath -m -- "${LUCID_DIR:?}")"
project="${LUCID_PROJECT:?}"
# shellcheck source=compose.sh
declare -F compose >/dev/null || . "$(dirname "${BASH_SOURCE[0]}")/compose.sh"

if [ -e "$dir/current/docker-compose.yml" ]; then
  lock="$dir/.rollout.lock"
  exec 9>>"$lock"
  flock -w "${LUCID_LOCK_WAIT:?}" 9 || {
    echo "lucid: a rollout ($(cat "$lock.holder" 2>/dev/null || echo "holder unknown")) still holds $lock after $LUCID_LOCK_WAIT s; nothing was taken down" >&2
    exit 75
  }
  pick_compose
  compose "$dir/current" down --remove-orphans
  rm -f "$dir/current"
fi
