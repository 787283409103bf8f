#!/bin/sh
# assemble KIND ARCH ROOTFS: unpacks the runtime base's Debian packages for ARCH (a Debian
# architecture: amd64, arm64) into ROOTFS (merged /usr, as Debian lays it out), then takes away
# what a runtime must not have. Runs on any platform: it only downloads and unpacks.
# The packages are the newest of the builder base's sources: the release, its -updates and its
# -security suite (scripts/debian-base.sh).
set -eu
kind="$1" arch="$2" rootfs="$3"

[ "$arch" = "$(dpkg --print-architecture)" ] || dpkg --add-architecture "$arch"
apt-get update -qq
apt-get install -y -qq --no-install-recommends ca-certificates >/dev/null
mkdir -p /debs "$rootfs/usr/bin" "$rootfs/usr/sbin" "$rootfs/usr/lib" "$rootfs/usr/lib64"
for d in bin sbin lib lib64; do ln -s "usr/$d" "$rootfs/$d"; done
cd /debs
# The target's own build of each package; one for every architecture ("Architecture: all") has
# no such name and is taken as it is.
for p in $(runtime-packages "$kind"); do
  case "$(apt-cache show --no-all-versions "$p" | sed -n 's/^Architecture: //p')" in
    all) echo "$p" ;;
    *) echo "$p:$arch" ;;
  esac
done >/tmp/packages
# shellcheck disable=SC2046 # one word per package
apt-get download -qq -o APT::Sandbox::User=root $(cat /tmp/packages)
for deb in /debs/*.deb; do
  dpkg-deb --fsys-tarfile "$deb" | tar -x --keep-directory-symlink -C "$rootfs"
done
inventory --record /debs/*.deb
mkdir -p "$rootfs/etc/ssl/certs"
cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/"

# Docs, manuals, locales, static libraries, Python's own test suite and GUI: not for a runtime.
rm -rf "$rootfs"/usr/share/doc "$rootfs"/usr/share/man "$rootfs"/usr/share/info \
  "$rootfs"/usr/share/lintian "$rootfs"/usr/share/locale "$rootfs"/usr/lib/python3*/test \
  "$rootfs"/usr/lib/python3*/idlelib "$rootfs"/usr/lib/python3*/ensurepip \
  "$rootfs"/usr/lib/python3*/lib2to3 "$rootfs"/usr/lib/python3*/tkinter
find "$rootfs" -name '*.a' -delete
# glibc's iconv modules (8 MB): nothing here converts charsets through iconv.
rm -rf "$rootfs"/usr/lib/*-linux-gnu/gconv
# Never a setuid/setgid file or a shell, even one a package shipped.
find "$rootfs" \( -perm -4000 -o -perm -2000 \) -exec chmod ug-s {} +
rm -f "$rootfs"/usr/bin/sh "$rootfs"/usr/bin/dash "$rootfs"/usr/bin/bash

# python3-minimal (left out: it pulls in dpkg) is what names the interpreter python3.
for py in "$rootfs"/usr/bin/python3.*; do [ -e "$py" ] && ln -sf "${py##*/}" "$rootfs/usr/bin/python3"; done

mkdir -p "$rootfs/tmp" "$rootfs/home/lucid" "$rootfs/etc"
chmod 1777 "$rootfs/tmp"
cat >"$rootfs/etc/passwd" <<PASSWD
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
lucid:x:65532:65532:lucid:/home/lucid:/sbin/nologin
PASSWD
printf 'root:x:0:\nnogroup:x:65534:\nlucid:x:65532:\n' >"$rootfs/etc/group"
chown 65532:65532 "$rootfs/home/lucid"
# What is left, by the packages it came from (none of the build machine's own: another arch's)
inventory "$rootfs" --recorded-only
