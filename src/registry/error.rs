//! Registry failures as one-line messages a user can act on: the URL (never with credentials), the
//! subject or schema id, the HTTP status and Confluent's `error_code`, and what to do next.
//!
//! The hint depends on the operation as much as on the code: a 40401 while looking up means
//! "auto-register is off", while fetching the latest version it means "nothing registered yet".

use std::time::Duration;

use crate::support::tls::{TlsConfigError, TlsContext, TlsFailure};

/// The registry call that failed; it decides the hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `POST /subjects/{subject}/versions`.
    Register,
    /// `POST /subjects/{subject}`.
    Lookup,
    /// `GET /subjects/{subject}/versions/latest`.
    Latest,
    /// `GET /schemas/ids/{id}`.
    SchemaById,
    /// `GET /subjects/{subject}/versions`.
    SubjectVersions,
}

impl Operation {
    fn describe(self) -> &'static str {
        match self {
            Self::Register => "registering the schema",
            Self::Lookup => "looking up the schema",
            Self::Latest => "fetching the latest schema",
            Self::SchemaById => "fetching a schema by id",
            Self::SubjectVersions => "listing the subject's versions",
        }
    }
}

/// Why the Schema Registry could not give us what we asked for.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("cannot set up TLS for the Schema Registry: {0}; check SCHEMA_REGISTRY_SSL_CA_LOCATION (--schema-registry-ca-file)")]
    TlsSetup(#[from] TlsConfigError),

    #[error("invalid Schema Registry URL {url}: {reason}; set SCHEMA_REGISTRY_URL (--schema-registry-url) to https://host[:port]")]
    InvalidUrl { url: String, reason: String },

    #[error("cannot build the Schema Registry HTTP client: {cause}")]
    ClientSetup { cause: String },

    #[error("Schema Registry {url} unreachable while {} for {target} (after {attempts} attempts): {cause}; {advice}", .operation.describe())]
    Unreachable {
        operation: Operation,
        url: String,
        target: String,
        attempts: u32,
        cause: String,
        advice: &'static str,
    },

    #[error("Schema Registry {url} gave no answer within {} (--registry-timeout) while {} for {target} ({attempts} attempt(s){}); check that the registry is up and reachable, or raise --registry-timeout", humantime::format_duration(*.timeout), .operation.describe(), last_error_suffix(.last_error.as_deref()))]
    Deadline {
        operation: Operation,
        url: String,
        target: String,
        timeout: Duration,
        attempts: u32,
        /// The failure of the attempt before the one the deadline cut short, if any.
        last_error: Option<String>,
    },

    #[error("{} (while {} for {target} at {url})", failure.explain(&tls_context(peer)), .operation.describe())]
    TlsHandshake {
        operation: Operation,
        url: String,
        target: String,
        /// What was contacted, as the message names it: `Schema Registry https://host:port`.
        peer: String,
        failure: TlsFailure,
    },

    #[error("Schema Registry {url} answered HTTP {status} with a body larger than {} while {} for {target}; stopped reading it: check that SCHEMA_REGISTRY_URL (--schema-registry-url) is the registry's base URL", size_text(*.limit), .operation.describe())]
    TooLarge {
        operation: Operation,
        url: String,
        target: String,
        status: u16,
        limit: usize,
    },

    #[error("Schema Registry {method} {url} failed while {} for {target}: HTTP {status}{}: {message}; {hint}", .operation.describe(), error_code_suffix(*.error_code))]
    Http {
        operation: Operation,
        method: &'static str,
        url: String,
        target: String,
        status: u16,
        error_code: Option<i64>,
        message: String,
        hint: &'static str,
    },

    #[error("Schema Registry {url} sent an unexpected answer while {} for {target}: {detail}", .operation.describe())]
    BadResponse {
        operation: Operation,
        url: String,
        target: String,
        detail: String,
    },

    #[error("the latest schema of subject {subject} (version {version}, id {id}) on {url} is not the Shoe schema this producer serializes with: {difference}; register ours (drop --use-latest-version) or point --topic/--subject-name-strategy at the subject that holds it")]
    LatestMismatch {
        url: String,
        subject: String,
        version: i32,
        id: u32,
        difference: String,
    },
}

impl RegistryError {
    /// The HTTP status the registry answered with, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Http { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Confluent's `error_code` from the answer's body, if it had one.
    pub fn error_code(&self) -> Option<i64> {
        match self {
            Self::Http { error_code, .. } => *error_code,
            _ => None,
        }
    }

    /// True if the subject does not exist (`40401`): `check` reports it as "no versions yet".
    pub fn is_subject_not_found(&self) -> bool {
        self.error_code() == Some(40401)
    }

