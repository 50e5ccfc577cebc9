//! The configuration sections a command cannot run without, asked for one way by every command.
//!
//! Resolving the configuration already refuses a command whose sections are missing, so from the
//! command line these never fail; a library caller that builds a `Config` by hand gets the same
//! usage error (exit 2, naming the variable and flag) instead of a panic.

use crate::{
    app::exit::Failure,
    app::settings::{Config, KafkaSettings, RegistrySettings},
};

/// The Kafka settings `command` needs.
pub(crate) fn kafka<'a>(config: &'a Config, command: &str) -> Result<&'a KafkaSettings, Failure> {
    config.kafka.as_ref().ok_or_else(|| {
        Failure::usage(format!(
            "{command} needs Kafka: set BOOTSTRAP_SERVERS (--bootstrap-servers)"
        ))
    })
}

/// The Schema Registry settings `command` needs.
pub(crate) fn registry<'a>(
    config: &'a Config,
    command: &str,
) -> Result<&'a RegistrySettings, Failure> {
    config.registry.as_ref().ok_or_else(|| {
        Failure::usage(format!(
            "{command} needs a Schema Registry: set SCHEMA_REGISTRY_URL (--schema-registry-url)"
        ))
    })
}
