//! The engine's one set of delivery books: record and request counters and the distributions of
//! ack latency, request latency and batch sizes, for the whole run and for the current interval.
//!
//! The engine writes here once per record sent, once per request finished and once per batch
//! settled (acked or failed), and every record is settled exactly once; progress lines, `/metrics`
//! and the summary all read a [`StatsSnapshot`] (and progress the interval's latencies), so each
//! figure is kept once. `acked` and `failed` are read before `sent`, and `sent` only grows, so every
//! snapshot satisfies `sent == acked + failed + in_flight_records`. (Bytes have their own ledger,
//! the memory pool.)
//!
//! Each value is recorded once, into a pending histogram; a reader folds the pending values into
//! the run's histogram (and the interval's) before reading. The send path so touches one histogram
//! per value, and a snapshot shares the run's histogram instead of copying it.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, OnceLock,
    },
    time::Duration,
};

use hdrhistogram::Histogram;
use parking_lot::Mutex;
use tokio::time::Instant;

use crate::{
    kafka::ProducerIdAndEpoch,
    producer::delivery::{Distribution, RequestFigures, RequestReport, StatsSnapshot},
};

/// Latencies are kept in microseconds from 1 µs to an hour; larger values are clamped.
const MAX_MICROS: u64 = 3_600_000_000;
/// Batch sizes in bytes and in records, up to 4 GiB; larger values are clamped.
const MAX_BATCH: u64 = 1 << 32;
/// Three significant digits: quantiles and bucket counts within 0.1%.
const SIGNIFICANT_DIGITS: u8 = 3;

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
    throttled: Mutex<Throttled>,
    failed_by_reason: Mutex<BTreeMap<String, u64>>,
    ack_latency: Mutex<AckLatency>,
    requests: Mutex<Requests>,
    fatal_error: OnceLock<String>,
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
    pub(super) fn new() -> Self {
        Self {
            sent: AtomicU64::new(0),
            acked: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            failed_timed_out: AtomicU64::new(0),
            possible_duplicates: AtomicU64::new(0),
            bytes_acked: AtomicU64::new(0),
            requests_in_flight: AtomicU64::new(0),
            epoch_bumps: AtomicU64::new(0),
            throttled: Mutex::new(Throttled::default()),
            failed_by_reason: Mutex::new(BTreeMap::new()),
            ack_latency: Mutex::new(AckLatency::new()),
            requests: Mutex::new(Requests::new()),
            fatal_error: OnceLock::new(),
        }
    }

    /// One record was accepted by `send`.
    pub(super) fn record_sent(&self) {
        self.sent.fetch_add(1, Ordering::Relaxed);
    }

    /// Takes back a `record_sent` whose record was refused after all (the producer closed).
    pub(super) fn unsend(&self) {
        self.sent.fetch_sub(1, Ordering::Relaxed);
    }

    /// A batch was acknowledged; `latencies` holds each record's time from `send` to the ack.
    pub(super) fn batch_acked(
        &self,
        latencies: &[Duration],
        payload_bytes: u64,
        possibly_duplicated: bool,
    ) {
        {
            let mut ack_latency = self.ack_latency.lock();
            for latency in latencies {
                ack_latency.recorded.record(micros(*latency));
            }
        }
        let records = latencies.len() as u64;
        if possibly_duplicated {
            self.possible_duplicates
                .fetch_add(records, Ordering::Relaxed);
        }
        self.bytes_acked.fetch_add(payload_bytes, Ordering::Relaxed);
        self.acked.fetch_add(records, Ordering::Release);
    }

    /// `records` records of a batch failed for good for `reason` (a Kafka error name or a cause
    /// such as `delivery_timeout`); `timed_out` when the delivery timeout ran out (a longer one could
    /// have saved them). Returns whether `reason` is new to the run (so its first failure is told
    /// at once and the rest are counted).
    pub(super) fn batch_failed(&self, records: u64, reason: &str, timed_out: bool) -> bool {
        let new_reason = add_to(&mut self.failed_by_reason.lock(), reason, records);
        if timed_out {
            self.failed_timed_out.fetch_add(records, Ordering::Relaxed);
        }
        self.failed.fetch_add(records, Ordering::Release);
        new_reason
    }

    /// The connection numbered `connection` holds its requests back from `at`, as its broker
    /// asked (a quota's throttle time).
    pub(super) fn hold_started(&self, connection: u64, at: Instant) {
        self.throttled
            .lock()
            .holding
            .entry(connection)
            .or_insert(at);
    }

    /// The connection numbered `connection` sends again from `at`.
    pub(super) fn hold_ended(&self, connection: u64, at: Instant) {
        let mut throttled = self.throttled.lock();
        if let Some(started) = throttled.holding.remove(&connection) {
            throttled.held = throttled
                .held
                .saturating_add(at.saturating_duration_since(started));
        }
    }

    /// A produce request went out.
    pub(super) fn request_sent(&self) {
        self.requests_in_flight.fetch_add(1, Ordering::Relaxed);
    }

    /// A request counted by `request_sent` never left after all (its connection was due for
    /// renewal).
    pub(super) fn request_unsent(&self) {
        self.requests_in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    /// A produce request that went out finished, answered or not.
    pub(super) fn request_finished(&self, report: &RequestReport<'_>) {
        self.requests_in_flight.fetch_sub(1, Ordering::Relaxed);
        self.requests.lock().finished(report);
    }

    /// The idempotent producer bumped its epoch.
    pub(super) fn epoch_bumped(&self) {
        self.epoch_bumps.fetch_add(1, Ordering::Relaxed);
    }

    /// Records the error that ends the run; only the first counts. Returns whether this was it.
    pub(super) fn set_fatal(&self, message: String) -> bool {
        self.fatal_error.set(message).is_ok()
    }

    pub(super) fn fatal_error(&self) -> Option<&str> {
        self.fatal_error.get().map(String::as_str)
    }

    /// The figures now; `buffered_bytes` comes from the memory pool, `producer` from the
    /// idempotent producer's state.
    pub(super) fn snapshot(
        &self,
        buffered_bytes: u64,
        producer: Option<ProducerIdAndEpoch>,
    ) -> StatsSnapshot {
        let acked = self.acked.load(Ordering::Acquire);
        let failed = self.failed.load(Ordering::Acquire);
        let sent = self.sent.load(Ordering::Acquire);
        StatsSnapshot {
            sent,
            acked,
            failed,
            failed_by_reason: pairs(&self.failed_by_reason.lock()),
            failed_timed_out: self.failed_timed_out.load(Ordering::Relaxed),
            possible_duplicates: self.possible_duplicates.load(Ordering::Relaxed),
            bytes_acked: self.bytes_acked.load(Ordering::Relaxed),
            in_flight_records: sent.saturating_sub(acked + failed),
            buffered_bytes,
            ack_latency_us: self.ack_latency.lock().run(),
            requests: self.requests.lock().figures(),
            requests_in_flight: self.requests_in_flight.load(Ordering::Relaxed),
            epoch_bumps: self.epoch_bumps.load(Ordering::Relaxed),
            throttled: self.throttled.lock().so_far(Instant::now()),
            producer_id_and_epoch: producer.map(|p| (p.id, p.epoch)),
            fatal_error: self.fatal_error.get().cloned(),
        }
    }

    /// The ack latencies of the records acknowledged since the previous call (or since the start),
    /// in microseconds; the next interval starts now.
    pub(super) fn end_interval(&self) -> Distribution {
        self.ack_latency.lock().end_interval()
    }
}

