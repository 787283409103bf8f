#!/usr/bin/env bash
# A second registry that wants a login (htpasswd, bcrypt), for the tests of registry
# credentials: same TLS certificate and address as the open one (scripts/registry.sh), next port.
# The user is "lucid"; its password is made here once, kept in $LUCID_HOME/registry-auth/password
# (mode 600) and never put on a command line.
source "$(dirname "$0")/lib.sh"

AUTH_ADDR="$PI_HOST_IP:${LUCID_AUTH_REGISTRY_PORT:-5001}"
DIR="$LUCID_HOME/registry-auth"
TLS="$LUCID_HOME/registry/tls"
auth_up() { [[ "$(curl -s -o /dev/null -w '%{http_code}' "https://$AUTH_ADDR/v2/")" == 401 ]]; }

if auth_up; then
  log "registry with login at $AUTH_ADDR: already up"
  exit 0
fi
[[ -s "$TLS/server.crt" ]] || die "registry with login: run scripts/registry.sh first (its TLS)"
require_port_free "$AUTH_ADDR" "registry with login"
apt_install apache2-utils
install -d -m 700 "$DIR"
if [[ ! -s "$DIR/password" ]]; then
  (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$DIR/password")
fi
htpasswd -B -i -c "$DIR/htpasswd" lucid <"$DIR/password" 2>/dev/null \
  || die "registry with login: htpasswd failed"
install -D -m 644 "$TLS/ca.crt" "/etc/docker/certs.d/$AUTH_ADDR/ca.crt"
cat >"$DIR/config.yml" <<YAML
version: 0.1
log: { level: warn }
storage:
  filesystem: { rootdirectory: $DIR/data }
  delete: { enabled: true }
auth:
  htpasswd: { realm: lucid, path: $DIR/htpasswd }
http:
  addr: $AUTH_ADDR
  tls: { certificate: $TLS/server.crt, key: $TLS/server.key }
YAML
start_daemon registry-auth "$LUCID_LOG/registry-auth.log" docker-registry serve "$DIR/config.yml"
wait_until 20 "registry with login" auth_up \
  || die "registry with login did not answer on $AUTH_ADDR within 20 s; last log lines:
$(tail -n 10 "$LUCID_LOG/registry-auth.log")"
log "registry with login at $AUTH_ADDR: ready (user lucid)"
