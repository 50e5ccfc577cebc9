//! When the generator may make the next records, and when it must stop: `--count`, `--duration`,
//! `--rate` and the first signal, in one place.
//!
//! The produce loop asks [`RunControl::permit`] before generating each small batch; the answer is how
//! many records it may make now, or `None` to stop. Waiting for the rate limiter races the stop
//! signal and the deadline, so even a slow `--rate` stops on time. Batches are capped at one
//! millisecond's worth of the rate, which keeps the pacing smooth.

use tokio::time::Instant;

use crate::{
    commands::produce::rate::RateLimiter, commands::produce::shutdown::Shutdown,
    settings::RunSettings,
};

/// Why the generator stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// `--count` records were generated.
    CountReached,
    /// `--duration` is over.
    DurationOver,
    /// A signal (or [`Shutdown::request`]) asked the run to stop.
    Signal,
    /// The producer refused more records after a non-retriable error.
    FatalError,
}

impl StopReason {
    /// The stable word for the summary and the logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CountReached => "count_reached",
            Self::DurationOver => "duration_over",
            Self::Signal => "signal",
            Self::FatalError => "fatal_error",
        }
    }
}

/// Paces and bounds the generator of one run.
#[derive(Debug)]
pub(crate) struct RunControl {
    rate: RateLimiter,
    /// Largest batch the rate allows at once (1 ms of records, at least 1).
    rate_batch: u64,
    shutdown: Shutdown,
    deadline: Option<Instant>,
    remaining: Option<u64>,
    stopped: Option<StopReason>,
}

impl RunControl {
    /// Starts the clock for `--duration` now.
    pub(crate) fn new(run: &RunSettings, shutdown: Shutdown) -> Self {
        let rate_batch = run.rate.map_or(u64::MAX, |r| (r / 1000).max(1));
        Self {
            rate: RateLimiter::new(run.rate),
            rate_batch,
            shutdown,
            deadline: run.duration.map(|d| Instant::now() + d),
            remaining: run.count,
            stopped: None,
        }
    }

    /// Waits until more records may be generated and returns how many (1 to `max`), or `None` once
    /// the run must stop (see [`RunControl::stop_reason`]).
    pub(crate) async fn permit(&mut self, max: u64) -> Option<u64> {
        if self.stopped.is_some() {
            return None;
        }
        if let Some(reason) = self.due_stop() {
            self.stopped = Some(reason);
            return None;
        }
        let n = max
            .max(1)
            .min(self.rate_batch)
            .min(self.remaining.unwrap_or(u64::MAX));
        if !self.rate.is_unlimited() {
            let deadline = self.deadline;
            let until_deadline = async move {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                _ = self.shutdown.wait() => {
                    self.stopped = Some(StopReason::Signal);
                    return None;
                }
                _ = until_deadline => {
                    self.stopped = Some(StopReason::DurationOver);
                    return None;
                }
                _ = self.rate.acquire(n) => {}
            }
        }
        if let Some(remaining) = &mut self.remaining {
            *remaining -= n;
        }
        Some(n)
    }

    /// The stop that applies right now, if any.
    fn due_stop(&self) -> Option<StopReason> {
        if self.shutdown.requested() {
            Some(StopReason::Signal)
        } else if self.remaining == Some(0) {
            Some(StopReason::CountReached)
        } else if self.deadline.is_some_and(|at| Instant::now() >= at) {
            Some(StopReason::DurationOver)
        } else {
            None
        }
    }

    /// Why [`RunControl::permit`] returned `None`; `None` while the run goes on.
    pub(crate) fn stop_reason(&self) -> Option<StopReason> {
        self.stopped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn settings(count: Option<u64>, duration: Option<Duration>, rate: Option<u64>) -> RunSettings {
        RunSettings {
            count,
            duration,
            rate,
            seed: None,
            id_start: 1,
            progress_interval: Duration::from_secs(5),
            metrics_addr: None,
            metrics_linger: Duration::ZERO,
            create_topic: None,
            instance: crate::app::config::instance_defaults(),
        }
    }

    async fn drain(control: &mut RunControl, max: u64) -> u64 {
        let mut total = 0;
        while let Some(n) = control.permit(max).await {
            total += n;
        }
        total
    }

    #[tokio::test(start_paused = true)]
    async fn count_is_exact_whatever_the_batch() {
        let mut control = RunControl::new(&settings(Some(1_001), None, None), Shutdown::manual());
        assert_eq!(drain(&mut control, 64).await, 1_001);
        assert_eq!(control.stop_reason(), Some(StopReason::CountReached));
        assert_eq!(control.permit(64).await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn duration_with_a_rate_gives_rate_times_duration() {
        let mut control = RunControl::new(
            &settings(None, Some(Duration::from_secs(10)), Some(2_000)),
            Shutdown::manual(),
        );
        let start = Instant::now();
        let total = drain(&mut control, 500).await;
        assert_eq!(control.stop_reason(), Some(StopReason::DurationOver));
        assert_eq!(start.elapsed(), Duration::from_secs(10));
        assert!((19_900..=20_000).contains(&total), "{total}");
    }

    #[tokio::test(start_paused = true)]
    async fn batches_are_capped_to_a_millisecond_of_rate() {
        let mut control = RunControl::new(&settings(None, None, Some(50_000)), Shutdown::manual());
        assert_eq!(control.permit(1_000).await, Some(50));
        let mut slow = RunControl::new(&settings(None, None, Some(10)), Shutdown::manual());
        assert_eq!(slow.permit(1_000).await, Some(1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_signal_stops_even_a_slow_rate_at_once() {
        let shutdown = Shutdown::manual();
        let mut control = RunControl::new(&settings(None, None, Some(1)), shutdown.clone());
        assert_eq!(control.permit(1).await, Some(1));
        let stopper = shutdown.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            stopper.request();
        });
        let start = Instant::now();
        assert_eq!(control.permit(1).await, None);
        assert_eq!(control.stop_reason(), Some(StopReason::Signal));
        assert!(start.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn without_limits_it_runs_until_asked_to_stop() {
        let shutdown = Shutdown::manual();
        let mut control = RunControl::new(&settings(None, None, None), shutdown.clone());
        for _ in 0..1_000 {
            assert_eq!(control.permit(100).await, Some(100));
        }
        shutdown.request();
        assert_eq!(control.permit(100).await, None);
        assert_eq!(control.stop_reason(), Some(StopReason::Signal));
    }
}
