//! The value parsers the declarations use: text as the user wrote it → a typed value, or the reason
//! it is not one (quoting the text and saying what to write instead; the caller names the setting).
//!
//! Every source hands its value over as text — a flag, a variable, a YAML or properties value as
//! written — so one grammar holds for all of them: whole numbers are decimal digits, durations carry
//! a unit. They are pure — no I/O, no environment — so a default can be parsed by the same code as a
//! flag, and every declared default is checked by a unit test.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    num::NonZeroUsize,
    path::PathBuf,
    str::FromStr,
    time::Duration,
};

use crate::{
    settings::{
        Acks, ColorChoice, Compression, LogFormat, PartitionerKind, SaslMechanism,
        SecurityProtocol, SubjectNameStrategy,
    },
    support::{quoted::quoted, secret::Secret},
};

/// A setting with a fixed set of values.
pub(super) trait Choice: Copy + PartialEq + 'static {
    /// Every spelling accepted (case-insensitively). The first spelling of each value is the one
    /// shown in `--help` and errors; later ones are accepted aliases (`-1` for `all`).
    const SPELLINGS: &'static [(&'static str, Self)];
}

/// One of `T`'s spellings.
pub(super) fn choice<T: Choice>(text: &str) -> Result<T, String> {
    T::SPELLINGS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(text))
        .map(|(_, value)| *value)
        .ok_or_else(|| {
            format!(
                "unknown value {}; use one of {}",
                quoted(text),
                names::<T>().join(", ")
            )
        })
}

/// The shown spelling of each of `T`'s values, in declaration order.
pub(super) fn names<T: Choice>() -> Vec<&'static str> {
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
pub(super) fn free_form() -> Vec<&'static str> {
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
        // Confluent's class names, as client.properties writes them.
        (
            "io.confluent.kafka.serializers.subject.TopicNameStrategy",
            Self::Topic,
        ),
        (
            "io.confluent.kafka.serializers.subject.RecordNameStrategy",
            Self::Record,
        ),
        (
            "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy",
            Self::TopicRecord,
        ),
    ];
}

impl Choice for Acks {
    const SPELLINGS: &'static [(&'static str, Self)] =
        &[("all", Self::All), ("1", Self::Leader), ("-1", Self::All)];
}

/// `--acks`: one of [`Acks`]' spellings. Kafka's `0` is refused with the reason: the broker would
/// send no answer, and the connection layer waits for one to every request.
pub(super) fn acks(text: &str) -> Result<Acks, String> {
    if text == "0" {
        return Err(
            "'0' (no acknowledgement) is not offered: the connection layer waits for an answer \
             to every request, so fire-and-forget cannot be sent; use 1 (the leader) or all"
                .to_owned(),
        );
    }
    choice(text)
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

/// A whole-number type a setting holds, with its range.
pub(super) trait Whole: Sized {
    const MIN: i128;
    const MAX: i128;
    /// `value`, known to be within `MIN..=MAX`.
    fn from_i128(value: i128) -> Self;
}

macro_rules! whole {
    ($($t:ty),*) => {$(
        impl Whole for $t {
            const MIN: i128 = <$t>::MIN as i128;
            const MAX: i128 = <$t>::MAX as i128;
            fn from_i128(value: i128) -> Self {
                Self::try_from(value).expect("within the range")
            }
        }
    )*};
}

whole!(u8, u32, u64, usize, i16, i32, i64);

impl Whole for NonZeroUsize {
    const MIN: i128 = 1;
    const MAX: i128 = usize::MAX as i128;
    fn from_i128(value: i128) -> Self {
        usize::try_from(value)
            .ok()
            .and_then(NonZeroUsize::new)
            .expect("within the range")
    }
}

/// A whole number in decimal digits (`_` between them allowed, a sign in front) within `T`'s range
/// and accepted by `acceptable`; otherwise "'…' is not {what}", or for a number above the range,
/// "'…' is too large: at most MAX". `1e6`, `10.0` and `0x10` are not whole numbers here, whichever
/// source they come from.
pub(super) fn number<T: Whole>(
    text: &str,
    what: &str,
    acceptable: impl Fn(&T) -> bool,
) -> Result<T, String> {
    let compact = text.replace('_', "");
    let (negative, digits) = match compact.strip_prefix('-') {
        Some(digits) => (true, digits),
        None => (false, compact.strip_prefix('+').unwrap_or(&compact)),
    };
    let not = || format!("{} is not {what}", quoted(text));
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(not());
    }
    // More digits than an i128 holds are beyond every range here.
    let magnitude = digits.parse::<i128>().unwrap_or(i128::MAX);
    let value = if negative { -magnitude } else { magnitude };
    if value > T::MAX {
        return Err(format!("{} is too large: at most {}", quoted(text), T::MAX));
    }
    if value < T::MIN {
        return Err(not());
    }
    Some(T::from_i128(value))
        .filter(|n| acceptable(n))
        .ok_or_else(not)
}

