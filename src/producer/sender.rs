//! One task per partition: closes batches, hands them to the sink of the leader's connection
//! ([`super::sink`], which carries them in produce requests shared with the broker's other
//! partitions), keeps up to `max_in_flight` of them pipelined, retries failures in order, enforces
//! the delivery timeout and reports every batch exactly once — acked or failed.
//!
//! Ordering: a partition's batches reach its sink in order, the sink puts at most one of them in a
//! request and sends its requests in order, and the broker handles a connection's requests in
//! order. When one fails with a retriable error, no new batch is sent until every request in
//! flight has answered; the failed batches are then resent one at a time, oldest first, and
//! pipelining resumes when they are through. A partition's requests are never pipelined over two
//! connections: when the leader's connection is replaced while requests are in flight on the old
//! one, the next batch waits for them, because the broker could handle a request on the new
//! connection before those on the old one.
//!
//! With idempotence (see [`super::idempotence`]) that is enough for exactly once and in order: each
//! batch carries its sequence number through every retry, so the broker refuses a batch that
//! overtook a failed one (`OUT_OF_ORDER_SEQUENCE_NUMBER`, retried behind it) and answers a batch it
//! already holds as a duplicate (counted as acked). One gap remains: a broker takes any first
//! sequence from a producer id and epoch it holds no state for, so a partition sends one request at
//! a time until its first batch under the current producer id and epoch is acknowledged (at start,
//! and after moving to a new epoch). A partition whose chain of sequences breaks stops sending, lets
//! its requests in flight answer, bumps the producer epoch and resends what is unacknowledged from
//! sequence 0. A batch that fails for good after an attempt whose outcome is unknown (its delivery
//! timeout passed) may be on the log: its sequence is unresolved, as in the Java client. Later
//! batches go on; an ack of the partition's last sequence proves it written, an
//! `OUT_OF_ORDER_SEQUENCE_NUMBER` proves the gap, and if nothing is left in flight without either,
//! the epoch is bumped.
//!
//! Without idempotence, batches pipelined behind a failed one that the broker accepted are written
//! ahead of it, as with the Java client without idempotence and more than one request in flight; so
//! until the partition's leader has acknowledged a request (at start and after any failure) only one
//! request is in flight. A batch retried after an unknown outcome may then be written twice and
//! counts as a possible duplicate.
//!
//! A batch the topic finds too large (`MESSAGE_TOO_LARGE`) is cut in two and the halves go out in
//! its place, with its sequence numbers; a single record too large fails alone and ends the run.
//!
//! Each failed batch backs off on its own attempts (100 ms doubling to 1 s, with jitter). A batch
//! whose delivery timeout passes while it is in flight fails at once; the request goes on for the
//! other partitions in it, and the connection stays.

use std::{
    collections::VecDeque,
    future::Future,
    pin::Pin,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, OnceLock,
    },
    task::{Context, Poll},
    time::Duration,
};

use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use rskafka::client::error::ProtocolError;
use tokio::{task::JoinHandle, time::Instant};
use tracing::Level;

use super::{
    accumulator::{OpenBatch, PartitionQueue, Take},
    conditions::{Condition, ConditionLog},
    delivery::RequestReport,
    errors::{AttemptError, Cause, Kind, SequenceFault},
    idempotence::{sequence_after, Bump, Identity, PartitionSequence},
    memory::MemoryPool,
    partitioner::Partitioner,
    record_batch::{self, ProducerState},
    sink::{AttemptResult, Sinks},
    stats::Stats,
    transport::{Leader, PartitionAnswer, Transport},
};
use crate::settings::ProducerSettings;

/// The pause before a batch's first resend (Java's `retry.backoff.ms`); it doubles with each of the
/// batch's own failed attempts up to [`RETRY_BACKOFF_MAX`] (`retry.backoff.max.ms`).
const RETRY_BACKOFF: Duration = Duration::from_millis(100);
const RETRY_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// The pause before resending a batch after its `attempts`-th failed attempt, with up to 20 % added
/// (as Java's jitter) so partitions that failed together do not retry in lockstep. The jitter is a
/// hash of the batch's identity, not a random draw, so a run under simulation replays exactly.
fn retry_pause(partition: i32, order: (u64, u32), attempts: u32) -> Duration {
    let doublings = attempts.saturating_sub(1).min(16);
    let pause = RETRY_BACKOFF
        .saturating_mul(1 << doublings)
        .min(RETRY_BACKOFF_MAX);
    let mut x = (u64::from(partition as u32) << 32)
        ^ order.0.rotate_left(13)
        ^ (u64::from(order.1) << 7)
        ^ u64::from(attempts);
    // splitmix64's finalizer.
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^= x >> 31;
    let permille = u32::try_from(x % 201).expect("below 201");
    pause + pause * permille / 1_000
}

