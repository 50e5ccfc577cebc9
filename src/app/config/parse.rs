//! The value parsers the declarations use: text as the user wrote it → a typed value, or the reason
//! it is not one (quoting the text and saying what to write instead; the caller names the setting).
//!
//! They are pure — no I/O, no environment — so a default can be parsed by the same code as a flag,
//! and every declared default is checked by a unit test.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    path::PathBuf,
    str::FromStr,
    time::Duration,
};

use crate::{
    settings::{
        Acks, ColorChoice, Compression, LogFormat, PartitionerKind, SaslMechanism,
        SecurityProtocol, SubjectNameStrategy,
    },
    support::secret::Secret,
};

/// A setting with a fixed set of values.
pub trait Choice: Copy + PartialEq + 'static {
    /// Every spelling accepted (case-insensitively). The first spelling of each value is the one
    /// shown in `--help` and errors; later ones are accepted aliases (`-1` for `all`).
    const SPELLINGS: &'static [(&'static str, Self)];
}

/// One of `T`'s spellings.
pub fn choice<T: Choice>(text: &str) -> Result<T, String> {
    T::SPELLINGS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(text))
        .map(|(_, value)| *value)
        .ok_or_else(|| {
            format!(
                "unknown value '{text}'; use one of {}",
                names::<T>().join(", ")
            )
        })
}

/// The shown spelling of each of `T`'s values, in declaration order.
pub fn names<T: Choice>() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for (i, (name, value)) in T::SPELLINGS.iter().enumerate() {
        if !T::SPELLINGS[..i]
            .iter()
            .any(|(_, earlier)| earlier == value)
        {
            names.push(name);
        }
    }
    names
}

/// No possible values: a free-form setting.
pub fn free_form() -> Vec<&'static str> {
    Vec::new()
}

impl Choice for bool {
    const SPELLINGS: &'static [(&'static str, Self)] = &[("true", true), ("false", false)];
}

impl Choice for SecurityProtocol {
    const SPELLINGS: &'static [(&'static str, Self)] = &[
        ("SASL_SSL", Self::SaslSsl),
        ("SSL", Self::Ssl),
        ("SASL_PLAINTEXT", Self::SaslPlaintext),
        ("PLAINTEXT", Self::Plaintext),
    ];
}

impl Choice for SaslMechanism {
    const SPELLINGS: &'static [(&'static str, Self)] = &[
        ("PLAIN", Self::Plain),
        ("SCRAM-SHA-256", Self::ScramSha256),
        ("SCRAM-SHA-512", Self::ScramSha512),
    ];
}

impl Choice for SubjectNameStrategy {
    const SPELLINGS: &'static [(&'static str, Self)] = &[
        ("topic", Self::Topic),
        ("record", Self::Record),
        ("topic-record", Self::TopicRecord),
        ("TopicNameStrategy", Self::Topic),
        ("RecordNameStrategy", Self::Record),
        ("TopicRecordNameStrategy", Self::TopicRecord),
    ];
}

impl Choice for Acks {
    const SPELLINGS: &'static [(&'static str, Self)] = &[
        ("all", Self::All),
        ("1", Self::Leader),
        ("0", Self::None),
        ("-1", Self::All),
    ];
}

impl Choice for Compression {
    const SPELLINGS: &'static [(&'static str, Self)] = &[
        ("none", Self::None),
        ("gzip", Self::Gzip),
        ("snappy", Self::Snappy),
        ("lz4", Self::Lz4),
        ("zstd", Self::Zstd),
    ];
}

impl Choice for PartitionerKind {
    const SPELLINGS: &'static [(&'static str, Self)] = &[
        ("murmur2", Self::Murmur2),
        ("random", Self::Random),
        ("round-robin", Self::RoundRobin),
    ];
}

impl Choice for LogFormat {
    const SPELLINGS: &'static [(&'static str, Self)] =
        &[("text", Self::Text), ("json", Self::Json)];
}

impl Choice for ColorChoice {
    const SPELLINGS: &'static [(&'static str, Self)] = &[
        ("auto", Self::Auto),
        ("always", Self::Always),
        ("never", Self::Never),
    ];
}

/// A number (`_` separators allowed) that `acceptable` agrees with; otherwise "'…' is not {what}".
pub fn number<T: FromStr>(
    text: &str,
    what: &str,
    acceptable: impl Fn(&T) -> bool,
) -> Result<T, String> {
    match text.replace('_', "").parse::<T>() {
        Ok(n) if acceptable(&n) => Ok(n),
        _ => Err(format!("'{text}' is not {what}")),
    }
}

