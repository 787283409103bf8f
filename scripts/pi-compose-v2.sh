#!/usr/bin/env bash
# The Pi stand-in's second flavour, for the tests: the user deploy-v2, whose Docker CLI has the
# Compose v2 plugin (`docker compose`), as Docker's install script sets up a Pi today. Same
# host, Engine and sshd as `deploy`, who keeps docker-compose 1.29 alone (a CLI plugin is per
# user: ~/.docker/cli-plugins). Needs `go-tools.sh compose` and pi-standin.sh first.
source "$(dirname "$0")/lib.sh"

PI_DIR="$LUCID_HOME/pi"
plugin="$LUCID_BIN/docker-compose-v2"
[[ -x "$plugin" ]] || die "no Compose v2 at $plugin: run scripts/go-tools.sh compose first"
[[ -f "$PI_DIR/deploy_key.pub" ]] || die "no Pi stand-in: run scripts/pi-standin.sh first"

home="/home/$PI_V2_USER"
if ! id "$PI_V2_USER" >/dev/null 2>&1; then
  useradd --create-home --shell /bin/bash --groups lucid-pi "$PI_V2_USER"
fi
usermod -aG lucid-pi "$PI_V2_USER" # the Engine's socket
usermod -p '*' "$PI_V2_USER" # a locked (!) account is refused by sshd even for keys
install -d -m 700 -o "$PI_V2_USER" -g "$PI_V2_USER" "$home/.ssh"
install -m 600 -o "$PI_V2_USER" -g "$PI_V2_USER" "$PI_DIR/deploy_key.pub" "$home/.ssh/authorized_keys"
install -d -o "$PI_V2_USER" -g "$PI_V2_USER" "$home/.docker"
# A copy, root's, in a directory of root's: the user cannot read LUCID_HOME, and must not be able
# to replace its Compose.
install -d -m 755 -o root -g root "$home/.docker/cli-plugins"
cmp -s "$plugin" "$home/.docker/cli-plugins/docker-compose" ||
  install -m 755 -o root -g root "$plugin" "$home/.docker/cli-plugins/docker-compose"
v="$(runuser -u "$PI_V2_USER" -- env DOCKER_HOST="unix://$PI_DOCKER_SOCK" docker compose version --short 2>&1)" ||
  die "Pi stand-in: docker compose does not run for $PI_V2_USER: $v"
log "Pi stand-in flavour $PI_V2_USER@$PI_IP: Compose $v (the plugin); $PI_USER: docker-compose 1.29"
