#!/usr/bin/env bash
# Runs shoe-producer against the local stack, bringing the stack up first if needed.
# Arguments go to shoe-producer, e.g. `scripts/run-local.sh --count 100000` or `scripts/run-local.sh check`.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/local-stack.sh up
eval "$(scripts/local-stack.sh env)"
cargo build --release --locked --quiet
exec target/release/shoe-producer "$@"
