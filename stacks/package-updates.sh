#!/bin/sh
# package-updates.sh NAME[:ARCH]=VERSION...   (run by `lucid updates` in a container of the
# stack's builder base: its apt sources are the images', the release, -updates and -security)
# Reads the suites' current package lists, then prints a line for each package whose suites have
# a newer version than the one given:
#   NAME[:ARCH] VERSION CANDIDATE SUITE[,SUITE...]
# (the suites the candidate comes from, e.g. bookworm-security). Prints nothing when all are
# current. A package no suite has any more is printed with the candidate "(none)".
set -eu
native="$(dpkg --print-architecture)"
for p in "$@"; do
  arch="${p%%=*}"
  case "$arch" in *:*) arch="${arch#*:}" ;; *) continue ;; esac
  [ "$arch" = "$native" ] || dpkg --add-architecture "$arch"
done
apt-get update -qq >/tmp/apt-update.log 2>&1 || {
  echo "package-updates: apt-get update failed:" >&2
  tail -n 5 /tmp/apt-update.log >&2
  exit 1
}
for p in "$@"; do
  pkg="${p%%=*}" have="${p#*=}"
  # The candidate, then the suites of its lines in the version table ("500 URL SUITE/main ...").
  apt-cache policy "$pkg" | awk -v pkg="$pkg" -v have="$have" '
    /^  Candidate: / { cand = $2 }
    /^ (\*\*\*|   ) [^ ]+ [0-9]+$/ { inblock = ($(NF - 1) == cand) ; next }
    inblock && / [a-z]+:\/\// { n = split($3, s, "/"); suites = suites (suites ? "," : "") s[1] }
    END { print pkg, have, (cand && cand != "(none)" ? cand : "(none)"), (suites ? suites : "-") }
  '
done | while read -r pkg have cand suites; do
  if [ "$cand" = "(none)" ] || dpkg --compare-versions "$have" lt "$cand"; then
    echo "$pkg $have $cand $suites"
  fi
done
