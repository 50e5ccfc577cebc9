//! Confluent's `client.properties`, as the Cloud console hands it out, read into a [`Layer`].
//!
//! Users download this file and expect to pass it as it is (kcat's `-F`, the Java tools'
//! `--producer.config`). We read the Java properties syntax, map the keys we understand onto our
//! settings — including the credentials inside `sasl.jaas.config` and `basic.auth.user.info` — and name
//! every other key in one warning, so nothing in the file is silently ignored.

use std::path::Path;

use super::{
    declarations::{
        ALL, KAFKA_API_KEY, KAFKA_API_SECRET, SCHEMA_REGISTRY_API_KEY, SCHEMA_REGISTRY_API_SECRET,
    },
    layer::{Layer, Origin},
    setting::{Property, Spec},
    shown, ConfigError,
};
use crate::support::quoted::quoted;

/// The settings found in a properties file and what could not be used.
#[derive(Debug, Default)]
pub(super) struct PropertiesLayer {
    pub layer: Layer,
    /// Keys this producer does not support, in file order.
    pub unsupported: Vec<String>,
    /// Keys still holding a console placeholder such as `{{ CLUSTER_API_KEY }}`.
    pub placeholders: Vec<String>,
}

/// Parses Java properties text: `key=value`, `key: value` or `key value`; `#`/`!` comments; a trailing
/// backslash continues a line; `\t`, `\n`, `\uXXXX` and `\<char>` escapes. The last of a repeated key
/// wins, as in Java.
pub(super) fn parse_properties(text: &str) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut lines = text.lines();
    while let Some(first) = lines.next() {
        let trimmed = first.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('!') {
            continue;
        }
        let mut logical = String::from(trimmed);
        while ends_with_continuation(&logical) {
            logical.pop();
            match lines.next() {
                Some(next) => logical.push_str(next.trim_start()),
                None => break,
            }
        }
        let (key, value) = split_key_value(&logical);
        pairs.retain(|(k, _)| *k != key);
        pairs.push((key, value));
    }
    pairs
}

fn ends_with_continuation(line: &str) -> bool {
    line.chars().rev().take_while(|&c| c == '\\').count() % 2 == 1
}

