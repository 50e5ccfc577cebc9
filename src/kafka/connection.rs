//! One authenticated connection to one broker, opened by hand so that every failure keeps its cause.
//!
//! rskafka's `ClientBuilder` retries every connection error — a rejected password or an untrusted
//! certificate included — behind one opaque "all retries failed". Opening the socket, TLS session,
//! version negotiation and SASL exchange here ourselves (over rskafka's `Messenger`, which frames and
//! multiplexes requests) lets [`Connector::open`] say exactly which step failed, so the caller can stop
//! at once on a bad credential and retry only what may heal (a broker that is restarting).
//!
//! The same place tells a wrong port from a broken one: the first answer is checked before it is
//! buffered (see `first_answer`), a TLS handshake cut off by a plaintext listener is confirmed by
//! asking that port in plaintext, and a SASL listener reached without SASL is found by the first
//! request after ApiVersions — each becomes a message that names the setting to change.

mod first_answer;

use std::{
    fmt, io,
    net::SocketAddr,
    pin::Pin,
    sync::Arc,
    task::{ready, Context, Poll},
    time::Duration,
};

use rskafka::{
    client::{error::ProtocolError, Credentials, SaslConfig},
    messenger::{Messenger, RequestError, SaslError, SyncVersionsError},
    protocol::{frame::ReadError as FrameError, messages::SaslHandshakeRequest},
};
use rustls_pki_types::ServerName;
use tokio::{
    io::{AsyncRead, AsyncWrite, BufStream, ReadBuf},
    net::TcpStream,
    time::Instant,
};
use tokio_rustls::{client::TlsStream, TlsConnector};

use first_answer::FirstAnswer;
pub(crate) use first_answer::NotKafka;

use crate::{
    settings::{KafkaSettings, SaslMechanism},
    support::tls::{self, TlsFailure},
};

/// A live, authenticated broker connection. Requests on it are pipelined; responses come back in order.
pub type BrokerConnection = Messenger<BufStream<Stream>>;

/// The largest response accepted on an established connection. The producer only reads metadata,
/// produce and producer-id responses, each far below this; a larger length means the stream is out of
/// step, and the frame reader allocates up to this much before it says so.
pub(crate) const MAX_RESPONSE_SIZE: usize = 16 * 1024 * 1024;

/// The client id brokers see in their request logs and quotas.
pub(crate) const CLIENT_ID: &str = concat!("shoe-producer/", env!("CARGO_PKG_VERSION"));

/// Which step of opening a connection failed, with the underlying cause. The messages complete
/// "cannot connect to <broker>: …".
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("{0} is not a valid host:port")]
    BadAddress(String),
    #[error("cannot resolve host {host} ({source})")]
    Resolve {
        host: String,
        #[source]
        source: io::Error,
    },
    #[error("{}", describe_io(.0))]
    Tcp(#[source] io::Error),
    /// The TLS handshake failed; `failure` is `None` when the cause is not a TLS one (a reset).
    #[error("TLS handshake failed: {}", .failure.as_ref().map_or_else(|| describe_io(.source), ToString::to_string))]
    Tls {
        failure: Option<TlsFailure>,
        #[source]
        source: io::Error,
    },
    /// The handshake was cut off, and the same port answers a plaintext Kafka request.
    #[error("the port answers plaintext Kafka, not TLS")]
    PlaintextPort,
    /// The first answer is not a Kafka response.
    #[error("{0}")]
    NotKafka(NotKafka),
    #[error("API version negotiation failed: {}", describe_versions(.0))]
    Versions(SyncVersionsError),
    /// Without SASL configured, the broker closed the connection on the first request after
    /// ApiVersions: its listener expects a SASL handshake first.
    #[error("the listener expects SASL authentication")]
    SaslExpected,
    #[error("the first request failed: {}", describe_request(.0))]
    Request(RequestError),
    #[error("SASL authentication failed: {}", describe_sasl(.0))]
    Sasl(SaslError),
    #[error("no answer within {}", humantime::format_duration(*.0))]
    TimedOut(Duration),
}

impl OpenError {
    /// True when retrying cannot help: the broker rejected who we are, we reject who it is, or the
    /// port speaks another protocol than the one configured.
    pub(crate) fn is_permanent(&self) -> bool {
        match self {
            // The connection dropping mid-exchange says nothing about the credentials.
            Self::Sasl(SaslError::RequestError(_)) => false,
            Self::BadAddress(_) | Self::Sasl(_) => true,
            Self::PlaintextPort | Self::NotKafka(_) | Self::SaslExpected => true,
            Self::Tls { failure, .. } => matches!(
                failure,
                Some(f) if !matches!(f, TlsFailure::Closed)
            ),
            Self::Resolve { .. }
            | Self::Tcp(_)
            | Self::Versions(_)
            | Self::Request(_)
            | Self::TimedOut(_) => false,
        }
    }
}

