//! The idempotent producer against the real broker: the producer id it gets, the batches the broker
//! stores under it, and the one line a refused producer id ends the run with. (Broker kills are in
//! `faults.rs`, lost answers in `proxy_faults.rs`, the sequence bookkeeping in the unit tests.)

use crate::support::{engine as engine_support, fault_proxy::FaultProxy};

use std::time::Duration;

use engine_support::{
    consume_all, env, kafka_settings, kafka_with_topic, run_config, stored_batches, verify_produced,
};
use shoe_producer::{
    app::config::producer_defaults,
    commands::produce::{self, shutdown::Shutdown},
    kafka::{self, KafkaError},
    producer::Producer,
};

/// `CLUSTER_AUTHORIZATION_FAILED`.
const CLUSTER_AUTHORIZATION_FAILED: i16 = 31;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn the_broker_hands_out_a_producer_id_and_stores_batches_under_it() {
    let (kafka, topic) = kafka_with_topic("idempotence-stored", 3).await;
    let first = kafka.init_producer_id().await.expect("a producer id");
    let second = kafka.init_producer_id().await.expect("another producer id");
    assert!(first.id >= 0 && first.epoch == 0, "{first:?}");
    assert_ne!(first.id, second.id, "each ask gets its own id");

    let config = run_config(&topic, 5_000);
    let outcome = produce::produce_with(&config, Shutdown::manual())
        .await
        .expect("every record acked");
    let stats = &outcome.stats;
    let (producer_id, epoch) = stats.producer_id_and_epoch.expect("idempotent by default");
    assert!(producer_id >= 0 && epoch == 0, "{stats:?}");
    let partitions = consume_all(&kafka, &topic, 3).await;
    verify_produced(
        &partitions,
        1,
        5_000,
        outcome.destination.schema_id.unwrap(),
        false,
    );

    let batches = tokio::task::spawn_blocking(move || stored_batches(&topic))
        .await
        .unwrap();
    assert_eq!(batches.iter().map(|b| b.count).sum::<i64>(), 5_000);
    for partition in 0..3 {
        let mut next_sequence = 0;
        for batch in batches.iter().filter(|b| b.partition == partition) {
            assert_eq!(
                (batch.producer_id, batch.producer_epoch),
                (producer_id, i64::from(epoch)),
                "{batch:?}"
            );
            assert_eq!(batch.base_sequence, next_sequence, "{batch:?}");
            next_sequence += batch.count;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn a_refused_producer_id_stops_the_run_before_producing_with_what_to_do() {
    let (_kafka, topic) = kafka_with_topic("idempotence-refused", 1).await;
    let proxy = FaultProxy::start(
        env("LOCAL_STACK_PLAINTEXT_BOOTSTRAP")
            .parse()
            .expect("host:port"),
    )
    .await;
    proxy.refuse_producer_ids(CLUSTER_AUTHORIZATION_FAILED);

    let kafka = kafka::connect(&proxy.plaintext_settings(Duration::from_secs(5)))
        .await
        .unwrap();
    let refused = kafka.init_producer_id().await;
    assert!(
        matches!(refused, Err(KafkaError::IdempotenceUnauthorized)),
        "{refused:?}"
    );
    let started = Producer::start(&kafka, &topic, &producer_defaults()).await;
    let error = started.expect_err("no producer without a producer id");
    let message = error.to_string();
    assert!(message.contains("IdempotentWrite"), "{message}");
    assert!(message.contains("--enable-idempotence false"), "{message}");

    // The whole run: exit code 1 and that line, nothing produced.
    let mut config = run_config(&topic, 100);
    config.kafka = Some(proxy.plaintext_settings(Duration::from_secs(5)));
    let failure = produce::produce_with(&config, Shutdown::manual())
        .await
        .expect_err("refused");
    assert_eq!(failure.exit_code(), 1);
    assert_eq!(failure.to_string(), message);
    let on_topic: usize = consume_all(&kafka_via_stack().await, &topic, 1)
        .await
        .iter()
        .map(Vec::len)
        .sum();
    assert_eq!(on_topic, 0);

    // Without idempotence the same cluster takes the records.
    let mut config = run_config(&topic, 100);
    config.kafka = Some(proxy.plaintext_settings(Duration::from_secs(5)));
    config.producer.enable_idempotence = false;
    let outcome = produce::produce_with(&config, Shutdown::manual())
        .await
        .expect("produced without a producer id");
    assert_eq!(outcome.stats.acked, 100);
}

async fn kafka_via_stack() -> kafka::Kafka {
    kafka::connect(&kafka_settings()).await.unwrap()
}