/// The failure reason of records not sent because the run stopped on a fatal error.
pub(crate) const ABORTED: &str = "not sent: the run stopped on a fatal error";

/// State shared by the handles and every partition sender of one producer.
#[derive(Debug)]
pub(crate) struct Shared {
    pub topic: Arc<str>,
    pub settings: ProducerSettings,
    pub transport: Arc<dyn Transport>,
    /// The per-broker sinks the partitions' batches travel through.
    pub sinks: Sinks,
    pub stats: Arc<Stats>,
    /// What holds records back, told once when it starts and once when it ends.
    pub conditions: ConditionLog,
    pub memory: MemoryPool,
    pub partitioner: Partitioner,
    /// One queue per partition, indexed by partition id; grows when partitions are added.
    pub partitions: RwLock<Vec<Arc<PartitionQueue>>>,
    /// The sender task of each partition.
    pub senders: Mutex<Vec<JoinHandle<()>>>,
    /// Set by `close`: senders drain their partition and stop.
    pub closing: AtomicBool,
    /// The idempotent producer's id and epoch; `None` without idempotence.
    pub identity: Option<Identity>,
    /// The advice after the first split batch was given.
    pub split_advised: AtomicBool,
    /// Where a test learns of each batch's end (see [`BatchTap`]).
    pub tap: OnceLock<Arc<dyn BatchTap>>,
}

/// Told of each batch's end, for checks that need to know which records were acked where (the
/// simulated cluster of `tests/simulation/`).
pub trait BatchTap: std::fmt::Debug + Send + Sync + 'static {
    /// `records` records of `partition` were acknowledged at `base_offset`.
    fn acked(&self, partition: i32, base_offset: i64, records: u32);
    /// `records` records of `partition` failed for `reason`.
    fn failed(&self, partition: i32, records: u32, reason: &str);
}

impl Shared {
    /// Ends the run: the first fatal error is recorded and logged, and every sender wakes to fail
    /// what it has not sent.
    pub(super) fn fail_run(&self, message: String) {
        if self.stats.set_fatal(message) {
            tracing::error!(
                topic = %self.topic,
                error = self.stats.fatal_error().unwrap_or_default(),
                "fatal error: the run stops"
            );
            for queue in self.partitions.read().iter() {
                queue.wake.notify_one();
            }
        }
    }

    fn fatal(&self) -> bool {
        self.stats.fatal_error().is_some()
    }
}

/// Starts the sender of a new partition.
pub(crate) fn spawn(
    shared: &Arc<Shared>,
    partition: i32,
    queue: Arc<PartitionQueue>,
) -> JoinHandle<()> {
    let sender = PartitionSender {
        partition,
        sequence: shared
            .identity
            .as_ref()
            .map(|identity| PartitionSequence::new(identity.current())),
        shared: Arc::clone(shared),
        queue,
        in_flight: VecDeque::new(),
        retry: VecDeque::new(),
        retry_at: Instant::now(),
        proven: false,
        reset_pending: false,
        unresolved: false,
        acked_end: None,
        last_cause: None,
    };
    tokio::spawn(sender.run())
}

/// A closed batch on its way to the broker, with what its final report needs.
#[derive(Debug)]
struct ReadyBatch {
    /// The batch's place in its partition: the order it opened in, then (for the halves of a split
    /// batch) the index of its first record in the original.
    order: (u64, u32),
    wire: Bytes,
    records: u32,
    /// Size before compression.
    encoded_len: usize,
    opened_at: Instant,
    send_offsets_us: Vec<u32>,
    memory: usize,
    payload_bytes: u64,
    /// The producer id, epoch and first sequence in `wire` ([`ProducerState::NONE`] without
    /// idempotence).
    producer: ProducerState,
    attempts: u32,
    /// Idempotence: an attempt under the current producer state may have been written. Harmless
    /// while the batch keeps that state (the broker answers a resend as a duplicate).
    outcome_unknown: bool,
    /// An earlier copy may be on the topic: a later ack counts as a possible duplicate.
    possibly_duplicated: bool,
    last_cause: Option<Cause>,
    /// Cut from a batch of this many bytes (before compression) that the topic found too large.
    split_from: Option<usize>,
}

