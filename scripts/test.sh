#!/usr/bin/env bash
# Command 2 of the README: bring up the local parts, then lint, unit tests and the end-to-end
# tests against the real CLI, registry, BuildKit, Engine and SSH target.
source "$(dirname "$0")/lib.sh"
here="$(dirname "$0")"
# The prepare step's bound: measured cold on 2 cores, 11 min 59 s (25 min 27 s before the image
# builds stopped byte-compiling Python under QEMU); 50 min leaves room for a slower machine.
PREPARE_BOUND=50m

start=$SECONDS
bash "$here/node-deps.sh" & deps_job=$! # npm ci and tsc, beside the bootstrap's Go builds
# The images are tested on Debian 13 too: both builder bases, debootstrapped side by side.
# And the Pi stand-in's second flavour, Compose v2 (the user deploy-v2), for the e2e files.
# And the plain `pulumi` CLI's Node language host, for the tests of that path.
LUCID_DEBIAN_SUITES="bookworm trixie" LUCID_PI_COMPOSE_V2=1 LUCID_LANGUAGE_HOST=1 LUCID_FERRETDB=1 \
  LUCID_CONTAINER_BUILDER=1 LUCID_SYFT=1 bash "$here/bootstrap.sh"
bash "$here/registry-auth.sh" # a registry that wants a login, for the credentials tests
wait "$deps_job" || die "installing or building the project's Node.js code failed (see above)"
cd "$here/.."
# Containers an interrupted run left on the Pi stand-in (its Engine restarts them by their
# policy) would starve this run's arm64 services under QEMU: the test projects' go first (every
# `lucid-<name>` project the tests and benches make; the dev stack's is `lucid`). Their volumes
# stay. By name too, 1.29's `lucid-<name>_<service>_<n>`: the drift tests leave containers under a
# service's name that compose did not make.
ids="$(DOCKER_HOST="unix://$PI_DOCKER_SOCK" docker ps -a \
  --format '{{.ID}} {{.Label "com.docker.compose.project"}} {{.Names}}' |
  awk '$2 ~ /^lucid-/ || $NF ~ /^lucid-[a-z0-9]+_/ { print $1 }')"
if [[ -n "$ids" ]]; then
  # shellcheck disable=SC2086 # one argument per container id
  DOCKER_HOST="unix://$PI_DOCKER_SOCK" docker rm -f $ids >/dev/null
fi
# Lint first when a part of the suite runs; beside the tests when all of it does (below).
if [[ $# -gt 0 ]]; then
  step lint npm run -s lint || die "lint failed:
$(tail -n 40 "$LUCID_LOG/lint.log")"
fi
# The long builds (every image of both releases, both platforms, arm64 under QEMU: 12 min on a
# cold machine) are a step of their own, bounded and with progress, before the test runner: no
# test's timeout has to allow for a cold build. The tests then find them built (a no-op up).
if [[ $# -eq 0 || "$*" == *images* || "$*" == *e2e* ]]; then
  rc=0
  timed prepare-images timeout -k 30 "$PREPARE_BOUND" node dist/tests/support/prepare-images.js || rc=$?
  ((rc != 124)) || die "the images the tests need were not built within $PREPARE_BOUND (see above)"
  ((rc == 0)) || die "building the images the tests need failed (see above)"
  export LUCID_IMAGES_PREPARED=1 # the test files read them from their stacks' outputs
fi
status=0
# One file at a time: the arm64 services run under QEMU on two cores, and too many side by side
# starve each other's health checks. When the whole suite runs, a second jest goes beside them,
# after lint (five minutes in all): what runs nothing under QEMU (the unit and setup files: bash,
# fake commands; the images' hardening: their files and config read, not run; the bad configs,
# refused before anything runs), one rollout file of its own user and project (compose-v2,
# the Pi's Compose v2 flavour), half-open (one SSH connection of its own cut) and plain-cli (the
# plain `pulumi` CLI, its Pi an amd64 one). faults.test.ts, which takes the registry and the Pi's
# Engine down, comes last of the others (tests/support/sequencer.js): all this is done by then.
LIGHT='tests/(unit|setup)/|hardening\.test|updates\.test|base-pins\.test|toolbox-mongo\.test|bad-config\.test|compose-v2\.test|half-open\.test|plain-cli\.test|config-set\.test'
rm -f "$LUCID_LOG"/jest*.json # a jest that dies must not be counted from an older run
reports=("$LUCID_LOG/jest.json")
if [[ $# -eq 0 ]]; then
  reports+=("$LUCID_LOG/jest-light.json")
  # (a job of this script: lib.sh's exit trap ends it and all under it, however the script ends)
  (
    rc=0
    step lint npm run -s lint || { rc=1; echo "lint failed:"; tail -n 40 "$LUCID_LOG/lint.log"; }
    timed jest-light npx jest --runInBand --json --outputFile="$LUCID_LOG/jest-light.json" \
      --selectProjects unit setup images e2e --testPathPatterns "$LIGHT" \
      >"$LUCID_LOG/jest-light.log" 2>&1 || rc=1
    exit "$rc"
  ) >"$LUCID_LOG/light.log" 2>&1 &
  light_job=$!
  timed jest npx jest --runInBand --json --outputFile="$LUCID_LOG/jest.json" \
    --selectProjects e2e images --testPathIgnorePatterns "$LIGHT" || status=$?
  if ! wait "$light_job"; then
    status=1
    cat "$LUCID_LOG/light.log" >&2
    tail -n 80 "$LUCID_LOG/jest-light.log" >&2
  fi
  log "lint, unit, setup, hardening, updates, toolbox-mongo, bad-config, base-pins, compose-v2, half-open, plain-cli and config-set tests (beside the others): $(grep -E '^Tests:' "$LUCID_LOG/jest-light.log" || echo 'no summary')"
else
  timed jest npx jest --runInBand --json --outputFile="$LUCID_LOG/jest.json" "$@" || status=$?
fi
log "tests: $( ((status == 0)) && echo passed || echo "failed (exit $status)"), the whole command in $(duration $((SECONDS - start)))"
# The closing line CI reads: "N passed, N failed" alone on a line (no report: one failure each),
# and ", N skipped" when a test was (the plain-CLI tests, on a machine without ../shared).
# shellcheck disable=SC2016 # JavaScript, not shell
node -e 'let passed = 0, failed = 0, skipped = 0;
  for (const file of process.argv.slice(1)) {
    try {
      const r = require(file);
      passed += r.numPassedTests;
      failed += r.numFailedTests + r.numRuntimeErrorTestSuites;
      skipped += r.numPendingTests;
    } catch {
      failed += 1;
    }
  }
  console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));' \
  "${reports[@]}" || true
exit "$status"
