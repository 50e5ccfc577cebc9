//! The HTTP side of the Schema Registry: one reqwest client (rustls with the shared TLS config, Basic
//! auth, timeouts), Confluent's REST paths and media type, bounded retries, and the translation of
//! every failure into a [`RegistryError`] that names the URL without credentials.

use bytes::Bytes;
use reqwest::{
    header::{HeaderValue, ACCEPT, CONTENT_TYPE},
    Method, StatusCode,
};
use serde::Deserialize;
use url::Url;

use std::sync::{Arc, Mutex};

use super::{
    error::{hint, Operation, RegistryError},
    resolve::Resolution,
    retry::RetryPolicy,
};
use crate::{
    app::settings::{RegistrySettings, SchemaSettings},
    support::secret::Secret,
};

/// Confluent's media type for request bodies.
const SCHEMA_REGISTRY_JSON: &str = "application/vnd.schemaregistry.v1+json";
/// What Confluent's own clients accept.
const ACCEPTED: &str = "application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json; q=0.9, application/json; q=0.5";
/// Longest registry error message kept in our error (registries can answer with whole HTML pages).
const MAX_MESSAGE_CHARS: usize = 300;

/// A schema as a subject holds it (`lookup` and `latest` answers).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SubjectSchema {
    pub subject: String,
    pub version: i32,
    pub id: u32,
    pub schema: String,
    /// `PROTOBUF`, `JSON`, or absent for Avro (Confluent omits it for Avro).
    #[serde(rename = "schemaType", default)]
    pub schema_type: Option<String>,
}

impl SubjectSchema {
    /// Why this is not the `Shoe` schema we serialize with, or `None` when it is.
    pub fn difference_from_ours(&self) -> Option<String> {
        match self.schema_type.as_deref() {
            Some("PROTOBUF") => crate::shoe::schema::difference_from_ours(&self.schema),
            Some(other) => Some(format!("it is a {other} schema, not Protobuf")),
            None => Some("it is an Avro schema, not Protobuf".to_owned()),
        }
    }
}

/// A schema fetched by id (`GET /schemas/ids/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SchemaById {
    pub schema: String,
    #[serde(rename = "schemaType", default)]
    pub schema_type: Option<String>,
}

#[derive(Deserialize)]
struct RegisteredId {
    id: u32,
}

#[derive(Deserialize)]
struct ErrorBody {
    error_code: Option<i64>,
    message: Option<String>,
}

#[derive(serde::Serialize)]
struct SchemaRequest<'a> {
    #[serde(rename = "schemaType")]
    schema_type: &'static str,
    schema: &'a str,
}

/// A Schema Registry client for one registry URL and one set of credentials.
#[derive(Debug, Clone)]
pub struct SchemaRegistryClient {
    http: reqwest::Client,
    base_url: Url,
    api_key: Option<String>,
    api_secret: Option<Secret>,
    retry: RetryPolicy,
    /// Schema ids already resolved, per subject and settings; shared by clones.
    resolved: Arc<Mutex<Vec<ResolvedEntry>>>,
}

#[derive(Debug)]
struct ResolvedEntry {
    subject: String,
    settings: SchemaSettings,
    resolution: (u32, Resolution),
}

impl SchemaRegistryClient {
    /// Builds the client: TLS from the bundled roots plus `settings.ca_file`, `settings.timeout`
    /// per request (and for connecting), Basic auth if an API key is set, the default [`RetryPolicy`].
    /// No network I/O happens here.
    pub fn new(settings: &RegistrySettings) -> Result<Self, RegistryError> {
        let base_url = parse_base_url(&settings.url)?;
        let tls = crate::support::tls::client_config(settings.ca_file.as_deref())?;
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured((*tls).clone())
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .user_agent(concat!("shoe-producer/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| RegistryError::ClientSetup {
                cause: error_chain(&error),
            })?;
        Ok(Self {
            http,
            base_url,
            api_key: settings.api_key.clone(),
            api_secret: settings.api_secret.clone(),
            retry: RetryPolicy::default(),
            resolved: Arc::default(),
        })
    }

