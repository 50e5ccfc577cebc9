//! Every setting, declared once: its flag, environment variable, file keys, default, parser, help and
//! the commands that take it.
//!
//! The command line (`app::cli`), the environment, YAML and `client.properties` layers, validation,
//! error labels, shell completions, the man page and the README's options table are all derived from
//! these declarations, so adding a setting is one entry here plus the line in `validate` that puts its
//! typed value into the settings.

use std::{net::SocketAddr, num::NonZeroUsize, path::PathBuf, time::Duration};

use super::{
    parse::{self, choice, names, number},
    setting::{settings, AnySetting, Heading, Kind, Property, Setting, Spec},
};
use crate::{
    app::command::Command::{self, Check, Produce, Register, Sample},
    settings::{
        Acks, BootstrapServers, ColorChoice, Compression, LogFormat, PartitionerKind, RegistryUrl,
        SaslMechanism, SecurityProtocol, SubjectNameStrategy,
    },
    support::secret::Secret,
};

/// The shortest progress interval: each one prints a line.
const MIN_PROGRESS_INTERVAL: Duration = Duration::from_millis(100);
/// The shortest metadata refresh interval: each one is a request to a broker.
const MIN_METADATA_MAX_AGE: Duration = Duration::from_secs(1);
/// The shortest request timeout: below it no connection and answer fit, so every request would
/// time out and be retried until the delivery timeout, reported as an unreachable leader.
const MIN_REQUEST_TIMEOUT: Duration = Duration::from_millis(100);

/// The commands that talk to Kafka.
const KAFKA: &[Command] = &[Produce, Check];
/// The commands that talk to the Schema Registry (`check` only when it is configured).
const REGISTRY: &[Command] = &[Produce, Check, Register];
/// The commands that generate shoes.
const GENERATE: &[Command] = &[Produce, Sample];
const EVERY: &[Command] = &[Produce, Check, Register, Sample];

