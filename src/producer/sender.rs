//! One task per partition: turns closed batches into produce requests, keeps up to `max_in_flight`
//! of them pipelined, retries failures in order, enforces the delivery timeout and reports every
//! batch exactly once — acked or failed.
//!
//! Ordering: requests of a partition leave in order and the broker answers a connection's requests
//! in order. When one fails with a retriable error, no new batch is sent until every request in
//! flight has answered; the failed batches are then resent one at a time, oldest first, and normal
//! pipelining resumes when they are through. Batches sent behind a failed one that the broker still
//! accepted are written ahead of it — the same reordering the Java client shows without idempotence
//! when `max.in.flight.requests.per.connection > 1`. To keep that window small, a partition sends
//! one request at a time until its leader has acknowledged one (at start and after any failure),
//! so a new or moved leader that rejects its first request cannot accept the ones behind it. With
//! `--max-in-flight 1` order always holds (a copy written late by an attempt that timed out is a
//! possible duplicate). A partition's requests are never pipelined over two connections: when the
//! leader's connection is replaced (another partition's timeout, a failed metadata request) while
//! requests are in flight on the old one, the next batch waits for them, because the broker could
//! process a request on the new connection before those on the old one.
//!
//! The requests of a partition are futures polled by its own task, in send order (not spawned
//! tasks, which a scheduler may start in any order): each one's first poll queues it on the
//! connection's fair write lock, so they reach the wire in the order they were sent.

use std::{
    collections::VecDeque,
    future::Future,
    pin::Pin,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
    task::{Context, Poll},
    time::Duration,
};

use bytes::Bytes;
use rskafka::protocol::messages::ProduceResponse;
use tokio::time::Instant;
use tracing::Level;

use super::{
    accumulator::{OpenBatch, PartitionQueue, Take},
    cluster::{Cluster, LeaderConnection},
    errors::AttemptError,
    memory::MemoryPool,
    record_batch,
    request::ProduceBatchRequest,
    stats::Stats,
};
use crate::app::settings::{Compression, ProducerSettings};

/// The longest a single request may wait for its answer (Java's `request.timeout.ms` default).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const RETRY_BACKOFF_MIN: Duration = Duration::from_millis(100);
const RETRY_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// State shared by the handles and every partition sender of one producer.
#[derive(Debug)]
pub struct Shared {
    pub topic: Arc<str>,
    pub settings: ProducerSettings,
    /// The `acks` value written in requests: `-1` (all) or `1` (leader).
    pub acks: i16,
    pub cluster: Cluster,
    pub stats: Stats,
    pub memory: MemoryPool,
    pub queues: Vec<PartitionQueue>,
    /// Number of `flush` calls in progress: while non-zero, batches do not linger.
    pub flushing: AtomicUsize,
    /// Set by `close`: senders drain their partition and stop.
    pub closing: AtomicBool,
}

/// A closed batch on its way to the broker, with what its final report needs.
#[derive(Debug)]
struct ReadyBatch {
    /// See [`OpenBatch::seq`].
    seq: u64,
    wire: Bytes,
    records: u32,
    opened_at: Instant,
    send_offsets_us: Vec<u32>,
    memory: usize,
    payload_bytes: u64,
    /// The uncompressed records, kept only when debug logging wants each key.
    plain_records: Option<Vec<u8>>,
    attempts: u32,
    /// An earlier attempt may have been written: a later ack may be a duplicate.
    outcome_unknown: bool,
    last_error: Option<String>,
}

#[derive(Debug)]
struct Ack {
    base_offset: i64,
    throttle: Option<Duration>,
}

type AttemptResult = Result<Ack, (AttemptError, Option<LeaderConnection>)>;

type AttemptFuture = Pin<Box<dyn Future<Output = AttemptResult> + Send>>;