/// A humantime duration (`30s`, `500ms`, `1h 30m`), zero included.
pub fn duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| {
        format!(
            "'{text}' is not a duration ({e}); write a number with a unit, e.g. 500ms, 30s, 5m, 1h30m"
        )
    })
}

/// A duration longer than zero.
pub fn positive_duration(text: &str) -> Result<Duration, String> {
    match duration(text)? {
        d if d.is_zero() => Err(format!("'{text}' must be longer than zero, e.g. 30s")),
        d => Ok(d),
    }
}

/// Any text (an API key, a file path checked later).
pub fn text(text: &str) -> Result<String, String> {
    Ok(text.to_owned())
}

/// A file path; whether it can be read is checked where it is used.
pub fn path(text: &str) -> Result<PathBuf, String> {
    Ok(PathBuf::from(text))
}

/// An API secret, held so that it never prints.
pub fn secret(text: &str) -> Result<Secret, String> {
    Ok(Secret::new(text))
}

/// A legal Kafka topic name.
pub fn topic(text: &str) -> Result<String, String> {
    let legal = text.len() <= 249
        && text != "."
        && text != ".."
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if legal {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "'{text}' is not a legal Kafka topic name; use up to 249 of a-z A-Z 0-9 . _ -"
        ))
    }
}

/// `IP:PORT`, `[IPv6]:PORT`, `localhost:PORT` or `:PORT` (all interfaces). No name lookups.
pub fn metrics_addr(text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = SocketAddr::from_str(text) {
        return Ok(addr);
    }
    let parsed = text.rsplit_once(':').and_then(|(host, port)| {
        let port = port.parse::<u16>().ok()?;
        let ip = match host {
            "" => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            "localhost" => IpAddr::V4(Ipv4Addr::LOCALHOST),
            _ => return None,
        };
        Some(SocketAddr::new(ip, port))
    });
    parsed.ok_or_else(|| {
        format!(
            "'{text}' is not HOST:PORT with an IP address; write e.g. 0.0.0.0:9100 or 127.0.0.1:9100"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_are_case_insensitive_and_list_one_spelling_per_value() {
        assert_eq!(choice::<Acks>("ALL"), Ok(Acks::All));
        assert_eq!(choice::<Acks>("-1"), Ok(Acks::All));
        assert_eq!(names::<Acks>(), ["all", "1", "0"]);
        assert_eq!(
            choice::<Acks>("2").unwrap_err(),
            "unknown value '2'; use one of all, 1, 0"
        );
        assert_eq!(
            choice::<SubjectNameStrategy>("RecordNameStrategy"),
            Ok(SubjectNameStrategy::Record)
        );
        assert_eq!(
            names::<SubjectNameStrategy>(),
            ["topic", "record", "topic-record"]
        );
        assert_eq!(choice::<bool>("False"), Ok(false));
    }

    #[test]
    fn numbers_and_durations() {
        assert_eq!(number::<u64>("1_000", "n", |_| true), Ok(1000));
        assert_eq!(
            number::<u64>("-5", "a whole number", |_| true).unwrap_err(),
            "'-5' is not a whole number"
        );
        assert!(number::<u64>("0", "n", |n| *n > 0).is_err());
        assert_eq!(duration("1m30s"), Ok(Duration::from_secs(90)));
        assert!(duration("30")
            .unwrap_err()
            .starts_with("'30' is not a duration"));
        assert!(positive_duration("0s")
            .unwrap_err()
            .contains("longer than zero"));
        assert_eq!(duration("0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn topics_and_metrics_addresses() {
        assert!(topic("shoes.v1_x-y").is_ok());
        assert!(topic("bad topic").is_err());
        assert!(topic("..").is_err());
        assert!(topic(&"x".repeat(250)).is_err());
        assert_eq!(metrics_addr(":9100"), Ok("0.0.0.0:9100".parse().unwrap()));
        assert_eq!(
            metrics_addr("localhost:0"),
            Ok("127.0.0.1:0".parse().unwrap())
        );
        assert_eq!(metrics_addr("[::1]:9"), Ok("[::1]:9".parse().unwrap()));
        assert!(metrics_addr("metrics.local:9100").is_err());
    }
}