    /// Whether another attempt could succeed: the registry could not be reached, or it failed to
    /// serve the request (5xx). Any other answer is the registry's final word.
    pub(crate) fn is_retriable(&self) -> bool {
        match self {
            Self::Unreachable { .. } => true,
            Self::Http { status, .. } => (500..=599).contains(status),
            _ => false,
        }
    }
}

fn error_code_suffix(error_code: Option<i64>) -> String {
    error_code
        .map(|code| format!(" (error_code {code})"))
        .unwrap_or_default()
}

fn last_error_suffix(last_error: Option<&str>) -> String {
    last_error
        .map(|error| format!("; the one before failed: {error}"))
        .unwrap_or_default()
}

/// `1 MiB` for whole mebibytes, else bytes.
fn size_text(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// What to do when the registry could not be reached over `scheme`.
pub(crate) fn unreachable_advice(scheme: &str) -> &'static str {
    if scheme == "http" {
        "check SCHEMA_REGISTRY_URL (--schema-registry-url) and that the registry is up; if it speaks HTTPS, the URL must start with https://"
    } else {
        "check SCHEMA_REGISTRY_URL (--schema-registry-url) and that the registry is up"
    }
}

/// The settings a registry TLS message points at.
fn tls_context(peer: &str) -> TlsContext<'_> {
    TlsContext {
        peer,
        address_setting: "SCHEMA_REGISTRY_URL (--schema-registry-url)",
        ca_setting: "SCHEMA_REGISTRY_SSL_CA_LOCATION (--schema-registry-ca-file)",
        plaintext_hint: "if the registry speaks plain HTTP the URL must start with http://, \
                         else check the port in SCHEMA_REGISTRY_URL (--schema-registry-url)",
    }
}

/// The advice for an HTTP 400 that a web server gives a plain-HTTP request on its HTTPS port.
pub(crate) const PLAIN_HTTP_TO_HTTPS_PORT: &str = "the server answered HTTP 400 to a plain http:// request, which is what an HTTPS port does: is it an https:// URL? Set SCHEMA_REGISTRY_URL (--schema-registry-url) to https://…";