    /// The same client with another retry policy.
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The registry's base URL, as shown in messages (never with credentials).
    pub fn base_url(&self) -> String {
        redact(&self.base_url)
    }

    /// Registers `schema` (Protobuf source) under `subject` and returns its id. Registering content the
    /// subject already holds returns the existing id (Confluent's documented behaviour).
    pub async fn register(&self, subject: &str, schema: &str) -> Result<u32, RegistryError> {
        let registered: RegisteredId = self
            .call(
                Operation::Register,
                subject_target(subject),
                Method::POST,
                &["subjects", subject, "versions"],
                Some(schema_request_body(schema)),
            )
            .await?;
        Ok(registered.id)
    }

    /// Looks `schema` up under `subject` without registering it (works with a read-only key).
    pub async fn lookup(
        &self,
        subject: &str,
        schema: &str,
    ) -> Result<SubjectSchema, RegistryError> {
        self.call(
            Operation::Lookup,
            subject_target(subject),
            Method::POST,
            &["subjects", subject],
            Some(schema_request_body(schema)),
        )
        .await
    }

    /// The subject's latest version.
    pub async fn latest(&self, subject: &str) -> Result<SubjectSchema, RegistryError> {
        self.call(
            Operation::Latest,
            subject_target(subject),
            Method::GET,
            &["subjects", subject, "versions", "latest"],
            None,
        )
        .await
    }

    /// The schema with this id.
    pub async fn schema_by_id(&self, id: u32) -> Result<SchemaById, RegistryError> {
        self.call(
            Operation::SchemaById,
            format!("schema id {id}"),
            Method::GET,
            &["schemas", "ids", &id.to_string()],
            None,
        )
        .await
    }

    /// The subject's version numbers, oldest first.
    pub async fn subject_versions(&self, subject: &str) -> Result<Vec<i32>, RegistryError> {
        self.call(
            Operation::SubjectVersions,
            subject_target(subject),
            Method::GET,
            &["subjects", subject, "versions"],
            None,
        )
        .await
    }

    pub(super) fn cached_resolution(
        &self,
        subject: &str,
        settings: &SchemaSettings,
    ) -> Option<(u32, Resolution)> {
        let resolved = self
            .resolved
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        resolved
            .iter()
            .find(|entry| entry.subject == subject && &entry.settings == settings)
            .map(|entry| entry.resolution)
    }

    pub(super) fn cache_resolution(
        &self,
        subject: &str,
        settings: &SchemaSettings,
        resolution: (u32, Resolution),
    ) {
        let mut resolved = self
            .resolved
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        resolved.push(ResolvedEntry {
            subject: subject.to_owned(),
            settings: settings.clone(),
            resolution,
        });
    }

    /// The base URL with `segments` appended, each percent-encoded as one path segment (a subject
    /// holding `/` or `%` stays one segment).
    fn endpoint(&self, segments: &[&str]) -> Url {
        let mut url = self.base_url.clone();
        url.path_segments_mut()
            .expect("http(s) URLs always have a path")
            .pop_if_empty()
            .extend(segments);
        url
    }

    /// Sends `method` to the endpoint at `segments` (with retries, see [`Self::send`]) and parses the
    /// JSON answer; `target` names what the request is about in errors.
    async fn call<T: for<'de> Deserialize<'de>>(
        &self,
        operation: Operation,
        target: String,
        method: Method,
        segments: &[&str],
        body: Option<Bytes>,
    ) -> Result<T, RegistryError> {
        let url = self.endpoint(segments);
        self.send(operation, target, method, url, body)
            .await?
            .parse()
    }

