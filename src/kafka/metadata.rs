//! Topic and cluster metadata: partition count and leaders, broker list, topic creation.
//!
//! The producer needs the partition count before it starts (the partitioner depends on it) and the
//! leader of each partition while it runs; `check` lists brokers. Metadata is always requested for
//! named topics with auto-creation off, so asking about a missing topic never creates it.

use std::collections::HashMap;

use rskafka::{client::error::ProtocolError, protocol::messages::MetadataResponse};

use super::{connection::BrokerConnection, wire::metadata::request_metadata, Kafka, KafkaError};

/// One broker as the cluster advertises it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerInfo {
    pub id: i32,
    pub host: String,
    pub port: i32,
    pub rack: Option<String>,
}

impl BrokerInfo {
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// The cluster as one metadata response shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterInfo {
    pub cluster_id: Option<String>,
    pub controller_id: Option<i32>,
    /// Sorted by id.
    pub brokers: Vec<BrokerInfo>,
}

/// Where each partition of a topic lives right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TopicLayout {
    /// Leader broker id per partition id; `None` while a partition has no leader.
    pub leaders: Vec<Option<i32>>,
    /// Advertised `host:port` per broker id.
    pub brokers: HashMap<i32, String>,
}

impl TopicLayout {
    /// The number of partitions, as Kafka counts them.
    pub(crate) fn partition_count(&self) -> i32 {
        i32::try_from(self.leaders.len()).unwrap_or(i32::MAX)
    }
}

/// Why a topic's layout could not be read from a metadata response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LayoutError {
    #[error("topic does not exist")]
    Missing,
    #[error("not authorized for the topic")]
    Unauthorized,
    #[error("broker answered {0:?}")]
    Broker(ProtocolError),
    #[error("the response does not describe the topic")]
    Absent,
}

impl LayoutError {
    pub(crate) fn into_kafka_error(self, topic: &str) -> KafkaError {
        let topic = topic.to_owned();
        match self {
            Self::Missing => KafkaError::TopicMissing { topic },
            Self::Unauthorized => KafkaError::TopicAuthorization { topic },
            other => KafkaError::TopicMetadata {
                topic,
                reason: other.to_string(),
            },
        }
    }
}

/// [`request_metadata`] for [`Cluster::ask_any`](super::cluster::Cluster::ask_any): the error as text.
pub(crate) async fn ask(
    connection: std::sync::Arc<BrokerConnection>,
    topics: &[&str],
) -> Result<MetadataResponse, String> {
    request_metadata(&connection, topics)
        .await
        .map_err(|e| e.to_string())
}

/// Reads `topic`'s partitions, leaders and the broker addresses from a metadata response.
pub(crate) fn topic_layout(
    response: &MetadataResponse,
    topic: &str,
) -> Result<TopicLayout, LayoutError> {
    let described = response
        .topics
        .iter()
        .find(|t| t.name.0 == topic)
        .ok_or(LayoutError::Absent)?;
    match described.error {
        None => {}
        Some(ProtocolError::UnknownTopicOrPartition) => return Err(LayoutError::Missing),
        Some(ProtocolError::TopicAuthorizationFailed) => return Err(LayoutError::Unauthorized),
        Some(other) => return Err(LayoutError::Broker(other)),
    }
    if described.partitions.is_empty() {
        return Err(LayoutError::Missing);
    }
    let count = described
        .partitions
        .iter()
        .map(|p| p.partition_index.0 + 1)
        .max()
        .unwrap_or(0);
    let mut leaders = vec![None; usize::try_from(count).unwrap_or(0)];
    for partition in &described.partitions {
        let id = usize::try_from(partition.partition_index.0).map_err(|_| LayoutError::Absent)?;
        let has_leader = partition.error.is_none() && partition.leader_id.0 >= 0;
        leaders[id] = has_leader.then_some(partition.leader_id.0);
    }
    let brokers = response
        .brokers
        .iter()
        .map(|b| (b.node_id.0, broker_info(b).address()))
        .collect();
    Ok(TopicLayout { leaders, brokers })
}

fn broker_info(b: &rskafka::protocol::messages::MetadataResponseBroker) -> BrokerInfo {
    BrokerInfo {
        id: b.node_id.0,
        host: b.host.0.clone(),
        port: b.port.0,
        rack: b.rack.as_ref().and_then(|r| r.0.clone()),
    }
}

impl Kafka {
    /// The number of partitions of `topic`, or a clear error if it does not exist.
    pub async fn partition_count(&self, topic: &str) -> Result<i32, KafkaError> {
        let response = self.admin_metadata(&[topic]).await?;
        let layout = topic_layout(&response, topic).map_err(|e| e.into_kafka_error(topic))?;
        Ok(layout.partition_count())
    }

    /// The brokers, controller and cluster id.
    pub async fn cluster_info(&self) -> Result<ClusterInfo, KafkaError> {
        let response = self.admin_metadata(&[]).await?;
        let mut brokers: Vec<BrokerInfo> = response.brokers.iter().map(broker_info).collect();
        brokers.sort_by_key(|b| b.id);
        Ok(ClusterInfo {
            cluster_id: response.cluster_id.and_then(|c| c.0),
            controller_id: response.controller_id.map(|c| c.0),
            brokers,
        })
    }

