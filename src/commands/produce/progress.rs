//! "Is it working?" while a run goes on: a progress line on stderr every `--progress-interval`, or a
//! live bar when stderr is a terminal.
//!
//! Each line describes its own interval, as `kafka-producer-perf-test`'s 5-second windows do: the
//! records acknowledged per second during it and the ack latency (p50, p99, max) of the records
//! acknowledged during it — so a latency spike in hour three shows in hour three instead of being
//! averaged into the whole run — next to the running totals. The whole-run figures are the
//! summary's. Both come from the engine's books ([`DeliveryFigures`]): the interval's latencies,
//! whose count is the records acknowledged in it, and the snapshot's totals. Lines go through
//! `tracing`, so `--log-format json` makes them JSON objects (`"event":"progress"`) and `-q` hides
//! them; the bar is for people only and is never drawn when the output is JSON or not a terminal.

use std::{io::IsTerminal, sync::Arc, time::Duration};

use indicatif::{ProgressBar, ProgressStyle};
use tokio::{sync::oneshot, task::JoinHandle, time::Instant};

use super::{
    summary::{millis, per_second, round},
    DeliveryFigures,
};
use crate::{
    producer::delivery::{Distribution, StatsSnapshot},
    settings::LogFormat,
};

/// How often the live bar is redrawn.
const BAR_REFRESH: Duration = Duration::from_millis(250);
/// The bar's interval: its records/s and latencies are over the last second.
const BAR_WINDOW: Duration = Duration::from_secs(1);

/// One interval's ack-latency figures.
#[derive(Debug, Clone, Copy, PartialEq)]
struct WindowLatency {
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

impl WindowLatency {
    /// The figures of the interval's ack latencies (µs); `None` when no record was acknowledged.
    fn of(latency_us: &Distribution) -> Option<Self> {
        (!latency_us.is_empty()).then(|| Self {
            p50_ms: millis(latency_us.quantile(0.50)),
            p99_ms: millis(latency_us.quantile(0.99)),
            max_ms: millis(latency_us.max()),
        })
    }
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
    /// The share of the interval broker connections were held back by quota throttling, in
    /// percent (summed over connections, so several brokers can make more than 100).
    throttled_percent: u64,
}

impl ProgressLine {
    /// The report for the `interval` that ends with `now`, during which records were acknowledged
    /// with `latency_us` (one value per record) and connections were held back for `throttled`.
    fn new(
        now: &StatsSnapshot,
        interval: Duration,
        latency_us: &Distribution,
        throttled: Duration,
    ) -> Self {
        let throttled_percent = if interval.is_zero() {
            0
        } else {
            (throttled.as_secs_f64() / interval.as_secs_f64() * 100.0).round() as u64
        };
        Self {
            throttled_percent,
            interval,
            records_per_sec: per_second(latency_us.count() as f64, interval),
            latency: WindowLatency::of(latency_us),
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
        let mut text = format!(
            "{:.0} records/s, {} over the last {:.1} s; {} sent, {} acked, {} failed, {} in flight",
            self.records_per_sec,
            self.latency_text(),
            self.interval.as_secs_f64(),
            self.sent,
            self.acked,
            self.failed,
            self.in_flight
        );
        if self.throttled_percent > 0 {
            text.push_str(&format!(
                "; throttled {}% of the interval",
                self.throttled_percent
            ));
        }
        text
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
                throttled_percent = self.throttled_percent,
            ),
        }
    }

    /// The bar's message (the position shows acked/total).
    fn bar_message(&self) -> String {
        let mut message = format!(
            "{:.0} rec/s · {} · {} failed · {} in flight",
            self.records_per_sec,
            self.latency_text(),
            self.failed,
            self.in_flight
        );
        if self.throttled_percent > 0 {
            message.push_str(&format!(" · throttled {}%", self.throttled_percent));
        }
        message
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

/// Starts reporting (needs a Tokio runtime) from `figures`, whose intervals it then owns. `total` is
/// `--count`, if any, for the bar's length. A zero `interval` disables progress.
pub(crate) fn spawn(
    figures: Arc<dyn DeliveryFigures>,
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
        tokio::spawn(run_bar(figures, total, stop_rx))
    } else {
        tokio::spawn(run_lines(figures, interval, format, stop_rx))
    };
    ProgressHandle {
        stop: Some(stop_tx),
        task: Some(task),
    }
}

/// Measures consecutive intervals: each report covers the time since the previous one.
struct Intervals {
    figures: Arc<dyn DeliveryFigures>,
    began: Instant,
    /// The throttled time at the start of the interval.
    throttled: Duration,
}

impl Intervals {
    fn start(figures: Arc<dyn DeliveryFigures>) -> Self {
        // Acknowledgements from before the first interval belong to no report.
        figures.end_interval();
        let throttled = figures.snapshot().throttled;
        Self {
            figures,
            began: Instant::now(),
            throttled,
        }
    }