struct InFlight {
    batch: ReadyBatch,
    /// The request on the wire; `None` once it has finished (see `result`).
    request: Option<AttemptFuture>,
    result: Option<AttemptResult>,
    /// The connection the request went out on ([`LeaderConnection::key`]).
    connection: Option<(i32, u64)>,
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

/// Cleans up after the sender of `partition` stopped without draining it (a panic, or its task was
/// cancelled): whatever it held or had queued is failed and its memory returned, so the books
/// balance, `flush` and `close` end, and `send` does not wait for memory that will never come back.
pub fn stopped_abnormally(shared: &Shared, partition: i32, error: &tokio::task::JoinError) {
    let queue = &shared.queues[partition as usize];
    let lost = queue.shut_and_discard();
    tracing::error!(
        topic = %shared.topic,
        partition,
        records = lost.records,
        %error,
        "a partition sender stopped abnormally; failing the records it held"
    );
    if lost.records > 0 {
        shared.stats.batch_failed(
            partition,
            lost.records,
            "internal error: the partition's sender stopped (see the log); the records may or may not have been written",
        );
    }
    shared
        .memory
        .release(usize::try_from(lost.bytes).unwrap_or(usize::MAX));
    queue.publish_settled_below(u64::MAX);
    shared.stats.notify_settled();
}

/// Runs the sender of `partition` until the producer closes and the partition is drained.
pub async fn run(shared: Arc<Shared>, partition: i32) {
    PartitionSender {
        partition,
        shared,
        in_flight: VecDeque::new(),
        retry: VecDeque::new(),
        retry_at: Instant::now(),
        backoff: RETRY_BACKOFF_MIN,
        throttled_until: None,
        proven: false,
    }
    .run()
    .await;
}

struct PartitionSender {
    partition: i32,
    shared: Arc<Shared>,
    in_flight: VecDeque<InFlight>,
    /// Failed batches to resend, oldest first.
    retry: VecDeque<ReadyBatch>,
    retry_at: Instant,
    backoff: Duration,
    throttled_until: Option<Instant>,
    /// The last request of this partition succeeded: pipelining is safe.
    proven: bool,
}

impl PartitionSender {
    fn queue(&self) -> &PartitionQueue {
        &self.shared.queues[self.partition as usize]
    }

    async fn run(mut self) {
        loop {
            let now = Instant::now();
            let mut wake_at: Option<Instant> = None;
            if !self.retry.is_empty() {
                self.expire_waiting(now);
                if self.in_flight.is_empty() && !self.retry.is_empty() {
                    if now >= self.retry_at {
                        let batch = self.retry.pop_front().expect("checked");
                        self.dispatch(batch, now).await;
                    } else {
                        wake_at = Some(self.retry_at);
                    }
                }
            }
            if self.retry.is_empty() {
                wake_at = earliest(wake_at, self.dispatch_ready(now).await);
            }
            let closing = self.shared.closing.load(Ordering::Acquire);
            if closing
                && self.in_flight.is_empty()
                && self.retry.is_empty()
                && self.queue().shut_if_empty()
            {
                self.publish_progress();
                return;
            }
            self.publish_progress();
            let shared = Arc::clone(&self.shared);
            let wake = shared.queues[self.partition as usize].wake.notified();
            let busy = !self.in_flight.is_empty();
            let in_flight = &mut self.in_flight;
            let oldest_done = tokio::select! {
                biased;
                () = std::future::poll_fn(|cx| poll_oldest(in_flight, cx)), if busy => true,
                () = wake => false,
                () = sleep_until(wake_at), if wake_at.is_some() => false,
            };
            if oldest_done {
                let mut oldest = self.in_flight.pop_front().expect("guarded");
                let result = oldest.result.take().expect("finished");
                self.complete(oldest, result).await;
            }
        }
    }

    /// Tells `flush` which batches have settled: all below the oldest one this sender still holds.
    fn publish_progress(&self) {
        let oldest = self
            .in_flight
            .iter()
            .map(|f| f.batch.seq)
            .chain(self.retry.iter().map(|b| b.seq))
            .min()
            .unwrap_or(u64::MAX)
            .min(self.queue().oldest_queued());
        if self.queue().publish_settled_below(oldest) {
            self.shared.stats.notify_settled();
        }
    }

    /// Sends ready batches while in-flight slots are free; returns when to look again (linger or
    /// throttle), if anything is waiting for time to pass.
    async fn dispatch_ready(&mut self, now: Instant) -> Option<Instant> {
        let shared = Arc::clone(&self.shared);
        let settings = &shared.settings;
        let force = self.shared.flushing.load(Ordering::Acquire) > 0
            || self.shared.closing.load(Ordering::Acquire);
        // Until the partition has acknowledged a request (at start, and after every failure) only
        // one request is in flight: a fresh leader that rejects the first request would otherwise
        // accept the ones behind it and reorder the partition.
        let limit = if self.proven {
            settings.max_in_flight.get()
        } else {
            1
        };
        while self.in_flight.len() < limit {
            if let Some(until) = self.throttled_until {
                if now < until {
                    return Some(until);
                }
                self.throttled_until = None;
            }
            match self.queue().take(settings.linger, force, now) {
                Take::LingerUntil(due) => return due,
                Take::Batch(batch) => {
                    if now >= batch.opened_at + settings.delivery_timeout {
                        let records = u64::from(batch.records());
                        self.fail_raw(
                            batch.memory,
                            records,
                            "delivery_timeout (never sent: no free in-flight slot in time)",
                        );
                        continue;
                    }
                    match self.close_batch(batch) {
                        Ok(ready) => {
                            if self.dispatch(ready, now).await == Dispatched::Held {
                                return None;
                            }
                        }
                        Err((memory, records, reason)) => self.fail_raw(memory, records, &reason),
                    }
                }
            }
        }
        None
    }

