//! The batching engine against the local stack's real broker (SASL_SSL): everything sent is acked
//! exactly once, lands on the partition Java's partitioner picks, in order, with every codec; a
//! batch larger than the topic takes is split; a record larger than the topic takes fails alone and
//! ends the run; backpressure bounds memory; close delivers what lingers and is final.

use crate::support::engine as engine_support;
use std::num::NonZeroUsize;

use std::{collections::HashSet, time::Duration};

use engine_support::{add_partitions, consume_all, kafka_with_topic, set_topic_config, settle};
use shoe_producer::kafka::Kafka;
use shoe_producer::{
    app::config::producer_defaults,
    producer::{partitioner::java_partition_for_key, Producer, SendError},
    settings::{Compression, ProducerSettings},
};

fn value_for(id: u64, padding: usize) -> Vec<u8> {
    let mut v = format!("shoe-{id}-").into_bytes();
    v.resize(v.len() + padding, b'x');
    v
}

/// Sends ids `0..count` to a new topic of 6 partitions, closes, and checks the topic holds exactly
/// them where and how expected.
async fn round_trip(prefix: &str, count: u64, settings: ProducerSettings) {
    let (kafka, topic) = kafka_with_topic(prefix, 6).await;
    round_trip_on(&kafka, &topic, 6, count, &settings).await;
}

