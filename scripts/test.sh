#!/usr/bin/env bash
# Command 2 of the README: bring up the local parts, then lint, unit tests and the end-to-end
# tests against the real CLI, registry, BuildKit, Engine and SSH target.
source "$(dirname "$0")/lib.sh"
here="$(dirname "$0")"

bash "$here/bootstrap.sh"
bash "$here/debian-base.sh" trixie # the images are tested on Debian 13 too
bash "$here/registry-auth.sh"      # a registry that wants a login, for the credentials tests
bash "$here/node-deps.sh"
cd "$here/.."
npm run -s lint
status=0
if [[ $# -gt 0 ]]; then # a narrowed run (jest's own arguments): as it is asked, one file at a time
  npx jest --runInBand --json --outputFile="$LUCID_LOG/jest.json" "$@" || status=$?
  reports=("$LUCID_LOG/jest.json")
else
  # Two groups side by side, each one file at a time: the images on this machine's Engine, and the
  # end-to-end stacks on the Pi stand-in (each its own stack, project and port; the image stacks
  # and the e2e stacks never meet). Then the faults suite alone: it stops shared daemons.
  rm -f "$LUCID_LOG"/jest-*.json # a group that dies must not be counted from an older run
  group() { # group NAME JEST-ARGS...: runs one group, its output kept for after
    local name="$1"; shift
    npx jest --runInBand --json --outputFile="$LUCID_LOG/jest-$name.json" "$@" \
      >"$LUCID_LOG/jest-$name.log" 2>&1
  }
  group local --selectProjects unit setup images & local_pid=$!
  group e2e --selectProjects e2e --testPathIgnorePatterns 'tests/e2e/faults\.test\.ts' & e2e_pid=$!
  wait "$local_pid" || status=$?
  wait "$e2e_pid" || status=$?
  group faults --selectProjects e2e tests/e2e/faults.test.ts || status=$?
  for g in local e2e faults; do cat "$LUCID_LOG/jest-$g.log"; done
  reports=("$LUCID_LOG/jest-local.json" "$LUCID_LOG/jest-e2e.json" "$LUCID_LOG/jest-faults.json")
fi
# The closing line CI reads: "N passed, N failed" alone on a line (a group that could not even
# report counts as one failure).
node -e 'let passed = 0, failed = 0;
  for (const f of process.argv.slice(1)) {
    try {
      const r = require(f);
      passed += r.numPassedTests;
      failed += r.numFailedTests + r.numRuntimeErrorTestSuites;
    } catch { failed += 1; }
  }
  console.log(`${passed} passed, ${failed} failed`);' "${reports[@]}" || true
exit "$status"
