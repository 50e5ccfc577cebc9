//! One rustls `ClientConfig` for every TLS connection we open (Kafka brokers and the Schema Registry),
//! and one reading of why a handshake failed.
//!
//! Trust comes from the bundled Mozilla roots (`webpki-roots`), so the binary works on a host without a
//! CA bundle (a `FROM scratch` image), plus an optional PEM file of extra CAs (a private or test CA).
//! The crypto provider is `ring`: no C toolchain or OpenSSL needed, and no process-wide default is set.
//!
//! A failed handshake has causes that need different fixes — a name the certificate does not hold
//! (use another address), an unknown CA (give the CA file), an expired certificate (the server must
//! renew it), a port that does not speak TLS (change the protocol) — so [`classify`] sorts rustls'
//! errors into those cases once, for Kafka and the registry alike, and [`TlsFailure::explain`] says
//! what to do in terms of the caller's settings.

use std::{error::Error as StdError, fmt, io, path::Path, sync::Arc};

use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::{pem::PemObject, CertificateDer};

use super::{
    input_file::{read_regular_file, InputFileError},
    quoted::quoted,
};

/// Why a TLS configuration could not be built. The caller names the flag or variable that gave the path.
#[derive(Debug, thiserror::Error)]
pub enum TlsConfigError {
    #[error("cannot read CA file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: InputFileError,
    },
    #[error("CA file {path} holds no PEM certificate")]
    Empty { path: String },
    #[error("CA file {path} is not valid PEM: {reason}")]
    Invalid { path: String, reason: String },
    #[error("TLS setup failed: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The largest CA file read: a bundle of every public root is about 200 KiB.
const MAX_CA_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Reads every certificate in a PEM file, failing if it has none. The file is read the way every
/// input file is ([`read_regular_file`]): a regular file of at most [`MAX_CA_FILE_BYTES`].
pub(crate) fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsConfigError> {
    let shown = quoted(&path.display().to_string());
    let bytes =
        read_regular_file(path, MAX_CA_FILE_BYTES).map_err(|source| TlsConfigError::Read {
            path: shown.clone(),
            source,
        })?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsConfigError::Invalid {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsConfigError::Empty { path: shown });
    }
    Ok(certs)
}

