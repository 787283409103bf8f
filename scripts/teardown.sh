#!/usr/bin/env bash
# Stops the local parts that bootstrap.sh started and removes the Pi stand-in's network.
# Keeps everything built or stored (tools, images, registry data, state): the next bootstrap is warm.
# With --purge, also deletes $LUCID_HOME (tools, registry, keys, the local Pulumi backend).
source "$(dirname "$0")/lib.sh"

stop() { # stop NAME: the daemon started as NAME, if still running; bounded wait
  local pidfile="$LUCID_RUN/$1.pid" pid i
  [[ -f "$pidfile" ]] || return 0
  pid="$(cat "$pidfile")"
  kill "$pid" 2>/dev/null || true
  for ((i = 0; i < 40; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

if [[ -f "$LUCID_RUN/sshd-pi.pid" ]]; then kill "$(cat "$LUCID_RUN/sshd-pi.pid")" 2>/dev/null || true; fi
stop docker-pi
stop docker-builder # the tests' docker-container builder's Engine
stop buildkitd
stop registry
stop registry-auth
ip link del lucid-pi0 2>/dev/null || true
ip link del lucid-bld0 2>/dev/null || true
ip netns del "$PI_NETNS" 2>/dev/null || true
if [[ "${1:-}" == "--purge" ]]; then
  stop dockerd
  rm -rf "$LUCID_HOME"
fi
log "local parts stopped${1:+ ($1)}"
