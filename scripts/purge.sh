#!/usr/bin/env bash
# Makes this machine cold again, as far as this project made it warm, so a cold run can be
# measured on demand (bench/cold-run.sh): stops every local part, then deletes every cache the
# project fills. With --packages, also removes the Debian packages the bootstrap installed (and
# only those: scripts/lib.sh records them), so the next run is a fresh machine's.
#   LUCID_HOME (built tools, debootstrap tarballs, BuildKit state, registry data, the Pi
#   stand-in's Engine, keys, the local backend, logs), the build side's Engine data, Go's module
#   and build caches, npm's cache, this checkout's node_modules and dist, buildx's builder list,
#   Pulumi's plugin directory, apt's lists and downloaded packages; the registry's CA in the trust
#   stores and the Pi stand-in's account.
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."

packages=false
case "${1:-}" in
  "") ;;
  --packages) packages=true ;;
  *) die "purge.sh: unknown argument '$1' (--packages: also remove the packages the bootstrap installed)" ;;
esac
[[ $EUID -eq 0 ]] || die "purge needs root (it stops daemons and removes packages)"

log "stopping the local parts"
bash scripts/teardown.sh --purge >/dev/null 2>&1 || true
# Anything still running from LUCID_HOME or on the build side (a killed run's leftovers).
for p in buildkitd dockerd containerd docker-registry pulumi pulumi-resource-docker-build; do
  pkill -x "$p" 2>/dev/null || true
done
for ((i = 0; i < 40; i++)); do pgrep -x dockerd >/dev/null || break; sleep 0.25; done
pkill -9 -x dockerd 2>/dev/null || true
pkill -9 -x containerd 2>/dev/null || true
sleep 0.5
# buildkitd and the Engines leave mounts under their roots and run dirs (a network namespace
# under /run/docker/netns): unmount before deleting.
awk '{print $2}' /proc/mounts | grep -E "^(/var/lib/docker|/run/docker|$LUCID_HOME|$LUCID_RUN)(/|$)" \
  | sort -r | xargs -r -n1 umount -l 2>/dev/null || true

log "deleting the caches"
go_modcache="$(go env GOMODCACHE 2>/dev/null || true)"
go_cache="$(go env GOCACHE 2>/dev/null || true)"
[[ -n "$go_modcache" ]] && { chmod -R u+w "$go_modcache" 2>/dev/null || true; rm -rf "$go_modcache"; }
[[ -n "$go_cache" ]] && rm -rf "$go_cache"
rm -rf "$LUCID_HOME" "$LUCID_RUN" /var/lib/docker /var/run/docker /run/docker-pi.sock \
  "$HOME/.npm/_cacache" node_modules dist "$HOME/.docker/buildx" \
  "$HOME/.docker/cli-plugins/docker-buildx" "$HOME/.pulumi"
apt-get clean
rm -rf /var/lib/apt/lists/*
# What the bootstrap set up on the machine besides: the registry's CA in the trust stores, the
# Pi stand-in's account and its home (its releases would read as a Pi's previous ones).
rm -rf /usr/local/share/ca-certificates/lucid-registry-ca.crt "/etc/docker/certs.d/$REGISTRY_ADDR"
update-ca-certificates --fresh >/dev/null 2>&1 || true
for u in "$PI_USER" "$PI_V2_USER"; do
  if id "$u" >/dev/null 2>&1; then userdel -r "$u" >/dev/null 2>&1 || true; fi
done
getent group lucid-pi >/dev/null && { groupdel lucid-pi || true; }

if $packages && [[ -s "$LUCID_APT_RECORD" ]]; then
  mapfile -t installed < <(sort -u "$LUCID_APT_RECORD")
  log "removing the ${#installed[@]} Debian packages the bootstrap installed"
  DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "${installed[@]}" >/dev/null 2>&1 \
    || die "apt-get purge of the recorded packages failed"
  rm -f "$LUCID_APT_RECORD" /etc/docker/daemon.json
  apt-get clean
fi
log "purged: the next bootstrap starts cold"
