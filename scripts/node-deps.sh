#!/usr/bin/env bash
# The project's npm dependencies, exactly as locked; skipped when node_modules already matches.
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."

need_cmd node "Node.js >= 20 is required (with npm): install it and put it on PATH"
need_cmd npm "npm is required: install it with Node.js"
stamp=node_modules/.lucid-lock-hash
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
# A copy of the last node_modules npm ci made, by lock hash: a new clone (every CI run) takes it
# in 4 s where npm ci, even from npm's cache, takes 30 s. Only a tree npm ci finished is kept.
kept="$LUCID_HOME/node_modules/$want"
if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" && -f "$kept/.lucid-lock-hash" ]]; then
  rm -rf node_modules node_modules.tmp
  # whole or not at all: a copy cut short must not pass for the tree (its hash file in it)
  if ! { step node-modules-copy cp -a "$kept" node_modules.tmp && mv -T node_modules.tmp node_modules; }; then
    rm -rf node_modules node_modules.tmp
  fi
fi
if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  log "installing npm dependencies (npm ci)"
  step npm-ci npm ci --no-audit --no-fund \
    || die "npm ci failed; last lines:
$(tail -n 15 "$LUCID_LOG/npm-ci.log")"
  echo "$want" >"$stamp"
  # One tree kept, the last lock's (a copy is 211 MB); written beside, then moved into place.
  rm -rf "$LUCID_HOME/node_modules" && mkdir -p "$LUCID_HOME/node_modules"
  if ! { cp -a node_modules "$kept.tmp.$$" && mv -T "$kept.tmp.$$" "$kept"; }; then
    rm -rf "$kept.tmp.$$"
    log "warning: could not keep a copy of node_modules in $kept (the next clone runs npm ci)"
  fi
fi
# The TypeScript build, skipped when dist/ was built from these very sources (a rebuild would
# rewrite dist/ under anything running from it, such as a test group beside this one).
built=dist/.lucid-src-hash
src="$(find index.ts bin stacks infra components tests bench package.json package-lock.json \
  tsconfig.json -type f -name '*.ts' -o -type f -name '*.json' | LC_ALL=C sort | xargs sha256sum | sha256sum)"
if [[ "$(cat "$built" 2>/dev/null)" != "$src" ]]; then
  step tsc npm run -s build || die "TypeScript build failed:
$(tail -n 20 "$LUCID_LOG/tsc.log")"
  echo "$src" >"$built"
fi
