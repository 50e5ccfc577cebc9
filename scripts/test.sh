#!/usr/bin/env bash
# Runs the whole test suite against the local stack (a real Kafka broker and a real Schema Registry):
# installs the system packages the stack and the build need when they are missing
# (scripts/prerequisites.sh; as root, or it prints the command to run), brings the stack up if it is
# not running, then runs cargo test. Extra arguments go to `cargo test`; LOCAL_STACK_BROKERS=3 runs the
# suite against three brokers.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/prerequisites.sh
scripts/local-stack.sh up
eval "$(scripts/local-stack.sh env)"
# The integration tests run only when this is set, and then fail loudly if the stack is missing.
export SHOE_PRODUCER_STACK_TESTS=1

# Test binaries run one after another; tests inside one binary run in parallel on their own topics.
cargo test --locked "$@"
