//! Where each partition's leader is and a live connection to it, healed after failures.
//!
//! One connection per broker carries the produce requests of every partition it leads (requests are
//! pipelined; the broker answers them in order). When an attempt fails the sender tells this cache
//! what to forget — the connection, the leader map, or both — and the next attempt re-reads metadata
//! and reconnects. Lookups hold one async lock, so a burst of failures triggers one metadata request
//! and one reconnect, not one per partition.
//!
//! Metadata is asked of a cached connection first, each request bounded by the connector's open
//! timeout; a connection that fails or does not answer in time is dropped, and the bootstrap servers
//! are asked next. (Unbounded, a connection whose broker vanished without closing it would hold every
//! lookup until the delivery timeout, for good: nothing else would ever drop it.)

use std::{collections::HashMap, sync::Arc};

use tokio::sync::Mutex;

use super::errors::{AttemptError, Refresh};
use crate::kafka::{
    metadata::{request_metadata, topic_layout, TopicLayout},
    BrokerConnection, Connector,
};

/// A connection handed out for one attempt, identified so a failure invalidates only that one.
#[derive(Debug, Clone)]
pub struct LeaderConnection {
    pub connection: Arc<BrokerConnection>,
    pub broker_id: i32,
    pub address: String,
    generation: u64,
}

impl LeaderConnection {
    /// Identifies the connection itself: two lookups that return the same key share one socket.
    pub fn key(&self) -> (i32, u64) {
        (self.broker_id, self.generation)
    }
}

#[derive(Debug, Default)]
struct State {
    layout: Option<TopicLayout>,
    connections: HashMap<i32, (Arc<BrokerConnection>, u64)>,
    next_generation: u64,
}

/// Leader lookup and broker connections for one topic.
#[derive(Debug)]
pub struct Cluster {
    connector: Arc<Connector>,
    topic: String,
    state: Mutex<State>,
}

impl Cluster {
    pub fn new(connector: Arc<Connector>, topic: &str) -> Self {
        Self {
            connector,
            topic: topic.to_owned(),
            state: Mutex::new(State::default()),
        }
    }

    /// A connection to the current leader of `partition`, reading metadata and connecting if needed.
    pub async fn leader(&self, partition: i32) -> Result<LeaderConnection, AttemptError> {
        let mut state = self.state.lock().await;
        if state.layout.is_none() {
            let layout = self.read_layout(&mut state).await?;
            state.layout = Some(layout);
        }
        let layout = state.layout.as_ref().expect("just read");
        let leader = usize::try_from(partition)
            .ok()
            .and_then(|p| layout.leaders.get(p).copied().flatten());
        let Some(broker_id) = leader else {
            state.layout = None;
            return Err(AttemptError::no_leader(format!(
                "LEADER_NOT_AVAILABLE (partition {partition} has no leader in metadata)"
            )));
        };
        let Some(address) = layout.brokers.get(&broker_id).cloned() else {
            state.layout = None;
            return Err(AttemptError::no_leader(format!(
                "leader {broker_id} of partition {partition} is not in the broker list"
            )));
        };
        if let Some((connection, generation)) = state.connections.get(&broker_id) {
            return Ok(LeaderConnection {
                connection: Arc::clone(connection),
                broker_id,
                address,
                generation: *generation,
            });
        }
        let connection = self.connector.open(&address).await.map_err(|e| {
            state.layout = None;
            AttemptError::unreachable(&address, &e)
        })?;
        state.next_generation += 1;
        let generation = state.next_generation;
        state
            .connections
            .insert(broker_id, (Arc::clone(&connection), generation));
        tracing::debug!(broker = broker_id, %address, "connected to partition leader");
        Ok(LeaderConnection {
            connection,
            broker_id,
            address,
            generation,
        })
    }

    /// Forgets what `refresh` says after an attempt on `used` failed.
    pub async fn invalidate(&self, used: Option<&LeaderConnection>, refresh: Refresh) {
        if refresh == Refresh::Nothing {
            return;
        }
        let mut state = self.state.lock().await;
        state.layout = None;
        if refresh == Refresh::Connection {
            if let Some(used) = used {
                let same = state
                    .connections
                    .get(&used.broker_id)
                    .is_some_and(|(_, generation)| *generation == used.generation);
                if same {
                    state.connections.remove(&used.broker_id);
                    tracing::debug!(broker = used.broker_id, address = %used.address, "dropped broken connection");
                }
            }
        }
    }

    /// Reads the topic's layout through any open connection (dropping those that fail), else
    /// through a bootstrap server.
    async fn read_layout(&self, state: &mut State) -> Result<TopicLayout, AttemptError> {
        let mut last_error = String::from("no broker reachable");
        let cached: Vec<(i32, Arc<BrokerConnection>)> = state
            .connections
            .iter()
            .map(|(&broker, (connection, _))| (broker, Arc::clone(connection)))
            .collect();
        for (broker, connection) in cached {
            match self.metadata(&connection).await {
                Ok(response) => return self.layout_of(&response),
                Err(e) => {
                    last_error = format!("metadata request to broker {broker} failed: {e}");
                    state.connections.remove(&broker);
                    tracing::debug!(broker, error = %last_error, "dropped connection that failed a metadata request");
                }
            }
        }
        for address in self.connector.bootstrap() {
            match self.connector.open(address).await {
                Ok(connection) => match self.metadata(&connection).await {
                    Ok(response) => return self.layout_of(&response),
                    Err(e) => last_error = format!("metadata request to {address} failed: {e}"),
                },
                Err(e) => last_error = format!("cannot connect to {address}: {e}"),
            }
        }
        Err(AttemptError {
            reason: last_error,
            retriable: true,
            outcome_unknown: false,
            refresh: super::errors::Refresh::Connection,
        })
    }

    /// One metadata request for the topic, bounded by the connector's open timeout.
    async fn metadata(
        &self,
        connection: &BrokerConnection,
    ) -> Result<rskafka::protocol::messages::MetadataResponse, String> {
        let bound = self.connector.open_timeout();
        match tokio::time::timeout(bound, request_metadata(connection, &[&self.topic])).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {bound:?}")),
        }
    }

    fn layout_of(
        &self,
        response: &rskafka::protocol::messages::MetadataResponse,
    ) -> Result<TopicLayout, AttemptError> {
        topic_layout(response, &self.topic)
            .map_err(|e| AttemptError::no_leader(format!("metadata of {}: {e}", self.topic)))
    }
}
