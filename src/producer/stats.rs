//! Delivery counters, the ack-latency histogram and the fan-out to delivery observers.
//!
//! This is the engine's one ledger of records: the engine writes here once per record sent and
//! once per batch settled (acked or failed), and every record is settled exactly once; readers take
//! a [`StatsSnapshot`] at any time. `acked` and `failed` are read before `sent`, and `sent` only
//! grows, so every snapshot satisfies `sent == acked + failed + in_flight_records`. (Bytes have their
//! own ledger, the memory pool.)

use std::{
    collections::BTreeMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, OnceLock,
    },
    time::Duration,
};

use hdrhistogram::Histogram;
use parking_lot::Mutex;

use crate::{
    kafka::ProducerIdAndEpoch,
    producer::delivery::{DeliveryObserver, LatencySummary, RequestReport, StatsSnapshot},
};

/// Shared delivery statistics of one producer.
pub(crate) struct Stats {
    sent: AtomicU64,
    acked: AtomicU64,
    failed: AtomicU64,
    failed_timed_out: AtomicU64,
    possible_duplicates: AtomicU64,
    bytes_acked: AtomicU64,
    requests_in_flight: AtomicU64,
    epoch_bumps: AtomicU64,
    failed_by_reason: Mutex<BTreeMap<String, u64>>,
    /// Per-record ack latency in microseconds.
    latency_us: Mutex<Histogram<u64>>,
    fatal_error: OnceLock<String>,
    observers: Vec<Arc<dyn DeliveryObserver>>,
}