type AttemptFuture = Pin<Box<dyn Future<Output = AttemptResult> + Send>>;

struct InFlight {
    batch: ReadyBatch,
    /// The request on the wire; `None` once it has finished (see `result`).
    request: Option<AttemptFuture>,
    result: Option<AttemptResult>,
    /// Where the request went; `None` when no leader was found (nothing was sent).
    leader: Option<Leader>,
    sent_at: Instant,
    /// The producer state the request carried.
    sent_as: ProducerState,
}

/// What [`PartitionSender::dispatch`] did with a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dispatched {
    /// In flight (or already failed, to be completed in order).
    Queued,
    /// Held back until the requests in flight on another connection have answered.
    Held,
}

/// Polls every request in flight, in send order; ready when the oldest one has finished.
fn poll_oldest(in_flight: &mut VecDeque<InFlight>, cx: &mut Context<'_>) -> Poll<()> {
    for entry in in_flight.iter_mut() {
        if let Some(request) = entry.request.as_mut() {
            if let Poll::Ready(result) = request.as_mut().poll(cx) {
                entry.result = Some(result);
                entry.request = None;
            }
        }
    }
    match in_flight.front() {
        Some(oldest) if oldest.result.is_some() => Poll::Ready(()),
        _ => Poll::Pending,
    }
}

struct PartitionSender {
    partition: i32,
    shared: Arc<Shared>,
    queue: Arc<PartitionQueue>,
    in_flight: VecDeque<InFlight>,
    /// Failed batches to resend, in partition order.
    retry: VecDeque<ReadyBatch>,
    retry_at: Instant,
    /// Pipelining is safe: without idempotence, the last request of this partition succeeded; with
    /// it, a batch under the current producer id and epoch was acknowledged (see the module comment).
    proven: bool,
    /// With idempotence: the partition's next sequence number.
    sequence: Option<PartitionSequence>,
    /// The sequence chain broke: once nothing is in flight, bump the epoch and resequence.
    reset_pending: bool,
    /// A batch with a sequence expired after an attempt whose outcome is unknown: the broker may
    /// or may not hold it. Once nothing is in flight or waiting for a retry, an ack of a later
    /// batch proves it was written; otherwise the chain is broken (Java's unresolved sequences).
    unresolved: bool,
    /// With idempotence: the sequence after the last acknowledged batch under the partition's
    /// current producer id and epoch.
    acked_end: Option<i32>,
    /// Why the partition's last attempt failed; cleared by an ack.
    last_cause: Option<Cause>,
}

impl PartitionSender {
    async fn run(mut self) {
        loop {
            let now = Instant::now();
            self.expire_waiting(now);
            if self.shared.fatal() {
                self.abort_waiting(now);
            }
            if self.unresolved && self.in_flight.is_empty() && self.retry.is_empty() {
                self.resolve();
            }
            if self.reset_pending && self.in_flight.is_empty() {
                self.resequence().await;
            }
            let mut wake_at = None;
            if !self.reset_pending {
                if !self.retry.is_empty() {
                    if self.in_flight.is_empty() {
                        if now >= self.retry_at {
                            let batch = self.retry.pop_front().expect("checked");
                            self.dispatch(batch, now).await;
                        } else {
                            wake_at = Some(self.retry_at);
                        }
                    }
                } else {
                    wake_at = self.dispatch_ready(now).await;
                }
            }
            let closing = self.shared.closing.load(Ordering::Acquire);
            if closing
                && self.in_flight.is_empty()
                && self.retry.is_empty()
                && self.queue.shut_if_empty()
            {
                return;
            }
            let queue = Arc::clone(&self.queue);
            let wake = queue.wake.notified();
            let busy = !self.in_flight.is_empty();
            let in_flight = &mut self.in_flight;
            let oldest_done = tokio::select! {
                biased;
                () = std::future::poll_fn(|cx| poll_oldest(in_flight, cx)), if busy => true,
                () = wake => false,
                () = sleep_until(wake_at), if wake_at.is_some() => false,
            };
            if oldest_done {
                let oldest = self.in_flight.pop_front().expect("guarded");
                self.complete(oldest).await;
            }
        }
    }

