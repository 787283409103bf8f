#!/usr/bin/env bash
# The project's npm dependencies, exactly as locked; skipped when node_modules already matches.
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."

need_cmd node "Node.js >= 20 is required (with npm): install it and put it on PATH"
need_cmd npm "npm is required: install it with Node.js"
stamp=node_modules/.lucid-lock-hash
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  log "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund >"$LUCID_LOG/npm-ci.log" 2>&1 \
    || die "npm ci failed; last lines:
$(tail -n 15 "$LUCID_LOG/npm-ci.log")"
  echo "$want" >"$stamp"
fi
npm run -s build >"$LUCID_LOG/tsc.log" 2>&1 || die "TypeScript build failed:
$(tail -n 20 "$LUCID_LOG/tsc.log")"
