//! The `--config FILE`: YAML whose keys are our long flag names, or a Confluent `client.properties`.
//!
//! The format follows the extension (`.yaml`/`.yml`, `.properties`) and otherwise the content. Our own
//! YAML format is strict — an unknown or repeated key is a mistake and an error, with its line —
//! while a properties file is someone else's format, so its unknown keys are named in one warning.
//!
//! The file is user input like any other and is bounded: only a regular file of at most
//! [`MAX_FILE_BYTES`] is read (so `--config` naming a FIFO or `/dev/zero` fails at once); a YAML file with more `[`/`{`
//! than a configuration needs is refused before parsing (the parser's time grows with their nesting
//! depth); and the YAML is walked by a visitor that accepts only a flat mapping of scalars (a list
//! only for the brokers, itself bounded), so alias bombs stop at the first value that is not single.

use std::{
    cell::RefCell,
    collections::BTreeMap,
    fmt,
    path::{Path, PathBuf},
};

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use super::{
    declarations::{self, BOOTSTRAP_SERVERS},
    layer::{empty_reason, label, Layer, Origin},
    properties::{parse_properties, properties_layer},
    setting::Spec,
    shown, ConfigError,
};
use crate::support::{input_file::read_regular_file, quoted::quoted};

/// The largest config file read. A real one holds a few dozen settings (a Cloud console
/// client.properties is about 1 KiB), so anything larger is the wrong file.
pub const MAX_FILE_BYTES: usize = 64 * 1024;
/// The most brokers a YAML `bootstrap-servers` list may hold.
const MAX_LIST_ITEMS: usize = 1_000;
/// The most `[` and `{` a YAML file may hold. Ours need a few; the YAML parser's time grows with the
/// number of tokens times the depth of nested flow lists and mappings (`[[[…]]]`: 16,000 levels take
/// seconds), and the depth can never exceed this count.
const MAX_FLOW_OPENINGS: usize = 64;

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

/// What went wrong inside the YAML walk; the parser's location goes between `head` and `tail`.
struct Problem {
    head: String,
    tail: String,
}

/// One `key: value` of the YAML file.
struct Entry {
    key: String,
    spec: &'static Spec,
    text: String,
}

fn yaml_layer(text: &str, path: &Path) -> Result<Layer, ConfigError> {
    if let Some(line) = too_many_openings(text) {
        return Err(ConfigError(format!(
            "--config: {} holds more than {MAX_FLOW_OPENINGS} `[` and `{{` (line {line}); a config file \
             has one `flag-name: value` per line",
            shown(path)
        )));
    }
    let problem = RefCell::new(None);
    let walk = Walk {
        path,
        text,
        problem: &problem,
    };
    let entries = walk
        .deserialize(serde_yaml_ng::Deserializer::from_str(text))
        .map_err(|error| {
            let at = error
                .location()
                .map(|l| format!(" at line {}", l.line()))
                .unwrap_or_default();
            match problem.take() {
                Some(Problem { head, tail }) => ConfigError(format!("{head}{at}{tail}")),
                None => ConfigError(format!(
                    "--config: {} is not valid YAML{at} ({}); write one `flag-name: value` per line",
                    shown(path),
                    reason(&error)
                )),
            }
        })?;
    let mut layer = Layer::default();
    for Entry { key, spec, text } in entries {
        layer.insert(spec, text, file_origin(path, &key))?;
    }
    Ok(layer)
}

/// The line of the first `[` or `{` beyond [`MAX_FLOW_OPENINGS`], counted everywhere (quotes and
/// comments included, so no quoting trick hides one); `None` when there are not that many.
fn too_many_openings(text: &str) -> Option<usize> {
    let mut openings = 0;
    for (index, line) in text.lines().enumerate() {
        openings += line.matches(['[', '{']).count();
        if openings > MAX_FLOW_OPENINGS {
            return Some(index + 1);
        }
    }
    None
}