    /// Sends ready batches while in-flight slots are free; returns when to look again (linger or
    /// throttle), if anything is waiting for time to pass.
    async fn dispatch_ready(&mut self, now: Instant) -> Option<Instant> {
        let shared = Arc::clone(&self.shared);
        let settings = &shared.settings;
        let force = shared.closing.load(Ordering::Acquire);
        while self.in_flight.len() < self.in_flight_limit() {
            if let (Some(sequence), Some(identity)) = (&mut self.sequence, &shared.identity) {
                // Another partition bumped the epoch: move to it from sequence 0, once nothing is
                // in flight under the old one.
                let current = identity.current();
                if sequence.identity() != current {
                    if !self.in_flight.is_empty() {
                        return None;
                    }
                    *sequence = PartitionSequence::new(current);
                    self.proven = false;
                    self.unresolved = false;
                    self.acked_end = None;
                }
            }
            let batch = match self.queue.take(settings.linger, force, now) {
                Take::LingerUntil(due) => return due,
                Take::Batch(batch) => batch,
            };
            if shared.fatal() {
                self.fail_raw(batch.memory, batch.records(), ABORTED, false);
                continue;
            }
            match self.close_batch(batch) {
                Some(ready) => {
                    if self.dispatch(ready, now).await == Dispatched::Held {
                        return None;
                    }
                }
                None => continue,
            }
        }
        None
    }

    /// Requests this partition may have in flight now: one until pipelining is safe (see the
    /// module comment).
    fn in_flight_limit(&self) -> usize {
        if self.proven {
            self.shared.settings.max_in_flight.get()
        } else {
            1
        }
    }

    /// Finishes an open batch into wire bytes (header, producer state, compression, CRC); a batch
    /// that cannot be compressed fails here.
    fn close_batch(&mut self, batch: OpenBatch) -> Option<ReadyBatch> {
        let records = batch.records();
        let encoded_len = batch.writer.encoded_len();
        let payload_bytes = batch.writer.payload_bytes();
        let producer = self
            .sequence
            .as_mut()
            .map_or(ProducerState::NONE, |s| s.assign(records));
        match batch
            .writer
            .finish(self.shared.settings.compression, producer)
        {
            Ok(wire) => Some(ReadyBatch {
                order: (batch.seq, 0),
                wire,
                records,
                encoded_len,
                opened_at: batch.opened_at,
                send_offsets_us: batch.send_offsets_us,
                memory: batch.memory,
                payload_bytes,
                producer,
                attempts: 0,
                outcome_unknown: false,
                possibly_duplicated: false,
                last_cause: None,
                split_from: None,
            }),
            Err(e) => {
                if let Some(sequence) = &mut self.sequence {
                    sequence.unassign(producer);
                }
                self.fail_raw(
                    batch.memory,
                    records,
                    &format!("compression failed: {e}"),
                    false,
                );
                None
            }
        }
    }

    fn deadline(&self, batch: &ReadyBatch) -> Instant {
        batch.opened_at + self.shared.settings.delivery_timeout
    }

    /// Starts one produce attempt for `batch`: finds the leader (here, in order), then hands the
    /// batch to the sink of the leader's connection behind the ones already in flight — unless
    /// those are on another connection: then the batch waits, first in line, until they have
    /// answered.
    async fn dispatch(&mut self, mut batch: ReadyBatch, now: Instant) -> Dispatched {
        let deadline = self.deadline(&batch);
        let lookup_deadline = now
            + deadline
                .saturating_duration_since(now)
                .min(self.shared.settings.request_timeout);
        let lookup = tokio::time::timeout_at(
            lookup_deadline,
            self.shared.transport.leader(self.partition),
        )
        .await;
        if let Ok(Ok(leader)) = &lookup {
            let elsewhere = self.in_flight.iter().any(|f| {
                f.request.is_some()
                    && f.leader
                        .as_ref()
                        .is_some_and(|l| l.connection != leader.connection)
            });
            if elsewhere {
                self.hold(batch);
                self.retry_at = now;
                return Dispatched::Held;
            }
        }
        batch.attempts += 1;
        let sent_as = batch.producer;
        let entry = match lookup {
            Ok(Ok(leader)) => {
                let answer = self
                    .shared
                    .sinks
                    .submit(&leader, self.partition, batch.wire.clone());
                self.shared.stats.request_sent();
                let request = async move {
                    tokio::time::timeout_at(deadline, answer)
                        .await
                        .unwrap_or_else(|_| Err(AttemptError::expired_in_flight()))
                };
                InFlight {
                    batch,
                    request: Some(Box::pin(request)),
                    result: None,
                    leader: Some(leader),
                    sent_at: now,
                    sent_as,
                }
            }
            Ok(Err(error)) => InFlight {
                batch,
                request: None,
                result: Some(Err(error)),
                leader: None,
                sent_at: now,
                sent_as,
            },
            Err(_) => InFlight {
                batch,
                request: None,
                result: Some(Err(AttemptError::no_leader(
                    "no connection to the partition leader in time",
                ))),
                leader: None,
                sent_at: now,
                sent_as,
            },
        };
        self.in_flight.push_back(entry);
        Dispatched::Queued
    }

