# shellcheck shell=bash
# Compose on the Pi, either generation: the v2 plugin (`docker compose`) when the Pi has it, else
# docker-compose 1.29. Sourced by rollout.sh and teardown.sh; the provider sends it before them.
# Needs: $project. Sets: compose_cmd.

# Picks the generation; on a Pi with neither, says what to install (exit 69, EX_UNAVAILABLE).
pick_compose() {
  if docker compose version >/dev/null 2>&1; then
    compose_cmd=(docker compose)
  elif command -v docker-compose >/dev/null 2>&1; then
    compose_cmd=(docker-compose)
  else
    echo "lucid: the Pi has no Docker Compose: install the Compose v2 plugin (Debian: docker-compose-plugin or docker-compose >= 2; or Docker's install script) or docker-compose 1.29; nothing was changed" >&2
    exit 69
  fi
}

# compose RELEASE_DIR ARGS...: compose on that release's file, in the project, in a subshell
# given the release's secret variables (release_environment). Only `up` needs their values: it
# refuses a release whose values cannot all be read; every other command (ps, logs, config, down)
# goes on without them, so a damaged `environment` never blocks a rollback or a teardown. (v2
# warns on every call that the file's `version:` is obsolete; 1.29 needs it: that one warning is
# dropped.)
compose() {
  local r="$1"
  shift
  local cmd=("${compose_cmd[@]}" --ansi never -p "${project:?}" -f "$r/docker-compose.yml" "$@")
  (
    if [ "$1" = up ]; then
      release_environment "$r" || exit 1
    else
      release_environment "$r" 2>/dev/null || true
    fi
    if [ "${compose_cmd[0]}" = docker ]; then
      # shellcheck disable=SC2016 # the backquotes are the message's own
      "${cmd[@]}" 2> >(grep -v -e 'the attribute `version` is obsolete' -e 'LUCID_ENV_.* variable is not set' >&2)
    else
      "${cmd[@]}" 2> >(grep -v 'LUCID_ENV_.* variable is not set' >&2)
    fi
  )
}

# release_environment RELEASE_DIR: exports each line of its `environment` file, LUCID_ENV_<x>=<value>,
# the value byte for byte (read -r, IFS empty: nothing stripped, nothing expanded). The compose
# file names them as `${LUCID_ENV_<x>}`: compose interpolates each once, and no dotenv parser of
# either generation reads a value. Fails, naming no value, on a line of another shape (by its
# number alone: it may hold a secret), and when a variable the compose file names is not in the
# file (compose would give the service an empty secret). A release of an older provider names
# none and has no such file.
release_environment() {
  local f="$1/environment" line n=0 name
  if [ -f "$f" ]; then
    while IFS= read -r line || [ -n "$line" ]; do
      n=$((n + 1))
      if [[ ! "$line" =~ ^(LUCID_ENV_[A-Za-z0-9_]+)= ]]; then
        echo "lucid: $f, line $n: not LUCID_ENV_<name>=<value> (the line is not shown: it may hold a secret)" >&2
        return 1
      fi
      export "${BASH_REMATCH[1]}=${line#*=}"
    done <"$f"
  fi
  for name in $(grep -oE '[{]LUCID_ENV_[A-Za-z0-9_]+[}]' "$1/docker-compose.yml" | tr -d '{}' | sort -u); do
    if [ -z "${!name+set}" ]; then
      echo "lucid: $f has no $name, which $1/docker-compose.yml names: the release's secret environment is incomplete" >&2
      return 1
    fi
  done
}

# project_containers [SERVICE]: ids of the project's containers (of one service), whichever
# generation made them: by label, and by name (1.29's `p_svc_1`, v2's `p-svc-1`) for any that lost
# their labels. Fails when Docker does.
project_containers() {
  local svc="${1:-}" label v1 v2
  label="label=com.docker.compose.project=$project"
  if [ -n "$svc" ]; then
    v1="name=^/${project}_${svc}_[0-9]+\$" v2="name=^/${project}-${svc}-[0-9]+\$"
    {
      docker ps -aq --filter "$label" --filter "label=com.docker.compose.service=$svc" &&
        docker ps -aq --filter "$v1" && docker ps -aq --filter "$v2"
    } | sort -u
  else
    docker ps -aq --filter "$label"
  fi
}
