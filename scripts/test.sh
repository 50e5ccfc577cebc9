#!/usr/bin/env bash
# Runs the whole test suite against the local stack (a real Kafka broker and a real Schema Registry),
# bringing the stack up first if it is not running. Extra arguments go to `cargo test`; the stack tests,
# which a plain `cargo test` lists as ignored, run here (`--include-ignored`).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/local-stack.sh up
eval "$(scripts/local-stack.sh env)"

# Tests inside the one integration binary run in parallel, each on its own topics and subjects.
if [[ " $* " == *" -- "* ]]; then
  cargo test --locked "$@" --include-ignored
else
  cargo test --locked "$@" -- --include-ignored
fi