    /// Puts `batch` among the batches waiting to be (re)sent, which go out in partition order.
    fn hold(&mut self, batch: ReadyBatch) {
        let at = self.retry.partition_point(|b| b.order < batch.order);
        self.retry.insert(at, batch);
    }

    /// Settles the oldest request's outcome: ack, retry, split or fail.
    async fn complete(&mut self, entry: InFlight) {
        let InFlight {
            batch,
            result,
            leader,
            sent_at,
            sent_as,
            ..
        } = entry;
        // What every report of this request shares; only requests that reached a broker connection
        // are reported.
        let request = leader.is_some().then(|| RequestReport {
            records: batch.records,
            batch_bytes: batch.wire.len(),
            latency: sent_at.elapsed(),
            error: None,
            will_retry: false,
            throttle: None,
        });
        let error = match result.expect("finished") {
            // A duplicate is a batch the broker already holds from an earlier attempt.
            Ok(answer)
                if matches!(
                    answer.error,
                    None | Some(ProtocolError::DuplicateSequenceNumber)
                ) =>
            {
                if let Some(request) = request {
                    self.shared.stats.request_finished(&RequestReport {
                        throttle: answer.throttle,
                        ..request
                    });
                }
                self.acked(batch, answer);
                return;
            }
            Ok(answer) => AttemptError::from_broker(answer.error.expect("an error")),
            Err(error) => error,
        };
        if error.kind == Kind::Renewed {
            // Nothing was sent: the batch goes to the new connection as if it never left.
            self.shared.stats.request_unsent();
            let mut batch = batch;
            batch.attempts -= 1;
            self.hold(batch);
            self.retry_at = Instant::now();
            return;
        }
        let will_retry = self.failed(batch, &error, leader.as_ref(), sent_as).await;
        if let Some(request) = request {
            self.shared.stats.request_finished(&RequestReport {
                error: Some(&error.code),
                will_retry,
                ..request
            });
        }
    }

    /// Handles a failed attempt; returns whether the batch (or its halves) will be sent again.
    async fn failed(
        &mut self,
        mut batch: ReadyBatch,
        error: &AttemptError,
        leader: Option<&Leader>,
        sent_as: ProducerState,
    ) -> bool {
        if self.sequence.is_none() {
            self.proven = false;
        }
        self.shared
            .transport
            .invalidate(self.partition, leader, error.refresh)
            .await;
        if error.outcome_unknown {
            if self.sequence.is_some() {
                batch.outcome_unknown = true;
            } else {
                batch.possibly_duplicated = true;
            }
        }
        let cause = error.cause();
        self.last_cause = Some(cause.clone());
        batch.last_cause = Some(cause.clone());
        let now = Instant::now();
        if error.kind == Kind::TooLarge && batch.records > 1 && !self.shared.fatal() {
            match self.halves(&batch) {
                Ok(halves) => {
                    tracing::debug!(
                        topic = %self.shared.topic,
                        partition = self.partition,
                        records = batch.records,
                        bytes = batch.encoded_len,
                        "the topic refused a batch as too large; sending it in two halves"
                    );
                    let detail = || {
                        format!(
                            "the topic refused a batch of {} bytes as too large; sending it in two halves",
                            batch.encoded_len
                        )
                    };
                    self.report(Condition::split(), detail, now);
                    // The halves hold the batch's memory and sequence numbers between them.
                    for half in halves {
                        self.hold(half);
                    }
                    self.retry_at = now;
                    return true;
                }
                Err(e) => {
                    tracing::error!(topic = %self.shared.topic, partition = self.partition, error = %e, "cannot split a batch the topic found too large");
                }
            }
        }
        if !error.retriable {
            self.fail(batch, &error.code, false);
            tracing::error!(topic = %self.shared.topic, partition = self.partition, %error, "produce request refused");
            self.shared
                .fail_run(error.fatal_message(&self.shared.topic));
            return false;
        }
        if self.shared.fatal() {
            self.fail(batch, ABORTED, false);
            return false;
        }
        let deadline = self.deadline(&batch);
        let Some(left) = deadline
            .checked_duration_since(now)
            .filter(|left| !left.is_zero())
        else {
            self.expire(batch);
            return false;
        };
        let pause = retry_pause(self.partition, batch.order, batch.attempts).min(left);
        // A sequence fault behind an earlier failure of the partition is that failure's echo
        // (a batch pipelined behind one that failed): the earlier one is what gets told.
        let mut echo = false;
        if let Kind::Sequence(fault) = error.kind {
            let resequenced = batch.producer != sent_as;
            let earlier_pending = self.retry.iter().any(|b| b.order < batch.order);
            echo = resequenced
                || self.reset_pending
                || (fault == SequenceFault::OutOfOrder && earlier_pending);
            if !echo {
                tracing::debug!(
                    topic = %self.shared.topic,
                    partition = self.partition,
                    producer_id = sent_as.producer_id,
                    epoch = sent_as.epoch,
                    sequence = sent_as.base_sequence,
                    %error,
                    "the broker lost track of this producer's sequence; bumping the epoch"
                );
                self.reset_pending = true;
            }
        }
        tracing::debug!(
            topic = %self.shared.topic,
            partition = self.partition,
            records = batch.records,
            attempt = batch.attempts,
            %error,
            "produce request failed; will retry"
        );
        if !echo {
            let detail = || match error.kind {
                Kind::Sequence(_) => {
                    "the broker lost track of this producer's sequence; bumping the epoch"
                        .to_owned()
                }
                _ => error.detail.clone(),
            };
            self.report(Condition::retried(&error.code), detail, now);
        }
        self.hold(batch);
        self.retry_at = now + pause;
        true
    }

