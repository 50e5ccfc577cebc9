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
    /// Acked records whose request was retried after an unknown outcome, so they may be on the topic twice.
    pub possible_duplicates: u64,
    /// Key + value bytes of acked records.
    pub bytes_acked: u64,
    /// Records sent but not yet acked or failed.
    pub in_flight_records: u64,
    /// Bytes of records held by the engine (buffered or in flight), bounded by `buffer_memory`.
    pub buffered_bytes: u64,
    pub latency: LatencySummary,
}
