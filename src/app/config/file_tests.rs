//! `--config` files (YAML and Confluent's client.properties) and the precedence flags > environment >
//! file > defaults, through the same parse-and-resolve path the binary uses.
//!
//! clap reads environment variables for every argument, so each test holds `ENV` while it sets or
//! clears them; the variables the local stack exports are cleared first so they cannot leak in.

use std::{path::PathBuf, sync::Mutex, sync::MutexGuard, time::Duration};

use crate::{
    app::cli::Invocation,
    app::config::{self, Resolved, Setting},
    app::settings::{
        Acks, Compression, LogFormat, PartitionerKind, SaslMechanism, SecurityProtocol,
        SubjectNameStrategy,
    },
};

static ENV: Mutex<()> = Mutex::new(());

/// Holds the environment lock with every configuration variable cleared.
fn clean_env() -> MutexGuard<'static, ()> {
    let guard = ENV.lock().unwrap_or_else(|e| e.into_inner());
    for setting in Setting::ALL {
        if let Some(name) = setting.env_var() {
            std::env::remove_var(name);
        }
    }
    std::env::remove_var("RUST_LOG");
    guard
}

fn testdata(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
        .display()
        .to_string()
}

fn resolve(args: &[&str]) -> Result<Resolved, String> {
    let mut argv = vec!["shoe-producer"];
    argv.extend_from_slice(args);
    let invocation = Invocation::parse_from(argv).map_err(|e| e.to_string())?;
    config::resolve(&invocation).map_err(|e| e.0)
}

#[test]
fn confluent_cloud_client_properties() {
    let _env = clean_env();
    let resolved = resolve(&["--config", &testdata("client.properties")]).unwrap();
    let config = resolved.config;
    let kafka = config.kafka.unwrap();
    assert_eq!(
        kafka.bootstrap_servers,
        ["pkc-12abc.us-east-1.aws.confluent.cloud:9092"]
    );
    assert_eq!(kafka.security_protocol, SecurityProtocol::SaslSsl);
    assert_eq!(kafka.sasl_mechanism, SaslMechanism::Plain);
    assert_eq!(kafka.api_key.as_deref(), Some("KAFKAKEY1234ABCD"));
    assert_eq!(
        kafka.api_secret.unwrap().expose(),
        "kafka-secret-DISTINCTIVE-0001"
    );
    let registry = config.registry.unwrap();
    assert_eq!(
        registry.url,
        "https://psrc-34xyz.us-east-2.aws.confluent.cloud"
    );
    assert_eq!(registry.api_key.as_deref(), Some("SRKEY5678EFGH"));
    assert_eq!(
        registry.api_secret.unwrap().expose(),
        "sr-secret-DISTINCTIVE-0002"
    );
    assert_eq!(config.producer.acks, Acks::All);
    assert_eq!(config.producer.linger, Duration::from_millis(20));
    assert_eq!(config.producer.compression, Compression::Lz4);
    // Keys we do not use are named, all in one warning.
    let unsupported: Vec<&String> = resolved
        .warnings
        .iter()
        .filter(|w| w.contains("does not support"))
        .collect();
    assert_eq!(unsupported.len(), 1, "{:?}", resolved.warnings);
    for key in ["client.dns.lookup", "session.timeout.ms", "client.id"] {
        assert!(
            unsupported[0].contains(key),
            "{key} missing from {}",
            unsupported[0]
        );
    }
    assert!(!unsupported[0].contains("DISTINCTIVE"));
}

#[test]
fn yaml_config_with_every_kind_of_value() {
    let _env = clean_env();
    let resolved = resolve(&["--config", &testdata("config.yaml")]).unwrap();
    assert!(resolved.warnings.is_empty(), "{:?}", resolved.warnings);
    let config = resolved.config;
    let kafka = config.kafka.unwrap();
    assert_eq!(
        kafka.bootstrap_servers,
        ["broker-1.example:9093", "broker-2.example:9093"]
    );
    assert_eq!(kafka.sasl_mechanism, SaslMechanism::ScramSha512);
    assert_eq!(
        kafka.api_secret.unwrap().expose(),
        "yaml-secret-DISTINCTIVE-0003"
    );
    assert_eq!(
        config.registry.unwrap().url,
        "https://registry.example/apis/ccompat/v7"
    );
    assert_eq!(config.topic, "shoes-from-yaml");
    assert_eq!(
        config.schema.subject_name_strategy,
        SubjectNameStrategy::TopicRecord
    );
    assert_eq!(config.run.count, Some(5000));
    assert_eq!(config.run.rate, Some(250));
    assert_eq!(config.run.seed, Some(7));
    assert_eq!(config.run.id_start, 1_000_000);
    assert_eq!(config.run.progress_interval, Duration::from_secs(2));
    assert_eq!(
        config.run.metrics_addr,
        Some("127.0.0.1:9464".parse().unwrap())
    );
    let creation = config.run.create_topic.unwrap();
    assert_eq!((creation.partitions, creation.replication_factor), (3, 1));
    assert_eq!(config.producer.acks, Acks::Leader);
    assert_eq!(config.producer.compression, Compression::Zstd);
    assert_eq!(config.producer.batch_size, 65536);
    assert_eq!(config.producer.max_in_flight, 3);
    assert_eq!(config.producer.buffer_memory, 16_777_216);
    assert_eq!(config.producer.delivery_timeout, Duration::from_secs(45));
    assert_eq!(config.producer.partitioner, PartitionerKind::RoundRobin);
    assert_eq!(config.log_format, LogFormat::Json);
}

