//! The batching engine against the local stack's real broker (SASL_SSL): everything sent is acked
//! exactly once, lands on the partition Java's partitioner picks, in order, with every codec; a
//! non-retriable broker error fails only its batch; backpressure bounds memory; close is final.

use crate::support::engine as engine_support;

use std::{collections::HashSet, sync::atomic::Ordering, time::Duration};

use engine_support::{consume_all, kafka_with_topic, observer};
use shoe_producer::{
    app::settings::{Compression, ProducerSettings},
    producer::{partitioner::java_partition_for_key, Producer, ProducerClosed},
};

fn value_for(id: u64, padding: usize) -> Vec<u8> {
    let mut v = format!("shoe-{id}-").into_bytes();
    v.resize(v.len() + padding, b'x');
    v
}

/// Sends ids `0..count`, closes, and checks the topic holds exactly them where and how expected.
async fn round_trip(prefix: &str, count: u64, settings: ProducerSettings) {
    let (kafka, topic) = kafka_with_topic(prefix, 6).await;
    let (seen, observers) = observer();
    let producer = Producer::start(kafka.connector(), &topic, 6, &settings, observers).unwrap();
    let handle = producer.handle();
    for id in 0..count {
        let key = id.to_string();
        handle
            .send(key.as_bytes(), &value_for(id, 50))
            .await
            .unwrap();
    }
    let snap = producer.close().await;
    assert_eq!(
        (snap.sent, snap.acked, snap.failed),
        (count, count, 0),
        "{snap:?}"
    );
    assert_eq!(snap.in_flight_records, 0);
    assert_eq!(snap.buffered_bytes, 0);
    assert_eq!(snap.latency.count, count);
    assert_eq!(seen.acked.load(Ordering::Relaxed), count);

    let partitions = consume_all(&kafka, &topic, 6).await;
    let mut keys = HashSet::new();
    for (partition, records) in partitions.iter().enumerate() {
        let mut last_id = None;
        for r in records {
            let key = String::from_utf8(r.key.clone()).unwrap();
            let id: u64 = key.parse().unwrap();
            assert!(keys.insert(id), "key {id} appears twice");
            assert_eq!(
                java_partition_for_key(&r.key, 6),
                partition as i32,
                "key {key} on the wrong partition"
            );
            assert_eq!(r.value, value_for(id, 50));
            assert!(
                last_id < Some(id),
                "ids out of order on partition {partition}: {last_id:?} then {id} at offset {}",
                r.offset
            );
            last_id = Some(id);
        }
    }
    assert_eq!(keys.len() as u64, count);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn every_record_is_delivered_once_in_order_on_its_java_partition() {
    round_trip("engine-roundtrip", 30_000, ProducerSettings::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn every_codec_is_accepted_by_the_broker() {
    for compression in [
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ] {
        let settings = ProducerSettings {
            compression,
            ..ProducerSettings::default()
        };
        round_trip(
            &format!("engine-{compression:?}").to_lowercase(),
            3_000,
            settings,
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn small_batches_and_one_request_in_flight_keep_order() {
    let settings = ProducerSettings {
        batch_size: std::num::NonZeroUsize::new(2_000).unwrap(),
        linger: Duration::ZERO,
        max_in_flight: std::num::NonZeroUsize::new(1).unwrap(),
        ..ProducerSettings::default()
    };
    round_trip("engine-small", 5_000, settings).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn a_message_too_large_fails_alone_with_the_brokers_error_name() {
    let (kafka, topic) = kafka_with_topic("engine-too-large", 6).await;
    let (seen, observers) = observer();
    let settings = ProducerSettings {
        batch_size: std::num::NonZeroUsize::new(16 * 1024).unwrap(),
        ..ProducerSettings::default()
    };
    let producer = Producer::start(kafka.connector(), &topic, 6, &settings, observers).unwrap();
    let handle = producer.handle();
    // Larger than the broker's default message.max.bytes (1 MiB): a batch of its own, rejected.
    handle
        .send(b"huge", &vec![7u8; 2 * 1024 * 1024])
        .await
        .unwrap();
    for id in 0..100u64 {
        handle
            .send(id.to_string().as_bytes(), b"small")
            .await
            .unwrap();
    }
    let snap = producer.close().await;
    assert_eq!(
        (snap.sent, snap.acked, snap.failed),
        (101, 100, 1),
        "{snap:?}"
    );
    assert_eq!(
        snap.failed_by_reason,
        vec![("MESSAGE_TOO_LARGE".to_string(), 1)]
    );
    assert_eq!(seen.failed_reasons.lock().unwrap()["MESSAGE_TOO_LARGE"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn backpressure_bounds_buffered_bytes_and_loses_nothing() {
    let (kafka, topic) = kafka_with_topic("engine-backpressure", 6).await;
    let capacity = 64 * 1024;
    let settings = ProducerSettings {
        buffer_memory: std::num::NonZeroUsize::new(capacity).unwrap(),
        batch_size: std::num::NonZeroUsize::new(8 * 1024).unwrap(),
        ..ProducerSettings::default()
    };
    let producer = Producer::start(kafka.connector(), &topic, 6, &settings, vec![]).unwrap();
    let handle = producer.handle();
    let mut max_buffered = 0;
    for id in 0..20_000u64 {
        handle
            .send(id.to_string().as_bytes(), &value_for(id, 100))
            .await
            .unwrap();
        max_buffered = max_buffered.max(handle.snapshot().buffered_bytes);
    }
    assert!(
        max_buffered <= capacity as u64,
        "{max_buffered} > {capacity}"
    );
    assert!(
        max_buffered > capacity as u64 / 2,
        "the bound was never approached: {max_buffered}"
    );
    let snap = producer.close().await;
    assert_eq!((snap.sent, snap.acked, snap.failed), (20_000, 20_000, 0));
    let total: usize = consume_all(&kafka, &topic, 6)
        .await
        .iter()
        .map(Vec::len)
        .sum();
    assert_eq!(total, 20_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn flush_waits_for_acks_and_close_refuses_later_records() {
    let (kafka, topic) = kafka_with_topic("engine-flush", 6).await;
    let settings = ProducerSettings {
        // A long linger: only flush can make these go out quickly.
        linger: Duration::from_secs(60),
        ..ProducerSettings::default()
    };
    let producer = Producer::start(kafka.connector(), &topic, 6, &settings, vec![]).unwrap();
    let handle = producer.handle();
    for id in 0..10u64 {
        handle.send(id.to_string().as_bytes(), b"v").await.unwrap();
    }
    tokio::time::timeout(Duration::from_secs(20), handle.flush())
        .await
        .expect("flush ignores linger");
    let snap = handle.snapshot();
    assert_eq!((snap.sent, snap.acked, snap.in_flight_records), (10, 10, 0));
    handle.send(b"10", b"v").await.unwrap();
    let snap = producer.close().await;
    assert_eq!((snap.sent, snap.acked), (11, 11));
    assert_eq!(handle.send(b"11", b"v").await, Err(ProducerClosed));
    assert_eq!(handle.snapshot().sent, 11);
}
