//! The engine under network faults, each injected on loopback by the Kafka-aware proxy of
//! `support::fault_proxy` between the producer and the broker's PLAINTEXT listener. Topics are
//! created and read back over the stack's SASL_SSL listener, sharing no code path with the proxy.

use crate::support::{engine as engine_support, fault_proxy};
use std::num::NonZeroUsize;

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use engine_support::{consume_all, env, init_logs, kafka_with_topic, settle};
use fault_proxy::{Fault, FaultProxy, Injection, NOT_LEADER_OR_FOLLOWER, REQUEST_TIMED_OUT};
use shoe_producer::{
    app::config::producer_defaults,
    kafka::{self, Kafka},
    producer::delivery::StatsSnapshot,
    producer::{partitioner::java_partition_for_key, Producer, ProducerHandle},
    settings::ProducerSettings,
};
use tokio::time::timeout;

/// The broker's PLAINTEXT listener, where the proxy forwards to.
fn plaintext_upstream() -> SocketAddr {
    env("LOCAL_STACK_PLAINTEXT_BOOTSTRAP")
        .parse()
        .expect("LOCAL_STACK_PLAINTEXT_BOOTSTRAP is host:port")
}

/// The cluster reached through `proxy` only.
async fn kafka_via(proxy: &FaultProxy) -> Kafka {
    kafka::connect(&proxy.plaintext_settings(Duration::from_secs(3)))
        .await
        .expect("connect through the proxy")
}

/// Starts the engine for `topic` through `proxy`.
async fn producer_via(proxy: &FaultProxy, topic: &str, settings: &ProducerSettings) -> Producer {
    Producer::start(&kafka_via(proxy).await, topic, settings)
        .await
        .expect("start the engine through the proxy")
}

fn assert_books_balance(snap: &StatsSnapshot) {
    assert_eq!(
        snap.sent,
        snap.acked + snap.failed + snap.in_flight_records,
        "{snap:?}"
    );
    assert!(snap.acked + snap.failed <= snap.sent, "{snap:?}");
}

/// Samples snapshots until stopped, checking the books balance in every one.
fn watch_books(handle: ProducerHandle) -> (Arc<AtomicBool>, tokio::task::JoinHandle<u64>) {
    let stop = Arc::new(AtomicBool::new(false));
    let task = {
        let stop = Arc::clone(&stop);
        tokio::spawn(async move {
            let mut samples = 0;
            while !stop.load(Ordering::SeqCst) {
                assert_books_balance(&handle.snapshot());
                samples += 1;
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            samples
        })
    };
    (stop, task)
}

async fn send_ids(handle: &ProducerHandle, ids: std::ops::Range<u64>) {
    for id in ids {
        handle
            .send(id.to_string().as_bytes(), format!("value-{id}").as_bytes())
            .await
            .unwrap();
    }
}

/// Ids per partition as read back from the topic.
async fn ids_on_topic(kafka: &Kafka, topic: &str, partitions: i32) -> Vec<Vec<u64>> {
    consume_all(kafka, topic, partitions)
        .await
        .into_iter()
        .map(|records| {
            records
                .iter()
                .map(|r| std::str::from_utf8(&r.key).unwrap().parse().unwrap())
                .collect()
        })
        .collect()
}

/// A leader change followed by the old leader's connection going silent (the broker host vanished
/// without closing its sockets): the engine must stop asking the dead connection for metadata and
/// find the leader through the bootstrap servers again, instead of hanging on it until every record
/// times out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn a_silent_cached_connection_does_not_block_leader_lookups_forever() {
    let (kafka, topic) = kafka_with_topic("proxy-silent-cached", 1).await;
    let proxy = FaultProxy::start(plaintext_upstream()).await;
    let settings = ProducerSettings {
        linger: Duration::ZERO,
        delivery_timeout: Duration::from_secs(25),
        ..producer_defaults()
    };
    let producer = producer_via(&proxy, &topic, &settings).await;
    let handle = producer.handle();
    send_ids(&handle, 0..1).await;
    settle(&handle).await;
    assert_eq!(handle.snapshot().acked, 1);

    proxy.inject(Injection {
        fault: Fault::Refuse(NOT_LEADER_OR_FOLLOWER),
        then_silence: true,
    });
    send_ids(&handle, 1..2).await;
    settle(&handle).await;
    let snap = handle.snapshot();
    assert_eq!(
        (snap.acked, snap.failed),
        (2, 0),
        "the record after the leader change was not delivered although new connections work: {snap:?}"
    );
    send_ids(&handle, 2..3).await;
    let snap = timeout(Duration::from_secs(60), producer.close())
        .await
        .expect("close ends");
    assert_eq!((snap.sent, snap.acked, snap.failed), (3, 3, 0), "{snap:?}");
    assert_eq!(snap.possible_duplicates, 0, "{snap:?}");
    assert_eq!(ids_on_topic(&kafka, &topic, 1).await, vec![vec![0, 1, 2]]);
}

