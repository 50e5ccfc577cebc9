//! The catalogue of user settings: each one's long flag, environment variable and config-file key,
//! written down once so that the command line, the file readers and the error messages agree.

/// A setting the user can give by flag, environment variable or config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Setting {
    BootstrapServers,
    KafkaApiKey,
    KafkaApiSecret,
    SecurityProtocol,
    SaslMechanism,
    KafkaCaFile,
    Topic,
    SchemaRegistryUrl,
    SchemaRegistryApiKey,
    SchemaRegistryApiSecret,
    SchemaRegistryCaFile,
    SubjectNameStrategy,
    NoAutoRegister,
    UseLatestVersion,
    Count,
    Duration,
    Rate,
    Seed,
    IdStart,
    CreateTopic,
    Partitions,
    ReplicationFactor,
    Acks,
    Compression,
    Linger,
    BatchSize,
    MaxInFlight,
    BufferMemory,
    DeliveryTimeout,
    Partitioner,
    MetricsAddr,
    MetricsLinger,
    ProgressInterval,
    LogFormat,
}

impl Setting {
    pub const ALL: [Setting; 34] = [
        Self::BootstrapServers,
        Self::KafkaApiKey,
        Self::KafkaApiSecret,
        Self::SecurityProtocol,
        Self::SaslMechanism,
        Self::KafkaCaFile,
        Self::Topic,
        Self::SchemaRegistryUrl,
        Self::SchemaRegistryApiKey,
        Self::SchemaRegistryApiSecret,
        Self::SchemaRegistryCaFile,
        Self::SubjectNameStrategy,
        Self::NoAutoRegister,
        Self::UseLatestVersion,
        Self::Count,
        Self::Duration,
        Self::Rate,
        Self::Seed,
        Self::IdStart,
        Self::CreateTopic,
        Self::Partitions,
        Self::ReplicationFactor,
        Self::Acks,
        Self::Compression,
        Self::Linger,
        Self::BatchSize,
        Self::MaxInFlight,
        Self::BufferMemory,
        Self::DeliveryTimeout,
        Self::Partitioner,
        Self::MetricsAddr,
        Self::MetricsLinger,
        Self::ProgressInterval,
        Self::LogFormat,
    ];

    /// The long flag without its dashes; also the key in a YAML config file.
    pub fn flag_name(self) -> &'static str {
        match self {
            Self::BootstrapServers => "bootstrap-servers",
            Self::KafkaApiKey => "kafka-api-key",
            Self::KafkaApiSecret => "kafka-api-secret",
            Self::SecurityProtocol => "security-protocol",
            Self::SaslMechanism => "sasl-mechanism",
            Self::KafkaCaFile => "kafka-ca-file",
            Self::Topic => "topic",
            Self::SchemaRegistryUrl => "schema-registry-url",
            Self::SchemaRegistryApiKey => "schema-registry-api-key",
            Self::SchemaRegistryApiSecret => "schema-registry-api-secret",
            Self::SchemaRegistryCaFile => "schema-registry-ca-file",
            Self::SubjectNameStrategy => "subject-name-strategy",
            Self::NoAutoRegister => "no-auto-register",
            Self::UseLatestVersion => "use-latest-version",
            Self::Count => "count",
            Self::Duration => "duration",
            Self::Rate => "rate",
            Self::Seed => "seed",
            Self::IdStart => "id-start",
            Self::CreateTopic => "create-topic",
            Self::Partitions => "partitions",
            Self::ReplicationFactor => "replication-factor",
            Self::Acks => "acks",
            Self::Compression => "compression",
            Self::Linger => "linger",
            Self::BatchSize => "batch-size",
            Self::MaxInFlight => "max-in-flight",
            Self::BufferMemory => "buffer-memory",
            Self::DeliveryTimeout => "delivery-timeout",
            Self::Partitioner => "partitioner",
            Self::MetricsAddr => "metrics-addr",
            Self::MetricsLinger => "metrics-linger",
            Self::ProgressInterval => "progress-interval",
            Self::LogFormat => "log-format",
        }
    }

    /// The environment variable, for the settings that have one (connection settings, as in DESIGN.md).
    pub fn env_var(self) -> Option<&'static str> {
        Some(match self {
            Self::BootstrapServers => "BOOTSTRAP_SERVERS",
            Self::KafkaApiKey => "KAFKA_API_KEY",
            Self::KafkaApiSecret => "KAFKA_API_SECRET",
            Self::SecurityProtocol => "KAFKA_SECURITY_PROTOCOL",
            Self::SaslMechanism => "KAFKA_SASL_MECHANISM",
            Self::KafkaCaFile => "KAFKA_SSL_CA_LOCATION",
            Self::Topic => "KAFKA_TOPIC",
            Self::SchemaRegistryUrl => "SCHEMA_REGISTRY_URL",
            Self::SchemaRegistryApiKey => "SCHEMA_REGISTRY_API_KEY",
            Self::SchemaRegistryApiSecret => "SCHEMA_REGISTRY_API_SECRET",
            Self::SchemaRegistryCaFile => "SCHEMA_REGISTRY_SSL_CA_LOCATION",
            _ => return None,
        })
    }

    /// clap's id for the argument: the `Cli` field name.
    pub fn arg_id(self) -> String {
        self.flag_name().replace('-', "_")
    }

    /// Whether the value must never be printed.
    pub fn is_secret(self) -> bool {
        matches!(self, Self::KafkaApiSecret | Self::SchemaRegistryApiSecret)
    }

    /// Whether the flag takes no value (`--create-topic`): in a file it is `true` or `false`.
    pub fn is_switch(self) -> bool {
        matches!(
            self,
            Self::NoAutoRegister | Self::UseLatestVersion | Self::CreateTopic
        )
    }

    /// `--flag / ENV_VAR` (or `--flag` alone), as error messages name a setting.
    pub fn label(self) -> String {
        match self.env_var() {
            Some(env) => format!("--{} / {env}", self.flag_name()),
            None => format!("--{}", self.flag_name()),
        }
    }

    /// The setting whose long flag is `name` (dashes or underscores), for YAML keys.
    pub fn from_flag_name(name: &str) -> Option<Self> {
        let name = name.replace('_', "-");
        Self::ALL.into_iter().find(|s| s.flag_name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn every_setting_is_a_cli_argument_with_the_same_env_var() {
        let command = crate::app::cli::Cli::command();
        for setting in Setting::ALL {
            let id = setting.arg_id();
            let arg = command
                .get_arguments()
                .find(|a| a.get_id().as_str() == id)
                .unwrap_or_else(|| panic!("no CLI argument {id}"));
            assert_eq!(arg.get_long(), Some(setting.flag_name()));
            assert_eq!(
                arg.get_env().map(|e| e.to_string_lossy().into_owned()),
                setting.env_var().map(str::to_owned),
                "{id}"
            );
        }
    }
}
