//! What one produce attempt's failure means: retry or give up, refresh what, whether the broker may
//! have written the batch anyway, and how the failure reads in the summary.
//!
//! The classification follows the Java client (its `RetriableException` subclasses are retried) so
//! a run behaves the way Kafka users expect. "Outcome unknown" marks the failures after which the
//! broker may hold the batch although the attempt failed: the request left and no answer came back,
//! or the broker answered after appending (`REQUEST_TIMED_OUT`, `NOT_ENOUGH_REPLICAS_AFTER_APPEND`).
//!
//! Failure reasons key the summary's and the metrics' per-reason counts, so they are a handful of
//! stable strings: one outage (a broker restarting shows as refused connections, lost connections,
//! requests without answers and leader changes, in turn) is one cause, "partition unavailable",
//! and the details go to the log.

use std::{borrow::Cow, fmt};

use rskafka::{client::error::ProtocolError, messenger::RequestError};

use crate::kafka::{classify, protocol_error_name, KafkaError, OpenError};

/// What to forget before the next attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresh {
    Nothing,
    /// The partition's leader may have moved: re-read metadata.
    Metadata,
    /// The connection is broken: drop it, and re-read metadata too.
    Connection,
}

/// A broker's complaint about the idempotent producer's id, epoch or sequence numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SequenceFault {
    /// `OUT_OF_ORDER_SEQUENCE_NUMBER`: not the sequence the broker expects next.
    OutOfOrder,
    /// `UNKNOWN_PRODUCER_ID`: the broker has no state for the producer (it expired, or the log
    /// was truncated).
    UnknownProducer,
    /// `INVALID_PRODUCER_EPOCH`: the broker knows a newer epoch.
    InvalidEpoch,
}

/// The family a failure belongs to; it decides what the sender does and how the reason reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The partition's leader cannot take the batch now: no leader, a leader that moved or cannot be
    /// reached, a connection lost or silent, not enough in-sync replicas.
    Unavailable,
    /// The topic is not in the cluster's metadata (deleted during the run).
    TopicMissing,
    /// `MESSAGE_TOO_LARGE` / `RECORD_LIST_TOO_LARGE`: split the batch, or fail a single record.
    TooLarge,
    Sequence(SequenceFault),
    /// Not sent: the connection was due for renewal before the request left; the batch goes to
    /// the new connection as if never dispatched.
    Renewed,
    /// Anything else; its code is its reason.
    Other,
}

/// Why one produce attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptError {
    /// Kafka's error name (`NOT_LEADER_OR_FOLLOWER`), or the Kafka name closest to a failure the
    /// client saw (`NETWORK_EXCEPTION` for a lost connection): stable, for per-error metrics.
    pub code: Cow<'static, str>,
    /// What happened, for the log.
    pub detail: String,
    pub kind: Kind,
    pub retriable: bool,
    /// The broker may have written the batch although the attempt failed.
    pub outcome_unknown: bool,
    pub refresh: Refresh,
}

impl fmt::Display for AttemptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.detail.is_empty() {
            f.write_str(&self.code)
        } else {
            write!(f, "{}: {}", self.code, self.detail)
        }
    }
}

impl AttemptError {
    fn new(code: impl Into<Cow<'static, str>>, detail: impl Into<String>, kind: Kind) -> Self {
        Self {
            code: code.into(),
            detail: detail.into(),
            kind,
            retriable: true,
            outcome_unknown: false,
            refresh: Refresh::Nothing,
        }
    }