/// `NOT_LEADER_OR_FOLLOWER` (nothing appended) is retried after fresh metadata: every record once,
/// in order, none counted as a possible duplicate — with five requests in flight per partition
/// (the idempotent producer's sequence numbers make the broker refuse the batches pipelined behind
/// the rejected one) and, without idempotence, with one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn not_leader_is_retried_with_fresh_metadata_exactly_once_in_order() {
    for (idempotent, max_in_flight) in [(true, 5), (false, 1)] {
        not_leader_is_retried(idempotent, max_in_flight).await;
    }
}

async fn not_leader_is_retried(idempotent: bool, max_in_flight: usize) {
    let (kafka, topic) = kafka_with_topic("proxy-not-leader", 3).await;
    let proxy = FaultProxy::start(plaintext_upstream()).await;
    let settings = ProducerSettings {
        batch_size: NonZeroUsize::new(2_000).unwrap(),
        linger: Duration::from_millis(1),
        max_in_flight: NonZeroUsize::new(max_in_flight).expect("at least one in flight"),
        enable_idempotence: idempotent,
        ..producer_defaults()
    };
    let producer = producer_via(&proxy, &topic, &settings).await;
    let handle = producer.handle();
    let (stop, watcher) = watch_books(handle.clone());
    send_ids(&handle, 0..500).await;
    settle(&handle).await;
    let metadata_before = proxy.metadata_requests();
    for _ in 0..6 {
        proxy.inject(Injection {
            fault: Fault::Refuse(NOT_LEADER_OR_FOLLOWER),
            then_silence: false,
        });
    }
    send_ids(&handle, 500..3_000).await;
    let snap = timeout(Duration::from_secs(60), producer.close())
        .await
        .expect("close ends");
    stop.store(true, Ordering::SeqCst);
    assert!(watcher.await.unwrap() > 0);
    assert_eq!(proxy.pending_injections(), 0);
    assert_eq!(
        (snap.sent, snap.acked, snap.failed),
        (3_000, 3_000, 0),
        "{snap:?}"
    );
    assert_eq!(
        (snap.possible_duplicates, snap.epoch_bumps),
        (0, 0),
        "{snap:?}"
    );
    assert!(
        proxy.metadata_requests() > metadata_before,
        "no metadata refresh after NOT_LEADER_OR_FOLLOWER"
    );
    let mut total = 0;
    for ids in ids_on_topic(&kafka, &topic, 3).await {
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "order or duplicates");
        total += ids.len();
    }
    assert_eq!(total, 3_000);
}

/// Runs 20 records through `proxy` with `fault` injected into the request of records 10..20 (one
/// batch, after the first ten were acked); returns the snapshot and how often each id is on the topic.
async fn after_append(
    prefix: &str,
    fault: Fault,
    idempotent: bool,
) -> (StatsSnapshot, HashMap<u64, u64>) {
    let (kafka, topic) = kafka_with_topic(prefix, 1).await;
    let proxy = FaultProxy::start(plaintext_upstream()).await;
    let settings = ProducerSettings {
        linger: Duration::ZERO,
        max_in_flight: NonZeroUsize::new(1).unwrap(),
        enable_idempotence: idempotent,
        ..producer_defaults()
    };
    let producer = producer_via(&proxy, &topic, &settings).await;
    let handle = producer.handle();
    send_ids(&handle, 0..10).await;
    settle(&handle).await;
    proxy.inject(Injection {
        fault,
        then_silence: false,
    });
    send_ids(&handle, 10..20).await;
    let snap = timeout(Duration::from_secs(60), producer.close())
        .await
        .expect("close ends");
    assert_eq!(proxy.pending_injections(), 0, "the fault was injected");
    assert_eq!(
        (snap.sent, snap.acked, snap.failed),
        (20, 20, 0),
        "{snap:?}"
    );
    let mut copies: HashMap<u64, u64> = HashMap::new();
    for id in ids_on_topic(&kafka, &topic, 1).await.remove(0) {
        *copies.entry(id).or_default() += 1;
    }
    assert_eq!(copies.len(), 20, "every record is on the topic");
    (snap, copies)
}