    /// Finishes an open batch into wire bytes (header, compression, CRC).
    fn close_batch(&self, batch: OpenBatch) -> Result<ReadyBatch, (usize, u64, String)> {
        let compression = self.shared.settings.compression;
        let records = batch.records();
        let plain_records = (compression != Compression::None && tracing::enabled!(Level::DEBUG))
            .then(|| batch.writer.records_bytes().to_vec());
        let wire = batch.writer.finish(compression).map_err(|e| {
            (
                batch.memory,
                u64::from(records),
                format!("compression failed: {e}"),
            )
        })?;
        Ok(ReadyBatch {
            seq: batch.seq,
            wire,
            records,
            opened_at: batch.opened_at,
            send_offsets_us: batch.send_offsets_us,
            memory: batch.memory,
            payload_bytes: batch.payload_bytes,
            plain_records,
            attempts: 0,
            outcome_unknown: false,
            last_error: None,
        })
    }

    fn deadline(&self, batch: &ReadyBatch) -> Instant {
        batch.opened_at + self.shared.settings.delivery_timeout
    }

    /// Starts one produce attempt for `batch`: finds the leader (here, in order), then queues the
    /// request future behind the ones already in flight — unless those are on another connection:
    /// then the batch waits, first in line, until they have answered.
    async fn dispatch(&mut self, mut batch: ReadyBatch, now: Instant) -> Dispatched {
        let deadline = now
            + self
                .deadline(&batch)
                .saturating_duration_since(now)
                .min(REQUEST_TIMEOUT);
        let lookup =
            tokio::time::timeout_at(deadline, self.shared.cluster.leader(self.partition)).await;
        if let Ok(Ok(leader)) = &lookup {
            let elsewhere = self
                .in_flight
                .iter()
                .any(|f| f.request.is_some() && f.connection.is_some_and(|c| c != leader.key()));
            if elsewhere {
                self.hold(batch);
                self.retry_at = now;
                return Dispatched::Held;
            }
        }
        batch.attempts += 1;
        let mut connection = None;
        let (request, result) = match lookup {
            Ok(Ok(leader)) => {
                connection = Some(leader.key());
                let request = attempt(
                    Arc::clone(&self.shared),
                    self.partition,
                    batch.wire.clone(),
                    leader,
                    deadline,
                );
                (Some(Box::pin(request) as AttemptFuture), None)
            }
            Ok(Err(error)) => (None, Some(Err((error, None)))),
            Err(_) => (
                None,
                Some(Err((
                    AttemptError::no_leader("no connection to the partition leader in time"),
                    None,
                ))),
            ),
        };
        self.in_flight.push_back(InFlight {
            batch,
            request,
            result,
            connection,
        });
        Dispatched::Queued
    }

    /// Puts `batch` among the batches waiting to be (re)sent, which go out oldest first.
    fn hold(&mut self, batch: ReadyBatch) {
        let at = self.retry.partition_point(|b| b.seq < batch.seq);
        self.retry.insert(at, batch);
    }

    async fn complete(&mut self, in_flight: InFlight, result: AttemptResult) {
        let InFlight { mut batch, .. } = in_flight;
        match result {
            Ok(ack) => {
                self.backoff = RETRY_BACKOFF_MIN;
                self.proven = true;
                if let Some(throttle) = ack.throttle {
                    tracing::debug!(topic = %self.shared.topic, partition = self.partition, ?throttle, "broker asked to throttle");
                    self.throttled_until = Some(Instant::now() + throttle);
                }
                self.acked(batch, ack.base_offset);
            }
            Err((error, used)) => {
                self.proven = false;
                self.shared
                    .cluster
                    .invalidate(used.as_ref(), error.refresh)
                    .await;
                batch.outcome_unknown |= error.outcome_unknown;
                let now = Instant::now();
                if !error.retriable {
                    self.fail(batch, &error.reason);
                } else if now >= self.deadline(&batch) {
                    let reason = format!("delivery_timeout (last error: {})", error.reason);
                    self.fail(batch, &reason);
                } else {
                    tracing::warn!(
                        topic = %self.shared.topic,
                        partition = self.partition,
                        records = batch.records,
                        attempt = batch.attempts,
                        error = %error,
                        "produce request failed; will retry"
                    );
                    batch.last_error = Some(error.reason);
                    self.hold(batch);
                    self.retry_at = now + self.backoff;
                    self.backoff = (self.backoff * 2).min(RETRY_BACKOFF_MAX);
                }
            }
        }
    }