    /// A broker error code in the partition's produce response (`DUPLICATE_SEQUENCE_NUMBER` is a
    /// success and never gets here).
    pub(crate) fn from_broker(error: ProtocolError) -> Self {
        use ProtocolError as E;
        let kind = match error {
            E::NotLeaderOrFollower
            | E::UnknownTopicOrPartition
            | E::LeaderNotAvailable
            | E::FencedLeaderEpoch
            | E::UnknownLeaderEpoch
            | E::ReplicaNotAvailable
            | E::BrokerNotAvailable
            | E::KafkaStorageError
            | E::NetworkException
            | E::RequestTimedOut
            | E::NotEnoughReplicas
            | E::NotEnoughReplicasAfterAppend => Kind::Unavailable,
            E::MessageTooLarge | E::RecordListTooLarge => Kind::TooLarge,
            E::OutOfOrderSequenceNumber => Kind::Sequence(SequenceFault::OutOfOrder),
            E::UnknownProducerId => Kind::Sequence(SequenceFault::UnknownProducer),
            E::InvalidProducerEpoch => Kind::Sequence(SequenceFault::InvalidEpoch),
            _ => Kind::Other,
        };
        let class = classify(error);
        let refresh = match (error, class.refresh_metadata) {
            (E::NetworkException, _) => Refresh::Connection,
            (_, true) => Refresh::Metadata,
            (_, false) => Refresh::Nothing,
        };
        Self {
            retriable: class.retriable,
            outcome_unknown: class.outcome_unknown,
            refresh,
            ..Self::new(protocol_error_name(error), "", kind)
        }
    }

    /// The request could not be completed on the connection. Whether it reached the broker is
    /// unknown unless it could not even be written.
    pub fn from_request(error: &RequestError) -> Self {
        match error {
            // Our own encoding problems: the request never left and never will.
            RequestError::NoVersionMatch { .. }
            | RequestError::WriteError(_)
            | RequestError::WriteMessageError(_) => Self {
                retriable: false,
                ..Self::new("REQUEST_NOT_SENT", error.to_string(), Kind::Other)
            },
            // A broken socket or a garbled answer: the request may have been processed.
            _ => Self {
                outcome_unknown: true,
                refresh: Refresh::Connection,
                ..Self::new(
                    "NETWORK_EXCEPTION",
                    format!("connection lost: {error}"),
                    Kind::Unavailable,
                )
            },
        }
    }

    /// The connection went away before the answer came; the request may have been written.
    pub fn lost(detail: impl Into<String>) -> Self {
        Self {
            outcome_unknown: true,
            refresh: Refresh::Connection,
            ..Self::new("NETWORK_EXCEPTION", detail, Kind::Unavailable)
        }
    }

    /// The batch's connection is due for renewal (its SASL session nears its end) and the batch
    /// was not sent on it.
    pub fn renewed() -> Self {
        Self::new(
            "CONNECTION_RENEWED",
            "not sent: the connection was due for renewal",
            Kind::Renewed,
        )
    }

    /// The batch's delivery timeout passed while its request was in flight. The request goes on
    /// (the connection is fine, other partitions' batches ride in it); its answer for this batch no
    /// longer matters, and whether the broker wrote it is unknown.
    pub(crate) fn expired_in_flight() -> Self {
        Self {
            outcome_unknown: true,
            ..Self::new(
                "REQUEST_TIMED_OUT",
                "the delivery timeout passed while the request was in flight",
                Kind::Unavailable,
            )
        }
    }

    /// No answer in time; the request may have been written.
    pub(crate) fn timed_out() -> Self {
        Self {
            outcome_unknown: true,
            refresh: Refresh::Connection,
            ..Self::new(
                "REQUEST_TIMED_OUT",
                "no response from the broker in time",
                Kind::Unavailable,
            )
        }
    }

    /// The leader could not be reached: nothing was sent. Rejected credentials or certificates
    /// (an API key revoked during the run) are not retried.
    pub(crate) fn unreachable(
        broker: &str,
        error: OpenError,
        sasl_mechanism: Option<&str>,
    ) -> Self {
        if error.is_permanent() {
            return Self {
                retriable: false,
                ..Self::new(
                    "CONNECTION_REFUSED",
                    KafkaError::from_open(broker, error, sasl_mechanism).to_string(),
                    Kind::Other,
                )
            };
        }
        Self {
            refresh: Refresh::Connection,
            ..Self::new(
                "BROKER_NOT_AVAILABLE",
                format!("cannot connect to {broker}: {error}"),
                Kind::Unavailable,
            )
        }
    }

