//! The main job end to end through the library (`produce::produce_with`): registry over HTTPS, Kafka
//! over SASL_SSL, shoes read back and checked record by record. (The binary's 200,000-record run is
//! in `producer_binary.rs`.)

use crate::support::engine as engine_support;

use engine_support::{add_partitions, consume_all, kafka_with_topic, run_config, verify_produced};
use shoe_producer::commands::produce::{self, shutdown::Shutdown};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn every_shoe_arrives_once_in_order_and_decodes() {
    let (kafka, topic) = kafka_with_topic("run-50k", 6).await;
    let config = run_config(&topic, 50_000);
    let outcome = produce::produce_with(&config, Shutdown::manual())
        .await
        .expect("every record acked");
    let stats = &outcome.summary.stats;
    assert_eq!((stats.sent, stats.acked, stats.failed), (50_000, 50_000, 0));
    assert_eq!(stats.possible_duplicates, 0);
    let schema_id = outcome.summary.destination.schema_id.expect("schema id");

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
    use shoe_producer::app::settings::TopicCreation;
    let topic = engine_support::unique_topic("run-create");
    let mut config = run_config(&topic, 1_000);
    config.run.create_topic = Some(TopicCreation {
        partitions: 3,
        replication_factor: 1,
    });
    let outcome = produce::produce_with(&config, Shutdown::manual())
        .await
        .unwrap();
    assert_eq!(outcome.summary.stats.acked, 1_000);
    let kafka = shoe_producer::kafka::connect(&engine_support::kafka_settings())
        .await
        .unwrap();
    assert_eq!(kafka.partition_count(&topic).await.unwrap(), 3);
    let partitions = consume_all(&kafka, &topic, 3).await;
    verify_produced(
        &partitions,
        1,
        1_000,
        outcome.summary.destination.schema_id.unwrap(),
        false,
    );
}

/// Partitions added to the topic during a run get records once the metadata is next read (every
/// `metadata_max_age`), and keys then map over the new count, as with the Java client: each record is
/// on the partition Java's partitioner picks for the old count or for the new one, once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn partitions_added_during_a_run_get_records() {
    use shoe_producer::producer::partitioner::java_partition_for_key;
    let (kafka, topic) = kafka_with_topic("run-grow", 3).await;
    // Until stopped, at 5,000 records/s; stopped 3 s after the partitions were added.
    let mut config = run_config(&topic, u64::MAX);
    config.run.count = None;
    config.run.rate = Some(5_000);
    config.producer.metadata_max_age = std::time::Duration::from_secs(1);
    let shutdown = Shutdown::manual();
    let run = {
        let shutdown = shutdown.clone();
        tokio::spawn(async move { produce::produce_with(&config, shutdown).await })
    };
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let grown = topic.clone();
    tokio::task::spawn_blocking(move || add_partitions(&grown, 5))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    shutdown.request();
    let outcome = run.await.unwrap().expect("every record acked");
    let count = outcome.summary.stats.sent;
    assert_eq!(outcome.summary.stats.acked, count);

    let partitions = consume_all(&kafka, &topic, 5).await;
    assert!(
        !partitions[3].is_empty() && !partitions[4].is_empty(),
        "the added partitions got no records"
    );
    let mut seen = vec![false; count as usize];
    for (partition, records) in partitions.iter().enumerate() {
        let mut last = 0;
        for record in records {
            let id: u64 = std::str::from_utf8(&record.key).unwrap().parse().unwrap();
            assert!(
                java_partition_for_key(&record.key, 3) == partition as i32
                    || java_partition_for_key(&record.key, 5) == partition as i32,
                "key {id} on partition {partition}, which neither count maps it to"
            );
            assert!(id > last, "partition {partition}: {id} after {last}");
            last = id;
            assert!(
                !std::mem::replace(&mut seen[(id - 1) as usize], true),
                "{id} twice"
            );
        }
    }
    assert!(seen.iter().all(|&s| s), "records missing");
}
