//! The `--config FILE`: YAML whose keys are our long flag names, or a Confluent `client.properties`.
//!
//! The format follows the extension (`.yaml`/`.yml`, `.properties`) and otherwise the content. Our own
//! YAML format is strict — an unknown key is a typo and an error — while a properties file is someone
//! else's format, so its unknown keys are named in one warning instead.

use std::path::{Path, PathBuf};

use serde_yaml_ng::Value as Yaml;

use super::{
    declarations::{self, BOOTSTRAP_SERVERS},
    layer::{Layer, Origin},
    properties::{parse_properties, properties_layer},
    setting::Kind,
    shown, ConfigError,
};

/// The two config file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Yaml,
    Properties,
}

/// A config file read into a layer, with warnings to log.
#[derive(Debug)]
pub struct LoadedFile {
    pub format: FileFormat,
    pub layer: Layer,
    pub warnings: Vec<String>,
}

/// Reads and parses the config file at `path`.
pub fn load_file(path: &Path) -> Result<LoadedFile, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError(format!(
            "--config: cannot read {}: {e}; check the path (YAML or client.properties)",
            shown(path)
        ))
    })?;
    let format = detect_format(path, &text);
    match format {
        FileFormat::Yaml => Ok(LoadedFile {
            format,
            layer: yaml_layer(&text, path)?,
            warnings: Vec::new(),
        }),
        FileFormat::Properties => {
            let parsed = properties_layer(&parse_properties(&text), path)?;
            let mut warnings = Vec::new();
            if !parsed.unsupported.is_empty() {
                warnings.push(format!(
                    "ignoring keys of {} this producer does not support: {}",
                    shown(path),
                    parsed.unsupported.join(", ")
                ));
            }
            if !parsed.placeholders.is_empty() {
                warnings.push(format!(
                    "{} still holds console placeholders ({{{{ … }}}}) for {}; they are ignored — fill them in \
                     or set the matching flags/environment variables",
                    shown(path),
                    parsed.placeholders.join(", ")
                ));
            }
            Ok(LoadedFile {
                format,
                layer: parsed.layer,
                warnings,
            })
        }
    }
}

/// The extension decides; otherwise a file whose first setting line looks like `a.b=…` is properties.
pub fn detect_format(path: &Path, text: &str) -> FileFormat {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("yaml" | "yml") => return FileFormat::Yaml,
        Some("properties" | "conf" | "config") => return FileFormat::Properties,
        _ => {}
    }
    let first_setting = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('!') && l != &"---");
    match first_setting {
        Some(line) => {
            let key_end = line.find(['=', ':']).unwrap_or(line.len());
            let uses_equals = line[key_end..].starts_with('=');
            if uses_equals || line[..key_end].contains('.') {
                FileFormat::Properties
            } else {
                FileFormat::Yaml
            }
        }
        None => FileFormat::Yaml,
    }
}

fn yaml_layer(text: &str, path: &Path) -> Result<Layer, ConfigError> {
    let shown = shown(path);
    let document: Yaml = serde_yaml_ng::from_str(text).map_err(|e| {
        let at = e
            .location()
            .map(|l| format!(" at line {}, column {}", l.line(), l.column()))
            .unwrap_or_default();
        ConfigError(format!(
            "--config: {shown} is not valid YAML{at}; write one `flag-name: value` per line"
        ))
    })?;
    let mapping = match document {
        Yaml::Mapping(mapping) => mapping,
        Yaml::Null => return Ok(Layer::default()),
        _ => {
            return Err(ConfigError(format!(
                "--config: {shown} must be a YAML mapping of long flag names to values (e.g. `topic: shoes`)"
            )))
        }
    };
    let mut layer = Layer::default();
    for (key, value) in mapping {
        let Some(key) = key.as_str().map(str::to_owned) else {
            return Err(ConfigError(format!(
                "--config: {shown} has a key that is not a string; use the long flag names"
            )));
        };
        let Some(spec) = declarations::find(&key)
            .map(|s| s.spec())
            .filter(|spec| spec.in_file)
        else {
            return Err(ConfigError(format!(
                "--config: unknown key `{key}` in {shown}; keys are the long flag names without dashes (see --help), e.g. bootstrap-servers"
            )));
        };
        let is_list_setting = std::ptr::eq(spec, &BOOTSTRAP_SERVERS.spec);
        let Some(text) = scalar_text(&value, is_list_setting) else {
            return Err(ConfigError(format!(
                "{}: `{key}` in {shown} must be a single value (a list is allowed only for bootstrap-servers)",
                spec.label()
            )));
        };
        if spec.kind == Kind::Switch && text == "false" {
            continue;
        }
        layer.insert(spec, text, file_origin(path, &key))?;
    }
    Ok(layer)
}

