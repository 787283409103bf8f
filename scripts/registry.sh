#!/usr/bin/env bash
# The OCI registry (Debian's docker-registry, distribution 2.8), served over TLS with
# a local CA that this machine trusts: buildx's imagetools (docker-build's Index) speaks only HTTPS
# to a registry, and a real Pi pulls from Docker Hub over TLS too.
source "$(dirname "$0")/lib.sh"

TLS="$LUCID_HOME/registry/tls"
registry_up() { curl -fs --cacert "$TLS/ca.crt" "https://$REGISTRY_ADDR/v2/" >/dev/null; }

# Strict X.509 clients (Python 3.13's default context among them) want these extensions.
cert_complete() {
  grep -q "Certificate Sign" <<<"$(openssl x509 -in "$TLS/ca.crt" -noout -text 2>/dev/null)" &&
    grep -q "TLS Web Server Authentication" <<<"$(openssl x509 -in "$TLS/server.crt" -noout -text 2>/dev/null)"
}

# A CA and a server certificate for the registry's address, with the extensions strict clients
# check (a CA marked critical, key usages, the authority key id).
ensure_tls() {
  mkdir -p "$TLS"
  if [[ ! -s "$TLS/server.crt" ]] || ! cert_complete; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Lucid local registry CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -keyout "$TLS/ca.key" -out "$TLS/ca.crt" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=lucid-registry" \
      -keyout "$TLS/server.key" -out "$TLS/server.csr" 2>/dev/null
    cat >"$TLS/server.ext" <<EXT
subjectAltName=IP:${REGISTRY_ADDR%:*}
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
authorityKeyIdentifier=keyid,issuer
subjectKeyIdentifier=hash
EXT
    openssl x509 -req -in "$TLS/server.csr" -CA "$TLS/ca.crt" -CAkey "$TLS/ca.key" -CAcreateserial \
      -days 3650 -extfile "$TLS/server.ext" -out "$TLS/server.crt" 2>/dev/null \
      || die "registry: cannot make its TLS certificate"
  fi
  # Trusted system-wide (buildkitd, buildx, curl) and by both Engines.
  if ! cmp -s "$TLS/ca.crt" /usr/local/share/ca-certificates/lucid-registry-ca.crt; then
    install -m 644 "$TLS/ca.crt" /usr/local/share/ca-certificates/lucid-registry-ca.crt
    update-ca-certificates >/dev/null 2>&1 || die "registry: update-ca-certificates failed"
  fi
  install -D -m 644 "$TLS/ca.crt" "/etc/docker/certs.d/$REGISTRY_ADDR/ca.crt"
}

if [[ -s "$TLS/ca.crt" ]] && cert_complete && registry_up; then
  log "registry at $REGISTRY_ADDR: already up"
  exit 0
fi
# A registry of ours with an older certificate: stop it, and BuildKit, which caches the CA it
# read at start; both come back with the new one (bootstrap starts BuildKit after this).
if [[ -s "$TLS/server.crt" ]] && ! cert_complete; then
  for d in registry buildkitd; do
    if [[ -f "$LUCID_RUN/$d.pid" ]]; then kill "$(cat "$LUCID_RUN/$d.pid")" 2>/dev/null || true; fi
  done
  wait_until 10 "old registry gone" bash -c "! curl -s -o /dev/null -k https://$REGISTRY_ADDR/v2/"
fi
require_port_free "$REGISTRY_ADDR" "registry" # before anything is touched
apt_install docker-registry curl openssl ca-certificates
bash "$(dirname "$0")/pi-link.sh" # the registry listens on the link's host side
ensure_tls

mkdir -p "$LUCID_HOME/registry"
cat >"$LUCID_HOME/registry/config.yml" <<YAML
version: 0.1
log: { level: warn }
storage:
  filesystem: { rootdirectory: $LUCID_HOME/registry/data }
  delete: { enabled: true }
http:
  addr: $REGISTRY_ADDR
  tls: { certificate: $TLS/server.crt, key: $TLS/server.key }
YAML
start_daemon registry "$LUCID_LOG/registry.log" docker-registry serve "$LUCID_HOME/registry/config.yml"
wait_until 20 registry registry_up \
  || die "registry did not answer on $REGISTRY_ADDR within 20 s; last log lines:
$(tail -n 10 "$LUCID_LOG/registry.log")"
log "registry at $REGISTRY_ADDR: ready"
