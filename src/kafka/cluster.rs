//! The connections to one cluster, and the one way every part of a run reaches a broker.
//!
//! The admin calls before producing (partition count, topic creation), `check`, and the producer
//! engine (partition leaders, produce requests, producer ids) all go through one [`Cluster`]: one
//! connection per broker, opened on first use and forgotten when it fails, so a leader lookup reuses
//! the connection produce requests travel on and a failed broker is reconnected once, not once per
//! caller.
//!
//! Metadata (and any request that any broker can answer) is asked of a live broker connection
//! first, then of the bootstrap servers. Every such request is bounded by the connector's open
//! timeout: a broker that vanished without closing its socket must not hold a lookup for longer, and
//! a connection that fails or stays silent is dropped so nothing asks it again.
//!
//! A broker that ends SASL sessions (`connections.max.reauth.ms`, as managed clusters do) would
//! close a connection still in use; each connection is therefore replaced before its session ends
//! (see [`Cluster::broker`]), and one past that point is not asked anything.
//!
//! No lock is held across network I/O but one per broker while connecting to it, so callers wait
//! for that broker's connection only: a slow or blackholed broker delays nobody bound elsewhere.

use std::{collections::HashMap, future::Future, sync::Arc};

use parking_lot::Mutex;
use tokio::time::Instant;

use super::connection::{BrokerConnection, Connector, OpenError, Session};

/// A connection to one broker, identified so that a failure forgets only that connection (a newer
/// one to the same broker may already have replaced it).
#[derive(Debug, Clone)]
pub(crate) struct BrokerLink {
    pub broker_id: i32,
    pub address: String,
    pub connection: Arc<BrokerConnection>,
    /// Unique per connection opened by this cluster handle.
    pub generation: u64,
    /// When new requests move to a fresh connection, before the broker ends this one's SASL
    /// session (`None`: the broker sets no session lifetime).
    renew_at: Option<Instant>,
}

impl BrokerLink {
    /// Whether new requests may still go on this connection at `now` (see [`Cluster::broker`]).
    pub(crate) fn fresh(&self, now: Instant) -> bool {
        self.renew_at.is_none_or(|at| now < at)
    }
}

/// Why no broker answered a request that any broker could have answered.
#[derive(Debug)]
pub(crate) enum AnyBrokerError {
    /// A bootstrap server rejected our credentials or we rejected its certificate: retrying
    /// cannot help.
    Permanent { address: String, error: OpenError },
    /// Every connection and bootstrap server failed or stayed silent; the last cause.
    Unavailable(String),
}

impl std::fmt::Display for AnyBrokerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Permanent { address, error } => write!(f, "{address}: {error}"),
            Self::Unavailable(cause) => f.write_str(cause),
        }
    }
}

#[derive(Debug, Default)]
struct Connections {
    brokers: HashMap<i32, BrokerLink>,
    /// A connection to a bootstrap server (which broker it reaches is unknown), and when to stop
    /// using it before its SASL session ends.
    bootstrap: Option<(String, Arc<BrokerConnection>, Option<Instant>)>,
    next_generation: u64,
}

/// Broker connections of one cluster, shared by everything in the process that talks to it.
#[derive(Debug)]
pub(crate) struct Cluster {
    connector: Arc<Connector>,
    connections: Mutex<Connections>,
    /// One gate per broker, held while connecting to it, so one connection is opened at a time.
    dialing: Mutex<HashMap<i32, Arc<tokio::sync::Mutex<()>>>>,
}