/// The time broker connections held their requests back because their broker asked (quota
/// throttling): the holds that ended, and the ones under way.
#[derive(Default)]
struct Throttled {
    held: Duration,
    /// Connections holding now, and since when.
    holding: HashMap<u64, Instant>,
}

impl Throttled {
    fn so_far(&self, now: Instant) -> Duration {
        self.holding
            .values()
            .map(|&since| now.saturating_duration_since(since))
            .fold(self.held, Duration::saturating_add)
    }
}

/// Values recorded once, into `pending`, and folded into the run's histogram when read.
struct Recorded {
    pending: Histogram<u64>,
    pending_sum: u64,
    /// Shared with the snapshots that read it; copied only when a snapshot still holds it at the
    /// next fold.
    run: Arc<Histogram<u64>>,
    run_sum: u64,
}

impl Recorded {
    fn new(max: u64) -> Self {
        Self {
            pending: histogram(max),
            pending_sum: 0,
            run: Arc::new(histogram(max)),
            run_sum: 0,
        }
    }

    fn record(&mut self, value: u64) {
        let value = value.max(1);
        self.pending.saturating_record(value);
        self.pending_sum = self.pending_sum.saturating_add(value);
    }

    /// Moves the pending values into the run's histogram, showing them to `also` first.
    fn fold(&mut self, also: impl FnOnce(&Histogram<u64>, u64)) {
        if self.pending.is_empty() {
            return;
        }
        also(&self.pending, self.pending_sum);
        Arc::make_mut(&mut self.run)
            .add(&self.pending)
            .expect("histograms with the same bounds add");
        self.run_sum = self.run_sum.saturating_add(self.pending_sum);
        self.pending.reset();
        self.pending_sum = 0;
    }

