//! Validation through the whole path (command line → layers → typed settings), one rule per test,
//! and the empty-value and idempotence rules checked over every setting they concern.

use std::time::Duration;

use super::{
    declarations::ALL,
    file_tests::resolve_in,
    setting::{Kind, Property},
    Resolved,
};
use crate::{
    app::{
        command::Command,
        config::{self, instance_defaults, producer_defaults},
    },
    settings::{
        Acks, Compression, Instance, PartitionerKind, SaslMechanism, SecurityProtocol,
        TopicCreation,
    },
};

/// Flags that make a complete produce configuration needing no file.
const COMPLETE: [&str; 8] = [
    "--bootstrap-servers",
    "broker-1:9092, [::1]:9093",
    "--kafka-api-key",
    "KEY",
    "--kafka-api-secret",
    "SECRET-distinctive",
    "--schema-registry-url",
    "https://registry.example:8443/apis/ccompat/v7/",
];

fn ok(args: &[&str]) -> Resolved {
    ok_in(args, &[])
}

fn ok_in(args: &[&str], env: &[(&str, &str)]) -> Resolved {
    resolve_in(args, env).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn with<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args: Vec<&'a str> = COMPLETE.to_vec();
    args.extend_from_slice(extra);
    args
}

fn error(args: &[&str]) -> String {
    error_in(args, &[])
}

fn error_in(args: &[&str], env: &[(&str, &str)]) -> String {
    let message = match resolve_in(args, env) {
        Ok(resolved) => panic!("{args:?} resolved: {:?}", resolved.config),
        Err(message) => message,
    };
    assert!(!message.contains('\n'), "one line: {message}");
    assert!(!message.contains("distinctive"), "secret shown: {message}");
    message
}

#[test]
fn a_complete_configuration_resolves_with_the_declared_defaults() {
    let config = ok(&COMPLETE).config;
    let kafka = config.kafka.unwrap();
    assert_eq!(
        kafka.bootstrap_servers.as_slice(),
        ["broker-1:9092", "[::1]:9093"]
    );
    assert_eq!(kafka.security_protocol, SecurityProtocol::SaslSsl);
    assert_eq!(kafka.sasl_mechanism, SaslMechanism::Plain);
    assert_eq!(kafka.api_secret.unwrap().expose(), "SECRET-distinctive");
    let registry = config.registry.unwrap();
    assert_eq!(
        &*registry.url,
        "https://registry.example:8443/apis/ccompat/v7"
    );
    assert_eq!(registry.timeout, Duration::from_secs(30));
    assert_eq!(config.topic, "shoes");
    assert_eq!(config.run.rate, None);
    assert_eq!(config.run.id_start, 1);
    assert_eq!(config.run.instance, Instance { index: 0, count: 1 });
    assert!(config.schema.auto_register);
    let producer = config.producer;
    assert_eq!(producer.batch_size.get(), 1_048_576);
    assert_eq!(producer.buffer_memory.get(), 33_554_432);
    assert_eq!(producer.max_in_flight.get(), 5);
    assert_eq!(producer.linger, Duration::from_millis(5));
    assert_eq!(producer.delivery_timeout, Duration::from_secs(120));
    assert_eq!(producer.metadata_max_age, Duration::from_secs(300));
    assert!(producer.enable_idempotence);
    let defaults = producer_defaults();
    assert_eq!(
        (defaults.batch_size, defaults.linger, defaults.acks),
        (producer.batch_size, producer.linger, producer.acks)
    );
    assert_eq!(instance_defaults(), Instance { index: 0, count: 1 });
}

#[test]
fn each_command_needs_only_its_services() {
    let config = ok(&["sample", "--seed", "42"]).config;
    assert!(config.kafka.is_none() && config.registry.is_none());
    assert_eq!(config.run.seed, Some(42));
    let config = ok(&["register", "--schema-registry-url", "http://r:1"]).config;
    assert!(config.kafka.is_none() && config.registry.is_some());
    assert!(config::require_kafka(&config).is_err());
    let config = ok(&[
        "check",
        "--bootstrap-servers",
        "b:1",
        "--security-protocol",
        "plaintext",
    ])
    .config;
    assert!(config.registry.is_none(), "check's registry is optional");
    assert_eq!(
        config::require_registry(&config).unwrap_err().message(),
        error(&["register"]),
        "one message for a missing registry, whoever finds it"
    );
    let message = error(&["register"]);
    assert!(
        message.starts_with("no Schema Registry given: set --schema-registry-url"),
        "{message}"
    );
}

