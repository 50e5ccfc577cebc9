//! The senders' [`Transport`] over the real cluster: partition leaders from the run's shared
//! [`Cluster`] metadata path, produce requests on its broker connections (rskafka's `Messenger`).
//!
//! The topic's layout (leader per partition) is cached. A failure that says a partition's leader
//! may have moved marks that partition stale: its next lookup waits for metadata read after the
//! failure, while every other partition keeps using the cached leaders. Metadata reads are
//! coalesced: one at a time, and a lookup that waited for one in progress uses its result (or its
//! error), so a burst of failures across partitions costs one metadata request. No lock is held
//! across network I/O but the metadata gate, which only lookups that need fresh metadata wait on;
//! connecting to a leader waits only for that broker (see [`Cluster`]).

use std::{collections::HashMap, sync::Arc};

use parking_lot::Mutex;

use super::{
    errors::{AttemptError, Refresh},
    transport::{BoxFuture, BrokerAnswer, BrokerLink, BrokerRequest, Leader, Transport},
};
use crate::{
    kafka::{
        cluster::{self, AnyBrokerError, Cluster},
        metadata::{self, topic_layout, LayoutError, TopicLayout},
        producer_id,
        wire::produce::{self, ProduceRequest},
        Kafka, KafkaError, ProducerIdAndEpoch,
    },
    support::backoff::Backoff,
};

/// Pauses between attempts to get a new producer id.
const PRODUCER_ID_BACKOFF: Backoff = Backoff::new(
    std::time::Duration::from_millis(100),
    std::time::Duration::from_secs(1),
);

/// Leader lookup and produce requests for one topic.
#[derive(Debug)]
pub(crate) struct KafkaTransport {
    kafka: Kafka,
    topic: Arc<str>,
    /// The `acks` value written in requests: `-1` (all) or `1` (leader).
    acks: i16,
    state: Mutex<LayoutState>,
    /// Held while metadata is read: one metadata request at a time.
    reading: tokio::sync::Mutex<()>,
}

#[derive(Debug, Default)]
struct LayoutState {
    layout: Option<Arc<TopicLayout>>,
    /// Metadata reads started so far; the number of a read is the count when it started.
    started: u64,
    /// A metadata read is under way.
    in_progress: bool,
    /// The number of the last metadata read that succeeded.
    read: u64,
    /// The number and error of the last metadata read that failed.
    failed: Option<(u64, AttemptError)>,
    /// Partitions that need metadata from a read started after the number recorded.
    stale: HashMap<i32, u64>,
}

impl KafkaTransport {
    pub(super) fn new(kafka: &Kafka, topic: &str, acks: i16) -> Self {
        Self {
            kafka: kafka.clone(),
            topic: Arc::from(topic),
            acks,
            state: Mutex::new(LayoutState::default()),
            reading: tokio::sync::Mutex::new(()),
        }
    }

    /// The layout, read after metadata read number `after` started (any layout for `None`), reading
    /// it unless a read that started after that is done or failed.
    async fn fresh_layout(&self, after: Option<u64>) -> Result<Arc<TopicLayout>, AttemptError> {
        let good_enough = |state: &LayoutState| match (&state.layout, after) {
            (Some(layout), None) => Some(Ok(Arc::clone(layout))),
            (Some(layout), Some(after)) if state.read > after => Some(Ok(Arc::clone(layout))),
            _ => match (&state.failed, after) {
                (Some((n, error)), Some(after)) if *n > after => Some(Err(error.clone())),
                _ => None,
            },
        };
        if let Some(known) = good_enough(&self.state.lock()) {
            return known;
        }
        let _reading = self.reading.lock().await;
        let number = {
            let mut state = self.state.lock();
            if let Some(known) = good_enough(&state) {
                return known;
            }
            state.started += 1;
            state.in_progress = true;
            state.started
        };
        let result = self.read_layout().await.map(Arc::new);
        let mut state = self.state.lock();
        state.in_progress = false;
        match &result {
            Ok(layout) => {
                state.layout = Some(Arc::clone(layout));
                state.read = number;
                state.stale.retain(|_, after| *after >= number);
            }
            Err(error) => state.failed = Some((number, error.clone())),
        }
        result
    }

    /// Marks `partition` as needing metadata read after now.
    fn mark_stale(&self, partition: i32) {
        let mut state = self.state.lock();
        let started = state.started;
        state.stale.insert(partition, started);
    }

    fn cluster(&self) -> &Arc<Cluster> {
        self.kafka.cluster()
    }