/// An open, authenticated broker connection and its SASL session's lifetime.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub connection: Arc<BrokerConnection>,
    /// When authentication began: the broker counts the lifetime from a moment after it.
    pub authenticated_at: Instant,
    /// How long the broker lets the session last (`connections.max.reauth.ms`); `None` when it
    /// sets no limit.
    pub lifetime: Option<Duration>,
}

impl Session {
    /// When to stop sending new requests on this connection and open a fresh one: at 85% of the
    /// session's lifetime, as the Java client re-authenticates at 85–95% of it, so the requests
    /// still in flight here finish well before the broker would close the connection.
    pub(crate) fn renew_at(&self) -> Option<Instant> {
        self.lifetime
            .map(|lifetime| self.authenticated_at + lifetime.mul_f64(0.85))
    }
}

/// Everything needed to open broker connections: TLS trust, SASL credentials, timeouts.
///
/// `Debug` never shows the credentials.
pub struct Connector {
    bootstrap: Vec<String>,
    tls: Option<Arc<rustls::ClientConfig>>,
    sasl: Option<SaslConfig>,
    mechanism: Option<SaslMechanism>,
    open_timeout: Duration,
}

impl fmt::Debug for Connector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connector")
            .field("bootstrap", &self.bootstrap)
            .field("tls", &self.tls.is_some())
            .field("sasl", &self.mechanism.map(SaslMechanism::as_str))
            .finish()
    }
}

impl Connector {
    /// Builds a connector; `tls` must be given when the settings' protocol uses TLS.
    pub fn new(settings: &KafkaSettings, tls: Option<Arc<rustls::ClientConfig>>) -> Self {
        let protocol = settings.security_protocol;
        let sasl = protocol.uses_sasl().then(|| {
            let credentials = Credentials::new(
                settings.api_key.clone().unwrap_or_default(),
                settings
                    .api_secret
                    .as_ref()
                    .map(|s| s.expose().to_owned())
                    .unwrap_or_default(),
            );
            match settings.sasl_mechanism {
                SaslMechanism::Plain => SaslConfig::Plain(credentials),
                SaslMechanism::ScramSha256 => SaslConfig::ScramSha256(credentials),
                SaslMechanism::ScramSha512 => SaslConfig::ScramSha512(credentials),
            }
        });
        Self {
            bootstrap: settings.bootstrap_servers.to_vec(),
            tls: if protocol.uses_tls() { tls } else { None },
            sasl,
            mechanism: protocol.uses_sasl().then_some(settings.sasl_mechanism),
            open_timeout: settings.connect_timeout.min(Duration::from_secs(10)),
        }
    }

    /// The bound on opening a connection, also used for single metadata requests on one.
    pub(crate) fn open_timeout(&self) -> Duration {
        self.open_timeout
    }

    pub fn bootstrap(&self) -> &[String] {
        &self.bootstrap
    }

    pub fn sasl_mechanism(&self) -> Option<SaslMechanism> {
        self.mechanism
    }

    /// The TLS configuration, for building rskafka's own client with the same trust.
    pub fn tls_config(&self) -> Option<Arc<rustls::ClientConfig>> {
        self.tls.clone()
    }

    /// The SASL configuration, for building rskafka's own client with the same credentials. Crate-only:
    /// rskafka's `Credentials` prints the password in its `Debug`.
    pub(crate) fn sasl_config(&self) -> Option<SaslConfig> {
        self.sasl.clone()
    }

    /// Opens a connection to `address` (`host:port`): TCP, TLS, API versions, SASL — bounded in time.
    pub async fn open(&self, address: &str) -> Result<Arc<BrokerConnection>, OpenError> {
        self.open_session(address)
            .await
            .map(|session| session.connection)
    }

    /// Like [`open`](Self::open), keeping how long the broker lets the connection's SASL session
    /// last.
    pub(crate) async fn open_session(&self, address: &str) -> Result<Session, OpenError> {
        match tokio::time::timeout(self.open_timeout, self.open_unbounded(address)).await {
            Ok(result) => result,
            Err(_) => Err(OpenError::TimedOut(self.open_timeout)),
        }
    }

