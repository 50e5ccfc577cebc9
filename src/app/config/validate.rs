//! Raw setting text → typed [`Config`], with every check that can be made before touching the network.
//!
//! Each problem is one line that names the flag and its environment variable (and the config-file key
//! when the value came from a file), quotes the bad value unless it is a secret, and says what to write
//! instead. The only I/O here is reading the CA files, so an unreadable one fails now, not mid-connect.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    path::PathBuf,
    str::FromStr,
    time::Duration,
};

use crate::{
    app::settings::{
        Acks, Compression, Config, Instance, KafkaSettings, LogFormat, PartitionerKind,
        ProducerSettings, RegistrySettings, RunSettings, SaslMechanism, SchemaSettings,
        SecurityProtocol, SubjectNameStrategy, TopicCreation,
    },
    support::secret::Secret,
    support::tls::read_ca_file,
};

use super::{ConfigError, Layer, Needs, Setting, Value};

/// Bound on connecting to the brokers and fetching metadata (no flag; generous for Cloud, short
/// enough that a wrong password fails fast).
pub const KAFKA_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Bound on one Schema Registry request.
pub const REGISTRY_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

type Result<T> = std::result::Result<T, ConfigError>;

/// Builds the typed configuration from the merged layer. Only the sections `needs` asks for are
/// required; `warnings` collects settings that are given but have no effect.
pub fn validate(layer: &Layer, needs: Needs, warnings: &mut Vec<String>) -> Result<Config> {
    let topic = topic(layer)?;
    let kafka = if needs.kafka {
        Some(kafka(layer, warnings)?)
    } else {
        None
    };
    let registry_given = layer.get(Setting::SchemaRegistryUrl).is_some();
    let registry = if needs.registry || (needs.registry_optional && registry_given) {
        Some(registry(layer, warnings)?)
    } else {
        None
    };
    let producer = producer(layer)?;
    let run = run(layer, warnings)?;
    let log_format = choice(
        layer,
        Setting::LogFormat,
        &[("text", LogFormat::Text), ("json", LogFormat::Json)],
    )?
    .unwrap_or(LogFormat::Text);
    let schema = SchemaSettings {
        subject_name_strategy: choice(
            layer,
            Setting::SubjectNameStrategy,
            &[
                ("topic", SubjectNameStrategy::Topic),
                ("record", SubjectNameStrategy::Record),
                ("topic-record", SubjectNameStrategy::TopicRecord),
                ("TopicNameStrategy", SubjectNameStrategy::Topic),
                ("RecordNameStrategy", SubjectNameStrategy::Record),
                ("TopicRecordNameStrategy", SubjectNameStrategy::TopicRecord),
            ],
        )?
        .unwrap_or(SubjectNameStrategy::Topic),
        auto_register: !switch(layer, Setting::NoAutoRegister),
        use_latest_version: switch(layer, Setting::UseLatestVersion),
    };
    Ok(Config {
        kafka,
        registry,
        schema,
        producer,
        run,
        topic,
        log_format,
    })
}

