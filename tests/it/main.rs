//! The integration tests, one binary. Modules that need the local stack (a real Kafka broker and a
//! real Schema Registry) mark their tests `#[ignore]` with the reason, so a plain `cargo test` runs
//! only the hermetic ones and lists the others as ignored; `scripts/test.sh` brings the stack up and
//! runs them all with `--include-ignored`, and then a missing stack fails them loudly. Tests that take
//! a stack component down live in [`disruptive`] and run alone.

mod support;

mod cli_bad_input;
mod commands;
mod disruptive;
mod engine;
mod engine_connect;
mod generator_golden;
mod hostile_registry;
mod idempotence;
mod layers;
mod local_stack;
mod managed;
mod output;
mod producer_binary;
mod producer_run;
mod proxy_faults;
mod run_control;
mod scale_out;
mod schema_registry;
mod scram;
mod terminal_color;
mod wire_vectors;
