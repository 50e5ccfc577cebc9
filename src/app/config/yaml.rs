//! Our YAML `--config` format: a flat mapping of long flag names to values, read strictly — an
//! unknown or repeated key is a mistake and an error, with its line.
//!
//! serde reads the document; what is ours is which shapes are accepted and the checks around the
//! parse. Each value reaches the settings as the text written (`count: 1e6` stays `1e6`), so a file
//! value follows the same number grammar as a flag: serde_yaml_ng's typed readers would turn `1e6` or
//! `10.0` into a number first. That is why the mapping is read by a seed that knows the key: the
//! brokers may be a list, every other value is one scalar.
//!
//! Bounds: the file is at most `MAX_FILE_BYTES` (read by the caller); a file with more `[`/`{` than a
//! configuration needs is refused before parsing (the parser's time grows with their nesting depth);
//! a value that is not single stops the walk at once, so an alias bomb is never expanded; and the
//! brokers' list is bounded.

use std::{
    cell::RefCell,
    collections::BTreeMap,
    fmt,
    path::{Path, PathBuf},
};

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use super::{
    declarations::{self, BOOTSTRAP_SERVERS},
    file::MAX_FILE_BYTES,
    layer::{label, Layer, Origin},
    setting::Spec,
    shown, ConfigError,
};
use crate::support::quoted::quoted;

/// The most brokers a `bootstrap-servers` list may hold.
const MAX_LIST_ITEMS: usize = 1_000;
/// The most `[` and `{` a file may hold. Ours need a few; the YAML parser's time grows with the
/// number of tokens times the depth of nested flow lists and mappings (`[[[…]]]`: 16,000 levels take
/// seconds), and the depth can never exceed this count.
const MAX_FLOW_OPENINGS: usize = 64;

/// The settings of a YAML config file.
pub(super) fn yaml_layer(text: &str, path: &Path) -> Result<Layer, ConfigError> {
    let file = shown(path);
    if let Some(line) = too_many_openings(text) {
        return Err(ConfigError(format!(
            "--config: {file} holds more than {MAX_FLOW_OPENINGS} `[` and `{{` (line {line}); a config \
             file has one `flag-name: value` per line"
        )));
    }
    // The syntax first, every event without following aliases: the walk below meets a syntax error
    // only where it reads, and would blame the key it was reading.
    if let Err(error) = serde_yaml_ng::from_str::<de::IgnoredAny>(text) {
        return Err(ConfigError(format!(
            "--config: {file} is not valid YAML{} ({}); write one `flag-name: value` per line",
            at(&error),
            reason(&error)
        )));
    }
    let current = RefCell::new(None);
    let entries = Document { current: &current }
        .deserialize(serde_yaml_ng::Deserializer::from_str(text))
        .map_err(|error| {
            let Some(key) = current.take() else {
                return ConfigError(format!(
                    "--config: {file} does not hold a mapping{} ({}); write one `flag-name: value` \
                     per line",
                    at(&error),
                    reason(&error)
                ));
            };
            let reason = reason(&error);
            // serde_yaml_ng names the key (`rate: …`, `bootstrap-servers[3]: …`); the label does.
            let reason = reason
                .strip_prefix(key.as_str())
                .and_then(|rest| rest.split_once(": "))
                .map_or(reason.as_str(), |(_, rest)| rest);
            match setting_of(&key, text, &file) {
                Ok(spec) => ConfigError(format!(
                    "{}{}: {reason}",
                    label(spec, &origin(path, &key)),
                    at(&error)
                )),
                Err(unknown) => unknown,
            }
        })?;
    let mut layer = Layer::default();
    let mut seen: BTreeMap<&'static str, &str> = BTreeMap::new();
    for (key, value) in &entries {
        let spec = setting_of(key, text, &file)?;
        if let Some(first) = seen.insert(spec.long, key) {
            return Err(duplicate(key, first, text, &file));
        }
        layer.insert(spec, value.clone().unwrap_or_default(), origin(path, key))?;
    }
    Ok(layer)
}

