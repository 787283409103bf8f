#!/usr/bin/env bash
# Runs shellcheck over every shell program of the project: `*.sh`, and any file whose first line runs
# bash or sh (the checkout's own files, as git lists them; new ones too). Part of `npm run lint`.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v shellcheck >/dev/null || {
  echo "shellcheck is not installed: bash scripts/bootstrap.sh installs it (Debian: shellcheck)" >&2
  exit 1
}
files=()
while IFS= read -r f; do
  [[ -f "$f" ]] || continue
  if [[ "$f" == *.sh ]] || head -n1 "$f" | grep -qE '^#!.*\b(ba)?sh\b'; then files+=("$f"); fi
done < <(git ls-files --cached --others --exclude-standard)
shellcheck -x -P SCRIPTDIR "${files[@]}"
echo "shellcheck: ${#files[@]} shell programs clean"
