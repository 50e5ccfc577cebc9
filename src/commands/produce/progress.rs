//! "Is it working?" while a run goes on: a progress line on stderr every `--progress-interval`, or a
//! live bar when stderr is a terminal.
//!
//! Both read the engine's [`StatsSnapshot`] on a timer — nothing on the send path. Lines go through
//! `tracing`, so `--log-format json` makes them JSON objects (`"event":"progress"`) and `-q` hides them;
//! the bar is for people only and is never drawn when the output is JSON or not a terminal.

use std::{collections::VecDeque, io::IsTerminal, sync::Arc, time::Duration};

use indicatif::{ProgressBar, ProgressStyle};
use tokio::{sync::oneshot, task::JoinHandle, time::Instant};

use crate::{app::settings::LogFormat, producer::delivery::StatsSnapshot};

/// Where progress reads the counters from (usually the engine's `stats()`).
pub(crate) type SnapshotSource = Arc<dyn Fn() -> StatsSnapshot + Send + Sync>;

/// How often the live bar is redrawn.
const BAR_REFRESH: Duration = Duration::from_millis(250);
/// The window over which the bar's records/s is measured.
const BAR_RATE_WINDOW: Duration = Duration::from_secs(1);

/// One progress report: throughput over the last interval plus the running totals.
#[derive(Debug, Clone, PartialEq)]
struct ProgressLine {
    /// Acknowledged records per second over the interval.
    records_per_sec: f64,
    sent: u64,
    acked: u64,
    failed: u64,
    in_flight: u64,
    p50_ms: f64,
    p99_ms: f64,
}

impl ProgressLine {
    /// The report for `now`, with the rate measured since `previous_acked` records `elapsed` ago.
    fn new(now: &StatsSnapshot, previous_acked: u64, elapsed: Duration) -> Self {
        let seconds = elapsed.as_secs_f64();
        let delta = now.acked.saturating_sub(previous_acked) as f64;
        Self {
            records_per_sec: if seconds > 0.0 { delta / seconds } else { 0.0 },
            sent: now.sent,
            acked: now.acked,
            failed: now.failed,
            in_flight: now.in_flight_records,
            p50_ms: now.latency.p50_ms,
            p99_ms: now.latency.p99_ms,
        }
    }

    /// The human line.
    fn text(&self) -> String {
        format!(
            "{:.0} records/s, {} sent, {} acked, {} failed, {} in flight, ack latency p50 {:.1} ms p99 {:.1} ms",
            self.records_per_sec, self.sent, self.acked, self.failed, self.in_flight, self.p50_ms, self.p99_ms
        )
    }

    /// Logs the line: a text message, or JSON fields with `"event":"progress"`.
    fn log(&self, format: LogFormat) {
        match format {
            LogFormat::Text => tracing::info!("progress: {}", self.text()),
            LogFormat::Json => tracing::info!(
                event = "progress",
                records_per_sec = (self.records_per_sec * 10.0).round() / 10.0,
                sent = self.sent,
                acked = self.acked,
                failed = self.failed,
                in_flight = self.in_flight,
                p50_ms = self.p50_ms,
                p99_ms = self.p99_ms,
            ),
        }
    }

    /// The bar's message (the position shows acked/total).
    fn bar_message(&self) -> String {
        format!(
            "{:.0} rec/s · {} failed · {} in flight · p50 {:.1} ms p99 {:.1} ms",
            self.records_per_sec, self.failed, self.in_flight, self.p50_ms, self.p99_ms
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

/// Starts reporting (needs a Tokio runtime). `total` is `--count`, if any, for the bar's length. A
/// zero `interval` disables progress.
pub(crate) fn spawn(
    snapshot: SnapshotSource,
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
        tokio::spawn(run_bar(snapshot, total, stop_rx))
    } else {
        tokio::spawn(run_lines(snapshot, interval, format, stop_rx))
    };
    ProgressHandle {
        stop: Some(stop_tx),
        task: Some(task),
    }
}

async fn run_lines(
    snapshot: SnapshotSource,
    interval: Duration,
    format: LogFormat,
    mut stop: oneshot::Receiver<()>,
) {
    let mut ticker = tokio::time::interval_at(Instant::now() + interval, interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut previous = (Instant::now(), snapshot().acked);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = ticker.tick() => {}
        }
        let now = snapshot();
        let at = Instant::now();
        ProgressLine::new(&now, previous.1, at - previous.0).log(format);
        previous = (at, now.acked);
    }
}

async fn run_bar(snapshot: SnapshotSource, total: Option<u64>, mut stop: oneshot::Receiver<()>) {
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
    let mut window: VecDeque<(Instant, u64)> = VecDeque::from([(Instant::now(), snapshot().acked)]);
    let mut ticker = tokio::time::interval(BAR_REFRESH);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = ticker.tick() => {}
        }
        let now = snapshot();
        let at = Instant::now();
        while window.len() > 1 && at - window[1].0 >= BAR_RATE_WINDOW {
            window.pop_front();
        }
        let (since, acked_then) = window[0];
        let line = ProgressLine::new(&now, acked_then, at - since);
        window.push_back((at, now.acked));
        bar.set_position(now.acked);
        bar.set_message(line.bar_message());
    }
    crate::app::logging::clear_active_bar();
    bar.finish_and_clear();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::producer::delivery::LatencySummary;
    use std::sync::atomic::{AtomicU64, Ordering};

    fn stats(acked: u64) -> StatsSnapshot {
        StatsSnapshot {
            sent: acked + 10,
            acked,
            failed: 2,
            in_flight_records: 8,
            latency: LatencySummary {
                p50_ms: 2.04,
                p99_ms: 9.96,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn the_rate_is_over_the_interval_and_the_line_reads_well() {
        let line = ProgressLine::new(&stats(15_000), 5_000, Duration::from_secs(5));
        assert_eq!(line.records_per_sec, 2_000.0);
        assert_eq!(
            line.text(),
            "2000 records/s, 15010 sent, 15000 acked, 2 failed, 8 in flight, ack latency p50 2.0 ms p99 10.0 ms"
        );
        assert_eq!(
            ProgressLine::new(&stats(1), 0, Duration::ZERO).records_per_sec,
            0.0
        );
    }

    #[tokio::test(start_paused = true)]
    async fn lines_come_every_interval_until_finished() {
        let reads = Arc::new(AtomicU64::new(0));
        let counter = reads.clone();
        let source: SnapshotSource =
            Arc::new(move || stats(counter.fetch_add(1, Ordering::SeqCst) * 100));
        let handle = spawn(source, Duration::from_secs(5), LogFormat::Json, None);
        tokio::time::sleep(Duration::from_millis(15_500)).await;
        handle.finish().await;
        // One read at start, then one per 5 s tick: 3 ticks in 15.5 s.
        assert_eq!(reads.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn zero_interval_disables_progress() {
        let source: SnapshotSource = Arc::new(|| panic!("must not be read"));
        spawn(source, Duration::ZERO, LogFormat::Text, Some(10))
            .finish()
            .await;
    }
}