/// The setting a key names, if a config file may set it.
fn setting_of(key: &str, text: &str, file: &str) -> Result<&'static Spec, ConfigError> {
    let at = line_of(text, key, 0)
        .map(|line| format!(" at line {line}"))
        .unwrap_or_default();
    let Some(setting) = declarations::find(key) else {
        return Err(ConfigError(format!(
            "--config: unknown key {} in {file}{at}; keys are the long flag names without dashes \
             (see --help), e.g. bootstrap-servers",
            quoted(key)
        )));
    };
    let spec = setting.spec();
    if !spec.in_file {
        return Err(ConfigError(format!(
            "--config: {} in {file}{at} cannot be set in a config file; give --{} on the command line",
            quoted(key),
            spec.long
        )));
    }
    Ok(spec)
}

/// A key given twice, or two spellings of one setting, named with both lines.
fn duplicate(key: &str, first: &str, text: &str, file: &str) -> ConfigError {
    let (same, second) = if key == first {
        (String::new(), line_of(text, key, 1))
    } else {
        (
            format!(", the same setting as {}", quoted(first)),
            line_of(text, key, 0),
        )
    };
    let at = second
        .map(|line| format!(" at line {line}"))
        .unwrap_or_default();
    let earlier = line_of(text, first, 0)
        .map(|line| format!(" (first given at line {line})"))
        .unwrap_or_default();
    ConfigError(format!(
        "--config: duplicate key {}{same} in {file}{at}{earlier}; keep one",
        quoted(key)
    ))
}

/// The line of the `nth` (from 0) line that starts with `key:`, for naming where a key is.
fn line_of(text: &str, key: &str, nth: usize) -> Option<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            line.trim_start()
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
        .nth(nth)
        .map(|(index, _)| index + 1)
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

/// ` at line N`, where the parser knows it.
fn at(error: &serde_yaml_ng::Error) -> String {
    error
        .location()
        .map(|l| format!(" at line {}", l.line()))
        .unwrap_or_default()
}

