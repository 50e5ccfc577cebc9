//! What the engine tells the rest of the program about delivery: per-batch outcome callbacks and a
//! point-in-time snapshot of the counters.
//!
//! The engine is the only writer; metrics, progress lines, the final summary and tests only read.
//! Keeping these types apart from the engine lets those readers be built and tested on their own.

use std::time::Duration;

/// Observes delivery outcomes. The engine calls it once per completed batch, off the hot path of `send`.
pub trait DeliveryObserver: Send + Sync + 'static {
    /// A batch was acknowledged. `latencies` holds each record's time from `send` to the ack.
    fn acked(&self, partition: i32, base_offset: i64, latencies: &[Duration], bytes: u64);
    /// `records` records reached their final failed state for `reason` (a Kafka error name or a cause
    /// such as `delivery_timeout`).
    fn failed(&self, partition: i32, records: u64, reason: &str);
    /// One produce request finished, acked or not (each attempt of a retried batch that reached a
    /// broker connection counts), for request-level metrics. The default ignores it.
    fn request_finished(&self, _request: &RequestReport<'_>) {}
}

/// What one produce request did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RequestReport<'a> {
    pub partition: i32,
    /// Records in the request's batch.
    pub records: u32,
    /// The batch's size on the wire (after compression).
    pub batch_bytes: usize,
    /// From sending the request to its answer or failure.
    pub latency: Duration,
    /// `None` when the broker acknowledged the batch; otherwise why not (a Kafka error name such as
    /// `NOT_LEADER_OR_FOLLOWER`, or a cause such as `request_timed_out`).
    pub error: Option<&'a str>,
    /// Whether the batch will be sent again after this failed attempt.
    pub will_retry: bool,
    /// How long the broker asked the client to hold back, when it did.
    pub throttle: Option<Duration>,
}

/// Ack-latency figures over every acknowledged record so far, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LatencySummary {
    pub count: u64,
    pub avg_ms: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// The delivery counters at one moment. `sent == acked + failed + in_flight_records` always holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatsSnapshot {
    /// Records accepted by `send`.
    pub sent: u64,
    pub acked: u64,
    pub failed: u64,
    /// Failed records by reason, sorted by reason.
    pub failed_by_reason: Vec<(String, u64)>,
    /// Of `failed`, the records whose delivery timeout ran out while the partition was unavailable
    /// or busy: a longer `--delivery-timeout` could have saved them. (Their reasons start with
    /// `delivery_timeout`; the other failures — a deleted topic, a refused write, a record too
    /// large — no timeout can fix.)
    pub failed_timed_out: u64,
    /// Acked records that may be on the topic twice: without idempotence, those retried after an
    /// unknown outcome; with it, only those resequenced by an epoch bump after an unknown outcome.
    pub possible_duplicates: u64,
    /// Key + value bytes of acked records.
    pub bytes_acked: u64,
    /// Records sent but not yet acked or failed.
    pub in_flight_records: u64,
    /// Bytes of records held by the engine (buffered or in flight), bounded by `buffer_memory`.
    pub buffered_bytes: u64,
    pub latency: LatencySummary,
    /// Produce requests sent and not yet answered.
    pub requests_in_flight: u64,
    /// Times the idempotent producer bumped its epoch (or took a new producer id) and reset sequences.
    pub epoch_bumps: u64,
    /// The idempotent producer's id and epoch; `None` without idempotence.
    pub producer_id_and_epoch: Option<(i64, i16)>,
    /// The first non-retriable error that ended the run, if any: generation stops when it is set.
    pub fatal_error: Option<String>,
}
