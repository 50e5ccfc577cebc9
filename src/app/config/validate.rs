//! The merged layer → typed [`Config`] for one command, with every check that can be made before
//! touching the network.
//!
//! Each value is parsed by its declaration's parser, and a problem is one line that names the flag and
//! its environment variable (and the config-file key when the value came from a file), quotes the bad
//! value unless it is a secret, and says what to write instead. What the command does not take keeps
//! its declared default. The only I/O here is reading the CA files, so an unreadable one fails now, not
//! mid-connect.

use std::time::Duration;

use crate::{
    app::command::Command,
    settings::{
        Acks, Config, Instance, KafkaSettings, ProducerSettings, RegistrySettings, RunSettings,
        SchemaSettings, TopicCreation,
    },
    support::{quoted::quoted, tls::read_ca_file},
};

use super::{
    declarations::*,
    layer::{Layer, Value},
    setting::Setting,
    ConfigError,
};

/// Bound on connecting to the brokers and fetching metadata (no flag; generous for Cloud, short
/// enough that a wrong password fails fast).
pub const KAFKA_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The most requests in flight per partition with which the broker can keep an idempotent
/// producer's batches in order (the Java client's limit).
pub(super) const MAX_IN_FLIGHT_IDEMPOTENT: usize = 5;

type Result<T> = std::result::Result<T, ConfigError>;

/// The merged layer as `command` sees it: the values it takes, else the declared defaults.
struct Source<'a> {
    layer: &'a Layer,
    command: Command,
}

impl Source<'_> {
    /// The value the user gave (flag, environment or file), if the command takes the setting.
    fn given<T>(&self, setting: &'static Setting<T>) -> Option<&Value> {
        self.layer
            .get(&setting.spec)
            .filter(|_| setting.spec.takes(self.command))
    }

    /// The given value, else the declared default; `None` when there is neither.
    fn get<T>(&self, setting: &'static Setting<T>) -> Result<Option<T>> {
        match self.given(setting) {
            Some(value) => {
                let text = if setting.spec.secret {
                    value.text.as_str()
                } else {
                    value.text.trim()
                };
                (setting.parse)(text)
                    .map(Some)
                    .map_err(|reason| ConfigError(format!("{}: {reason}", value.label())))
            }
            None => Ok(setting.default_value()),
        }
    }

    /// The given value or the default, for a setting declared with one.
    fn value<T>(&self, setting: &'static Setting<T>) -> Result<T> {
        self.get(setting)?
            .ok_or_else(|| ConfigError(format!("{} is required", setting.spec.label())))
    }

    /// How messages name the setting: with the file key when the value came from a file.
    fn label<T>(&self, setting: &'static Setting<T>) -> String {
        self.given(setting)
            .map(Value::label)
            .unwrap_or_else(|| setting.spec.label())
    }

    /// The value as the user wrote it (or the default's text), for messages that quote it.
    fn shown<T>(&self, setting: &'static Setting<T>) -> String {
        match self.given(setting) {
            Some(value) if !setting.spec.secret => quoted(value.text.trim()),
            Some(_) => "***".to_owned(),
            None => quoted(setting.spec.default.unwrap_or_default()),
        }
    }

    /// Whether `command` needs the section anchored by `setting`, or was given it anyway.
    fn wants<T>(&self, setting: &'static Setting<T>) -> bool {
        setting.spec.required_by.contains(&self.command) || self.given(setting).is_some()
    }
}

/// Builds the typed configuration for `command` from the merged layer; `warnings` collects settings
/// that are given but have no effect.
pub(super) fn validate(
    layer: &Layer,
    command: Command,
    warnings: &mut Vec<String>,
) -> Result<Config> {
    let src = Source { layer, command };
    let kafka = if src.wants(&BOOTSTRAP_SERVERS) {
        Some(kafka(&src, warnings)?)
    } else {
        None
    };
    let registry = if src.wants(&SCHEMA_REGISTRY_URL) {
        Some(registry(&src, warnings)?)
    } else {
        None
    };
    Ok(Config {
        kafka,
        registry,
        schema: schema(&src, warnings)?,
        producer: producer(&src, warnings)?,
        run: run(&src, warnings)?,
        topic: src.value(&TOPIC)?,
        log_format: src.value(&LOG_FORMAT)?,
        color: src.value(&COLOR)?,
    })
}

