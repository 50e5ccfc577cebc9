#!/usr/bin/env bash
# Runs the whole test suite against the local stack (a real Kafka broker and a real Schema Registry):
# installs the system packages the stack and the build need when they are missing
# (scripts/prerequisites.sh; as root, or it prints the command to run) and brings the stack up if it is
# not running.
#
#   scripts/test.sh                       every test
#   scripts/test.sh FILTER… [-- ARGS…]    only tests whose name contains a FILTER, one at a time, on the
#                                         stack LOCAL_STACK_BROKERS names (1 by default); ARGS go to the
#                                         test harness (e.g. -- --nocapture)
#
# A plain `cargo test` runs only the hermetic tests and lists the stack tests as ignored; here they all
# run (`--include-ignored`), in three phases:
#   1. everything but `disruptive::…`, in parallel, on the single-broker stack;
#   2. `disruptive::…` (they stop and kill brokers) but the leader moves, alone and one at a time;
#   3. `disruptive::three_brokers::…` on the three-broker stack (LOCAL_STACK_BROKERS=3), which this
#      script starts after taking the single-broker stack down, and takes down at the end;
#   4. `managed::…` (managed-Kafka conditions: SASL sessions that end every 10 s, a produce quota on
#      the stack's user) on a single-broker stack of its own, one test at a time (.local-stack-managed, LOCAL_STACK_KAFKA_CONFIG=connections.max.reauth.ms=10000);
#   5. the end-to-end tests (`producer_binary::`) against the oldest and the newest Kafka this project
#      supports (COMPAT_KAFKA_VERSIONS), each on a fresh single-broker stack of that version in a state
#      folder of its own (.local-stack-compat/VERSION), taken down after its run.
# Phases 2 and 3 show their tests' output (--nocapture: one test at a time, so nothing interleaves): the
# summaries and read-back counts of the broker-kill runs.
set -euo pipefail
cd "$(dirname "$0")/.."

# The broker versions the README's compatibility line names: the oldest and the newest supported.
readonly COMPAT_KAFKA_VERSIONS=(3.9.1 4.4.0)

scripts/prerequisites.sh

filters=() harness=()
separator_seen=false
for arg in "$@"; do
  if [[ $separator_seen == false && $arg == "--" ]]; then separator_seen=true
  elif [[ $separator_seen == true ]]; then harness+=("$arg")
  else filters+=("$arg")
  fi
done

if (( ${#filters[@]} > 0 )); then
  scripts/local-stack.sh up
  eval "$(scripts/local-stack.sh env)"
  cargo test --locked -- --include-ignored --test-threads=1 "${harness[@]}" "${filters[@]}"
  exit
fi

show_output=(--nocapture) # for phases 2 and 3, unless ARGS asked for it already (libtest refuses it twice)
[[ " ${harness[*]} " != *" --nocapture "* ]] || show_output=()

export LOCAL_STACK_BROKERS=1
scripts/local-stack.sh up
eval "$(scripts/local-stack.sh env)"
cargo test --locked -- --include-ignored --skip disruptive:: --skip managed:: "${harness[@]}"
scripts/local-stack.sh up >/dev/null
cargo test --locked --test it -- --include-ignored --test-threads=1 "${show_output[@]}" \
  --skip disruptive::three_brokers:: "${harness[@]}" disruptive::

scripts/local-stack.sh down
export LOCAL_STACK_BROKERS=3
scripts/local-stack.sh up
eval "$(scripts/local-stack.sh env)"
cargo test --locked --test it -- --include-ignored --test-threads=1 "${show_output[@]}" "${harness[@]}" \
  disruptive::three_brokers::
scripts/local-stack.sh down

echo "==> managed-Kafka conditions: SASL sessions that end every 10 s, a produce quota"
(
  export LOCAL_STACK_BROKERS=1 LOCAL_STACK_DIR="$PWD/.local-stack-managed"
  export LOCAL_STACK_KAFKA_CONFIG="connections.max.reauth.ms=10000"
  trap 'scripts/local-stack.sh down >/dev/null || true' EXIT
  scripts/local-stack.sh up
  eval "$(scripts/local-stack.sh env)"
  cargo test --locked --test it -- --include-ignored --test-threads=1 "${show_output[@]}" "${harness[@]}" \
    managed::
)

for version in "${COMPAT_KAFKA_VERSIONS[@]}"; do
  echo "==> end-to-end tests against Kafka $version"
  (
    export LOCAL_STACK_BROKERS=1 LOCAL_STACK_KAFKA_VERSION="$version"
    export LOCAL_STACK_DIR="$PWD/.local-stack-compat/$version"
    trap 'scripts/local-stack.sh down >/dev/null || true' EXIT
    scripts/local-stack.sh up
    eval "$(scripts/local-stack.sh env)"
    cargo test --locked --test it -- --include-ignored --test-threads=1 "${harness[@]}" producer_binary::
  )
done