    /// Every value recorded so far.
    fn run(&mut self) -> Distribution {
        self.fold(|_, _| {});
        Distribution::new(Arc::clone(&self.run), self.run_sum)
    }
}

/// Ack latencies in microseconds: the run's, and the current interval's.
struct AckLatency {
    recorded: Recorded,
    interval: Histogram<u64>,
    interval_sum: u64,
}

impl AckLatency {
    fn new() -> Self {
        Self {
            recorded: Recorded::new(MAX_MICROS),
            interval: histogram(MAX_MICROS),
            interval_sum: 0,
        }
    }

    fn fold(&mut self) {
        let (interval, interval_sum) = (&mut self.interval, &mut self.interval_sum);
        self.recorded.fold(|pending, sum| {
            interval
                .add(pending)
                .expect("histograms with the same bounds add");
            *interval_sum = interval_sum.saturating_add(sum);
        });
    }

    fn run(&mut self) -> Distribution {
        self.fold();
        self.recorded.run()
    }

    fn end_interval(&mut self) -> Distribution {
        self.fold();
        let interval = std::mem::replace(&mut self.interval, histogram(MAX_MICROS));
        let sum = std::mem::take(&mut self.interval_sum);
        Distribution::new(Arc::new(interval), sum)
    }
}

/// What the finished produce requests did.
struct Requests {
    finished: u64,
    errors_by_reason: BTreeMap<String, u64>,
    retries_by_reason: BTreeMap<String, u64>,
    latency_us: Recorded,
    batch_bytes: Recorded,
    batch_records: Recorded,
    throttle: Duration,
    throttled: u64,
}

impl Requests {
    fn new() -> Self {
        Self {
            finished: 0,
            errors_by_reason: BTreeMap::new(),
            retries_by_reason: BTreeMap::new(),
            latency_us: Recorded::new(MAX_MICROS),
            batch_bytes: Recorded::new(MAX_BATCH),
            batch_records: Recorded::new(MAX_BATCH),
            throttle: Duration::ZERO,
            throttled: 0,
        }
    }

    fn finished(&mut self, report: &RequestReport<'_>) {
        self.finished += 1;
        self.latency_us.record(micros(report.latency));
        match report.error {
            None => {
                // A batch counts once, when it is acknowledged, however many attempts it took.
                self.batch_bytes.record(report.batch_bytes as u64);
                self.batch_records.record(u64::from(report.records));
            }
            Some(why) => {
                add_to(&mut self.errors_by_reason, why, 1);
                if report.will_retry {
                    add_to(&mut self.retries_by_reason, why, 1);
                }
            }
        }
        if let Some(throttle) = report.throttle.filter(|t| !t.is_zero()) {
            self.throttle = self.throttle.saturating_add(throttle);
            self.throttled += 1;
        }
    }

    fn figures(&mut self) -> RequestFigures {
        RequestFigures {
            finished: self.finished,
            errors_by_reason: pairs(&self.errors_by_reason),
            retries_by_reason: pairs(&self.retries_by_reason),
            latency_us: self.latency_us.run(),
            batch_bytes: self.batch_bytes.run(),
            batch_records: self.batch_records.run(),
            throttle: self.throttle,
            throttled: self.throttled,
        }
    }
}

