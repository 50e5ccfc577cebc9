//! shoe-producer: random `Shoe` events, Protobuf in Confluent's wire format, produced to Kafka.
//!
//! The layers, from the top. Each line names the only layers its code may use; a test
//! (`tests/it/layers.rs`) reads this list and fails when an import crosses it.
//!
//! - [`commands`] (uses app, producer, registry, kafka, shoe, settings, support) — `produce` (run
//!   control, rate, shutdown, progress, summary, metrics), `check`, `register`, `sample`,
//!   `completions` and the man page. `main` resolves the configuration through `app` and hands it here.
//! - [`app`] (uses settings, support) — the command line, the configuration sources (flags >
//!   environment > `--config` file > defaults) resolved and validated into plain settings, logging.
//! - [`producer`] (uses kafka, settings, support) — the batching engine: partitioner, accumulator,
//!   the memory bound, a sender per partition, a sink per broker over a transport, delivery stats.
//! - [`registry`] (uses shoe, settings, support) — the Schema Registry HTTP client, subject naming
//!   and schema-id resolution.
//! - [`kafka`] (uses settings, support) — broker connections (TLS, SASL) over rskafka's connection
//!   layer, metadata, admin, the protocol messages this client writes itself.
//! - [`shoe`] (uses nothing) — the `Shoe` type, its schema facts, Confluent's wire framing and the
//!   seeded generator.
//! - [`settings`] (uses support) — the resolved settings as plain data, and the exit codes.
//! - [`support`] (uses nothing) — small parts every layer shares: secrets, TLS trust, random seeds,
//!   backoff.
//!
//! The path of one record: `commands::produce` asks the generator for the next shoe, frames it
//! (`0x00 | schema id | message indexes | protobuf`), and hands key and value to the producer handle,
//! which picks the partition and appends the record to that partition's open batch, waiting only
//! when buffer memory is full. The partition's sender closes the batch on linger or size and hands it
//! to the sink of the broker leading the partition, which sends it in one produce request with the
//! ready batches of every other partition that broker leads; the sender reports the outcome once —
//! acked with its offset, or failed with a reason — to the stats that progress lines, metrics and the
//! summary read.

#![warn(unreachable_pub)]

pub mod app;
pub mod commands;
pub mod kafka;
pub mod producer;
pub mod registry;
pub mod settings;
pub mod shoe;
pub mod support;
