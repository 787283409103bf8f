#!/usr/bin/env bash
# Brings up every local part the dev stack needs, idempotently: fast when all are already up.
#   Docker Engine + QEMU binfmt, the registry (TLS, 10.250.0.1:5000), BuildKit + buildx builder,
#   the Pi stand-in (netns, Engine, docker-compose, sshd), the Debian builder base of each release
#   in LUCID_DEBIAN_SUITES (default bookworm), the Pulumi CLI + docker-build plugin and the signing
#   tools, cosign and Syft (built from Go modules), a local file backend.
# Cold, the Go build is the long pole: it runs beside the rest (apt, the daemons, debootstrap),
# which needs none of it until BuildKit pushes the builder bases.
source "$(dirname "$0")/lib.sh"
here="$(dirname "$0")"

start=$SECONDS
[[ $EUID -eq 0 ]] || die "bootstrap needs root (it installs packages, starts daemons, makes a netns)"
read -r -a suites <<<"${LUCID_DEBIAN_SUITES:-${LUCID_DEBIAN_SUITE:-bookworm}}"

# LUCID_PI_COMPOSE_V2=1 (the tests): Compose v2 too, for the stand-in's second flavour.
# LUCID_LANGUAGE_HOST=1 (the tests): the plain `pulumi` CLI's Node language host.
# LUCID_FERRETDB=1 (the tests): FerretDB, a MongoDB for the toolbox's tests.
# LUCID_CONTAINER_BUILDER=1 (the tests): a docker-container buildx builder, as Docker Desktop has.
{
  bash "$here/go-tools.sh" all &&
    if [[ -n "${LUCID_PI_COMPOSE_V2:-}" ]]; then bash "$here/go-tools.sh" compose; fi &&
    if [[ -n "${LUCID_LANGUAGE_HOST:-}" ]]; then bash "$here/go-tools.sh" language-host; fi &&
    if [[ -n "${LUCID_FERRETDB:-}" ]]; then bash "$here/go-tools.sh" ferretdb; fi &&
    if [[ -n "${LUCID_CONTAINER_BUILDER:-}" ]]; then bash "$here/go-tools.sh" buildctl; fi
} &
go_job=$!

bash "$here/docker-engine.sh"
bash "$here/registry.sh"
bash "$here/pi-standin.sh"
apt_install shellcheck # `npm run lint` checks every shell program with it
for suite in "${suites[@]}"; do bash "$here/debian-base.sh" --rootfs-only "$suite"; done

wait "$go_job" || die "building the Go tools failed (see above)"
# The signing tools (cosign and Syft) are needed by `up` alone, after every image is built: their
# build runs beside BuildKit's start, the builder bases' pushes and the container builder.
bash "$here/go-tools.sh" signing &
signing_job=$!
[[ -z "${LUCID_PI_COMPOSE_V2:-}" ]] || bash "$here/pi-compose-v2.sh"
bash "$here/buildkit.sh"
for suite in "${suites[@]}"; do bash "$here/debian-base.sh" "$suite"; done
[[ -z "${LUCID_CONTAINER_BUILDER:-}" ]] || bash "$here/buildkit-container.sh"
wait "$signing_job" || die "building the signing tools (cosign, Syft) failed (see above)"
mkdir -p "$LUCID_HOME/state"
log "all local parts ready in $(duration $((SECONDS - start)))"
