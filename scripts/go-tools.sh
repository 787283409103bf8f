#!/usr/bin/env bash
# Go-built tools: the Pulumi CLI, the docker-build provider plugin, buildkitd and buildx; and for
# the tests' second Pi flavour, Compose v2.
# None is downloadable here as a release; all are Go modules on the module proxy. Each build is
# cached (GOMODCACHE, GOCACHE, and a stamp per binary), so a warm run takes a second.
# And for the tests of the plain `pulumi` CLI, its Node language host, from ../shared when there;
# for the toolbox's tests, FerretDB as a MongoDB; for signing (lucid:signing), cosign and Syft.
# Usage: go-tools.sh [all | buildkit | pulumi | compose | language-host | ferretdb | buildctl | signing]
source "$(dirname "$0")/lib.sh"

PULUMI_VERSION="3.274.1"
DOCKER_BUILD_VERSION="0.0.22"   # = `npm view @pulumi/docker-build pulumi.version`
BUILDKIT_VERSION="0.31.0"       # the versions docker-build 0.0.22 embeds
BUILDX_VERSION="0.35.0"
COMPOSE_VERSION="2.40.3"        # the Compose v2 plugin, as a current Pi has it
SYFT_VERSION="1.57.2"           # the scanner: each image's SBOM (and the image tests' inventory)
COSIGN_VERSION="3.1.3"          # signs each image and attaches its SBOM

STUBS="$(cd "$(dirname "$0")" && pwd)/go-stubs"
PLUGIN_BIN="$LUCID_HOME/plugins/pulumi-resource-docker-build" # not on PATH: Pulumi warns when a plugin comes from PATH
need_cmd go "a Go toolchain is required to build Pulumi and BuildKit here (no release downloads): install Go >= 1.26 and put it on PATH"