/// The parser's reason without the location it appends.
fn reason(error: &serde_yaml_ng::Error) -> String {
    let text = error.to_string();
    match text.find(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

fn origin(path: &Path, key: &str) -> Origin {
    Origin::File {
        path: PathBuf::from(path),
        key: key.to_owned(),
    }
}

/// One `key: value` as written; `None` for `~`, `null` or nothing.
type Entry = (String, Option<String>);

/// The document: nothing, or a mapping whose keys are read as text and whose values go through
/// [`Value`]. `current` holds the key whose value is being read, so an error can name it.
struct Document<'a> {
    current: &'a RefCell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for Document<'_> {
    type Value = Vec<Entry>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Vec<Entry>, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for Document<'_> {
    type Value = Vec<Entry>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a YAML mapping of long flag names to values (e.g. `topic: shoes`)")
    }

    fn visit_none<E: de::Error>(self) -> Result<Vec<Entry>, E> {
        Ok(Vec::new())
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Vec<Entry>, D::Error> {
        d.deserialize_map(self)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<Entry>, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let brokers = declarations::find(&key)
                .is_some_and(|s| std::ptr::eq(s.spec(), &BOOTSTRAP_SERVERS.spec));
            *self.current.borrow_mut() = Some(key.clone());
            let value = map.next_value_seed(if brokers { Value::Brokers } else { Value::One })?;
            *self.current.borrow_mut() = None;
            entries.push((key, value));
        }
        Ok(entries)
    }
}

/// A value: one scalar as written, or for the brokers a list of them joined by commas.
#[derive(Clone, Copy)]
enum Value {
    One,
    Brokers,
    /// One item of the brokers' list.
    Broker,
}

impl<'de> DeserializeSeed<'de> for Value {
    type Value = Option<String>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Option<String>, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for Value {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self {
            Self::One => "a single value (a list is allowed only for bootstrap-servers)",
            Self::Brokers => "host:port, or a list of them",
            Self::Broker => "one host:port per list item",
        })
    }

    fn visit_none<E: de::Error>(self) -> Result<Option<String>, E> {
        Ok(None)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Option<String>, D::Error> {
        match self {
            Self::Brokers => d.deserialize_any(self),
            Self::One | Self::Broker => d.deserialize_str(self),
        }
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Option<String>, E> {
        Ok(Some(text.to_owned()))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Option<String>, E> {
        Ok(Some(n.to_string()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<String>, A::Error> {
        let mut joined = String::new();
        let mut items = 0;
        while let Some(item) = seq.next_element_seed(Value::Broker)? {
            items += 1;
            if items > MAX_LIST_ITEMS || joined.len() > MAX_FILE_BYTES {
                return Err(de::Error::custom(format!(
                    "the list is longer than {MAX_LIST_ITEMS} brokers or {} KiB",
                    MAX_FILE_BYTES / 1024
                )));
            }
            if !joined.is_empty() {
                joined.push(',');
            }
            joined.push_str(item.as_deref().unwrap_or_default());
        }
        Ok(Some(joined))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::config::declarations::{
        COUNT, CREATE_TOPIC, LINGER, NO_AUTO_REGISTER, RATE, SEED,
    };

    fn layer(text: &str) -> Result<Layer, String> {
        yaml_layer(text, Path::new("c.yaml")).map_err(|e| {
            assert!(!e.0.contains('\n'), "one line: {e}");
            e.0
        })
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
        let block = layer("bootstrap-servers:\n  - a:1\n  - b:2\n").unwrap();
        assert_eq!(block.get(&BOOTSTRAP_SERVERS.spec).unwrap().text, "a:1,b:2");
        assert_eq!(layer(""), Ok(Layer::default()));
        assert_eq!(layer("# only a comment\n"), Ok(Layer::default()));
    }

    #[test]
    fn values_reach_the_settings_as_written() {
        for (yaml, text) in [
            ("count: 1e6\n", "1e6"),
            ("count: 10.0\n", "10.0"),
            ("count: 0x10\n", "0x10"),
            ("count: '7'\n", "7"),
            ("seed: 18446744073709551616\n", "18446744073709551616"),
        ] {
            let read = layer(yaml).unwrap();
            let value = read.get(&COUNT.spec).or(read.get(&SEED.spec)).unwrap();
            assert_eq!(value.text, text, "{yaml}");
        }
    }

    #[test]
    fn yaml_mistakes_are_one_line_errors_naming_the_key_and_line() {
        let err = layer("topic: a\ntopics: x\n").unwrap_err();
        assert!(
            err.starts_with("--config: unknown key 'topics' in 'c.yaml' at line 2;"),
            "{err}"
        );
        let err = layer("rate: [1, 2]\n").unwrap_err();
        assert!(
            err.starts_with("--rate (from `rate` in 'c.yaml') at line 1: invalid type: sequence, expected a single value"),
            "{err}"
        );
        let err = layer("topic: \"unclosed\n").unwrap_err();
        assert!(err.contains("not valid YAML at line"), "{err}");
        let err = layer("- a\n- b\n").unwrap_err();
        assert!(err.contains("does not hold a mapping at line 1"), "{err}");
        assert!(err.contains("expected a YAML mapping"), "{err}");
        let err = layer("config: other.yaml\n").unwrap_err();
        assert!(err.contains("cannot be set in a config file"), "{err}");
        let err = layer("1: x\n").unwrap_err();
        assert!(err.contains("unknown key '1'"), "{err}");
        let err = layer("\"a\\nb\": x\n").unwrap_err();
        assert!(err.contains(r"unknown key 'a\nb'"), "{err}");
    }

    #[test]
    fn a_duplicate_key_names_the_key_and_both_lines() {
        let err = layer("topic: a\nrate: 5\ntopic: b\n").unwrap_err();
        assert_eq!(
            err,
            "--config: duplicate key 'topic' in 'c.yaml' at line 3 (first given at line 1); keep one"
        );
        let err = layer("bootstrap-servers: a:1\nbootstrap_server: b:1\n").unwrap_err();
        assert_eq!(
            err,
            "--config: duplicate key 'bootstrap_server', the same setting as 'bootstrap-servers' in \
             'c.yaml' at line 2 (first given at line 1); keep one"
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
            "bootstrap-servers: []\n",
        ] {
            let err = layer(text).unwrap_err();
            assert!(
                err.contains("(from `count` in 'c.yaml'): the value is empty")
                    || err.contains("(from `bootstrap-servers` in 'c.yaml'): the value is empty"),
                "{text:?}: {err}"
            );
        }
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
            .contains("expected a single value"));
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            bomb.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n",
                p = i - 1
            ));
        }
        assert!(layer(&bomb).unwrap_err().contains("unknown key 'a0'"));
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
            .contains("expected one host:port per list item"));
    }
}