    /// The two halves of a batch the topic found too large. They take its place and its sequence
    /// numbers (the broker wrote none of it), so nothing behind it moves.
    fn halves(&self, batch: &ReadyBatch) -> std::io::Result<[ReadyBatch; 2]> {
        let (first, second) = record_batch::split(&batch.wire)?
            .ok_or_else(|| std::io::Error::other("a single record cannot be split"))?;
        let compression = self.shared.settings.compression;
        let first_records = first.record_count();
        let second_producer = if batch.producer == ProducerState::NONE {
            ProducerState::NONE
        } else {
            ProducerState {
                base_sequence: sequence_after(batch.producer.base_sequence, first_records),
                ..batch.producer
            }
        };
        let first_memory = batch.memory / batch.records as usize * first_records as usize;
        let split_at = first_records as usize;
        let half = |writer: record_batch::BatchWriter,
                    producer: ProducerState,
                    order: (u64, u32),
                    memory: usize,
                    send_offsets_us: Vec<u32>|
         -> std::io::Result<ReadyBatch> {
            let (records, encoded_len, payload_bytes) = (
                writer.record_count(),
                writer.encoded_len(),
                writer.payload_bytes(),
            );
            Ok(ReadyBatch {
                order,
                wire: writer.finish(compression, producer)?,
                records,
                encoded_len,
                opened_at: batch.opened_at,
                send_offsets_us,
                memory,
                payload_bytes,
                producer,
                attempts: batch.attempts,
                outcome_unknown: batch.outcome_unknown,
                possibly_duplicated: batch.possibly_duplicated,
                last_cause: batch.last_cause.clone(),
                split_from: Some(batch.encoded_len),
            })
        };
        Ok([
            half(
                first,
                batch.producer,
                batch.order,
                first_memory,
                batch.send_offsets_us[..split_at].to_vec(),
            )?,
            half(
                second,
                second_producer,
                (batch.order.0, batch.order.1 + first_records),
                batch.memory - first_memory,
                batch.send_offsets_us[split_at..].to_vec(),
            )?,
        ])
    }

    /// Settles an unresolved sequence once nothing of the partition is in flight or waiting: the
    /// last ack reached the partition's next sequence (the expired batch was written), or the
    /// chain is broken and the epoch must be bumped.
    fn resolve(&mut self) {
        self.unresolved = false;
        let Some(sequence) = &self.sequence else {
            return;
        };
        if self.acked_end != Some(sequence.next()) {
            tracing::debug!(
                topic = %self.shared.topic,
                partition = self.partition,
                "no later batch proved an expired batch written; bumping the epoch"
            );
            self.reset_pending = true;
        }
    }

