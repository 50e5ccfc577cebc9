//! Helpers for the engine's integration tests: Kafka and registry settings of the local stack from
//! the environment, unique topics, and a consumer that reads a whole topic back. What does not need
//! our settings types lives in the parent module.
//!
//! These tests talk to the real broker of `scripts/local-stack.sh` over its SASL_SSL listener. A
//! missing variable fails the test with what to run; nothing is skipped silently.

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use shoe_producer::{
    app::settings::{
        BootstrapServers, KafkaSettings, RegistrySettings, RegistryUrl, SaslMechanism,
        SecurityProtocol,
    },
    kafka::{self, Kafka},
    producer::delivery::DeliveryObserver,
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

/// Counts what the engine reports through the observer interface.
#[derive(Debug, Default)]
pub struct CountingObserver {
    pub acked: AtomicU64,
    pub failed: AtomicU64,
    pub failed_reasons: Mutex<HashMap<String, u64>>,
    /// (partition, base offset, records) per acked batch.
    pub batches: Mutex<Vec<(i32, i64, usize)>>,
}

impl DeliveryObserver for CountingObserver {
    fn acked(&self, partition: i32, base_offset: i64, latencies: &[Duration], _bytes: u64) {
        self.acked
            .fetch_add(latencies.len() as u64, Ordering::Relaxed);
        self.batches
            .lock()
            .unwrap()
            .push((partition, base_offset, latencies.len()));
    }
    fn failed(&self, _partition: i32, records: u64, reason: &str) {
        self.failed.fetch_add(records, Ordering::Relaxed);
        *self
            .failed_reasons
            .lock()
            .unwrap()
            .entry(reason.to_owned())
            .or_default() += records;
    }
}

pub fn observer() -> (Arc<CountingObserver>, Vec<Arc<dyn DeliveryObserver>>) {
    let o = Arc::new(CountingObserver::default());
    (o.clone(), vec![o as Arc<dyn DeliveryObserver>])
}

/// A full `produce` configuration for the local stack: topic `topic`, `count` records.
pub fn run_config(topic: &str, count: u64) -> shoe_producer::app::settings::Config {
    use shoe_producer::app::settings::{
        Config, LogFormat, ProducerSettings, RunSettings, SchemaSettings, SubjectNameStrategy,
    };
    Config {
        kafka: Some(kafka_settings()),
        registry: Some(registry_settings()),
        schema: SchemaSettings {
            subject_name_strategy: SubjectNameStrategy::Topic,
            auto_register: true,
            use_latest_version: false,
        },
        producer: ProducerSettings::default(),
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
            instance: Default::default(),
        },
        topic: topic.to_owned(),
        log_format: LogFormat::Json,
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