    /// Sends one request with retries: transport failures (except TLS) and 5xx answers are retried
    /// under the retry policy; any other answer is final.
    async fn send(
        &self,
        operation: Operation,
        target: String,
        method: Method,
        url: Url,
        body: Option<Bytes>,
    ) -> Result<Answer, RegistryError> {
        let shown_url = redact(&url);
        let mut attempt = 1;
        loop {
            let mut request = self
                .http
                .request(method.clone(), url.clone())
                .header(ACCEPT, HeaderValue::from_static(ACCEPTED));
            if let Some(body) = &body {
                request = request
                    .header(CONTENT_TYPE, HeaderValue::from_static(SCHEMA_REGISTRY_JSON))
                    .body(body.clone());
            }
            if let Some(key) = &self.api_key {
                request = request.basic_auth(key, self.api_secret.as_ref().map(Secret::expose));
            }

            let failure = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    match response.bytes().await {
                        Ok(bytes) if status.is_success() => {
                            return Ok(Answer {
                                operation,
                                url: shown_url,
                                target,
                                bytes,
                            })
                        }
                        Ok(bytes) => {
                            let error =
                                http_error(operation, &method, &shown_url, &target, status, &bytes);
                            if !status.is_server_error() {
                                return Err(error);
                            }
                            Failure::Retriable(error)
                        }
                        Err(error) => {
                            self.transport_failure(operation, &shown_url, &target, attempt, error)
                        }
                    }
                }
                Err(error) => {
                    self.transport_failure(operation, &shown_url, &target, attempt, error)
                }
            };
            match failure {
                Failure::Final(error) => return Err(error),
                Failure::Retriable(error) => match self.retry.backoff_after(attempt) {
                    None => return Err(error),
                    Some(pause) => {
                        tracing::warn!(
                            url = %shown_url,
                            %target,
                            attempt,
                            retry_in_ms = pause.as_millis() as u64,
                            "Schema Registry request failed, retrying: {error}"
                        );
                        tokio::time::sleep(pause).await;
                        attempt += 1;
                    }
                },
            }
        }
    }

    fn transport_failure(
        &self,
        operation: Operation,
        url: &str,
        target: &str,
        attempt: u32,
        error: reqwest::Error,
    ) -> Failure {
        let error = error.without_url();
        let cause = error_chain(&error);
        if is_tls_failure(&error) {
            return Failure::Final(RegistryError::TlsHandshake {
                operation,
                url: url.to_owned(),
                target: target.to_owned(),
                cause,
            });
        }
        let cause = if error.is_timeout() {
            format!("no answer within the request timeout ({cause})")
        } else {
            cause
        };
        Failure::Retriable(RegistryError::Unreachable {
            operation,
            url: url.to_owned(),
            target: target.to_owned(),
            attempts: attempt,
            cause,
        })
    }
}

enum Failure {
    Retriable(RegistryError),
    Final(RegistryError),
}

/// A successful answer's body, with what is needed to report it as unexpected.
struct Answer {
    operation: Operation,
    url: String,
    target: String,
    bytes: Bytes,
}

impl Answer {
    fn parse<T: for<'de> Deserialize<'de>>(self) -> Result<T, RegistryError> {
        serde_json::from_slice(&self.bytes).map_err(|error| RegistryError::BadResponse {
            operation: self.operation,
            url: self.url,
            target: self.target,
            detail: format!(
                "{error} in body `{}`",
                one_line(&String::from_utf8_lossy(&self.bytes))
            ),
        })
    }
}

fn subject_target(subject: &str) -> String {
    format!("subject {subject}")
}

fn schema_request_body(schema: &str) -> Bytes {
    let request = SchemaRequest {
        schema_type: "PROTOBUF",
        schema,
    };
    Bytes::from(serde_json::to_vec(&request).expect("a struct of strings serializes"))
}

fn http_error(
    operation: Operation,
    method: &Method,
    url: &str,
    target: &str,
    status: StatusCode,
    body: &[u8],
) -> RegistryError {
    let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
    let error_code = parsed.as_ref().and_then(|body| body.error_code);
    let message = parsed
        .and_then(|body| body.message)
        .map(|message| one_line(&message))
        .filter(|message| !message.is_empty())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("no message").to_owned());
    RegistryError::Http {
        operation,
        method: static_method(method),
        url: url.to_owned(),
        target: target.to_owned(),
        status: status.as_u16(),
        error_code,
        message,
        hint: hint(operation, status.as_u16(), error_code),
    }
}

