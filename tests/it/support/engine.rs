//! Helpers for the engine's integration tests: Kafka and registry settings of the local stack from
//! the environment, unique topics, and a consumer that reads a whole topic back. What does not need
//! our settings types lives in the parent module.
//!
//! These tests talk to the real broker of `scripts/local-stack.sh` over its SASL_SSL listener. A
//! missing variable fails the test with what to run; nothing is skipped silently.

use std::{path::PathBuf, time::Duration};

use shoe_producer::{
    app::config::{instance_defaults, producer_defaults},
    kafka::{self, Kafka},
    producer::ProducerHandle,
    settings::{
        BootstrapServers, KafkaSettings, RegistrySettings, RegistryUrl, SaslMechanism,
        SecurityProtocol,
    },
    support::secret::Secret,
};

pub use super::{
    inherited_env_command, registry_http_client, registry_request, run_to_end, spawn,
    stack_env as env, unique_name as unique_topic, ConsumedRecord as Consumed, Finished, Running,
};

/// The local stack's SASL_SSL listener, as the producer would be configured for Confluent Cloud.
pub fn kafka_settings() -> KafkaSettings {
    let protocol = match env("KAFKA_SECURITY_PROTOCOL").as_str() {
        "SASL_SSL" => SecurityProtocol::SaslSsl,
        "SASL_PLAINTEXT" => SecurityProtocol::SaslPlaintext,
        "SSL" => SecurityProtocol::Ssl,
        _ => SecurityProtocol::Plaintext,
    };
    KafkaSettings {
        bootstrap_servers: BootstrapServers::parse(&env("BOOTSTRAP_SERVERS")).unwrap(),
        security_protocol: protocol,
        sasl_mechanism: SaslMechanism::Plain,
        api_key: Some(env("KAFKA_API_KEY")),
        api_secret: Some(Secret::new(env("KAFKA_API_SECRET"))),
        ca_file: Some(PathBuf::from(env("KAFKA_SSL_CA_LOCATION"))),
        connect_timeout: Duration::from_secs(20),
    }
}

/// The local stack's registry (HTTPS, Basic auth, its own CA), as the producer would be configured.
pub fn registry_settings() -> RegistrySettings {
    RegistrySettings {
        url: RegistryUrl::parse(&env("SCHEMA_REGISTRY_URL")).unwrap(),
        api_key: Some(env("SCHEMA_REGISTRY_API_KEY")),
        api_secret: Some(Secret::new(env("SCHEMA_REGISTRY_API_SECRET"))),
        ca_file: Some(PathBuf::from(env("SCHEMA_REGISTRY_SSL_CA_LOCATION"))),
        timeout: Duration::from_secs(10),
    }
}

/// Sends the engine's logs to the test output (filtered by `RUST_LOG`, default `warn`).
pub fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .try_init();
}

/// Waits until every record sent so far is acked or failed (a test that waits over a minute fails).
pub async fn settle(handle: &ProducerHandle) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while handle.snapshot().in_flight_records > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "records still unsettled after a minute: {:?}",
            handle.snapshot()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Connects and creates a fresh topic with `partitions` partitions.
pub async fn kafka_with_topic(prefix: &str, partitions: i32) -> (Kafka, String) {
    init_logs();
    let kafka = kafka::connect(&kafka_settings())
        .await
        .expect("connect to the local stack");
    let topic = unique_topic(prefix);
    assert!(kafka
        .create_topic(&topic, partitions, 1)
        .await
        .expect("create topic"));
    (kafka, topic)
}

/// Reads every record of every partition of `topic`, in offset order per partition.
pub async fn consume_all(kafka: &Kafka, topic: &str, partitions: i32) -> Vec<Vec<Consumed>> {
    let client = kafka.client().await.expect("rskafka client");
    let mut all = Vec::new();
    for partition in 0..partitions {
        all.push(super::read_partition(&client, topic, partition).await);
    }
    all
}

/// A full `produce` configuration for the local stack: topic `topic`, `count` records.
pub fn run_config(topic: &str, count: u64) -> shoe_producer::settings::Config {
    use shoe_producer::settings::{
        ColorChoice, Config, LogFormat, RunSettings, SchemaSettings, SubjectNameStrategy,
    };
    Config {
        kafka: Some(kafka_settings()),
        registry: Some(registry_settings()),
        schema: SchemaSettings {
            subject_name_strategy: SubjectNameStrategy::Topic,
            auto_register: true,
            use_latest_version: false,
        },
        producer: producer_defaults(),
        run: RunSettings {
            count: Some(count),
            duration: None,
            rate: None,
            seed: Some(7),
            id_start: 1,
            progress_interval: Duration::ZERO,
            metrics_addr: None,
            metrics_linger: Duration::ZERO,
            create_topic: None,
            instance: instance_defaults(),
        },
        topic: topic.to_owned(),
        log_format: LogFormat::Json,
        color: ColorChoice::Never,
    }
}

