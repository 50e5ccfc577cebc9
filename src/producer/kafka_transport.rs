//! The senders' [`Transport`] over the real cluster: partition leaders from the run's shared
//! [`Cluster`] metadata path, produce requests on its broker connections (rskafka's `Messenger`).
//!
//! The topic's layout (leader per partition) is cached until an attempt's failure says to forget
//! it. Lookups hold one async lock, so a burst of failures across partitions triggers one metadata
//! request and one reconnect, not one per partition.

use std::sync::Arc;

use tokio::sync::Mutex;

use super::{
    errors::{AttemptError, Refresh},
    transport::{BoxFuture, BrokerAnswer, BrokerLink, BrokerRequest, Leader, Transport},
};
use crate::{
    kafka::{
        cluster::{AnyBrokerError, Cluster},
        metadata::{self, topic_layout, LayoutError, TopicLayout},
        producer_id,
        wire::produce::{self, ProduceRequest},
        BrokerConnection, Kafka, KafkaError, ProducerIdAndEpoch,
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
    layout: Mutex<Option<TopicLayout>>,
}

impl KafkaTransport {
    pub fn new(kafka: &Kafka, topic: &str, acks: i16) -> Self {
        Self {
            kafka: kafka.clone(),
            topic: Arc::from(topic),
            acks,
            layout: Mutex::new(None),
        }
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
            let mut layout = self.layout.lock().await;
            if layout.is_none() {
                *layout = Some(self.read_layout().await?);
            }
            let known = layout.as_ref().expect("just read");
            let leader = usize::try_from(partition)
                .ok()
                .and_then(|p| known.leaders.get(p).copied().flatten());
            let Some(broker_id) = leader else {
                *layout = None;
                return Err(AttemptError::no_leader(format!(
                    "partition {partition} has no leader in metadata"
                )));
            };
            let Some(address) = known.brokers.get(&broker_id).cloned() else {
                *layout = None;
                return Err(AttemptError::no_leader(format!(
                    "leader {broker_id} of partition {partition} is not in the broker list"
                )));
            };
            match self.cluster().broker(broker_id, &address).await {
                Ok(link) => Ok(Leader {
                    broker: broker_id,
                    connection: link.generation,
                    link: Arc::new(KafkaLink {
                        connection: link.connection,
                        topic: Arc::clone(&self.topic),
                        acks: self.acks,
                    }),
                }),
                Err(error) => {
                    *layout = None;
                    Err(AttemptError::unreachable(
                        &address,
                        error,
                        self.sasl_mechanism(),
                    ))
                }
            }
        })
    }

    fn invalidate<'a>(&'a self, failed: Option<&'a Leader>, refresh: Refresh) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            if refresh == Refresh::Nothing {
                return;
            }
            *self.layout.lock().await = None;
            if let (Refresh::Connection, Some(leader)) = (refresh, failed) {
                self.cluster()
                    .forget(leader.broker, leader.connection)
                    .await;
            }
        })
    }

    fn partition_count(&self) -> BoxFuture<'_, Result<i32, AttemptError>> {
        Box::pin(async move {
            let fresh = self.read_layout().await?;
            let count = fresh.partition_count();
            *self.layout.lock().await = Some(fresh);
            Ok(count)
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
    connection: Arc<BrokerConnection>,
    topic: Arc<str>,
    acks: i16,
}

impl BrokerLink for KafkaLink {
    fn produce(
        &self,
        request: BrokerRequest,
    ) -> BoxFuture<'static, Result<BrokerAnswer, AttemptError>> {
        let connection = Arc::clone(&self.connection);
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
