//! Kafka's error codes in one table: the documented name (`NOT_LEADER_OR_FOLLOWER`) as messages,
//! logs and per-error metrics show it, and what a client does about each — retry, read metadata
//! again, count the request's outcome as unknown, or give up — as franz-go's `kerr` keeps them and
//! the Java client's exception classes encode them. Every part of the client that meets a broker
//! error code asks this table rather than keeping its own list.

use rskafka::client::error::ProtocolError;

/// What a client does about one error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorClass {
    /// Asking again (later, or elsewhere) may succeed.
    pub retriable: bool,
    /// The partition's leader or the coordinator may have moved: read metadata again first.
    pub refresh_metadata: bool,
    /// For a produce request: the broker may have written the batch although it answered this.
    pub outcome_unknown: bool,
    /// No retry, split or bump can help: the run ends.
    pub fatal: bool,
}

const fn class(retriable: bool, refresh_metadata: bool, outcome_unknown: bool) -> ErrorClass {
    ErrorClass {
        retriable,
        refresh_metadata,
        outcome_unknown,
        fatal: !retriable,
    }
}

/// Retried as it is.
const RETRY: ErrorClass = class(true, false, false);
/// Retried after reading metadata again.
const RETRY_REFRESH: ErrorClass = class(true, true, false);
/// Retried; the broker may have written the batch.
const RETRY_UNKNOWN: ErrorClass = class(true, false, true);
/// Not retried: the run ends.
const FATAL: ErrorClass = class(false, false, false);
/// Not retried as it is, but not fatal either: the producer splits the batch (one record too large
/// is fatal for that record).
const TOO_LARGE: ErrorClass = ErrorClass {
    retriable: false,
    refresh_metadata: false,
    outcome_unknown: false,
    fatal: false,
};

/// The table: what a client does about `error`.
pub fn classify(error: ProtocolError) -> ErrorClass {
    use ProtocolError as E;
    match error {
        E::NotLeaderOrFollower
        | E::UnknownTopicOrPartition
        | E::LeaderNotAvailable
        | E::FencedLeaderEpoch
        | E::UnknownLeaderEpoch
        | E::KafkaStorageError
        | E::BrokerNotAvailable
        | E::ReplicaNotAvailable
        | E::NotCoordinator
        | E::CoordinatorNotAvailable => RETRY_REFRESH,
        E::NetworkException => ErrorClass {
            refresh_metadata: true,
            ..RETRY_UNKNOWN
        },
        E::RequestTimedOut | E::NotEnoughReplicasAfterAppend => RETRY_UNKNOWN,
        E::NotEnoughReplicas
        | E::CorruptMessage
        | E::ThrottlingQuotaExceeded
        | E::OffsetNotAvailable
        | E::CoordinatorLoadInProgress
        | E::ConcurrentTransactions
        // The idempotent producer resolves these itself (resend behind, or bump the epoch).
        | E::OutOfOrderSequenceNumber
        | E::UnknownProducerId
        | E::InvalidProducerEpoch
        | E::DuplicateSequenceNumber => RETRY,
        E::MessageTooLarge | E::RecordListTooLarge => TOO_LARGE,
        // Another producer took over this producer id (Java: fatal).
        E::ProducerFenced => FATAL,
        _ => FATAL,
    }
}

/// Kafka's documented name of a protocol error (`NOT_LEADER_OR_FOLLOWER`).
pub fn protocol_error_name(error: ProtocolError) -> String {
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
    fn the_table_agrees_with_the_java_clients_exception_classes() {
        use ProtocolError as E;
        assert_eq!(classify(E::NotLeaderOrFollower), RETRY_REFRESH);
        assert_eq!(classify(E::UnknownTopicOrPartition), RETRY_REFRESH);
        assert_eq!(classify(E::LeaderNotAvailable), RETRY_REFRESH);
        assert!(classify(E::RequestTimedOut).outcome_unknown);
        assert!(classify(E::NotEnoughReplicasAfterAppend).outcome_unknown);
        assert!(!classify(E::NotEnoughReplicas).outcome_unknown);
        assert!(classify(E::NetworkException).refresh_metadata);
        for fatal in [
            E::ProducerFenced,
            E::TopicAuthorizationFailed,
            E::ClusterAuthorizationFailed,
            E::InvalidRecord,
            E::UnknownServerError,
        ] {
            let class = classify(fatal);
            assert!(class.fatal && !class.retriable, "{fatal:?}");
        }
        let too_large = classify(E::MessageTooLarge);
        assert!(!too_large.retriable && !too_large.fatal);
    }
}