fn file_origin(path: &Path, key: &str) -> Origin {
    Origin::File {
        path: PathBuf::from(path),
        key: key.to_owned(),
    }
}

/// A YAML scalar as the text a flag would carry; a list of brokers joins with commas; null is empty.
fn scalar_text(value: &Yaml, list_allowed: bool) -> Option<String> {
    match value {
        Yaml::Null => Some(String::new()),
        Yaml::Bool(b) => Some(b.to_string()),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::String(s) => Some(s.clone()),
        Yaml::Sequence(items) if list_allowed => {
            let parts: Option<Vec<String>> =
                items.iter().map(|item| scalar_text(item, false)).collect();
            Some(parts?.join(","))
        }
        Yaml::Tagged(tagged) => scalar_text(&tagged.value, list_allowed),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::config::declarations::{CREATE_TOPIC, LINGER, NO_AUTO_REGISTER, RATE};

    #[test]
    fn format_from_extension_then_content() {
        assert_eq!(detect_format(Path::new("a.yml"), "x=1"), FileFormat::Yaml);
        assert_eq!(
            detect_format(Path::new("a.properties"), "x: 1"),
            FileFormat::Properties
        );
        assert_eq!(
            detect_format(Path::new("cfg"), "# c\nbootstrap.servers=a:1\n"),
            FileFormat::Properties
        );
        assert_eq!(
            detect_format(Path::new("cfg"), "bootstrap.servers: a:1\n"),
            FileFormat::Properties
        );
        assert_eq!(
            detect_format(Path::new("cfg"), "---\nbootstrap-servers: a:1\n"),
            FileFormat::Yaml
        );
    }

    #[test]
    fn yaml_keys_mirror_flags_with_lists_numbers_and_switches() {
        let layer = yaml_layer(
            "bootstrap-servers: [a:1, b:2]\nrate: 250\ncreate_topic: true\nno-auto-register: false\nlinger: 10ms\n",
            Path::new("c.yaml"),
        )
        .unwrap();
        assert_eq!(layer.get(&BOOTSTRAP_SERVERS.spec).unwrap().text, "a:1,b:2");
        assert_eq!(layer.get(&RATE.spec).unwrap().text, "250");
        assert_eq!(layer.get(&CREATE_TOPIC.spec).unwrap().text, "true");
        assert!(layer.get(&NO_AUTO_REGISTER.spec).is_none());
        assert_eq!(
            layer.get(&LINGER.spec).unwrap().origin,
            Origin::File {
                path: "c.yaml".into(),
                key: "linger".into()
            }
        );
    }

    #[test]
    fn yaml_mistakes_are_one_line_errors_naming_the_key() {
        let err = yaml_layer("topics: x\n", Path::new("c.yaml")).unwrap_err();
        assert!(err.0.contains("unknown key `topics`"), "{err}");
        let err = yaml_layer("rate: [1, 2]\n", Path::new("c.yaml")).unwrap_err();
        assert!(err.0.starts_with("--rate: `rate`"), "{err}");
        let err = yaml_layer("topic: [unclosed\n", Path::new("c.yaml")).unwrap_err();
        assert!(err.0.contains("not valid YAML at line"), "{err}");
        let err = yaml_layer("config: other.yaml\n", Path::new("c.yaml")).unwrap_err();
        assert!(err.0.contains("unknown key `config`"), "{err}");
        assert!(!err.0.contains('\n'));
    }
}
