#!/usr/bin/env bash
# prerequisites.sh — the one list of system tools that the local stack and the build need, and the
# Debian packages that provide them. scripts/run-local.sh, scripts/test.sh and .ci/run install through
# it; scripts/local-stack.sh only checks through it, so every requirement is written down here once.
#
# Usage: scripts/prerequisites.sh [--check] [GROUP...]
#   GROUP    stack     what scripts/local-stack.sh runs (Java 17+, nginx, openssl, curl, ...)
#            download  what its first run needs to fetch the Kafka and Apicurio jars (Maven, a JDK's jar)
#            build     what cargo needs besides Rust itself (a C compiler for the crypto and compression crates)
#            (default: all three)
#   --check  only report: never install.
# When something is missing: as root on Debian/Ubuntu it runs `apt-get update` and `apt-get install`;
# otherwise (or with --check) it prints one line with the exact command to run and exits 1.
# Exit codes: 0 everything present (or installed); 1 something missing; 2 usage error.
set -euo pipefail

readonly PROG="scripts/prerequisites.sh"
readonly JAVA_MIN=17

# GROUP  COMMAND    DEBIAN PACKAGES (all of them; "a|b": the first one apt can install; "-": not from apt)
readonly TABLE="
stack     java       openjdk-17-jdk-headless|default-jdk-headless
stack     nginx      nginx-light|nginx
stack     openssl    openssl
stack     curl       curl
stack     setsid     util-linux
stack     flock      util-linux
stack     timeout    coreutils
stack     sha256sum  coreutils
stack     tar        tar
stack     ss         iproute2
stack     ps         procps
download  mvn        maven
download  jar        openjdk-17-jdk-headless|default-jdk-headless
build     cc         gcc libc6-dev
build     cargo      -
"

say() { printf '%s\n' "$*"; }
die() { printf '%s: %s\n' "$PROG" "$*" >&2; exit 1; }

java_major() { # the major version of the java on PATH (8 for 1.8), empty if none
  java -version 2>&1 | sed -n 's/.*version "\(1\.\)\{0,1\}\([0-9]*\).*/\2/p' | head -n1
}

present() { # command
  command -v "$1" >/dev/null 2>&1 || return 1
  if [[ "$1" == java ]]; then
    local v
    v="$(java_major)"
    [[ -n "$v" && "$v" -ge "$JAVA_MIN" ]] || return 1
  fi
  return 0
}

has_candidate() { # package: apt knows a version it could install (or it is installed)
  local c
  c="$(apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: *//p' | head -n1)"
  [[ -n "$c" && "$c" != "(none)" ]]
}

pick() { # "a|b|c" → the first alternative apt can install; the first one when apt knows none of them
  local alt
  local -a alts
  IFS='|' read -r -a alts <<<"$1"
  if command -v apt-cache >/dev/null 2>&1; then
    for alt in "${alts[@]}"; do
      if has_candidate "$alt"; then printf '%s\n' "$alt"; return 0; fi
    done
  fi
  printf '%s\n' "${alts[0]}"
}

CHECK_ONLY=0
GROUPS_WANTED=()
for arg in "$@"; do
  case "$arg" in
    --check) CHECK_ONLY=1 ;;
    stack | download | build) GROUPS_WANTED+=("$arg") ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) printf '%s: unknown argument %s (groups: stack download build; option: --check)\n' "$PROG" "$arg" >&2; exit 2 ;;
  esac
done
((${#GROUPS_WANTED[@]})) || GROUPS_WANTED=(stack download build)

# What is missing: commands, the package specs that provide them, and those no package provides.
MISSING=()
SPECS=()
MANUAL=()
collect_missing() {
  MISSING=() SPECS=() MANUAL=()
  local group cmd spec wanted
  while read -r group cmd spec; do
    [[ -n "$group" ]] || continue
    for wanted in "${GROUPS_WANTED[@]}"; do
      [[ "$group" == "$wanted" ]] || continue
      present "$cmd" && continue
      [[ " ${MISSING[*]} " == *" $cmd "* ]] && continue
      MISSING+=("$cmd")
      # shellcheck disable=SC2206 # "gcc libc6-dev" is a list of specs on purpose
      if [[ "$spec" == - ]]; then MANUAL+=("$cmd"); else SPECS+=($spec); fi
    done
  done <<<"$TABLE"
}

describe_missing() { # "nginx, mvn" (java says which version it found)
  local out="" cmd v
  for cmd in "${MISSING[@]}"; do
    if [[ "$cmd" == java ]] && command -v java >/dev/null 2>&1; then
      v="$(java_major)"
      cmd="java $JAVA_MIN+ (found ${v:-an unknown version})"
    fi
    out+="${out:+, }$cmd"
  done
  printf '%s' "$out"
}

packages() { # the resolved, de-duplicated package list for SPECS
  local spec p out=()
  for spec in "${SPECS[@]}"; do
    p="$(pick "$spec")"
    [[ " ${out[*]} " == *" $p "* ]] || out+=("$p")
  done
  printf '%s\n' "${out[*]}"
}

manual_advice() {
  ((${#MANUAL[@]})) || return 0
  printf 'install a Rust toolchain with rustup for %s (see the README)' "${MANUAL[*]}"
}

collect_missing
((${#MISSING[@]})) || exit 0

if ((${#SPECS[@]} == 0)); then
  die "missing $(describe_missing): $(manual_advice)"
fi

PKGS="$(packages)"
if ! command -v apt-get >/dev/null 2>&1; then
  die "missing $(describe_missing): install them with your system's package manager (Debian names: $PKGS)${MANUAL:+; $(manual_advice)}"
fi
if ((CHECK_ONLY)) || [[ $EUID -ne 0 ]]; then
  run="run: apt-get update && apt-get install -y --no-install-recommends $PKGS"
  if [[ $EUID -ne 0 ]] && command -v sudo >/dev/null 2>&1; then
    run="run: sudo apt-get update && sudo apt-get install -y --no-install-recommends $PKGS"
  elif [[ $EUID -ne 0 ]]; then
    run="as root, $run"
  fi
  die "missing $(describe_missing); $run${MANUAL:+; and $(manual_advice)}"
fi

say "==> installing Debian packages for $(describe_missing): $PKGS"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! apt-get update -qq >"$log" 2>&1; then
  tail -n 20 "$log" >&2
  die "apt-get update failed (output above)"
fi
PKGS="$(packages)" # the package lists are fresh now: pick the alternatives again
# shellcheck disable=SC2086 # a list of package names
if ! apt-get install -y -qq --no-install-recommends $PKGS >"$log" 2>&1; then
  tail -n 20 "$log" >&2
  die "apt-get install $PKGS failed (output above)"
fi
hash -r
collect_missing
((${#MISSING[@]} == 0)) || die "still missing after installing $PKGS: $(describe_missing)${MANUAL:+; $(manual_advice)}"
say "==> installed: $PKGS"
