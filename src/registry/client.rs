//! The HTTP side of the Schema Registry: one reqwest client (rustls with the shared TLS config, Basic
//! auth), Confluent's REST paths and media type, and the bounds every call is held to — one deadline
//! over all its attempts and pauses (`--registry-timeout`), a few retries through the shared
//! [`retry_until`] loop inside it, and a cap on the size of an answer's body, which is read as a stream and
//! abandoned past the cap — with every failure translated into a [`RegistryError`] that names the
//! URL without credentials.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use parking_lot::Mutex;
use reqwest::{
    header::{HeaderValue, ACCEPT, CONTENT_TYPE},
    Method, StatusCode,
};
use serde::Deserialize;
use tokio::time::Instant;
use url::Url;

use super::error::{hint, unreachable_advice, Operation, RegistryError, PLAIN_HTTP_TO_HTTPS_PORT};
use crate::{
    settings::RegistrySettings,
    support::{
        backoff::{retry_until, Attempt, Backoff, GaveUp},
        secret::Secret,
        tls::{classify, TlsFailure},
    },
};

/// Confluent's media type for request bodies.
const SCHEMA_REGISTRY_JSON: &str = "application/vnd.schemaregistry.v1+json";
/// What Confluent's own clients accept.
const ACCEPTED: &str = "application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json; q=0.9, application/json; q=0.5";
/// Longest registry error message kept in our error (registries can answer with whole HTML pages).
const MAX_MESSAGE_CHARS: usize = 300;
/// The largest answer body read. Registry answers are a few kilobytes (a schema, an error); anything
/// far larger is not a registry talking, and reading it would only cost memory.
const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Attempts per call, the first included: a registry that restarts or blips is ridden out, while a
/// refused connection fails the call within about two seconds instead of at the deadline.
const MAX_ATTEMPTS: u32 = 4;
/// Pauses between attempts: 250 ms, 500 ms, 1 s (cut short by the deadline).
const RETRY_BACKOFF: Backoff = Backoff::new(Duration::from_millis(250), Duration::from_secs(2));

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
    /// The deadline of each call, every attempt and pause included.
    timeout: Duration,
}

/// One call to the registry, as sent on every attempt and named in errors.
struct Call {
    operation: Operation,
    /// What the call is about (`subject shoes-value`, `schema id 7`).
    target: String,
    method: Method,
    url: Url,
    /// The URL as shown in messages (never with credentials).
    shown_url: String,
    body: Option<Bytes>,
}

