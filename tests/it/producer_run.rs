//! The main job end to end through the library (`produce::produce_with`): registry over HTTPS, Kafka
//! over SASL_SSL, shoes read back and checked record by record. (The binary's 200,000-record run is
//! in `producer_binary.rs`.)

use crate::support::engine as engine_support;

use engine_support::{consume_all, kafka_with_topic, run_config, verify_produced};
use shoe_producer::commands::produce::{self, shutdown::Shutdown};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn every_shoe_arrives_once_in_order_and_decodes() {
    let (kafka, topic) = kafka_with_topic("run-50k", 6).await;
    let config = run_config(&topic, 50_000);
    let outcome = produce::produce_with(&config, Shutdown::manual())
        .await
        .expect("every record acked");
    let stats = &outcome.stats;
    assert_eq!((stats.sent, stats.acked, stats.failed), (50_000, 50_000, 0));
    assert_eq!(stats.possible_duplicates, 0);
    let schema_id = outcome.destination.schema_id.expect("schema id");

    let partitions = consume_all(&kafka, &topic, 6).await;
    let read = verify_produced(&partitions, 1, 50_000, schema_id, false);
    assert_eq!(read, 50_000);
    assert!(
        partitions.iter().all(|p| !p.is_empty()),
        "every partition got records"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn a_missing_topic_stops_the_run_with_a_clear_error() {
    let config = run_config(&engine_support::unique_topic("run-missing"), 10);
    let failure = produce::produce_with(&config, Shutdown::manual())
        .await
        .expect_err("no such topic");
    assert_eq!(failure.exit_code(), 1);
    let message = failure.to_string();
    assert!(message.contains("does not exist"), "{message}");
    assert!(message.contains("--create-topic"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn create_topic_makes_the_topic_and_the_run_succeeds() {
    use shoe_producer::settings::TopicCreation;
    let topic = engine_support::unique_topic("run-create");
    let mut config = run_config(&topic, 1_000);
    config.run.create_topic = Some(TopicCreation {
        partitions: 3,
        replication_factor: 1,
    });
    let outcome = produce::produce_with(&config, Shutdown::manual())
        .await
        .unwrap();
    assert_eq!(outcome.stats.acked, 1_000);
    let kafka = shoe_producer::kafka::connect(&engine_support::kafka_settings())
        .await
        .unwrap();
    assert_eq!(kafka.partition_count(&topic).await.unwrap(), 3);
    let partitions = consume_all(&kafka, &topic, 3).await;
    verify_produced(
        &partitions,
        1,
        1_000,
        outcome.destination.schema_id.unwrap(),
        false,
    );
}