/// The parser's reason without the location it appends.
fn reason(error: &serde_yaml_ng::Error) -> String {
    let text = error.to_string();
    match text.find(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

fn file_origin(path: &Path, key: &str) -> Origin {
    Origin::File {
        path: PathBuf::from(path),
        key: key.to_owned(),
    }
}

/// The walk over the document: a mapping of known keys to single values.
#[derive(Clone, Copy)]
struct Walk<'a> {
    path: &'a Path,
    text: &'a str,
    problem: &'a RefCell<Option<Problem>>,
}

impl Walk<'_> {
    /// Records the problem and returns the error that stops the parser (which adds the location).
    fn fail<E: de::Error>(&self, head: String, tail: impl Into<String>) -> E {
        *self.problem.borrow_mut() = Some(Problem {
            head,
            tail: tail.into(),
        });
        E::custom("")
    }

    fn not_a_mapping<E: de::Error>(&self) -> E {
        self.fail(
            format!("--config: {}", shown(self.path)),
            " must be a YAML mapping of long flag names to values (e.g. `topic: shoes`)",
        )
    }

    fn not_a_single_value<E: de::Error>(&self, spec: &Spec, key: &str) -> E {
        self.fail(
            label(spec, &file_origin(self.path, key)),
            ": must be a single value (a list is allowed only for bootstrap-servers)",
        )
    }
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = Vec<Entry>;
    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Vec<Entry>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = Vec<Entry>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping of long flag names to values")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Vec<Entry>, E> {
        Ok(Vec::new())
    }
    fn visit_none<E: de::Error>(self) -> Result<Vec<Entry>, E> {
        Ok(Vec::new())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<Entry>, A::Error> {
        let mut entries: Vec<Entry> = Vec::new();
        let mut seen: BTreeMap<&'static str, String> = BTreeMap::new();
        while let Some((key, spec)) = map.next_key_seed(KeySeed {
            walk: self,
            seen: &seen,
        })? {
            seen.insert(spec.long, key.clone());
            let text = map.next_value_seed(ValueSeed {
                walk: self,
                spec,
                key: &key,
            })?;
            entries.push(Entry { key, spec, text });
        }
        Ok(entries)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Vec<Entry>, E> {
        Err(self.not_a_mapping())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Vec<Entry>, E> {
        Err(self.not_a_mapping())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Vec<Entry>, E> {
        Err(self.not_a_mapping())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Vec<Entry>, E> {
        Err(self.not_a_mapping())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Vec<Entry>, E> {
        Err(self.not_a_mapping())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Vec<Entry>, A::Error> {
        Err(self.not_a_mapping())
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, _: A) -> Result<Vec<Entry>, A::Error> {
        Err(self.not_a_mapping())
    }
}

/// A key: a known setting that a file may set, not given before.
struct KeySeed<'a, 'w> {
    walk: Walk<'w>,
    seen: &'a BTreeMap<&'static str, String>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_, '_> {
    type Value = (String, &'static Spec);
    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_, '_> {
    type Value = (String, &'static Spec);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a long flag name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        let walk = self.walk;
        let file = shown(walk.path);
        let Some(setting) = declarations::find(key) else {
            return Err(walk.fail(
                format!("--config: unknown key `{key}` in {file}"),
                "; keys are the long flag names without dashes (see --help), e.g. bootstrap-servers",
            ));
        };
        let spec = setting.spec();
        if !spec.in_file {
            return Err(walk.fail(
                format!("--config: `{key}` in {file}"),
                format!(
                    " cannot be set in a config file; give --{} on the command line",
                    spec.long
                ),
            ));
        }
        if let Some(first) = self.seen.get(spec.long) {
            let earlier = first_line_of(walk.text, first)
                .map(|line| format!(" (first given at line {line})"))
                .unwrap_or_default();
            let same = if first == key {
                String::new()
            } else {
                format!(", the same setting as `{first}`")
            };
            return Err(walk.fail(
                format!("--config: duplicate key `{key}`{same} in {file}"),
                format!("{earlier}; keep one"),
            ));
        }
        Ok((key.to_owned(), spec))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Err(self.not_a_string(&v.to_string()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Err(self.not_a_string(&v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Err(self.not_a_string(&v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Err(self.not_a_string(&v.to_string()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Err(self.not_a_string("null"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(self.not_a_string("a list"))
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(self.not_a_string("a mapping"))
    }
}

impl KeySeed<'_, '_> {
    fn not_a_string<E: de::Error>(&self, what: &str) -> E {
        self.walk.fail(
            format!(
                "--config: {} has a key that is not a flag name ({what})",
                shown(self.walk.path)
            ),
            "; use the long flag names, e.g. bootstrap-servers",
        )
    }
}

/// The line where `key:` first starts a line, for naming the first of two duplicates.
fn first_line_of(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            line.trim_start()
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
        .map(|index| index + 1)
}

/// A value: one scalar, or for the brokers a list of scalars joined with commas.
struct ValueSeed<'k, 'w> {
    walk: Walk<'w>,
    spec: &'static Spec,
    key: &'k str,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_, '_> {
    type Value = String;
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl ValueSeed<'_, '_> {
    fn text<E: de::Error>(&self, text: String) -> Result<String, E> {
        if text.trim().is_empty() {
            let origin = file_origin(self.walk.path, self.key);
            let reason = empty_reason(self.spec, &origin);
            return Err(self
                .walk
                .fail(label(self.spec, &origin), format!(": {reason}")));
        }
        Ok(text)
    }

    fn not_single<E: de::Error>(&self) -> E {
        self.walk.not_a_single_value(self.spec, self.key)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_, '_> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a single value")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        self.text(v.to_owned())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        self.text(v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        self.text(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        self.text(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        self.text(v.to_string())
    }
    fn visit_unit<E: de::Error>(self) -> Result<String, E> {
        self.text(String::new())
    }
    fn visit_none<E: de::Error>(self) -> Result<String, E> {
        self.text(String::new())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<String, A::Error> {
        if !std::ptr::eq(self.spec, &BOOTSTRAP_SERVERS.spec) {
            return Err(self.not_single());
        }
        let mut joined = String::new();
        let mut items = 0;
        while let Some(item) = seq.next_element_seed(ItemSeed(&self))? {
            items += 1;
            if items > MAX_LIST_ITEMS || joined.len() + item.len() > MAX_FILE_BYTES {
                return Err(self.walk.fail(
                    label(self.spec, &file_origin(self.walk.path, self.key)),
                    format!(
                        ": the list is longer than {MAX_LIST_ITEMS} brokers or {} KiB",
                        MAX_FILE_BYTES / 1024
                    ),
                ));
            }
            if !joined.is_empty() {
                joined.push(',');
            }
            joined.push_str(&item);
        }
        self.text(joined)
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<String, A::Error> {
        Err(self.not_single())
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, _: A) -> Result<String, A::Error> {
        Err(self.not_single())
    }
}

/// One broker of a `bootstrap-servers` list: a scalar.
struct ItemSeed<'v, 'k, 'w>(&'v ValueSeed<'k, 'w>);

impl<'de> DeserializeSeed<'de> for ItemSeed<'_, '_, '_> {
    type Value = String;
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ItemSeed<'_, '_, '_> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("host:port")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_unit<E: de::Error>(self) -> Result<String, E> {
        Ok(String::new())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<String, E> {
        Err(self.0.not_single())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<String, E> {
        Err(self.0.not_single())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<String, A::Error> {
        Err(self.0.not_single())
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<String, A::Error> {
        Err(self.0.not_single())
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, _: A) -> Result<String, A::Error> {
        Err(self.0.not_single())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::config::declarations::{CREATE_TOPIC, LINGER, NO_AUTO_REGISTER, RATE};

    fn layer(text: &str) -> Result<Layer, String> {
        yaml_layer(text, Path::new("c.yaml")).map_err(|e| {
            assert!(!e.0.contains('\n'), "one line: {e}");
            e.0
        })
    }

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
        let read = layer(
            "bootstrap-servers: [a:1, b:2]\nrate: 250\ncreate_topic: true\nno-auto-register: false\nlinger: 10ms\n",
        )
        .unwrap();
        assert_eq!(read.get(&BOOTSTRAP_SERVERS.spec).unwrap().text, "a:1,b:2");
        assert_eq!(read.get(&RATE.spec).unwrap().text, "250");
        assert_eq!(read.get(&CREATE_TOPIC.spec).unwrap().text, "true");
        assert_eq!(read.get(&NO_AUTO_REGISTER.spec).unwrap().text, "false");
        assert_eq!(
            read.get(&LINGER.spec).unwrap().origin,
            Origin::File {
                path: "c.yaml".into(),
                key: "linger".into()
            }
        );
        assert_eq!(layer(""), Ok(Layer::default()));
        assert_eq!(layer("# only a comment\n"), Ok(Layer::default()));
    }

    #[test]
    fn yaml_mistakes_are_one_line_errors_naming_the_key_and_line() {
        let err = layer("topic: a\ntopics: x\n").unwrap_err();
        assert!(
            err.starts_with("--config: unknown key `topics` in 'c.yaml' at line 2;"),
            "{err}"
        );
        let err = layer("rate: [1, 2]\n").unwrap_err();
        assert!(
            err.starts_with("--rate (from `rate` in c.yaml) at line 1: must be a single value"),
            "{err}"
        );
        let err = layer("topic: \"unclosed\n").unwrap_err();
        assert!(err.contains("not valid YAML at line"), "{err}");
        let err = layer("- a\n- b\n").unwrap_err();
        assert!(err.contains("must be a YAML mapping"), "{err}");
        let err = layer("config: other.yaml\n").unwrap_err();
        assert!(err.contains("cannot be set in a config file"), "{err}");
        let err = layer("1: x\n").unwrap_err();
        assert!(err.contains("key that is not a flag name"), "{err}");
    }

    #[test]
    fn a_duplicate_key_names_the_key_and_both_lines() {
        let err = layer("topic: a\nrate: 5\ntopic: b\n").unwrap_err();
        assert_eq!(
            err,
            "--config: duplicate key `topic` in 'c.yaml' at line 3 (first given at line 1); keep one"
        );
        let err = layer("bootstrap-servers: a:1\nbootstrap_server: b:1\n").unwrap_err();
        assert!(
            err.contains("`bootstrap_server`, the same setting as `bootstrap-servers`"),
            "{err}"
        );
    }

    #[test]
    fn empty_values_are_errors_naming_the_key() {
        for text in [
            "count:\n",
            "count: \"\"\n",
            "count: ~\n",
            "count: null\n",
            "count: '  '\n",
        ] {
            let err = layer(text).unwrap_err();
            assert!(
                err.starts_with("--count (from `count` in c.yaml) at line 1: the value is empty"),
                "{text:?}: {err}"
            );
        }
        let err = layer("bootstrap-servers: []\n").unwrap_err();
        assert!(err.contains("the value is empty"), "{err}");
    }

    #[test]
    fn pathological_documents_fail_at_the_first_value_that_is_not_single() {
        let deep = format!("rate: {}{}\n", "[".repeat(20_000), "]".repeat(20_000));
        assert!(layer(&deep)
            .unwrap_err()
            .contains("holds more than 64 `[` and `{` (line 1)"));
        let hidden = format!(
            "rate: 1\n# {}\ntopic: \"{}\"\n",
            "[".repeat(40),
            "{".repeat(40)
        );
        assert!(layer(&hidden).unwrap_err().contains("(line 3)"));
        let shallow = format!("rate: {}{}\n", "[".repeat(60), "]".repeat(60));
        assert!(layer(&shallow)
            .unwrap_err()
            .contains("must be a single value"));
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            bomb.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n",
                p = i - 1
            ));
        }
        assert!(layer(&bomb).unwrap_err().contains("unknown key `a0`"));
        let aliased = format!(
            "topic: &t x\nbootstrap-servers: [{}]\n",
            vec!["*t"; 2_000].join(", ")
        );
        assert!(layer(&aliased)
            .unwrap_err()
            .contains("longer than 1000 brokers"));
        let nested_list = format!("bootstrap-servers: [{}]\n", "[a:1], ".repeat(50));
        assert!(layer(&nested_list)
            .unwrap_err()
            .contains("must be a single value"));
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