    async fn open_unbounded(&self, address: &str) -> Result<Session, OpenError> {
        let mut messenger = new_messenger(self.open_socket(address).await?);
        messenger
            .sync_versions()
            .await
            .map_err(|e| match not_kafka(&e) {
                Some(not_kafka) => OpenError::NotKafka(not_kafka),
                None => OpenError::Versions(e),
            })?;
        let authenticated_at = Instant::now();
        let mut lifetime = None;
        match &self.sasl {
            Some(sasl) => {
                lifetime = super::sasl::authenticate(&messenger, sasl)
                    .await
                    .map_err(OpenError::Sasl)?;
            }
            // A SASL listener answers ApiVersions, then closes the connection on any other request
            // that does not start a SASL handshake: find that out here, where it can be named.
            None => match super::wire::metadata::request_metadata(&messenger, &[]).await {
                Ok(_) => {}
                Err(e) if closed_by_peer(&e) && self.expects_sasl(address).await => {
                    return Err(OpenError::SaslExpected)
                }
                Err(e) => return Err(OpenError::Request(e)),
            },
        }
        Ok(Session {
            connection: Arc::new(messenger),
            authenticated_at,
            lifetime,
        })
    }

    /// TCP to `address`, and TLS over it when configured.
    async fn open_socket(&self, address: &str) -> Result<Socket, OpenError> {
        let host = host_of(address).ok_or_else(|| OpenError::BadAddress(address.to_owned()))?;
        let (tcp, peer) = connect_tcp(address, host).await?;
        let Some(config) = &self.tls else {
            return Ok(Socket::Plain(tcp));
        };
        // A host name is sent as SNI (Confluent Cloud routes on it); an IP address is checked
        // against the certificate's IP SANs instead.
        let server_name = ServerName::try_from(host.to_owned())
            .map_err(|_| OpenError::BadAddress(address.to_owned()))?;
        match TlsConnector::from(Arc::clone(config))
            .connect(server_name, tcp)
            .await
        {
            Ok(tls) => Ok(Socket::Tls(Box::new(tls))),
            Err(source) => {
                let failure = tls::classify(&source);
                // A plaintext listener closes on a ClientHello without a word: ask it in
                // plaintext to be sure before saying so.
                if failure == Some(TlsFailure::Closed) && answers_plain_kafka(peer).await {
                    return Err(OpenError::PlaintextPort);
                }
                Err(OpenError::Tls { failure, source })
            }
        }
    }

    /// Whether the listener at `address` takes a SASL handshake (a broker that merely went away
    /// mid-request does not answer one).
    async fn expects_sasl(&self, address: &str) -> bool {
        let Ok(socket) = self.open_socket(address).await else {
            return false;
        };
        let mut messenger = new_messenger(socket);
        if messenger.sync_versions().await.is_err() {
            return false;
        }
        // A listener without SASL answers ILLEGAL_SASL_STATE; a SASL one lists its mechanisms.
        matches!(
            messenger.request(SaslHandshakeRequest::new("PLAIN")).await,
            Ok(answer) if answer.error_code != Some(ProtocolError::IllegalSaslState)
        )
    }
}

/// A messenger over `socket` whose first answer is checked before it is buffered.
fn new_messenger(socket: Socket) -> BrokerConnection {
    let stream = Stream {
        socket,
        first_answer: Some(FirstAnswer::default()),
    };
    Messenger::new(
        BufStream::new(stream),
        MAX_RESPONSE_SIZE,
        Arc::from(CLIENT_ID),
    )
}

/// Resolves `address` and connects to the first of its addresses that accepts.
async fn connect_tcp(address: &str, host: &str) -> Result<(TcpStream, SocketAddr), OpenError> {
    let resolved = tokio::net::lookup_host(address)
        .await
        .map_err(|source| OpenError::Resolve {
            host: host.to_owned(),
            source,
        })?;
    let mut last = io::Error::new(io::ErrorKind::NotFound, "the host has no address");
    for peer in resolved {
        match TcpStream::connect(peer).await {
            Ok(tcp) => {
                // Requests are whole frames written at once; never hold the tail of one back.
                tcp.set_nodelay(true).map_err(OpenError::Tcp)?;
                return Ok((tcp, peer));
            }
            Err(e) => last = e,
        }
    }
    Err(OpenError::Tcp(last))
}

/// Whether `peer` answers an ApiVersions request sent without TLS.
async fn answers_plain_kafka(peer: SocketAddr) -> bool {
    let Ok(tcp) = TcpStream::connect(peer).await else {
        return false;
    };
    new_messenger(Socket::Plain(tcp))
        .sync_versions()
        .await
        .is_ok()
}

/// The connection's read side failed with `error` (rskafka poisons the connection with it).
fn read_failure(error: &RequestError) -> Option<&io::Error> {
    match error {
        RequestError::Poisoned(inner) => read_failure(inner),
        RequestError::ReadFramedMessageError(FrameError::IO(e)) | RequestError::IO(e) => Some(e),
        _ => None,
    }
}

/// Whether the first answer was not Kafka's, as [`FirstAnswer`] found.
fn not_kafka(error: &SyncVersionsError) -> Option<NotKafka> {
    let SyncVersionsError::RequestError(e) = error else {
        return None;
    };
    read_failure(e)?
        .get_ref()?
        .downcast_ref::<NotKafka>()
        .copied()
}

