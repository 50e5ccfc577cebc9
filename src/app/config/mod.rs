//! One [`Config`] from flags > environment > `--config` file > defaults, validated before any network
//! I/O.
//!
//! Every setting is named once in [`Setting`] (its long flag, environment variable and file key), and
//! every source produces the same thing — a [`Layer`] of raw text values that remember where they came
//! from — so a bad value is reported the same way, naming the flag, the variable and, when it came
//! from a file, the file's key. `validate` turns the merged layer into the typed settings.

mod file;
mod layer;
mod properties;
mod setting;
mod validate;

#[cfg(test)]
mod file_tests;

use std::path::Path;

use crate::{
    app::cli::{Command, Invocation},
    app::exit::Failure,
    app::settings::Config,
};

pub use file::{load_file, FileFormat, LoadedFile};
pub use layer::{command_line_layers, Layer, Origin, Value};
pub use properties::parse_properties;
pub use setting::Setting;
pub use validate::validate;

/// Which services a command talks to, so only their settings are required.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// Kafka settings are required (and validated).
    pub kafka: bool,
    /// Registry settings are required.
    pub registry: bool,
    /// Registry settings are used when given, but not required (`check`).
    pub registry_optional: bool,
}

impl Needs {
    pub fn of(command: Command) -> Self {
        match command {
            Command::Produce => Self {
                kafka: true,
                registry: true,
                registry_optional: false,
            },
            Command::Check => Self {
                kafka: true,
                registry: false,
                registry_optional: true,
            },
            Command::Register => Self {
                kafka: false,
                registry: true,
                registry_optional: false,
            },
            Command::Sample => Self {
                kafka: false,
                registry: false,
                registry_optional: false,
            },
        }
    }
}

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

/// Resolves the configuration for the invocation's command: flags > environment > `--config` file >
/// defaults. Reads the config file and any CA files; nothing else.
pub fn resolve(invocation: &Invocation) -> Result<Resolved, ConfigError> {
    let (given, defaults) = command_line_layers(invocation);
    let mut warnings = Vec::new();
    let file_layer = match &invocation.cli.output.config {
        Some(path) => {
            let loaded = load_file(path)?;
            warnings.extend(loaded.warnings);
            loaded.layer
        }
        None => Layer::default(),
    };
    let merged = given.or(file_layer).or(defaults);
    let config = validate(&merged, Needs::of(invocation.command()), &mut warnings)?;
    Ok(Resolved { config, warnings })
}

/// Resolves from explicit layers, for tests and tools that build their own sources.
pub fn resolve_layers(
    layers: impl IntoIterator<Item = Layer>,
    needs: Needs,
) -> Result<Resolved, ConfigError> {
    let merged = layers.into_iter().fold(Layer::default(), Layer::or);
    let mut warnings = Vec::new();
    let config = validate(&merged, needs, &mut warnings)?;
    Ok(Resolved { config, warnings })
}

/// Shows a path as the user wrote it, for messages.
pub(crate) fn shown(path: &Path) -> String {
    path.display().to_string()
}
