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
# Containers an interrupted run left on the Pi stand-in (its Engine restarts them by their
# policy) would starve this run's arm64 services under QEMU: the test projects' go first. Their
# volumes stay; the dev stack is not a test project.
# (By name too: the drift tests leave containers under a service's name that compose did not make.)
for p in lucid-e2e lucid-chg lucid-drift lucid-faults lucid-first lucid-bench lucid-plain; do
  ids="$(DOCKER_HOST="unix://$PI_DOCKER_SOCK" docker ps -aq --filter "label=com.docker.compose.project=$p")
$(DOCKER_HOST="unix://$PI_DOCKER_SOCK" docker ps -aq --filter "name=^/${p}_")"
  ids="$(sort -u <<<"$ids" | grep . || true)"
  [[ -z "$ids" ]] || DOCKER_HOST="unix://$PI_DOCKER_SOCK" docker rm -f $ids >/dev/null
done
npm run -s lint
status=0
# One file at a time: the arm64 services run under QEMU on two cores, and side by side they
# starve each other's health checks.
rm -f "$LUCID_LOG/jest.json" # a jest that dies must not be counted from an older run
npx jest --runInBand --json --outputFile="$LUCID_LOG/jest.json" "$@" || status=$?
# The closing line CI reads: "N passed, N failed" alone on a line (no report: one failure).
node -e 'let line = "0 passed, 1 failed";
  try {
    const r = require(process.argv[1]);
    line = `${r.numPassedTests} passed, ${r.numFailedTests + r.numRuntimeErrorTestSuites} failed`;
  } catch {}
  console.log(line);' "$LUCID_LOG/jest.json" || true
exit "$status"