/// Without idempotence, `REQUEST_TIMED_OUT` after the broker appended makes the retry write the
/// batch again, and `possible_duplicates` covers every record that is on the topic twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn without_idempotence_a_retry_after_append_is_counted_as_possible_duplicates() {
    let (snap, copies) = after_append(
        "proxy-after-append",
        Fault::RewriteAnswer(REQUEST_TIMED_OUT),
        false,
    )
    .await;
    let duplicated = copies.values().filter(|&&n| n > 1).count() as u64;
    assert!(duplicated > 0, "the injected error did not cause a retry");
    assert!(
        snap.possible_duplicates >= duplicated,
        "{duplicated} records are on the topic twice but possible_duplicates = {}",
        snap.possible_duplicates
    );
}

/// With idempotence (the default), a batch whose answer was lost — the broker appended it, then the
/// connection closed — is resent with the same sequence numbers, and the broker recognizes the
/// duplicate: every record is on the topic once and none is counted as a possible duplicate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn a_retry_after_a_lost_answer_is_deduplicated_by_the_broker() {
    for fault in [Fault::LoseAnswer, Fault::RewriteAnswer(REQUEST_TIMED_OUT)] {
        let (snap, copies) = after_append("proxy-lost-answer", fault, true).await;
        assert!(
            copies.values().all(|&n| n == 1),
            "{fault:?}: duplicates on the topic: {copies:?}"
        );
        assert_eq!(
            (snap.possible_duplicates, snap.epoch_bumps),
            (0, 0),
            "{fault:?}: {snap:?}"
        );
        assert!(snap.producer_id_and_epoch.is_some_and(|(id, _)| id >= 0));
    }
}

/// A broker that stops answering (sockets open, no RST): every record still ends — failed at the
/// delivery timeout — the memory comes back, and the outage reads as one stable reason (reasons key
/// the summary's and the metrics' per-reason counts: a reason that embeds a measured duration, or
/// one per symptom, would make one outage many rows and labels).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn a_silent_broker_fails_every_record_by_the_delivery_timeout_under_one_reason() {
    let (_kafka, topic) = kafka_with_topic("proxy-silent-broker", 6).await;
    let proxy = FaultProxy::start(plaintext_upstream()).await;
    let settings = ProducerSettings {
        batch_size: NonZeroUsize::new(1_000).unwrap(),
        linger: Duration::from_millis(1),
        delivery_timeout: Duration::from_secs(4),
        ..producer_defaults()
    };
    let producer = producer_via(&proxy, &topic, &settings).await;
    let handle = producer.handle();
    let (stop, watcher) = watch_books(handle.clone());
    send_ids(&handle, 0..600).await;
    settle(&handle).await;
    proxy.silence_new(true);
    proxy.silence_existing();
    send_ids(&handle, 600..1_200).await;
    let snap = timeout(Duration::from_secs(60), producer.close())
        .await
        .expect("close ends");
    stop.store(true, Ordering::SeqCst);
    assert!(watcher.await.unwrap() > 0);
    assert_eq!(
        (snap.sent, snap.acked, snap.failed),
        (1_200, 600, 600),
        "{snap:?}"
    );
    assert_eq!(snap.buffered_bytes, 0, "{snap:?}");
    assert_eq!(
        snap.failed_by_reason.iter().map(|(_, n)| n).sum::<u64>(),
        snap.failed,
        "every failed record is counted under a reason: {snap:?}"
    );
    for (reason, _) in &snap.failed_by_reason {
        assert!(
            !has_measured_duration(reason),
            "a failure reason embeds a measured duration: {reason}"
        );
    }
    assert_eq!(
        snap.failed_by_reason,
        [("delivery_timeout (partition unavailable)".to_string(), 600)],
        "one outage, one reason"
    );
    assert_eq!(
        snap.failed_timed_out, 600,
        "a longer timeout could have helped"
    );
}

