#!/usr/bin/env bash
# For the tests: a stock `docker-container` buildx builder, the kind Docker Desktop and `docker
# buildx create` make, named lucid-container. Its BuildKit image is built here (no registry outside
# is reachable): this machine's buildkitd and buildctl on the builder base of this machine's
# Debian release, pushed to the local registry, from which the builder's driver pulls it. Its
# cache lives in the builder's own volume, so a second run builds from it.
# The driver runs BuildKit in a privileged container, which Engine 20.10 cannot start on this
# machine (its processes lack CAP_SYS_RESOURCE: "unable to apply caps"). So the builder has an
# Engine of its own, as Docker Desktop has, whose runtime is runc through scripts/runc-bounded;
# the build side's Engine is left as it is. The builder uses the host's network; its Engine has
# a bridge of its own (lucid-bld0) and no iptables: with none (--bridge=none) an Engine deletes
# docker0 when it starts, the build side's Engine's bridge (seen: its RUN steps then failed).
# Needs: go-tools.sh buildkit and buildctl, registry.sh, debian-base.sh <this release>.
source "$(dirname "$0")/lib.sh"

NAME="lucid-container"
DIR="$LUCID_HOME/buildkit-container"
BUILDX="$LUCID_BIN/docker-buildx"
SOCK="$LUCID_RUN/docker-builder.sock"
RUNTIME="$LUCID_BIN/runc-bounded"

builder_engine_up() { DOCKER_HOST="unix://$SOCK" "$DOCKER" version --format '{{.Server.Version}}'; }
ensure_engine() {
  apt_install runc python3
  cmp -s "$(dirname "$0")/runc-bounded" "$RUNTIME" || install -m 755 "$(dirname "$0")/runc-bounded" "$RUNTIME"
  if builder_engine_up >/dev/null 2>&1; then return 0; fi
  if ! ip link show lucid-bld0 >/dev/null 2>&1; then
    ip link add lucid-bld0 type bridge || die "cannot create the builder Engine's bridge lucid-bld0"
  fi
  grep -q "10.250.9.1/" <<<"$(ip addr show lucid-bld0)" || ip addr add 10.250.9.1/24 dev lucid-bld0
  ip link set lucid-bld0 up
  mkdir -p "$DIR/docker" "$LUCID_RUN/builder-docker-exec"
  start_daemon docker-builder "$LUCID_LOG/docker-builder.log" dockerd \
    --data-root "$DIR/docker" --exec-root "$LUCID_RUN/builder-docker-exec" \
    --pidfile "$LUCID_RUN/docker-builder-engine.pid" -H "unix://$SOCK" \
    --iptables=false --ip-forward=false --bridge=lucid-bld0 \
    --add-runtime "bounded=$RUNTIME" --default-runtime bounded
  await_daemon docker-builder 60 "the docker-container builder's Engine" builder_engine_up
}
# shellcheck source=/dev/null
SUITE="$(. /etc/os-release && echo "$VERSION_CODENAME")" # the binaries link this release's glibc
BASE="$REGISTRY_ADDR/lucid/debian:$SUITE"
for bin in buildkitd buildctl docker-buildx; do
  [[ -x "$LUCID_BIN/$bin" ]] || die "no $LUCID_BIN/$bin: run scripts/go-tools.sh buildkit and buildctl first"
done

builder_running() { grep -q 'Status: *running' <<<"$("$BUILDX" inspect "$NAME" 2>/dev/null)"; }

mkdir -p "$DIR/context"
cp -f "$LUCID_BIN/buildkitd" "$LUCID_BIN/buildctl" "$DIR/context/"
cat >"$DIR/context/Dockerfile" <<'DOCKERFILE'
ARG BASE
FROM ${BASE}
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends runc >/dev/null \
 && rm -rf /var/lib/apt/lists/*
COPY buildkitd buildctl /usr/bin/
ENTRYPOINT ["buildkitd"]
DOCKERFILE
# The registry's CA, which buildx copies into the builder's container; both platforms.
cat >"$DIR/buildkitd.toml" <<TOML
[registry."$REGISTRY_ADDR"]
  ca = ["$LUCID_HOME/registry/tls/ca.crt"]
[worker.oci]
  platforms = ["linux/amd64", "linux/arm64"]
  gc = true
  gckeepstorage = "20GB"
TOML
stamp="$(cat "$DIR/context/"* "$DIR/buildkitd.toml" <(echo "$BASE") | sha256sum | cut -c1-16)"
REF="$REGISTRY_ADDR/lucid/buildkit:$stamp"

ensure_engine
if [[ "$(cat "$DIR/builder" 2>/dev/null)" == "$REF" ]] && builder_running; then
  log "docker-container builder '$NAME' ($REF): ready"
  exit 0
fi
if ! /usr/bin/docker manifest inspect "$REF" >/dev/null 2>&1; then
  log "building the BuildKit image $REF for the docker-container builder"
  step buildkit-image env DOCKER_BUILDKIT=1 /usr/bin/docker build --build-arg "BASE=$BASE" -t "$REF" "$DIR/context" ||
    die "building $REF failed; last lines of $LUCID_LOG/buildkit-image.log:
$(tail -n 15 "$LUCID_LOG/buildkit-image.log")"
  step buildkit-image-push /usr/bin/docker push "$REF" || die "pushing $REF failed (see $LUCID_LOG/buildkit-image-push.log)"
fi
# Another image than the builder runs: made again, its cache kept (the state volume stays).
if "$BUILDX" inspect "$NAME" >/dev/null 2>&1; then "$BUILDX" rm --keep-state "$NAME" >/dev/null 2>&1 || true; fi
step buildkit-container "$BUILDX" create --name "$NAME" --driver docker-container \
  --driver-opt "image=$REF" --driver-opt network=host \
  --buildkitd-config "$DIR/buildkitd.toml" --bootstrap "unix://$SOCK" ||
  die "buildx: cannot create the docker-container builder '$NAME'; last lines of $LUCID_LOG/buildkit-container.log:
$(tail -n 15 "$LUCID_LOG/buildkit-container.log")"
wait_until 60 "docker-container builder" builder_running || die "docker-container builder '$NAME' is not running"
echo "$REF" >"$DIR/builder"
log "docker-container builder '$NAME' ($REF): ready"
