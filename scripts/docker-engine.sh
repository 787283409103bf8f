#!/usr/bin/env bash
# The build side's Docker Engine (with BuildKit) and QEMU binfmt for linux/arm64.
# Uses an Engine that already answers; otherwise installs Debian's docker.io and starts dockerd.
source "$(dirname "$0")/lib.sh"

engine_up() { "$DOCKER" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

ensure_binfmt() {
  apt_install qemu-user-static binfmt-support
  if [[ ! -e /proc/sys/fs/binfmt_misc/status ]]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc \
      || die "QEMU binfmt: cannot mount binfmt_misc (the container needs it to run arm64)"
  fi
  if [[ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]]; then
    update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 \
      || die "QEMU binfmt: update-binfmts --enable qemu-aarch64 failed"
  fi
  grep -q '^flags: .*F' /proc/sys/fs/binfmt_misc/qemu-aarch64 \
    || log "warning: qemu-aarch64 is registered without the F flag; arm64 in containers may fail"
}

ensure_engine() {
  if engine_up; then return 0; fi
  apt_install docker.io iptables
  mkdir -p /etc/docker
  [[ -f /etc/docker/daemon.json ]] || echo '{"features":{"buildkit":true}}' >/etc/docker/daemon.json
  log "starting dockerd"
  start_daemon dockerd "$LUCID_LOG/dockerd.log" dockerd
  await_daemon dockerd 60 "Docker Engine (dockerd)" engine_up
}

ensure_binfmt
ensure_engine
log "docker engine $("$DOCKER" version --format '{{.Server.Version}}'), arm64 via QEMU: ready"