fn split_key_value(line: &str) -> (String, String) {
    let mut chars = line.char_indices().peekable();
    let mut key_end = line.len();
    while let Some((i, c)) = chars.next() {
        if c == '\\' {
            chars.next();
            continue;
        }
        if c == '=' || c == ':' || c.is_whitespace() {
            key_end = i;
            break;
        }
    }
    let key = unescape(&line[..key_end]);
    let mut rest = line[key_end..].trim_start_matches([' ', '\t', '\u{c}']);
    if let Some(stripped) = rest.strip_prefix(['=', ':']) {
        rest = stripped.trim_start_matches([' ', '\t', '\u{c}']);
    }
    (key, unescape(rest))
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(decoded) => out.push(decoded),
                    None => {
                        out.push_str("\\u");
                        out.push_str(&hex);
                    }
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// A console placeholder left in the file, e.g. `{{ CLUSTER_API_KEY }}`.
fn is_placeholder(value: &str) -> bool {
    value.contains("{{") && value.contains("}}")
}

/// The declared setting that `key` sets directly, and how its value is written.
fn direct(key: &str) -> Option<(&'static Spec, Property)> {
    ALL.iter().find_map(|setting| {
        let spec = setting.spec();
        spec.properties
            .iter()
            .find(|property| property.key() == key && !matches!(property, Property::Part(_)))
            .map(|property| (spec, *property))
    })
}

/// Maps the pairs of a properties file onto our settings. An empty value of a key we use is an error,
/// as for any file value.
pub(super) fn properties_layer(
    pairs: &[(String, String)],
    path: &Path,
) -> Result<PropertiesLayer, ConfigError> {
    let mut out = PropertiesLayer::default();
    let origin = |key: &str| Origin::File {
        path: path.to_path_buf(),
        key: key.to_owned(),
    };
    let shown = shown(path);
    let mut credentials_source: Option<(&str, &str)> = None;

    for (key, value) in pairs {
        let key = key.as_str();
        let value = value.trim();
        if is_placeholder(value) {
            out.placeholders.push(key.to_owned());
            continue;
        }
        if let Some((spec, property)) = direct(key) {
            let text = match property {
                Property::Millis(_) => millis(value),
                Property::Negated(_) => negated(value),
                _ => value.to_owned(),
            };
            // Set unconditionally: explicit sasl.username/sasl.password thus win over the JAAS line,
            // which only fills what is missing, whatever the order of the two.
            out.layer.insert(spec, text, origin(key))?;
            continue;
        }
        match key {
            "sasl.jaas.config" => match jaas_credentials(value) {
                Some((username, password)) => {
                    if out.layer.get(&KAFKA_API_KEY.spec).is_none() {
                        out.layer
                            .insert(&KAFKA_API_KEY.spec, username, origin(key))?;
                    }
                    if out.layer.get(&KAFKA_API_SECRET.spec).is_none() {
                        out.layer
                            .insert(&KAFKA_API_SECRET.spec, password, origin(key))?;
                    }
                }
                None => {
                    return Err(ConfigError(format!(
                        "`sasl.jaas.config` in {shown}: expected `…LoginModule required username='KEY' \
                         password='SECRET';` (PLAIN or SCRAM); fix the line or use sasl.username/sasl.password"
                    )))
                }
            },
            "basic.auth.user.info" | "schema.registry.basic.auth.user.info" => {
                let Some((user, password)) = value.split_once(':') else {
                    return Err(ConfigError(format!(
                        "`{key}` in {shown}: expected KEY:SECRET (the Schema Registry API key and secret joined by a colon)"
                    )));
                };
                out.layer
                    .insert(&SCHEMA_REGISTRY_API_KEY.spec, user, origin(key))?;
                out.layer
                    .insert(&SCHEMA_REGISTRY_API_SECRET.spec, password, origin(key))?;
            }
            "basic.auth.credentials.source" | "schema.registry.basic.auth.credentials.source" => {
                credentials_source = Some((key, value));
            }
            "ssl.endpoint.identification.algorithm" if value.eq_ignore_ascii_case("https") => {
                // What we always do: verify the broker's host name.
            }
            "latest.compatibility.strict" if value.eq_ignore_ascii_case("true") => {
                // What --use-latest-version always does: the latest version is used only when it is
                // this producer's schema.
            }
            _ => out.unsupported.push(key.to_owned()),
        }
    }

    if let Some((key, source)) = credentials_source {
        match source.to_ascii_uppercase().as_str() {
            "USER_INFO" => {}
            "SASL_INHERIT" => {
                for (from, to) in [
                    (&KAFKA_API_KEY.spec, &SCHEMA_REGISTRY_API_KEY.spec),
                    (&KAFKA_API_SECRET.spec, &SCHEMA_REGISTRY_API_SECRET.spec),
                ] {
                    if out.layer.get(to).is_none() {
                        if let Some(text) = out.layer.get(from).map(|v| v.text.clone()) {
                            out.layer.insert(to, text, origin(key))?;
                        }
                    }
                }
            }
            _ => {
                return Err(ConfigError(format!(
                    "`{key}` in {shown}: {} is not supported; use USER_INFO with \
                     basic.auth.user.info=KEY:SECRET (or SCHEMA_REGISTRY_API_KEY/SCHEMA_REGISTRY_API_SECRET)",
                    quoted(source)
                )))
            }
        }
    }
    Ok(out)
}

/// A bare number of milliseconds becomes `<n>ms`; anything else stays as written so the error quotes it.
fn millis(value: &str) -> String {
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        format!("{value}ms")
    } else {
        value.to_owned()
    }
}