    /// Fails every waiting batch whose delivery timeout has passed (retries and queued batches).
    fn expire_waiting(&mut self, now: Instant) {
        let timeout = self.shared.settings.delivery_timeout;
        let mut kept = VecDeque::with_capacity(self.retry.len());
        while let Some(batch) = self.retry.pop_front() {
            if now >= batch.opened_at + timeout {
                let reason = format!(
                    "delivery_timeout (last error: {})",
                    batch.last_error.as_deref().unwrap_or("none")
                );
                self.fail(batch, &reason);
            } else {
                kept.push_back(batch);
            }
        }
        self.retry = kept;
        let last_error = self
            .retry
            .front()
            .and_then(|b| b.last_error.clone())
            .unwrap_or_else(|| "none".into());
        if let Some(cutoff) = now.checked_sub(timeout) {
            for batch in self.queue().take_expired(cutoff) {
                let reason = format!("delivery_timeout (last error: {last_error})");
                self.fail_raw(batch.memory, u64::from(batch.records()), &reason);
            }
        }
    }

    fn acked(&self, batch: ReadyBatch, base_offset: i64) {
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
        self.shared.stats.batch_acked(
            self.partition,
            base_offset,
            &latencies,
            batch.payload_bytes,
            batch.outcome_unknown,
        );
        if batch.attempts > 1 {
            tracing::info!(
                topic = %self.shared.topic,
                partition = self.partition,
                records = batch.records,
                attempts = batch.attempts,
                possible_duplicates = batch.outcome_unknown,
                "batch delivered after retry"
            );
        }
        if tracing::enabled!(Level::DEBUG) {
            let records = batch
                .plain_records
                .as_deref()
                .unwrap_or(&batch.wire[record_batch::HEADER_LEN..]);
            for (i, key) in record_batch::keys(records).into_iter().enumerate() {
                tracing::debug!(
                    "produced key={} to topic={} partition={} offset={}",
                    String::from_utf8_lossy(key),
                    self.shared.topic,
                    self.partition,
                    base_offset + i as i64
                );
            }
        }
        self.queue()
            .record_settled(u64::from(batch.records), batch.memory);
        self.shared.memory.release(batch.memory);
    }

    fn fail(&self, batch: ReadyBatch, reason: &str) {
        self.fail_raw(batch.memory, u64::from(batch.records), reason);
    }

    fn fail_raw(&self, memory: usize, records: u64, reason: &str) {
        tracing::error!(
            topic = %self.shared.topic,
            partition = self.partition,
            records,
            error = reason,
            "records failed"
        );
        self.shared
            .stats
            .batch_failed(self.partition, records, reason);
        self.queue().record_settled(records, memory);
        self.shared.memory.release(memory);
    }
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

async fn sleep_until(at: Option<Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at).await;
    }
}

/// One produce request to `leader`, bounded by `deadline`.
async fn attempt(
    shared: Arc<Shared>,
    partition: i32,
    wire: Bytes,
    leader: LeaderConnection,
    deadline: Instant,
) -> AttemptResult {
    let remaining = deadline.saturating_duration_since(Instant::now());
    let request = ProduceBatchRequest {
        topic: &shared.topic,
        partition,
        acks: shared.acks,
        timeout_ms: i32::try_from(remaining.as_millis())
            .unwrap_or(i32::MAX)
            .max(1),
        batch: &wire,
    };
    let response =
        match tokio::time::timeout_at(deadline, leader.connection.request(&request)).await {
            Err(_) => return Err((AttemptError::timed_out(), Some(leader))),
            Ok(Err(error)) => return Err((AttemptError::from_request(&error), Some(leader))),
            Ok(Ok(response)) => response,
        };
    read_response(&response, &shared.topic, partition).map_err(|e| (e, Some(leader)))
}

fn read_response(
    response: &ProduceResponse,
    topic: &str,
    partition: i32,
) -> Result<Ack, AttemptError> {
    let answer = response
        .responses
        .iter()
        .filter(|t| t.name.0 == topic)
        .flat_map(|t| &t.partition_responses)
        .find(|p| p.index.0 == partition)
        .ok_or_else(|| {
            AttemptError::invalid_response(format!(
                "the produce response does not mention partition {partition} of {topic}"
            ))
        })?;
    if let Some(error) = answer.error {
        return Err(AttemptError::from_broker(error));
    }
    let throttle = response
        .throttle_time_ms
        .map(|t| t.0)
        .filter(|&ms| ms > 0)
        .map(|ms| Duration::from_millis(ms as u64));
    Ok(Ack {
        base_offset: answer.base_offset.0,
        throttle,
    })
}
