//! The producer id and epoch that make a producer idempotent, asked of the cluster with
//! `InitProducerId` (API key 22; the message itself is in [`super::wire::init_producer_id`]).
//! Without a transactional id any broker answers it (with a fresh producer id, epoch 0); the broker
//! asks for `IdempotentWrite` on the cluster (or, from Kafka 2.8, `Write` on any topic) and answers
//! `CLUSTER_AUTHORIZATION_FAILED` otherwise.

use rskafka::{client::error::ProtocolError, messenger::RequestError};

use super::{
    cluster::{AnyBrokerError, Cluster},
    wire::init_producer_id::{InitProducerIdRequest, InitProducerIdResponse},
    KafkaError,
};
use crate::support::backoff::Backoff;

/// A producer id and its epoch, as the broker handed them out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProducerIdAndEpoch {
    pub id: i64,
    pub epoch: i16,
}

impl std::fmt::Display for ProducerIdAndEpoch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "producer id {} epoch {}", self.id, self.epoch)
    }
}

/// Errors after which asking again (another broker, a moment later) may succeed.
fn retriable(error: ProtocolError) -> bool {
    super::codes::classify(error).retriable
}

/// What one ask of the cluster brought back, when a broker did answer.
enum Answer {
    Response(InitProducerIdResponse),
    /// The broker does not know the API (older than Kafka 0.11, or a Kafka-compatible server
    /// without idempotence).
    Unsupported(String),
}

/// Asks the cluster for a new producer id, retrying what may heal with `backoff` until `deadline`
/// has passed. A refusal (authorization, a broker without the API) returns at once.
pub(crate) async fn init_producer_id(
    cluster: &Cluster,
    mut backoff: Backoff,
    deadline: std::time::Duration,
) -> Result<ProducerIdAndEpoch, KafkaError> {
    let started = tokio::time::Instant::now();
    let mechanism = cluster.connector().sasl_mechanism().map(|m| m.as_str());
    loop {
        let asked = cluster
            .ask_any(|connection| async move {
                match connection
                    .request(InitProducerIdRequest::idempotent())
                    .await
                {
                    Ok(response) => Ok(Answer::Response(response)),
                    Err(RequestError::NoVersionMatch { .. }) => {
                        Ok(Answer::Unsupported("no InitProducerId API".into()))
                    }
                    Err(error) => Err(error.to_string()),
                }
            })
            .await;
        let cause = match asked {
            Ok(Answer::Response(response)) => match response.error {
                None => return Ok(response.producer),
                Some(ProtocolError::ClusterAuthorizationFailed) => {
                    return Err(KafkaError::IdempotenceUnauthorized)
                }
                Some(error) if retriable(error) => super::protocol_error_name(error),
                Some(error) => {
                    return Err(KafkaError::IdempotenceRefused {
                        reason: super::protocol_error_name(error),
                    })
                }
            },
            Ok(Answer::Unsupported(reason)) => {
                return Err(KafkaError::IdempotenceRefused { reason })
            }
            Err(AnyBrokerError::Permanent { address, error }) => {
                return Err(KafkaError::from_open(&address, error, mechanism))
            }
            Err(AnyBrokerError::Unavailable(cause)) => cause,
        };
        let now = tokio::time::Instant::now();
        match backoff.next_pause_before(now, started + deadline) {
            Some(pause) => {
                tracing::debug!(%cause, ?pause, "InitProducerId failed; will retry");
                tokio::time::sleep(pause).await;
            }
            None => {
                return Err(KafkaError::Unreachable {
                    bootstrap: cluster.connector().bootstrap().join(","),
                    waited: deadline,
                    cause: format!("InitProducerId: {cause}"),
                })
            }
        }
    }
}