/// Checks a topic written by `produce` with ids `first..first + count`: every id exactly once
/// (or, when `allow_duplicates`, at least once), on its Java partition, increasing within each
/// partition, and every value a framed `Shoe` with the schema id whose id equals the key.
/// Returns how many records were read (duplicates included).
pub fn verify_produced(
    partitions: &[Vec<Consumed>],
    first: i64,
    count: u64,
    schema_id: u32,
    allow_duplicates: bool,
) -> u64 {
    use shoe_producer::{producer::partitioner::java_partition_for_key, shoe::wire, shoe::Shoe};
    let mut seen = vec![0u32; count as usize];
    let mut total = 0;
    for (partition, records) in partitions.iter().enumerate() {
        let mut last = i64::MIN;
        for r in records {
            total += 1;
            let key = std::str::from_utf8(&r.key).expect("UTF-8 key");
            let id: i64 = key.parse().expect("decimal key");
            assert!(
                (first..first + count as i64).contains(&id),
                "unexpected id {id}"
            );
            assert_eq!(
                java_partition_for_key(&r.key, partitions.len() as i32),
                partition as i32,
                "key {key} is not on the partition Java's partitioner picks"
            );
            if !allow_duplicates {
                assert!(id > last, "partition {partition}: id {id} after {last}");
            }
            last = last.max(id);
            let framed = wire::decode(&r.value).expect("Confluent-framed value");
            assert_eq!(framed.schema_id, schema_id);
            let shoe: Shoe = framed.decode_payload().expect("a Shoe");
            assert_eq!(shoe.id, id, "value's id differs from the key");
            seen[(id - first) as usize] += 1;
        }
    }
    let missing = seen.iter().filter(|&&n| n == 0).count();
    assert_eq!(missing, 0, "{missing} ids are missing from the topic");
    if !allow_duplicates {
        assert!(seen.iter().all(|&n| n == 1), "some ids appear twice");
    }
    total
}

/// Runs one of Kafka's own command-line tools (`class` with `args`) from the stack's jars; fails
/// the test with its output when it fails. Returns its stdout.
pub fn kafka_tool(class: &str, args: &[&str]) -> String {
    let classpath = format!("{}/*", env("LOCAL_STACK_KAFKA_LIBS"));
    let output = std::process::Command::new("java")
        .args(["-Xmx256m", "-XX:+UseSerialGC", "-cp", &classpath, class])
        .args(args)
        .output()
        .expect("run java (the local stack needs it too)");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{class} {args:?} failed: {}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Sets a configuration value of `topic` through the broker's PLAINTEXT listener.
pub fn set_topic_config(topic: &str, key: &str, value: &str) {
    kafka_tool(
        "kafka.admin.ConfigCommand",
        &[
            "--bootstrap-server",
            &env("LOCAL_STACK_PLAINTEXT_BOOTSTRAP"),
            "--alter",
            "--entity-type",
            "topics",
            "--entity-name",
            topic,
            "--add-config",
            &format!("{key}={value}"),
        ],
    );
}

/// Gives `topic` `partitions` partitions in all.
pub fn add_partitions(topic: &str, partitions: i32) {
    kafka_tool(
        "org.apache.kafka.tools.TopicCommand",
        &[
            "--bootstrap-server",
            &env("LOCAL_STACK_PLAINTEXT_BOOTSTRAP"),
            "--alter",
            "--topic",
            topic,
            "--partitions",
            &partitions.to_string(),
        ],
    );
}

/// One record batch as the broker stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBatch {
    pub partition: i32,
    pub base_offset: i64,
    pub count: i64,
    pub producer_id: i64,
    pub producer_epoch: i64,
    pub base_sequence: i64,
}

/// Every batch of `topic` in the broker's log segments, read with Kafka's `DumpLogSegments` from the
/// stack's state folder (every replica's copy, in a cluster of several brokers).
pub fn stored_batches(topic: &str) -> Vec<StoredBatch> {
    let state = std::env::var("LOCAL_STACK_DIR")
        .ok()
        .filter(|dir| !dir.is_empty())
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/.local-stack").to_owned());
    let mut segments = Vec::new();
    find_segments(std::path::Path::new(&state), topic, &mut segments);
    assert!(
        !segments.is_empty(),
        "no log segment of {topic} under {state}"
    );
    let mut batches = Vec::new();
    for (partition, segment) in segments {
        let dump = kafka_tool(
            "kafka.tools.DumpLogSegments",
            &["--files", segment.to_str().expect("UTF-8 path")],
        );
        for line in dump.lines().filter(|l| l.starts_with("baseOffset:")) {
            let field = |name: &str| -> i64 {
                let at = line
                    .find(&format!("{name}: "))
                    .unwrap_or_else(|| panic!("no {name} in {line:?}"));
                line[at + name.len() + 2..]
                    .split_whitespace()
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| panic!("bad {name} in {line:?}"))
            };
            batches.push(StoredBatch {
                partition,
                base_offset: field("baseOffset"),
                count: field("count"),
                producer_id: field("producerId"),
                producer_epoch: field("producerEpoch"),
                base_sequence: field("baseSequence"),
            });
        }
    }
    batches.sort_by_key(|b| (b.partition, b.base_offset));
    batches
}

/// The `.log` segment files of `topic`'s partition folders (`<topic>-<partition>`) under `dir`.
fn find_segments(dir: &std::path::Path, topic: &str, found: &mut Vec<(i32, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let partition = name
            .strip_prefix(topic)
            .and_then(|rest| rest.strip_prefix('-'))
            .and_then(|p| p.parse::<i32>().ok());
        match partition {
            Some(partition) => {
                for file in std::fs::read_dir(&path).into_iter().flatten().flatten() {
                    if file.path().extension().is_some_and(|e| e == "log") {
                        found.push((partition, file.path()));
                    }
                }
            }
            None => find_segments(&path, topic, found),
        }
    }
}
