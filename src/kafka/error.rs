//! Why talking to Kafka failed, as one line that names the setting to check and what to do next.
//!
//! Every message is written for the person running the producer, not for a Kafka developer: the
//! environment variable (and flag) behind the failing value is named, the broker's error appears by
//! its documented name (`POLICY_VIOLATION`) with its own message, and neither secrets nor Rust debug
//! text of rskafka's types ever reach the user.

use std::time::Duration;

use rskafka::{
    client::error::{Error as ClientError, ProtocolError},
    messenger::SaslError,
};

use super::{
    cluster::AnyBrokerError,
    codes::protocol_error_name,
    connection::{Connector, NotKafka, OpenError},
};
use crate::support::{
    backoff::{Attempt, GaveUp},
    tls::{TlsConfigError, TlsContext, TlsFailure},
};

impl AnyBrokerError {
    /// This failure as one attempt of a retried call: a permanent refusal ends it, anything else
    /// is tried again. `mechanism` names the SASL mechanism in a refusal's message.
    pub(crate) fn into_attempt<T>(self, mechanism: Option<&str>) -> Attempt<T, KafkaError> {
        match self {
            Self::Permanent { address, error } => {
                Attempt::Fatal(KafkaError::from_open(&address, error, mechanism))
            }
            Self::Unavailable(cause) => Attempt::Retry(cause),
        }
    }
}

const PROTOCOL: &str = "KAFKA_SECURITY_PROTOCOL (--security-protocol)";

/// A failure to connect to Kafka or to read or change cluster metadata.
#[derive(Debug, thiserror::Error)]
pub enum KafkaError {
    #[error("cannot use KAFKA_SSL_CA_LOCATION (--kafka-ca-file): {0}")]
    TlsSetup(#[source] TlsConfigError),

    #[error("BOOTSTRAP_SERVERS (--bootstrap-servers) entry {0:?} is not a valid host:port")]
    BadBootstrap(String),

    #[error(
        "Kafka rejected the credentials (SASL {mechanism}) at {broker}: check KAFKA_API_KEY and \
         KAFKA_API_SECRET (--kafka-api-key/--kafka-api-secret)"
    )]
    AuthenticationFailed { broker: String, mechanism: String },

    #[error(
        "Kafka broker {broker} does not accept SASL mechanism {mechanism}: set KAFKA_SASL_MECHANISM \
         (--sasl-mechanism) to one the cluster enables"
    )]
    MechanismNotEnabled { broker: String, mechanism: String },

    #[error(
        "Kafka broker {broker} does not use SASL on this port (ILLEGAL_SASL_STATE): set \
         {PROTOCOL} to PLAINTEXT (or SSL), or use the port of its SASL listener"
    )]
    SaslNotEnabled { broker: String },

    #[error(
        "Kafka broker {broker} expects SASL authentication on this port (it closed the connection \
         on a request without it): set {PROTOCOL} to SASL_SSL (or SASL_PLAINTEXT), with \
         KAFKA_API_KEY and KAFKA_API_SECRET"
    )]
    SaslExpected { broker: String },

    #[error("SASL authentication with Kafka broker {broker} failed: {reason}")]
    Sasl { broker: String, reason: String },

    #[error("{}", failure.explain(&tls_context(&format!("Kafka broker {broker}"))))]
    Tls { broker: String, failure: TlsFailure },

    #[error(
        "Kafka broker {broker} answers plaintext Kafka, not TLS: is this a plaintext port? set \
         {PROTOCOL} to PLAINTEXT (or SASL_PLAINTEXT)"
    )]
    PlaintextPort { broker: String },

    #[error(
        "Kafka broker {broker} answered a plaintext request in TLS ({detail}): is this a TLS port? \
         set {PROTOCOL} to SASL_SSL (or SSL)"
    )]
    TlsPort { broker: String, detail: String },

    #[error(
        "{broker} does not answer like a Kafka broker ({detail}): check BOOTSTRAP_SERVERS \
         (--bootstrap-servers) and {PROTOCOL}"
    )]
    NotKafka { broker: String, detail: String },

    #[error(
        "cannot reach Kafka at {bootstrap} (BOOTSTRAP_SERVERS) within {}: {cause}; check the \
         address, the network and {PROTOCOL}", humantime::format_duration(*waited)
    )]
    Unreachable {
        bootstrap: String,
        waited: Duration,
        cause: String,
    },

    #[error(
        "topic {topic:?} does not exist (auto-creation is off on Confluent Cloud): create it, or pass \
         --create-topic"
    )]
    TopicMissing { topic: String },

    #[error(
        "the Kafka API key may not use topic {topic:?} (TOPIC_AUTHORIZATION_FAILED): grant it DESCRIBE \
         and WRITE on the topic"
    )]
    TopicAuthorization { topic: String },

    #[error("cannot read metadata of topic {topic:?}: {reason}")]
    TopicMetadata { topic: String, reason: String },

    #[error("cannot create topic {topic:?}: {reason}")]
    CreateTopic { topic: String, reason: String },

    #[error("request to Kafka broker {broker} failed: {reason}")]
    Request { broker: String, reason: String },

    #[error(
        "Kafka refused a producer id (CLUSTER_AUTHORIZATION_FAILED): grant the API key IdempotentWrite \
         on the cluster (or WRITE on the topic), or pass --enable-idempotence false"
    )]
    IdempotenceUnauthorized,

    #[error(
        "Kafka cannot give this producer a producer id ({reason}): pass --enable-idempotence false \
         to produce without idempotence"
    )]
    IdempotenceRefused { reason: String },
}

