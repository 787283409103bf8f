#!/usr/bin/env bash
# Go-built tools: the Pulumi CLI, the docker-build provider plugin, buildkitd and buildx.
# None is downloadable here as a release; all are Go modules on the module proxy. Each build is
# cached (GOMODCACHE, GOCACHE, and a stamp per binary), so a warm run takes a second.
source "$(dirname "$0")/lib.sh"

PULUMI_VERSION="3.274.1"
DOCKER_BUILD_VERSION="0.0.22"   # = `npm view @pulumi/docker-build pulumi.version`
BUILDKIT_VERSION="0.31.0"       # the versions docker-build 0.0.22 embeds
BUILDX_VERSION="0.35.0"

STUBS="$(cd "$(dirname "$0")" && pwd)/go-stubs"
need_cmd go "a Go toolchain is required to build Pulumi and BuildKit here (no release downloads): install Go >= 1.26 and put it on PATH"

# fresh BIN VERSION: true when BIN was built by us at VERSION.
fresh() { [[ -x "$1" && "$(cat "$1.version" 2>/dev/null)" == "$2" ]]; }
stamp() { echo "$2" >"$1.version"; }

go_build() { # go_build LOGNAME CMD... with the log kept for a clear error
  local name="$1"; shift
  log "building $name (first time only; cached after)"
  "$@" >"$LUCID_LOG/build-$name.log" 2>&1 \
    || die "building $name failed; last lines of $LUCID_LOG/build-$name.log:
$(tail -n 15 "$LUCID_LOG/build-$name.log")"
}

version_ge() { [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" == "$2" ]]; }

# wrapper_build NAME OUT PKG LDFLAGS REQUIRE... : build PKG from a throwaway module that requires
# the given module@versions. `go install pkg@version` would be simpler, but it asks the proxy
# for the module's version list, which this proxy refuses for some Pulumi modules; and pkg/v3
# replaces sdk/v3 with a local path, which `go install` rejects.
wrapper_build() {
  local name="$1" out="$2" pkg="$3" ldflags="$4"; shift 4
  local src="$LUCID_HOME/src/$name" req
  mkdir -p "$src"
  { printf 'module lucid.local/%s\n\ngo 1.26\n\n' "$name"
    for req in "$@"; do
      case "$req" in replace:*) printf 'replace %s\n' "${req#replace:}" ;; *) printf 'require %s\n' "$req" ;; esac
    done; } >"$src/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$pkg" >"$src/tools.go"
  go_build "$name" bash -c "cd '$src' && go mod tidy && go build -tags osusergo,grpcnotrace -trimpath \
    -ldflags '$ldflags' -o '$out' '$pkg'"
}

build_pulumi() {
  local have
  have="$(command -v pulumi || true)"
  if [[ -n "$have" && "$have" != "$LUCID_BIN/pulumi" ]]; then
    local v; v="$(pulumi version 2>/dev/null | sed 's/^v//')"
    if version_ge "$v" "$PULUMI_VERSION"; then log "using installed pulumi $v at $have"; return 0; fi
  fi
  fresh "$LUCID_BIN/pulumi" "$PULUMI_VERSION" && return 0
  wrapper_build pulumi-cli "$LUCID_BIN/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
    "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
    "github.com/pulumi/pulumi/pkg/v3 v$PULUMI_VERSION" "github.com/pulumi/pulumi/sdk/v3 v$PULUMI_VERSION" \
    "replace:github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e"
  stamp "$LUCID_BIN/pulumi" "$PULUMI_VERSION"
}

# Pulumi's release archive ships this shim beside the CLI: it hosts Node dynamic providers. The
# CLI looks for it next to its own binary first; ours resolves the SDK from the project
# (LUCID_PROJECT_DIR), since a stack's work directory may be elsewhere.
install_dynamic_provider_shim() {
  cat >"$LUCID_BIN/pulumi-resource-pulumi-nodejs" <<'SH'
#!/bin/sh
cd "${LUCID_PROJECT_DIR:-.}" || exit 1
sdk="$(node -e 'process.stdout.write(require.resolve("@pulumi/pulumi/cmd/dynamic-provider"))')" || exit 1
cd - >/dev/null || exit 1
exec node "$sdk" "$@"
SH
  chmod +x "$LUCID_BIN/pulumi-resource-pulumi-nodejs"
}

build_docker_build_plugin() {
  local bin="$LUCID_HOME/plugins/pulumi-resource-docker-build"
  mkdir -p "$LUCID_HOME/plugins" # not on PATH: Pulumi warns when a plugin comes from PATH
  fresh "$bin" "$DOCKER_BUILD_VERSION" || {
    wrapper_build docker-build "$bin" \
      github.com/pulumi/pulumi-docker-build/provider/cmd/pulumi-resource-docker-build \
      "-X github.com/pulumi/pulumi-docker-build/provider.Version=$DOCKER_BUILD_VERSION" \
      "github.com/pulumi/pulumi-docker-build v$DOCKER_BUILD_VERSION" \
      "replace:github.com/pulumi/pulumi-dotnet/pulumi-language-dotnet/v3 => $STUBS/dotnet-codegen" \
      "replace:github.com/pulumi/pulumi-java => $STUBS/java-codegen"
    stamp "$bin" "$DOCKER_BUILD_VERSION"
  }
  grep -qE "^docker-build +resource +$DOCKER_BUILD_VERSION " <<<"$("$LUCID_BIN/pulumi" plugin ls 2>/dev/null)" \
    || "$LUCID_BIN/pulumi" plugin install resource docker-build "$DOCKER_BUILD_VERSION" --file "$bin" \
      >"$LUCID_LOG/plugin-install.log" 2>&1 \
    || die "pulumi plugin install docker-build failed (see $LUCID_LOG/plugin-install.log)"
}

build_buildkit() {
  fresh "$LUCID_BIN/buildkitd" "$BUILDKIT_VERSION" || {
    wrapper_build buildkitd "$LUCID_BIN/buildkitd" github.com/moby/buildkit/cmd/buildkitd \
      "-X github.com/moby/buildkit/version.Version=v$BUILDKIT_VERSION" \
      "github.com/moby/buildkit v$BUILDKIT_VERSION"
    stamp "$LUCID_BIN/buildkitd" "$BUILDKIT_VERSION"
  }
  fresh "$LUCID_BIN/docker-buildx" "$BUILDX_VERSION" || {
    wrapper_build buildx "$LUCID_BIN/docker-buildx" github.com/docker/buildx/cmd/buildx \
      "-X github.com/docker/buildx/version.Version=v$BUILDX_VERSION" \
      "github.com/docker/buildx v$BUILDX_VERSION"
    stamp "$LUCID_BIN/docker-buildx" "$BUILDX_VERSION"
  }
  mkdir -p "$HOME/.docker/cli-plugins"
  ln -sf "$LUCID_BIN/docker-buildx" "$HOME/.docker/cli-plugins/docker-buildx"
}

case "${1:-all}" in
  pulumi) build_pulumi; install_dynamic_provider_shim ;;
  plugins) build_docker_build_plugin ;;
  buildkit) build_buildkit ;;
  all) build_pulumi; install_dynamic_provider_shim; build_docker_build_plugin; build_buildkit ;;
  *) die "go-tools.sh: unknown part '$1' (pulumi | plugins | buildkit | all)" ;;
esac