/// Builds a client config trusting the bundled Mozilla roots plus the certificates of `extra_ca`.
pub fn client_config(extra_ca: Option<&Path>) -> Result<Arc<ClientConfig>, TlsConfigError> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = extra_ca {
        for cert in read_ca_file(path)? {
            roots.add(cert)?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Why a TLS handshake failed, sorted by what the user has to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsFailure {
    /// The certificate does not hold the name we connected to; `presented` lists the names it holds
    /// (DNS names and IP addresses), when rustls reports them.
    WrongName {
        expected: String,
        presented: Vec<String>,
    },
    /// No trusted CA signed the certificate (typically a private CA that is not configured).
    UnknownIssuer,
    /// The certificate's validity ended (`not_after`, seconds since the epoch, when known).
    Expired { not_after: Option<u64> },
    /// The certificate is not valid yet (`not_before`, when known): usually this machine's clock.
    NotYetValid { not_before: Option<u64> },
    /// Any other objection to the certificate (revoked, bad signature, wrong key usage, …).
    BadCertificate(String),
    /// The server does not speak TLS: it answered with bytes that are no TLS record.
    NotTls,
    /// The server closed the connection during the handshake (a plaintext port does that, but so
    /// may a server going down).
    Closed,
    /// The server speaks TLS but the handshake failed for another reason (no common protocol
    /// version or cipher suite, an alert, …).
    Handshake(String),
}

/// The settings a TLS failure message points at, as the user knows them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TlsContext<'a> {
    /// What was contacted, e.g. `Kafka broker 127.0.0.1:9093`.
    pub peer: &'a str,
    /// The setting that gave its address, e.g. `BOOTSTRAP_SERVERS (--bootstrap-servers)`.
    pub address_setting: &'a str,
    /// The setting for a CA file, e.g. `KAFKA_SSL_CA_LOCATION (--kafka-ca-file)`.
    pub ca_setting: &'a str,
    /// What to try when the server does not speak TLS, e.g. `is this a plaintext port? set …`.
    pub plaintext_hint: &'a str,
}

/// Finds why a TLS connection could not be opened in `error` and its sources (rustls' error may sit
/// inside an `io::Error`, as tokio-rustls and hyper put it). `None` when the chain holds no TLS cause.
///
/// Call it only for errors from opening a connection: an unexpected end of stream in the chain is
/// read as the server closing the connection during the handshake.
pub fn classify(error: &(dyn StdError + 'static)) -> Option<TlsFailure> {
    let mut next = Some(error);
    let mut closed = false;
    while let Some(current) = next {
        if let Some(rustls_error) = current.downcast_ref::<rustls::Error>() {
            return Some(classify_rustls(rustls_error));
        }
        next = current.source();
        if let Some(io_error) = current.downcast_ref::<io::Error>() {
            closed |= matches!(
                io_error.kind(),
                io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset
            );
            // `io::Error::source` skips the wrapped error itself; look at it first.
            if let Some(inner) = io_error.get_ref() {
                next = Some(inner);
            }
        }
    }
    closed.then_some(TlsFailure::Closed)
}

/// Sorts one rustls error.
pub(crate) fn classify_rustls(error: &rustls::Error) -> TlsFailure {
    use rustls::{CertificateError as Cert, Error, InvalidMessage};
    match error {
        Error::InvalidCertificate(cert) => match cert {
            Cert::NotValidForNameContext {
                expected,
                presented,
            } => TlsFailure::WrongName {
                expected: expected.to_str().into_owned(),
                presented: presented.iter().map(|name| plain_name(name)).collect(),
            },
            Cert::NotValidForName => TlsFailure::WrongName {
                expected: String::new(),
                presented: Vec::new(),
            },
            Cert::UnknownIssuer => TlsFailure::UnknownIssuer,
            Cert::ExpiredContext { not_after, .. } => TlsFailure::Expired {
                not_after: Some(not_after.as_secs()),
            },
            Cert::Expired => TlsFailure::Expired { not_after: None },
            Cert::NotValidYetContext { not_before, .. } => TlsFailure::NotYetValid {
                not_before: Some(not_before.as_secs()),
            },
            Cert::NotValidYet => TlsFailure::NotYetValid { not_before: None },
            other => TlsFailure::BadCertificate(other.to_string()),
        },
        Error::InvalidMessage(InvalidMessage::InvalidContentType)
        | Error::InvalidMessage(InvalidMessage::UnknownProtocolVersion) => TlsFailure::NotTls,
        other => TlsFailure::Handshake(other.to_string()),
    }
}

/// A name as rustls-webpki reports it (`DnsName("localhost")`, `IpAddress(127.0.0.1)`), bare.
fn plain_name(reported: &str) -> String {
    let bare = ["DnsName(\"", "IpAddress("]
        .iter()
        .find_map(|prefix| reported.strip_prefix(prefix))
        .map(|rest| rest.trim_end_matches(')').trim_end_matches('"'));
    bare.unwrap_or(reported).to_owned()
}

/// A date for a message: `2024-05-01 12:00:00 UTC`.
fn utc(seconds: u64) -> String {
    i64::try_from(seconds)
        .ok()
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| format!("{seconds} s after the epoch"))
}

impl fmt::Display for TlsFailure {
    /// The cause alone, without advice.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongName {
                expected,
                presented,
            } => {
                write!(f, "the certificate is not valid for \"{expected}\"")?;
                if !presented.is_empty() {
                    write!(f, " (it holds {})", presented.join(", "))?;
                }
                Ok(())
            }
            Self::UnknownIssuer => {
                f.write_str("the certificate is not trusted (no known CA signed it)")
            }
            Self::Expired { not_after } => match not_after {
                Some(t) => write!(f, "the certificate expired on {}", utc(*t)),
                None => f.write_str("the certificate expired"),
            },
            Self::NotYetValid { not_before } => match not_before {
                Some(t) => write!(f, "the certificate is not valid until {}", utc(*t)),
                None => f.write_str("the certificate is not valid yet"),
            },
            Self::BadCertificate(reason) => write!(f, "the certificate is refused: {reason}"),
            Self::NotTls => f.write_str("the server answered with bytes that are not TLS"),
            Self::Closed => f.write_str("the server closed the connection during the handshake"),
            Self::Handshake(reason) => f.write_str(reason),
        }
    }
}