fn kafka(layer: &Layer, warnings: &mut Vec<String>) -> Result<KafkaSettings> {
    let Some(servers) = layer.get(Setting::BootstrapServers) else {
        return Err(ConfigError(format!(
            "no Kafka brokers given: set {} (host:port[,host:port…]), or bootstrap.servers in the --config file",
            Setting::BootstrapServers.label()
        )));
    };
    let bootstrap_servers = bootstrap_servers(servers)?;
    let security_protocol = choice(
        layer,
        Setting::SecurityProtocol,
        &[
            ("SASL_SSL", SecurityProtocol::SaslSsl),
            ("SSL", SecurityProtocol::Ssl),
            ("SASL_PLAINTEXT", SecurityProtocol::SaslPlaintext),
            ("PLAINTEXT", SecurityProtocol::Plaintext),
        ],
    )?
    .unwrap_or(SecurityProtocol::SaslSsl);
    let sasl_mechanism = choice(
        layer,
        Setting::SaslMechanism,
        &[
            ("PLAIN", SaslMechanism::Plain),
            ("SCRAM-SHA-256", SaslMechanism::ScramSha256),
            ("SCRAM-SHA-512", SaslMechanism::ScramSha512),
        ],
    )?
    .unwrap_or(SaslMechanism::Plain);

    let api_key = layer
        .get(Setting::KafkaApiKey)
        .map(|v| v.text.trim().to_owned());
    let api_secret = layer
        .get(Setting::KafkaApiSecret)
        .map(|v| Secret::new(v.text.clone()));
    if security_protocol.uses_sasl() {
        let protocol = security_protocol.as_str();
        if api_key.is_none() {
            return Err(ConfigError(format!(
                "{} is required with security protocol {protocol}: set it to the Kafka API key (SASL username), \
                 or use --security-protocol SSL or PLAINTEXT for a cluster without SASL",
                Setting::KafkaApiKey.label()
            )));
        }
        if api_secret.is_none() {
            return Err(ConfigError(format!(
                "{} is required with security protocol {protocol}: set it to the Kafka API secret (SASL password)",
                Setting::KafkaApiSecret.label()
            )));
        }
    } else if api_key.is_some() || api_secret.is_some() {
        warnings.push(format!(
            "the Kafka API key/secret are ignored: security protocol {} uses no SASL",
            security_protocol.as_str()
        ));
    }

    let ca_file = ca_file(layer, Setting::KafkaCaFile)?;
    if ca_file.is_some() && !security_protocol.uses_tls() {
        warnings.push(format!(
            "{} is ignored: security protocol {} uses no TLS",
            Setting::KafkaCaFile.label(),
            security_protocol.as_str()
        ));
    }
    Ok(KafkaSettings {
        bootstrap_servers,
        security_protocol,
        sasl_mechanism,
        api_key: api_key.filter(|_| security_protocol.uses_sasl()),
        api_secret: api_secret.filter(|_| security_protocol.uses_sasl()),
        ca_file,
        connect_timeout: KAFKA_CONNECT_TIMEOUT,
    })
}

/// `host:port` pairs, comma separated; IPv6 hosts in brackets.
fn bootstrap_servers(value: &Value) -> Result<Vec<String>> {
    let mut servers = Vec::new();
    for entry in value
        .text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        if entry.contains("://") {
            return Err(ConfigError(format!(
                "{}: '{entry}' has a scheme; write host:port only and choose the protocol with --security-protocol",
                value.label()
            )));
        }
        let (host, port) = match entry.rsplit_once(':') {
            Some((host, port))
                if !host.is_empty() && (!host.contains(':') || host.starts_with('[')) =>
            {
                (host, port)
            }
            _ => {
                return Err(ConfigError(format!(
                    "{}: '{entry}' has no port; write host:port, e.g. {}:9092",
                    value.label(),
                    entry.trim_end_matches(':')
                )))
            }
        };
        match port.parse::<u16>() {
            Ok(p) if p > 0 => servers.push(format!("{host}:{p}")),
            _ => {
                return Err(ConfigError(format!(
                    "{}: '{entry}' has an invalid port '{port}'; write host:port with a port from 1 to 65535",
                    value.label()
                )))
            }
        }
    }
    if servers.is_empty() {
        return Err(ConfigError(format!(
            "{}: no host:port given",
            value.label()
        )));
    }
    Ok(servers)
}