/// A humantime duration (`30s`, `500ms`, `1h 30m`), zero included.
pub(super) fn duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| {
        format!(
            "{} is not a duration ({e}); write a number with a unit, e.g. 500ms, 30s, 5m, 1h30m",
            quoted(text)
        )
    })
}

/// A duration longer than zero.
pub(super) fn positive_duration(text: &str) -> Result<Duration, String> {
    match duration(text)? {
        d if d.is_zero() => Err(format!(
            "{} must be longer than zero, e.g. 30s",
            quoted(text)
        )),
        d => Ok(d),
    }
}

/// A duration of at least `min`, where a shorter one would flood or spin; zero too when `zero_is_off`.
pub(super) fn duration_at_least(
    text: &str,
    min: Duration,
    zero_is_off: bool,
) -> Result<Duration, String> {
    let d = duration(text)?;
    if d >= min || (zero_is_off && d.is_zero()) {
        return Ok(d);
    }
    let min = humantime::format_duration(min);
    let off = if zero_is_off {
        ", or 0s to turn it off"
    } else {
        ""
    };
    Err(format!(
        "{} is shorter than the minimum, {min}; give at least {min}{off}",
        quoted(text)
    ))
}

/// Any text (an API key, a file path checked later).
pub(super) fn text(text: &str) -> Result<String, String> {
    Ok(text.to_owned())
}

/// A file path; whether it can be read is checked where it is used.
pub(super) fn path(text: &str) -> Result<PathBuf, String> {
    Ok(PathBuf::from(text))
}

/// An API secret, held so that it never prints.
pub(super) fn secret(text: &str) -> Result<Secret, String> {
    Ok(Secret::new(text))
}

/// A legal Kafka topic name.
pub(super) fn topic(text: &str) -> Result<String, String> {
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
            "{} is not a legal Kafka topic name; use up to 249 of a-z A-Z 0-9 . _ -",
            quoted(text)
        ))
    }
}

/// `IP:PORT`, `[IPv6]:PORT`, `localhost:PORT` or `:PORT` (all interfaces). No name lookups.
pub(super) fn metrics_addr(text: &str) -> Result<SocketAddr, String> {
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
            "{} is not HOST:PORT with an IP address; write e.g. 0.0.0.0:9100 or 127.0.0.1:9100",
            quoted(text)
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
        assert_eq!(names::<Acks>(), ["all", "1"]);
        assert_eq!(
            acks("2").unwrap_err(),
            "unknown value '2'; use one of all, 1"
        );
        assert!(acks("0").unwrap_err().contains("use 1 (the leader) or all"));
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
    fn one_number_grammar_with_the_maximum_named() {
        assert_eq!(number::<i64>("+1_000", "n", |_| true), Ok(1000));
        for text in ["1e6", "10.0", "10.5", "0x10", "1 000", "--1", "", "_"] {
            assert_eq!(
                number::<u64>(text, "a count", |_| true),
                Err(format!("{} is not a count", quoted(text))),
                "{text}"
            );
        }
        assert_eq!(
            number::<i64>("9223372036854775808", "an id", |_| true).unwrap_err(),
            "'9223372036854775808' is too large: at most 9223372036854775807"
        );
        assert_eq!(
            number::<u64>(&"9".repeat(60), "a seed", |_| true).unwrap_err(),
            format!(
                "'{}' is too large: at most 18446744073709551615",
                "9".repeat(60)
            )
        );
        assert_eq!(
            number::<NonZeroUsize>("0", "a size ≥ 1", |_| true).unwrap_err(),
            "'0' is not a size ≥ 1"
        );
        assert_eq!(number::<i16>("-1", "r", |_| true), Ok(-1));
        assert!(number::<i16>("-40000", "r", |_| true).is_err());
    }

    #[test]
    fn a_duration_may_have_a_minimum_and_zero_may_mean_off() {
        let min = Duration::from_millis(100);
        assert_eq!(duration_at_least("0s", min, true), Ok(Duration::ZERO));
        assert_eq!(duration_at_least("100ms", min, true), Ok(min));
        assert_eq!(
            duration_at_least("1ns", min, true).unwrap_err(),
            "'1ns' is shorter than the minimum, 100ms; give at least 100ms, or 0s to turn it off"
        );
        assert_eq!(
            duration_at_least("0s", Duration::from_secs(1), false).unwrap_err(),
            "'0s' is shorter than the minimum, 1s; give at least 1s"
        );
    }

    #[test]
    fn echoed_text_stays_on_one_line() {
        assert_eq!(
            topic("a\nb").unwrap_err(),
            r"'a\nb' is not a legal Kafka topic name; use up to 249 of a-z A-Z 0-9 . _ -"
        );
        assert!(acks("a\x01b")
            .unwrap_err()
            .starts_with(r"unknown value 'a\x01b'"));
        assert!(duration("1\n2")
            .unwrap_err()
            .starts_with(r"'1\n2' is not a duration"));
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
