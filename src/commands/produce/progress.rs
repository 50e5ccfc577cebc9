//! "Is it working?" while a run goes on: a progress line on stderr every `--progress-interval`, or a
//! live bar when stderr is a terminal.
//!
//! Each line describes its own interval, as `kafka-producer-perf-test`'s 5-second windows do: the
//! records acknowledged per second during it and the ack latency (p50, p99, max) of the records
//! acknowledged during it — so a latency spike in hour three shows in hour three instead of being
//! averaged into the whole run — next to the running totals. The whole-run figures are the
//! summary's. The counters come from the engine's [`StatsSnapshot`] on a timer; the interval's
//! latencies from [`IntervalLatency`], a delivery observer the report empties each time. Lines go
//! through `tracing`, so `--log-format json` makes them JSON objects (`"event":"progress"`) and `-q`
//! hides them; the bar is for people only and is never drawn when the output is JSON or not a
//! terminal.

use std::{io::IsTerminal, sync::Arc, time::Duration};

use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressStyle};
use parking_lot::Mutex;
use tokio::{sync::oneshot, task::JoinHandle, time::Instant};

use super::summary::{per_second, round};
use crate::{
    producer::delivery::{DeliveryObserver, StatsSnapshot},
    settings::LogFormat,
};

/// Where progress reads the counters from (usually the engine's `stats()`).
pub(crate) type SnapshotSource = Arc<dyn Fn() -> StatsSnapshot + Send + Sync>;

/// How often the live bar is redrawn.
const BAR_REFRESH: Duration = Duration::from_millis(250);
/// The bar's interval: its records/s and latencies are over the last second.
const BAR_WINDOW: Duration = Duration::from_secs(1);

/// The ack latencies of the records acknowledged since the window was last taken.
pub(crate) struct IntervalLatency {
    /// Microseconds, 1 µs to 1 h at 3 significant digits (larger values are clamped).
    micros: Mutex<Histogram<u64>>,
}

/// One interval's ack-latency figures; `None` when no record was acknowledged in it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct WindowLatency {
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

impl IntervalLatency {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            micros: Mutex::new(
                Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds"),
            ),
        })
    }

    /// The figures of the window so far, and a fresh window from now.
    fn take(&self) -> Option<WindowLatency> {
        let mut histogram = self.micros.lock();
        if histogram.is_empty() {
            return None;
        }
        let ms = |micros: u64| micros as f64 / 1000.0;
        let figures = WindowLatency {
            p50_ms: ms(histogram.value_at_quantile(0.50)),
            p99_ms: ms(histogram.value_at_quantile(0.99)),
            max_ms: ms(histogram.max()),
        };
        histogram.reset();
        Some(figures)
    }
}

impl DeliveryObserver for IntervalLatency {
    fn acked(&self, _partition: i32, _base_offset: i64, latencies: &[Duration], _bytes: u64) {
        let mut histogram = self.micros.lock();
        for latency in latencies {
            let micros = u64::try_from(latency.as_micros())
                .unwrap_or(u64::MAX)
                .max(1);
            histogram.saturating_record(micros);
        }
    }

    fn failed(&self, _partition: i32, _records: u64, _reason: &str) {}
}

/// One progress report: the interval's throughput and latency, and the running totals.
#[derive(Debug, Clone, PartialEq)]
struct ProgressLine {
    interval: Duration,
    /// Records acknowledged per second during the interval.
    records_per_sec: f64,
    latency: Option<WindowLatency>,
    sent: u64,
    acked: u64,
    failed: u64,
    in_flight: u64,
}

impl ProgressLine {
    /// The report for the `interval` that ends with `now`, which began with `acked_before` records
    /// acknowledged, and whose acknowledged records had `latency`.
    fn new(
        now: &StatsSnapshot,
        acked_before: u64,
        interval: Duration,
        latency: Option<WindowLatency>,
    ) -> Self {
        let delta = now.acked.saturating_sub(acked_before) as f64;
        Self {
            interval,
            records_per_sec: per_second(delta, interval),
            latency,
            sent: now.sent,
            acked: now.acked,
            failed: now.failed,
            in_flight: now.in_flight_records,
        }
    }

    /// The interval's ack latency in words.
    fn latency_text(&self) -> String {
        match self.latency {
            Some(l) => format!(
                "ack latency p50 {:.1} ms p99 {:.1} ms max {:.1} ms",
                l.p50_ms, l.p99_ms, l.max_ms
            ),
            None => "no acks".to_owned(),
        }
    }