fn registry(layer: &Layer, warnings: &mut Vec<String>) -> Result<RegistrySettings> {
    let Some(value) = layer.get(Setting::SchemaRegistryUrl) else {
        return Err(ConfigError(format!(
            "no Schema Registry given: set {} (https://…), or schema.registry.url in the --config file",
            Setting::SchemaRegistryUrl.label()
        )));
    };
    let url = registry_url(value)?;
    let api_key = layer
        .get(Setting::SchemaRegistryApiKey)
        .map(|v| v.text.trim().to_owned());
    let api_secret = layer
        .get(Setting::SchemaRegistryApiSecret)
        .map(|v| Secret::new(v.text.clone()));
    match (&api_key, &api_secret) {
        (Some(_), None) => {
            return Err(ConfigError(format!(
                "{} is set but {} is not: give both (the Schema Registry API key and secret) or neither",
                Setting::SchemaRegistryApiKey.label(),
                Setting::SchemaRegistryApiSecret.label()
            )))
        }
        (None, Some(_)) => {
            return Err(ConfigError(format!(
                "{} is set but {} is not: give both (the Schema Registry API key and secret) or neither",
                Setting::SchemaRegistryApiSecret.label(),
                Setting::SchemaRegistryApiKey.label()
            )))
        }
        _ => {}
    }
    let https = url.starts_with("https://");
    if !https && api_key.is_some() {
        warnings.push(format!(
            "{} is http://: the Schema Registry API secret will cross the network unencrypted",
            Setting::SchemaRegistryUrl.label()
        ));
    }
    let ca_file = ca_file(layer, Setting::SchemaRegistryCaFile)?;
    if ca_file.is_some() && !https {
        warnings.push(format!(
            "{} is ignored: the registry URL is http://",
            Setting::SchemaRegistryCaFile.label()
        ));
    }
    Ok(RegistrySettings {
        url,
        api_key,
        api_secret,
        ca_file,
        timeout: REGISTRY_REQUEST_TIMEOUT,
    })
}

/// An http(s) URL without credentials, query or fragment, returned without its trailing slash. The
/// URL is quoted in errors only once it is known to hold neither user info nor a query.
fn registry_url(value: &Value) -> Result<String> {
    let label = value.label();
    let parsed = url::Url::parse(value.text.trim()).map_err(|e| {
        ConfigError(format!("{label}: not a valid URL ({e}); write e.g. https://psrc-xxxxx.region.provider.confluent.cloud"))
    })?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(ConfigError(format!(
            "{label}: the URL holds credentials; remove `user:password@` and set {} and {} instead",
            Setting::SchemaRegistryApiKey.label(),
            Setting::SchemaRegistryApiSecret.label()
        )));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        // Not quoted: a query may carry a token.
        return Err(ConfigError(format!(
            "{label}: the URL has a query or fragment; give the registry's base URL only"
        )));
    }
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(ConfigError(format!(
            "{label}: '{}' is not an http:// or https:// URL; write e.g. https://psrc-xxxxx.region.provider.confluent.cloud",
            value.text.trim()
        )));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(ConfigError(format!(
            "{label}: '{}' has no host",
            value.text.trim()
        )));
    }
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

/// A CA file that exists and holds at least one PEM certificate.
fn ca_file(layer: &Layer, setting: Setting) -> Result<Option<PathBuf>> {
    let Some(value) = layer.get(setting) else {
        return Ok(None);
    };
    let path = PathBuf::from(value.text.trim());
    read_ca_file(&path).map_err(|e| {
        ConfigError(format!(
            "{}: {e}; point it at a PEM file of CA certificates",
            value.label()
        ))
    })?;
    Ok(Some(path))
}

fn topic(layer: &Layer) -> Result<String> {
    let Some(value) = layer.get(Setting::Topic) else {
        return Ok("shoes".to_owned());
    };
    let topic = value.text.trim();
    let legal = topic.len() <= 249
        && topic != "."
        && topic != ".."
        && topic
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !legal {
        return Err(ConfigError(format!(
            "{}: '{topic}' is not a legal Kafka topic name; use up to 249 of a-z A-Z 0-9 . _ -",
            value.label()
        )));
    }
    Ok(topic.to_owned())
}

