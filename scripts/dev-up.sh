#!/usr/bin/env bash
# Command 1 of the README: bring up every local part, then `pulumi up` of the dev stack
# (build both platforms, push, run on the Pi stand-in). Safe to run again: it only does what changed.
source "$(dirname "$0")/lib.sh"
here="$(dirname "$0")"

bash "$here/bootstrap.sh"
bash "$here/node-deps.sh"
cd "$here/.."
exec node dist/bin/lucid.js up --stack dev "$@"
