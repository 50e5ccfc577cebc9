//! One authenticated connection to one broker, opened by hand so that every failure keeps its cause.
//!
//! rskafka's `ClientBuilder` retries every connection error — a rejected password or an untrusted
//! certificate included — behind one opaque "all retries failed". Opening the socket, TLS session,
//! version negotiation and SASL exchange here ourselves (over rskafka's `Messenger`, which frames and
//! multiplexes requests) lets [`Connector::open`] say exactly which step failed, so the caller can stop
//! at once on a bad credential and retry only what may heal (a broker that is restarting).

use std::{
    fmt, io,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use rskafka::{
    client::{Credentials, SaslConfig},
    messenger::{Messenger, SaslError, SyncVersionsError},
};
use rustls_pki_types::ServerName;
use tokio::{
    io::{AsyncRead, AsyncWrite, BufStream, ReadBuf},
    net::TcpStream,
};
use tokio_rustls::{client::TlsStream, TlsConnector};

use crate::app::settings::{KafkaSettings, SaslMechanism};

/// A live, authenticated broker connection. Requests on it are pipelined; responses come back in order.
pub type BrokerConnection = Messenger<BufStream<Stream>>;

/// The largest response frame we accept (metadata and produce responses are small).
const MAX_MESSAGE_SIZE: usize = 100 * 1024 * 1024;

/// The client id brokers see in their request logs and quotas.
pub const CLIENT_ID: &str = concat!("shoe-producer/", env!("CARGO_PKG_VERSION"));

/// Which step of opening a connection failed, with the underlying cause.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("{0} is not a valid host:port")]
    BadAddress(String),
    #[error("TCP connect failed: {0}")]
    Tcp(#[source] io::Error),
    #[error("TLS handshake failed: {0}")]
    Tls(#[source] io::Error),
    #[error("API version negotiation failed: {0}")]
    Versions(#[source] SyncVersionsError),
    #[error("SASL authentication failed: {0}")]
    Sasl(#[source] SaslError),
    #[error("no answer within {0:?}")]
    TimedOut(Duration),
}

impl OpenError {
    /// The rustls error behind a failed handshake, if that is what happened.
    pub fn tls_cause(&self) -> Option<&rustls::Error> {
        match self {
            Self::Tls(e) => e.get_ref().and_then(|inner| inner.downcast_ref()),
            _ => None,
        }
    }

    /// True when retrying cannot help: the broker rejected who we are or we reject who it is.
    pub fn is_permanent(&self) -> bool {
        match self {
            // The connection dropping mid-exchange says nothing about the credentials.
            Self::Sasl(SaslError::RequestError(_)) => false,
            Self::BadAddress(_) | Self::Sasl(_) => true,
            Self::Tls(_) => self.tls_cause().is_some(),
            Self::Tcp(_) | Self::Versions(_) | Self::TimedOut(_) => false,
        }
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
    pub fn open_timeout(&self) -> Duration {
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
        match tokio::time::timeout(self.open_timeout, self.open_unbounded(address)).await {
            Ok(result) => result,
            Err(_) => Err(OpenError::TimedOut(self.open_timeout)),
        }
    }

    async fn open_unbounded(&self, address: &str) -> Result<Arc<BrokerConnection>, OpenError> {
        let host = host_of(address).ok_or_else(|| OpenError::BadAddress(address.to_owned()))?;
        let tcp = TcpStream::connect(address).await.map_err(OpenError::Tcp)?;
        // Requests are whole frames written at once; never hold the tail of one back.
        tcp.set_nodelay(true).map_err(OpenError::Tcp)?;
        let stream = match &self.tls {
            None => Stream::Plain(tcp),
            Some(config) => {
                // A host name is sent as SNI (Confluent Cloud routes on it); an IP address is checked
                // against the certificate's IP SANs instead.
                let server_name = ServerName::try_from(host.to_owned())
                    .map_err(|_| OpenError::BadAddress(address.to_owned()))?;
                let tls = TlsConnector::from(Arc::clone(config))
                    .connect(server_name, tcp)
                    .await
                    .map_err(OpenError::Tls)?;
                Stream::Tls(Box::new(tls))
            }
        };
        let mut messenger = Messenger::new(
            BufStream::new(stream),
            MAX_MESSAGE_SIZE,
            Arc::from(CLIENT_ID),
        );
        messenger
            .sync_versions()
            .await
            .map_err(OpenError::Versions)?;
        if let Some(sasl) = &self.sasl {
            messenger
                .do_sasl(sasl.clone())
                .await
                .map_err(OpenError::Sasl)?;
        }
        Ok(Arc::new(messenger))
    }
}

/// The host part of `host:port` (IPv6 literals in brackets lose their brackets).
pub fn host_of(address: &str) -> Option<&str> {
    let (host, port) = address.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    (!host.is_empty()).then_some(host)
}

/// A broker socket, with or without TLS.
#[derive(Debug)]
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Plain(s) => s.is_write_vectored(),
            Self::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
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
            bootstrap_servers: crate::app::settings::BootstrapServers::parse("127.0.0.1:9093")
                .unwrap(),
            security_protocol: crate::app::settings::SecurityProtocol::SaslSsl,
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
