#!/usr/bin/env bash
# Where the time of a run went, step by step: each step the scripts timed (scripts/lib.sh `step`
# and `timed`: apt, each Go build, each debootstrap, each builder base, npm, lint, the first `up`,
# the test images, jest), when it started after the first one, and how long it took. Steps that
# overlap ran side by side.  Usage: bench/steps.sh [STEPS.TSV]  (default: $LUCID_LOG/steps.tsv)
source "$(dirname "$0")/../scripts/lib.sh"
file="${1:-$LUCID_LOG/steps.tsv}"
[[ -s "$file" ]] || die "no steps recorded in $file (run scripts/dev-up.sh or scripts/test.sh first)"
awk -F'\t' '
  function clock(s) { return sprintf("%dm%02ds", int(s / 60), s % 60) }
  { end[NR] = $1; name[NR] = $2; took[NR] = $3; rc[NR] = $4; start[NR] = $1 - $3
    if (NR == 1 || start[NR] < first) first = start[NR]
    if (NR == 1 || $1 > last) last = $1 }
  END {
    printf "%-34s %9s %9s %5s\n", "step", "started", "took", "exit"
    n = NR; for (i = 1; i <= n; i++) order[i] = i
    for (i = 2; i <= n; i++) for (j = i; j > 1 && start[order[j]] < start[order[j-1]]; j--) {
      t = order[j]; order[j] = order[j-1]; order[j-1] = t }
    for (k = 1; k <= n; k++) { i = order[k]
      printf "%-34s %9s %9s %5s\n", name[i], "+" clock(start[i] - first), clock(took[i]), rc[i] }
    printf "%-34s %9s %9s\n", "wall clock, first start to last end", "", clock(last - first)
  }' "$file"