/// What to do about an HTTP error answer, by Confluent's `error_code` first and the status second.
pub(crate) fn hint(operation: Operation, status: u16, error_code: Option<i64>) -> &'static str {
    use Operation::*;
    match (error_code, status) {
        (Some(40101), _) | (_, 401) => {
            "the registry rejected the credentials: check SCHEMA_REGISTRY_API_KEY and SCHEMA_REGISTRY_API_SECRET (--schema-registry-api-key/--schema-registry-api-secret)"
        }
        (Some(40301), _) | (_, 403) => match operation {
            Register => "the API key may not register schemas on this subject (a read-only key?): grant it write access, or register the schema once elsewhere and use --no-auto-register",
            _ => "the API key lacks read permission on this subject: grant it access to the subject",
        },
        (Some(40401), _) => match operation {
            Lookup => "the subject does not exist and auto-register is off: register the schema (`shoe-producer register`) or drop --no-auto-register",
            Latest => "the subject has no schema yet: register it (`shoe-producer register`) or drop --use-latest-version",
            SubjectVersions => "the subject does not exist yet: the first registration creates it",
            _ => "the subject does not exist",
        },
        (Some(40402), _) => "the subject has no such version",
        (Some(40403), _) => match operation {
            Lookup => "the subject exists but does not hold this schema: register it (`shoe-producer register`) or drop --no-auto-register",
            SchemaById => "no schema has this id on this registry: check that SCHEMA_REGISTRY_URL is the registry the data was written with",
            _ => "schema not found",
        },
        (Some(409), _) | (_, 409) => {
            "the schema is incompatible with the subject's existing versions under its compatibility level: check the subject's versions and compatibility setting (GET /config/{subject}), or produce to another subject"
        }
        (Some(42201), _) => "the registry rejected the schema as invalid Protobuf",
        (Some(42202), _) => "the registry rejected the version as invalid",
        (_, 404) => "the registry has no such path: SCHEMA_REGISTRY_URL should be the registry's base URL (e.g. https://psrc-xxxxx.region.provider.confluent.cloud), without /subjects",
        (_, 429) => "the registry is rate limiting requests: try again later",
        (_, 500..=599) => "the registry failed to serve the request (retried with backoff): try again later or check the registry's health",
        _ => "see the registry's message",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http_error(operation: Operation, status: u16, error_code: Option<i64>) -> RegistryError {
        RegistryError::Http {
            operation,
            method: "POST",
            url: "https://registry.example:8443/subjects/shoes-value".into(),
            target: "subject shoes-value".into(),
            status,
            error_code,
            message: "Subject 'shoes-value' not found.".into(),
            hint: hint(operation, status, error_code),
        }
    }

    #[test]
    fn http_error_names_url_subject_status_code_and_hint() {
        let text = http_error(Operation::Lookup, 404, Some(40401)).to_string();
        assert_eq!(
            text,
            "Schema Registry POST https://registry.example:8443/subjects/shoes-value failed while looking up the schema for subject shoes-value: HTTP 404 (error_code 40401): Subject 'shoes-value' not found.; the subject does not exist and auto-register is off: register the schema (`shoe-producer register`) or drop --no-auto-register"
        );
        assert!(!text.contains('\n'));
    }

    #[test]
    fn hints_follow_code_then_status() {
        assert!(hint(Operation::Register, 401, Some(40101)).contains("SCHEMA_REGISTRY_API_KEY"));
        assert!(hint(Operation::Register, 401, None).contains("SCHEMA_REGISTRY_API_SECRET"));
        assert!(hint(Operation::Register, 403, Some(40301)).contains("--no-auto-register"));
        assert!(hint(Operation::Register, 409, Some(409)).contains("compatibility"));
        assert!(hint(Operation::Register, 422, Some(42201)).contains("invalid"));
        assert!(hint(Operation::Latest, 404, Some(40401)).contains("--use-latest-version"));
        assert!(hint(Operation::Lookup, 404, Some(40403)).contains("--no-auto-register"));
        assert!(hint(Operation::SchemaById, 404, Some(40403)).contains("no schema has this id"));
        assert!(hint(Operation::Register, 404, None).contains("base URL"));
        assert!(hint(Operation::Register, 503, Some(50003)).contains("retried"));
    }

    #[test]
    fn accessors_expose_status_and_code() {
        let error = http_error(Operation::SubjectVersions, 404, Some(40401));
        assert_eq!(error.status(), Some(404));
        assert_eq!(error.error_code(), Some(40401));
        assert!(error.is_subject_not_found());
    }

    #[test]
    fn only_transport_failures_and_server_errors_are_retried() {
        let unreachable = RegistryError::Unreachable {
            operation: Operation::Register,
            url: "https://sr.example".into(),
            target: "subject s".into(),
            attempts: 1,
            cause: "connection refused".into(),
            advice: unreachable_advice("https"),
        };
        assert!(unreachable.is_retriable());
        assert!(http_error(Operation::Register, 503, Some(50003)).is_retriable());
        assert!(!http_error(Operation::Register, 401, Some(40101)).is_retriable());
        assert!(!http_error(Operation::Register, 429, None).is_retriable());
    }

    #[test]
    fn the_deadline_is_printed_as_configured() {
        let error = RegistryError::Deadline {
            operation: Operation::Register,
            url: "https://sr.example".into(),
            target: "subject s".into(),
            timeout: Duration::from_secs(9),
            attempts: 2,
            last_error: Some("HTTP 503".into()),
        };
        assert_eq!(
            error.to_string(),
            "Schema Registry https://sr.example gave no answer within 9s (--registry-timeout) while registering the schema for subject s (2 attempt(s); the one before failed: HTTP 503); check that the registry is up and reachable, or raise --registry-timeout"
        );
    }

    #[test]
    fn an_oversized_body_is_one_line_with_the_limit() {
        let error = RegistryError::TooLarge {
            operation: Operation::Latest,
            url: "https://sr.example".into(),
            target: "subject s".into(),
            status: 500,
            limit: 1024 * 1024,
        };
        assert!(error
            .to_string()
            .starts_with("Schema Registry https://sr.example answered HTTP 500 with a body larger than 1 MiB while fetching the latest schema for subject s; stopped reading it"));
    }

    #[test]
    fn tls_failures_name_the_registrys_settings() {
        let tls = |failure: TlsFailure| {
            RegistryError::TlsHandshake {
                operation: Operation::Register,
                url: "https://127.0.0.2:8443/subjects/s/versions".into(),
                target: "subject s".into(),
                peer: "Schema Registry https://127.0.0.2:8443".into(),
                failure,
            }
            .to_string()
        };
        let wrong_name = tls(TlsFailure::WrongName {
            expected: "127.0.0.2".into(),
            presented: vec!["127.0.0.1".into(), "localhost".into()],
        });
        assert!(
            wrong_name.starts_with("the TLS certificate of Schema Registry https://127.0.0.2:8443 is not valid for \"127.0.0.2\" (it holds 127.0.0.1, localhost): connect with a name the certificate holds in SCHEMA_REGISTRY_URL (--schema-registry-url)"),
            "{wrong_name}"
        );
        assert!(
            wrong_name.ends_with("(while registering the schema for subject s at https://127.0.0.2:8443/subjects/s/versions)"),
            "{wrong_name}"
        );
        assert!(
            !wrong_name.contains("SCHEMA_REGISTRY_SSL_CA_LOCATION"),
            "{wrong_name}"
        );
        assert!(tls(TlsFailure::UnknownIssuer).contains("set SCHEMA_REGISTRY_SSL_CA_LOCATION"));
        assert!(tls(TlsFailure::NotTls).contains("the URL must start with http://"));
    }
}