#[test]
fn missing_and_malformed_brokers() {
    let message = error(&["check"]);
    assert!(
        message.contains("--bootstrap-servers / BOOTSTRAP_SERVERS"),
        "{message}"
    );
    let message = error_in(&["check"], &[("BOOTSTRAP_SERVERS", "broker-1")]);
    assert_eq!(
        message,
        "--bootstrap-servers / BOOTSTRAP_SERVERS: 'broker-1' has no port; write host:port, e.g. 'broker-1:9092'"
    );
    let message = error(&["check", "--bootstrap-servers", "::1:9093"]);
    assert!(message.contains("e.g. '[::1]:9093'"), "{message}");
    let message = error(&["check", "--bootstrap-servers", "a:1;b:2"]);
    assert!(
        message.contains("separate servers with commas, e.g. 'a:1,b:2'"),
        "{message}"
    );
    let message = error(&["check", "--bootstrap-server", "a:1 b:2"]);
    assert!(
        message.starts_with("--bootstrap-servers / BOOTSTRAP_SERVERS: 'a:1 b:2' holds a space"),
        "{message}"
    );
}

#[test]
fn unknown_choices_list_the_valid_ones() {
    let message = error_in(&COMPLETE, &[("KAFKA_SECURITY_PROTOCOL", "TLS")]);
    assert_eq!(
        message,
        "--security-protocol / KAFKA_SECURITY_PROTOCOL: unknown value 'TLS'; use one of SASL_SSL, SSL, SASL_PLAINTEXT, PLAINTEXT"
    );
    assert!(error(&with(&["--compression", "brotli"]))
        .starts_with("--compression: unknown value 'brotli'"));
    assert!(error(&with(&["--acks", "2"])).contains("use one of all, 1"));
    assert!(error(&with(&["--partitioner", "sticky"])).starts_with("--partitioner"));
    assert!(error(&with(&["--enable-idempotence", "yes"])).contains("use one of true, false"));
}

#[test]
fn rates_counts_durations_and_seeds() {
    assert!(error(&with(&["--rate", "-5"])).starts_with("--rate: '-5' is not a whole number"));
    assert!(error(&with(&["--rate", "1.5"])).starts_with("--rate"));
    assert!(error(&["sample", "--count", "0"]).starts_with("--count: '0'"));
    let message = error(&with(&["--duration", "30 parsecs"]));
    assert!(
        message.starts_with("--duration: '30 parsecs' is not a duration"),
        "{message}"
    );
    assert!(error(&with(&["--duration", "0s"])).contains("longer than zero"));
    let run = ok(&with(&["--rate", "0", "--duration", "1m30s"]))
        .config
        .run;
    assert_eq!(run.rate, None);
    assert_eq!(run.duration, Some(Duration::from_secs(90)));
    let message = error(&[
        "sample",
        "--id-start",
        "9223372036854775000",
        "--count",
        "1000",
    ]);
    assert!(message.contains("runs past the largest id"), "{message}");
}

#[test]
fn sasl_needs_key_and_secret_and_plaintext_does_not() {
    let message = error(&["check", "--bootstrap-servers", "b:1"]);
    assert!(
        message.starts_with(
            "--kafka-api-key / KAFKA_API_KEY is required with security protocol SASL_SSL"
        ),
        "{message}"
    );
    let message = error(&[
        "check",
        "--bootstrap-servers",
        "b:1",
        "--kafka-api-key",
        "K",
    ]);
    assert!(
        message.starts_with("--kafka-api-secret / KAFKA_API_SECRET"),
        "{message}"
    );
    let resolved = ok(&[
        "check",
        "--bootstrap-servers",
        "b:1",
        "--security-protocol",
        "plaintext",
        "--kafka-api-key",
        "K",
    ]);
    assert!(resolved.config.kafka.unwrap().api_key.is_none());
    assert_eq!(resolved.warnings.len(), 1, "{:?}", resolved.warnings);
}