impl Cluster {
    /// A cluster reached through `connector`, with an already verified bootstrap connection.
    pub(crate) fn new(connector: Arc<Connector>, bootstrap: (String, Session)) -> Self {
        let (address, session) = bootstrap;
        let bootstrap = (address, session.connection.clone(), session.renew_at());
        Self {
            connector,
            connections: Mutex::new(Connections {
                bootstrap: Some(bootstrap),
                ..Connections::default()
            }),
            dialing: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn connector(&self) -> &Arc<Connector> {
        &self.connector
    }

    /// The connection to broker `broker_id` at `address`, opened if there is none.
    ///
    /// A connection whose SASL session nears its end is replaced here, make before break: new
    /// requests go to a freshly authenticated connection while those in flight finish on the old
    /// one, which closes when the last of them lets it go. Nothing is sent on a connection after its
    /// renewal point, so the broker never has to close one for an expired session. If the new
    /// connection cannot be opened, the old one serves until its session really ends.
    pub(crate) async fn broker(
        &self,
        broker_id: i32,
        address: &str,
    ) -> Result<BrokerLink, OpenError> {
        let renewing = match self.cached(broker_id, address) {
            Some(link) if link.fresh(Instant::now()) => return Ok(link),
            stale => stale,
        };
        let gate = Arc::clone(self.dialing.lock().entry(broker_id).or_default());
        let _dialing = gate.lock().await;
        if let Some(link) = self
            .cached(broker_id, address)
            .filter(|link| link.fresh(Instant::now()))
        {
            return Ok(link);
        }
        let session = match self.connector.open_session(address).await {
            Ok(session) => session,
            Err(error) => {
                if let Some(old) = renewing {
                    tracing::debug!(broker = broker_id, %address, %error, "cannot renew a connection before its session ends; using it meanwhile");
                    return Ok(old);
                }
                return Err(error);
            }
        };
        let mut connections = self.connections.lock();
        connections.next_generation += 1;
        let link = BrokerLink {
            broker_id,
            address: address.to_owned(),
            renew_at: session.renew_at(),
            connection: session.connection,
            generation: connections.next_generation,
        };
        connections.brokers.insert(broker_id, link.clone());
        if renewing.is_some() {
            tracing::debug!(broker = broker_id, %address, "renewed the connection before its SASL session ends");
        } else {
            tracing::debug!(broker = broker_id, %address, "connected to broker");
        }
        Ok(link)
    }

    fn cached(&self, broker_id: i32, address: &str) -> Option<BrokerLink> {
        self.connections
            .lock()
            .brokers
            .get(&broker_id)
            .filter(|link| link.address == address)
            .cloned()
    }

    /// Drops connection `generation` to `broker_id` (if it is still that broker's connection): the
    /// next use reconnects.
    pub(crate) async fn forget(&self, broker_id: i32, generation: u64) {
        self.forget_now(broker_id, generation);
    }

    fn forget_now(&self, broker_id: i32, generation: u64) {
        let mut connections = self.connections.lock();
        let current = connections
            .brokers
            .get(&broker_id)
            .is_some_and(|c| c.generation == generation);
        if let Some(link) = current
            .then(|| connections.brokers.remove(&broker_id))
            .flatten()
        {
            tracing::debug!(broker = broker_id, address = %link.address, "dropped broken connection");
        }
    }

    /// Runs `request` on one live connection: each broker connection, then the bootstrap
    /// connection, then each bootstrap server, until one answers. Each attempt is bounded by the
    /// connector's open timeout; a connection that fails or stays silent is dropped.
    pub(crate) async fn ask_any<T, F, Fut>(&self, request: F) -> Result<T, AnyBrokerError>
    where
        F: Fn(Arc<BrokerConnection>) -> Fut,
        Fut: Future<Output = Result<T, String>>,
    {
        let bound = self.connector.open_timeout();
        let bounded = |connection: Arc<BrokerConnection>| {
            let answer = request(connection);
            async move {
                match tokio::time::timeout(bound, answer).await {
                    Ok(result) => result,
                    Err(_) => Err(format!(
                        "no answer within {}",
                        humantime::format_duration(bound)
                    )),
                }
            }
        };
        let mut last_cause = String::from("no broker reachable");
        let (mut cached, bootstrap) = {
            let connections = self.connections.lock();
            let cached: Vec<BrokerLink> = connections.brokers.values().cloned().collect();
            (cached, connections.bootstrap.clone())
        };
        cached.sort_by_key(|link| link.broker_id);
        // A connection past its renewal point is not asked: its session may end mid-request.
        let now = Instant::now();
        cached.retain(|link| link.fresh(now));
        for link in cached {
            match bounded(Arc::clone(&link.connection)).await {
                Ok(answer) => return Ok(answer),
                Err(cause) => {
                    last_cause = format!("broker {} ({}): {cause}", link.broker_id, link.address);
                    self.forget_now(link.broker_id, link.generation);
                    tracing::debug!(broker = link.broker_id, error = %last_cause, "dropped a connection that failed a request");
                }
            }
        }
        if let Some((address, connection, _)) =
            bootstrap.filter(|(.., renew_at)| renew_at.is_none_or(|at| now < at))
        {
            match bounded(Arc::clone(&connection)).await {
                Ok(answer) => return Ok(answer),
                Err(cause) => {
                    last_cause = format!("{address}: {cause}");
                    let mut connections = self.connections.lock();
                    if connections
                        .bootstrap
                        .as_ref()
                        .is_some_and(|(_, c, _)| Arc::ptr_eq(c, &connection))
                    {
                        connections.bootstrap = None;
                    }
                }
            }
        }
        for address in self.connector.bootstrap() {
            match self.connector.open_session(address).await {
                Ok(session) => match bounded(Arc::clone(&session.connection)).await {
                    Ok(answer) => {
                        let renew_at = session.renew_at();
                        self.connections.lock().bootstrap =
                            Some((address.clone(), session.connection, renew_at));
                        return Ok(answer);
                    }
                    Err(cause) => last_cause = format!("{address}: {cause}"),
                },
                Err(error) if error.is_permanent() => {
                    return Err(AnyBrokerError::Permanent {
                        address: address.clone(),
                        error,
                    })
                }
                Err(error) => last_cause = format!("cannot connect to {address}: {error}"),
            }
        }
        Err(AnyBrokerError::Unavailable(last_cause))
    }
}
