//! The integration tests, one binary. Modules that need the local stack (a real Kafka broker and a
//! real Schema Registry) mark their tests `#[ignore]` with the reason, so a plain `cargo test` runs
//! only the hermetic ones and lists the others as ignored; `scripts/test.sh` brings the stack up and
//! runs them all with `--include-ignored`, and then a missing stack fails them loudly.

mod support;

mod cli_bad_input;
mod commands;
mod engine;
mod engine_connect;
mod faults;
mod generator_golden;
mod idempotence;
mod local_stack;
mod producer_binary;
mod producer_run;
mod proxy_faults;
mod run_control;
mod schema_registry;
mod wire_vectors;
