#!/usr/bin/env bash
# Runs shoe-producer against the local stack: installs the system packages the stack and the build need
# when they are missing (scripts/prerequisites.sh; as root, or it prints the command to run), brings the
# stack up if needed, builds the release binary and runs it. Arguments go to shoe-producer, e.g.
# `scripts/run-local.sh --count 100000` or `scripts/run-local.sh check`; LOCAL_STACK_BROKERS=3 runs it
# against three brokers.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/prerequisites.sh
scripts/local-stack.sh up
eval "$(scripts/local-stack.sh env)"
cargo build --release --locked --quiet
exec target/release/shoe-producer "$@"
