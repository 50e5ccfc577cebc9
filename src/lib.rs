//! shoe-producer: random `Shoe` events, Protobuf in Confluent's wire format, produced to Kafka.
//!
//! The layers, from the top (each uses only those below it):
//!
//! - [`app`] — the command line, the configuration sources resolved into plain settings, exit codes,
//!   logging.
//! - [`commands`] — `produce` (run control, rate, shutdown, progress, summary, metrics), `check`,
//!   `register`, `sample`, `completions` and the man page.
//! - [`shoe`] — the `Shoe` type, its schema facts, Confluent's wire framing and the seeded generator.
//! - [`registry`] — the Schema Registry HTTP client, subject naming and schema-id resolution.
//! - [`producer`] — the batching engine: partitioner, accumulator, record batches, the memory
//!   bound, the sender over a transport, delivery reports.
//! - [`kafka`] — broker connections (TLS, SASL) over rskafka's connection layer, metadata, admin.
//! - [`support`] — small parts every layer shares: secrets, TLS trust, random seeds.
//!
//! The path of one record: `commands::produce` asks the generator for the next shoe, frames it
//! (`0x00 | schema id | message indexes | protobuf`), and hands key and value to the producer handle,
//! which picks the partition and appends the record to that partition's open batch, waiting only
//! when buffer memory is full. The partition's sender closes the batch on linger or size, sends it to
//! the leader as a produce request and reports the outcome once — acked with its offset, or failed
//! with a reason — to the counters that progress lines, metrics and the summary read.

pub mod app;
pub mod commands;
pub mod kafka;
pub mod producer;
pub mod registry;
pub mod shoe;
pub mod support;