/// The settings a Kafka TLS message points at.
fn tls_context(peer: &str) -> TlsContext<'_> {
    TlsContext {
        peer,
        address_setting: "BOOTSTRAP_SERVERS (--bootstrap-servers)",
        ca_setting: "KAFKA_SSL_CA_LOCATION (--kafka-ca-file)",
        plaintext_hint: "is this a plaintext port? set KAFKA_SECURITY_PROTOCOL \
                         (--security-protocol) to PLAINTEXT (or SASL_PLAINTEXT)",
    }
}

impl KafkaError {
    /// No bootstrap server of `connector` answered within `waited`; `cause` is the last attempt's.
    pub(crate) fn unreachable(connector: &Connector, waited: Duration, cause: String) -> Self {
        Self::Unreachable {
            bootstrap: connector.bootstrap().join(","),
            waited,
            cause,
        }
    }

    /// A call retried until `waited` ran out (`support::backoff::retry_until`): its permanent error, or the cluster
    /// unreachable with the last cause, named by `what` when given.
    pub(crate) fn from_gave_up(
        gave_up: GaveUp<KafkaError>,
        connector: &Connector,
        waited: Duration,
        what: Option<&str>,
    ) -> Self {
        match gave_up {
            GaveUp::Fatal(error) => error,
            GaveUp::Deadline(cause) => match what {
                Some(what) => Self::unreachable(connector, waited, format!("{what}: {cause}")),
                None => Self::unreachable(connector, waited, cause),
            },
        }
    }

    /// Turns a failed connection attempt to `broker` into the message the user sees.
    pub fn from_open(broker: &str, error: OpenError, mechanism: Option<&str>) -> Self {
        let broker = broker.to_owned();
        let mechanism = mechanism.unwrap_or("?").to_owned();
        match error {
            OpenError::BadAddress(address) => Self::BadBootstrap(address),
            OpenError::Tls {
                failure: Some(failure),
                ..
            } => Self::Tls { broker, failure },
            OpenError::PlaintextPort => Self::PlaintextPort { broker },
            OpenError::NotKafka(NotKafka::Tls(first)) => Self::TlsPort {
                broker,
                detail: first.to_string(),
            },
            OpenError::NotKafka(NotKafka::Garbage(first)) => Self::NotKafka {
                broker,
                detail: first.to_string(),
            },
            OpenError::SaslExpected => Self::SaslExpected { broker },
            OpenError::Sasl(SaslError::ApiError(ProtocolError::SaslAuthenticationFailed)) => {
                Self::AuthenticationFailed { broker, mechanism }
            }
            OpenError::Sasl(
                SaslError::UnsupportedSaslMechanism
                | SaslError::ApiError(ProtocolError::UnsupportedSaslMechanism),
            ) => Self::MechanismNotEnabled { broker, mechanism },
            OpenError::Sasl(SaslError::ApiError(ProtocolError::IllegalSaslState)) => {
                Self::SaslNotEnabled { broker }
            }
            error @ OpenError::Sasl(_) => Self::Sasl {
                broker,
                reason: sasl_reason(&error),
            },
            other => Self::Request {
                broker,
                reason: other.to_string(),
            },
        }
    }

