//! The partition senders' state machine over the scripted [`FakeTransport`], with paused time: what
//! goes out when, what a failure does, what the counters and the memory pool say at the end.

use std::num::NonZeroUsize;
use std::{sync::Arc, time::Duration};

use rskafka::client::error::ProtocolError;
use tokio::time::Instant;

use super::{
    delivery::StatsSnapshot,
    errors::{AttemptError, Refresh},
    fake_transport::{FakeRequest, FakeTransport},
    partitioner::java_partition_for_key,
    Producer, ProducerHandle, SendError,
};
use crate::{
    kafka::ProducerIdAndEpoch,
    settings::{Acks, Compression, PartitionerKind, ProducerSettings},
};

const MS: fn(u64) -> Duration = Duration::from_millis;
const FIRST: ProducerIdAndEpoch = ProducerIdAndEpoch { id: 77, epoch: 0 };

/// The product's defaults, but for linger: batches close at once unless a test says otherwise.
fn settings() -> ProducerSettings {
    ProducerSettings {
        acks: Acks::All,
        compression: Compression::None,
        linger: Duration::ZERO,
        batch_size: NonZeroUsize::new(1024 * 1024).unwrap(),
        max_in_flight: NonZeroUsize::new(5).unwrap(),
        buffer_memory: NonZeroUsize::new(32 * 1024 * 1024).unwrap(),
        delivery_timeout: Duration::from_secs(120),
        request_timeout: Duration::from_secs(30),
        max_request_size: NonZeroUsize::new(1024 * 1024).unwrap(),
        partitioner: PartitionerKind::Murmur2,
        enable_idempotence: true,
        metadata_max_age: Duration::from_secs(300),
    }
}

/// Every record its own batch (a batch closes when it reaches `batch_size`).
fn one_record_batches() -> ProducerSettings {
    ProducerSettings {
        batch_size: NonZeroUsize::new(1).unwrap(),
        ..settings()
    }
}

fn start_with(
    partitions: i32,
    settings: &ProducerSettings,
    identity: ProducerIdAndEpoch,
) -> (Producer, ProducerHandle, FakeTransport) {
    let fake = FakeTransport::new(partitions);
    let producer = Producer::with_transport(
        Arc::new(fake.clone()),
        "shoes",
        partitions,
        settings,
        settings.enable_idempotence.then_some(identity),
    );
    let handle = producer.handle();
    (producer, handle, fake)
}

fn start(
    partitions: i32,
    settings: &ProducerSettings,
) -> (Producer, ProducerHandle, FakeTransport) {
    start_with(partitions, settings, FIRST)
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
        batch_size: NonZeroUsize::new(300).unwrap(),
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
        max_in_flight: NonZeroUsize::new(2).unwrap(),
        ..one_record_batches()
    };
    let (producer, handle, fake) = start(1, &settings);
    for id in 0..6 {
        send(&handle, id).await;
    }
    idle().await;
    assert_eq!(fake.sent().len(), 1, "one request until the first is acked");
    fake.try_next().unwrap().ack(0);
    idle().await;
    assert_eq!(fake.sent().len(), 3, "then two in flight");
    assert_eq!(producer.snapshot().requests_in_flight, 2);
    fake.try_next().unwrap().ack(1);
    idle().await;
    assert_eq!(fake.sent().len(), 4, "one slot freed, one more request");
    let snap = close_acking(producer, &fake).await;
    assert_eq!(snap.acked, 6);
    let sequences: Vec<i32> = fake
        .sent()
        .iter()
        .map(|s| s.producer.base_sequence)
        .collect();
    assert_eq!(sequences, [0, 1, 2, 3, 4, 5]);
}