/// Whether the broker closed the connection instead of answering.
fn closed_by_peer(error: &RequestError) -> bool {
    read_failure(error).is_some_and(|e| {
        matches!(
            e.kind(),
            io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset
        )
    })
}

/// A socket error in words, without the OS error number.
fn describe_io(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::ConnectionRefused => {
            "connection refused (nothing listens on that port)".into()
        }
        io::ErrorKind::ConnectionReset => "the connection was reset".into(),
        io::ErrorKind::UnexpectedEof => "the server closed the connection".into(),
        io::ErrorKind::TimedOut => "the TCP connection timed out".into(),
        io::ErrorKind::HostUnreachable => "no route to the host".into(),
        io::ErrorKind::NetworkUnreachable => "the network is unreachable".into(),
        _ => error.to_string(),
    }
}

/// A failed request on a new connection, in words.
fn describe_request(error: &RequestError) -> String {
    match read_failure(error) {
        Some(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            "the broker closed the connection without answering".into()
        }
        Some(e) => describe_io(e),
        None => match error {
            RequestError::Poisoned(inner) => describe_request(inner),
            other => other.to_string(),
        },
    }
}

/// A version negotiation failure, in words.
fn describe_versions(error: &SyncVersionsError) -> String {
    match error {
        SyncVersionsError::RequestError(e) => describe_request(e),
        SyncVersionsError::NoWorkingVersion => {
            "the server answers no ApiVersions version we speak".into()
        }
        other => other.to_string(),
    }
}

/// A SASL failure, in words (the password never appears in rskafka's errors).
fn describe_sasl(error: &SaslError) -> String {
    match error {
        SaslError::RequestError(e) => describe_request(e),
        SaslError::ApiError(code) => super::codes::protocol_error_name(*code),
        other => other.to_string(),
    }
}

/// The host part of `host:port` (IPv6 literals in brackets lose their brackets).
pub(crate) fn host_of(address: &str) -> Option<&str> {
    let (host, port) = address.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    (!host.is_empty()).then_some(host)
}

/// A broker socket, with or without TLS, that checks the first answer it reads.
#[derive(Debug)]
pub struct Stream {
    socket: Socket,
    /// Watches the first answer until it looks like Kafka's.
    first_answer: Option<FirstAnswer>,
}

#[derive(Debug)]
enum Socket {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(match &mut this.socket {
            Socket::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Socket::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        })?;
        if let Some(watch) = &mut this.first_answer {
            let read = &buf.filled()[before..];
            if !read.is_empty() {
                match watch.inspect(read) {
                    Ok(true) => this.first_answer = None,
                    Ok(false) => {}
                    Err(not_kafka) => {
                        return Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            not_kafka,
                        )))
                    }
                }
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().socket {
            Socket::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Socket::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().socket {
            Socket::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Socket::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match &self.socket {
            Socket::Plain(s) => s.is_write_vectored(),
            Socket::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().socket {
            Socket::Plain(s) => Pin::new(s).poll_flush(cx),
            Socket::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().socket {
            Socket::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Socket::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_of_splits_host_and_port() {
        assert_eq!(host_of("127.0.0.1:9093"), Some("127.0.0.1"));
        assert_eq!(
            host_of("pkc-123.us-east-1.aws.confluent.cloud:9092"),
            Some("pkc-123.us-east-1.aws.confluent.cloud")
        );
        assert_eq!(host_of("[::1]:9092"), Some("::1"));
        assert_eq!(host_of("localhost"), None);
        assert_eq!(host_of("localhost:http"), None);
        assert_eq!(host_of(":9092"), None);
    }

    #[test]
    fn connector_debug_hides_the_credentials() {
        let settings = KafkaSettings {
            bootstrap_servers: crate::settings::BootstrapServers::parse("127.0.0.1:9093").unwrap(),
            security_protocol: crate::settings::SecurityProtocol::SaslSsl,
            sasl_mechanism: SaslMechanism::ScramSha512,
            api_key: Some("kafka-key".into()),
            api_secret: Some(crate::support::secret::Secret::new(
                "kafka-secret-Zq8w-do-not-print",
            )),
            ca_file: None,
            connect_timeout: Duration::from_secs(1),
        };
        let connector = Connector::new(
            &settings,
            Some(crate::support::tls::client_config(None).unwrap()),
        );
        assert!(connector.sasl_config().is_some());
        let shown = format!("{connector:?} {connector:#?}");
        assert!(!shown.contains("Zq8w"), "secret leaked: {shown}");
        assert!(shown.contains("SCRAM-SHA-512"), "{shown}");
    }
}
