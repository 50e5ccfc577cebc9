//! The bottom layer: the resolved configuration as plain data, and the exit-code contract.
//!
//! `app::config` builds these from flags, environment variables, a config file and defaults, and
//! validates them; nothing here knows the command line or a config file, and nothing here parses
//! user input, so the engine, the clients and the tests build settings directly. Values with a shape
//! to keep (the broker list, the registry URL, sizes that cannot be zero) have types that can only
//! hold valid ones ([`values`]).

pub mod exit;
mod values;

use std::{net::SocketAddr, num::NonZeroUsize, path::PathBuf, time::Duration};

use crate::support::secret::Secret;

pub use values::{BootstrapServers, RegistryUrl};

/// How the client talks to the brokers (`KAFKA_SECURITY_PROTOCOL`, `--security-protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecurityProtocol {
    Plaintext,
    Ssl,
    SaslPlaintext,
    SaslSsl,
}

impl SecurityProtocol {
    pub(crate) fn uses_tls(self) -> bool {
        matches!(self, Self::Ssl | Self::SaslSsl)
    }
    pub(crate) fn uses_sasl(self) -> bool {
        matches!(self, Self::SaslPlaintext | Self::SaslSsl)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plaintext => "PLAINTEXT",
            Self::Ssl => "SSL",
            Self::SaslPlaintext => "SASL_PLAINTEXT",
            Self::SaslSsl => "SASL_SSL",
        }
    }
}

/// SASL mechanism (`KAFKA_SASL_MECHANISM`, `--sasl-mechanism`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaslMechanism {
    Plain,
    ScramSha256,
    ScramSha512,
}

impl SaslMechanism {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plain => "PLAIN",
            Self::ScramSha256 => "SCRAM-SHA-256",
            Self::ScramSha512 => "SCRAM-SHA-512",
        }
    }
}

/// Where and how to reach the Kafka cluster.
#[derive(Debug, Clone)]
pub struct KafkaSettings {
    /// `host:port` pairs, at least one.
    pub bootstrap_servers: BootstrapServers,
    pub security_protocol: SecurityProtocol,
    pub sasl_mechanism: SaslMechanism,
    /// SASL username (Confluent Cloud: the Kafka API key).
    pub api_key: Option<String>,
    /// SASL password (Confluent Cloud: the Kafka API secret).
    pub api_secret: Option<Secret>,
    /// Extra CA certificates (PEM) trusted besides the bundled Mozilla roots.
    pub ca_file: Option<PathBuf>,
    /// Bound on connecting and fetching metadata before giving up.
    pub connect_timeout: Duration,
}

/// Where and how to reach the Schema Registry.
#[derive(Debug, Clone)]
pub struct RegistrySettings {
    /// Base URL, `http://` or `https://`, without credentials and without a trailing slash.
    pub url: RegistryUrl,
    pub api_key: Option<String>,
    pub api_secret: Option<Secret>,
    pub ca_file: Option<PathBuf>,
    /// One overall deadline for what a command asks the registry (every attempt and pause included).
    pub timeout: Duration,
}

/// How the schema's subject is named (`--subject-name-strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectNameStrategy {
    /// `<topic>-value` (Confluent's default).
    Topic,
    /// The fully-qualified record name, `main.Shoe`.
    Record,
    /// `<topic>-main.Shoe`.
    TopicRecord,
}

/// How the schema id is obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaSettings {
    pub subject_name_strategy: SubjectNameStrategy,
    /// Register the schema if the subject lacks it (default). Off: look up only.
    pub auto_register: bool,
    /// Use the subject's latest version, refusing it if it is not our schema.
    pub use_latest_version: bool,
}

/// `--acks`. Kafka's `acks=0` has no value here: the connection layer waits for an answer to every
/// request, so a record is only ever reported acked or failed on the broker's word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acks {
    /// `1`: the leader alone.
    Leader,
    /// `all` (`-1`): every in-sync replica.
    All,
}

/// `--compression`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Snappy,
    Lz4,
    Zstd,
}

/// `--partitioner`: how a keyed record picks its partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionerKind {
    /// Java's default: `murmur2(key) & 0x7fffffff % partitions`.
    Murmur2,
    Random,
    RoundRobin,
}

/// The batching engine's knobs, named as Kafka users know them.
#[derive(Debug, Clone)]
pub struct ProducerSettings {
    pub acks: Acks,
    pub compression: Compression,
    /// `linger.ms`: how long a partition's batch may wait to fill.
    pub linger: Duration,
    /// `batch.size`: bytes that close a partition's batch.
    pub batch_size: NonZeroUsize,
    /// Produce requests in flight per broker connection.
    pub max_in_flight: NonZeroUsize,
    /// `buffer.memory`: bytes of records buffered before `send` waits (at least `batch_size`).
    pub buffer_memory: NonZeroUsize,
    /// `delivery.timeout.ms`: from `send` to the record's final report (at least `linger` plus
    /// `request_timeout`).
    pub delivery_timeout: Duration,
    /// `request.timeout.ms`: how long the broker may take over one produce request (its
    /// `timeout_ms`) and how long the client waits for its answer.
    pub request_timeout: Duration,
    /// `max.request.size`: bytes of record batches in one produce request to one broker.
    pub max_request_size: NonZeroUsize,
    pub partitioner: PartitionerKind,
    /// `enable.idempotence`: producer id, epoch and sequence numbers on every batch, so the broker
    /// writes each record once and in order per partition.
    pub enable_idempotence: bool,
    /// `metadata.max.age.ms`: how often partition counts and leaders are refreshed even without errors.
    pub metadata_max_age: Duration,
}

/// Topic creation on start (`--create-topic`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopicCreation {
    pub partitions: i32,
    pub replication_factor: i16,
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// `--color`: whether text logs on stderr are coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorChoice {
    /// When stderr is a terminal and `NO_COLOR` is unset or empty.
    Auto,
    Always,
    Never,
}

/// What one `produce` run does and for how long.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// Stop after this many records.
    pub count: Option<u64>,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Records per second; `None` is unlimited.
    pub rate: Option<u64>,
    /// Generator seed; `None` picks one at random (and logs it, so a run can be replayed).
    pub seed: Option<u64>,
    /// First shoe id; ids then increase by one per record.
    pub id_start: i64,
    pub progress_interval: Duration,
    pub metrics_addr: Option<SocketAddr>,
    /// How long `/metrics` stays up after the run, so the final values can be scraped.
    pub metrics_linger: Duration,
    pub create_topic: Option<TopicCreation>,
    /// Which of several parallel instances this is (`--instance I --instances N`): each produces its
    /// own share of the ids and uses its own seed.
    pub instance: Instance,
}

/// Instance `index` of `count` parallel instances (`0 <= index < count`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instance {
    pub index: u32,
    pub count: u32,
}

/// Everything one invocation needs, resolved from flags > environment > config file > defaults.
#[derive(Debug, Clone)]
pub struct Config {
    /// `None` where the command needs no Kafka (`sample`, `register`); read it with
    /// `app::config::require_kafka`.
    pub kafka: Option<KafkaSettings>,
    /// `None` where the command needs no registry (`sample`), and for `check` when none is
    /// configured; commands that need it read it with `app::config::require_registry`.
    pub registry: Option<RegistrySettings>,
    pub schema: SchemaSettings,
    pub producer: ProducerSettings,
    pub run: RunSettings,
    pub topic: String,
    pub log_format: LogFormat,
    pub color: ColorChoice,
}
