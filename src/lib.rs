//! shoe-producer: random `Shoe` events, Protobuf in Confluent's wire format, produced to Kafka.
//!
//! Data flows one way: generator → serializer (prost + frame) → producer handle (enqueue,
//! backpressure) → per-partition record batch → produce request on rskafka's broker connection →
//! delivery report → counters/metrics/logs.

pub mod cli;
pub mod commands;
pub mod config;
pub mod delivery;
pub mod exit;
pub mod generator;
pub mod kafka;
pub mod logging;
pub mod metrics;
pub mod producer;
pub mod progress;
pub mod random_seed;
pub mod rate;
pub mod run;
pub mod run_control;
pub mod schema;
pub mod schema_registry;
pub mod secret;
pub mod settings;
pub mod shoe;
pub mod shutdown;
pub mod summary;
pub mod tls;
pub mod wire;