/// A broker takes any first sequence from a producer id and epoch it knows nothing of: a batch
/// pipelined behind a refused first one would be written ahead of it.
#[tokio::test(start_paused = true)]
async fn the_first_batch_under_a_producer_id_and_epoch_goes_alone_until_acked() {
    let (producer, handle, fake) = start(1, &one_record_batches());
    for id in 0..3 {
        send(&handle, id).await;
    }
    let first = fake.next_request().await;
    first.reject(ProtocolError::NotLeaderOrFollower);
    let resent = fake.next_request().await;
    idle().await;
    assert_eq!(
        fake.sent().len(),
        2,
        "nothing pipelined behind the unacknowledged first batch"
    );
    resent.ack(0);
    idle().await;
    assert_eq!(
        fake.sent().len(),
        4,
        "pipelined once the first batch is acked"
    );
    // After an epoch bump the partition starts over: one request until one is acked.
    fake.try_next()
        .unwrap()
        .reject(ProtocolError::UnknownProducerId);
    fake.try_next()
        .unwrap()
        .reject(ProtocolError::OutOfOrderSequenceNumber);
    for id in 3..5 {
        send(&handle, id).await;
    }
    let after_bump = fake.next_request().await;
    idle().await;
    assert_eq!(after_bump.producer().epoch, 1);
    assert!(fake.try_next().is_none(), "one request under the new epoch");
    after_bump.ack(1);
    let snap = close_acking(producer, &fake).await;
    assert_eq!((snap.acked, snap.epoch_bumps), (5, 1));
}

#[tokio::test(start_paused = true)]
async fn a_retried_batch_keeps_its_sequence_and_backs_off_exponentially() {
    let (producer, handle, fake) = start(1, &settings());
    send(&handle, 1).await;
    let first = fake.next_request().await;
    let sequence = first.producer();
    let failed_at = Instant::now();
    first.reject(ProtocolError::NotLeaderOrFollower);
    let second = fake.next_request().await;
    assert!(Instant::now() >= failed_at + MS(100));
    assert_eq!(second.producer(), sequence);
    let failed_again_at = Instant::now();
    second.reject(ProtocolError::NotLeaderOrFollower);
    let third = fake.next_request().await;
    assert!(
        Instant::now() >= failed_again_at + MS(200),
        "the pause doubled"
    );
    assert_eq!(third.producer(), sequence);
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
        max_in_flight: NonZeroUsize::new(1).unwrap(),
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
        [("delivery_timeout (partition unavailable)".to_string(), 3)]
    );
    assert_eq!(snap.failed_timed_out, 3);
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
async fn sequences_count_records_per_partition() {
    let (producer, handle, fake) = start(2, &settings());
    let p0 = ids_for(0, 2, 0, 6);
    let p1 = ids_for(1, 2, 0, 6);
    for chunk in [(0, 3), (3, 4), (4, 6)] {
        for id in &p0[chunk.0..chunk.1] {
            send(&handle, *id).await;
        }
        for id in &p1[chunk.0..chunk.1] {
            send(&handle, *id).await;
        }
        idle().await;
        while let Some(request) = fake.try_next() {
            request.ack(0);
        }
        idle().await;
    }
    let snap = close_acking(producer, &fake).await;
    assert_eq!(snap.acked, 12);
    for partition in 0..2 {
        let sent: Vec<(i32, u32)> = fake
            .sent()
            .iter()
            .filter(|s| s.partition == partition)
            .map(|s| (s.producer.base_sequence, s.records))
            .collect();
        assert_eq!(sent, [(0, 3), (3, 1), (4, 2)], "partition {partition}");
    }
    assert!(fake
        .sent()
        .iter()
        .all(|s| (s.producer.producer_id, s.producer.epoch) == (77, 0)));
    assert_eq!(snap.producer_id_and_epoch, Some((77, 0)));
}

#[tokio::test(start_paused = true)]
async fn a_duplicate_answer_counts_as_acked() {
    let (producer, handle, fake) = start(1, &settings());
    send(&handle, 1).await;
    fake.next_request().await.lose();
    fake.next_request()
        .await
        .reject(ProtocolError::DuplicateSequenceNumber);
    let snap = close_acking(producer, &fake).await;
    assert_eq!(
        (
            snap.acked,
            snap.failed,
            snap.possible_duplicates,
            snap.epoch_bumps
        ),
        (1, 0, 0, 0)
    );
}

#[tokio::test(start_paused = true)]
async fn batches_refused_behind_a_failed_one_are_resent_in_order_with_their_sequences() {
    let (producer, handle, fake) = start(1, &one_record_batches());
    send(&handle, 0).await;
    fake.next_request().await.ack(0);
    for id in 1..4 {
        send(&handle, id).await;
    }
    idle().await;
    let requests: Vec<FakeRequest> = std::iter::from_fn(|| fake.try_next()).collect();
    assert_eq!(requests.len(), 3, "pipelined");
    let mut requests = requests.into_iter();
    requests
        .next()
        .unwrap()
        .reject(ProtocolError::NotLeaderOrFollower);
    for request in requests {
        request.reject(ProtocolError::OutOfOrderSequenceNumber);
    }
    let snap = close_acking(producer, &fake).await;
    assert_eq!((snap.acked, snap.epoch_bumps), (4, 0));
    let sent: Vec<i32> = fake
        .sent()
        .iter()
        .map(|s| s.producer.base_sequence)
        .collect();
    assert_eq!(
        sent,
        [0, 1, 2, 3, 1, 2, 3],
        "resent in order, same sequences"
    );
}