fn histogram(max: u64) -> Histogram<u64> {
    Histogram::new_with_bounds(1, max, SIGNIFICANT_DIGITS).expect("valid histogram bounds")
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

/// Adds `n` under `reason`, allocating the key only for a reason not seen before; returns whether
/// it was new.
fn add_to(by_reason: &mut BTreeMap<String, u64>, reason: &str, n: u64) -> bool {
    match by_reason.get_mut(reason) {
        Some(count) => {
            *count += n;
            false
        }
        None => {
            by_reason.insert(reason.to_owned(), n);
            true
        }
    }
}

fn pairs(by_reason: &BTreeMap<String, u64>) -> Vec<(String, u64)> {
    by_reason.iter().map(|(k, v)| (k.clone(), *v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn snapshot_balances_and_counts_each_batch_once() {
        let stats = Stats::new();
        for _ in 0..10 {
            stats.record_sent();
        }
        stats.batch_acked(&[ms(2), ms(4)], 150, true);
        stats.batch_failed(5, "delivery_timeout (partition unavailable)", true);
        stats.batch_failed(1, "MESSAGE_TOO_LARGE", false);
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
        let latency = &snap.ack_latency_us;
        assert_eq!((latency.count(), latency.sum()), (2, 6_000));
        assert!(latency.max().abs_diff(4_000) <= 4, "{latency:?}");
        assert_eq!(latency.mean(), 3_000.0);
    }

    #[test]
    fn a_snapshot_keeps_its_figures_while_the_run_goes_on() {
        let stats = Stats::new();
        stats.batch_acked(&[ms(1)], 10, false);
        let before = stats.snapshot(0, None);
        stats.batch_acked(&[ms(1), ms(3)], 20, false);
        let after = stats.snapshot(0, None);
        assert_eq!(before.ack_latency_us.count(), 1);
        assert_eq!(after.ack_latency_us.count(), 3);
        assert_eq!(after.ack_latency_us.sum(), 5_000);
        // Reading twice counts nothing twice.
        assert_eq!(stats.snapshot(0, None).ack_latency_us, after.ack_latency_us);
    }

    #[test]
    fn each_interval_has_its_own_latencies_and_the_run_has_them_all() {
        let stats = Stats::new();
        // What came before the first call is the first interval's.
        stats.batch_acked(&[ms(500)], 0, false);
        assert_eq!(stats.end_interval().count(), 1);
        // A calm interval: 1,000 records at 2 ms.
        stats.batch_acked(&vec![ms(2); 1_000], 0, false);
        let calm = stats.end_interval();
        // A spike: 900 records at 2 ms, 100 at 250 ms; a snapshot in between changes nothing.
        stats.batch_acked(&vec![ms(2); 900], 0, false);
        let _ = stats.snapshot(0, None);
        stats.batch_acked(&vec![ms(250); 100], 0, false);
        let spike = stats.end_interval();
        // Then nothing acknowledged at all.
        let idle = stats.end_interval();

        assert_eq!(
            (calm.count(), spike.count(), idle.count()),
            (1_000, 1_000, 0)
        );
        assert!(calm.quantile(0.99).abs_diff(2_000) <= 2, "{calm:?}");
        assert!(calm.max().abs_diff(2_000) <= 2, "{calm:?}");
        assert!(spike.quantile(0.50).abs_diff(2_000) <= 2, "{spike:?}");
        assert!(spike.quantile(0.99).abs_diff(250_000) <= 250, "{spike:?}");
        assert_eq!(stats.snapshot(0, None).ack_latency_us.count(), 2_001);
    }

    #[test]
    fn requests_count_errors_retries_batches_and_throttling() {
        let stats = Stats::new();
        let request = |error, will_retry, throttle| RequestReport {
            records: 2,
            batch_bytes: 300,
            latency: Duration::from_micros(2_500),
            error,
            will_retry,
            throttle,
        };
        for report in [
            request(Some("NOT_LEADER_OR_FOLLOWER"), true, None),
            request(Some("MESSAGE_TOO_LARGE"), false, None),
            request(None, false, Some(ms(250))),
            request(None, false, Some(Duration::ZERO)),
        ] {
            stats.request_sent();
            stats.request_finished(&report);
        }
        stats.request_sent();
        let snap = stats.snapshot(0, None);
        let requests = &snap.requests;
        assert_eq!((requests.finished, snap.requests_in_flight), (4, 1));
        assert_eq!(
            requests.errors_by_reason,
            [
                ("MESSAGE_TOO_LARGE".to_string(), 1),
                ("NOT_LEADER_OR_FOLLOWER".to_string(), 1)
            ]
        );
        assert_eq!(
            requests.retries_by_reason,
            [("NOT_LEADER_OR_FOLLOWER".to_string(), 1)],
            "a request that is not retried is no retry"
        );
        assert_eq!(requests.latency_us.count(), 4);
        assert_eq!(
            (requests.batch_bytes.count(), requests.batch_bytes.sum()),
            (2, 600),
            "acknowledged batches only"
        );
        assert_eq!(requests.batch_records.sum(), 4);
        assert_eq!((requests.throttle, requests.throttled), (ms(250), 1));
    }

    #[test]
    fn held_time_adds_up_the_holds_of_every_connection_including_those_under_way() {
        let stats = Stats::new();
        let t0 = Instant::now();
        stats.hold_started(1, t0);
        stats.hold_started(1, t0 + ms(100));
        stats.hold_ended(1, t0 + ms(300));
        stats.hold_ended(1, t0 + ms(900));
        stats.hold_started(2, t0 + ms(300));
        stats.hold_ended(2, t0 + ms(400));
        assert_eq!(stats.throttled.lock().so_far(t0 + ms(400)), ms(400));
        stats.hold_started(3, t0 + ms(500));
        assert_eq!(
            stats.throttled.lock().so_far(t0 + ms(700)),
            ms(600),
            "a hold under way counts up to now"
        );
    }
}
