//! The partition senders' state machine over the scripted [`FakeTransport`], with paused time: what
//! goes out when, what a failure does, what the counters and the memory pool say at the end.

use std::{sync::Arc, time::Duration};

use rskafka::client::error::ProtocolError;
use tokio::time::Instant;

use super::{
    delivery::{DeliveryObserver, StatsSnapshot},
    errors::{AttemptError, Refresh},
    fake_transport::{FakeRequest, FakeTransport},
    partitioner::java_partition_for_key,
    Producer, ProducerHandle,
};
use crate::app::settings::ProducerSettings;

const MS: fn(u64) -> Duration = Duration::from_millis;

fn settings() -> ProducerSettings {
    ProducerSettings {
        linger: Duration::ZERO,
        ..ProducerSettings::default()
    }
}

/// Every record its own batch (a batch closes when it reaches `batch_size`).
fn one_record_batches() -> ProducerSettings {
    ProducerSettings {
        batch_size: 1,
        ..settings()
    }
}

fn start(
    partitions: i32,
    settings: &ProducerSettings,
) -> (Producer, ProducerHandle, FakeTransport) {
    let fake = FakeTransport::new();
    let producer = Producer::with_transport(
        Arc::new(fake.clone()),
        "shoes",
        partitions,
        settings,
        Vec::<Arc<dyn DeliveryObserver>>::new(),
    );
    let handle = producer.handle();
    (producer, handle, fake)
}

async fn send(handle: &ProducerHandle, id: u64) {
    handle
        .send(id.to_string().as_bytes(), b"value")
        .await
        .unwrap();
}

/// Ids from `from` whose keys go to `partition` of `partitions`.
fn ids_for(partition: i32, partitions: i32, from: u64, n: usize) -> Vec<u64> {
    (from..)
        .filter(|id| java_partition_for_key(id.to_string().as_bytes(), partitions) == partition)
        .take(n)
        .collect()
}

/// Lets every task run until it waits for something (no time passes).
async fn idle() {
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
}

/// Closes the producer while acknowledging every request, at increasing offsets.
async fn close_acking(producer: Producer, fake: &FakeTransport) -> StatsSnapshot {
    let mut closing = tokio::spawn(producer.close());
    let mut offset = 0;
    loop {
        tokio::select! {
            snap = &mut closing => return snap.unwrap(),
            request = fake.next_request() => {
                let records = i64::from(request.records());
                request.ack(offset);
                offset += records;
            }
        }
    }
}

#[tokio::test(start_paused = true)]
async fn an_open_batch_goes_out_once_it_has_lingered() {
    let settings = ProducerSettings {
        linger: MS(50),
        ..settings()
    };
    let (producer, handle, fake) = start(1, &settings);
    let started = Instant::now();
    for id in 0..3 {
        send(&handle, id).await;
    }
    let request = fake.next_request().await;
    assert!(Instant::now() >= started + MS(50), "sent before linger");
    assert_eq!(request.keys(), ["0", "1", "2"]);
    request.ack(0);
    let snap = close_acking(producer, &fake).await;
    assert_eq!((snap.sent, snap.acked, snap.failed), (3, 3, 0));
}

#[tokio::test(start_paused = true)]
async fn a_full_batch_goes_out_without_waiting_for_linger() {
    let settings = ProducerSettings {
        linger: Duration::from_secs(3_600),
        batch_size: 300,
        ..settings()
    };
    let (producer, handle, fake) = start(1, &settings);
    let started = Instant::now();
    for id in 0..40 {
        handle
            .send(id.to_string().as_bytes(), &[7; 20])
            .await
            .unwrap();
    }
    let request = fake.next_request().await;
    assert_eq!(Instant::now(), started, "no time passed");
    assert!(request.batch.len() <= 300, "{}", request.batch.len());
    assert!(request.records() > 1 && request.records() < 40);
    request.ack(0);
    let snap = close_acking(producer, &fake).await;
    assert_eq!((snap.sent, snap.acked, snap.in_flight_records), (40, 40, 0));
}

#[tokio::test(start_paused = true)]
async fn no_more_than_max_in_flight_requests_per_partition() {
    let settings = ProducerSettings {
        max_in_flight: 2,
        ..one_record_batches()
    };
    let (producer, handle, fake) = start(1, &settings);
    for id in 0..6 {
        send(&handle, id).await;
    }
    idle().await;
    assert_eq!(
        fake.sent().len(),
        1,
        "one request until the leader has acked one"
    );
    fake.try_next().unwrap().ack(0);
    idle().await;
    assert_eq!(fake.sent().len(), 3, "then two in flight");
    fake.try_next().unwrap().ack(1);
    idle().await;
    assert_eq!(fake.sent().len(), 4, "one slot freed, one more request");
    let snap = close_acking(producer, &fake).await;
    assert_eq!(snap.acked, 6);
}

#[tokio::test(start_paused = true)]
async fn a_failed_batch_is_retried_with_exponential_backoff() {
    let (producer, handle, fake) = start(1, &settings());
    send(&handle, 1).await;
    let first = fake.next_request().await;
    let failed_at = Instant::now();
    first.reject(ProtocolError::NotLeaderOrFollower);
    let second = fake.next_request().await;
    assert!(Instant::now() >= failed_at + MS(100));
    assert_eq!(second.keys(), ["1"]);
    let failed_again_at = Instant::now();
    second.reject(ProtocolError::NotLeaderOrFollower);
    let third = fake.next_request().await;
    assert!(
        Instant::now() >= failed_again_at + MS(200),
        "the pause doubled"
    );
    third.ack(0);
    let snap = close_acking(producer, &fake).await;
    assert_eq!(
        (snap.acked, snap.failed, snap.possible_duplicates),
        (1, 0, 0)
    );
    assert!(fake.invalidations().contains(&Refresh::Metadata));
}