fn producer(layer: &Layer) -> Result<ProducerSettings> {
    let defaults = ProducerSettings::default();
    let acks = choice(
        layer,
        Setting::Acks,
        &[
            ("all", Acks::All),
            ("-1", Acks::All),
            ("1", Acks::Leader),
            ("0", Acks::None),
        ],
    )?
    .unwrap_or(defaults.acks);
    let compression = choice(
        layer,
        Setting::Compression,
        &[
            ("none", Compression::None),
            ("gzip", Compression::Gzip),
            ("snappy", Compression::Snappy),
            ("lz4", Compression::Lz4),
            ("zstd", Compression::Zstd),
        ],
    )?
    .unwrap_or(defaults.compression);
    let partitioner = choice(
        layer,
        Setting::Partitioner,
        &[
            ("murmur2", PartitionerKind::Murmur2),
            ("random", PartitionerKind::Random),
            ("round-robin", PartitionerKind::RoundRobin),
        ],
    )?
    .unwrap_or(defaults.partitioner);
    let linger = duration(layer, Setting::Linger, true)?.unwrap_or(defaults.linger);
    let batch_size =
        positive::<usize>(layer, Setting::BatchSize, "a number of bytes, e.g. 1048576")?
            .unwrap_or(defaults.batch_size);
    let max_in_flight =
        positive::<usize>(layer, Setting::MaxInFlight, "a number of requests, e.g. 5")?
            .unwrap_or(defaults.max_in_flight);
    let buffer_memory = positive::<usize>(
        layer,
        Setting::BufferMemory,
        "a number of bytes, e.g. 33554432",
    )?
    .unwrap_or(defaults.buffer_memory);
    let delivery_timeout =
        duration(layer, Setting::DeliveryTimeout, false)?.unwrap_or(defaults.delivery_timeout);
    if buffer_memory < batch_size {
        return Err(ConfigError(format!(
            "--buffer-memory ({buffer_memory}) is smaller than --batch-size ({batch_size}); raise --buffer-memory or lower --batch-size"
        )));
    }
    if delivery_timeout <= linger {
        return Err(ConfigError(format!(
            "--delivery-timeout ({}) must be longer than --linger ({})",
            humantime::format_duration(delivery_timeout),
            humantime::format_duration(linger)
        )));
    }
    Ok(ProducerSettings {
        acks,
        compression,
        linger,
        batch_size,
        max_in_flight,
        buffer_memory,
        delivery_timeout,
        partitioner,
        ..ProducerSettings::default()
    })
}

fn run(layer: &Layer, warnings: &mut Vec<String>) -> Result<RunSettings> {
    let count = positive::<u64>(
        layer,
        Setting::Count,
        "a number of records ≥ 1 (omit it to run until stopped)",
    )?;
    let run_for = duration(layer, Setting::Duration, false)?;
    let rate = number::<u64>(
        layer,
        Setting::Rate,
        "a whole number of records per second (0 = unlimited)",
    )?
    .filter(|&r| r > 0);
    let seed = number::<u64>(
        layer,
        Setting::Seed,
        "a whole number from 0 to 18446744073709551615",
    )?;
    let id_start = number::<i64>(
        layer,
        Setting::IdStart,
        "a whole number (the first shoe id)",
    )?
    .unwrap_or(1);
    if let Some(count) = count {
        if id_start.checked_add_unsigned(count).is_none() {
            return Err(ConfigError(format!(
                "--id-start {id_start} with --count {count} runs past the largest id (2^63-1); lower one of them"
            )));
        }
    }
    let create = switch(layer, Setting::CreateTopic);
    let partitions =
        positive::<i32>(layer, Setting::Partitions, "a number of partitions ≥ 1")?.unwrap_or(6);
    let replication_factor = number_where::<i16>(
        layer,
        Setting::ReplicationFactor,
        "a replication factor ≥ 1, or -1 for the broker's default",
        |&r| r >= 1 || r == -1,
    )?
    .unwrap_or(-1);
    if !create {
        for setting in [Setting::Partitions, Setting::ReplicationFactor] {
            if layer
                .get(setting)
                .is_some_and(|v| v.origin != super::Origin::Default)
            {
                warnings.push(format!(
                    "{} is ignored without --create-topic",
                    setting.label()
                ));
            }
        }
    }
    let progress_interval =
        duration(layer, Setting::ProgressInterval, true)?.unwrap_or(Duration::from_secs(5));
    let metrics_addr = match layer.get(Setting::MetricsAddr) {
        Some(value) => Some(metrics_addr(value)?),
        None => None,
    };
    let metrics_linger = duration(layer, Setting::MetricsLinger, true)?.unwrap_or(Duration::ZERO);
    Ok(RunSettings {
        count,
        duration: run_for,
        rate,
        seed,
        id_start,
        progress_interval,
        metrics_addr,
        metrics_linger,
        create_topic: create.then_some(TopicCreation {
            partitions,
            replication_factor,
        }),
        instance: Instance::default(),
    })
}

