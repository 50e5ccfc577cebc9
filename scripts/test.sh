#!/usr/bin/env bash
# Runs the whole test suite against the local stack (a real Kafka broker and a real Schema Registry):
# installs the system packages the stack and the build need when they are missing
# (scripts/prerequisites.sh; as root, or it prints the command to run) and brings the stack up if it is
# not running. LOCAL_STACK_BROKERS=3 runs the suite against three brokers.
#
#   scripts/test.sh                       every test
#   scripts/test.sh FILTER… [-- ARGS…]    only tests whose name contains a FILTER, one at a time;
#                                         ARGS go to the test harness (e.g. -- --nocapture)
#
# A plain `cargo test` runs only the hermetic tests and lists the stack tests as ignored; here they all
# run (`--include-ignored`). Tests that take a stack component down (`disruptive::…`) run after the
# rest, alone and one at a time, so no other test sees their outages.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/prerequisites.sh
scripts/local-stack.sh up
eval "$(scripts/local-stack.sh env)"

filters=() harness=()
separator_seen=false
for arg in "$@"; do
  if [[ $separator_seen == false && $arg == "--" ]]; then separator_seen=true
  elif [[ $separator_seen == true ]]; then harness+=("$arg")
  else filters+=("$arg")
  fi
done

if (( ${#filters[@]} > 0 )); then
  cargo test --locked -- --include-ignored --test-threads=1 "${harness[@]}" "${filters[@]}"
  exit
fi
cargo test --locked -- --include-ignored --skip disruptive:: "${harness[@]}"
scripts/local-stack.sh up >/dev/null
cargo test --locked --test it -- --include-ignored --test-threads=1 "${harness[@]}" disruptive::