# fresh BIN VERSION: true when BIN was built by us at VERSION.
fresh() { [[ -x "$1" && "$(cat "$1.version" 2>/dev/null)" == "$2" ]]; }
version_ge() { [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" == "$2" ]]; }

# Each tool: its binary, version, package, the module it comes from, its version ldflag, and the
# replaces its module needs. pkg/v3 replaces sdk/v3 with a local path (which `go install pkg@v`
# rejects), and the proxy refuses two codegen modules docker-build imports (go-stubs/ stands in).
declare -A BIN VERSION PKG REQUIRE LDFLAG REPLACE
BIN[pulumi]="$LUCID_BIN/pulumi" VERSION[pulumi]="$PULUMI_VERSION"
PKG[pulumi]=github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
REQUIRE[pulumi]="github.com/pulumi/pulumi/pkg/v3 v$PULUMI_VERSION|github.com/pulumi/pulumi/sdk/v3 v$PULUMI_VERSION"
LDFLAG[pulumi]="-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION"
REPLACE[pulumi]="github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e"
BIN[docker-build]="$PLUGIN_BIN" VERSION[docker-build]="$DOCKER_BUILD_VERSION"
PKG[docker-build]=github.com/pulumi/pulumi-docker-build/provider/cmd/pulumi-resource-docker-build
REQUIRE[docker-build]="github.com/pulumi/pulumi-docker-build v$DOCKER_BUILD_VERSION"
LDFLAG[docker-build]="-X github.com/pulumi/pulumi-docker-build/provider.Version=$DOCKER_BUILD_VERSION"
REPLACE[docker-build]="github.com/pulumi/pulumi-dotnet/pulumi-language-dotnet/v3 => $STUBS/dotnet-codegen|github.com/pulumi/pulumi-java => $STUBS/java-codegen"
BIN[buildkitd]="$LUCID_BIN/buildkitd" VERSION[buildkitd]="$BUILDKIT_VERSION"
PKG[buildkitd]=github.com/moby/buildkit/cmd/buildkitd
REQUIRE[buildkitd]="github.com/moby/buildkit v$BUILDKIT_VERSION"
LDFLAG[buildkitd]="-X github.com/moby/buildkit/version.Version=v$BUILDKIT_VERSION"
# buildctl, for the tests' docker-container builder: buildx reaches that builder's buildkitd through
# `buildctl dial-stdio` inside its container.
BIN[buildctl]="$LUCID_BIN/buildctl" VERSION[buildctl]="$BUILDKIT_VERSION"
PKG[buildctl]=github.com/moby/buildkit/cmd/buildctl
REQUIRE[buildctl]="github.com/moby/buildkit v$BUILDKIT_VERSION"
LDFLAG[buildctl]="-X github.com/moby/buildkit/version.Version=v$BUILDKIT_VERSION"
BIN[buildx]="$LUCID_BIN/docker-buildx" VERSION[buildx]="$BUILDX_VERSION"
PKG[buildx]=github.com/docker/buildx/cmd/buildx
REQUIRE[buildx]="github.com/docker/buildx v$BUILDX_VERSION"
LDFLAG[buildx]="-X github.com/docker/buildx/version.Version=v$BUILDX_VERSION"

# (`go install .../compose/v2/cmd@v` is refused: its go.mod has exclude directives.)
BIN[compose]="$LUCID_BIN/docker-compose-v2" VERSION[compose]="$COMPOSE_VERSION"
PKG[compose]=github.com/docker/compose/v2/cmd
REQUIRE[compose]="github.com/docker/compose/v2 v$COMPOSE_VERSION"
LDFLAG[compose]="-X github.com/docker/compose/v2/internal.Version=v$COMPOSE_VERSION"

# Signing (lucid:signing): Syft makes each image's SBOM (the image tests read each image's
# inventory with it too), cosign signs. One build: they share go-containerregistry and sigstore's
# packages, compiled once.
BIN[syft]="$LUCID_BIN/syft" VERSION[syft]="$SYFT_VERSION"
PKG[syft]=github.com/anchore/syft/cmd/syft
REQUIRE[syft]="github.com/anchore/syft v$SYFT_VERSION"
LDFLAG[syft]="-X main.version=$SYFT_VERSION"
BIN[cosign]="$LUCID_BIN/cosign" VERSION[cosign]="$COSIGN_VERSION"
PKG[cosign]=github.com/sigstore/cosign/v3/cmd/cosign
REQUIRE[cosign]="github.com/sigstore/cosign/v3 v$COSIGN_VERSION"
LDFLAG[cosign]="-X sigs.k8s.io/release-utils/version.gitVersion=v$COSIGN_VERSION"

# compile SRC LDFLAGS OUT PKG...: resolve SRC's module, then build PKGs into OUT, a line per
# package compiled ("812/1650 packages compiled: <package>"); in a subshell, for its cd.
compile() (
  local src="$1" ldflags="$2" out="$3" n
  shift 3
  cd "$src" && go mod tidy || return
  n="$(go list -deps "$@" | wc -l)" || return
  # -s -w: no symbol table or DWARF (stack traces keep their names): links in about a third of the
  # time (measured: cosign and Syft, 15.2 s -> 5.6 s) and a quarter smaller
  go build -v -tags osusergo,grpcnotrace -trimpath -ldflags "-s -w $ldflags" -o "$out/" "$@" 2>&1 |
    awk -v n="$n" '/^[^ :#]+$/ { printf "%d/%d packages compiled: %s\n", ++i, n, $0; fflush(); next } { print }'
)

# build NAME TOOL...: the stale ones among TOOLs, in one `go build` from one throwaway module that
# requires them all: one version of every shared dependency, so each shared package compiles once
# for all of them. Its log counts the packages as they compile (the progress line shows it).
# (`go install pkg@version` would be simpler, but this proxy refuses the version list of some
# Pulumi modules, and pkg/v3's local replace is rejected by it.)
build() {
  local name="$1" stale=() t ldflags="" r pkgs=()
  shift
  local src="$LUCID_HOME/src/$name" out="$LUCID_HOME/src/$name/bin"
  for t in "$@"; do fresh "${BIN[$t]}" "${VERSION[$t]}" || stale+=("$t"); done
  ((${#stale[@]})) || return 0
  rm -rf "$src" && mkdir -p "$out"
  { printf 'module lucid.local/tools\n\ngo 1.26\n\n'
    for t in "${stale[@]}"; do
      IFS='|' read -r -a reqs <<<"${REQUIRE[$t]}"
      for r in "${reqs[@]}"; do printf 'require %s\n' "$r"; done
      IFS='|' read -r -a reqs <<<"${REPLACE[$t]:-}"
      for r in "${reqs[@]}"; do printf 'replace %s\n' "$r"; done
      ldflags+="${ldflags:+ }${LDFLAG[$t]}"
    done; } >"$src/go.mod"
  { printf '//go:build tools\n\npackage tools\n\nimport (\n'
    for t in "${stale[@]}"; do printf '\t_ "%s"\n' "${PKG[$t]}"; done
    printf ')\n'; } >"$src/tools.go"
  log "building ${stale[*]} from Go modules (first time only; cached after)"
  for t in "${stale[@]}"; do pkgs+=("${PKG[$t]}"); done
  step "build-$name" compile "$src" "$ldflags" "$out" "${pkgs[@]}" \
    || die "building ${stale[*]} failed; last lines of $LUCID_LOG/build-$name.log:
$(tail -n 15 "$LUCID_LOG/build-$name.log")"
  for t in "${stale[@]}"; do
    mkdir -p "$(dirname "${BIN[$t]}")"
    mv -f "$out/${PKG[$t]##*/}" "${BIN[$t]}"
    echo "${VERSION[$t]}" >"${BIN[$t]}.version"
  done
}

# A Pulumi CLI already installed at this version or newer is used as it is.
installed_pulumi() {
  local have v
  have="$(command -v pulumi || true)"
  [[ -n "$have" && "$have" != "$LUCID_BIN/pulumi" ]] || return 1
  v="$(pulumi version 2>/dev/null | sed 's/^v//')"
  version_ge "$v" "$PULUMI_VERSION" || return 1
  log "using installed pulumi $v at $have"
}

# Pulumi's release archive ships this shim beside the CLI: it hosts Node dynamic providers. The
# CLI looks for it next to its own binary first; ours resolves the SDK from the project
# (LUCID_PROJECT_DIR), since a stack's work directory may be elsewhere.
install_dynamic_provider_shim() {
  cat >"$LUCID_BIN/pulumi-resource-pulumi-nodejs" <<'SH'
#!/bin/sh
# the project's own copy where it is (a node start less on every run), else wherever Node finds one
sdk="${LUCID_PROJECT_DIR:-.}/node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js"
if [ ! -f "$sdk" ]; then
  cd "${LUCID_PROJECT_DIR:-.}" || exit 1
  sdk="$(node -e 'process.stdout.write(require.resolve("@pulumi/pulumi/cmd/dynamic-provider"))')" || exit 1
  cd - >/dev/null || exit 1
fi
exec node "$sdk" "$@"
SH
  chmod +x "$LUCID_BIN/pulumi-resource-pulumi-nodejs"
}

install_plugin() {
  local pulumi; pulumi="$(command -v pulumi)"
  grep -qE "^docker-build +resource +$DOCKER_BUILD_VERSION " <<<"$("$pulumi" plugin ls 2>/dev/null)" \
    || "$pulumi" plugin install resource docker-build "$DOCKER_BUILD_VERSION" --file "$PLUGIN_BIN" \
      >"$LUCID_LOG/plugin-install.log" 2>&1 \
    || die "pulumi plugin install docker-build failed (see $LUCID_LOG/plugin-install.log)"
}

link_buildx() {
  mkdir -p "$HOME/.docker/cli-plugins"
  ln -sf "$LUCID_BIN/docker-buildx" "$HOME/.docker/cli-plugins/docker-buildx"
}

# Two builds: the CLI alone (its dependency versions do not compile with docker-build's), and
# docker-build with buildkitd and buildx, whose versions it already requires (so the three share
# every BuildKit, buildx and Docker package). BuildKit's group comes first: the builder bases need
# BuildKit long before anything needs the CLI.
build_buildkit_group() { build buildkit-group docker-build buildkitd buildx; link_buildx; }
build_pulumi() {
  build_buildkit_group # the plugin the CLI installs
  installed_pulumi || build pulumi-cli pulumi
  install_dynamic_provider_shim
  install_plugin
}
# The plain `pulumi` CLI's Node language host (an official install ships it beside the CLI; the
# lucid CLI needs none: the Automation API hosts the program itself). The proxy refuses its module;
# its upstream source is in ../shared on the machines that have it (CI's among them). Absent, the
# plain-CLI tests say they were skipped and why.
LANGUAGE_HOST_SRC="$(cd "$(dirname "$0")/../.." && pwd)/shared/pulumi-language-nodejs"
build_language_host() {
  local bin="$LUCID_BIN/pulumi-language-nodejs" stamp
  if [[ ! -f "$LANGUAGE_HOST_SRC/build.sh" ]]; then
    log "no $LANGUAGE_HOST_SRC on this machine: no Node language host, the plain-CLI tests will be skipped"
    return 0
  fi
  stamp="$(cat "$LANGUAGE_HOST_SRC"/build.sh "$LANGUAGE_HOST_SRC"/go.* "$LANGUAGE_HOST_SRC"/*.go | sha256sum | cut -c1-16)"
  fresh "$bin" "$stamp" && return 0
  log "building the Node language host from $LANGUAGE_HOST_SRC (first time only; cached after)"
  step build-language-host bash "$LANGUAGE_HOST_SRC/build.sh" "$LUCID_BIN" \
    || die "building the Node language host failed; last lines of $LUCID_LOG/build-language-host.log:
$(tail -n 15 "$LUCID_LOG/build-language-host.log")"
  echo "$stamp" >"$bin.version"
}

# The tests' MongoDB: FerretDB (wire protocol, SQLite storage) through its embeddable package, from
# tests/support/ferretdb (its own module: FerretDB's command needs a generated version file the
# module proxy's copy lacks). Static, for a scratch image (tests/support/mongo.ts).
FERRETDB_SRC="$(cd "$(dirname "$0")/.." && pwd)/tests/support/ferretdb"
build_ferretdb() {
  local bin="$LUCID_BIN/ferretdb-test" stamp
  stamp="$(cat "$FERRETDB_SRC"/go.mod "$FERRETDB_SRC"/go.sum "$FERRETDB_SRC"/*.go | sha256sum | cut -c1-16)"
  fresh "$bin" "$stamp" && return 0
  log "building FerretDB, the tests' MongoDB (first time only; cached after)"
  (cd "$FERRETDB_SRC" && CGO_ENABLED=0 step build-ferretdb go build -trimpath -ldflags "-s -w" -o "$bin" .) ||
    die "building FerretDB failed; last lines of $LUCID_LOG/build-ferretdb.log:
$(tail -n 15 "$LUCID_LOG/build-ferretdb.log")"
  echo "$stamp" >"$bin.version"
}

case "${1:-all}" in
  all | pulumi) build_pulumi ;;
  buildkit) build_buildkit_group ;;
  compose) build compose-v2 compose ;;
  language-host) build_language_host ;;
  ferretdb) build_ferretdb ;;
  buildctl) build buildctl buildctl ;;
  signing) build signing syft cosign ;;
  *) die "go-tools.sh: unknown part '$1' (all | buildkit: buildkitd, buildx and the docker-build plugin | pulumi: the CLI, after those | compose: Compose v2 | language-host: the plain CLI's Node language host | ferretdb: the tests' MongoDB | buildctl: for the tests' docker-container builder | signing: Syft and cosign)" ;;
esac