    /// The report for the interval ending now; the next one begins now.
    fn next(&mut self) -> ProgressLine {
        let latency_us = self.figures.end_interval();
        let at = Instant::now();
        let now = self.figures.snapshot();
        let throttled = now.throttled.saturating_sub(self.throttled);
        let line = ProgressLine::new(&now, at - self.began, &latency_us, throttled);
        self.began = at;
        self.throttled = now.throttled;
        line
    }
}

async fn run_lines(
    figures: Arc<dyn DeliveryFigures>,
    interval: Duration,
    format: LogFormat,
    mut stop: oneshot::Receiver<()>,
) {
    let mut ticker = tokio::time::interval_at(Instant::now() + interval, interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut intervals = Intervals::start(figures);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = ticker.tick() => {}
        }
        intervals.next().log(format);
    }
}

async fn run_bar(
    figures: Arc<dyn DeliveryFigures>,
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
    let mut intervals = Intervals::start(Arc::clone(&figures));
    let mut ticker = tokio::time::interval(BAR_REFRESH);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = ticker.tick() => {}
        }
        if intervals.began.elapsed() >= BAR_WINDOW {
            let line = intervals.next();
            bar.set_position(line.acked);
            bar.set_message(line.bar_message());
        } else {
            bar.set_position(figures.snapshot().acked);
        }
    }
    crate::app::logging::clear_active_bar();
    bar.finish_and_clear();
}

#[cfg(test)]
mod tests {
    use super::*;
    use parking_lot::Mutex;
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

    /// The engine's books as progress sees them: acknowledgements come with their latencies.
    #[derive(Default)]
    struct Books {
        acked: AtomicU64,
        interval_us: Mutex<Vec<u64>>,
        intervals_ended: AtomicU64,
    }

    impl Books {
        fn ack(&self, records: u64, latency_us: u64) {
            self.acked.fetch_add(records, Ordering::SeqCst);
            self.interval_us
                .lock()
                .extend((0..records).map(|_| latency_us));
        }
    }

    impl DeliveryFigures for Books {
        fn snapshot(&self) -> StatsSnapshot {
            stats(self.acked.load(Ordering::SeqCst))
        }
        fn end_interval(&self) -> Distribution {
            self.intervals_ended.fetch_add(1, Ordering::SeqCst);
            Distribution::of(&std::mem::take(&mut *self.interval_us.lock()))
        }
    }

    #[test]
    fn the_rate_is_over_the_interval_and_the_line_reads_well() {
        let mut latency_us = vec![2_040; 5_000];
        latency_us.extend([1_900; 4_890]);
        latency_us.extend([9_960; 109]);
        latency_us.push(12_300);
        let line = ProgressLine::new(
            &stats(15_000),
            Duration::from_secs(5),
            &Distribution::of(&latency_us),
            Duration::ZERO,
        );
        assert_eq!(line.records_per_sec, 2_000.0);
        assert_eq!(
            line.text(),
            "2000 records/s, ack latency p50 2.0 ms p99 10.0 ms max 12.3 ms over the last 5.0 s; \
             15010 sent, 15000 acked, 2 failed, 8 in flight"
        );
        let idle = ProgressLine::new(
            &stats(1),
            Duration::ZERO,
            &Distribution::default(),
            Duration::ZERO,
        );
        assert_eq!((idle.records_per_sec, idle.latency), (0.0, None));
        assert!(idle
            .text()
            .starts_with("0 records/s, no acks over the last 0.0 s;"));
        let throttled = ProgressLine::new(
            &stats(15_000),
            Duration::from_secs(5),
            &Distribution::of(&latency_us),
            Duration::from_millis(3_100),
        );
        assert!(
            throttled
                .text()
                .ends_with("8 in flight; throttled 62% of the interval"),
            "{}",
            throttled.text()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn consecutive_intervals_report_their_own_rate_and_latency() {
        let books = Arc::new(Books::default());
        books.ack(1, 500_000); // before the first interval: belongs to none
        let mut intervals = Intervals::start(books.clone());

        tokio::time::sleep(Duration::from_secs(5)).await;
        books.ack(10_000, 3_000);
        let first = intervals.next();
        tokio::time::sleep(Duration::from_secs(5)).await;
        books.ack(5_000, 40_000);
        let second = intervals.next();

        assert_eq!(first.records_per_sec, 2_000.0);
        assert_eq!(second.records_per_sec, 1_000.0);
        assert_eq!((first.acked, second.acked), (10_001, 15_001));
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
        let books = Arc::new(Books::default());
        let handle = spawn(books.clone(), Duration::from_secs(5), LogFormat::Json, None);
        tokio::time::sleep(Duration::from_millis(15_500)).await;
        handle.finish().await;
        // One interval ended at start, then one per 5 s tick: 3 ticks in 15.5 s.
        assert_eq!(books.intervals_ended.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn zero_interval_disables_progress() {
        struct Unread;
        impl DeliveryFigures for Unread {
            fn snapshot(&self) -> StatsSnapshot {
                panic!("must not be read")
            }
            fn end_interval(&self) -> Distribution {
                panic!("must not be read")
            }
        }
        spawn(Arc::new(Unread), Duration::ZERO, LogFormat::Text, Some(10))
            .finish()
            .await;
    }
}