#[tokio::test(start_paused = true)]
async fn a_failed_leader_lookup_sends_nothing_and_is_retried() {
    let (producer, handle, fake) = start(1, &settings());
    fake.fail_lookups([AttemptError::no_leader("no leader yet")]);
    let started = Instant::now();
    send(&handle, 1).await;
    let request = fake.next_request().await;
    assert!(Instant::now() >= started + MS(100), "retried after a pause");
    assert_eq!(fake.sent().len(), 1, "the failed lookup sent nothing");
    request.ack(0);
    let snap = close_acking(producer, &fake).await;
    assert_eq!((snap.acked, snap.failed), (1, 0));
    assert!(fake.invalidations().contains(&Refresh::Metadata));
}

#[tokio::test(start_paused = true)]
async fn records_expire_at_the_delivery_timeout_with_what_held_them_up() {
    let settings = ProducerSettings {
        delivery_timeout: Duration::from_secs(1),
        max_in_flight: 1,
        ..one_record_batches()
    };
    let (producer, handle, fake) = start(1, &settings);
    let started = Instant::now();
    for id in 0..3 {
        send(&handle, id).await;
    }
    // The first request is never answered; the other two wait in the queue behind it.
    let unanswered = fake.next_request().await;
    let snap = producer.close().await;
    assert!(Instant::now() >= started + Duration::from_secs(1));
    drop(unanswered);
    assert_eq!((snap.sent, snap.acked, snap.failed), (3, 0, 3));
    assert_eq!(
        snap.failed_by_reason,
        [
            (
                "delivery_timeout (last error: no response from the broker in time)".to_string(),
                1
            ),
            (
                "delivery_timeout (never sent: no free in-flight slot in time)".to_string(),
                2
            )
        ]
    );
    assert_eq!(fake.sent().len(), 1, "expired records are not sent");
}

#[tokio::test(start_paused = true)]
async fn a_partition_never_pipelines_over_two_connections() {
    let (producer, handle, fake) = start(2, &settings());
    let p0 = ids_for(0, 2, 0, 2);
    let p1 = ids_for(1, 2, 0, 1);
    send(&handle, p0[0]).await;
    let a = fake.next_request().await;
    assert_eq!((a.partition, a.connection), (0, 1));
    send(&handle, p1[0]).await;
    let b = fake.next_request().await;
    assert_eq!(b.partition, 1);
    // Partition 1's connection breaks: the next lookup returns a new connection.
    b.lose();
    idle().await;
    send(&handle, p0[1]).await;
    idle().await;
    let waiting: Vec<FakeRequest> = std::iter::from_fn(|| fake.try_next()).collect();
    assert!(
        waiting.iter().all(|r| r.partition != 0),
        "partition 0 sent on a new connection while a request was in flight on the old one"
    );
    a.ack(0);
    let mut later = waiting;
    while !later.iter().any(|r| r.partition == 0) {
        later.push(fake.next_request().await);
    }
    let c = later.iter().find(|r| r.partition == 0).unwrap();
    assert_eq!(c.keys(), [p0[1].to_string()]);
    assert_eq!(c.connection, 2);
    for request in later {
        request.ack(10);
    }
    let snap = close_acking(producer, &fake).await;
    assert_eq!((snap.acked, snap.failed), (3, 0));
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_an_unknown_outcome_is_a_possible_duplicate() {
    let (producer, handle, fake) = start(1, &one_record_batches());
    for id in 0..3 {
        send(&handle, id).await;
    }
    idle().await;
    assert_eq!(
        fake.sent().len(),
        1,
        "one request until the leader has acked one"
    );
    let first = fake.try_next().unwrap();
    first.lose();
    let snap = close_acking(producer, &fake).await;
    assert_eq!((snap.acked, snap.possible_duplicates), (3, 1));
}

#[tokio::test(start_paused = true)]
async fn memory_comes_back_exactly_once_whatever_happened_to_the_records() {
    let settings = ProducerSettings {
        delivery_timeout: Duration::from_secs(2),
        ..one_record_batches()
    };
    let (producer, handle, fake) = start(1, &settings);
    for id in 0..3 {
        send(&handle, id).await;
    }
    // Retried once and acked; acked; never answered (expires); then more, acked.
    fake.next_request()
        .await
        .reject(ProtocolError::NotLeaderOrFollower);
    fake.next_request().await.ack(0);
    fake.next_request().await.ack(1);
    let unanswered = fake.next_request().await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    drop(unanswered);
    for id in 3..6 {
        send(&handle, id).await;
    }
    let shared = Arc::clone(&producer.shared);
    let snap = close_acking(producer, &fake).await;
    assert_eq!((snap.acked, snap.failed), (5, 1), "{snap:?}");
    assert_eq!((snap.in_flight_records, snap.buffered_bytes), (0, 0));
    assert_eq!(
        shared.memory.available(),
        shared.memory.capacity(),
        "every charge given back, and only once"
    );
}