    /// Metadata could not be read or names no leader: nothing was sent.
    pub fn no_leader(detail: impl Into<String>) -> Self {
        Self {
            refresh: Refresh::Metadata,
            ..Self::new("LEADER_NOT_AVAILABLE", detail, Kind::Unavailable)
        }
    }

    /// The cluster's metadata does not list the topic. Retried until the delivery timeout (a
    /// broker may lag behind the controller); then fatal.
    pub(crate) fn topic_missing(topic: &str) -> Self {
        Self {
            refresh: Refresh::Metadata,
            ..Self::new(
                "UNKNOWN_TOPIC_OR_PARTITION",
                format!("topic {topic:?} is not in the cluster's metadata"),
                Kind::TopicMissing,
            )
        }
    }

    /// A broker error named in the topic's metadata.
    pub(crate) fn from_metadata(error: ProtocolError) -> Self {
        Self {
            refresh: Refresh::Metadata,
            ..Self::from_broker(error)
        }
    }

    /// A response that does not describe our partition (a broker bug): give up on the batch.
    pub(crate) fn invalid_response(detail: impl Into<String>) -> Self {
        Self {
            retriable: false,
            outcome_unknown: true,
            ..Self::new("INVALID_RESPONSE", detail, Kind::Other)
        }
    }

    /// How the cause reads inside a `delivery_timeout (…)` reason.
    pub fn cause(&self) -> Cause {
        match self.kind {
            Kind::Unavailable | Kind::Renewed => Cause::Unavailable,
            Kind::TopicMissing => Cause::TopicMissing,
            Kind::TooLarge | Kind::Sequence(_) | Kind::Other => Cause::Code(self.code.clone()),
        }
    }

    /// The one line that ends the run after this non-retriable error on `topic`.
    pub(crate) fn fatal_message(&self, topic: &str) -> String {
        match (self.kind, &*self.code) {
            (_, "TOPIC_AUTHORIZATION_FAILED") => format!(
                "the Kafka API key may not write to topic {topic:?} (TOPIC_AUTHORIZATION_FAILED): \
                 grant it WRITE on the topic"
            ),
            (_, "CLUSTER_AUTHORIZATION_FAILED") => format!(
                "the Kafka API key may not produce idempotently to topic {topic:?} \
                 (CLUSTER_AUTHORIZATION_FAILED): grant it IdempotentWrite on the cluster, or pass \
                 --enable-idempotence false"
            ),
            (Kind::TooLarge, _) => format!(
                "a single record is larger than topic {topic:?} accepts ({}): raise the topic's \
                 max.message.bytes",
                self.code
            ),
            (_, "CONNECTION_REFUSED") => self.detail.clone(),
            _ => format!(
                "Kafka answered {} for topic {topic:?}{}, which no retry can fix",
                self.code,
                if self.detail.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", self.detail)
                }
            ),
        }
    }
}

/// Why records waited in vain, as it reads in a `delivery_timeout (…)` failure reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    Unavailable,
    TopicMissing,
    /// Queued behind earlier requests of the partition, none of which failed.
    Waiting,
    /// A Kafka error name.
    Code(Cow<'static, str>),
}

impl Cause {
    /// The failure reason of records whose delivery timeout passed while this held them up.
    pub(crate) fn timeout_reason(&self) -> String {
        let cause: &str = match self {
            Self::Unavailable => "partition unavailable",
            Self::TopicMissing => "topic does not exist",
            Self::Waiting => "queued behind earlier requests",
            Self::Code(code) => code,
        };
        format!("delivery_timeout ({cause})")
    }

