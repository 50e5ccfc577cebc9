//! `--config` files (YAML and Confluent's client.properties) and the precedence flags > environment >
//! file > defaults, through the same parse-and-resolve path the binary uses.
//!
//! The environment is a map handed to `resolve`, never the process's: these tests run in parallel
//! with each other and with tests that read the local stack's variables.

use std::{collections::HashMap, ffi::OsString, path::PathBuf, time::Duration};

use crate::{
    app::cli::{CliError, Invocation},
    app::config::{self, Resolved},
    settings::{
        Acks, Compression, LogFormat, PartitionerKind, SaslMechanism, SecurityProtocol,
        SubjectNameStrategy,
    },
};

fn testdata(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
        .display()
        .to_string()
}

/// Resolves `args` with exactly the variables `env` (nothing from the process).
pub(super) fn resolve_in(args: &[&str], env: &[(&str, &str)]) -> Result<Resolved, String> {
    let invocation =
        Invocation::parse_from(std::iter::once("shoe-producer").chain(args.iter().copied()))
            .map_err(|e| match e {
                CliError::Usage(line) => line,
                CliError::Display(help) => help.to_string(),
            })?;
    let env: HashMap<String, OsString> = env
        .iter()
        .map(|(name, value)| (name.to_string(), OsString::from(value)))
        .collect();
    invocation
        .resolve(&|name| env.get(name).cloned())
        .map_err(|e| e.0)
}

fn resolve(args: &[&str]) -> Result<Resolved, String> {
    resolve_in(args, &[])
}

fn temp_file(suffix: &str, content: &str) -> tempfile::NamedTempFile {
    let file = tempfile::Builder::new().suffix(suffix).tempfile().unwrap();
    std::fs::write(file.path(), content).unwrap();
    file
}

fn path_of(file: &tempfile::NamedTempFile) -> String {
    file.path().display().to_string()
}

#[test]
fn confluent_cloud_client_properties() {
    let resolved = resolve(&["--config", &testdata("client.properties")]).unwrap();
    let config = resolved.config;
    let kafka = config.kafka.unwrap();
    assert_eq!(
        kafka.bootstrap_servers.as_slice(),
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
        &*registry.url,
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
    let resolved = resolve(&["--config", &testdata("config.yaml")]).unwrap();
    assert!(resolved.warnings.is_empty(), "{:?}", resolved.warnings);
    let config = resolved.config;
    let kafka = config.kafka.unwrap();
    assert_eq!(
        kafka.bootstrap_servers.as_slice(),
        ["broker-1.example:9093", "broker-2.example:9093"]
    );
    assert_eq!(kafka.sasl_mechanism, SaslMechanism::ScramSha512);
    assert_eq!(
        kafka.api_secret.unwrap().expose(),
        "yaml-secret-DISTINCTIVE-0003"
    );
    let registry = config.registry.unwrap();
    assert_eq!(&*registry.url, "https://registry.example/apis/ccompat/v7");
    assert_eq!(registry.timeout, Duration::from_secs(15));
    assert_eq!(config.topic, "shoes-from-yaml");
    assert_eq!(
        config.schema.subject_name_strategy,
        SubjectNameStrategy::TopicRecord
    );
    assert_eq!(config.run.count, Some(5000));
    assert_eq!(config.run.rate, Some(250));
    assert_eq!(config.run.seed, Some(u64::MAX));
    assert_eq!(config.run.id_start, 1_000_000);
    assert_eq!(
        (config.run.instance.index, config.run.instance.count),
        (1, 3)
    );
    assert_eq!(config.run.progress_interval, Duration::from_secs(2));
    assert_eq!(
        config.run.metrics_addr,
        Some("127.0.0.1:9464".parse().unwrap())
    );
    let creation = config.run.create_topic.unwrap();
    assert_eq!((creation.partitions, creation.replication_factor), (3, 1));
    let producer = config.producer;
    assert_eq!(producer.acks, Acks::Leader);
    assert!(!producer.enable_idempotence);
    assert_eq!(producer.compression, Compression::Zstd);
    assert_eq!(producer.batch_size.get(), 65536);
    assert_eq!(producer.max_in_flight.get(), 3);
    assert_eq!(producer.buffer_memory.get(), 16_777_216);
    assert_eq!(producer.delivery_timeout, Duration::from_secs(45));
    assert_eq!(producer.metadata_max_age, Duration::from_secs(60));
    assert_eq!(producer.partitioner, PartitionerKind::RoundRobin);
    assert_eq!(config.log_format, LogFormat::Json);
}

#[test]
fn flags_beat_environment_beat_file_beat_defaults() {
    let file = temp_file(
        ".yaml",
        "bootstrap-servers: file-broker:9092\nsecurity-protocol: PLAINTEXT\nschema-registry-url: http://r:1\ntopic: from-file\nrate: 100\ncompression: gzip\n",
    );
    let path = path_of(&file);
    let env = [
        ("KAFKA_TOPIC", "from-env"),
        ("BOOTSTRAP_SERVERS", "env-broker:9092"),
    ];

    let config = resolve_in(
        &["--config", &path, "--topic", "from-flag", "--rate", "5"],
        &env,
    )
    .unwrap()
    .config;
    assert_eq!(config.topic, "from-flag", "flag beats environment and file");
    assert_eq!(
        config.kafka.as_ref().unwrap().bootstrap_servers.as_slice(),
        ["env-broker:9092"],
        "environment beats file"
    );
    assert_eq!(
        config.producer.compression,
        Compression::Gzip,
        "file beats default"
    );
    assert_eq!(config.run.rate, Some(5));
    assert_eq!(
        config.producer.acks,
        Acks::All,
        "default when no source sets it"
    );

    let config = resolve_in(&["check", "--config", &path], &env)
        .unwrap()
        .config;
    assert_eq!(config.topic, "from-env", "environment beats file");

    let config = resolve(&["check", "--config", &path]).unwrap().config;
    assert_eq!(config.topic, "from-file");
    assert_eq!(
        config.kafka.unwrap().bootstrap_servers.as_slice(),
        ["file-broker:9092"]
    );

    // A flag given explicitly with the default's value still beats the file.
    let config = resolve(&["--config", &path, "--compression", "none"])
        .unwrap()
        .config;
    assert_eq!(config.producer.compression, Compression::None);
}

#[test]
fn an_empty_environment_variable_counts_as_unset() {
    let file = temp_file(".yaml", "topic: from-file\n");
    let config = resolve_in(
        &["sample", "--config", &path_of(&file)],
        &[("KAFKA_TOPIC", "")],
    )
    .unwrap()
    .config;
    assert_eq!(config.topic, "shoes", "sample does not take --topic");
    let config = resolve_in(
        &[
            "check",
            "--config",
            &path_of(&file),
            "--bootstrap-servers",
            "b:1",
            "--security-protocol",
            "PLAINTEXT",
        ],
        &[("KAFKA_TOPIC", "  ")],
    )
    .unwrap()
    .config;
    assert_eq!(
        config.topic, "from-file",
        "the blank variable does not hide the file"
    );
}

#[test]
fn environment_overrides_client_properties_credentials() {
    let env = [
        ("KAFKA_API_SECRET", "env-secret"),
        ("SCHEMA_REGISTRY_URL", "https://env-registry.example"),
    ];
    let config = resolve_in(&["--config", &testdata("client.properties")], &env)
        .unwrap()
        .config;
    assert_eq!(
        config.kafka.unwrap().api_secret.unwrap().expose(),
        "env-secret"
    );
    assert_eq!(
        &*config.registry.unwrap().url,
        "https://env-registry.example"
    );
}

#[test]
fn console_placeholders_are_named_and_then_missing() {
    let file = temp_file(
        ".properties",
        "bootstrap.servers=b:9092\nsasl.username={{ CLUSTER_API_KEY }}\nsasl.password={{ CLUSTER_API_SECRET }}\nschema.registry.url=https://r\n",
    );
    let error = resolve(&["--config", &path_of(&file)]).unwrap_err();
    assert!(
        error.starts_with("--kafka-api-key / KAFKA_API_KEY is required"),
        "{error}"
    );

    let env = [("KAFKA_API_KEY", "k"), ("KAFKA_API_SECRET", "s")];
    let resolved = resolve_in(&["--config", &path_of(&file)], &env).unwrap();
    let placeholder_warning = resolved
        .warnings
        .iter()
        .find(|w| w.contains("placeholders"))
        .unwrap();
    assert!(
        placeholder_warning.contains("'sasl.username', 'sasl.password'"),
        "{placeholder_warning}"
    );
}

#[test]
fn properties_detected_by_content_and_bad_values_name_the_key() {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        file.path(),
        "bootstrap.servers=b:9092\nsecurity.protocol=PLAINTEXT\nschema.registry.url=http://r:1\ncompression.type=brotli\n",
    )
    .unwrap();
    let error = resolve(&["--config", &path_of(&file)]).unwrap_err();
    assert!(
        error.starts_with("--compression (from `compression.type` in "),
        "{error}"
    );
    // sample does not take --compression: a shared file's value for another command is left alone.
    assert!(resolve(&["sample", "--config", &path_of(&file)]).is_ok());
}