/// `true` ↔ `false`; anything else stays as written so the error quotes it.
fn negated(value: &str) -> String {
    match value.to_ascii_lowercase().as_str() {
        "true" => "false".to_owned(),
        "false" => "true".to_owned(),
        _ => value.to_owned(),
    }
}

/// Username and password from a PLAIN or SCRAM `sasl.jaas.config` line.
fn jaas_credentials(line: &str) -> Option<(String, String)> {
    if !(line.contains("PlainLoginModule") || line.contains("ScramLoginModule")) {
        return None;
    }
    Some((
        jaas_option(line, "username")?,
        jaas_option(line, "password")?,
    ))
}

/// The quoted value of `name=` in a JAAS line (single or double quotes).
fn jaas_option(line: &str, name: &str) -> Option<String> {
    let mut search = line;
    while let Some(at) = search.find(name) {
        let before_ok = search[..at]
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace() || c == ';');
        let rest = search[at + name.len()..].trim_start();
        if before_ok {
            if let Some(rest) = rest.strip_prefix('=') {
                let rest = rest.trim_start();
                let quote = rest.chars().next().filter(|q| *q == '"' || *q == '\'')?;
                let body = &rest[1..];
                let end = body.find(quote)?;
                return Some(body[..end].to_owned());
            }
        }
        search = &search[at + name.len()..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::config::declarations::{
        ACKS, DELIVERY_TIMEOUT, LINGER, NO_AUTO_REGISTER, SUBJECT_NAME_STRATEGY, USE_LATEST_VERSION,
    };

    fn layer_of(text: &str) -> PropertiesLayer {
        properties_layer(&parse_properties(text), Path::new("client.properties")).unwrap()
    }

    fn text<'a>(layer: &'a PropertiesLayer, spec: &Spec) -> Option<&'a str> {
        layer.layer.get(spec).map(|v| v.text.as_str())
    }

    #[test]
    fn java_properties_syntax() {
        let pairs = parse_properties(
            "# comment\n! also a comment\n\n  a = 1\nb:2\nc 3\nd=line\\\n   continued\ne=x\\=y\\u0041\\\\\nf\na=4\n",
        );
        assert_eq!(
            pairs,
            vec![
                ("b".into(), "2".into()),
                ("c".into(), "3".into()),
                ("d".into(), "linecontinued".into()),
                ("e".into(), "x=yA\\".into()),
                ("f".into(), "".into()),
                ("a".into(), "4".into()),
            ]
        );
    }

    #[test]
    fn jaas_line_gives_the_credentials() {
        let layer = layer_of(
            "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username='KEY1' password=\"p@ss'word\";\n",
        );
        assert_eq!(text(&layer, &KAFKA_API_KEY.spec), Some("KEY1"));
        assert_eq!(text(&layer, &KAFKA_API_SECRET.spec), Some("p@ss'word"));
    }

    #[test]
    fn explicit_username_wins_over_jaas_in_any_order() {
        let layer = layer_of(
            "sasl.username=EXPLICIT\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username='J' password='JP';\n",
        );
        assert_eq!(text(&layer, &KAFKA_API_KEY.spec), Some("EXPLICIT"));
        assert_eq!(text(&layer, &KAFKA_API_SECRET.spec), Some("JP"));
    }

    #[test]
    fn user_info_splits_at_the_first_colon_and_ms_keys_become_durations() {
        let layer = layer_of("basic.auth.credentials.source=USER_INFO\nbasic.auth.user.info=SRKEY:a:b\nlinger.ms=20\ndelivery.timeout.ms=abc\n");
        assert_eq!(text(&layer, &SCHEMA_REGISTRY_API_KEY.spec), Some("SRKEY"));
        assert_eq!(text(&layer, &SCHEMA_REGISTRY_API_SECRET.spec), Some("a:b"));
        assert_eq!(text(&layer, &LINGER.spec), Some("20ms"));
        assert_eq!(text(&layer, &DELIVERY_TIMEOUT.spec), Some("abc"));
    }

    #[test]
    fn unknown_keys_and_placeholders_are_reported_not_dropped() {
        let layer = layer_of("client.dns.lookup=use_all_dns_ips\nsession.timeout.ms=45000\nsasl.username={{ CLUSTER_API_KEY }}\n");
        assert_eq!(
            layer.unsupported,
            ["client.dns.lookup", "session.timeout.ms"]
        );
        assert_eq!(layer.placeholders, ["sasl.username"]);
        assert_eq!(text(&layer, &KAFKA_API_KEY.spec), None);
    }

    #[test]
    fn malformed_credentials_are_errors_that_do_not_echo_the_secret() {
        let pairs = parse_properties("basic.auth.user.info=no-colon-secret\n");
        let err = properties_layer(&pairs, Path::new("c.properties")).unwrap_err();
        assert!(err.0.contains("basic.auth.user.info"), "{err}");
        assert!(!err.0.contains("no-colon-secret"), "{err}");
        let pairs = parse_properties("sasl.jaas.config=OAuthBearerLoginModule required;\n");
        assert!(properties_layer(&pairs, Path::new("c.properties")).is_err());
    }

    #[test]
    fn sasl_inherit_reuses_the_kafka_credentials() {
        let layer = layer_of(
            "sasl.username=K\nsasl.password=S\nbasic.auth.credentials.source=SASL_INHERIT\n",
        );
        assert_eq!(text(&layer, &SCHEMA_REGISTRY_API_KEY.spec), Some("K"));
        assert_eq!(text(&layer, &SCHEMA_REGISTRY_API_SECRET.spec), Some("S"));
    }

    #[test]
    fn keys_come_from_the_declarations_and_empty_values_are_errors() {
        let layer = layer_of("request.required.acks=1\nmessage.timeout.ms=9000\n");
        assert_eq!(text(&layer, &ACKS.spec), Some("1"));
        assert_eq!(text(&layer, &DELIVERY_TIMEOUT.spec), Some("9000ms"));
        let pairs = parse_properties("acks=\n");
        let err = properties_layer(&pairs, Path::new("c.properties")).unwrap_err();
        assert!(
            err.0
                .starts_with("--acks (from `acks` in 'c.properties'): the value is empty"),
            "{err}"
        );
    }

    #[test]
    fn confluent_serializer_keys_keep_their_meaning() {
        let layer = layer_of(
            "auto.register.schemas=false\nuse.latest.version=true\nlatest.compatibility.strict=true\n\
             value.subject.name.strategy=io.confluent.kafka.serializers.subject.RecordNameStrategy\n",
        );
        assert!(layer.unsupported.is_empty(), "{:?}", layer.unsupported);
        assert_eq!(text(&layer, &NO_AUTO_REGISTER.spec), Some("true"));
        assert_eq!(text(&layer, &USE_LATEST_VERSION.spec), Some("true"));
        assert_eq!(
            text(&layer, &SUBJECT_NAME_STRATEGY.spec),
            Some("io.confluent.kafka.serializers.subject.RecordNameStrategy")
        );
        let layer = layer_of("auto.register.schemas=TRUE\nlatest.compatibility.strict=false\n");
        assert_eq!(text(&layer, &NO_AUTO_REGISTER.spec), Some("false"));
        assert_eq!(layer.unsupported, ["latest.compatibility.strict"]);
    }

    #[test]
    fn every_declared_key_sets_its_setting() {
        for setting in ALL {
            let spec = setting.spec();
            for property in spec.properties {
                let value = match property.key() {
                    "sasl.jaas.config" => {
                        "org.apache.kafka.common.security.plain.PlainLoginModule required username='u' password='p';"
                    }
                    key if key.ends_with("basic.auth.user.info") => "key:secret",
                    _ => "x",
                };
                let layer = layer_of(&format!("{}={value}\n", property.key()));
                assert!(layer.unsupported.is_empty(), "{}", property.key());
                assert!(
                    text(&layer, spec).is_some(),
                    "{} → --{}",
                    property.key(),
                    spec.long
                );
            }
        }
    }
}