#[test]
fn flags_beat_environment_beat_file_beat_defaults() {
    let _env = clean_env();
    let file = tempfile::Builder::new().suffix(".yaml").tempfile().unwrap();
    std::fs::write(
        file.path(),
        "bootstrap-servers: file-broker:9092\nsecurity-protocol: PLAINTEXT\ntopic: from-file\ncompression: gzip\nrate: 100\n",
    )
    .unwrap();
    let path = file.path().display().to_string();

    std::env::set_var("KAFKA_TOPIC", "from-env");
    std::env::set_var("BOOTSTRAP_SERVERS", "env-broker:9092");
    let config = resolve(&["check", "--config", &path, "--topic", "from-flag"])
        .unwrap()
        .config;
    assert_eq!(config.topic, "from-flag", "flag beats environment and file");
    assert_eq!(
        config.kafka.as_ref().unwrap().bootstrap_servers,
        ["env-broker:9092"],
        "environment beats file"
    );
    assert_eq!(
        config.producer.compression,
        Compression::Gzip,
        "file beats default"
    );
    assert_eq!(config.run.rate, Some(100));
    assert_eq!(
        config.producer.acks,
        Acks::All,
        "default when no source sets it"
    );

    let config = resolve(&["check", "--config", &path]).unwrap().config;
    assert_eq!(config.topic, "from-env", "environment beats file");

    std::env::remove_var("KAFKA_TOPIC");
    std::env::remove_var("BOOTSTRAP_SERVERS");
    let config = resolve(&["check", "--config", &path]).unwrap().config;
    assert_eq!(config.topic, "from-file");
    assert_eq!(
        config.kafka.unwrap().bootstrap_servers,
        ["file-broker:9092"]
    );

    // A flag given explicitly with the default's value still beats the file.
    let config = resolve(&["check", "--config", &path, "--compression", "none"])
        .unwrap()
        .config;
    assert_eq!(config.producer.compression, Compression::None);
}

#[test]
fn environment_overrides_client_properties_credentials() {
    let _env = clean_env();
    std::env::set_var("KAFKA_API_SECRET", "env-secret");
    std::env::set_var("SCHEMA_REGISTRY_URL", "https://env-registry.example");
    let config = resolve(&["--config", &testdata("client.properties")])
        .unwrap()
        .config;
    assert_eq!(
        config.kafka.unwrap().api_secret.unwrap().expose(),
        "env-secret"
    );
    assert_eq!(config.registry.unwrap().url, "https://env-registry.example");
}

#[test]
fn console_placeholders_are_named_and_then_missing() {
    let _env = clean_env();
    let file = tempfile::Builder::new()
        .suffix(".properties")
        .tempfile()
        .unwrap();
    std::fs::write(
        file.path(),
        "bootstrap.servers=b:9092\nsasl.username={{ CLUSTER_API_KEY }}\nsasl.password={{ CLUSTER_API_SECRET }}\nschema.registry.url=https://r\n",
    )
    .unwrap();
    let error = resolve(&["--config", &file.path().display().to_string()]).unwrap_err();
    assert!(
        error.starts_with("--kafka-api-key / KAFKA_API_KEY is required"),
        "{error}"
    );

    std::env::set_var("KAFKA_API_KEY", "k");
    std::env::set_var("KAFKA_API_SECRET", "s");
    let resolved = resolve(&["--config", &file.path().display().to_string()]).unwrap();
    let placeholder_warning = resolved
        .warnings
        .iter()
        .find(|w| w.contains("placeholders"))
        .unwrap();
    assert!(
        placeholder_warning.contains("sasl.username, sasl.password"),
        "{placeholder_warning}"
    );
}

#[test]
fn properties_detected_by_content_and_bad_values_name_the_key() {
    let _env = clean_env();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        file.path(),
        "bootstrap.servers=b:9092\nsecurity.protocol=PLAINTEXT\ncompression.type=brotli\n",
    )
    .unwrap();
    let error = resolve(&["sample", "--config", &file.path().display().to_string()]).unwrap_err();
    assert!(
        error.starts_with("--compression (from `compression.type` in "),
        "{error}"
    );
}

#[test]
fn missing_and_malformed_files_are_usage_errors() {
    let _env = clean_env();
    let error = resolve(&["sample", "--config", "/nonexistent/shoe-producer.yaml"]).unwrap_err();
    assert!(
        error.starts_with("--config: cannot read /nonexistent/shoe-producer.yaml"),
        "{error}"
    );
    let file = tempfile::Builder::new().suffix(".yml").tempfile().unwrap();
    std::fs::write(file.path(), "topic: [unclosed\n").unwrap();
    let error = resolve(&["sample", "--config", &file.path().display().to_string()]).unwrap_err();
    assert!(error.contains("is not valid YAML"), "{error}");
}