/// `IP:PORT`, `[IPv6]:PORT`, `localhost:PORT` or `:PORT` (all interfaces). No name lookups.
fn metrics_addr(value: &Value) -> Result<SocketAddr> {
    let text = value.text.trim();
    if let Ok(addr) = SocketAddr::from_str(text) {
        return Ok(addr);
    }
    let parsed = text.rsplit_once(':').and_then(|(host, port)| {
        let port = port.parse::<u16>().ok()?;
        let ip = match host {
            "" => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            "localhost" => IpAddr::V4(Ipv4Addr::LOCALHOST),
            _ => return None,
        };
        Some(SocketAddr::new(ip, port))
    });
    parsed.ok_or_else(|| {
        ConfigError(format!(
            "{}: '{text}' is not HOST:PORT with an IP address; write e.g. 0.0.0.0:9100 or 127.0.0.1:9100",
            value.label()
        ))
    })
}

fn switch(layer: &Layer, setting: Setting) -> bool {
    layer.get(setting).is_some_and(|v| v.text == "true")
}

/// One of `choices` (case-insensitive); the error lists the first spelling of each.
fn choice<T: Copy + PartialEq>(
    layer: &Layer,
    setting: Setting,
    choices: &[(&str, T)],
) -> Result<Option<T>> {
    let Some(value) = layer.get(setting) else {
        return Ok(None);
    };
    let text = value.text.trim();
    if let Some((_, chosen)) = choices
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(text))
    {
        return Ok(Some(*chosen));
    }
    let mut names: Vec<&str> = Vec::new();
    for (i, (name, chosen)) in choices.iter().enumerate() {
        if !choices[..i].iter().any(|(_, earlier)| earlier == chosen) {
            names.push(name);
        }
    }
    Err(ConfigError(format!(
        "{}: unknown value '{text}'; use one of {}",
        value.label(),
        names.join(", ")
    )))
}

fn number<T: FromStr>(layer: &Layer, setting: Setting, what: &str) -> Result<Option<T>> {
    number_where(layer, setting, what, |_| true)
}

fn positive<T: FromStr + PartialOrd + Default>(
    layer: &Layer,
    setting: Setting,
    what: &str,
) -> Result<Option<T>> {
    number_where(layer, setting, what, |n| *n > T::default())
}

/// A number (`_` separators allowed) that `acceptable` agrees with; otherwise "'…' is not {what}".
fn number_where<T: FromStr>(
    layer: &Layer,
    setting: Setting,
    what: &str,
    acceptable: impl Fn(&T) -> bool,
) -> Result<Option<T>> {
    let Some(value) = layer.get(setting) else {
        return Ok(None);
    };
    let text = value.text.trim();
    match text.replace('_', "").parse::<T>() {
        Ok(n) if acceptable(&n) => Ok(Some(n)),
        _ => Err(ConfigError(format!(
            "{}: '{text}' is not {what}",
            value.label()
        ))),
    }
}