    /// Why the controller did not create `topic`: the broker's error by name with its message, and
    /// the setting that fixes it. `brokers` is the cluster's size when known (for a replication
    /// factor it cannot hold).
    pub(crate) fn topic_not_created(
        topic: &str,
        error: &ClientError,
        brokers: Option<usize>,
    ) -> Self {
        let reason = match server_error(error) {
            Some((code, message)) => {
                let said = broker_said(code, message);
                let advice = match code {
                    ProtocolError::InvalidReplicationFactor => Some(match brokers {
                        Some(n) => format!(
                            "the cluster has {n} broker(s): pass --replication-factor {n} or less"
                        ),
                        None => "pass a smaller --replication-factor".to_owned(),
                    }),
                    ProtocolError::InvalidPartitions => {
                        Some("pass --partitions 1 or more".to_owned())
                    }
                    ProtocolError::PolicyViolation => Some(
                        "the cluster's topic policy forbids it: create the topic as the policy \
                         allows, or ask the cluster's administrator"
                            .to_owned(),
                    ),
                    ProtocolError::TopicAuthorizationFailed => Some(
                        "the Kafka API key needs the CREATE permission on the topic (an ACL on \
                         the topic name or a prefix of it); or create the topic yourself and run \
                         without --create-topic"
                            .to_owned(),
                    ),
                    ProtocolError::ClusterAuthorizationFailed => Some(
                        "the Kafka API key needs the CREATE permission on the cluster (an ACL on \
                         resource CLUSTER); or create the topic yourself and run without \
                         --create-topic"
                            .to_owned(),
                    ),
                    ProtocolError::InvalidTopicException => {
                        Some("choose another --topic".to_owned())
                    }
                    _ => None,
                };
                match advice {
                    Some(advice) => format!("{said}; {advice}"),
                    None => said,
                }
            }
            None => describe_client_error(error),
        };
        Self::CreateTopic {
            topic: topic.to_owned(),
            reason,
        }
    }
}

/// `NAME: the broker's message` (or the name alone when the broker sent no message).
fn broker_said(code: ProtocolError, message: Option<&str>) -> String {
    let name = protocol_error_name(code);
    // The advice follows after a semicolon: drop the message's own final period.
    match message
        .map(|m| m.trim().trim_end_matches('.'))
        .filter(|m| !m.is_empty())
    {
        Some(message) => format!("{name}: {message}"),
        None => name,
    }
}

/// The broker error behind an rskafka client error, through its retry wrapper.
fn server_error(error: &ClientError) -> Option<(ProtocolError, Option<&str>)> {
    match error {
        ClientError::ServerError {
            protocol_error,
            error_message,
            ..
        } => Some((*protocol_error, error_message.as_deref())),
        ClientError::RetryFailed(rskafka::BackoffError::DeadlineExceded { source, .. }) => {
            source.downcast_ref::<ClientError>().and_then(server_error)
        }
        _ => None,
    }
}