impl SchemaRegistryClient {
    /// Builds the client: TLS from the bundled roots plus `settings.ca_file`, Basic auth if an API
    /// key is set, `settings.timeout` as the deadline of each call. No network I/O happens here.
    pub fn new(settings: &RegistrySettings) -> Result<Self, RegistryError> {
        let base_url = parse_base_url(&settings.url)?;
        let tls = crate::support::tls::client_config(settings.ca_file.as_deref())?;
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured((*tls).clone())
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
            timeout: settings.timeout,
        })
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

    /// Sends `method` to the endpoint at `segments` (see [`Self::send`]) and parses the JSON answer;
    /// `target` names what the request is about in errors.
    async fn call<T: for<'de> Deserialize<'de>>(
        &self,
        operation: Operation,
        target: String,
        method: Method,
        segments: &[&str],
        body: Option<Bytes>,
    ) -> Result<T, RegistryError> {
        let url = self.endpoint(segments);
        let call = Call {
            operation,
            target,
            method,
            shown_url: redact(&url),
            url,
            body,
        };
        let bytes = self.send(&call).await?;
        serde_json::from_slice(&bytes).map_err(|error| RegistryError::BadResponse {
            operation: call.operation,
            url: call.shown_url,
            target: call.target,
            detail: format!(
                "{error} in body `{}`",
                one_line(&String::from_utf8_lossy(&bytes))
            ),
        })
    }

    /// Sends `call` until it gets an answer, within the client's deadline: transport failures
    /// (except TLS) and 5xx answers are tried again, up to [`MAX_ATTEMPTS`], after a pause; any
    /// other answer is final. Returns the body of a 2xx answer.
    async fn send(&self, call: &Call) -> Result<Bytes, RegistryError> {
        let deadline = Instant::now() + self.timeout;
        let last_error = &Mutex::new(None);
        let sent = retry_until(
            RETRY_BACKOFF,
            deadline,
            "Schema Registry request",
            |attempt| async move {
                match tokio::time::timeout_at(deadline, self.attempt(call, attempt)).await {
                    Ok(Ok(body)) => Attempt::Done(body),
                    Ok(Err(error)) if error.is_retriable() && attempt < MAX_ATTEMPTS => {
                        tracing::warn!(
                            url = %call.shown_url,
                            target = %call.target,
                            attempt,
                            "Schema Registry request failed, retrying: {error}"
                        );
                        *last_error.lock() = Some(error.to_string());
                        Attempt::Retry(error)
                    }
                    Ok(Err(error)) => Attempt::Fatal(error),
                    Err(_elapsed) => Attempt::Fatal(RegistryError::Deadline {
                        operation: call.operation,
                        url: call.shown_url.clone(),
                        target: call.target.clone(),
                        timeout: self.timeout,
                        attempts: attempt,
                        last_error: last_error.lock().take(),
                    }),
                }
            },
        )
        .await;
        sent.map_err(|gave_up| match gave_up {
            GaveUp::Fatal(error) | GaveUp::Deadline(error) => error,
        })
    }

    /// One attempt of `call`: the request, then the answer's body, read up to [`MAX_BODY_BYTES`].
    async fn attempt(&self, call: &Call, attempt: u32) -> Result<Bytes, RegistryError> {
        let mut request = self
            .http
            .request(call.method.clone(), call.url.clone())
            .header(ACCEPT, HeaderValue::from_static(ACCEPTED));
        if let Some(body) = &call.body {
            request = request
                .header(CONTENT_TYPE, HeaderValue::from_static(SCHEMA_REGISTRY_JSON))
                .body(body.clone());
        }
        if let Some(key) = &self.api_key {
            request = request.basic_auth(key, self.api_secret.as_ref().map(Secret::expose));
        }
        let response = request
            .send()
            .await
            .map_err(|error| self.transport_error(call, attempt, error))?;
        let status = response.status();
        let body = read_capped(response, MAX_BODY_BYTES)
            .await
            .map_err(|error| match error {
                BodyError::TooLarge => RegistryError::TooLarge {
                    operation: call.operation,
                    url: call.shown_url.clone(),
                    target: call.target.clone(),
                    status: status.as_u16(),
                    limit: MAX_BODY_BYTES,
                },
                BodyError::Transport(error) => self.transport_error(call, attempt, error),
            })?;
        if status.is_success() {
            Ok(body)
        } else {
            Err(http_error(call, status, &body))
        }
    }

    fn transport_error(&self, call: &Call, attempt: u32, error: reqwest::Error) -> RegistryError {
        let error = error.without_url();
        // Only opening an https:// connection involves a handshake; `classify` reads any reset in
        // the chain as the server closing the handshake.
        let handshake = if call.url.scheme() == "https" && error.is_connect() {
            classify(&error)
        } else {
            None
        };
        match handshake {
            // A server that closed the connection may be restarting: tried again below.
            Some(TlsFailure::Closed) | None => {}
            Some(failure) => {
                return RegistryError::TlsHandshake {
                    operation: call.operation,
                    url: call.shown_url.clone(),
                    target: call.target.clone(),
                    peer: format!("Schema Registry {}", redact(&origin(&call.url))),
                    failure,
                }
            }
        }
        let cause = error_chain(&error);
        RegistryError::Unreachable {
            operation: call.operation,
            url: call.shown_url.clone(),
            target: call.target.clone(),
            attempts: attempt,
            cause,
            advice: unreachable_advice(call.url.scheme()),
        }
    }
}

/// Why an answer's body was not read to its end.
enum BodyError {
    /// It is larger than the cap (by its `Content-Length`, or by what arrived).
    TooLarge,
    Transport(reqwest::Error),
}