impl std::fmt::Debug for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stats")
            .field("sent", &self.sent)
            .field("acked", &self.acked)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl Stats {
    pub fn new(observers: Vec<Arc<dyn DeliveryObserver>>) -> Self {
        Self {
            sent: AtomicU64::new(0),
            acked: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            failed_timed_out: AtomicU64::new(0),
            possible_duplicates: AtomicU64::new(0),
            bytes_acked: AtomicU64::new(0),
            requests_in_flight: AtomicU64::new(0),
            epoch_bumps: AtomicU64::new(0),
            failed_by_reason: Mutex::new(BTreeMap::new()),
            // 1 µs .. 1 h at 3 significant digits; larger values are clamped.
            latency_us: Mutex::new(
                Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds"),
            ),
            fatal_error: OnceLock::new(),
            observers,
        }
    }

    /// One record was accepted by `send`.
    pub fn record_sent(&self) {
        self.sent.fetch_add(1, Ordering::Relaxed);
    }

    /// Takes back a `record_sent` whose record was refused after all (the producer closed).
    pub fn unsend(&self) {
        self.sent.fetch_sub(1, Ordering::Relaxed);
    }

    /// A batch was acknowledged at `base_offset`.
    pub fn batch_acked(
        &self,
        partition: i32,
        base_offset: i64,
        latencies: &[Duration],
        payload_bytes: u64,
        possibly_duplicated: bool,
    ) {
        {
            let mut histogram = self.latency_us.lock();
            for latency in latencies {
                histogram.saturating_record(latency.as_micros().max(1) as u64);
            }
        }
        let records = latencies.len() as u64;
        if possibly_duplicated {
            self.possible_duplicates
                .fetch_add(records, Ordering::Relaxed);
        }
        self.bytes_acked.fetch_add(payload_bytes, Ordering::Relaxed);
        self.acked.fetch_add(records, Ordering::Release);
        for observer in &self.observers {
            observer.acked(partition, base_offset, latencies, payload_bytes);
        }
    }

    /// `records` records of a batch failed for good; `timed_out` when the delivery timeout ran out
    /// (a longer one could have saved them).
    pub fn batch_failed(&self, partition: i32, records: u64, reason: &str, timed_out: bool) {
        *self
            .failed_by_reason
            .lock()
            .entry(reason.to_owned())
            .or_default() += records;
        if timed_out {
            self.failed_timed_out.fetch_add(records, Ordering::Relaxed);
        }
        self.failed.fetch_add(records, Ordering::Release);
        for observer in &self.observers {
            observer.failed(partition, records, reason);
        }
    }

    /// A produce request went out.
    pub fn request_sent(&self) {
        self.requests_in_flight.fetch_add(1, Ordering::Relaxed);
    }

    /// A produce request that went out finished, answered or not.
    pub fn request_finished(&self, report: &RequestReport<'_>) {
        self.requests_in_flight.fetch_sub(1, Ordering::Relaxed);
        for observer in &self.observers {
            observer.request_finished(report);
        }
    }

    /// The idempotent producer bumped its epoch.
    pub fn epoch_bumped(&self) {
        self.epoch_bumps.fetch_add(1, Ordering::Relaxed);
    }

    /// Records the error that ends the run; only the first counts. Returns whether this was it.
    pub fn set_fatal(&self, message: String) -> bool {
        self.fatal_error.set(message).is_ok()
    }

    pub fn fatal_error(&self) -> Option<&str> {
        self.fatal_error.get().map(String::as_str)
    }

    /// The counters now; `buffered_bytes` comes from the memory pool, `producer` from the
    /// idempotent producer's state.
    pub fn snapshot(
        &self,
        buffered_bytes: u64,
        producer: Option<ProducerIdAndEpoch>,
    ) -> StatsSnapshot {
        let acked = self.acked.load(Ordering::Acquire);
        let failed = self.failed.load(Ordering::Acquire);
        let sent = self.sent.load(Ordering::Acquire);
        let latency = {
            let h = self.latency_us.lock();
            let ms = |us: u64| us as f64 / 1000.0;
            if h.is_empty() {
                LatencySummary::default()
            } else {
                LatencySummary {
                    count: h.len(),
                    avg_ms: h.mean() / 1000.0,
                    p50_ms: ms(h.value_at_quantile(0.50)),
                    p95_ms: ms(h.value_at_quantile(0.95)),
                    p99_ms: ms(h.value_at_quantile(0.99)),
                    max_ms: ms(h.max()),
                }
            }
        };
        StatsSnapshot {
            sent,
            acked,
            failed,
            failed_by_reason: self
                .failed_by_reason
                .lock()
                .iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
            failed_timed_out: self.failed_timed_out.load(Ordering::Relaxed),
            possible_duplicates: self.possible_duplicates.load(Ordering::Relaxed),
            bytes_acked: self.bytes_acked.load(Ordering::Relaxed),
            in_flight_records: sent.saturating_sub(acked + failed),
            buffered_bytes,
            latency,
            requests_in_flight: self.requests_in_flight.load(Ordering::Relaxed),
            epoch_bumps: self.epoch_bumps.load(Ordering::Relaxed),
            producer_id_and_epoch: producer.map(|p| (p.id, p.epoch)),
            fatal_error: self.fatal_error.get().cloned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Recorder {
        acked: Mutex<Vec<(i32, i64, usize, u64)>>,
        failed: Mutex<Vec<(i32, u64, String)>>,
    }

    impl DeliveryObserver for Recorder {
        fn acked(&self, partition: i32, base_offset: i64, latencies: &[Duration], bytes: u64) {
            self.acked
                .lock()
                .push((partition, base_offset, latencies.len(), bytes));
        }
        fn failed(&self, partition: i32, records: u64, reason: &str) {
            self.failed.lock().push((partition, records, reason.into()));
        }
    }

    #[test]
    fn snapshot_balances_and_observers_see_each_batch() {
        let recorder = Arc::new(Recorder::default());
        let stats = Stats::new(vec![recorder.clone()]);
        for _ in 0..10 {
            stats.record_sent();
        }
        let latencies = [Duration::from_millis(2), Duration::from_millis(4)];
        stats.batch_acked(3, 100, &latencies, 150, true);
        stats.batch_failed(1, 5, "delivery_timeout (partition unavailable)", true);
        stats.batch_failed(2, 1, "MESSAGE_TOO_LARGE", false);
        let snap = stats.snapshot(42, None);
        assert_eq!(
            (snap.sent, snap.acked, snap.failed, snap.in_flight_records),
            (10, 2, 6, 2)
        );
        assert_eq!(snap.sent, snap.acked + snap.failed + snap.in_flight_records);
        assert_eq!(snap.possible_duplicates, 2);
        assert_eq!(snap.failed_timed_out, 5);
        assert_eq!(snap.bytes_acked, 150);
        assert_eq!(snap.buffered_bytes, 42);
        assert_eq!(
            snap.failed_by_reason,
            vec![
                ("MESSAGE_TOO_LARGE".to_string(), 1),
                ("delivery_timeout (partition unavailable)".to_string(), 5)
            ]
        );
        assert_eq!(snap.latency.count, 2);
        assert!(
            (snap.latency.max_ms - 4.0).abs() < 0.01,
            "{:?}",
            snap.latency
        );
        assert!(
            (snap.latency.avg_ms - 3.0).abs() < 0.01,
            "{:?}",
            snap.latency
        );
        assert_eq!(*recorder.acked.lock(), vec![(3, 100, 2, 150)]);
        assert_eq!(recorder.failed.lock().len(), 2);
    }
}