/// An rskafka client error in words: the broker's error by name, never Rust debug text.
fn describe_client_error(error: &ClientError) -> String {
    match error {
        ClientError::ServerError {
            protocol_error,
            error_message,
            ..
        } => broker_said(*protocol_error, error_message.as_deref()),
        ClientError::RetryFailed(rskafka::BackoffError::DeadlineExceded { deadline, source }) => {
            let last = match source.downcast_ref::<ClientError>() {
                Some(inner) => describe_client_error(inner),
                None => source.to_string(),
            };
            format!(
                "gave up after {} of retries; last error: {last}",
                humantime::format_duration(*deadline)
            )
        }
        ClientError::Timeout => "the broker did not answer in time".to_owned(),
        // These render their causes with Display only.
        ClientError::Connection(e) => e.to_string(),
        ClientError::Request(e) => e.to_string(),
        ClientError::InvalidResponse(e) => format!("invalid response: {e}"),
        other => other.to_string(),
    }
}

/// The reason of a SASL failure we have no specific message for.
fn sasl_reason(error: &OpenError) -> String {
    let text = error.to_string();
    text.strip_prefix("SASL authentication failed: ")
        .unwrap_or(&text)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rskafka::client::error::RequestContext;

    fn refused(code: ProtocolError, message: Option<&str>) -> ClientError {
        ClientError::ServerError {
            protocol_error: code,
            error_message: message.map(str::to_owned),
            request: RequestContext::Topic("shoes".into()),
            response: None,
            is_virtual: false,
        }
    }

    #[test]
    fn a_refused_topic_names_the_broker_error_and_the_fix_without_debug_text() {
        let error = refused(
            ProtocolError::InvalidReplicationFactor,
            Some("Unable to replicate the partition 3 time(s): only 1 broker(s) are registered."),
        );
        let line = KafkaError::topic_not_created("shoes", &error, Some(1)).to_string();
        assert_eq!(
            line,
            "cannot create topic \"shoes\": INVALID_REPLICATION_FACTOR: Unable to replicate the \
             partition 3 time(s): only 1 broker(s) are registered; the cluster has 1 broker(s): \
             pass --replication-factor 1 or less"
        );
        for (code, needle) in [
            (ProtocolError::PolicyViolation, "POLICY_VIOLATION"),
            (
                ProtocolError::TopicAuthorizationFailed,
                "CREATE permission on the topic",
            ),
            (
                ProtocolError::ClusterAuthorizationFailed,
                "CREATE permission on the cluster",
            ),
            (ProtocolError::InvalidPartitions, "--partitions"),
        ] {
            let line =
                KafkaError::topic_not_created("shoes", &refused(code, None), None).to_string();
            assert!(line.contains(needle), "{line}");
            for debug in [
                "ServerError",
                "Topic(",
                "is_virtual",
                "virtual:",
                "request:",
            ] {
                assert!(!line.contains(debug), "debug text {debug:?} in {line}");
            }
        }
    }

    #[test]
    fn a_refusal_after_retries_still_shows_the_broker_error() {
        let error = ClientError::RetryFailed(rskafka::BackoffError::DeadlineExceded {
            deadline: Duration::from_secs(10),
            source: Box::new(refused(ProtocolError::PolicyViolation, Some("no"))),
        });
        let line = KafkaError::topic_not_created("shoes", &error, None).to_string();
        assert!(
            line.contains("POLICY_VIOLATION: no; the cluster's topic policy"),
            "{line}"
        );
    }

    #[test]
    fn error_names_follow_kafkas_spelling() {
        assert_eq!(
            protocol_error_name(ProtocolError::NotLeaderOrFollower),
            "NOT_LEADER_OR_FOLLOWER"
        );
        assert_eq!(
            protocol_error_name(ProtocolError::Unknown(999)),
            "UNKNOWN_ERROR_CODE_999"
        );
    }

    #[test]
    fn unreachable_prints_the_configured_wait_in_whole_units() {
        let error = KafkaError::Unreachable {
            bootstrap: "127.0.0.1:1".into(),
            waited: Duration::from_secs(10),
            cause: "connection refused".into(),
        };
        assert!(error.to_string().contains("within 10s:"), "{error}");
    }
}