    /// The human line.
    fn text(&self) -> String {
        format!(
            "{:.0} records/s, {} over the last {:.1} s; {} sent, {} acked, {} failed, {} in flight",
            self.records_per_sec,
            self.latency_text(),
            self.interval.as_secs_f64(),
            self.sent,
            self.acked,
            self.failed,
            self.in_flight
        )
    }

    /// Logs the line: a text message, or JSON fields with `"event":"progress"` (latency fields are
    /// absent when nothing was acknowledged in the interval).
    fn log(&self, format: LogFormat) {
        match format {
            LogFormat::Text => tracing::info!("progress: {}", self.text()),
            LogFormat::Json => tracing::info!(
                event = "progress",
                interval_secs = round(self.interval.as_secs_f64(), 3),
                records_per_sec = round(self.records_per_sec, 1),
                p50_ms = self.latency.map(|l| l.p50_ms),
                p99_ms = self.latency.map(|l| l.p99_ms),
                max_ms = self.latency.map(|l| l.max_ms),
                sent = self.sent,
                acked = self.acked,
                failed = self.failed,
                in_flight = self.in_flight,
            ),
        }
    }

    /// The bar's message (the position shows acked/total).
    fn bar_message(&self) -> String {
        format!(
            "{:.0} rec/s · {} · {} failed · {} in flight",
            self.records_per_sec,
            self.latency_text(),
            self.failed,
            self.in_flight
        )
    }
}