#[tokio::test(start_paused = true)]
async fn an_unexplained_sequence_error_bumps_the_epoch_and_restarts_at_zero() {
    let (producer, handle, fake) = start(1, &one_record_batches());
    for id in 0..2 {
        send(&handle, id).await;
    }
    let first = fake.next_request().await;
    first.ack(0);
    let second = fake.next_request().await;
    assert_eq!(second.producer().base_sequence, 1);
    second.reject(ProtocolError::OutOfOrderSequenceNumber);
    let resent = fake.next_request().await;
    assert_eq!(
        (resent.producer().epoch, resent.producer().base_sequence),
        (1, 0)
    );
    assert_eq!(resent.keys(), ["1"]);
    resent.ack(1);
    send(&handle, 2).await;
    let next = fake.next_request().await;
    assert_eq!(
        (next.producer().epoch, next.producer().base_sequence),
        (1, 1)
    );
    next.ack(2);
    let snap = close_acking(producer, &fake).await;
    assert_eq!(
        (snap.acked, snap.epoch_bumps, snap.possible_duplicates),
        (3, 1, 0)
    );
    assert_eq!(snap.producer_id_and_epoch, Some((77, 1)));
}

#[tokio::test(start_paused = true)]
async fn an_epoch_bump_after_an_unknown_outcome_counts_possible_duplicates() {
    let (producer, handle, fake) = start(1, &settings());
    for id in 0..4 {
        send(&handle, id).await;
    }
    // Written or not, nobody knows; then the broker claims no knowledge of the producer.
    fake.next_request().await.lose();
    fake.next_request()
        .await
        .reject(ProtocolError::UnknownProducerId);
    let resent = fake.next_request().await;
    assert_eq!(resent.producer().epoch, 1);
    resent.ack(0);
    let snap = close_acking(producer, &fake).await;
    assert_eq!(
        (snap.acked, snap.epoch_bumps, snap.possible_duplicates),
        (4, 1, 4)
    );
}

#[tokio::test(start_paused = true)]
async fn a_batch_expired_after_an_unknown_outcome_resequences_the_rest_and_other_partitions_follow()
{
    let settings = ProducerSettings {
        delivery_timeout: Duration::from_secs(2),
        ..one_record_batches()
    };
    let (producer, handle, fake) = start(2, &settings);
    let p0 = ids_for(0, 2, 0, 3);
    let p1 = ids_for(1, 2, 0, 2);
    send(&handle, p1[0]).await;
    fake.next_request().await.ack(0);
    send(&handle, p0[0]).await;
    let p0_first = fake.next_request().await;
    assert_eq!(p0_first.partition, 0);
    p0_first.ack(0);
    send(&handle, p0[1]).await;
    fake.next_request().await.lose();
    // The resend is never answered: it times out at the delivery timeout (2 s after it opened).
    let unanswered = fake.next_request().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    send(&handle, p0[2]).await;
    let behind = fake.next_request().await;
    assert_eq!(behind.producer().base_sequence, 2);
    behind.reject(ProtocolError::OutOfOrderSequenceNumber);
    let resequenced = fake.next_request().await;
    drop(unanswered);
    assert_eq!(resequenced.keys(), [p0[2].to_string()]);
    assert_eq!(
        (
            resequenced.producer().epoch,
            resequenced.producer().base_sequence
        ),
        (1, 0)
    );
    resequenced.ack(5);
    // Partition 1 had nothing in flight: its next batch moves to the new epoch from 0.
    send(&handle, p1[1]).await;
    let p1_next = fake.next_request().await;
    assert_eq!(
        (
            p1_next.partition,
            p1_next.producer().epoch,
            p1_next.producer().base_sequence
        ),
        (1, 1, 0)
    );
    p1_next.ack(1);
    let snap = close_acking(producer, &fake).await;
    assert_eq!((snap.acked, snap.failed, snap.epoch_bumps), (4, 1, 1));
    assert_eq!(
        snap.failed_by_reason,
        [("delivery_timeout (partition unavailable)".to_string(), 1)]
    );
    assert_eq!(
        snap.possible_duplicates, 0,
        "the resequenced batch was never written"
    );
}

