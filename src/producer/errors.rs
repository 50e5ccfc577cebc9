//! What one produce attempt's failure means: retry or give up, refresh what, and whether the broker
//! may have written the batch anyway.
//!
//! The classification follows the Java client (its `RetriableException` subclasses are retried) so
//! a run behaves the way Kafka users expect. "Outcome unknown" marks the failures after which a
//! retry may write the records twice: the request left, and no answer came back, or the broker
//! answered after appending (`REQUEST_TIMED_OUT`, `NOT_ENOUGH_REPLICAS_AFTER_APPEND`). Records
//! acknowledged after such a retry are counted as possible duplicates.

use std::fmt;

use rskafka::{client::error::ProtocolError, messenger::RequestError};

use crate::kafka::OpenError;

/// What to forget before the next attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refresh {
    Nothing,
    /// The partition's leader may have moved: re-read metadata.
    Metadata,
    /// The connection is broken: drop it, and re-read metadata too.
    Connection,
}

/// Why one produce attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AttemptError {
    /// Kafka's error name (`NOT_LEADER_OR_FOLLOWER`) or a short description of a transport failure.
    pub reason: String,
    pub retriable: bool,
    /// The broker may have written the batch although the attempt failed.
    pub outcome_unknown: bool,
    pub refresh: Refresh,
}

impl fmt::Display for AttemptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl AttemptError {
    /// A broker error code in the partition's produce response.
    pub fn from_broker(error: ProtocolError) -> Self {
        use ProtocolError as E;
        let retriable = matches!(
            error,
            E::CorruptMessage
                | E::UnknownTopicOrPartition
                | E::LeaderNotAvailable
                | E::NotLeaderOrFollower
                | E::RequestTimedOut
                | E::NetworkException
                | E::NotEnoughReplicas
                | E::NotEnoughReplicasAfterAppend
                | E::KafkaStorageError
                | E::FencedLeaderEpoch
                | E::UnknownLeaderEpoch
                | E::ReplicaNotAvailable
                | E::BrokerNotAvailable
                | E::OffsetNotAvailable
                | E::ThrottlingQuotaExceeded
        );
        let outcome_unknown = matches!(
            error,
            E::RequestTimedOut | E::NotEnoughReplicasAfterAppend | E::NetworkException
        );
        let refresh = match error {
            E::NotLeaderOrFollower
            | E::UnknownTopicOrPartition
            | E::LeaderNotAvailable
            | E::FencedLeaderEpoch
            | E::UnknownLeaderEpoch
            | E::KafkaStorageError
            | E::BrokerNotAvailable
            | E::ReplicaNotAvailable => Refresh::Metadata,
            E::NetworkException => Refresh::Connection,
            _ => Refresh::Nothing,
        };
        Self {
            reason: kafka_error_name(error),
            retriable,
            outcome_unknown,
            refresh,
        }
    }

    /// The request could not be completed on the connection. Whether it reached the broker is
    /// unknown unless the connection was already known dead before writing.
    pub fn from_request(error: &RequestError) -> Self {
        let (retriable, outcome_unknown) = match error {
            // Our own encoding problems: the request never left and never will.
            RequestError::NoVersionMatch { .. }
            | RequestError::WriteError(_)
            | RequestError::WriteMessageError(_) => (false, false),
            // A broken socket or a garbled answer: the request may have been processed.
            _ => (true, true),
        };
        Self {
            reason: format!("connection lost: {error}"),
            retriable,
            outcome_unknown,
            refresh: Refresh::Connection,
        }
    }

    /// No answer in time; the request may have been written. The reason is one fixed string, not
    /// the measured wait: reasons key the per-reason failure counts in the summary and the metrics.
    pub fn timed_out() -> Self {
        Self {
            reason: "no response from the broker in time".into(),
            retriable: true,
            outcome_unknown: true,
            refresh: Refresh::Connection,
        }
    }

    /// The leader could not be reached: nothing was sent.
    pub fn unreachable(broker: &str, error: &OpenError) -> Self {
        Self {
            reason: format!("cannot connect to {broker}: {error}"),
            retriable: true,
            outcome_unknown: false,
            refresh: Refresh::Connection,
        }
    }

    /// Metadata could not be read or names no leader: nothing was sent.
    pub fn no_leader(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            retriable: true,
            outcome_unknown: false,
            refresh: Refresh::Metadata,
        }
    }

    /// A response that does not describe our partition (a broker bug): give up on the batch.
    pub fn invalid_response(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            retriable: false,
            outcome_unknown: true,
            refresh: Refresh::Nothing,
        }
    }
}

/// Kafka's documented error name (`NOT_LEADER_OR_FOLLOWER`) for a protocol error.
pub(crate) fn kafka_error_name(error: ProtocolError) -> String {
    if let ProtocolError::Unknown(code) = error {
        return format!("UNKNOWN_ERROR_CODE_{code}");
    }
    let camel = format!("{error:?}");
    let mut name = String::with_capacity(camel.len() + 8);
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            name.push('_');
        }
        name.push(c.to_ascii_uppercase());
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_names_follow_kafkas_spelling() {
        assert_eq!(
            kafka_error_name(ProtocolError::NotLeaderOrFollower),
            "NOT_LEADER_OR_FOLLOWER"
        );
        assert_eq!(
            kafka_error_name(ProtocolError::MessageTooLarge),
            "MESSAGE_TOO_LARGE"
        );
        assert_eq!(
            kafka_error_name(ProtocolError::TopicAuthorizationFailed),
            "TOPIC_AUTHORIZATION_FAILED"
        );
        assert_eq!(
            kafka_error_name(ProtocolError::Unknown(999)),
            "UNKNOWN_ERROR_CODE_999"
        );
    }

    #[test]
    fn leader_changes_are_retried_with_fresh_metadata() {
        let e = AttemptError::from_broker(ProtocolError::NotLeaderOrFollower);
        assert!(e.retriable && !e.outcome_unknown);
        assert_eq!(e.refresh, Refresh::Metadata);
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
            ProtocolError::InvalidRecord,
            ProtocolError::UnknownServerError,
        ] {
            assert!(!AttemptError::from_broker(error).retriable, "{error:?}");
        }
    }

    #[test]
    fn a_lost_connection_is_retried_with_unknown_outcome() {
        let io = RequestError::IO(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        let e = AttemptError::from_request(&io);
        assert!(e.retriable && e.outcome_unknown);
        assert_eq!(e.refresh, Refresh::Connection);
    }
}
