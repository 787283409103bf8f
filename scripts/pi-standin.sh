#!/usr/bin/env bash
# The Pi stand-in: its own host (pi-link.sh), its own Docker Engine with docker-compose 1.29, and
# an sshd with key-only login for the deploy user. It pulls from the registry over its link.
source "$(dirname "$0")/lib.sh"

PI_DIR="$LUCID_HOME/pi"
PI_NS="/var/run/netns/$PI_NETNS"
in_pi() { nsenter --net="$PI_NS" "$@"; }

ensure_user() {
  apt_install openssh-server openssh-client docker-compose
  getent group lucid-pi >/dev/null || groupadd --system lucid-pi
  if ! id "$PI_USER" >/dev/null 2>&1; then
    useradd --create-home --shell /bin/bash --groups lucid-pi "$PI_USER"
  fi
  usermod -p '*' "$PI_USER" # a locked (!) account is refused by sshd even for keys
  mkdir -p "$PI_DIR"
  [[ -f "$PI_DIR/deploy_key" ]] || ssh-keygen -q -t ed25519 -N '' -C "lucid-dev-deploy" -f "$PI_DIR/deploy_key"
  install -d -m 700 -o "$PI_USER" -g "$PI_USER" "/home/$PI_USER/.ssh"
  install -m 600 -o "$PI_USER" -g "$PI_USER" "$PI_DIR/deploy_key.pub" "/home/$PI_USER/.ssh/authorized_keys"
}

pi_engine_up() { DOCKER_HOST="unix://$PI_DOCKER_SOCK" "$DOCKER" version --format '{{.Server.Version}}'; }

ensure_engine() {
  if pi_engine_up >/dev/null 2>&1; then return 0; fi
  mkdir -p "$PI_DIR/docker" "$LUCID_RUN/pi-docker-exec"
  start_daemon docker-pi "$LUCID_LOG/docker-pi.log" nsenter --net="$PI_NS" dockerd \
    --data-root "$PI_DIR/docker" --exec-root "$LUCID_RUN/pi-docker-exec" \
    --pidfile "$LUCID_RUN/docker-pi-engine.pid" -H "unix://$PI_DOCKER_SOCK" -G lucid-pi \
    --bip "$PI_BRIDGE_CIDR"
  await_daemon docker-pi 60 "Pi stand-in's Docker Engine" pi_engine_up
}

sshd_up() {
  grep -q ssh-ed25519 <<<"$(in_pi ssh-keyscan -T 2 -t ed25519 -p "$PI_SSH_PORT" "$PI_IP" 2>/dev/null)"
}

ensure_sshd() {
  [[ -f "$PI_DIR/ssh_host_ed25519_key" ]] || ssh-keygen -q -t ed25519 -N '' -f "$PI_DIR/ssh_host_ed25519_key"
  cat >"$PI_DIR/sshd_config" <<CONF
ListenAddress $PI_IP:$PI_SSH_PORT
HostKey $PI_DIR/ssh_host_ed25519_key
PidFile $LUCID_RUN/sshd-pi.pid
AllowUsers $PI_USER $PI_V2_USER
PermitRootLogin no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
X11Forwarding no
AllowAgentForwarding no
SetEnv DOCKER_HOST=unix://$PI_DOCKER_SOCK
CONF
  mkdir -p /run/sshd
  /usr/sbin/sshd -t -f "$PI_DIR/sshd_config" || die "Pi stand-in: sshd config is invalid"
  if sshd_up; then
    # A running sshd reads its config again on SIGHUP (sessions stay): whatever it loaded before,
    # it runs this one now.
    [[ -f "$LUCID_RUN/sshd-pi.pid" ]] || die "Pi stand-in: sshd answers but $LUCID_RUN/sshd-pi.pid is gone; stop it (scripts/teardown.sh) and run again"
    kill -HUP "$(cat "$LUCID_RUN/sshd-pi.pid")" || die "Pi stand-in: sshd did not take its config"
    wait_until 15 "Pi sshd" sshd_up || die "Pi stand-in: sshd does not answer after reloading its config"
    return 0
  fi
  in_pi /usr/sbin/sshd -f "$PI_DIR/sshd_config" -E "$LUCID_LOG/sshd-pi.log" \
    || die "Pi stand-in: sshd did not start (see $LUCID_LOG/sshd-pi.log)"
  wait_until 15 "Pi sshd" sshd_up || die "Pi stand-in: sshd does not answer on $PI_IP:$PI_SSH_PORT"
}

# The public host key, as a stack pins it (`ssh-ed25519 AAAA...`).
record_host_key() {
  cut -d' ' -f1,2 "$PI_DIR/ssh_host_ed25519_key.pub" >"$PI_DIR/host_key.pub"
}

bash "$(dirname "$0")/pi-link.sh"
ensure_user
ensure_engine
ensure_sshd
record_host_key
log "Pi stand-in at $PI_USER@$PI_IP:$PI_SSH_PORT (engine $(pi_engine_up)): ready"