#[tokio::test(start_paused = true)]
async fn a_batch_expired_in_flight_keeps_the_connection_and_a_later_ack_resolves_its_sequence() {
    let settings = ProducerSettings {
        delivery_timeout: Duration::from_secs(2),
        ..one_record_batches()
    };
    let (producer, handle, fake) = start(1, &settings);
    send(&handle, 0).await;
    fake.next_request().await.ack(0);
    send(&handle, 1).await;
    // No answer: the batch expires in flight, its outcome unknown.
    let unanswered = fake.next_request().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    send(&handle, 2).await;
    let behind = fake.next_request().await;
    assert_eq!(behind.producer().base_sequence, 2);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(
        !fake.invalidations().contains(&Refresh::Connection),
        "an expiry is no reason to drop the connection"
    );
    // The broker wrote both: the ack of the later batch proves the expired one written.
    behind.ack(2);
    drop(unanswered);
    send(&handle, 3).await;
    let next = fake.next_request().await;
    assert_eq!(
        (next.producer().epoch, next.producer().base_sequence),
        (0, 3),
        "no epoch bump"
    );
    next.ack(3);
    let snap = close_acking(producer, &fake).await;
    assert_eq!((snap.acked, snap.failed, snap.epoch_bumps), (3, 1, 0));
}

#[tokio::test(start_paused = true)]
async fn one_request_carries_the_waiting_batch_of_every_partition_of_the_broker() {
    let settings = ProducerSettings {
        max_in_flight: NonZeroUsize::new(1).unwrap(),
        ..settings()
    };
    let (producer, handle, fake) = start(4, &settings);
    for id in 0..40 {
        send(&handle, id).await;
    }
    idle().await;
    let mut first: Vec<i32> = fake.sent().iter().map(|s| s.partition).collect();
    first.sort_unstable();
    assert_eq!(first, [0, 1, 2, 3], "one request, one batch per partition");
    // While it is in flight, each partition's next batch waits for the next request.
    for id in 40..80 {
        send(&handle, id).await;
    }
    idle().await;
    assert_eq!(fake.sent().len(), 4);
    let snap = close_acking(producer, &fake).await;
    assert_eq!(snap.acked, 80);
    let sent = fake.sent();
    assert_eq!(sent.len(), 8);
    assert!(sent[4..].iter().all(|s| s.request == 2), "{sent:?}");
}

#[tokio::test(start_paused = true)]
async fn a_throttled_answer_holds_the_whole_connection() {
    let (producer, handle, fake) = start(2, &settings());
    send(&handle, ids_for(0, 2, 0, 1)[0]).await;
    let first = fake.next_request().await;
    let answered_at = Instant::now();
    first.ack_throttled(0, MS(500));
    // Another partition on the same connection waits too.
    send(&handle, ids_for(1, 2, 0, 1)[0]).await;
    let second = fake.next_request().await;
    assert_eq!(second.partition, 1);
    assert!(Instant::now() >= answered_at + MS(500));
    second.ack(0);
    let snap = close_acking(producer, &fake).await;
    assert_eq!((snap.acked, snap.failed), (2, 0));
    assert_eq!(snap.throttled, MS(500), "the time held is in the books");
}

