//! `--rate`: a token bucket that paces the generator to N records per second, smoothly.
//!
//! Tokens are handed out on a virtual timeline: each `acquire(n)` reserves the next `n / rate` seconds
//! of it and waits until that reservation ends. Because reservations are contiguous, a late timer
//! wake-up or a slow caller does not lose time — the next callers find their tokens already due and
//! go straight through — so the long-run rate is exact however coarse the timer is. The bucket holds
//! at most [`BURST_WINDOW`] of tokens, so after a stall (backpressure) the producer catches up by at
//! most that much instead of bursting.

use std::{sync::Mutex, time::Duration};

use tokio::time::Instant;

/// How far the virtual timeline may lag behind real time: the bucket's capacity, in time. Large
/// enough to absorb timer granularity (1 ms) and scheduling jitter, small enough to stay smooth.
const BURST_WINDOW: Duration = Duration::from_millis(20);

/// The pure arithmetic of the bucket: given "now", when may `n` more tokens be used?
#[derive(Debug, Clone)]
struct TokenSchedule {
    /// Time per token, in nanoseconds (fractional, so odd rates do not drift).
    nanos_per_token: f64,
    /// The end of the last reservation, in nanoseconds since `origin`.
    reserved_until: f64,
    origin: Instant,
    burst_nanos: f64,
}

impl TokenSchedule {
    /// A schedule for `per_second` tokens per second, starting empty at `now` (no initial burst).
    fn new(per_second: u64, now: Instant) -> Self {
        assert!(per_second > 0, "a rate of zero never hands out a token");
        Self {
            nanos_per_token: 1e9 / per_second as f64,
            reserved_until: 0.0,
            origin: now,
            burst_nanos: BURST_WINDOW.as_nanos() as f64,
        }
    }

    /// Reserves `n` tokens at `now` and returns the instant the caller may use them (≤ `now`: at once).
    fn reserve(&mut self, n: u64, now: Instant) -> Instant {
        let now_nanos = now.saturating_duration_since(self.origin).as_nanos() as f64;
        let start = self.reserved_until.max(now_nanos - self.burst_nanos);
        self.reserved_until = start + n as f64 * self.nanos_per_token;
        self.origin + Duration::from_nanos(self.reserved_until.max(0.0) as u64)
    }
}

/// Paces callers to a rate; `None` is unlimited and never waits. Shareable (`&self`) across tasks.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    schedule: Option<Mutex<TokenSchedule>>,
}

impl RateLimiter {
    /// `records_per_sec` of `None` or `Some(0)` means unlimited.
    pub(crate) fn new(records_per_sec: Option<u64>) -> Self {
        let schedule = records_per_sec
            .filter(|&r| r > 0)
            .map(|r| Mutex::new(TokenSchedule::new(r, Instant::now())));
        Self { schedule }
    }

    pub(crate) fn is_unlimited(&self) -> bool {
        self.schedule.is_none()
    }

    /// Waits until `n` more records may be sent.
    pub(crate) async fn acquire(&self, n: u64) {
        let Some(schedule) = &self.schedule else {
            return;
        };
        let now = Instant::now();
        let due = schedule
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .reserve(n, now);
        if due > now {
            tokio::time::sleep_until(due).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_are_contiguous_on_the_virtual_timeline() {
        let start = Instant::now();
        let mut schedule = TokenSchedule::new(1000, start);
        assert_eq!(schedule.reserve(1, start), start + Duration::from_millis(1));
        assert_eq!(
            schedule.reserve(10, start),
            start + Duration::from_millis(11)
        );
        // A caller that arrives late (woken 5 ms after its due time) still gets the next slot,
        // which is already due, so no time is lost.
        let late = start + Duration::from_millis(16);
        assert_eq!(schedule.reserve(1, late), start + Duration::from_millis(12));
    }

    #[test]
    fn an_idle_bucket_fills_up_to_the_burst_window_only() {
        let start = Instant::now();
        let mut schedule = TokenSchedule::new(1000, start);
        let after_stall = start + Duration::from_secs(1);
        // 1 s idle: only 20 ms (20 tokens) of catch-up are granted, then pacing resumes.
        let due = schedule.reserve(20, after_stall);
        assert_eq!(due, after_stall);
        let due = schedule.reserve(1, after_stall);
        assert_eq!(due, after_stall + Duration::from_millis(1));
    }

    #[test]
    fn odd_rates_do_not_drift() {
        let start = Instant::now();
        let mut schedule = TokenSchedule::new(3, start);
        let mut due = start;
        for _ in 0..3_000 {
            due = schedule.reserve(1, start);
        }
        let error = due.duration_since(start).as_secs_f64() - 1000.0;
        assert!(error.abs() < 1e-6, "drift {error} s");
    }

    #[tokio::test(start_paused = true)]
    async fn ten_seconds_at_a_rate_with_a_paused_clock() {
        let limiter = RateLimiter::new(Some(5_000));
        let start = Instant::now();
        let mut records = 0u64;
        while start.elapsed() < Duration::from_secs(10) {
            limiter.acquire(1).await;
            records += 1;
        }
        let error = (records as f64 - 50_000.0) / 50_000.0;
        assert!(error.abs() < 0.02, "{records} records in 10 s at 5000/s");
    }

    #[tokio::test(start_paused = true)]
    async fn unlimited_never_waits() {
        let limiter = RateLimiter::new(Some(0));
        assert!(limiter.is_unlimited());
        let start = Instant::now();
        for _ in 0..1000 {
            limiter.acquire(1_000).await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
    }
}
