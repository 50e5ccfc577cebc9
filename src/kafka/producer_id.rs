//! The producer id and epoch that make a producer idempotent, asked of the cluster with
//! `InitProducerId` (API key 22; the message itself is in [`super::wire::init_producer_id`]).
//! Without a transactional id any broker answers it (with a fresh producer id, epoch 0); the broker
//! asks for `IdempotentWrite` on the cluster (or, from Kafka 2.8, `Write` on any topic) and answers
//! `CLUSTER_AUTHORIZATION_FAILED` otherwise.

use rskafka::{client::error::ProtocolError, messenger::RequestError};

use super::{
    cluster::Cluster,
    wire::init_producer_id::{InitProducerIdRequest, InitProducerIdResponse},
    KafkaError,
};
use crate::support::backoff::{retry_until, Attempt, Backoff};

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
    backoff: Backoff,
    deadline: std::time::Duration,
) -> Result<ProducerIdAndEpoch, KafkaError> {
    let mechanism = cluster.connector().sasl_mechanism().map(|m| m.as_str());
    let deadline_at = tokio::time::Instant::now() + deadline;
    let asked = retry_until(backoff, deadline_at, "InitProducerId", |_| async {
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
        match asked {
            Ok(Answer::Response(response)) => match response.error {
                None => Attempt::Done(response.producer),
                Some(ProtocolError::ClusterAuthorizationFailed) => {
                    Attempt::Fatal(KafkaError::IdempotenceUnauthorized)
                }
                Some(error) if retriable(error) => {
                    Attempt::Retry(super::protocol_error_name(error))
                }
                Some(error) => Attempt::Fatal(KafkaError::IdempotenceRefused {
                    reason: super::protocol_error_name(error),
                }),
            },
            Ok(Answer::Unsupported(reason)) => {
                Attempt::Fatal(KafkaError::IdempotenceRefused { reason })
            }
            Err(failure) => failure.into_attempt(mechanism),
        }
    })
    .await;
    asked.map_err(|gave_up| {
        KafkaError::from_gave_up(
            gave_up,
            cluster.connector(),
            deadline,
            Some("InitProducerId"),
        )
    })
}
