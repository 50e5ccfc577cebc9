//! Raw setting values that remember their origin (flag, environment variable, file key), and the
//! merge that gives flags > environment > config file; defaults come from the declarations.
//!
//! Empty values are decided here, once for every setting: an empty flag or file value is an error
//! (a script's unset variable must not turn `--count "$N"` into "no limit"), while an empty
//! environment variable counts as unset, so `export KAFKA_API_KEY=` clears it.

use std::{collections::BTreeMap, ffi::OsString, fmt, path::PathBuf};

use crate::app::{
    command::Command,
    config::{declarations::ALL, setting::Spec, shown, ConfigError},
};

/// Where a raw value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Flag,
    Env,
    File { path: PathBuf, key: String },
}

/// One raw setting value and its origin. `Debug` hides the text of secrets.
#[derive(Clone)]
pub struct Value {
    pub spec: &'static Spec,
    pub text: String,
    pub origin: Origin,
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        (self.spec.long, &self.text, &self.origin) == (other.spec.long, &other.text, &other.origin)
    }
}

impl Eq for Value {}

impl Value {
    /// How an error names this value: `--flag / ENV`, plus the file key when it came from a file.
    pub(crate) fn label(&self) -> String {
        label(self.spec, &self.origin)
    }
}

/// `--flag / ENV`, plus the file key when the origin is a file.
pub(super) fn label(spec: &Spec, origin: &Origin) -> String {
    match origin {
        Origin::File { path, key } => {
            format!("{} (from `{key}` in {})", spec.label(), shown(path))
        }
        _ => spec.label(),
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text: &dyn fmt::Debug = if self.spec.secret { &"***" } else { &self.text };
        f.debug_struct("Value")
            .field("setting", &self.spec.long)
            .field("text", text)
            .field("origin", &self.origin)
            .finish()
    }
}

/// The error for an empty flag or file value: what to give instead, or how to leave it out.
fn empty_value(spec: &Spec, origin: &Origin) -> ConfigError {
    let possible = (spec.possible)();
    let what = if possible.is_empty() {
        spec.value_name.to_owned()
    } else {
        format!("one of {}", possible.join(", "))
    };
    let instead = match origin {
        Origin::File { .. } => "remove the key".to_owned(),
        _ => format!("leave --{} out", spec.long),
    };
    ConfigError(format!(
        "{}: the value is empty; give {what}, or {instead}",
        label(spec, origin)
    ))
}

/// Raw values from one source, at most one per setting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layer {
    values: BTreeMap<&'static str, Value>,
}

impl Layer {
    /// Sets a value, replacing an earlier one of the same setting. A blank value is an error from a
    /// flag or a file and is skipped from the environment.
    pub fn insert(
        &mut self,
        spec: &'static Spec,
        text: impl Into<String>,
        origin: Origin,
    ) -> Result<(), ConfigError> {
        let text = text.into();
        if text.trim().is_empty() {
            return match origin {
                Origin::Env => Ok(()),
                _ => Err(empty_value(spec, &origin)),
            };
        }
        self.values.insert(spec.long, Value { spec, text, origin });
        Ok(())
    }

    pub fn get(&self, spec: &Spec) -> Option<&Value> {
        self.values.get(spec.long)
    }

    /// Fills every setting this layer lacks from `lower`.
    pub fn or(mut self, lower: Layer) -> Layer {
        for (name, value) in lower.values {
            self.values.entry(name).or_insert(value);
        }
        self
    }
}

/// The environment variables of the settings `command` takes, read through `env` (the process
/// environment in the binary, a map in tests).
pub(super) fn env_layer(
    command: Command,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<Layer, ConfigError> {
    let mut layer = Layer::default();
    for setting in ALL {
        let spec = setting.spec();
        let Some(name) = spec.env.filter(|_| spec.takes(command)) else {
            continue;
        };
        let Some(value) = env(name) else { continue };
        let text = value.into_string().map_err(|_| {
            ConfigError(format!("{}: {name} is not valid UTF-8 text", spec.label()))
        })?;
        layer.insert(spec, text, Origin::Env)?;
    }
    Ok(layer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::config::declarations::{
        COUNT, KAFKA_API_SECRET, RATE, SECURITY_PROTOCOL, TOPIC,
    };

    #[test]
    fn higher_layers_win() {
        let mut flags = Layer::default();
        flags
            .insert(&TOPIC.spec, "from-flag", Origin::Flag)
            .unwrap();
        let mut file = Layer::default();
        let origin = Origin::File {
            path: "c.yaml".into(),
            key: "topic".into(),
        };
        file.insert(&TOPIC.spec, "from-file", origin.clone())
            .unwrap();
        file.insert(&RATE.spec, "7", origin).unwrap();
        let merged = flags.or(file);
        assert_eq!(merged.get(&TOPIC.spec).unwrap().text, "from-flag");
        assert_eq!(merged.get(&RATE.spec).unwrap().text, "7");
    }

    #[test]
    fn empty_is_an_error_from_flags_and_files_and_unset_from_the_environment() {
        let mut layer = Layer::default();
        let message = layer.insert(&COUNT.spec, " ", Origin::Flag).unwrap_err().0;
        assert_eq!(
            message,
            "--count: the value is empty; give N, or leave --count out"
        );
        let origin = Origin::File {
            path: "c.properties".into(),
            key: "security.protocol".into(),
        };
        let message = layer
            .insert(&SECURITY_PROTOCOL.spec, "", origin)
            .unwrap_err()
            .0;
        assert!(
            message.starts_with("--security-protocol / KAFKA_SECURITY_PROTOCOL (from `security.protocol` in 'c.properties'): the value is empty; give one of SASL_SSL, SSL"),
            "{message}"
        );
        assert!(message.ends_with("or remove the key"), "{message}");
        layer.insert(&TOPIC.spec, "", Origin::Env).unwrap();
        assert_eq!(layer, Layer::default());
    }

    #[test]
    fn environment_is_read_through_the_lookup_and_must_be_text() {
        use std::os::unix::ffi::OsStringExt;
        let lookup = |name: &str| match name {
            "KAFKA_TOPIC" => Some(OsString::from("t1")),
            "BOOTSTRAP_SERVERS" => Some(OsString::from("")),
            "KAFKA_API_KEY" => Some(OsString::from_vec(vec![0xff, 0xfe])),
            _ => None,
        };
        let message = env_layer(Command::Produce, &lookup).unwrap_err().0;
        assert!(
            message.contains("KAFKA_API_KEY is not valid UTF-8"),
            "{message}"
        );
        let layer = env_layer(Command::Register, &lookup).unwrap();
        assert_eq!(layer.get(&TOPIC.spec).unwrap().text, "t1");
        let layer = env_layer(Command::Sample, &lookup).unwrap();
        assert_eq!(layer, Layer::default(), "sample takes none of them");
    }

    #[test]
    fn secret_values_never_show_in_debug() {
        let mut layer = Layer::default();
        layer
            .insert(&KAFKA_API_SECRET.spec, "s3cr3t-distinctive", Origin::Env)
            .unwrap();
        assert!(!format!("{layer:?}").contains("s3cr3t-distinctive"));
    }
}