/// How the schema id is found, with Confluent's serializer's order: auto-registration first, then
/// the latest version, then a lookup. `--use-latest-version` alone turns auto-registration off (it
/// is on only by default then); an explicit `auto.register.schemas=true` wins over it, with a warning.
fn schema(src: &Source, warnings: &mut Vec<String>) -> Result<SchemaSettings> {
    let no_auto_register = src.get(&NO_AUTO_REGISTER)?;
    let use_latest = src.get(&USE_LATEST_VERSION)?.unwrap_or(false);
    let auto_register = match no_auto_register {
        Some(no) => !no,
        None => !use_latest,
    };
    if auto_register && use_latest {
        warnings.push(format!(
            "{} is ignored: {} false turns auto-registration on, and it is checked first (as in \
             Confluent's serializer); to use the latest version, turn auto-registration off \
             (auto.register.schemas=false, no-auto-register: true)",
            src.label(&USE_LATEST_VERSION),
            src.label(&NO_AUTO_REGISTER)
        ));
    }
    Ok(SchemaSettings {
        subject_name_strategy: src.value(&SUBJECT_NAME_STRATEGY)?,
        auto_register,
        use_latest_version: use_latest && !auto_register,
    })
}

/// The producer settings every declaration defaults to.
pub fn producer_defaults() -> ProducerSettings {
    let layer = Layer::default();
    let src = Source {
        layer: &layer,
        command: Command::Produce,
    };
    producer(&src, &mut Vec::new()).expect("the declared producer defaults are consistent")
}

/// The instance every declaration defaults to: the only one.
pub fn instance_defaults() -> Instance {
    let layer = Layer::default();
    let src = Source {
        layer: &layer,
        command: Command::Produce,
    };
    instance(&src).expect("the declared instance defaults are consistent")
}

/// The error for a command that needs Kafka when no brokers are configured.
pub(super) fn no_brokers() -> ConfigError {
    ConfigError(format!(
        "no Kafka brokers given: set {} (host:port[,host:port…]), or bootstrap.servers in the --config file",
        BOOTSTRAP_SERVERS.spec.label()
    ))
}

/// The error for a command that needs the Schema Registry when none is configured.
pub(super) fn no_registry() -> ConfigError {
    ConfigError(format!(
        "no Schema Registry given: set {} (https://…), or schema.registry.url in the --config file",
        SCHEMA_REGISTRY_URL.spec.label()
    ))
}

