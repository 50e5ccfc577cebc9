//! Kafka connectivity: connect with SASL/TLS and fail fast with a clear message, read topic metadata,
//! create topics, list brokers.
//!
//! [`connect`] opens one broker connection itself (see [`connection`]) so a rejected password or an
//! untrusted certificate ends the run at once with the setting to fix, while a broker that is merely
//! unreachable is retried until `connect_timeout`. The producer engine opens its own connections with
//! the same [`Connector`]; admin calls that rskafka already does well (creating a topic through the
//! controller) go through rskafka's `Client`, built with the same trust and credentials.

pub mod connection;
mod error;
pub mod metadata;

use std::{sync::Arc, time::Duration};

use rskafka::{
    client::{Client, ClientBuilder},
    BackoffConfig,
};
use tokio::{sync::Mutex, time::Instant};

pub use connection::{BrokerConnection, Connector, OpenError};
pub use error::{protocol_error_name, KafkaError};
pub use metadata::{BrokerInfo, ClusterInfo};

use crate::app::settings::KafkaSettings;

/// A verified route to a Kafka cluster: TLS trusted, credentials accepted, one broker answering.
#[derive(Debug)]
pub struct Kafka {
    connector: Arc<Connector>,
    connect_timeout: Duration,
    /// The admin connection (metadata requests) and the broker it goes to; reopened if it breaks.
    admin: Mutex<(String, Arc<BrokerConnection>)>,
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
    let admin = open_any(&connector, connector.bootstrap(), settings.connect_timeout).await?;
    tracing::info!(
        broker = %admin.0,
        security_protocol = settings.security_protocol.as_str(),
        sasl_mechanism = connector.sasl_mechanism().map(|m| m.as_str()),
        "connected to Kafka"
    );
    Ok(Kafka {
        connector,
        connect_timeout: settings.connect_timeout,
        admin: Mutex::new(admin),
    })
}

/// Opens a connection to the first of `addresses` that answers, retrying transient failures with
/// backoff until `timeout`; permanent failures (credentials, certificates) return at once.
pub async fn open_any(
    connector: &Connector,
    addresses: &[String],
    timeout: Duration,
) -> Result<(String, Arc<BrokerConnection>), KafkaError> {
    let started = Instant::now();
    let mut backoff = Duration::from_millis(200);
    let mechanism = connector.sasl_mechanism().map(|m| m.as_str());
    loop {
        let mut last_cause = String::from("no bootstrap server given");
        for address in addresses {
            match connector.open(address).await {
                Ok(connection) => return Ok((address.clone(), connection)),
                Err(e) if e.is_permanent() => {
                    return Err(KafkaError::from_open(address, e, mechanism));
                }
                Err(e) => {
                    tracing::warn!(broker = %address, error = %e, "cannot connect to Kafka; will retry");
                    last_cause = format!("{address}: {e}");
                }
            }
        }
        if started.elapsed() + backoff >= timeout {
            return Err(KafkaError::Unreachable {
                bootstrap: addresses.join(","),
                waited: timeout,
                cause: last_cause,
            });
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}

impl Kafka {
    /// The connector (trust + credentials) for opening more broker connections, e.g. the engine's.
    pub fn connector(&self) -> Arc<Connector> {
        Arc::clone(&self.connector)
    }

    /// An rskafka `Client` with the same trust and credentials, for what rskafka does well (admin
    /// through the controller, consuming in tests). Its retries stop after the connect timeout.
    pub async fn client(&self) -> Result<Client, KafkaError> {
        rskafka_client(&self.connector, self.connect_timeout).await
    }

    /// Requests metadata for `topics` on the admin connection, reopening it once if it broke or
    /// did not answer within the connect timeout (a broker can stop answering without closing).
    async fn admin_metadata(
        &self,
        topics: &[&str],
    ) -> Result<rskafka::protocol::messages::MetadataResponse, KafkaError> {
        let bound = self.connect_timeout;
        let bounded = |connection: Arc<BrokerConnection>| async move {
            match tokio::time::timeout(bound, metadata::request_metadata(&connection, topics)).await
            {
                Ok(Ok(response)) => Ok(response),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err(format!(
                    "no answer within {}",
                    humantime::format_duration(bound)
                )),
            }
        };
        let mut admin = self.admin.lock().await;
        match bounded(Arc::clone(&admin.1)).await {
            Ok(response) => Ok(response),
            Err(first) => {
                tracing::debug!(broker = %admin.0, error = %first, "admin connection failed; reopening");
                *admin = open_any(
                    &self.connector,
                    self.connector.bootstrap(),
                    self.connect_timeout,
                )
                .await?;
                bounded(Arc::clone(&admin.1))
                    .await
                    .map_err(|reason| KafkaError::Request {
                        broker: admin.0.clone(),
                        reason,
                    })
            }
        }
    }
}

/// Builds rskafka's `Client` from a connector; its internal retries end after `deadline`.
pub async fn rskafka_client(
    connector: &Connector,
    deadline: Duration,
) -> Result<Client, KafkaError> {
    let mut builder = ClientBuilder::new(connector.bootstrap().to_vec())
        .client_id(connection::CLIENT_ID)
        .max_message_size(connection::MAX_RESPONSE_SIZE)
        .backoff_config(BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            base: 2.0,
            deadline: Some(deadline),
        });
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
        Ok(Err(e)) => Err(KafkaError::Unreachable {
            bootstrap: connector.bootstrap().join(","),
            waited: deadline,
            cause: e.to_string(),
        }),
        Err(_) => Err(KafkaError::Unreachable {
            bootstrap: connector.bootstrap().join(","),
            waited: deadline,
            cause: "no answer".into(),
        }),
    }
}