#[test]
fn registry_url_key_and_secret() {
    let message = error_in(&["register"], &[("SCHEMA_REGISTRY_URL", "ftp://r:21")]);
    assert!(
        message.starts_with(
            "--schema-registry-url / SCHEMA_REGISTRY_URL: 'ftp://r:21' is not an http"
        ),
        "{message}"
    );
    let message = error(&[
        "register",
        "--schema-registry-url",
        "https://user:pw-distinctive@r",
    ]);
    assert!(message.contains("holds credentials"), "{message}");
    let message = error(&[
        "register",
        "--schema-registry-url",
        "http://r",
        "--schema-registry-api-key",
        "K",
    ]);
    assert!(
        message.starts_with("--schema-registry-api-key / SCHEMA_REGISTRY_API_KEY is set but --schema-registry-api-secret"),
        "{message}"
    );
    let resolved = ok(&[
        "register",
        "--schema-registry-url",
        "http://r",
        "--schema-registry-api-key",
        "K",
        "--schema-registry-api-secret",
        "S",
        "--registry-timeout",
        "5s",
    ]);
    assert_eq!(
        resolved.config.registry.unwrap().timeout,
        Duration::from_secs(5)
    );
    assert!(
        resolved.warnings[0].contains("unencrypted"),
        "{:?}",
        resolved.warnings
    );
    assert!(error(&[
        "register",
        "--schema-registry-url",
        "http://r",
        "--registry-timeout",
        "0s"
    ])
    .starts_with("--registry-timeout: '0s' must be longer than zero"));
}

#[test]
fn unreadable_ca_file_names_the_variable() {
    let message = error_in(
        &COMPLETE,
        &[("KAFKA_SSL_CA_LOCATION", "/nonexistent/ca.pem")],
    );
    assert!(
        message.starts_with(
            "--kafka-ca-file / KAFKA_SSL_CA_LOCATION: cannot read CA file '/nonexistent/ca.pem'"
        ),
        "{message}"
    );
}

#[test]
fn producer_knobs_and_messages_that_echo_what_was_configured() {
    let producer = ok(&with(&[
        "--acks",
        "-1",
        "--compression",
        "LZ4",
        "--linger",
        "0ms",
        "--batch-size",
        "16_384",
        "--delivery-timeout",
        "2m",
        "--partitioner",
        "round-robin",
        "--metadata-max-age",
        "30s",
    ]))
    .config
    .producer;
    assert_eq!(producer.acks, Acks::All);
    assert_eq!(producer.compression, Compression::Lz4);
    assert_eq!(producer.linger, Duration::ZERO);
    assert_eq!(producer.batch_size.get(), 16_384);
    assert_eq!(producer.delivery_timeout, Duration::from_secs(120));
    assert_eq!(producer.partitioner, PartitionerKind::RoundRobin);
    assert_eq!(producer.metadata_max_age, Duration::from_secs(30));
    assert_eq!(
        error(&with(&["--buffer-memory", "10", "--batch-size", "1_00"])),
        "--buffer-memory ('10') is smaller than --batch-size ('1_00'); raise --buffer-memory or lower --batch-size"
    );
    assert_eq!(
        error(&with(&["--delivery-timeout", "9s", "--linger", "10s"])),
        "--delivery-timeout ('9s') must be at least --linger ('10s') plus --request-timeout ('30s')"
    );
    let raised = ok(&with(&["--linger", "1000h"])).config.producer;
    assert_eq!(
        raised.delivery_timeout,
        Duration::from_secs(1000 * 3600 + 30),
        "a default delivery timeout makes room for a long linger"
    );
    assert!(error(&with(&["--max-in-flight", "0"])).starts_with("--max-in-flight: '0'"));
}

#[test]
fn idempotence_refuses_explicit_conflicts_and_yields_to_implicit_ones() {
    let message = error(&with(&["--enable-idempotence", "true", "--acks", "1"]));
    assert_eq!(
        message,
        "--enable-idempotence / KAFKA_ENABLE_IDEMPOTENCE true conflicts with --acks '1': it needs all; \
         change --acks, or set --enable-idempotence / KAFKA_ENABLE_IDEMPOTENCE false"
    );
    let message = error_in(
        &with(&["--max-in-flight", "6"]),
        &[("KAFKA_ENABLE_IDEMPOTENCE", "TRUE")],
    );
    assert!(
        message.contains(
            "KAFKA_ENABLE_IDEMPOTENCE true conflicts with --max-in-flight '6': it needs at most 5"
        ),
        "{message}"
    );
    for extra in [["--acks", "1"], ["--max-in-flight", "6"]] {
        let resolved = ok(&with(&extra));
        assert!(!resolved.config.producer.enable_idempotence, "{extra:?}");
        let warnings: Vec<_> = resolved
            .warnings
            .iter()
            .filter(|w| w.contains("idempotent producer is off"))
            .collect();
        assert_eq!(warnings.len(), 1, "{extra:?}: {:?}", resolved.warnings);
        assert!(warnings[0].contains(extra[0]), "{}", warnings[0]);
    }
    let resolved = ok(&with(&["--enable-idempotence", "false", "--acks", "1"]));
    assert!(!resolved.config.producer.enable_idempotence);
    assert!(resolved.warnings.is_empty(), "{:?}", resolved.warnings);
    let resolved = ok(&with(&["--acks", "all", "--max-in-flight", "5"]));
    assert!(resolved.config.producer.enable_idempotence);
    let file = tempfile::Builder::new()
        .suffix(".properties")
        .tempfile()
        .unwrap();
    std::fs::write(file.path(), "enable.idempotence=true\nacks=1\n").unwrap();
    let path = file.path().display().to_string();
    let message = error(&with(&["--config", &path]));
    assert!(
        message.contains("(from `enable.idempotence` in") && message.contains("(from `acks` in"),
        "{message}"
    );
}