/// The running progress reporter; [`ProgressHandle::finish`] stops it and clears the bar.
#[derive(Debug)]
pub(crate) struct ProgressHandle {
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl ProgressHandle {
    /// A reporter that reports nothing (`--progress-interval 0s`).
    fn disabled() -> Self {
        Self {
            stop: None,
            task: None,
        }
    }

    /// Stops reporting and waits until the bar (if any) is cleared.
    pub(crate) async fn finish(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for ProgressHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Starts reporting (needs a Tokio runtime) from `snapshot` and `latency` (which must be one of the
/// engine's observers). `total` is `--count`, if any, for the bar's length. A zero `interval`
/// disables progress.
pub(crate) fn spawn(
    snapshot: SnapshotSource,
    latency: Arc<IntervalLatency>,
    interval: Duration,
    format: LogFormat,
    total: Option<u64>,
) -> ProgressHandle {
    if interval.is_zero() {
        return ProgressHandle::disabled();
    }
    let (stop_tx, stop_rx) = oneshot::channel();
    let live_bar = format == LogFormat::Text && std::io::stderr().is_terminal();
    let task = if live_bar {
        tokio::spawn(run_bar(snapshot, latency, total, stop_rx))
    } else {
        tokio::spawn(run_lines(snapshot, latency, interval, format, stop_rx))
    };
    ProgressHandle {
        stop: Some(stop_tx),
        task: Some(task),
    }
}

/// Measures consecutive intervals: each report covers the time since the previous one.
struct Intervals {
    snapshot: SnapshotSource,
    latency: Arc<IntervalLatency>,
    began: Instant,
    acked_before: u64,
}

impl Intervals {
    fn start(snapshot: SnapshotSource, latency: Arc<IntervalLatency>) -> Self {
        let acked_before = snapshot().acked;
        // Latencies from before the first interval belong to no report.
        latency.take();
        Self {
            snapshot,
            latency,
            began: Instant::now(),
            acked_before,
        }
    }

    /// The report for the interval ending now; the next one begins now.
    fn next(&mut self) -> ProgressLine {
        let now = (self.snapshot)();
        let at = Instant::now();
        let line = ProgressLine::new(
            &now,
            self.acked_before,
            at - self.began,
            self.latency.take(),
        );
        self.began = at;
        self.acked_before = now.acked;
        line
    }
}

async fn run_lines(
    snapshot: SnapshotSource,
    latency: Arc<IntervalLatency>,
    interval: Duration,
    format: LogFormat,
    mut stop: oneshot::Receiver<()>,
) {
    let mut ticker = tokio::time::interval_at(Instant::now() + interval, interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut intervals = Intervals::start(snapshot, latency);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = ticker.tick() => {}
        }
        intervals.next().log(format);
    }
}

async fn run_bar(
    snapshot: SnapshotSource,
    latency: Arc<IntervalLatency>,
    total: Option<u64>,
    mut stop: oneshot::Receiver<()>,
) {
    let bar = match total {
        Some(total) => ProgressBar::new(total).with_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} acked · {msg}",
            )
            .expect("a valid template"),
        ),
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {pos} acked · {msg}")
                .expect("a valid template"),
        ),
    };
    crate::app::logging::set_active_bar(bar.clone());
    let mut intervals = Intervals::start(Arc::clone(&snapshot), latency);
    let mut ticker = tokio::time::interval(BAR_REFRESH);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = ticker.tick() => {}
        }
        bar.set_position(snapshot().acked);
        if intervals.began.elapsed() >= BAR_WINDOW {
            bar.set_message(intervals.next().bar_message());
        }
    }
    crate::app::logging::clear_active_bar();
    bar.finish_and_clear();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    fn stats(acked: u64) -> StatsSnapshot {
        StatsSnapshot {
            sent: acked + 10,
            acked,
            failed: 2,
            in_flight_records: 8,
            ..Default::default()
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn each_window_has_its_own_percentiles() {
        let window = IntervalLatency::new();
        // A calm interval: 1,000 records at 2 ms.
        window.acked(0, 0, &vec![ms(2); 1_000], 0);
        let calm = window.take().unwrap();
        // A spike: 900 records at 2 ms, 100 at 250 ms.
        window.acked(0, 1_000, &vec![ms(2); 900], 0);
        window.acked(1, 0, &vec![ms(250); 100], 0);
        let spike = window.take().unwrap();
        // Then nothing acknowledged at all.
        assert_eq!(window.take(), None);

        assert!((calm.p99_ms - 2.0).abs() < 0.01, "{calm:?}");
        assert!((calm.max_ms - 2.0).abs() < 0.01, "{calm:?}");
        assert!((spike.p50_ms - 2.0).abs() < 0.01, "{spike:?}");
        assert!((spike.p99_ms - 250.0).abs() < 0.5, "{spike:?}");
        assert!((spike.max_ms - 250.0).abs() < 0.5, "{spike:?}");
        assert_ne!(calm.p99_ms, spike.p99_ms);
    }

    #[test]
    fn the_rate_is_over_the_interval_and_the_line_reads_well() {
        let latency = Some(WindowLatency {
            p50_ms: 2.04,
            p99_ms: 9.96,
            max_ms: 12.3,
        });
        let line = ProgressLine::new(&stats(15_000), 5_000, Duration::from_secs(5), latency);
        assert_eq!(line.records_per_sec, 2_000.0);
        assert_eq!(
            line.text(),
            "2000 records/s, ack latency p50 2.0 ms p99 10.0 ms max 12.3 ms over the last 5.0 s; \
             15010 sent, 15000 acked, 2 failed, 8 in flight"
        );
        let idle = ProgressLine::new(&stats(1), 1, Duration::ZERO, None);
        assert_eq!(idle.records_per_sec, 0.0);
        assert!(idle
            .text()
            .starts_with("0 records/s, no acks over the last 0.0 s;"));
    }

    #[tokio::test(start_paused = true)]
    async fn consecutive_intervals_report_their_own_latency() {
        let acked = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&acked);
        let source: SnapshotSource = Arc::new(move || stats(counter.load(Ordering::SeqCst)));
        let window = IntervalLatency::new();
        window.acked(0, 0, &[ms(500)], 0); // before the first interval: belongs to none
        let mut intervals = Intervals::start(source, Arc::clone(&window));

        tokio::time::sleep(Duration::from_secs(5)).await;
        acked.store(10_000, Ordering::SeqCst);
        window.acked(0, 0, &vec![ms(3); 10_000], 0);
        let first = intervals.next();
        tokio::time::sleep(Duration::from_secs(5)).await;
        acked.store(15_000, Ordering::SeqCst);
        window.acked(0, 0, &vec![ms(40); 5_000], 0);
        let second = intervals.next();

        assert_eq!(first.records_per_sec, 2_000.0);
        assert_eq!(second.records_per_sec, 1_000.0);
        assert!(
            (first.latency.unwrap().max_ms - 3.0).abs() < 0.01,
            "{first:?}"
        );
        assert!(
            (second.latency.unwrap().p99_ms - 40.0).abs() < 0.05,
            "{second:?}"
        );
        assert_eq!(second.interval, Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn lines_come_every_interval_until_finished() {
        let reads = Arc::new(AtomicU64::new(0));
        let counter = reads.clone();
        let source: SnapshotSource =
            Arc::new(move || stats(counter.fetch_add(1, Ordering::SeqCst) * 100));
        let handle = spawn(
            source,
            IntervalLatency::new(),
            Duration::from_secs(5),
            LogFormat::Json,
            None,
        );
        tokio::time::sleep(Duration::from_millis(15_500)).await;
        handle.finish().await;
        // One read at start, then one per 5 s tick: 3 ticks in 15.5 s.
        assert_eq!(reads.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn zero_interval_disables_progress() {
        let source: SnapshotSource = Arc::new(|| panic!("must not be read"));
        spawn(
            source,
            IntervalLatency::new(),
            Duration::ZERO,
            LogFormat::Text,
            Some(10),
        )
        .finish()
        .await;
    }
}
