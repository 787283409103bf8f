#!/bin/sh
# bytecode ROOTFS: compiles the Python standard library of a runtime base assembled in ROOTFS
# (nothing to do for one without Python). Runs on the build machine's own platform: bytecode is
# the same on every platform, so this release's interpreter here compiles it at native speed.
# Without it, Python would compile each module it imports at every start (and every health
# check), since the root it runs from is read-only and nothing could keep the result.
set -eu
rootfs="$1"
lib="$(ls -d "$rootfs"/usr/lib/python3.* 2>/dev/null || true)"
[ -n "$lib" ] || exit 0
v="${lib##*/}" # python3.11
apt-get update -qq
apt-get install -y -qq --no-install-recommends "$v" >/dev/null
# Same release, same interpreter version: its bytecode is what the runtime's would write.
# Hash-checked: valid whatever the files' times become in the image; -s/-p: the paths the
# runtime sees, so tracebacks name /usr/lib/python3.X/...
"$v" -m compileall -q -j 0 --invalidation-mode checked-hash -s "$rootfs" -p / "$lib"
