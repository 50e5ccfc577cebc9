//! Proves the local stack is real and that the libraries we build on can talk to it exactly as they
//! will talk to Confluent Cloud: rskafka over SASL_SSL/PLAIN (and SCRAM-SHA-256/512, which the stack
//! enables for the same key and secret) with the stack's CA, and reqwest + rustls
//! over HTTPS with Basic auth to the registry's Confluent API. These use the crates directly (here and
//! through `tests/support`, which does too), not our modules, so a failure here points at the stack
//! or the dependency, not at our code.

use crate::support;

use std::{path::Path, time::Duration};

use rskafka::{
    client::{
        partition::{Compression, UnknownTopicHandling},
        ClientBuilder, Credentials, SaslConfig,
    },
    record::Record,
};
use support::{
    registry_get_json, registry_http_client, registry_request, sasl_ssl_client, stack_env,
    stack_tls_config, unique_name,
};

/// How long rskafka keeps retrying a connection before it reports the error.
const CONNECT_DEADLINE: Duration = Duration::from_secs(5);

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn rskafka_produces_and_reads_back_over_sasl_ssl() {
    let ca = stack_env("KAFKA_SSL_CA_LOCATION");
    let client = sasl_ssl_client(
        &stack_env("KAFKA_API_SECRET"),
        Some(Path::new(&ca)),
        CONNECT_DEADLINE,
    )
    .await
    .expect("SASL_SSL connection with the stack's CA and credentials");

    let topic = unique_name("stack-smoke");
    client
        .controller_client()
        .unwrap()
        .create_topic(&topic, 1, 1, 10_000)
        .await
        .expect("create topic");
    let partition = client
        .partition_client(&topic, 0, UnknownTopicHandling::Retry)
        .await
        .unwrap();

    let records: Vec<Record> = (0..5)
        .map(|i| Record {
            key: Some(format!("key-{i}").into_bytes()),
            value: Some(format!("value-{i}").into_bytes()),
            headers: Default::default(),
            timestamp: rskafka::chrono::Utc::now(),
        })
        .collect();
    let offsets = partition
        .produce(records, Compression::NoCompression)
        .await
        .unwrap();
    assert_eq!(offsets, vec![0, 1, 2, 3, 4]);

    let (fetched, high_watermark) = partition
        .fetch_records(0, 1..1_000_000, 1_000)
        .await
        .unwrap();
    assert_eq!(high_watermark, 5);
    let values: Vec<String> = fetched
        .into_iter()
        .map(|r| String::from_utf8(r.record.value.unwrap()).unwrap())
        .collect();
    assert_eq!(
        values,
        ["value-0", "value-1", "value-2", "value-3", "value-4"]
    );
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn wrong_kafka_password_is_an_authentication_error_not_a_hang() {
    let ca = stack_env("KAFKA_SSL_CA_LOCATION");
    let started = std::time::Instant::now();
    let err = sasl_ssl_client(
        "definitely-not-the-secret",
        Some(Path::new(&ca)),
        CONNECT_DEADLINE,
    )
    .await
    .expect_err("a wrong password must be refused");
    let chain = format!("{err:?}");
    assert!(
        chain.contains("Sasl") || chain.contains("Authentication"),
        "expected a SASL authentication error, got {chain}"
    );
    // Not a timing assertion on speed: only that the bounded backoff ended the attempt at all.
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn tls_handshake_is_refused_without_the_stack_ca() {
    let err = sasl_ssl_client(&stack_env("KAFKA_API_SECRET"), None, CONNECT_DEADLINE)
        .await
        .expect_err("the stack's certificate is not publicly trusted");
    let chain = format!("{err:?}");
    assert!(
        chain.contains("UnknownIssuer") || chain.contains("certificate"),
        "expected an untrusted-certificate error, got {chain}"
    );
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn rskafka_authenticates_with_scram_sha_256_and_512_for_the_same_key_and_secret() {
    let credentials =
        || Credentials::new(stack_env("KAFKA_API_KEY"), stack_env("KAFKA_API_SECRET"));
    for (name, sasl) in [
        ("SCRAM-SHA-256", SaslConfig::ScramSha256(credentials())),
        ("SCRAM-SHA-512", SaslConfig::ScramSha512(credentials())),
    ] {
        let client = ClientBuilder::new(vec![stack_env("BOOTSTRAP_SERVERS")])
            .tls_config(stack_tls_config(Path::new(&stack_env(
                "KAFKA_SSL_CA_LOCATION",
            ))))
            .sasl_config(sasl)
            .backoff_config(rskafka::BackoffConfig {
                init_backoff: Duration::from_millis(50),
                max_backoff: Duration::from_millis(500),
                base: 2.0,
                deadline: Some(CONNECT_DEADLINE),
            })
            .build()
            .await
            .unwrap_or_else(|e| panic!("{name} with the stack's key and secret: {e}"));
        let topics = client.list_topics().await.expect("metadata over SCRAM");
        assert!(
            topics.iter().any(|t| t.name == stack_env("KAFKA_TOPIC")),
            "{name}: {topics:?}"
        );
    }
}

const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";
const PROTO: &str = include_str!("../../proto/shoe.proto");

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn registry_registers_and_returns_a_protobuf_schema_over_https_with_basic_auth() {
    let client = registry_http_client();
    let subject = unique_name("stack-smoke") + "-value";
    let body = serde_json::json!({ "schemaType": "PROTOBUF", "schema": PROTO });

    let response = registry_request(
        &client,
        reqwest::Method::POST,
        &format!("/subjects/{subject}/versions"),
    )
    .header("Content-Type", CONTENT_TYPE)
    .json(&body)
    .send()
    .await
    .expect("registry reachable over HTTPS");
    assert_eq!(response.status(), 200);
    let registered: serde_json::Value = response.json().await.unwrap();
    let id = registered["id"].as_u64().expect("an id");

    let fetched = registry_get_json(&client, &format!("/schemas/ids/{id}")).await;
    assert_eq!(fetched["schemaType"], "PROTOBUF");
    assert!(fetched["schema"].as_str().unwrap().contains("message Shoe"));
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn registry_refuses_wrong_credentials_with_401() {
    let client = registry_http_client();
    let base = stack_env("SCHEMA_REGISTRY_URL");
    let anonymous = client.get(format!("{base}/subjects")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let wrong = client
        .get(format!("{base}/subjects"))
        .basic_auth(stack_env("SCHEMA_REGISTRY_API_KEY"), Some("wrong-secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let body: serde_json::Value = wrong.json().await.unwrap();
    assert_eq!(body["error_code"], 401);
}