impl TlsFailure {
    #[cfg(test)]
    /// True when the server's certificate was read and refused (retrying the same server cannot help).
    pub(crate) fn is_certificate(&self) -> bool {
        !matches!(self, Self::NotTls | Self::Closed | Self::Handshake(_))
    }

    /// One line for the user: what is wrong with `context.peer`'s TLS and which setting fixes it.
    pub(crate) fn explain(&self, context: &TlsContext<'_>) -> String {
        let TlsContext {
            peer,
            address_setting,
            ca_setting,
            plaintext_hint,
        } = context;
        match self {
            Self::WrongName {
                expected,
                presented,
            } => {
                let holds = if presented.is_empty() {
                    String::new()
                } else {
                    format!(" (it holds {})", presented.join(", "))
                };
                let expected = if expected.is_empty() {
                    "the name connected to".to_owned()
                } else {
                    format!("\"{expected}\"")
                };
                format!(
                    "the TLS certificate of {peer} is not valid for {expected}{holds}: connect with a \
                     name the certificate holds in {address_setting}, or give the server a \
                     certificate for that name (a CA file cannot fix a name)"
                )
            }
            Self::UnknownIssuer => format!(
                "the TLS certificate of {peer} is not trusted (no known CA signed it): set \
                 {ca_setting} to the PEM file of the CA that signed it"
            ),
            Self::Expired { not_after } => {
                let when = not_after
                    .map(|t| format!(" on {}", utc(t)))
                    .unwrap_or_default();
                format!(
                    "the TLS certificate of {peer} expired{when}: the server needs a renewed \
                     certificate (a CA file cannot help; check this machine's clock too)"
                )
            }
            Self::NotYetValid { not_before } => {
                let when = not_before
                    .map(|t| format!(" until {}", utc(t)))
                    .unwrap_or_default();
                format!(
                    "the TLS certificate of {peer} is not valid{when}: check this machine's clock"
                )
            }
            Self::BadCertificate(reason) => {
                format!("the TLS certificate of {peer} is refused: {reason}")
            }
            Self::NotTls => {
                format!("{peer} answered the TLS handshake with bytes that are not TLS: {plaintext_hint}")
            }
            Self::Closed => {
                format!("{peer} closed the connection during the TLS handshake: {plaintext_hint}")
            }
            Self::Handshake(reason) => format!(
                "the TLS handshake with {peer} failed ({reason}): check {address_setting} and \
                 {ca_setting}"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_ca_file_that_is_not_a_regular_file_or_too_large_is_refused() {
        let error = read_ca_file(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot read CA file '/dev/zero': it is a device, not a regular file"
        );
        let file = tempfile::NamedTempFile::new().unwrap();
        file.as_file().set_len(MAX_CA_FILE_BYTES + 1).unwrap();
        let error = read_ca_file(file.path()).unwrap_err();
        assert!(
            error.to_string().ends_with("it is larger than 4 MiB"),
            "{error}"
        );
    }

    #[test]
    fn bundled_roots_alone_build() {
        let config = client_config(None).unwrap();
        assert!(config.alpn_protocols.is_empty());
    }

    #[test]
    fn missing_ca_file_is_a_read_error() {
        let err = client_config(Some(Path::new("/nonexistent/ca.pem"))).unwrap_err();
        assert!(matches!(err, TlsConfigError::Read { .. }), "{err}");
        assert!(err.to_string().contains("/nonexistent/ca.pem"));
    }

    #[test]
    fn file_without_certificates_is_rejected() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(file, "not a certificate").unwrap();
        let err = client_config(Some(file.path())).unwrap_err();
        assert!(matches!(err, TlsConfigError::Empty { .. }), "{err}");
    }

    /// The verdict of rustls' own verifier on `certificate` (from `testdata/tls`, see its
    /// generate.sh) for `name`, trusting `ca` (nothing when `None`), at a fixed time (2050-01-01).
    fn verify(certificate: &str, name: &str, ca: Option<&str>) -> TlsFailure {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/tls");
        let mut roots = RootCertStore::empty();
        if let Some(ca) = ca {
            for cert in read_ca_file(&dir.join(ca)).unwrap() {
                roots.add(cert).unwrap();
            }
        } else {
            // A store needs one root: the bundled ones did not sign the test certificates.
            roots.roots = webpki_roots::TLS_SERVER_ROOTS.to_vec();
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier =
            rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .unwrap();
        let leaf = read_ca_file(&dir.join(certificate)).unwrap().remove(0);
        let error = rustls::client::danger::ServerCertVerifier::verify_server_cert(
            verifier.as_ref(),
            &leaf,
            &[],
            &rustls_pki_types::ServerName::try_from(name.to_owned()).unwrap(),
            &[],
            rustls_pki_types::UnixTime::since_unix_epoch(std::time::Duration::from_secs(
                2_524_608_000,
            )),
        )
        .expect_err("verification must fail");
        // Wrapped the way tokio-rustls hands it over, to exercise the chain walk too.
        classify(&io::Error::new(io::ErrorKind::InvalidData, error)).expect("a TLS cause")
    }

    const KAFKA: TlsContext<'static> = TlsContext {
        peer: "Kafka broker 127.0.0.2:9093",
        address_setting: "BOOTSTRAP_SERVERS (--bootstrap-servers)",
        ca_setting: "KAFKA_SSL_CA_LOCATION (--kafka-ca-file)",
        plaintext_hint: "is this a plaintext port?",
    };

    #[test]
    fn a_name_the_certificate_does_not_hold_lists_the_names_it_holds() {
        let failure = verify("valid.pem", "127.0.0.2", Some("ca.pem"));
        assert_eq!(
            failure,
            TlsFailure::WrongName {
                expected: "127.0.0.2".into(),
                presented: vec!["shoe-test.example".into(), "127.0.0.1".into()],
            }
        );
        assert!(failure.is_certificate());
        let line = failure.explain(&KAFKA);
        assert_eq!(
            line,
            "the TLS certificate of Kafka broker 127.0.0.2:9093 is not valid for \"127.0.0.2\" (it \
             holds shoe-test.example, 127.0.0.1): connect with a name the certificate holds in \
             BOOTSTRAP_SERVERS (--bootstrap-servers), or give the server a certificate for that name \
             (a CA file cannot fix a name)"
        );
        assert!(!line.contains("KAFKA_SSL_CA_LOCATION"), "{line}");
        let dns = verify("valid.pem", "other.example", Some("ca.pem"));
        assert!(
            matches!(&dns, TlsFailure::WrongName { expected, .. } if expected == "other.example"),
            "{dns:?}"
        );
    }

    #[test]
    fn an_unknown_ca_names_the_ca_setting() {
        let failure = verify("valid.pem", "shoe-test.example", None);
        assert_eq!(failure, TlsFailure::UnknownIssuer);
        assert!(failure
            .explain(&KAFKA)
            .contains("set KAFKA_SSL_CA_LOCATION"));
    }

    #[test]
    fn an_expired_certificate_says_so_with_its_date() {
        let failure = verify("expired.pem", "shoe-test.example", Some("ca.pem"));
        assert_eq!(
            failure,
            TlsFailure::Expired {
                not_after: Some(978_307_200)
            }
        );
        let line = failure.explain(&KAFKA);
        assert!(
            line.contains("expired on 2001-01-01 00:00:00 UTC") && !line.contains("set KAFKA_SSL"),
            "{line}"
        );
        let early = verify("not-yet-valid.pem", "shoe-test.example", Some("ca.pem"));
        assert!(
            early
                .explain(&KAFKA)
                .contains("not valid until 2090-01-01 00:00:00 UTC: check this machine's clock"),
            "{early:?}"
        );
    }

    #[test]
    fn a_server_that_does_not_speak_tls_is_told_apart() {
        let garbage = rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType);
        let failure = classify(&garbage).unwrap();
        assert!(failure == TlsFailure::NotTls && !failure.is_certificate());
        assert!(failure
            .explain(&KAFKA)
            .ends_with(": is this a plaintext port?"));
        let closed = io::Error::new(io::ErrorKind::UnexpectedEof, "tls handshake eof");
        assert_eq!(classify(&closed), Some(TlsFailure::Closed));
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(classify(&refused), None);
    }

    #[test]
    fn reported_names_lose_their_wrapping() {
        assert_eq!(plain_name("DnsName(\"localhost\")"), "localhost");
        assert_eq!(plain_name("IpAddress(::1)"), "::1");
        assert_eq!(plain_name("DirectoryName"), "DirectoryName");
    }
}
