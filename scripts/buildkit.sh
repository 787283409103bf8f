#!/usr/bin/env bash
# A standalone BuildKit daemon on a local socket, registered as the buildx `remote` builder that
# @pulumi/docker-build uses (it refuses the Engine's legacy `docker` driver).
source "$(dirname "$0")/lib.sh"

buildkit_up() { grep -q 'Status: *running' <<<"$("$LUCID_BIN/docker-buildx" inspect --builder "$BUILDER_NAME" --bootstrap 2>/dev/null)"; }
daemon_up() { [[ -S "$BUILDKIT_SOCK" ]] && timeout 5 "$LUCID_BIN/docker-buildx" --builder "$BUILDER_NAME" du >/dev/null 2>&1; }

ensure_daemon() {
  apt_install runc
  mkdir -p "$LUCID_HOME/buildkit"
    cat >"$LUCID_HOME/buildkit/buildkitd.toml" <<TOML
root = "$LUCID_HOME/buildkit/root"
[worker.oci]
  enabled = true
  platforms = ["linux/amd64", "linux/arm64"]
  gc = true
  gckeepstorage = "20GB"
[worker.containerd]
  enabled = false
TOML
  if [[ -S "$BUILDKIT_SOCK" ]] && pgrep -f "buildkitd.*$BUILDKIT_SOCK" >/dev/null; then return 0; fi
  rm -f "$BUILDKIT_SOCK"
  start_daemon buildkitd "$LUCID_LOG/buildkitd.log" "$LUCID_BIN/buildkitd" \
    --config "$LUCID_HOME/buildkit/buildkitd.toml" --addr "unix://$BUILDKIT_SOCK" --oci-worker-net host
  await_daemon buildkitd 30 "buildkitd" test -S "$BUILDKIT_SOCK"
}

ensure_builder() {
  if ! "$LUCID_BIN/docker-buildx" inspect "$BUILDER_NAME" >/dev/null 2>&1; then
    "$LUCID_BIN/docker-buildx" create --name "$BUILDER_NAME" --driver remote "unix://$BUILDKIT_SOCK" \
      >>"$LUCID_LOG/buildkitd.log" 2>&1 || die "buildx: cannot register the remote builder '$BUILDER_NAME'"
  fi
  wait_until 30 "buildx builder" buildkit_up \
    || die "buildx builder '$BUILDER_NAME' is not running (see $LUCID_LOG/buildkitd.log)"
}

ensure_daemon
ensure_builder
log "BuildKit builder '$BUILDER_NAME' at $BUILDKIT_SOCK: ready"
