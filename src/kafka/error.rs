//! Why talking to Kafka failed, as one line that names the setting to check and what to do next.
//!
//! Every message is written for the person running the producer, not for a Kafka developer: the
//! environment variable (and flag) behind the failing value is named, and secrets never appear.

use std::time::Duration;

use rskafka::{client::error::ProtocolError, messenger::SaslError};

use super::connection::OpenError;
use crate::support::tls::TlsConfigError;

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

    #[error("SASL authentication with Kafka broker {broker} failed: {reason}")]
    Sasl { broker: String, reason: String },

    #[error(
        "the TLS certificate of Kafka broker {broker} is not trusted ({reason}): set \
         KAFKA_SSL_CA_LOCATION (--kafka-ca-file) to the PEM file of the CA that signed it"
    )]
    UntrustedCertificate { broker: String, reason: String },

    #[error(
        "TLS handshake with Kafka broker {broker} failed ({reason}): check KAFKA_SECURITY_PROTOCOL \
         (--security-protocol) and KAFKA_SSL_CA_LOCATION (--kafka-ca-file)"
    )]
    TlsHandshake { broker: String, reason: String },

    #[error(
        "cannot reach Kafka at {bootstrap} (BOOTSTRAP_SERVERS) within {waited:?}: {cause}; check the \
         address, the network and KAFKA_SECURITY_PROTOCOL (--security-protocol)"
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

impl KafkaError {
    /// Turns a failed connection attempt to `broker` into the message the user sees.
    pub fn from_open(broker: &str, error: OpenError, mechanism: Option<&str>) -> Self {
        let broker = broker.to_owned();
        let mechanism = mechanism.unwrap_or("?").to_owned();
        if let Some(cause) = error.tls_cause() {
            let reason = cause.to_string();
            return match cause {
                rustls::Error::InvalidCertificate(_) => {
                    Self::UntrustedCertificate { broker, reason }
                }
                _ => Self::TlsHandshake { broker, reason },
            };
        }
        match error {
            OpenError::BadAddress(address) => Self::BadBootstrap(address),
            OpenError::Sasl(SaslError::ApiError(ProtocolError::SaslAuthenticationFailed)) => {
                Self::AuthenticationFailed { broker, mechanism }
            }
            OpenError::Sasl(
                SaslError::UnsupportedSaslMechanism
                | SaslError::ApiError(ProtocolError::UnsupportedSaslMechanism),
            ) => Self::MechanismNotEnabled { broker, mechanism },
            OpenError::Sasl(e) => Self::Sasl {
                broker,
                reason: e.to_string(),
            },
            other => Self::Request {
                broker,
                reason: other.to_string(),
            },
        }
    }
}