/// True when `text` holds a duration printed with a fraction (`3.999096973s`, `12.5ms`): a measured
/// wait, unlike a configured bound (`3s`) or an address (`127.0.0.1:9092`).
fn has_measured_duration(text: &str) -> bool {
    let bytes = text.as_bytes();
    (1..bytes.len()).any(|dot| {
        if bytes[dot] != b'.' || !bytes[dot - 1].is_ascii_digit() {
            return false;
        }
        let digits = bytes[dot + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let unit = &text[dot + 1 + digits..];
        digits > 0 && ["s", "ms", "µs", "ns"].iter().any(|u| unit.starts_with(u))
    })
}

#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn measured_durations_are_told_from_bounds_and_addresses() {
    assert!(has_measured_duration("no response within 3.999096973s"));
    assert!(has_measured_duration("waited 12.5ms"));
    assert!(!has_measured_duration("no answer within 3s"));
    assert!(!has_measured_duration("cannot connect to 127.0.0.1:9092"));
}

/// Admin calls on a connection that went silent end within the connect timeout with an error,
/// instead of waiting forever (the run would hang before producing anything).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn admin_calls_to_a_silent_broker_end_within_the_connect_timeout() {
    init_logs();
    let proxy = FaultProxy::start(plaintext_upstream()).await;
    let kafka = kafka::connect(&proxy.plaintext_settings(Duration::from_secs(2)))
        .await
        .expect("connect through the proxy");
    assert!(kafka.cluster_info().await.is_ok());
    proxy.silence_new(true);
    proxy.silence_existing();
    let metadata = timeout(Duration::from_secs(30), kafka.partition_count("shoes"))
        .await
        .expect("partition_count must not wait forever on a silent broker");
    assert!(metadata.is_err(), "{metadata:?}");
    let client = timeout(Duration::from_secs(30), kafka.client())
        .await
        .expect("building rskafka's client must not wait forever on a silent broker");
    assert!(client.is_err());
    let created = timeout(
        Duration::from_secs(60),
        kafka.create_topic("proxy-never-created", 1, 1),
    )
    .await
    .expect("create_topic must not wait forever on a silent broker");
    assert!(created.is_err(), "{created:?}");
}

/// Ids `from..` whose keys Java's partitioner puts on `partition` of `partitions`, `n` of them.
fn ids_on_partition(partition: i32, partitions: i32, from: u64, n: usize) -> Vec<u64> {
    (from..)
        .filter(|id| java_partition_for_key(id.to_string().as_bytes(), partitions) == partition)
        .take(n)
        .collect()
}

/// A partition must not pipeline its requests over two connections: when another partition's
/// timeout replaces the leader connection while this partition still has a request in flight on the
/// old (slow) one, a new request on the new connection can be written first — out of order with no
/// failure of this partition at all, which the documentation does not allow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn a_partition_does_not_overtake_its_own_request_on_a_new_connection() {
    let (kafka, topic) = kafka_with_topic("proxy-two-connections", 2).await;
    let proxy = FaultProxy::start(plaintext_upstream()).await;
    let settings = ProducerSettings {
        linger: Duration::ZERO,
        delivery_timeout: Duration::from_secs(10),
        ..producer_defaults()
    };
    let producer = producer_via(&proxy, &topic, &settings).await;
    let handle = producer.handle();
    let p0 = ids_on_partition(0, 2, 0, 3);
    let p1 = ids_on_partition(1, 2, 0, 2);
    let send = |id: u64| {
        let handle = handle.clone();
        async move { handle.send(id.to_string().as_bytes(), b"v").await.unwrap() }
    };
    send(p0[0]).await;
    send(p1[0]).await;
    settle(&handle).await;

    // The link to the broker gets slow: requests on the open connection wait in the proxy.
    proxy.stall_existing();
    send(p1[1]).await; // will time out at +10 s, which drops the connection
    tokio::time::sleep(Duration::from_secs(4)).await;
    send(p0[1]).await; // in flight on the slow connection until +12 s
    tokio::time::sleep(Duration::from_millis(6_500)).await;
    send(p0[2]).await; // after the timeout: a new connection is opened for it
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    proxy.release();
    let snap = timeout(Duration::from_secs(60), producer.close())
        .await
        .expect("close ends");
    assert_eq!(snap.sent, 5, "{snap:?}");
    let on_topic = ids_on_topic(&kafka, &topic, 2).await;
    assert_eq!(
        on_topic[0], p0,
        "partition 0 holds {:?}, sent in the order {p0:?} ({snap:?})",
        on_topic[0]
    );
}
