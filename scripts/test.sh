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
  LUCID_CONTAINER_BUILDER=1 bash "$here/bootstrap.sh"
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
# The dev stack's set (project `lucid`, arm64 under QEMU), which command 1 and the dev command's
# test file leave running, is stopped while the whole suite runs: its health checks alone keep a
# quarter of a core busy (measured: 0.24 of the 2), and a warm run is CPU-bound. The side jest's
# end starts it again (below), or else that file before it runs (tests/e2e/dev-command.test.ts),
# or else this script's exit. The containers and their volumes stay; stopped by hand, their
# policy (unless-stopped) keeps them so.
DEV_STOPPED="$LUCID_RUN/dev-set-stopped"
# resume_dev_set [--keep-on-failure]: starts the containers the file names and forgets them;
# with --keep-on-failure, a failed start leaves the file for the next try (the dev command's file
# or this script's exit), which then fails clearly.
# shellcheck disable=SC2317 # the EXIT trap's and the side job's (below)
resume_dev_set() {
  local ids
  ids="$(cat "$DEV_STOPPED" 2>/dev/null)" || return 0 # read once: another may take it meanwhile
  # shellcheck disable=SC2086 # one argument per container id
  if [[ -z "$ids" ]] || DOCKER_HOST="unix://$PI_DOCKER_SOCK" docker start $ids >/dev/null; then
    rm -f "$DEV_STOPPED"
    return 0
  fi
  log "warning: the dev set's containers did not all start again (lucid up --refresh --stack dev heals it)"
  [[ "${1:-}" == --keep-on-failure ]] || rm -f "$DEV_STOPPED"
}
if [[ $# -eq 0 ]]; then
  # The jobs this script starts end with it, however it ends, and the dev set runs again. Under
  # set -e: lucid_exit returns the script's status, and a failed run's would end the trap there.
  # shellcheck disable=SC2317 # the EXIT trap's
  on_exit() {
    set +e
    lucid_exit
    resume_dev_set
  }
  trap on_exit EXIT
  # Running now, and those of them an interrupted run left stopped that are still there (started
  # again with these, not now).
  dev_ids="$( {
    DOCKER_HOST="unix://$PI_DOCKER_SOCK" docker ps -q --filter label=com.docker.compose.project=lucid
    DOCKER_HOST="unix://$PI_DOCKER_SOCK" docker ps -aq --filter label=com.docker.compose.project=lucid |
      grep -Fx -f "$DEV_STOPPED" 2>/dev/null || true
  } | sort -u)"
  if [[ -n "$dev_ids" ]]; then
    echo "$dev_ids" >"$DEV_STOPPED"
    # shellcheck disable=SC2086 # one argument per container id
    DOCKER_HOST="unix://$PI_DOCKER_SOCK" docker stop $dev_ids >/dev/null
  fi
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
# The arm64 services run under QEMU on two cores, and too many side by side starve each other's
# health checks: the files that run them (the images' set, rollout, builder, the dev command) go
# one at a time, in the main jest, with change (an amd64 Pi's, put there for the jests' balance).
# (The dev set, stopped meanwhile, boots beside the main jest's last files: see side_then_dev_set.)
# When the whole suite runs, two more go beside it:
# - "side": the rollout files whose claims are about the rollout, not the architecture, on the
#   stand-in as an amd64 Pi (nothing emulated), each its own project and port: drift,
#   moved-checkout, first-release, onion, compose-v2 (the Pi's Compose v2 flavour); and, no Pi in
#   it, a Debian update's previews (which build tor-proxy once for a version not seen before);
# - "light": what emulates little: the images' hardening (their files and config read, not
#   run), updates, toolbox-mongo (one mongo-dump and -restore per platform), the bad configs
#   (refused before anything runs), half-open (one SSH connection of its own cut), plain-cli (the
#   plain `pulumi` CLI, its Pi an amd64 one) and signing (the set signed and its SBOMs made once,
#   then verified).
# Then faults.test.ts, which takes the registry and the Pi's Engine down, alone with lint and the
# unit and setup files beside it (bash, fake commands: nothing of what it stops), where the CPU
# has room: the three jests before keep both cores busy.
UNIT='tests/(unit|setup)/'
LIGHT='hardening\.test|updates\.test|base-pins\.test|toolbox-mongo\.test|bad-config\.test|half-open\.test|plain-cli\.test|config-set\.test|signing\.test'
SIDE='drift\.test|moved-checkout\.test|first-release\.test|onion\.test|compose-v2\.test|debian-update\.test'
LAST='faults\.test'
rm -f "$LUCID_LOG"/jest*.json # a jest that dies must not be counted from an older run
reports=("$LUCID_LOG/jest.json")
# beside NAME CMD...: CMD as a job of this script, its output in NAME.log; its pid in $job
beside() {
  local name="$1"; shift
  ("$@") >"$LUCID_LOG/$name.log" 2>&1 &
  job=$!
}
# jest_of NAME ARGS...: a jest of its own, its report jest-NAME.json
jest_of() {
  local name="$1"; shift
  timed "jest-$name" npx jest --runInBand --json --outputFile="$LUCID_LOG/jest-$name.json" "$@"
}
# awaited NAME PID: waits for the job; on its failure, shows its log's end
awaited() {
  wait "$2" && return 0
  status=1
  tail -n 80 "$LUCID_LOG/$1.log" >&2
}
# shellcheck disable=SC2317 # run through `beside`
lint_and_unit() {
  local rc=0
  step lint npm run -s lint || { rc=1; touch "$LUCID_LOG/lint.failed"; }
  jest_of unit --selectProjects unit setup --testPathPatterns "$UNIT" || rc=1
  return "$rc"
}
# shellcheck disable=SC2317 # run through `beside`
side_then_dev_set() {
  local rc=0
  jest_of side --selectProjects e2e --testPathPatterns "$SIDE" || rc=1
  # The side jest ends a minute or two before the main one, whose last file (the dev command's,
  # tests/support/sequencer.js) needs the dev set healthy: it boots meanwhile (40 s under QEMU),
  # not on the main jest's time. Not after a failure, which may come early, beside the arm64 sets.
  ((rc)) || resume_dev_set --keep-on-failure
  return "$rc"
}
if [[ $# -eq 0 ]]; then
  reports+=("$LUCID_LOG"/jest-{light,side,unit,faults}.json)
  rm -f "$LUCID_LOG/lint.failed"
  beside light jest_of light --selectProjects images e2e --testPathPatterns "$LIGHT"
  light_job=$job
  beside side side_then_dev_set
  side_job=$job
  timed jest npx jest --runInBand --json --outputFile="$LUCID_LOG/jest.json" \
    --selectProjects e2e images --testPathIgnorePatterns "$LIGHT|$SIDE|$LAST" || status=$?
  awaited light "$light_job"
  awaited side "$side_job"
  log "beside it: $(grep -E '^Tests:' "$LUCID_LOG/light.log" || echo 'no summary') (light);" \
    "$(grep -E '^Tests:' "$LUCID_LOG/side.log" || echo 'no summary') (side)"
  beside unit lint_and_unit
  unit_job=$job
  jest_of faults --selectProjects e2e --testPathPatterns "$LAST" || status=$?
  awaited unit "$unit_job"
  lint=passed
  if [[ -e "$LUCID_LOG/lint.failed" ]]; then
    lint=failed
    reports+=("$LUCID_LOG/lint-failed.no-such-report") # a missing report counts as one failure
    { echo "lint failed:"; tail -n 40 "$LUCID_LOG/lint.log"; } >&2
  fi
  log "beside faults: lint $lint; $(grep -E '^Tests:' "$LUCID_LOG/unit.log" || echo 'no summary') (unit and setup)"
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
