#!/usr/bin/env bash
# The Debian builder base (debian:<suite>-slim upstream), made here with debootstrap for
# linux/amd64 and linux/arm64 and pushed to the local registry as one multi-arch manifest list,
# because no container registry is reachable from this machine.
# SUITE defaults to bookworm.
source "$(dirname "$0")/lib.sh"

# Usage: debian-base.sh [--rootfs-only] [SUITE]: --rootfs-only makes the root filesystems and stops
# (the bootstrap runs it beside the Go builds, before BuildKit is there to push them).
ROOTFS_ONLY=false
[[ "${1:-}" == "--rootfs-only" ]] && { ROOTFS_ONLY=true; shift; }
SUITE="${1:-${LUCID_DEBIAN_SUITE:-bookworm}}"
MIRROR="${LUCID_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${LUCID_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
REF="$REGISTRY_ADDR/lucid/debian:$SUITE"
WORK="$LUCID_HOME/bases/$SUITE"

in_registry() {
  curl -fs -o /dev/null --cacert "$LUCID_HOME/registry/tls/ca.crt" -H 'Accept: application/vnd.oci.image.index.v1+json' \
    -H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' \
    "https://$REGISTRY_ADDR/v2/lucid/debian/manifests/$SUITE"
}

rootfs() { # rootfs ARCH: a minbase tree, tarred; cached by suite and arch
  local arch="$1" tree="$WORK/rootfs-$1"
  [[ -s "$WORK/rootfs-$arch.tar.gz" ]] && return 0
  log "debootstrap $SUITE for $arch (about 30 s for amd64, 100 s for arm64 under QEMU)"
  rm -rf "$tree"
  step "debootstrap-$SUITE-$arch" debootstrap --variant=minbase --arch="$arch" "$SUITE" "$tree" "$MIRROR" \
    || die "debootstrap $SUITE/$arch failed; see $LUCID_LOG/debootstrap-$SUITE-$arch.log"
  # Like debian:*-slim: no apt lists or caches, no docs.
  rm -rf "$tree"/var/lib/apt/lists/* "$tree"/var/cache/apt/*.bin "$tree"/var/cache/apt/archives/*.deb \
    "$tree"/usr/share/doc/* "$tree"/usr/share/man/* "$tree"/usr/share/info/*
  tar -C "$tree" --numeric-owner -czf "$WORK/rootfs-$arch.tar.gz.tmp" . \
    && mv "$WORK/rootfs-$arch.tar.gz.tmp" "$WORK/rootfs-$arch.tar.gz"
  rm -rf "$tree"
}

# The base's apt sources, as debian:<suite>-slim has them: the release, its point-release updates
# and its security suite, so what a builder stage installs is current (debootstrap alone names
# the release, whose packages lag Debian's security fixes until the next point release).
# (Signed by the keys debootstrap put in /etc/apt/trusted.gpg.d, the release's and its security's.)
sources() {
  printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\n\n' "$MIRROR" "$SUITE" "$SUITE"
  printf 'Types: deb\nURIs: %s\nSuites: %s-security\nComponents: main\n' "$SECURITY_MIRROR" "$SUITE"
}

# One build for both platforms: buildkit records the right architecture per variant
# (`docker import` would not) and pushes the manifest list in one step. The sources replace
# debootstrap's list. What the registry holds is this script's if its stamp (the hash of the
# Dockerfile and sources pushed last) matches: an older base is pushed again.
dockerfile() {
  cat <<'DOCKERFILE'
FROM scratch
ARG TARGETARCH
ADD rootfs-${TARGETARCH}.tar.gz /
COPY debian.sources /etc/apt/sources.list.d/debian.sources
COPY empty /etc/apt/sources.list
CMD ["bash"]
DOCKERFILE
}
stamp="$( { dockerfile; sources; } | sha256sum | cut -c1-16)"
if in_registry && [[ "$(cat "$WORK/pushed" 2>/dev/null)" == "$stamp" ]]; then
  log "builder base $REF: already in the registry"
  exit 0
fi
apt_install debootstrap curl
mkdir -p "$WORK"
rootfs amd64 & a=$!
rootfs arm64 & b=$!
{ wait "$a" && wait "$b"; } || die "building the $SUITE root filesystems failed"
$ROOTFS_ONLY && exit 0

dockerfile >"$WORK/Dockerfile"
sources >"$WORK/debian.sources"
: >"$WORK/empty"
log "pushing $REF (linux/amd64, linux/arm64)"
step "debian-base-$SUITE" "$DOCKER" buildx build --builder "$BUILDER_NAME" --platform linux/amd64,linux/arm64 \
  --output "type=image,name=$REF,push=true" "$WORK" \
  || die "pushing $REF failed; last lines:
$(tail -n 15 "$LUCID_LOG/debian-base-$SUITE.log")"
in_registry || die "$REF is not in the registry after the push"
echo "$stamp" >"$WORK/pushed"
log "builder base $REF: ready"
