//! Kafka connectivity: connect with SASL/TLS and fail fast with a clear message, read topic metadata,
//! create topics, list brokers, obtain producer ids.
//!
//! [`connect`] opens one broker connection itself (see [`connection`]) so a rejected password or an
//! untrusted certificate ends the run at once with the setting to fix, while a broker that is merely
//! unreachable is retried until `connect_timeout`. The [`Kafka`] handle it returns is the run's one
//! route to the cluster: admin calls, `check` and the producer engine share its broker connections
//! and its metadata path ([`cluster`]). Admin calls that rskafka already does well (creating a topic
//! through the controller) go through rskafka's `Client`, built with the same trust and credentials.

pub(crate) mod cluster;
mod codes;
pub(crate) mod connection;
mod error;
pub(crate) mod metadata;
pub(crate) mod producer_id;
mod sasl;
pub(crate) mod wire;

use std::{sync::Arc, time::Duration};

use rskafka::{
    client::{Client, ClientBuilder},
    protocol::messages::MetadataResponse,
    BackoffConfig,
};
use tokio::time::Instant;

pub use codes::{classify, protocol_error_name, ErrorClass};
use connection::Session;
pub use connection::{BrokerConnection, Connector, OpenError};
pub use error::KafkaError;
pub use metadata::{BrokerInfo, ClusterInfo};
pub use producer_id::ProducerIdAndEpoch;

use crate::{
    settings::KafkaSettings,
    support::backoff::{retry_until, Attempt, Backoff},
};
use cluster::Cluster;

/// Pauses between attempts to reach the cluster before a run (connect, admin metadata).
const ADMIN_BACKOFF: Backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(2));

/// A verified route to a Kafka cluster: TLS trusted, credentials accepted, one broker answering.
/// Cloning it shares the connections.
#[derive(Debug, Clone)]
pub struct Kafka {
    cluster: Arc<Cluster>,
    connect_timeout: Duration,
    /// The SASL session lifetime the bootstrap broker granted, if it set one.
    session_lifetime: Option<Duration>,
}

/// Connects to the cluster in `settings`. Authentication and certificate errors fail at once; an
/// unreachable cluster is retried with backoff until `settings.connect_timeout`.
pub async fn connect(settings: &KafkaSettings) -> Result<Kafka, KafkaError> {
    let tls = if settings.security_protocol.uses_tls() {
        Some(
            crate::support::tls::client_config(settings.ca_file.as_deref())
                .map_err(KafkaError::TlsSetup)?,
        )
    } else {
        None
    };
    for server in &settings.bootstrap_servers {
        if connection::host_of(server).is_none() {
            return Err(KafkaError::BadBootstrap(server.clone()));
        }
    }
    let connector = Arc::new(Connector::new(settings, tls));
    let (address, session) = open_any(&connector, settings.connect_timeout).await?;
    tracing::info!(
        broker = %address,
        session_lifetime = session.lifetime.map(|l| humantime::format_duration(l).to_string()),
        security_protocol = settings.security_protocol.as_str(),
        sasl_mechanism = connector.sasl_mechanism().map(|m| m.as_str()),
        "connected to Kafka"
    );
    Ok(Kafka {
        cluster: Arc::new(Cluster::new(connector, (address, session.clone()))),
        connect_timeout: settings.connect_timeout,
        session_lifetime: session.lifetime,
    })
}

/// Opens a connection to the first bootstrap server that answers, retrying transient failures with
/// backoff until `timeout`; permanent failures (credentials, certificates) return at once.
async fn open_any(
    connector: &Connector,
    timeout: Duration,
) -> Result<(String, Session), KafkaError> {
    let mechanism = connector.sasl_mechanism().map(|m| m.as_str());
    let opened = retry_until(ADMIN_BACKOFF, Instant::now() + timeout, "connecting", |_| async {
        let mut last_cause = String::from("no bootstrap server given");
        for address in connector.bootstrap() {
            match connector.open_session(address).await {
                Ok(session) => return Attempt::Done((address.clone(), session)),
                Err(e) if e.is_permanent() => {
                    return Attempt::Fatal(KafkaError::from_open(address, e, mechanism));
                }
                Err(e) => {
                    tracing::warn!(broker = %address, error = %e, "cannot connect to Kafka; will retry");
                    last_cause = format!("{address}: {e}");
                }
            }
        }
        Attempt::Retry(last_cause)
    })
    .await;
    opened.map_err(|gave_up| KafkaError::from_gave_up(gave_up, connector, timeout, None))
}