    /// Reads the topic's layout from any broker.
    async fn read_layout(&self) -> Result<TopicLayout, AttemptError> {
        let topic = &*self.topic;
        let topics = [topic];
        let response = self
            .cluster()
            .ask_any(|c| metadata::ask(c, &topics))
            .await
            .map_err(|e| match e {
                AnyBrokerError::Permanent { address, error } => {
                    AttemptError::unreachable(&address, error, self.sasl_mechanism())
                }
                AnyBrokerError::Unavailable(cause) => {
                    AttemptError::no_leader(format!("no metadata for topic {topic:?}: {cause}"))
                }
            })?;
        topic_layout(&response, topic).map_err(|e| match e {
            LayoutError::Missing => AttemptError::topic_missing(topic),
            LayoutError::Unauthorized => AttemptError::from_metadata(
                rskafka::client::error::ProtocolError::TopicAuthorizationFailed,
            ),
            LayoutError::Broker(error) => AttemptError::from_metadata(error),
            LayoutError::Absent => AttemptError::no_leader(format!(
                "the metadata response does not describe topic {topic:?}"
            )),
        })
    }

    fn sasl_mechanism(&self) -> Option<&'static str> {
        self.cluster()
            .connector()
            .sasl_mechanism()
            .map(|m| m.as_str())
    }
}

impl Transport for KafkaTransport {
    fn leader(&self, partition: i32) -> BoxFuture<'_, Result<Leader, AttemptError>> {
        Box::pin(async move {
            let after = {
                let state = self.state.lock();
                match state.stale.get(&partition) {
                    Some(&after) => Some(after),
                    None if state.layout.is_some() => None,
                    // No layout yet: the read under way (if any) will do.
                    None => Some(state.started - u64::from(state.in_progress)),
                }
            };
            let layout = self.fresh_layout(after).await?;
            let leader = usize::try_from(partition)
                .ok()
                .and_then(|p| layout.leaders.get(p).copied().flatten());
            let Some(broker_id) = leader else {
                self.mark_stale(partition);
                return Err(AttemptError::no_leader(format!(
                    "partition {partition} has no leader in metadata"
                )));
            };
            let Some(address) = layout.brokers.get(&broker_id).cloned() else {
                self.mark_stale(partition);
                return Err(AttemptError::no_leader(format!(
                    "leader {broker_id} of partition {partition} is not in the broker list"
                )));
            };
            match self.cluster().broker(broker_id, &address).await {
                Ok(link) => Ok(Leader {
                    broker: link.broker_id,
                    connection: link.generation,
                    link: Arc::new(KafkaLink {
                        topic: Arc::clone(&self.topic),
                        acks: self.acks,
                        link,
                    }),
                }),
                Err(error) => {
                    self.mark_stale(partition);
                    Err(AttemptError::unreachable(
                        &address,
                        error,
                        self.sasl_mechanism(),
                    ))
                }
            }
        })
    }

    fn invalidate<'a>(
        &'a self,
        partition: i32,
        failed: Option<&'a Leader>,
        refresh: Refresh,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            if refresh == Refresh::Nothing {
                return;
            }
            self.mark_stale(partition);
            if let (Refresh::Connection, Some(leader)) = (refresh, failed) {
                self.cluster()
                    .forget(leader.broker, leader.connection)
                    .await;
            }
        })
    }

    fn partition_count(&self) -> BoxFuture<'_, Result<i32, AttemptError>> {
        Box::pin(async move {
            let after = self.state.lock().started;
            Ok(self.fresh_layout(Some(after)).await?.partition_count())
        })
    }

    fn init_producer_id(&self) -> BoxFuture<'_, Result<ProducerIdAndEpoch, KafkaError>> {
        Box::pin(producer_id::init_producer_id(
            self.cluster(),
            PRODUCER_ID_BACKOFF,
            self.kafka.connect_timeout(),
        ))
    }
}

/// Produce requests for one topic on one broker connection.
struct KafkaLink {
    link: cluster::BrokerLink,
    topic: Arc<str>,
    acks: i16,
}

impl BrokerLink for KafkaLink {
    fn address(&self) -> &str {
        &self.link.address
    }

    fn fresh(&self) -> bool {
        self.link.fresh(tokio::time::Instant::now())
    }

    fn produce(
        &self,
        request: BrokerRequest,
    ) -> BoxFuture<'static, Result<BrokerAnswer, AttemptError>> {
        let connection = Arc::clone(&self.link.connection);
        let topic = Arc::clone(&self.topic);
        let acks = self.acks;
        Box::pin(async move {
            let body = ProduceRequest {
                topic: &topic,
                acks,
                timeout_ms: request.timeout_ms,
                batches: &request.batches,
            };
            match connection.request(&body).await {
                Ok(response) => Ok(produce::answers(&response, &topic)),
                Err(error) => Err(AttemptError::from_request(&error)),
            }
        })
    }
}
