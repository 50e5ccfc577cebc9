//! Raw setting values that remember their origin (flag, environment, file key, default), and the
//! merge that gives flags > environment > config file > defaults.

use std::{collections::BTreeMap, fmt, path::PathBuf};

use crate::app::cli::{ArgSource, Invocation};

use super::Setting;

/// Where a raw value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Flag,
    Env,
    File { path: PathBuf, key: String },
    Default,
}

/// One raw setting value and its origin. `Debug` hides the text of secrets.
#[derive(Clone, PartialEq, Eq)]
pub struct Value {
    pub setting: Setting,
    pub text: String,
    pub origin: Origin,
}

impl Value {
    /// How an error names this value: `--flag / ENV`, plus the file key when it came from a file.
    pub fn label(&self) -> String {
        match &self.origin {
            Origin::File { path, key } => {
                format!(
                    "{} (from `{key}` in {})",
                    self.setting.label(),
                    path.display()
                )
            }
            _ => self.setting.label(),
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text: &dyn fmt::Debug = if self.setting.is_secret() {
            &"***"
        } else {
            &self.text
        };
        f.debug_struct("Value")
            .field("setting", &self.setting)
            .field("text", text)
            .field("origin", &self.origin)
            .finish()
    }
}

/// Raw values from one source, at most one per setting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layer {
    values: BTreeMap<Setting, Value>,
}

impl Layer {
    /// Sets a value; an empty text (e.g. `export KAFKA_API_KEY=`) counts as not given.
    pub fn set(&mut self, setting: Setting, text: impl Into<String>, origin: Origin) {
        let text = text.into();
        if text.trim().is_empty() {
            return;
        }
        self.values.insert(
            setting,
            Value {
                setting,
                text,
                origin,
            },
        );
    }

    pub fn get(&self, setting: Setting) -> Option<&Value> {
        self.values.get(&setting)
    }

    /// Fills every setting this layer lacks from `lower`.
    pub fn or(mut self, lower: Layer) -> Layer {
        for (setting, value) in lower.values {
            self.values.entry(setting).or_insert(value);
        }
        self
    }
}

/// The command line split in two layers: values the user gave (flags and environment variables), and
/// clap's defaults, which a config file overrides.
pub fn command_line_layers(invocation: &Invocation) -> (Layer, Layer) {
    let mut given = Layer::default();
    let mut defaults = Layer::default();
    for setting in Setting::ALL {
        let Some((text, source)) = invocation.value(&setting.arg_id()) else {
            continue;
        };
        match source {
            ArgSource::Flag => given.set(setting, text, Origin::Flag),
            ArgSource::Env => given.set(setting, text, Origin::Env),
            ArgSource::Default => defaults.set(setting, text, Origin::Default),
        }
    }
    (given, defaults)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn higher_layers_win_and_empty_values_do_not_count() {
        let mut flags = Layer::default();
        flags.set(Setting::Topic, "from-flag", Origin::Flag);
        flags.set(Setting::Rate, "  ", Origin::Flag);
        let mut file = Layer::default();
        let origin = Origin::File {
            path: "c.yaml".into(),
            key: "topic".into(),
        };
        file.set(Setting::Topic, "from-file", origin.clone());
        file.set(Setting::Rate, "7", origin);
        let merged = flags.or(file);
        assert_eq!(merged.get(Setting::Topic).unwrap().text, "from-flag");
        assert_eq!(merged.get(Setting::Rate).unwrap().text, "7");
    }

    #[test]
    fn secret_values_never_show_in_debug() {
        let mut layer = Layer::default();
        layer.set(Setting::KafkaApiSecret, "s3cr3t-distinctive", Origin::Env);
        assert!(!format!("{layer:?}").contains("s3cr3t-distinctive"));
    }

    #[test]
    fn labels_name_flag_variable_and_file_key() {
        let value = Value {
            setting: Setting::SecurityProtocol,
            text: "X".into(),
            origin: Origin::File {
                path: "client.properties".into(),
                key: "security.protocol".into(),
            },
        };
        assert_eq!(
            value.label(),
            "--security-protocol / KAFKA_SECURITY_PROTOCOL (from `security.protocol` in client.properties)"
        );
        assert_eq!(Setting::Rate.label(), "--rate");
    }
}