impl Kafka {
    /// How long the broker lets a connection's SASL session last before it must be
    /// re-authenticated (`connections.max.reauth.ms`); `None` when it sets no limit.
    pub fn session_lifetime(&self) -> Option<Duration> {
        self.session_lifetime
    }

    /// The connections this handle shares, for the producer engine.
    pub(crate) fn cluster(&self) -> &Arc<Cluster> {
        &self.cluster
    }

    /// The bound on reaching the cluster before a run.
    pub(crate) fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// An rskafka `Client` with the same trust and credentials, for what rskafka does well (admin
    /// through the controller, consuming in tests). Its retries stop after the connect timeout.
    pub async fn client(&self) -> Result<Client, KafkaError> {
        rskafka_client(self.cluster.connector(), self.connect_timeout).await
    }

    /// A new producer id and epoch for an idempotent producer (`InitProducerId`), or the refusal:
    /// `CLUSTER_AUTHORIZATION_FAILED` or a broker without the API, each with what to do about it.
    pub async fn init_producer_id(&self) -> Result<ProducerIdAndEpoch, KafkaError> {
        producer_id::init_producer_id(&self.cluster, ADMIN_BACKOFF, self.connect_timeout).await
    }

    /// Requests metadata for `topics` from any broker that answers, retrying until the connect
    /// timeout (a broker can stop answering without closing its connection).
    async fn admin_metadata(&self, topics: &[&str]) -> Result<MetadataResponse, KafkaError> {
        let mechanism = self
            .cluster
            .connector()
            .sasl_mechanism()
            .map(|m| m.as_str());
        let deadline = Instant::now() + self.connect_timeout;
        let asked = retry_until(ADMIN_BACKOFF, deadline, "metadata request", |_| async {
            match self.cluster.ask_any(|c| metadata::ask(c, topics)).await {
                Ok(response) => Attempt::Done(response),
                Err(failure) => failure.into_attempt(mechanism),
            }
        })
        .await;
        asked.map_err(|gave_up| {
            KafkaError::from_gave_up(
                gave_up,
                self.cluster.connector(),
                self.connect_timeout,
                None,
            )
        })
    }
}

/// rskafka's retry pacing, from ours: the same pauses, ending after `deadline`.
fn rskafka_backoff(backoff: &Backoff, deadline: Duration) -> BackoffConfig {
    BackoffConfig {
        init_backoff: backoff.initial(),
        max_backoff: backoff.max(),
        base: 2.0,
        deadline: Some(deadline),
    }
}

/// Builds rskafka's `Client` from a connector; its internal retries end after `deadline`.
async fn rskafka_client(connector: &Connector, deadline: Duration) -> Result<Client, KafkaError> {
    let mut builder = ClientBuilder::new(connector.bootstrap().to_vec())
        .client_id(connection::CLIENT_ID)
        .max_message_size(connection::MAX_RESPONSE_SIZE)
        .backoff_config(rskafka_backoff(&ADMIN_BACKOFF, deadline));
    if let Some(tls) = connector.tls_config() {
        builder = builder.tls_config(tls);
    }
    if let Some(sasl) = connector.sasl_config() {
        builder = builder.sasl_config(sasl);
    }
    // rskafka bounds its retries by the deadline but not a single attempt: a broker that accepts
    // the connection and never answers would hold `build` forever.
    match tokio::time::timeout(deadline, builder.build()).await {
        Ok(Ok(client)) => Ok(client),
        Ok(Err(e)) => Err(KafkaError::unreachable(connector, deadline, e.to_string())),
        Err(_) => Err(KafkaError::unreachable(
            connector,
            deadline,
            "no answer".into(),
        )),
    }
}