    /// The chain of sequences broke: bumps the producer epoch (unless another partition already
    /// did) and gives every unacknowledged batch a new sequence from 0 under it.
    async fn resequence(&mut self) {
        self.reset_pending = false;
        let (Some(identity), Some(sequence)) = (&self.shared.identity, &mut self.sequence) else {
            return;
        };
        let seen = sequence.identity();
        let current = match identity.bump_from(seen) {
            Bump::Bumped(new) => {
                self.shared.stats.epoch_bumped();
                tracing::info!(
                    topic = %self.shared.topic,
                    partition = self.partition,
                    producer_id = new.id,
                    epoch = new.epoch,
                    "bumped the producer epoch; resending unacknowledged batches from sequence 0"
                );
                new
            }
            Bump::Moved(current) => current,
            Bump::Exhausted => match self.shared.transport.init_producer_id().await {
                Ok(new) => {
                    let current = identity.replace(seen, new);
                    if current == new {
                        self.shared.stats.epoch_bumped();
                        tracing::info!(
                            producer_id = new.id,
                            epoch = new.epoch,
                            "the producer epoch ran out; took a new producer id"
                        );
                    }
                    current
                }
                Err(e) => {
                    self.shared.fail_run(format!(
                        "the producer epoch ran out and no new producer id came: {e}"
                    ));
                    return;
                }
            },
        };
        *sequence = PartitionSequence::new(current);
        self.proven = false;
        self.unresolved = false;
        self.acked_end = None;
        for batch in self.retry.iter_mut() {
            let producer = sequence.assign(batch.records);
            batch.wire = record_batch::restamp(&batch.wire, producer);
            batch.producer = producer;
            // The broker may hold an earlier copy under the old sequence: it cannot recognize
            // this one as a duplicate.
            if batch.outcome_unknown {
                batch.possibly_duplicated = true;
                batch.outcome_unknown = false;
            }
        }
    }

    /// Fails every waiting batch whose delivery timeout has passed (retries and queued batches).
    fn expire_waiting(&mut self, now: Instant) {
        let timeout = self.shared.settings.delivery_timeout;
        let mut kept = VecDeque::with_capacity(self.retry.len());
        while let Some(batch) = self.retry.pop_front() {
            if now >= batch.opened_at + timeout {
                self.expire(batch);
            } else {
                kept.push_back(batch);
            }
        }
        self.retry = kept;
        if let Some(cutoff) = now.checked_sub(timeout) {
            let expired = self.queue.take_expired(cutoff);
            if !expired.is_empty() {
                let cause = self.queued_cause();
                for batch in expired {
                    self.fail_raw(
                        batch.memory,
                        batch.records(),
                        &cause.timeout_reason(),
                        cause.retry_could_help(),
                    );
                }
                self.end_run_if_topic_gone(&cause);
            }
        }
    }

    /// Fails a batch whose delivery timeout has passed, for the cause that held it up.
    fn expire(&mut self, batch: ReadyBatch) {
        let cause = batch.last_cause.clone().unwrap_or(Cause::Waiting);
        self.fail(batch, &cause.timeout_reason(), cause.retry_could_help());
        self.end_run_if_topic_gone(&cause);
    }

    fn end_run_if_topic_gone(&self, cause: &Cause) {
        if *cause == Cause::TopicMissing {
            self.shared.fail_run(format!(
                "topic {:?} no longer exists (deleted during the run?): records for it cannot be delivered",
                self.shared.topic
            ));
        }
    }

    /// What queued batches of this partition are waiting for.
    fn queued_cause(&self) -> Cause {
        self.last_cause
            .clone()
            .or_else(|| self.retry.front().and_then(|b| b.last_cause.clone()))
            .unwrap_or(Cause::Waiting)
    }

    /// After a fatal error: fails everything not in flight.
    fn abort_waiting(&mut self, now: Instant) {
        while let Some(batch) = self.retry.pop_front() {
            self.fail(batch, ABORTED, false);
        }
        while let Take::Batch(batch) = self.queue.take(Duration::ZERO, true, now) {
            self.fail_raw(batch.memory, batch.records(), ABORTED, false);
        }
    }

