#!/usr/bin/env bash
# Command 1 of the README: bring up every local part, then `pulumi up` of the dev stack
# (build both platforms, push, run on the Pi stand-in). Safe to run again: it only does what changed.
source "$(dirname "$0")/lib.sh"
here="$(dirname "$0")"

start=$SECONDS
bash "$here/node-deps.sh" & deps_job=$! # npm ci and tsc, beside the bootstrap's Go builds
bash "$here/bootstrap.sh"
wait "$deps_job" || die "installing or building the project's Node.js code failed (see above)"
cd "$here/.."
status=0
timed up-dev node dist/bin/lucid.js up --stack dev "$@" || status=$?
log "dev-up: $( ((status == 0)) && echo "done" || echo "failed (exit $status)") in $(duration $((SECONDS - start)))"
exit "$status"
