//! Connecting to the local stack's SASL_SSL listener: success, and each failure a user can cause
//! (wrong password, unknown CA, unreachable address, missing topic) ends fast with the setting to fix.

use crate::support::engine as engine_support;

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use engine_support::kafka_settings;
use shoe_producer::{
    app::settings::BootstrapServers,
    kafka::{self, KafkaError},
    support::secret::Secret,
};

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn connects_and_describes_the_cluster() {
    let kafka = kafka::connect(&kafka_settings()).await.expect("connect");
    let cluster = kafka.cluster_info().await.unwrap();
    assert!(!cluster.brokers.is_empty());
    let bootstrap = kafka_settings().bootstrap_servers[0].clone();
    assert!(
        cluster.brokers.iter().any(|b| b.address() == bootstrap),
        "{cluster:?} does not advertise {bootstrap}"
    );
    assert_eq!(
        kafka
            .partition_count(&engine_support::env("KAFKA_TOPIC"))
            .await
            .unwrap(),
        6
    );
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn a_wrong_password_fails_at_once_without_leaking_it() {
    let secret = "wrong-Secret-7f3a9c-distinctive";
    let mut settings = kafka_settings();
    settings.api_secret = Some(Secret::new(secret));
    settings.connect_timeout = Duration::from_secs(60);
    let started = Instant::now();
    let error = kafka::connect(&settings).await.expect_err("wrong password");
    let waited = started.elapsed();
    assert!(
        matches!(error, KafkaError::AuthenticationFailed { .. }),
        "{error:?}"
    );
    assert!(
        waited < Duration::from_secs(15),
        "took {waited:?}: no retry loop on a rejected password"
    );
    let message = error.to_string();
    assert!(message.contains("KAFKA_API_SECRET"), "{message}");
    assert!(!message.contains(secret) && !format!("{error:?}").contains(secret));
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn an_unknown_ca_names_kafka_ssl_ca_location() {
    let mut settings = kafka_settings();
    settings.ca_file = None; // only the bundled public roots: the stack's private CA is unknown
    let started = Instant::now();
    let error = kafka::connect(&settings)
        .await
        .expect_err("untrusted certificate");
    assert!(started.elapsed() < Duration::from_secs(15));
    assert!(
        matches!(error, KafkaError::UntrustedCertificate { .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("KAFKA_SSL_CA_LOCATION"),
        "{error}"
    );
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn a_ca_file_that_does_not_exist_names_the_setting() {
    let mut settings = kafka_settings();
    settings.ca_file = Some(PathBuf::from("/nonexistent/kafka-ca.pem"));
    let error = kafka::connect(&settings).await.expect_err("missing file");
    let message = error.to_string();
    assert!(
        message.contains("KAFKA_SSL_CA_LOCATION") && message.contains("/nonexistent/kafka-ca.pem"),
        "{message}"
    );
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn an_unreachable_cluster_is_retried_until_the_connect_timeout() {
    let mut settings = kafka_settings();
    // A port nothing listens on (connection refused at once, retried with backoff).
    settings.bootstrap_servers = BootstrapServers::parse("127.0.0.1:1").unwrap();
    settings.connect_timeout = Duration::from_secs(2);
    let started = Instant::now();
    let error = kafka::connect(&settings)
        .await
        .expect_err("nothing listens");
    let waited = started.elapsed();
    assert!(matches!(error, KafkaError::Unreachable { .. }), "{error:?}");
    assert!(
        waited >= Duration::from_secs(1) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("127.0.0.1:1") && message.contains("BOOTSTRAP_SERVERS"),
        "{message}"
    );
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn a_missing_topic_is_reported_as_such() {
    let kafka = kafka::connect(&kafka_settings()).await.unwrap();
    let topic = engine_support::unique_topic("no-such-topic");
    let error = kafka.partition_count(&topic).await.expect_err("missing");
    assert!(
        matches!(error, KafkaError::TopicMissing { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("--create-topic"));
    // Asking did not create it.
    let again = kafka.partition_count(&topic).await;
    assert!(
        matches!(again, Err(KafkaError::TopicMissing { .. })),
        "{again:?}"
    );
}
