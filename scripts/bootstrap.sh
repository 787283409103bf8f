#!/usr/bin/env bash
# Brings up every local part the dev stack needs, idempotently: fast when all are already up.
#   Docker Engine + QEMU binfmt, the registry (TLS, 10.250.0.1:5000), BuildKit + buildx builder,
#   the Pi stand-in (netns, Engine, docker-compose, sshd), the Debian builder base, and the
#   Pulumi CLI + docker-build plugin (built from Go modules), a local file backend.
source "$(dirname "$0")/lib.sh"
here="$(dirname "$0")"

start=$SECONDS
[[ $EUID -eq 0 ]] || die "bootstrap needs root (it installs packages, starts daemons, makes a netns)"
bash "$here/docker-engine.sh"
bash "$here/go-tools.sh" all
bash "$here/registry.sh"
bash "$here/buildkit.sh"
bash "$here/pi-standin.sh"
bash "$here/debian-base.sh" "${LUCID_DEBIAN_SUITE:-bookworm}"
mkdir -p "$LUCID_HOME/state"
log "all local parts ready in $((SECONDS - start)) s"