#[test]
fn instances_come_from_flags_or_the_indexed_job() {
    let job = [("JOB_COMPLETION_INDEX", "2")];
    let run = ok_in(&["sample", "--instances", "3"], &job).config.run;
    assert_eq!(run.instance, Instance { index: 2, count: 3 });
    let run = ok_in(&["sample", "--instances", "3", "--instance", "0"], &job)
        .config
        .run;
    assert_eq!(
        run.instance,
        Instance { index: 0, count: 3 },
        "the flag wins"
    );
    let message = error_in(&["sample"], &job);
    assert_eq!(
        message,
        "--instance / JOB_COMPLETION_INDEX is 2 but --instances is 1: instances are numbered from 0 to 0; \
         give --instances the number of instances"
    );
    assert!(error(&["sample", "--instances", "0"])
        .starts_with("--instances: '0' is not a number of instances"));
    assert!(error(&["sample", "--instance", "-1"])
        .starts_with("--instance / JOB_COMPLETION_INDEX: '-1'"));
}

#[test]
fn metrics_address_forms() {
    let addr = |text: &'static str| {
        resolve_in(&with(&["--metrics-addr", text]), &[]).map(|r| r.config.run.metrics_addr)
    };
    assert_eq!(
        addr(":9100").unwrap(),
        Some("0.0.0.0:9100".parse().unwrap())
    );
    assert_eq!(
        addr("localhost:0").unwrap(),
        Some("127.0.0.1:0".parse().unwrap())
    );
    assert!(addr("metrics.local:9100")
        .unwrap_err()
        .starts_with("--metrics-addr"));
}

#[test]
fn topic_names_and_topic_creation() {
    assert!(error(&with(&["--topic", "bad topic"])).starts_with("--topic / KAFKA_TOPIC"));
    let run = ok(&with(&[
        "--create-topic",
        "--partitions",
        "3",
        "--replication-factor",
        "1",
    ]))
    .config
    .run;
    assert_eq!(
        run.create_topic,
        Some(TopicCreation {
            partitions: 3,
            replication_factor: 1
        })
    );
    assert!(error(&with(&["--replication-factor", "0"])).starts_with("--replication-factor"));
    let resolved = ok(&with(&["--partitions", "3"]));
    assert!(resolved.warnings[0].contains("ignored without --create-topic"));
}

/// A base that lets `command` resolve, so a failure can only come from the setting under test
/// (`--{except}`, left out of the base).
fn base(command: Command, except: &str) -> Vec<&'static str> {
    let mut pairs = Vec::new();
    if matches!(command, Command::Produce | Command::Check) {
        pairs.extend([
            ("bootstrap-servers", "b:1"),
            ("security-protocol", "PLAINTEXT"),
        ]);
    }
    if matches!(command, Command::Produce | Command::Register) {
        pairs.push(("schema-registry-url", "http://r:1"));
    }
    let mut args = vec![command.name()];
    for (long, value) in pairs.into_iter().filter(|(long, _)| *long != except) {
        args.push(match long {
            "bootstrap-servers" => "--bootstrap-servers",
            "security-protocol" => "--security-protocol",
            _ => "--schema-registry-url",
        });
        args.push(value);
    }
    args
}

#[test]
fn an_empty_value_is_an_error_for_every_flag_of_every_command() {
    for command in Command::WITH_SETTINGS {
        for setting in ALL {
            let spec = setting.spec();
            if !spec.takes(command) || spec.kind != Kind::Value {
                continue;
            }
            for form in [
                vec![format!("--{}", spec.long), String::new()],
                vec![format!("--{}=", spec.long)],
                vec![format!("--{}", spec.long), " ".to_owned()],
            ] {
                let mut args: Vec<&str> = base(command, spec.long);
                args.extend(form.iter().map(String::as_str));
                let message = error(&args);
                assert!(
                    message.starts_with(&format!("{}: the value is empty", spec.label())),
                    "{args:?}: {message}"
                );
            }
        }
    }
}