    /// Whether a longer `--delivery-timeout` could have saved the records.
    pub(crate) fn retry_could_help(&self) -> bool {
        !matches!(self, Self::TopicMissing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leader_changes_are_retried_with_fresh_metadata() {
        let e = AttemptError::from_broker(ProtocolError::NotLeaderOrFollower);
        assert!(e.retriable && !e.outcome_unknown);
        assert_eq!(e.refresh, Refresh::Metadata);
        assert_eq!(e.kind, Kind::Unavailable);
    }

    #[test]
    fn appended_but_unreplicated_batches_may_duplicate() {
        for error in [
            ProtocolError::RequestTimedOut,
            ProtocolError::NotEnoughReplicasAfterAppend,
        ] {
            let e = AttemptError::from_broker(error);
            assert!(e.retriable && e.outcome_unknown, "{e:?}");
        }
        let e = AttemptError::from_broker(ProtocolError::NotEnoughReplicas);
        assert!(e.retriable && !e.outcome_unknown);
    }

    #[test]
    fn permanent_broker_errors_fail_at_once() {
        for error in [
            ProtocolError::MessageTooLarge,
            ProtocolError::RecordListTooLarge,
            ProtocolError::TopicAuthorizationFailed,
            ProtocolError::ClusterAuthorizationFailed,
            ProtocolError::InvalidRecord,
            ProtocolError::UnknownServerError,
            ProtocolError::ProducerFenced,
        ] {
            assert!(!AttemptError::from_broker(error).retriable, "{error:?}");
        }
    }

    #[test]
    fn sequence_errors_are_retried_for_the_sender_to_resolve() {
        for (error, fault) in [
            (
                ProtocolError::OutOfOrderSequenceNumber,
                SequenceFault::OutOfOrder,
            ),
            (
                ProtocolError::UnknownProducerId,
                SequenceFault::UnknownProducer,
            ),
            (
                ProtocolError::InvalidProducerEpoch,
                SequenceFault::InvalidEpoch,
            ),
        ] {
            let e = AttemptError::from_broker(error);
            assert!(e.retriable && !e.outcome_unknown, "{e:?}");
            assert_eq!(e.kind, Kind::Sequence(fault));
        }
    }

    #[test]
    fn a_lost_connection_is_retried_with_unknown_outcome() {
        let io = RequestError::IO(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        let e = AttemptError::from_request(&io);
        assert!(e.retriable && e.outcome_unknown);
        assert_eq!(e.refresh, Refresh::Connection);
        assert_eq!(e.code, "NETWORK_EXCEPTION");
    }

    #[test]
    fn one_outage_reads_as_one_cause() {
        let io = RequestError::IO(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        let outage = [
            AttemptError::from_request(&io),
            AttemptError::timed_out(),
            AttemptError::no_leader("partition 3 has no leader"),
            AttemptError::from_broker(ProtocolError::NotLeaderOrFollower),
            AttemptError::from_broker(ProtocolError::NotEnoughReplicas),
            AttemptError::unreachable(
                "127.0.0.1:9092",
                OpenError::Tcp(std::io::ErrorKind::ConnectionRefused.into()),
                None,
            ),
        ];
        for error in &outage {
            assert_eq!(
                error.cause().timeout_reason(),
                "delivery_timeout (partition unavailable)",
                "{error:?}"
            );
            assert!(error.cause().retry_could_help());
        }
        let missing = AttemptError::topic_missing("shoes").cause();
        assert_eq!(
            missing.timeout_reason(),
            "delivery_timeout (topic does not exist)"
        );
        assert!(!missing.retry_could_help());
        assert_eq!(
            Cause::Waiting.timeout_reason(),
            "delivery_timeout (queued behind earlier requests)"
        );
    }

    #[test]
    fn fatal_messages_say_what_to_do() {
        let denied = AttemptError::from_broker(ProtocolError::TopicAuthorizationFailed);
        let message = denied.fatal_message("shoes");
        assert!(message.contains("WRITE on the topic"), "{message}");
        let too_large = AttemptError::from_broker(ProtocolError::MessageTooLarge);
        assert!(too_large
            .fatal_message("shoes")
            .contains("max.message.bytes"));
        let idempotence = AttemptError::from_broker(ProtocolError::ClusterAuthorizationFailed);
        assert!(idempotence
            .fatal_message("shoes")
            .contains("--enable-idempotence false"));
    }
}