    /// Creates `topic` unless it exists, then waits until every partition has a leader.
    /// Returns whether this call created it.
    pub async fn create_topic(
        &self,
        topic: &str,
        partitions: i32,
        replication_factor: i16,
    ) -> Result<bool, KafkaError> {
        let client = self.client().await?;
        let controller = client
            .controller_client()
            .map_err(|e| KafkaError::topic_not_created(topic, &e, None))?;
        // rskafka retries under its deadline but does not bound one attempt; the broker gets 30 s.
        let bound = self.connect_timeout + std::time::Duration::from_secs(30);
        let creation = tokio::time::timeout(
            bound,
            controller.create_topic(topic, partitions, replication_factor, 30_000),
        )
        .await
        .map_err(|_| KafkaError::CreateTopic {
            topic: topic.to_owned(),
            reason: format!(
                "the controller did not answer within {}",
                humantime::format_duration(bound)
            ),
        })?;
        let created = match creation {
            Ok(()) => true,
            Err(rskafka::client::error::Error::ServerError {
                protocol_error: ProtocolError::TopicAlreadyExists,
                ..
            }) => false,
            Err(e) => {
                let brokers = self.cluster_info().await.ok().map(|c| c.brokers.len());
                return Err(KafkaError::topic_not_created(topic, &e, brokers));
            }
        };
        let existing = self.await_leaders(topic).await?;
        if created {
            tracing::info!(topic, partitions, replication_factor, "created topic");
        } else if existing == partitions {
            tracing::info!(topic, partitions, "topic exists already");
        } else {
            // As `kafka-topics --create --if-not-exists` does, an existing topic is used as it is.
            tracing::warn!(
                topic,
                partitions = existing,
                "topic exists already with {existing} partitions; --partitions {partitions} applies only to a topic this run creates"
            );
        }
        Ok(created)
    }

    /// Polls metadata until every partition of `topic` has a leader (new topics take a moment), and
    /// returns the number of partitions.
    async fn await_leaders(&self, topic: &str) -> Result<i32, KafkaError> {
        let started = tokio::time::Instant::now();
        loop {
            let response = self.admin_metadata(&[topic]).await?;
            match topic_layout(&response, topic) {
                Ok(layout) if layout.leaders.iter().all(Option::is_some) => {
                    return Ok(layout.partition_count())
                }
                Ok(_) | Err(LayoutError::Missing) if started.elapsed() < self.connect_timeout => {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Ok(_) => {
                    return Err(KafkaError::TopicMetadata {
                        topic: topic.to_owned(),
                        reason: "some partitions have no leader".into(),
                    })
                }
                Err(e) => return Err(e.into_kafka_error(topic)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rskafka::protocol::{
        messages::{MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic},
        primitives::{Array, Int32, NullableString, String_},
    };

    fn response(topic_error: Option<ProtocolError>, leaders: &[(i32, i32)]) -> MetadataResponse {
        MetadataResponse {
            throttle_time_ms: None,
            brokers: vec![MetadataResponseBroker {
                node_id: Int32(1),
                host: String_("broker-1.example".into()),
                port: Int32(9092),
                rack: Some(NullableString(None)),
            }],
            cluster_id: None,
            controller_id: Some(Int32(1)),
            topics: vec![MetadataResponseTopic {
                error: topic_error,
                name: String_("shoes".into()),
                is_internal: None,
                partitions: leaders
                    .iter()
                    .map(|&(id, leader)| MetadataResponsePartition {
                        error: None,
                        partition_index: Int32(id),
                        leader_id: Int32(leader),
                        replica_nodes: Array(Some(vec![])),
                        isr_nodes: Array(Some(vec![])),
                    })
                    .collect(),
            }],
        }
    }

    #[test]
    fn layout_lists_leaders_by_partition_id() {
        let layout = topic_layout(&response(None, &[(1, 1), (0, -1), (2, 1)]), "shoes").unwrap();
        assert_eq!(layout.leaders, vec![None, Some(1), Some(1)]);
        assert_eq!(layout.brokers[&1], "broker-1.example:9092");
    }

    #[test]
    fn missing_and_unauthorized_topics_are_told_apart() {
        let missing = response(Some(ProtocolError::UnknownTopicOrPartition), &[]);
        assert_eq!(topic_layout(&missing, "shoes"), Err(LayoutError::Missing));
        let denied = response(Some(ProtocolError::TopicAuthorizationFailed), &[]);
        assert_eq!(
            topic_layout(&denied, "shoes"),
            Err(LayoutError::Unauthorized)
        );
        assert_eq!(topic_layout(&missing, "boots"), Err(LayoutError::Absent));
        let message = LayoutError::Missing.into_kafka_error("shoes").to_string();
        assert!(message.contains("--create-topic"), "{message}");
    }
}