fn kafka(src: &Source, warnings: &mut Vec<String>) -> Result<KafkaSettings> {
    let Some(bootstrap_servers) = src.get(&BOOTSTRAP_SERVERS)? else {
        return Err(no_brokers());
    };
    let security_protocol = src.value(&SECURITY_PROTOCOL)?;
    let sasl_mechanism = src.value(&SASL_MECHANISM)?;
    let api_key = src.get(&KAFKA_API_KEY)?;
    let api_secret = src.get(&KAFKA_API_SECRET)?;
    if security_protocol.uses_sasl() {
        let protocol = security_protocol.as_str();
        if api_key.is_none() {
            return Err(ConfigError(format!(
                "{} is required with security protocol {protocol}: set it to the Kafka API key (SASL username), \
                 or use --security-protocol SSL or PLAINTEXT for a cluster without SASL",
                KAFKA_API_KEY.spec.label()
            )));
        }
        if api_secret.is_none() {
            return Err(ConfigError(format!(
                "{} is required with security protocol {protocol}: set it to the Kafka API secret (SASL password)",
                KAFKA_API_SECRET.spec.label()
            )));
        }
    } else if api_key.is_some() || api_secret.is_some() {
        warnings.push(format!(
            "the Kafka API key/secret are ignored: security protocol {} uses no SASL",
            security_protocol.as_str()
        ));
    }
    let ca_file = ca_file(src, &KAFKA_CA_FILE)?;
    if ca_file.is_some() && !security_protocol.uses_tls() {
        warnings.push(format!(
            "{} is ignored: security protocol {} uses no TLS",
            src.label(&KAFKA_CA_FILE),
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

fn registry(src: &Source, warnings: &mut Vec<String>) -> Result<RegistrySettings> {
    let Some(url) = src.get(&SCHEMA_REGISTRY_URL)? else {
        return Err(no_registry());
    };
    let api_key = src.get(&SCHEMA_REGISTRY_API_KEY)?;
    let api_secret = src.get(&SCHEMA_REGISTRY_API_SECRET)?;
    if api_key.is_some() != api_secret.is_some() {
        let (set, unset) = if api_key.is_some() {
            (
                src.label(&SCHEMA_REGISTRY_API_KEY),
                SCHEMA_REGISTRY_API_SECRET.spec.label(),
            )
        } else {
            (
                src.label(&SCHEMA_REGISTRY_API_SECRET),
                SCHEMA_REGISTRY_API_KEY.spec.label(),
            )
        };
        return Err(ConfigError(format!(
            "{set} is set but {unset} is not: give both (the Schema Registry API key and secret) or neither"
        )));
    }
    if !url.is_https() && api_key.is_some() {
        warnings.push(format!(
            "{} is http://: the Schema Registry API secret will cross the network unencrypted",
            src.label(&SCHEMA_REGISTRY_URL)
        ));
    }
    let ca_file = ca_file(src, &SCHEMA_REGISTRY_CA_FILE)?;
    if ca_file.is_some() && !url.is_https() {
        warnings.push(format!(
            "{} is ignored: the registry URL is http://",
            src.label(&SCHEMA_REGISTRY_CA_FILE)
        ));
    }
    Ok(RegistrySettings {
        url,
        api_key,
        api_secret,
        ca_file,
        timeout: src.value(&REGISTRY_TIMEOUT)?,
    })
}

/// A CA file that exists and holds at least one PEM certificate.
fn ca_file(
    src: &Source,
    setting: &'static Setting<std::path::PathBuf>,
) -> Result<Option<std::path::PathBuf>> {
    let Some(path) = src.get(setting)? else {
        return Ok(None);
    };
    read_ca_file(&path).map_err(|e| {
        ConfigError(format!(
            "{}: {e}; point it at a PEM file of CA certificates",
            src.label(setting)
        ))
    })?;
    Ok(Some(path))
}

fn producer(src: &Source, warnings: &mut Vec<String>) -> Result<ProducerSettings> {
    let acks = src.value(&ACKS)?;
    let max_in_flight = src.value(&MAX_IN_FLIGHT)?;
    let linger = src.value(&LINGER)?;
    let batch_size = src.value(&BATCH_SIZE)?;
    let buffer_memory = src.value(&BUFFER_MEMORY)?;
    let request_timeout = src.value(&REQUEST_TIMEOUT)?;
    let mut delivery_timeout = src.value(&DELIVERY_TIMEOUT)?;
    if buffer_memory < batch_size {
        return Err(ConfigError(format!(
            "{} ({}) is smaller than {} ({}); raise --buffer-memory or lower --batch-size",
            src.label(&BUFFER_MEMORY),
            src.shown(&BUFFER_MEMORY),
            src.label(&BATCH_SIZE),
            src.shown(&BATCH_SIZE)
        )));
    }
    // As the Java client: a record's life holds its linger and at least one full request; a
    // delivery timeout given shorter is refused, a default one is raised.
    let least = linger.saturating_add(request_timeout);
    if delivery_timeout < least {
        if src.given(&DELIVERY_TIMEOUT).is_some() {
            return Err(ConfigError(format!(
                "{} ({}) must be at least {} ({}) plus {} ({})",
                src.label(&DELIVERY_TIMEOUT),
                src.shown(&DELIVERY_TIMEOUT),
                src.label(&LINGER),
                src.shown(&LINGER),
                src.label(&REQUEST_TIMEOUT),
                src.shown(&REQUEST_TIMEOUT)
            )));
        }
        warnings.push(format!(
            "{} is raised to {least:?}: {} ({}) plus {} ({})",
            DELIVERY_TIMEOUT.spec.label(),
            src.label(&LINGER),
            src.shown(&LINGER),
            src.label(&REQUEST_TIMEOUT),
            src.shown(&REQUEST_TIMEOUT)
        ));
        delivery_timeout = least;
    }
    Ok(ProducerSettings {
        acks,
        compression: src.value(&COMPRESSION)?,
        linger,
        batch_size,
        max_in_flight,
        buffer_memory,
        delivery_timeout,
        request_timeout,
        max_request_size: src.value(&MAX_REQUEST_SIZE)?,
        partitioner: src.value(&PARTITIONER)?,
        enable_idempotence: idempotence(src, acks, max_in_flight.get(), warnings)?,
        metadata_max_age: src.value(&METADATA_MAX_AGE)?,
    })
}

/// `--enable-idempotence` with the Java client's rules: given as true, it refuses `--acks` other
/// than all and `--max-in-flight` above 5; not given, either of those turns it off with a warning.
fn idempotence(
    src: &Source,
    acks: Acks,
    max_in_flight: usize,
    warnings: &mut Vec<String>,
) -> Result<bool> {
    let enabled = src.value(&ENABLE_IDEMPOTENCE)?;
    let mut conflicts = Vec::new();
    if acks != Acks::All && src.given(&ACKS).is_some() {
        conflicts.push((
            src.label(&ACKS),
            src.shown(&ACKS),
            "it needs all".to_owned(),
        ));
    }
    if max_in_flight > MAX_IN_FLIGHT_IDEMPOTENT && src.given(&MAX_IN_FLIGHT).is_some() {
        conflicts.push((
            src.label(&MAX_IN_FLIGHT),
            src.shown(&MAX_IN_FLIGHT),
            format!("it needs at most {MAX_IN_FLIGHT_IDEMPOTENT}"),
        ));
    }
    let Some((label, shown, needs)) = conflicts.into_iter().next() else {
        return Ok(enabled);
    };
    if src.given(&ENABLE_IDEMPOTENCE).is_some() {
        if enabled {
            return Err(ConfigError(format!(
                "{} true conflicts with {label} {shown}: {needs}; change {label}, or set {} false",
                src.label(&ENABLE_IDEMPOTENCE),
                ENABLE_IDEMPOTENCE.spec.label()
            )));
        }
        return Ok(false);
    }
    warnings.push(format!(
        "the idempotent producer is off because of {label} {shown} ({needs}): records retried after \
         a lost answer may be written twice; set {} false to say so, or change {label}",
        ENABLE_IDEMPOTENCE.spec.label()
    ));
    Ok(false)
}

fn instance(src: &Source) -> Result<Instance> {
    let index = src.value(&INSTANCE)?;
    let count = src.value(&INSTANCES)?;
    if index >= count {
        return Err(ConfigError(format!(
            "{} is {index} but {} is {count}: instances are numbered from 0 to {}; give --instances \
             the number of instances",
            src.label(&INSTANCE),
            src.label(&INSTANCES),
            count - 1
        )));
    }
    Ok(Instance { index, count })
}

fn run(src: &Source, warnings: &mut Vec<String>) -> Result<RunSettings> {
    let count = src.get(&COUNT)?;
    let id_start = src.value(&ID_START)?;
    if let Some(count) = count {
        if id_start.checked_add_unsigned(count).is_none() {
            return Err(ConfigError(format!(
                "{} {id_start} with {} {count} runs past the largest id, {}; lower one of them",
                src.label(&ID_START),
                src.label(&COUNT),
                i64::MAX
            )));
        }
    }
    let create = src.get(&CREATE_TOPIC)?.unwrap_or(false);
    let partitions = src.value(&PARTITIONS)?;
    let replication_factor = src.value(&REPLICATION_FACTOR)?;
    if !create {
        if src.given(&PARTITIONS).is_some() {
            warnings.push(format!(
                "{} is ignored without --create-topic",
                src.label(&PARTITIONS)
            ));
        }
        if src.given(&REPLICATION_FACTOR).is_some() {
            warnings.push(format!(
                "{} is ignored without --create-topic",
                src.label(&REPLICATION_FACTOR)
            ));
        }
    }
    Ok(RunSettings {
        count,
        duration: src.get(&DURATION)?,
        rate: Some(src.value(&RATE)?).filter(|&rate| rate > 0),
        seed: src.get(&SEED)?,
        id_start,
        progress_interval: src.value(&PROGRESS_INTERVAL)?,
        metrics_addr: src.get(&METRICS_ADDR)?,
        metrics_linger: src.value(&METRICS_LINGER)?,
        create_topic: create.then_some(TopicCreation {
            partitions,
            replication_factor,
        }),
        instance: instance(src)?,
    })
}