/// [`round_trip`] on an existing topic of `partition_count` partitions.
async fn round_trip_on(
    kafka: &Kafka,
    topic: &str,
    partition_count: i32,
    count: u64,
    settings: &ProducerSettings,
) {
    let producer = Producer::start(kafka, topic, settings).await.unwrap();
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
    assert_eq!(snap.ack_latency_us.count(), count);
    assert_eq!((snap.possible_duplicates, snap.epoch_bumps), (0, 0));
    assert_eq!(
        snap.producer_id_and_epoch.is_some(),
        settings.enable_idempotence
    );

    let partitions = consume_all(kafka, topic, partition_count).await;
    let mut keys = HashSet::new();
    for (partition, records) in partitions.iter().enumerate() {
        let mut last_id = None;
        for r in records {
            let key = String::from_utf8(r.key.clone()).unwrap();
            let id: u64 = key.parse().unwrap();
            assert!(keys.insert(id), "key {id} appears twice");
            assert_eq!(
                java_partition_for_key(&r.key, partition_count),
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
    round_trip("engine-roundtrip", 30_000, producer_defaults()).await;
}

/// A topic of many partitions, used the moment it exists: each produce request carries many
/// partitions' batches (some refused at first while the broker takes up leadership), and every
/// record still lands once, in order, on its partition.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn a_topic_of_many_partitions_is_delivered_once_in_order() {
    let (kafka, topic) = kafka_with_topic("engine-many-partitions", 240).await;
    let settings = ProducerSettings {
        max_request_size: NonZeroUsize::new(64 * 1024).unwrap(),
        ..producer_defaults()
    };
    round_trip_on(&kafka, &topic, 240, 40_000, &settings).await;
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
            ..producer_defaults()
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
async fn small_batches_pipelined_keep_order() {
    let settings = ProducerSettings {
        batch_size: std::num::NonZeroUsize::new(2_000).unwrap(),
        linger: Duration::ZERO,
        ..producer_defaults()
    };
    round_trip("engine-small", 5_000, settings).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn without_idempotence_one_request_in_flight_keeps_order() {
    let settings = ProducerSettings {
        batch_size: NonZeroUsize::new(2_000).unwrap(),
        linger: Duration::ZERO,
        max_in_flight: NonZeroUsize::new(1).unwrap(),
        enable_idempotence: false,
        ..producer_defaults()
    };
    round_trip("engine-at-least-once", 5_000, settings).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn a_record_too_large_fails_alone_and_ends_the_run() {
    let (kafka, topic) = kafka_with_topic("engine-too-large", 6).await;
    let settings = ProducerSettings {
        batch_size: std::num::NonZeroUsize::new(16 * 1024).unwrap(),
        ..producer_defaults()
    };
    let producer = Producer::start(&kafka, &topic, &settings).await.unwrap();
    let handle = producer.handle();
    for id in 0..100u64 {
        handle
            .send(id.to_string().as_bytes(), b"small")
            .await
            .unwrap();
    }
    settle(&handle).await;
    // Larger than the broker's default message.max.bytes (1 MiB): a batch of its own, refused.
    handle
        .send(b"huge", &vec![7u8; 2 * 1024 * 1024])
        .await
        .unwrap();
    settle(&handle).await;
    let refused = handle.send(b"after", b"small").await;
    assert!(
        matches!(refused, Err(SendError::Fatal(ref m)) if m.contains("max.message.bytes")),
        "{refused:?}"
    );
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
    assert_eq!(snap.failed_timed_out, 0);
    assert!(snap.fatal_error.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn batches_larger_than_the_topic_takes_are_split_until_they_fit() {
    let (kafka, topic) = kafka_with_topic("engine-split", 3).await;
    let configured = topic.clone();
    tokio::task::spawn_blocking(move || {
        set_topic_config(&configured, "max.message.bytes", "10000")
    })
    .await
    .unwrap();
    // Default settings: 1 MiB batches, far above the topic's 10,000 bytes.
    round_trip_on(&kafka, &topic, 3, 20_000, &producer_defaults()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn backpressure_bounds_buffered_bytes_and_loses_nothing() {
    let (kafka, topic) = kafka_with_topic("engine-backpressure", 6).await;
    let capacity = 64 * 1024;
    let settings = ProducerSettings {
        buffer_memory: std::num::NonZeroUsize::new(capacity).unwrap(),
        batch_size: std::num::NonZeroUsize::new(8 * 1024).unwrap(),
        ..producer_defaults()
    };
    let producer = Producer::start(&kafka, &topic, &settings).await.unwrap();
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
async fn close_delivers_lingering_records_and_refuses_later_ones() {
    let (kafka, topic) = kafka_with_topic("engine-close", 6).await;
    let settings = ProducerSettings {
        // A long linger: only close can make these go out quickly.
        linger: Duration::from_secs(3_600),
        ..producer_defaults()
    };
    let producer = Producer::start(&kafka, &topic, &settings).await.unwrap();
    let handle = producer.handle();
    for id in 0..10u64 {
        handle.send(id.to_string().as_bytes(), b"v").await.unwrap();
    }
    let snap = tokio::time::timeout(Duration::from_secs(20), producer.close())
        .await
        .expect("close does not wait for linger");
    assert_eq!((snap.sent, snap.acked, snap.in_flight_records), (10, 10, 0));
    assert_eq!(handle.send(b"10", b"v").await, Err(SendError::Closed));
    assert_eq!(handle.snapshot().sent, 10);
}

/// Partitions added to the topic during a run get records once the metadata is next read (every
/// `metadata_max_age`), and keys then map over the new count, as with the Java client: each record
/// is once on the partition Java's partitioner picks for the old count or for the new one, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn partitions_added_during_a_run_get_records() {
    let (kafka, topic) = kafka_with_topic("engine-grow", 3).await;
    let settings = ProducerSettings {
        metadata_max_age: Duration::from_secs(1),
        ..producer_defaults()
    };
    let producer = Producer::start(&kafka, &topic, &settings).await.unwrap();
    let handle = producer.handle();
    let sender = {
        let handle = handle.clone();
        tokio::spawn(async move {
            let mut id = 0u64;
            // Until the handle is closed, about 2,000 records a second.
            while handle
                .send(id.to_string().as_bytes(), &value_for(id, 10))
                .await
                .is_ok()
            {
                id += 1;
                if id.is_multiple_of(20) {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
            id
        })
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    let grown = topic.clone();
    tokio::task::spawn_blocking(move || add_partitions(&grown, 5))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let snap = producer.close().await;
    let sent = sender.await.unwrap();
    assert_eq!(
        (snap.sent, snap.acked, snap.failed),
        (sent, sent, 0),
        "{snap:?}"
    );

    let partitions = consume_all(&kafka, &topic, 5).await;
    assert!(
        !partitions[3].is_empty() && !partitions[4].is_empty(),
        "the added partitions got no records"
    );
    let mut seen = HashSet::new();
    for (partition, records) in partitions.iter().enumerate() {
        let mut last = None;
        for record in records {
            let id: u64 = std::str::from_utf8(&record.key).unwrap().parse().unwrap();
            assert!(
                [3, 5]
                    .iter()
                    .any(|&count| java_partition_for_key(&record.key, count) == partition as i32),
                "key {id} on partition {partition}, where neither count maps it"
            );
            assert!(
                last < Some(id),
                "partition {partition}: {id} after {last:?}"
            );
            last = Some(id);
            assert!(seen.insert(id), "{id} twice");
        }
    }
    assert_eq!(seen.len() as u64, sent, "records missing");
}