/// A humantime duration (`30s`, `500ms`, `1h 30m`); zero only where `allow_zero`.
fn duration(layer: &Layer, setting: Setting, allow_zero: bool) -> Result<Option<Duration>> {
    let Some(value) = layer.get(setting) else {
        return Ok(None);
    };
    let text = value.text.trim();
    let parsed = humantime::parse_duration(text).map_err(|e| {
        ConfigError(format!(
            "{}: '{text}' is not a duration ({e}); write a number with a unit, e.g. 500ms, 30s, 5m, 1h30m",
            value.label()
        ))
    })?;
    if parsed.is_zero() && !allow_zero {
        return Err(ConfigError(format!(
            "{}: must be longer than zero, e.g. 30s",
            value.label()
        )));
    }
    Ok(Some(parsed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::config::Origin;

    fn layer(pairs: &[(Setting, &str)]) -> Layer {
        let mut layer = Layer::default();
        for (setting, text) in pairs {
            layer.set(*setting, *text, Origin::Flag);
        }
        layer
    }

    const ALL: Needs = Needs {
        kafka: true,
        registry: true,
        registry_optional: false,
    };
    const NOTHING: Needs = Needs {
        kafka: false,
        registry: false,
        registry_optional: false,
    };

    fn complete() -> Vec<(Setting, &'static str)> {
        vec![
            (Setting::BootstrapServers, "broker-1:9092, [::1]:9093"),
            (Setting::KafkaApiKey, "KEY"),
            (Setting::KafkaApiSecret, "SECRET-distinctive"),
            (
                Setting::SchemaRegistryUrl,
                "https://registry.example:8443/apis/ccompat/v7/",
            ),
        ]
    }

    fn error(pairs: &[(Setting, &str)], needs: Needs) -> String {
        let message = validate(&layer(pairs), needs, &mut Vec::new())
            .unwrap_err()
            .0;
        assert!(!message.contains('\n'), "one line: {message}");
        message
    }

    fn with(extra: &[(Setting, &'static str)]) -> Vec<(Setting, &'static str)> {
        let mut pairs = complete();
        pairs.extend_from_slice(extra);
        pairs
    }

    #[test]
    fn complete_config_resolves_with_defaults() {
        let config = validate(&layer(&complete()), ALL, &mut Vec::new()).unwrap();
        let kafka = config.kafka.unwrap();
        assert_eq!(kafka.bootstrap_servers, ["broker-1:9092", "[::1]:9093"]);
        assert_eq!(kafka.security_protocol, SecurityProtocol::SaslSsl);
        assert_eq!(kafka.sasl_mechanism, SaslMechanism::Plain);
        assert_eq!(kafka.api_secret.unwrap().expose(), "SECRET-distinctive");
        assert_eq!(
            config.registry.unwrap().url,
            "https://registry.example:8443/apis/ccompat/v7"
        );
        assert_eq!(config.topic, "shoes");
        assert_eq!(config.run.rate, None);
        assert_eq!(config.run.id_start, 1);
        assert!(config.schema.auto_register);
        let defaults = ProducerSettings::default();
        assert_eq!(config.producer.batch_size, defaults.batch_size);
        assert_eq!(config.producer.linger, defaults.linger);
    }

    #[test]
    fn sample_needs_no_connection_settings() {
        let config = validate(&layer(&[(Setting::Seed, "42")]), NOTHING, &mut Vec::new()).unwrap();
        assert!(config.kafka.is_none() && config.registry.is_none());
        assert_eq!(config.run.seed, Some(42));
    }

    #[test]
    fn missing_and_malformed_brokers() {
        let message = error(&[], ALL);
        assert!(
            message.contains("--bootstrap-servers / BOOTSTRAP_SERVERS"),
            "{message}"
        );
        let message = error(&with(&[(Setting::BootstrapServers, "broker-1")]), ALL);
        assert_eq!(
            message,
            "--bootstrap-servers / BOOTSTRAP_SERVERS: 'broker-1' has no port; write host:port, e.g. broker-1:9092"
        );
        assert!(
            error(&with(&[(Setting::BootstrapServers, "b:99999")]), ALL).contains("invalid port")
        );
        assert!(
            error(&with(&[(Setting::BootstrapServers, "SASL_SSL://b:1")]), ALL).contains("scheme")
        );
    }

    #[test]
    fn unknown_choices_list_the_valid_ones() {
        let message = error(&with(&[(Setting::SecurityProtocol, "TLS")]), ALL);
        assert_eq!(
            message,
            "--security-protocol / KAFKA_SECURITY_PROTOCOL: unknown value 'TLS'; use one of SASL_SSL, SSL, SASL_PLAINTEXT, PLAINTEXT"
        );
        assert!(error(&with(&[(Setting::Compression, "brotli")]), ALL)
            .starts_with("--compression: unknown value 'brotli'"));
        assert!(error(&with(&[(Setting::Acks, "2")]), ALL).contains("use one of all, 1, 0"));
        assert!(error(&with(&[(Setting::Partitioner, "sticky")]), ALL).starts_with("--partitioner"));
    }

    #[test]
    fn rates_counts_and_durations() {
        assert!(error(&[(Setting::Rate, "-5")], NOTHING)
            .starts_with("--rate: '-5' is not a whole number"));
        assert!(error(&[(Setting::Rate, "1.5")], NOTHING).starts_with("--rate"));
        assert!(error(&[(Setting::Count, "0")], NOTHING).starts_with("--count: '0'"));
        let message = error(&[(Setting::Duration, "30 parsecs")], NOTHING);
        assert!(
            message.starts_with("--duration: '30 parsecs' is not a duration"),
            "{message}"
        );
        assert!(error(&[(Setting::Duration, "0s")], NOTHING).contains("longer than zero"));
        let run = validate(
            &layer(&[(Setting::Rate, "0"), (Setting::Duration, "1m30s")]),
            NOTHING,
            &mut Vec::new(),
        )
        .unwrap()
        .run;
        assert_eq!(run.rate, None);
        assert_eq!(run.duration, Some(Duration::from_secs(90)));
    }

    #[test]
    fn sasl_needs_key_and_secret_and_plaintext_does_not() {
        let message = error(&[(Setting::BootstrapServers, "b:1")], ALL);
        assert!(
            message.starts_with(
                "--kafka-api-key / KAFKA_API_KEY is required with security protocol SASL_SSL"
            ),
            "{message}"
        );
        let message = error(
            &[
                (Setting::BootstrapServers, "b:1"),
                (Setting::KafkaApiKey, "K"),
            ],
            ALL,
        );
        assert!(
            message.starts_with("--kafka-api-secret / KAFKA_API_SECRET"),
            "{message}"
        );
        let mut warnings = Vec::new();
        let pairs = [
            (Setting::BootstrapServers, "b:1"),
            (Setting::SecurityProtocol, "plaintext"),
            (Setting::KafkaApiKey, "K"),
            (Setting::SchemaRegistryUrl, "http://r:8081"),
        ];
        let config = validate(&layer(&pairs), ALL, &mut warnings).unwrap();
        assert!(config.kafka.unwrap().api_key.is_none());
        assert_eq!(warnings.len(), 1, "{warnings:?}");
    }

    #[test]
    fn registry_url_must_be_http_without_credentials() {
        let message = error(&with(&[(Setting::SchemaRegistryUrl, "ftp://r:21")]), ALL);
        assert!(
            message.starts_with(
                "--schema-registry-url / SCHEMA_REGISTRY_URL: 'ftp://r:21' is not an http"
            ),
            "{message}"
        );
        let message = error(
            &with(&[(Setting::SchemaRegistryUrl, "https://user:pw-distinctive@r")]),
            ALL,
        );
        assert!(message.contains("holds credentials"), "{message}");
        assert!(!message.contains("pw-distinctive"), "{message}");
        let message = error(
            &with(&[(Setting::SchemaRegistryUrl, "ftp://r/?token=tk-distinctive")]),
            ALL,
        );
        assert!(message.contains("query or fragment"), "{message}");
        assert!(!message.contains("tk-distinctive"), "{message}");
        let message = error(&with(&[(Setting::SchemaRegistryUrl, "registry:8081")]), ALL);
        assert!(
            message.starts_with("--schema-registry-url / SCHEMA_REGISTRY_URL"),
            "{message}"
        );
        let message = error(&with(&[(Setting::SchemaRegistryApiKey, "K")]), ALL);
        assert!(message.contains("SCHEMA_REGISTRY_API_SECRET"), "{message}");
    }

    #[test]
    fn unreadable_ca_file_names_the_variable() {
        let message = error(&with(&[(Setting::KafkaCaFile, "/nonexistent/ca.pem")]), ALL);
        assert!(
            message.starts_with(
                "--kafka-ca-file / KAFKA_SSL_CA_LOCATION: cannot read CA file /nonexistent/ca.pem"
            ),
            "{message}"
        );
    }

    #[test]
    fn producer_knobs() {
        let pairs = [
            (Setting::Acks, "-1"),
            (Setting::Compression, "LZ4"),
            (Setting::Linger, "0ms"),
            (Setting::BatchSize, "16384"),
            (Setting::DeliveryTimeout, "2m"),
            (Setting::Partitioner, "round-robin"),
        ];
        let producer = validate(&layer(&pairs), NOTHING, &mut Vec::new())
            .unwrap()
            .producer;
        assert_eq!(producer.acks, Acks::All);
        assert_eq!(producer.compression, Compression::Lz4);
        assert_eq!(producer.linger, Duration::ZERO);
        assert_eq!(producer.batch_size, 16384);
        assert_eq!(producer.delivery_timeout, Duration::from_secs(120));
        assert_eq!(producer.partitioner, PartitionerKind::RoundRobin);
        assert!(error(
            &[(Setting::BufferMemory, "10"), (Setting::BatchSize, "100")],
            NOTHING
        )
        .contains("--buffer-memory"));
        assert!(error(&[(Setting::MaxInFlight, "0")], NOTHING).starts_with("--max-in-flight"));
    }

    #[test]
    fn metrics_address_forms() {
        let addr = |text| {
            validate(
                &layer(&[(Setting::MetricsAddr, text)]),
                NOTHING,
                &mut Vec::new(),
            )
            .map(|c| c.run.metrics_addr)
        };
        assert_eq!(
            addr("127.0.0.1:9100").unwrap(),
            Some("127.0.0.1:9100".parse().unwrap())
        );
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
            .0
            .starts_with("--metrics-addr"));
    }

    #[test]
    fn topic_names_and_topic_creation() {
        assert!(
            error(&[(Setting::Topic, "bad topic")], NOTHING).starts_with("--topic / KAFKA_TOPIC")
        );
        let pairs = [
            (Setting::CreateTopic, "true"),
            (Setting::Partitions, "3"),
            (Setting::ReplicationFactor, "1"),
        ];
        let run = validate(&layer(&pairs), NOTHING, &mut Vec::new())
            .unwrap()
            .run;
        assert_eq!(
            run.create_topic,
            Some(TopicCreation {
                partitions: 3,
                replication_factor: 1
            })
        );
        assert!(error(&[(Setting::ReplicationFactor, "0")], NOTHING)
            .starts_with("--replication-factor"));
    }

    #[test]
    fn values_from_a_file_name_the_key_too() {
        let mut layer = Layer::default();
        let origin = Origin::File {
            path: "client.properties".into(),
            key: "compression.type".into(),
        };
        layer.set(Setting::Compression, "brotli", origin);
        let message = validate(&layer, NOTHING, &mut Vec::new()).unwrap_err().0;
        assert!(
            message.starts_with(
                "--compression (from `compression.type` in client.properties): unknown value"
            ),
            "{message}"
        );
    }
}