settings! {
    /// Brokers to bootstrap from, host:port[,host:port…]; IPv6 hosts in brackets ([::1]:9092).
    BOOTSTRAP_SERVERS: BootstrapServers = BootstrapServers::parse, {
        long: "bootstrap-servers",
        aliases: &["bootstrap-server"],
        env: Some("BOOTSTRAP_SERVERS"),
        properties: &[Property::Text("bootstrap.servers"), Property::Text("metadata.broker.list")],
        required_by: KAFKA,
        value_name: "HOST:PORT,…",
        commands: KAFKA,
        heading: Heading::Kafka,
    }

    /// SASL username (Confluent Cloud: the Kafka API key). Required unless the security protocol
    /// is PLAINTEXT or SSL.
    KAFKA_API_KEY: String = parse::text, {
        long: "kafka-api-key",
        env: Some("KAFKA_API_KEY"),
        properties: &[Property::Text("sasl.username"), Property::Part("sasl.jaas.config")],
        value_name: "KEY",
        commands: KAFKA,
        heading: Heading::Kafka,
    }

    /// SASL password (Confluent Cloud: the Kafka API secret). Required unless the security
    /// protocol is PLAINTEXT or SSL.
    KAFKA_API_SECRET: Secret = parse::secret, {
        long: "kafka-api-secret",
        env: Some("KAFKA_API_SECRET"),
        properties: &[Property::Text("sasl.password"), Property::Part("sasl.jaas.config")],
        value_name: "SECRET",
        commands: KAFKA,
        heading: Heading::Kafka,
        secret: true,
    }

    /// How to talk to the brokers: with TLS and/or SASL.
    SECURITY_PROTOCOL: SecurityProtocol = choice, {
        long: "security-protocol",
        env: Some("KAFKA_SECURITY_PROTOCOL"),
        properties: &[Property::Text("security.protocol")],
        default: Some("SASL_SSL"),
        value_name: "PROTOCOL",
        possible: names::<SecurityProtocol>,
        commands: KAFKA,
        heading: Heading::Kafka,
    }

    /// SASL mechanism.
    SASL_MECHANISM: SaslMechanism = choice, {
        long: "sasl-mechanism",
        env: Some("KAFKA_SASL_MECHANISM"),
        properties: &[Property::Text("sasl.mechanism"), Property::Text("sasl.mechanisms")],
        default: Some("PLAIN"),
        value_name: "MECHANISM",
        possible: names::<SaslMechanism>,
        commands: KAFKA,
        heading: Heading::Kafka,
    }

    /// PEM file of CA certificates trusted for the brokers besides the bundled Mozilla roots.
    KAFKA_CA_FILE: PathBuf = parse::path, {
        long: "kafka-ca-file",
        env: Some("KAFKA_SSL_CA_LOCATION"),
        properties: &[Property::Text("ssl.ca.location")],
        value_name: "FILE",
        commands: KAFKA,
        heading: Heading::Kafka,
    }

    /// Topic to produce to (it must exist unless --create-topic); it also names the subject.
    TOPIC: String = parse::topic, {
        long: "topic",
        env: Some("KAFKA_TOPIC"),
        default: Some("shoes"),
        value_name: "TOPIC",
        commands: &[Produce, Check, Register],
        heading: Heading::Kafka,
    }

    /// Base URL, http:// or https://, without credentials.
    SCHEMA_REGISTRY_URL: RegistryUrl = RegistryUrl::parse, {
        long: "schema-registry-url",
        env: Some("SCHEMA_REGISTRY_URL"),
        properties: &[Property::Text("schema.registry.url")],
        required_by: &[Produce, Register],
        value_name: "URL",
        commands: REGISTRY,
        heading: Heading::Registry,
    }

    /// Basic-auth user (Confluent Cloud: the Schema Registry API key).
    SCHEMA_REGISTRY_API_KEY: String = parse::text, {
        long: "schema-registry-api-key",
        env: Some("SCHEMA_REGISTRY_API_KEY"),
        properties: &[
            Property::Part("basic.auth.user.info"),
            Property::Part("schema.registry.basic.auth.user.info"),
        ],
        value_name: "KEY",
        commands: REGISTRY,
        heading: Heading::Registry,
    }

    /// Basic-auth password (Confluent Cloud: the Schema Registry API secret).
    SCHEMA_REGISTRY_API_SECRET: Secret = parse::secret, {
        long: "schema-registry-api-secret",
        env: Some("SCHEMA_REGISTRY_API_SECRET"),
        properties: &[
            Property::Part("basic.auth.user.info"),
            Property::Part("schema.registry.basic.auth.user.info"),
        ],
        value_name: "SECRET",
        commands: REGISTRY,
        heading: Heading::Registry,
        secret: true,
    }

    /// PEM file of CA certificates trusted for the registry besides the bundled Mozilla roots.
    SCHEMA_REGISTRY_CA_FILE: PathBuf = parse::path, {
        long: "schema-registry-ca-file",
        env: Some("SCHEMA_REGISTRY_SSL_CA_LOCATION"),
        properties: &[Property::Text("schema.registry.ssl.ca.location")],
        value_name: "FILE",
        commands: REGISTRY,
        heading: Heading::Registry,
    }

    /// One deadline for everything a command asks the registry, every attempt and pause included.
    REGISTRY_TIMEOUT: Duration = parse::positive_duration, {
        long: "registry-timeout",
        default: Some("30s"),
        value_name: "DURATION",
        commands: REGISTRY,
        heading: Heading::Registry,
    }

    /// Subject naming: topic (<topic>-value), record (main.Shoe) or topic-record
    /// (<topic>-main.Shoe); Confluent's class names (TopicNameStrategy, …, fully qualified or not)
    /// are accepted too.
    SUBJECT_NAME_STRATEGY: SubjectNameStrategy = choice, {
        long: "subject-name-strategy",
        properties: &[Property::Text("value.subject.name.strategy")],
        default: Some("topic"),
        value_name: "STRATEGY",
        possible: names::<SubjectNameStrategy>,
        commands: REGISTRY,
        heading: Heading::Registry,
    }

    /// Only look the schema up, never register it (for read-only API keys).
    NO_AUTO_REGISTER: bool = choice, {
        long: "no-auto-register",
        properties: &[Property::Negated("auto.register.schemas")],
        kind: Kind::Switch,
        commands: REGISTRY,
        heading: Heading::Registry,
    }

    /// Use the subject's latest version instead of registering; refuse it if it is not this
    /// producer's schema. As in Confluent's serializer, auto-registration is checked first: when a
    /// config file turns it on explicitly (auto.register.schemas=true, no-auto-register: false), the
    /// schema is registered and this is ignored with a warning.
    USE_LATEST_VERSION: bool = choice, {
        long: "use-latest-version",
        properties: &[Property::Text("use.latest.version")],
        kind: Kind::Switch,
        commands: REGISTRY,
        heading: Heading::Registry,
    }

    /// Stop after N records; without it (or --duration) produce runs until stopped. sample prints
    /// N shoes, 10 when not given.
    COUNT: u64 = |text| number(text, "a number of records ≥ 1 (leave it out to run until stopped)", |n| *n > 0), {
        long: "count",
        value_name: "N",
        commands: GENERATE,
        heading: Heading::Run,
    }

    /// Stop after this long, e.g. 30s, 5m, 1h30m.
    DURATION: Duration = parse::positive_duration, {
        long: "duration",
        value_name: "DURATION",
        commands: &[Produce],
        heading: Heading::Run,
    }

    /// Records per second, smoothed by a token bucket; 0 means unlimited.
    RATE: u64 = |text| number(text, "a whole number of records per second (0 = unlimited)", |_| true), {
        long: "rate",
        default: Some("0"),
        value_name: "N",
        commands: &[Produce],
        heading: Heading::Run,
    }

    /// Generator seed, a whole number from 0 to 18446744073709551615: the same seed gives the same
    /// shoes. Random, and logged, when not given. A JSON log line writes it as a string of the same
    /// decimal digits, which is what to pass back.
    SEED: u64 = |text| number(text, "a whole number from 0 to 18446744073709551615", |_| true), {
        long: "seed",
        value_name: "N",
        commands: GENERATE,
        heading: Heading::Run,
    }

    /// First shoe id, from 0 to 9223372036854775807; ids increase by one per record.
    ID_START: i64 = |text| number(text, "a first shoe id from 0 to 9223372036854775807", |n| *n >= 0), {
        long: "id-start",
        default: Some("1"),
        value_name: "N",
        commands: GENERATE,
        heading: Heading::Run,
    }

    /// This instance's index, from 0 to --instances minus 1: each of N parallel instances makes
    /// its own ids with its own seed. A Kubernetes Indexed Job sets JOB_COMPLETION_INDEX.
    INSTANCE: u32 = |text| number(text, "an instance index from 0 to --instances minus 1", |_| true), {
        long: "instance",
        env: Some("JOB_COMPLETION_INDEX"),
        default: Some("0"),
        value_name: "I",
        commands: GENERATE,
        heading: Heading::Run,
    }

    /// How many instances run in parallel (see --instance).
    INSTANCES: u32 = |text| number(text, "a number of instances ≥ 1", |n| *n > 0), {
        long: "instances",
        default: Some("1"),
        value_name: "N",
        commands: GENERATE,
        heading: Heading::Run,
    }

    /// Create the topic at start if it does not exist.
    CREATE_TOPIC: bool = choice, {
        long: "create-topic",
        kind: Kind::Switch,
        commands: &[Produce],
        heading: Heading::Run,
    }

    /// Partitions of a topic made by --create-topic.
    PARTITIONS: i32 = |text| number(text, "a number of partitions ≥ 1", |n| *n > 0), {
        long: "partitions",
        default: Some("6"),
        value_name: "N",
        commands: &[Produce],
        heading: Heading::Run,
    }

    /// Replication factor of a topic made by --create-topic; -1 takes the broker's default.
    REPLICATION_FACTOR: i16 = |text| {
        number(text, "a replication factor ≥ 1, or -1 for the broker's default", |r| *r >= 1 || *r == -1)
    }, {
        long: "replication-factor",
        default: Some("-1"),
        value_name: "N",
        commands: &[Produce],
        heading: Heading::Run,
    }

    /// Acknowledgements to wait for: all (-1) or 1 (the leader only). 0 is refused: every request
    /// waits for the broker's answer, so fire-and-forget is not offered.
    ACKS: Acks = parse::acks, {
        long: "acks",
        properties: &[Property::Text("acks"), Property::Text("request.required.acks")],
        default: Some("all"),
        value_name: "ACKS",
        possible: names::<Acks>,
        commands: &[Produce],
        heading: Heading::Producer,
    }

    /// Producer id and sequence numbers on every batch, so the broker keeps each record once and in
    /// order per partition. Needs --acks all and --max-in-flight at most 5; when it is not given,
    /// --acks 1 or --max-in-flight above 5 turn it off with a warning.
    ENABLE_IDEMPOTENCE: bool = choice, {
        long: "enable-idempotence",
        env: Some("KAFKA_ENABLE_IDEMPOTENCE"),
        properties: &[Property::Text("enable.idempotence")],
        default: Some("true"),
        value_name: "BOOL",
        possible: names::<bool>,
        commands: &[Produce],
        heading: Heading::Producer,
    }

    /// Batch compression.
    COMPRESSION: Compression = choice, {
        long: "compression",
        properties: &[Property::Text("compression.type"), Property::Text("compression.codec")],
        default: Some("none"),
        value_name: "CODEC",
        possible: names::<Compression>,
        commands: &[Produce],
        heading: Heading::Producer,
    }

    /// How long a partition's batch may wait to fill (linger.ms), e.g. 5ms.
    LINGER: Duration = parse::duration, {
        long: "linger",
        properties: &[Property::Millis("linger.ms"), Property::Millis("queue.buffering.max.ms")],
        default: Some("5ms"),
        value_name: "DURATION",
        commands: &[Produce],
        heading: Heading::Producer,
    }

    /// Bytes that close a partition's batch (batch.size).
    BATCH_SIZE: NonZeroUsize = |text| number(text, "a number of bytes ≥ 1, e.g. 1048576", |_| true), {
        long: "batch-size",
        properties: &[Property::Text("batch.size")],
        default: Some("1048576"),
        value_name: "BYTES",
        commands: &[Produce],
        heading: Heading::Producer,
    }

    /// Produce requests in flight per broker connection.
    MAX_IN_FLIGHT: NonZeroUsize = |text| number(text, "a number of requests ≥ 1, e.g. 5", |_| true), {
        long: "max-in-flight",
        properties: &[
            Property::Text("max.in.flight.requests.per.connection"),
            Property::Text("max.in.flight"),
        ],
        default: Some("5"),
        value_name: "N",
        commands: &[Produce],
        heading: Heading::Producer,
    }

    /// Bytes of records buffered before the generator waits (buffer.memory).
    BUFFER_MEMORY: NonZeroUsize = |text| number(text, "a number of bytes ≥ 1, e.g. 33554432", |_| true), {
        long: "buffer-memory",
        properties: &[Property::Text("buffer.memory")],
        default: Some("33554432"),
        value_name: "BYTES",
        commands: &[Produce],
        heading: Heading::Producer,
    }

    /// Time from send to a record's final report; retries stop then (delivery.timeout.ms).
    DELIVERY_TIMEOUT: Duration = parse::positive_duration, {
        long: "delivery-timeout",
        properties: &[Property::Millis("delivery.timeout.ms"), Property::Millis("message.timeout.ms")],
        default: Some("120s"),
        value_name: "DURATION",
        commands: &[Produce],
        heading: Heading::Producer,
    }

    /// How long the broker may take over one produce request, and the client waits for its answer
    /// (request.timeout.ms), at least 100ms.
    REQUEST_TIMEOUT: Duration = |text| parse::duration_at_least(text, MIN_REQUEST_TIMEOUT, false), {
        long: "request-timeout",
        properties: &[Property::Millis("request.timeout.ms")],
        default: Some("30s"),
        value_name: "DURATION",
        commands: &[Produce],
        heading: Heading::Producer,
    }

    /// Bytes of record batches in one produce request to one broker (max.request.size).
    MAX_REQUEST_SIZE: NonZeroUsize = |text| number(text, "a number of bytes ≥ 1, e.g. 1048576", |_| true), {
        long: "max-request-size",
        properties: &[Property::Text("max.request.size")],
        default: Some("1048576"),
        value_name: "BYTES",
        commands: &[Produce],
        heading: Heading::Producer,
    }

    /// Partition choice: murmur2 (Java's default for keyed records), random or round-robin.
    PARTITIONER: PartitionerKind = choice, {
        long: "partitioner",
        default: Some("murmur2"),
        value_name: "PARTITIONER",
        possible: names::<PartitionerKind>,
        commands: &[Produce],
        heading: Heading::Producer,
    }

    /// How often partition counts and leaders are refreshed even without errors
    /// (metadata.max.age.ms), so partitions added during a run are used; at least 1s.
    METADATA_MAX_AGE: Duration = |text| parse::duration_at_least(text, MIN_METADATA_MAX_AGE, false), {
        long: "metadata-max-age",
        properties: &[Property::Millis("metadata.max.age.ms")],
        default: Some("5m"),
        value_name: "DURATION",
        commands: &[Produce],
        heading: Heading::Producer,
    }

    /// Read settings from FILE: YAML whose keys are the long flag names (bootstrap-servers: …), or
    /// a Confluent client.properties (bootstrap.servers=…, as the Cloud console hands it out). The
    /// format follows the extension (.yaml/.yml, .properties), else the content.
    CONFIG: PathBuf = parse::path, {
        long: "config",
        in_file: false,
        value_name: "FILE",
        commands: EVERY,
        heading: Heading::Output,
    }

    /// More log output: -v debug, -vv trace. RUST_LOG, when set, overrides -v/-q.
    VERBOSE: u8 = |text| number(text, "a count", |_| true), {
        long: "verbose",
        short: Some('v'),
        in_file: false,
        kind: Kind::Count,
        commands: EVERY,
        heading: Heading::Output,
    }

    /// Less log output: -q warnings and errors only, -qq errors only.
    QUIET: u8 = |text| number(text, "a count", |_| true), {
        long: "quiet",
        short: Some('q'),
        in_file: false,
        kind: Kind::Count,
        commands: EVERY,
        heading: Heading::Output,
    }

    /// Log line format; json makes every log line and the final summary one JSON object per line.
    LOG_FORMAT: LogFormat = choice, {
        long: "log-format",
        default: Some("text"),
        value_name: "FORMAT",
        possible: names::<LogFormat>,
        commands: EVERY,
        heading: Heading::Output,
    }

    /// Colour in text logs: auto colours when stderr is a terminal and NO_COLOR is unset or empty
    /// (no-color.org); always and never override both.
    COLOR: ColorChoice = choice, {
        long: "color",
        default: Some("auto"),
        value_name: "WHEN",
        possible: names::<ColorChoice>,
        commands: EVERY,
        heading: Heading::Output,
    }

    /// Serve Prometheus metrics on http://HOST:PORT/metrics (e.g. 0.0.0.0:9100).
    METRICS_ADDR: SocketAddr = parse::metrics_addr, {
        long: "metrics-addr",
        value_name: "HOST:PORT",
        commands: &[Produce],
        heading: Heading::Output,
    }

    /// Keep serving /metrics this long after the summary, so a scraper sees the final values (not
    /// after a signal; a signal during the wait ends it).
    METRICS_LINGER: Duration = parse::duration, {
        long: "metrics-linger",
        default: Some("0s"),
        value_name: "DURATION",
        commands: &[Produce],
        heading: Heading::Output,
    }

    /// Progress line interval on stderr (a live bar when stderr is a terminal), at least 100ms; 0s
    /// turns it off.
    PROGRESS_INTERVAL: Duration = |text| parse::duration_at_least(text, MIN_PROGRESS_INTERVAL, true), {
        long: "progress-interval",
        default: Some("5s"),
        value_name: "DURATION",
        commands: &[Produce],
        heading: Heading::Output,
    }
}