#[tokio::test(start_paused = true)]
async fn a_batch_held_past_its_connections_renewal_goes_out_on_the_new_one() {
    let (producer, handle, fake) = start(2, &settings());
    send(&handle, ids_for(0, 2, 0, 1)[0]).await;
    let first = fake.next_request().await;
    let old = first.connection;
    first.ack_throttled(0, MS(500));
    // Held by the throttle on the old connection, which then comes due for renewal.
    send(&handle, ids_for(1, 2, 0, 1)[0]).await;
    idle().await;
    fake.renew_connection();
    let second = fake.next_request().await;
    assert_eq!(second.partition, 1);
    assert_ne!(second.connection, old, "never sent on the old connection");
    second.ack(0);
    let snap = close_acking(producer, &fake).await;
    assert_eq!((snap.acked, snap.failed), (2, 0));
    assert!(
        snap.requests.errors_by_reason.is_empty(),
        "a batch not sent is no failed request: {:?}",
        snap.requests.errors_by_reason
    );
    assert_eq!(fake.sent().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn an_exhausted_epoch_takes_a_new_producer_id() {
    let last = ProducerIdAndEpoch {
        id: 77,
        epoch: i16::MAX,
    };
    let (producer, handle, fake) = start_with(1, &settings(), last);
    send(&handle, 1).await;
    fake.next_request()
        .await
        .reject(ProtocolError::OutOfOrderSequenceNumber);
    let resent = fake.next_request().await;
    assert_eq!(
        (resent.producer().producer_id, resent.producer().epoch),
        (1_000, 0)
    );
    resent.ack(0);
    let snap = close_acking(producer, &fake).await;
    assert_eq!(snap.producer_id_and_epoch, Some((1_000, 0)));
    assert_eq!(snap.epoch_bumps, 1);
}

#[tokio::test(start_paused = true)]
async fn a_batch_too_large_is_split_down_to_what_the_topic_takes() {
    let (producer, handle, fake) = start(1, &settings());
    for id in 0..8 {
        send(&handle, id).await;
    }
    send(&handle, 8).await;
    let whole = fake.next_request().await;
    assert_eq!(whole.records(), 9);
    whole.reject(ProtocolError::MessageTooLarge);
    let first = fake.next_request().await;
    assert_eq!(first.keys(), ["0", "1", "2", "3"]);
    assert_eq!(first.producer().base_sequence, 0);
    first.reject(ProtocolError::MessageTooLarge);
    let mut rest = Vec::new();
    for _ in 0..3 {
        let request = fake.next_request().await;
        rest.push((request.keys(), request.producer().base_sequence));
        request.ack(0);
    }
    assert_eq!(
        rest,
        [
            (vec!["0".to_string(), "1".into()], 0),
            (vec!["2".to_string(), "3".into()], 2),
            (
                vec![
                    "4".to_string(),
                    "5".into(),
                    "6".into(),
                    "7".into(),
                    "8".into()
                ],
                4
            ),
        ]
    );
    let snap = close_acking(producer, &fake).await;
    assert_eq!((snap.acked, snap.failed, snap.epoch_bumps), (9, 0, 0));
    assert_eq!(snap.fatal_error, None);
}

#[tokio::test(start_paused = true)]
async fn a_single_record_too_large_fails_alone_and_ends_the_run() {
    let (producer, handle, fake) = start(1, &one_record_batches());
    send(&handle, 0).await;
    fake.next_request().await.ack(0);
    send(&handle, 1).await;
    fake.next_request()
        .await
        .reject(ProtocolError::MessageTooLarge);
    idle().await;
    let refused = handle.send(b"2", b"v").await;
    assert!(
        matches!(refused, Err(SendError::Fatal(ref m)) if m.contains("max.message.bytes")),
        "{refused:?}"
    );
    let snap = close_acking(producer, &fake).await;
    assert_eq!((snap.sent, snap.acked, snap.failed), (2, 1, 1));
    assert_eq!(
        snap.failed_by_reason,
        [("MESSAGE_TOO_LARGE".to_string(), 1)]
    );
    assert_eq!(snap.failed_timed_out, 0);
}

#[tokio::test(start_paused = true)]
async fn a_fatal_error_stops_sending_and_fails_what_was_not_sent() {
    let settings = ProducerSettings {
        max_in_flight: NonZeroUsize::new(1).unwrap(),
        ..one_record_batches()
    };
    let (producer, handle, fake) = start(2, &settings);
    for id in 0..10 {
        send(&handle, id).await;
    }
    idle().await;
    let first = fake.try_next().unwrap();
    // The other partition's first batch rides in the same request (one at a time on the
    // connection); its part of the answer is an ack.
    let other = fake.try_next();
    first.reject(ProtocolError::TopicAuthorizationFailed);
    if let Some(other) = other {
        other.ack(0);
    }
    idle().await;
    let refused = handle.send(b"10", b"v").await;
    assert!(
        matches!(refused, Err(SendError::Fatal(ref m)) if m.contains("WRITE on the topic")),
        "{refused:?}"
    );
    let snap = close_acking(producer, &fake).await;
    assert_eq!(snap.sent, 10);
    assert_eq!(snap.acked + snap.failed, 10);
    assert!(snap
        .fatal_error
        .as_deref()
        .unwrap()
        .contains("TOPIC_AUTHORIZATION_FAILED"));
    let reasons: Vec<&str> = snap
        .failed_by_reason
        .iter()
        .map(|(r, _)| r.as_str())
        .collect();
    assert!(
        reasons.contains(&"TOPIC_AUTHORIZATION_FAILED"),
        "{reasons:?}"
    );
    assert!(
        fake.sent().len() <= 2,
        "at most the other partition's request in flight went out"
    );
}

#[tokio::test(start_paused = true)]
async fn partitions_added_to_the_topic_get_records() {
    let settings = ProducerSettings {
        metadata_max_age: Duration::from_secs(1),
        partitioner: PartitionerKind::RoundRobin,
        ..settings()
    };
    let (producer, handle, fake) = start(2, &settings);
    fake.set_partitions(4);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    for id in 0..40 {
        send(&handle, id).await;
    }
    let snap = close_acking(producer, &fake).await;
    assert_eq!(snap.acked, 40);
    let mut partitions: Vec<i32> = fake.sent().iter().map(|s| s.partition).collect();
    partitions.sort_unstable();
    partitions.dedup();
    assert_eq!(partitions, [0, 1, 2, 3]);
}

#[tokio::test(start_paused = true)]
async fn without_idempotence_a_retry_after_an_unknown_outcome_is_a_possible_duplicate() {
    let settings = ProducerSettings {
        enable_idempotence: false,
        ..one_record_batches()
    };
    let (producer, handle, fake) = start(1, &settings);
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
    assert_eq!(first.producer(), super::record_batch::ProducerState::NONE);
    first.lose();
    let snap = close_acking(producer, &fake).await;
    assert_eq!((snap.acked, snap.possible_duplicates), (3, 1));
    assert_eq!(snap.producer_id_and_epoch, None);
}

#[tokio::test(start_paused = true)]
async fn every_attempt_that_reached_a_connection_is_reported() {
    let (producer, handle, fake) = start(1, &settings());
    fake.fail_lookups([AttemptError::no_leader("no leader yet")]);
    send(&handle, 1).await;
    fake.next_request()
        .await
        .reject(ProtocolError::NotEnoughReplicas);
    fake.next_request().await.ack(0);
    let snap = close_acking(producer, &fake).await;
    assert_eq!(snap.acked, 1);
    let requests = &snap.requests;
    assert_eq!(
        requests.finished, 2,
        "the failed lookup sent nothing; both requests are reported"
    );
    let refused = [("NOT_ENOUGH_REPLICAS".to_string(), 1)];
    assert_eq!(requests.errors_by_reason, refused);
    assert_eq!(requests.retries_by_reason, refused);
    assert_eq!(
        (requests.batch_records.count(), requests.batch_records.sum()),
        (1, 1),
        "the batch counts once, when acknowledged"
    );
    assert_eq!(snap.ack_latency_us.count(), 1);
}

#[tokio::test(start_paused = true)]
async fn memory_comes_back_exactly_once_whatever_happened_to_the_records() {
    let settings = ProducerSettings {
        delivery_timeout: Duration::from_secs(2),
        ..settings()
    };
    let (producer, handle, fake) = start(1, &settings);
    for id in 0..9 {
        send(&handle, id).await;
    }
    // Split in two; the first half retried once and acked; the second never answered (expires).
    fake.next_request()
        .await
        .reject(ProtocolError::MessageTooLarge);
    fake.next_request()
        .await
        .reject(ProtocolError::NotLeaderOrFollower);
    fake.next_request().await.ack(0);
    let unanswered = fake.next_request().await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    drop(unanswered);
    for id in 9..12 {
        send(&handle, id).await;
    }
    let shared = Arc::clone(&producer.shared);
    let snap = close_acking(producer, &fake).await;
    assert_eq!((snap.acked, snap.failed), (7, 5), "{snap:?}");
    assert_eq!(
        (
            snap.in_flight_records,
            snap.buffered_bytes,
            snap.requests_in_flight
        ),
        (0, 0, 0)
    );
    assert_eq!(
        shared.memory.available(),
        shared.memory.capacity(),
        "every charge given back, and only once"
    );
}
