//! The `--config FILE`: YAML whose keys are our long flag names, or a Confluent `client.properties`.
//!
//! The format follows the extension (`.yaml`/`.yml`, `.properties`) and otherwise the content. Our own
//! YAML format is strict (`yaml`), while a properties file is someone else's format, so its unknown
//! keys are named in one warning (`properties`). The file is user input like any other: only a
//! regular file of at most [`MAX_FILE_BYTES`] is read, so `--config` naming a FIFO or `/dev/zero`
//! fails at once.

use std::path::Path;

use super::{
    layer::Layer,
    properties::{parse_properties, properties_layer},
    shown,
    yaml::yaml_layer,
    ConfigError,
};
use crate::support::{input_file::read_regular_file, quoted::quoted};

/// The largest config file read. A real one holds a few dozen settings (a Cloud console
/// client.properties is about 1 KiB), so anything larger is the wrong file.
pub const MAX_FILE_BYTES: usize = 64 * 1024;

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
    let text = read_bounded(path)?;
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
                    list(&parsed.unsupported)
                ));
            }
            if !parsed.placeholders.is_empty() {
                warnings.push(format!(
                    "{} still holds console placeholders ({{{{ … }}}}) for {}; they are ignored — fill them in \
                     or set the matching flags/environment variables",
                    shown(path),
                    list(&parsed.placeholders)
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

/// Keys for a warning, each quoted.
fn list(keys: &[String]) -> String {
    keys.iter()
        .map(|key| quoted(key))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The file's text: a regular file of at most [`MAX_FILE_BYTES`], read as every input file is.
fn read_bounded(path: &Path) -> Result<String, ConfigError> {
    let bytes = read_regular_file(path, MAX_FILE_BYTES as u64).map_err(|e| {
        ConfigError(format!(
            "--config: cannot read {}: {e}; give the path of a YAML or client.properties file",
            shown(path)
        ))
    })?;
    String::from_utf8(bytes).map_err(|e| {
        ConfigError(format!(
            "--config: {} is not UTF-8 text (invalid byte at offset {}); check the path",
            shown(path),
            e.utf8_error().valid_up_to()
        ))
    })
}

/// The extension decides; otherwise a file whose first setting line looks like `a.b=…` is properties.
pub(super) fn detect_format(path: &Path, text: &str) -> FileFormat {
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn files_are_read_through_a_bound() {
        let err = load_file(Path::new("/dev/zero")).unwrap_err().0;
        assert_eq!(
            err,
            "--config: cannot read '/dev/zero': it is a device, not a regular file; give the path of \
             a YAML or client.properties file"
        );
        let file = tempfile::Builder::new().suffix(".yaml").tempfile().unwrap();
        file.as_file().set_len(MAX_FILE_BYTES as u64 + 1).unwrap();
        let err = load_file(file.path()).unwrap_err().0;
        assert!(err.contains("it is larger than 64 KiB"), "{err}");
        std::fs::write(file.path(), b"topic: \xff\n").unwrap();
        let err = load_file(file.path()).unwrap_err().0;
        assert!(err.contains("is not UTF-8 text"), "{err}");
    }
}