/// The setting whose long flag (or alias) is `name`, dashes or underscores.
pub(crate) fn find(name: &str) -> Option<&'static dyn AnySetting> {
    ALL.iter().copied().find(|s| s.spec().is_named(name))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn names_variables_and_keys_are_unique() {
        let mut names = BTreeSet::new();
        let mut variables = BTreeSet::new();
        let mut keys = BTreeSet::new();
        for setting in ALL {
            let spec = setting.spec();
            assert!(!spec.long.is_empty() && !spec.help.is_empty());
            assert!(!spec.commands.is_empty(), "--{} has no command", spec.long);
            for name in std::iter::once(&spec.long).chain(spec.aliases) {
                assert!(names.insert(*name), "--{name} declared twice");
            }
            if let Some(env) = spec.env {
                assert!(variables.insert(env), "{env} declared twice");
            }
            for property in spec.properties {
                if !matches!(property, Property::Part(_)) {
                    assert!(keys.insert(property.key()), "{} twice", property.key());
                }
            }
            for command in spec.required_by {
                assert!(
                    spec.takes(*command),
                    "--{} required by {command:?}",
                    spec.long
                );
            }
        }
    }

    #[test]
    fn each_minimum_the_help_names_is_the_one_enforced() {
        for (setting, min) in [
            (&PROGRESS_INTERVAL, MIN_PROGRESS_INTERVAL),
            (&METADATA_MAX_AGE, MIN_METADATA_MAX_AGE),
            (&REQUEST_TIMEOUT, MIN_REQUEST_TIMEOUT),
        ] {
            let shown = humantime::format_duration(min).to_string();
            let below = humantime::format_duration(min - Duration::from_nanos(1)).to_string();
            assert!(setting.spec.help.contains(&format!("at least {shown}")));
            assert!((setting.parse)(&shown).is_ok(), "{shown}");
            assert!((setting.parse)(&below).is_err(), "{below}");
        }
    }

    #[test]
    fn every_default_and_possible_value_parses() {
        for setting in ALL {
            let spec = setting.spec();
            if let Some(default) = spec.default {
                assert_eq!(setting.check(default), Ok(()), "default of --{}", spec.long);
            }
            for value in (spec.possible)() {
                assert_eq!(setting.check(value), Ok(()), "--{} {value}", spec.long);
            }
            if spec.kind == Kind::Switch {
                assert_eq!(setting.check("true"), Ok(()), "--{}", spec.long);
            }
        }
    }
}