    fn acked(&mut self, batch: ReadyBatch, answer: PartitionAnswer) {
        self.proven = true;
        if let Some(sequence) = &self.sequence {
            let identity = sequence.identity();
            if (batch.producer.producer_id, batch.producer.epoch) == (identity.id, identity.epoch) {
                self.acked_end = Some(sequence_after(batch.producer.base_sequence, batch.records));
            }
        }
        self.last_cause = None;
        let now = Instant::now();
        let latencies: Vec<Duration> = batch
            .send_offsets_us
            .iter()
            .map(|&us| {
                now.saturating_duration_since(
                    batch.opened_at + Duration::from_micros(u64::from(us)),
                )
            })
            .collect();
        self.shared
            .stats
            .batch_acked(&latencies, batch.payload_bytes, batch.possibly_duplicated);
        if let Some(tap) = self.shared.tap.get() {
            tap.acked(self.partition, answer.base_offset, batch.records);
        }
        if let Some(rejected) = batch.split_from {
            if !self.shared.split_advised.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    topic = %self.shared.topic,
                    rejected_bytes = rejected,
                    accepted_bytes = batch.encoded_len,
                    "the topic takes smaller batches than --batch-size makes (its max.message.bytes \
                     is lower): batches are split and resent, which costs round trips; pass \
                     --batch-size {} or less",
                    batch.encoded_len
                );
            }
        }
        for line in self.shared.conditions.cleared(self.partition, now) {
            line.log(&self.shared.topic);
        }
        if batch.attempts > 1 {
            tracing::debug!(
                topic = %self.shared.topic,
                partition = self.partition,
                records = batch.records,
                attempts = batch.attempts,
                possible_duplicates = batch.possibly_duplicated,
                "batch delivered after retry"
            );
        }
        if tracing::enabled!(Level::DEBUG) {
            self.log_keys(&batch, answer.base_offset);
        }
        self.shared.memory.release(batch.memory);
    }

    /// Tells the run's condition log that an attempt of this partition met `condition`, logging
    /// the line it asks for, if any.
    fn report(&self, condition: Condition, detail: impl FnOnce() -> String, now: Instant) {
        if let Some(line) = self
            .shared
            .conditions
            .hit(condition, self.partition, detail, now)
        {
            line.log(&self.shared.topic);
        }
    }

    /// One debug line per record, as the original Go producer logged them.
    fn log_keys(&self, batch: &ReadyBatch, base_offset: i64) {
        let records = match record_batch::records(&batch.wire) {
            Ok(records) => records,
            Err(e) => {
                tracing::debug!(error = %e, "cannot read back the keys of an acked batch");
                return;
            }
        };
        for (i, record) in record_batch::read_records(&records).enumerate() {
            let Ok(record) = record else { break };
            let offset = if base_offset < 0 {
                base_offset
            } else {
                base_offset + i as i64
            };
            tracing::debug!(
                "produced key={} to topic={} partition={} offset={}",
                String::from_utf8_lossy(record.key),
                self.shared.topic,
                self.partition,
                offset
            );
        }
    }

    /// Fails a batch for good. With idempotence its sequence numbers are now a gap the broker
    /// would wait for forever — unless it may have been written (an attempt's outcome is unknown):
    /// then later acks may prove it was (see `unresolved`).
    fn fail(&mut self, batch: ReadyBatch, reason: &str, timed_out: bool) {
        if batch.producer != ProducerState::NONE {
            if batch.outcome_unknown {
                self.unresolved = true;
            } else {
                self.reset_pending = true;
            }
        }
        self.fail_raw(batch.memory, batch.records, reason, timed_out);
    }

    /// Fails records for good. The first failure for each reason is an error line at once; the
    /// rest are counted in the summary (and logged at debug level).
    fn fail_raw(&self, memory: usize, records: u32, reason: &str, timed_out: bool) {
        let first = self
            .shared
            .stats
            .batch_failed(u64::from(records), reason, timed_out);
        if first {
            tracing::error!(
                topic = %self.shared.topic,
                partition = self.partition,
                records,
                error = reason,
                "records failed (further failures for this reason are counted in the summary; each at -v)"
            );
        } else {
            tracing::debug!(
                topic = %self.shared.topic,
                partition = self.partition,
                records,
                error = reason,
                "records failed"
            );
        }
        if let Some(tap) = self.shared.tap.get() {
            tap.failed(self.partition, records, reason);
        }
        self.shared.memory.release(memory);
    }
}

async fn sleep_until(at: Option<Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_batch_backs_off_on_its_own_attempts_with_bounded_jitter() {
        for partition in 0..50 {
            for attempts in 1..12u32 {
                let pause = retry_pause(partition, (u64::from(attempts) * 7, 0), attempts);
                let base = RETRY_BACKOFF
                    .saturating_mul(1 << (attempts - 1).min(16))
                    .min(RETRY_BACKOFF_MAX);
                assert!(
                    pause >= base && pause <= base * 6 / 5,
                    "{pause:?} for {base:?}"
                );
            }
        }
        let spread: std::collections::HashSet<Duration> =
            (0..50).map(|p| retry_pause(p, (3, 0), 1)).collect();
        assert!(spread.len() > 10, "partitions failing together retry apart");
    }
}
