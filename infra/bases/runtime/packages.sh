#!/bin/sh
# runtime-packages KIND: the Debian packages of a runtime base, with names as this release spells
# them (bookworm: libssl3, python3.11; trixie: libssl3t64, python3.13).
set -eu
first() { for p in "$@"; do apt-cache show "$p" >/dev/null 2>&1 && { echo "$p"; return; }; done; echo "no package of: $*" >&2; exit 1; }
base="libc6 $(first libssl3t64 libssl3) tzdata netbase base-files media-types"
case "$1" in
  base) echo "$base" ;;
  python)
    py="$(apt-cache depends python3-minimal | grep -o 'python3\.[0-9]*-minimal' | head -1)"
    v="${py%-minimal}"
    # the interpreter, its standard library, and the libraries its C modules load
    libs="zlib1g libexpat1 $(first libffi8) libbz2-1.0 liblzma5 $(first libsqlite3-0) libuuid1 \
      libncursesw6 libtinfo6 $(first libreadline8t64 libreadline8) $(first libmpdec3 libmpdec4) libcrypt1 \
      $(first libdb5.3t64 libdb5.3) $(first libgdbm6t64 libgdbm6) $(first libnsl2) $(first libtirpc3t64 libtirpc3) \
      libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0 libcom-err2 libkeyutils1 libzstd1"
    echo "$base $v-minimal lib$v-minimal lib$v-stdlib $libs"
    ;;
  *) echo "runtime-packages: KIND must be base or python" >&2; exit 1 ;;
esac
