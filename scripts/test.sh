#!/usr/bin/env bash
# Runs the whole test suite against the local stack (a real Kafka broker and a real Schema Registry),
# bringing the stack up first if it is not running. Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/local-stack.sh up
eval "$(scripts/local-stack.sh env)"

# Test binaries run one after another; tests inside one binary run in parallel on their own topics.
cargo test --locked "$@"