#[test]
fn an_empty_value_in_a_file_is_an_error_for_every_key() {
    for setting in ALL {
        let spec = setting.spec();
        if spec.in_file {
            for value in ["", " \"\"", " ~", " ''"] {
                let file = tempfile::Builder::new().suffix(".yaml").tempfile().unwrap();
                std::fs::write(file.path(), format!("{}:{value}\n", spec.long)).unwrap();
                let message = error(&["sample", "--config", &file.path().display().to_string()]);
                let expected = format!("{} (from `{}` in ", spec.label(), spec.long);
                assert!(message.starts_with(&expected), "{value:?}: {message}");
                assert!(message.contains("the value is empty"), "{message}");
            }
        }
        for property in spec.properties {
            let file = tempfile::Builder::new()
                .suffix(".properties")
                .tempfile()
                .unwrap();
            std::fs::write(file.path(), format!("{}=\n", property.key())).unwrap();
            let message = error(&["sample", "--config", &file.path().display().to_string()]);
            assert!(message.contains(property.key()), "{message}");
            if !matches!(property, Property::Part(_)) {
                assert!(message.contains("the value is empty"), "{message}");
            }
        }
    }
}

#[test]
fn an_empty_environment_variable_is_the_same_as_none_for_every_variable() {
    for command in Command::WITH_SETTINGS {
        for setting in ALL {
            let spec = setting.spec();
            let Some(variable) = spec.env else { continue };
            let args = base(command, "");
            let unset = format!("{:?}", resolve_in(&args, &[]).map(|r| r.config));
            for blank in ["", "  "] {
                let empty = format!(
                    "{:?}",
                    resolve_in(&args, &[(variable, blank)]).map(|r| r.config)
                );
                assert_eq!(empty, unset, "{variable}={blank:?} for {}", command.name());
            }
        }
    }
}

#[test]
fn auto_registration_is_checked_before_the_latest_version_as_confluent_does() {
    let schema = |extra: &[&str], properties: &str| {
        let file = tempfile::Builder::new()
            .suffix(".properties")
            .tempfile()
            .unwrap();
        std::fs::write(file.path(), properties).unwrap();
        let path = file.path().display().to_string();
        let mut args = with(&["--config", &path]);
        args.extend_from_slice(extra);
        let resolved = ok(&args);
        let warned = resolved
            .warnings
            .iter()
            .any(|w| w.contains("--use-latest-version") && w.contains("checked first"));
        let schema = resolved.config.schema;
        (schema.auto_register, schema.use_latest_version, warned)
    };
    // Neither: register. The latest version alone: it turns the default registration off.
    assert_eq!(schema(&[], ""), (true, false, false));
    assert_eq!(schema(&["--use-latest-version"], ""), (false, true, false));
    assert_eq!(
        schema(
            &[],
            "auto.register.schemas=false\nuse.latest.version=true\n"
        ),
        (false, true, false)
    );
    // Both turned on explicitly: registration wins, and a warning says why.
    assert_eq!(
        schema(&[], "auto.register.schemas=true\nuse.latest.version=true\n"),
        (true, false, true)
    );
    assert_eq!(
        schema(&["--use-latest-version"], "auto.register.schemas=true\n"),
        (true, false, true)
    );
    // The flag wins over the file, as for every setting.
    assert_eq!(
        schema(&["--no-auto-register"], "auto.register.schemas=true\n"),
        (false, false, false)
    );
}

#[test]
fn delivery_timeout_holds_linger_and_one_request() {
    let producer = ok(&with(&[
        "--request-timeout",
        "10s",
        "--max-request-size",
        "2_000_000",
    ]))
    .config
    .producer;
    assert_eq!(producer.request_timeout, Duration::from_secs(10));
    assert_eq!(producer.max_request_size.get(), 2_000_000);
    assert_eq!(
        error(&with(&[
            "--delivery-timeout",
            "20s",
            "--request-timeout",
            "20s"
        ])),
        "--delivery-timeout ('20s') must be at least --linger ('5ms') plus --request-timeout ('20s')"
    );
    let raised = ok(&with(&["--request-timeout", "200s"])).config.producer;
    assert_eq!(
        raised.delivery_timeout,
        Duration::from_secs(200) + Duration::from_millis(5)
    );
}
