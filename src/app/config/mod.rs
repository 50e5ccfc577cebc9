//! One [`Config`] from flags > environment > `--config` file > defaults, validated before any network
//! I/O.
//!
//! Every setting is declared once in [`declarations`]; each source produces the same thing — a
//! [`Layer`] of raw text values that remember where they came from — so a bad value is reported the
//! same way, naming the flag, the variable and, when it came from a file, the file's key. `validate`
//! turns the merged layer into the typed settings for the command being run.

pub(crate) mod declarations;
mod file;
mod layer;
mod parse;
mod properties;
pub(crate) mod setting;
mod validate;
mod yaml;

#[cfg(test)]
mod file_tests;
#[cfg(test)]
mod options_table;
#[cfg(test)]
mod validate_tests;

use std::{ffi::OsString, path::Path};

use crate::{
    app::command::Command,
    settings::{exit::Failure, Config, KafkaSettings, RegistrySettings},
};

pub use file::{load_file, FileFormat, LoadedFile, MAX_FILE_BYTES};
pub use layer::{Layer, Origin, Value};
pub use validate::{instance_defaults, producer_defaults, KAFKA_CONNECT_TIMEOUT};

/// A configuration problem, reported before any network I/O (exit code 2). One line, naming the flag
/// and environment variable (and the file key) and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl From<ConfigError> for Failure {
    fn from(error: ConfigError) -> Self {
        Failure::Usage(error.0)
    }
}

/// The validated configuration and the warnings to log once logging is set up.
#[derive(Debug)]
pub struct Resolved {
    pub config: Config,
    /// E.g. the config-file keys this producer does not support, named in one line.
    pub warnings: Vec<String>,
}

/// Resolves the configuration for `command`: `flags` > environment (read through `env`; an empty
/// variable counts as unset) > `--config` file > defaults. Reads the config file and any CA files;
/// nothing else.
pub fn resolve(
    command: Command,
    flags: Layer,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<Resolved, ConfigError> {
    let environment = layer::env_layer(command, env)?;
    let mut warnings = Vec::new();
    let file = match flags.get(&declarations::CONFIG.spec) {
        Some(path) => {
            let loaded = load_file(Path::new(&path.text))?;
            warnings.extend(loaded.warnings);
            loaded.layer
        }
        None => Layer::default(),
    };
    let merged = flags.or(environment).or(file);
    let config = validate::validate(&merged, command, &mut warnings)?;
    Ok(Resolved { config, warnings })
}

/// The Kafka settings, which validation guarantees for the commands that take them; the same usage
/// error as validation's for a configuration built without them.
pub fn require_kafka(config: &Config) -> Result<&KafkaSettings, Failure> {
    config
        .kafka
        .as_ref()
        .ok_or_else(|| validate::no_brokers().into())
}

/// The Schema Registry settings, like [`require_kafka`].
pub fn require_registry(config: &Config) -> Result<&RegistrySettings, Failure> {
    config
        .registry
        .as_ref()
        .ok_or_else(|| validate::no_registry().into())
}

/// The process environment, as [`resolve`] reads it in the binary.
pub fn process_env(name: &str) -> Option<OsString> {
    std::env::var_os(name)
}

/// A path as the user wrote it, quoted for a one-line message.
pub(crate) fn shown(path: &Path) -> String {
    crate::support::quoted::quoted(&path.display().to_string())
}