fn static_method(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        _ => "request",
    }
}

/// Parses and checks `SCHEMA_REGISTRY_URL`. Credentials in the URL are refused (they belong in the
/// API key and secret) and never echoed.
fn parse_base_url(text: &str) -> Result<Url, RegistryError> {
    let invalid = |shown: String, reason: &str| RegistryError::InvalidUrl {
        url: shown,
        reason: reason.to_owned(),
    };
    let url = Url::parse(text.trim()).map_err(|error| {
        // An unparsable URL might still hold a password: show only up to the scheme.
        let shown = text.split("://").next().unwrap_or_default();
        invalid(format!("{shown}://…"), &error.to_string())
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(redact(&url), "the scheme must be https or http"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            redact(&url),
            "credentials belong in SCHEMA_REGISTRY_API_KEY/SCHEMA_REGISTRY_API_SECRET, not in the URL",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(
            redact(&url),
            "a query or fragment has no place in the base URL",
        ));
    }
    Ok(url)
}

/// The URL as shown in messages: no username, password, query or fragment.
fn redact(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    let text = shown.to_string();
    match text.strip_suffix('/') {
        Some(trimmed) if shown.path() == "/" => trimmed.to_owned(),
        _ => text,
    }
}

/// An error and its causes, joined on one line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    one_line(&text)
}

/// True if a TLS error (bad certificate, handshake failure) is anywhere in the chain. rustls errors
/// travel inside `std::io::Error`s (tokio-rustls nests one in another), whose `source()` skips the
/// wrapped error, so look inside those too.
fn is_tls_failure(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.is::<rustls::Error>() {
            return true;
        }
        let mut io = error.downcast_ref::<std::io::Error>();
        while let Some(inner) = io.and_then(std::io::Error::get_ref) {
            if inner.is::<rustls::Error>() {
                return true;
            }
            io = inner.downcast_ref::<std::io::Error>();
        }
        current = error.source();
    }
    false
}

