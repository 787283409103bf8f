#!/usr/bin/env bash
# A cold run, measured on demand: purges every cache this project fills and the packages it
# installed (scripts/purge.sh --packages), clones this checkout's HEAD into a new directory, and
# runs there the README's command 1 (scripts/dev-up.sh), then command 2 (.ci/run, which CI runs),
# timing each; then prints where the time went, step by step (bench/steps.sh).
# Usage: bench/cold-run.sh [--warm] [dev-up] [ci]   (default: both, cold; --warm keeps caches)
# Takes the whole machine for the better part of an hour, cold; what it deletes is rebuilt by it.
source "$(dirname "$0")/../scripts/lib.sh"
repo="$(cd "$(dirname "$0")/.." && pwd)"

purge=true commands=()
for a in "$@"; do
  case "$a" in
    --warm) purge=false ;;
    dev-up | ci) commands+=("$a") ;;
    *) die "cold-run.sh: unknown argument '$a' (--warm, dev-up, ci)" ;;
  esac
done
((${#commands[@]})) || commands=(dev-up ci)

out="/var/tmp/lucid-cold-run-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"
$purge && bash "$repo/scripts/purge.sh" --packages
clone="$out/checkout"
git clone -q "$repo" "$clone"
# what a clone beside ../shared sees (the plain-CLI tests build their language host from it)
[[ ! -d "$repo/../shared" ]] || ln -sfn "$(cd "$repo/../shared" && pwd)" "$out/shared"
log "run from a clean clone at $clone ($(git -C "$clone" rev-parse --short HEAD)); logs in $out"

declare -A took rcs
for c in "${commands[@]}"; do
  case "$c" in dev-up) cmd=(bash scripts/dev-up.sh) ;; ci) cmd=(bash .ci/run) ;; esac
  t0=$SECONDS rc=0
  (cd "$clone" && CI=true "${cmd[@]}" </dev/null) 2>&1 | tee "$out/$c.log" || rc=$?
  took[$c]=$((SECONDS - t0)) rcs[$c]=$rc
  cp "$LUCID_LOG/steps.tsv" "$out/steps-$c.tsv" 2>/dev/null || true
  : >"$LUCID_LOG/steps.tsv"
  log "$c: exit $rc in $(duration "${took[$c]}") ($( $purge && echo "cold, after purge.sh --packages" || echo warm))"
done

for c in "${commands[@]}"; do
  printf '\n== %s: exit %s in %s; its last line: %s\n' "$c" "${rcs[$c]}" "$(duration "${took[$c]}")" \
    "$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out/$c.log" | tail -1)"
  [[ -s "$out/steps-$c.tsv" ]] && bash "$repo/bench/steps.sh" "$out/steps-$c.tsv"
done