/// Reads `response`'s body chunk by chunk, giving up as soon as it exceeds `limit` bytes, so an
/// oversized answer costs at most `limit` bytes of memory.
async fn read_capped(mut response: reqwest::Response, limit: usize) -> Result<Bytes, BodyError> {
    if response
        .content_length()
        .is_some_and(|length| length > limit as u64)
    {
        return Err(BodyError::TooLarge);
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
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

fn http_error(call: &Call, status: StatusCode, body: &[u8]) -> RegistryError {
    let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
    let error_code = parsed.as_ref().and_then(|body| body.error_code);
    let message = parsed
        .and_then(|body| body.message)
        .or_else(|| page_title(body))
        .map(|message| one_line(&message))
        .filter(|message| !message.is_empty())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("no message").to_owned());
    let plain_http_to_https_port =
        call.url.scheme() == "http" && status == StatusCode::BAD_REQUEST && error_code.is_none();
    RegistryError::Http {
        operation: call.operation,
        method: static_method(&call.method),
        url: call.shown_url.clone(),
        target: call.target.clone(),
        status: status.as_u16(),
        error_code,
        message,
        hint: if plain_http_to_https_port {
            PLAIN_HTTP_TO_HTTPS_PORT
        } else {
            hint(call.operation, status.as_u16(), error_code)
        },
    }
}

/// The `<title>` of an HTML answer (what web servers and proxies put their error in), if any.
fn page_title(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let lower = text.to_ascii_lowercase();
    let start = lower.find("<title>")? + "<title>".len();
    let end = start + lower[start..].find("</title>")?;
    Some(text[start..end].to_owned())
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

/// The URL's scheme, host and port alone.
fn origin(url: &Url) -> Url {
    let mut origin = url.clone();
    origin.set_path("");
    origin
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
            url: crate::settings::RegistryUrl::parse(url).unwrap(),
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

    fn call(url: &str, method: Method) -> Call {
        let url = Url::parse(url).unwrap();
        Call {
            operation: Operation::Register,
            target: "subject s".into(),
            method,
            shown_url: redact(&url),
            url,
            body: None,
        }
    }

    #[test]
    fn error_bodies_become_one_line_messages() {
        let post = call("https://sr.example/subjects/s/versions", Method::POST);
        let error = http_error(
            &post,
            StatusCode::UNAUTHORIZED,
            b"<html>\n<body>401 Authorization Required</body>\n</html>",
        );
        let text = error.to_string();
        assert!(text.contains("HTTP 401: Unauthorized;"), "{text}");
        assert!(text.contains("SCHEMA_REGISTRY_API_KEY"), "{text}");
        assert!(!text.contains('\n'));

        let error = http_error(
            &post,
            StatusCode::CONFLICT,
            br#"{"error_code":409,"message":"Schema being registered is incompatible\nwith an earlier schema"}"#,
        );
        assert_eq!(error.error_code(), Some(409));
        assert!(error
            .to_string()
            .contains("HTTP 409 (error_code 409): Schema being registered is incompatible with an earlier schema;"));
    }

    #[test]
    fn a_plain_http_request_to_an_https_port_asks_for_https() {
        let nginx = b"<html>\r\n<head><title>400 The plain HTTP request was sent to HTTPS port</title></head>\r\n<body>...</body></html>";
        let text = http_error(
            &call("http://sr.example:8443/subjects/s/versions", Method::POST),
            StatusCode::BAD_REQUEST,
            nginx,
        )
        .to_string();
        assert!(
            text.contains("HTTP 400: 400 The plain HTTP request was sent to HTTPS port;"),
            "{text}"
        );
        assert!(text.contains("is it an https:// URL?"), "{text}");
        // Over HTTPS the same status is the registry's own answer, with its own hint.
        let text = http_error(
            &call("https://sr.example/subjects/s/versions", Method::POST),
            StatusCode::BAD_REQUEST,
            br#"{"error_code":400,"message":"bad"}"#,
        )
        .to_string();
        assert!(!text.contains("https:// URL?"), "{text}");
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
        let client = SchemaRegistryClient::new(&settings("http://127.0.0.1:9")).unwrap();
        let error = client
            .register("shoes-value", crate::shoe::schema::SHOE_PROTO)
            .await
            .unwrap_err();
        let text = error.to_string();
        assert!(
            matches!(
                error,
                RegistryError::Unreachable {
                    attempts: MAX_ATTEMPTS,
                    ..
                }
            ),
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

    #[tokio::test]
    async fn the_deadline_bounds_every_attempt_and_pause() {
        // A listener that accepts and never answers.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", silent.local_addr().unwrap());
        let _held = tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((stream, _)) = silent.accept().await {
                open.push(stream);
            }
        });
        let client = SchemaRegistryClient::new(&RegistrySettings {
            timeout: Duration::from_millis(300),
            ..settings(&url)
        })
        .unwrap();
        let error = client.latest("s").await.unwrap_err();
        let text = error.to_string();
        assert!(
            matches!(error, RegistryError::Deadline { attempts: 1, .. }),
            "{text}"
        );
        assert!(
            text.contains("no answer within 300ms (--registry-timeout)"),
            "{text}"
        );
    }

    /// A one-connection HTTP server on loopback that answers every request with `answer`, written
    /// as fast as the client reads it.
    async fn answering(answer: impl Fn() -> Vec<u8> + Send + 'static) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request).await;
                let _ = stream.write_all(&answer()).await;
            }
        });
        url
    }

    #[tokio::test]
    async fn an_oversized_body_is_refused_by_its_length_or_while_it_streams() {
        let declared = answering(|| {
            b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 52428800\r\n\r\n".to_vec()
        })
        .await;
        let streamed = answering(|| {
            let mut answer = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
            let chunk = vec![b'x'; 64 * 1024];
            for _ in 0..40 {
                answer.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                answer.extend_from_slice(&chunk);
                answer.extend_from_slice(b"\r\n");
            }
            answer
        })
        .await;
        for (url, status) in [(declared, 500), (streamed, 200)] {
            let client = SchemaRegistryClient::new(&settings(&url)).unwrap();
            let error = client.latest("s").await.unwrap_err();
            assert!(
                matches!(&error, RegistryError::TooLarge { status: s, .. } if *s == status),
                "{error}"
            );
        }
    }
}