#[test]
fn missing_malformed_and_oversized_files_are_usage_errors() {
    let error = resolve(&["sample", "--config", "/nonexistent/shoe-producer.yaml"]).unwrap_err();
    assert!(
        error.starts_with("--config: cannot read '/nonexistent/shoe-producer.yaml'"),
        "{error}"
    );
    let file = temp_file(".yml", "topic: \"unclosed\n");
    let error = resolve(&["sample", "--config", &path_of(&file)]).unwrap_err();
    assert!(error.contains("is not valid YAML at line"), "{error}");
    let error = resolve(&["sample", "--config", "/dev/zero"]).unwrap_err();
    assert!(
        error.contains("it is a device, not a regular file"),
        "{error}"
    );
    let big = temp_file(
        ".yaml",
        &format!("# {}\n", "x".repeat(config::MAX_FILE_BYTES)),
    );
    let error = resolve(&["sample", "--config", &path_of(&big)]).unwrap_err();
    assert!(error.contains("larger than 64 KiB"), "{error}");
}

#[test]
fn a_duplicate_key_is_named_with_its_line() {
    let file = temp_file(".yaml", "count: 5\nseed: 1\ncount: 6\n");
    let error = resolve(&["sample", "--config", &path_of(&file)]).unwrap_err();
    assert!(
        error.contains("duplicate key 'count'")
            && error.contains("at line 3 (first given at line 1)"),
        "{error}"
    );
}

#[test]
fn a_seed_written_as_a_json_string_is_read_back() {
    let max = "18446744073709551615";
    let quoted = temp_file(".yaml", &format!("seed: \"{max}\"\n"));
    let bare = temp_file(".yaml", &format!("seed: {max}\n"));
    for args in [
        vec!["sample", "--seed", max],
        vec!["sample", "--config", &path_of(&quoted)],
        vec!["sample", "--config", &path_of(&bare)],
    ] {
        let config = resolve(&args).unwrap().config;
        assert_eq!(config.run.seed, Some(u64::MAX), "{args:?}");
    }
    let error = resolve(&["sample", "--seed", "18446744073709551616"]).unwrap_err();
    assert!(
        error == "--seed: '18446744073709551616' is too large: at most 18446744073709551615",
        "{error}"
    );
}