/// Collapses whitespace (newlines included) and bounds the length, so a message stays one line.
fn one_line(text: &str) -> String {
    let mut line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some((cut, _)) = line.char_indices().nth(MAX_MESSAGE_CHARS) {
        line.truncate(cut);
        line.push('…');
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const DISTINCTIVE_SECRET: &str = "sr-secret-QX7v-do-not-print-9f2c";

    fn settings(url: &str) -> RegistrySettings {
        RegistrySettings {
            url: crate::app::settings::RegistryUrl::parse(url).unwrap(),
            api_key: Some("sr-key".to_owned()),
            api_secret: Some(Secret::new(DISTINCTIVE_SECRET)),
            ca_file: None,
            timeout: Duration::from_secs(2),
        }
    }

    fn assert_secret_hidden(text: &str) {
        assert!(!text.contains(DISTINCTIVE_SECRET), "secret leaked: {text}");
        assert!(!text.contains("QX7v"), "part of the secret leaked: {text}");
    }

    #[test]
    fn endpoints_percent_encode_the_subject_as_one_segment() {
        let client = SchemaRegistryClient::new(&settings("https://sr.example:8443")).unwrap();
        assert_eq!(
            client
                .endpoint(&["subjects", "shoes-value", "versions"])
                .as_str(),
            "https://sr.example:8443/subjects/shoes-value/versions"
        );
        assert_eq!(
            client.endpoint(&["subjects", "a/b %?#c"]).as_str(),
            "https://sr.example:8443/subjects/a%2Fb%20%25%3F%23c"
        );
        let prefixed = SchemaRegistryClient::new(&settings("http://h/apis/ccompat/v7/")).unwrap();
        assert_eq!(
            prefixed.endpoint(&["schemas", "ids", "7"]).as_str(),
            "http://h/apis/ccompat/v7/schemas/ids/7"
        );
        assert_eq!(client.base_url(), "https://sr.example:8443");
    }

    #[test]
    fn request_body_is_confluents_protobuf_registration() {
        let body = schema_request_body("syntax = \"proto3\";\n");
        assert_eq!(
            &body[..],
            br#"{"schemaType":"PROTOBUF","schema":"syntax = \"proto3\";\n"}"#
        );
    }

    #[test]
    fn urls_with_credentials_are_refused_without_echoing_them() {
        let url = format!("https://sr-key:{DISTINCTIVE_SECRET}@sr.example");
        let error = parse_base_url(&url).unwrap_err();
        assert!(matches!(error, RegistryError::InvalidUrl { .. }), "{error}");
        assert_secret_hidden(&error.to_string());
        assert_secret_hidden(&format!("{error:?}"));

        let unparsable = format!("https://sr-key:{DISTINCTIVE_SECRET}@[bad");
        let error = parse_base_url(&unparsable).unwrap_err();
        assert_secret_hidden(&error.to_string());
        assert_secret_hidden(&format!("{error:?}"));

        let error = parse_base_url("ftp://sr.example").unwrap_err();
        assert!(error.to_string().contains("SCHEMA_REGISTRY_URL"), "{error}");
    }

    #[test]
    fn client_debug_hides_the_secret() {
        let client = SchemaRegistryClient::new(&settings("https://sr.example")).unwrap();
        assert_secret_hidden(&format!("{client:?}"));
    }

    #[test]
    fn error_bodies_become_one_line_messages() {
        let error = http_error(
            Operation::Register,
            &Method::POST,
            "https://sr.example/subjects/s/versions",
            "subject s",
            StatusCode::UNAUTHORIZED,
            b"<html>\n<body>401 Authorization Required</body>\n</html>",
        );
        let text = error.to_string();
        assert!(text.contains("HTTP 401: Unauthorized;"), "{text}");
        assert!(text.contains("SCHEMA_REGISTRY_API_KEY"), "{text}");
        assert!(!text.contains('\n'));

        let error = http_error(
            Operation::Register,
            &Method::POST,
            "https://sr.example/subjects/s/versions",
            "subject s",
            StatusCode::CONFLICT,
            br#"{"error_code":409,"message":"Schema being registered is incompatible\nwith an earlier schema"}"#,
        );
        assert_eq!(error.error_code(), Some(409));
        assert!(error
            .to_string()
            .contains("HTTP 409 (error_code 409): Schema being registered is incompatible with an earlier schema;"));
    }

    #[test]
    fn long_messages_are_cut() {
        let long = "x".repeat(1000);
        let line = one_line(&long);
        assert_eq!(line.chars().count(), MAX_MESSAGE_CHARS + 1);
    }

    #[tokio::test]
    async fn unreachable_registry_names_url_and_cause_and_hides_the_secret() {
        // Port 9 (discard) on loopback: nothing listens there, so the connection is refused.
        let client = SchemaRegistryClient::new(&settings("http://127.0.0.1:9"))
            .unwrap()
            .with_retry_policy(RetryPolicy {
                attempts: 2,
                first_backoff: Duration::from_millis(1),
                max_backoff: Duration::from_millis(1),
            });
        let error = client
            .register("shoes-value", crate::shoe::schema::SHOE_PROTO)
            .await
            .unwrap_err();
        let text = error.to_string();
        assert!(
            matches!(error, RegistryError::Unreachable { attempts: 2, .. }),
            "{text}"
        );
        assert!(
            text.contains("http://127.0.0.1:9/subjects/shoes-value/versions"),
            "{text}"
        );
        assert!(text.contains("subject shoes-value"), "{text}");
        assert!(text.to_lowercase().contains("refused"), "{text}");
        assert!(text.contains("SCHEMA_REGISTRY_URL"), "{text}");
        assert_secret_hidden(&text);
        assert_secret_hidden(&format!("{error:?}"));
    }
}
