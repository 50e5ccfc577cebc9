//! The one retry pacing used everywhere a remote call is retried (broker connections, produce
//! requests, metadata, registry requests): pauses that start short, double after each failure up to a
//! cap, start over after a success, and never run past the caller's deadline.

use std::time::Duration;

use tokio::time::Instant;

/// Exponential backoff state for one retried activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Backoff {
    initial: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    /// Pauses start at `initial` and double up to `max` (`max` below `initial` is raised to it).
    pub(crate) const fn new(initial: Duration, max: Duration) -> Self {
        let max = if max.as_nanos() < initial.as_nanos() {
            initial
        } else {
            max
        };
        Self {
            initial,
            max,
            next: initial,
        }
    }

    /// The first pause.
    pub(crate) const fn initial(&self) -> Duration {
        self.initial
    }

    /// The longest pause.
    pub(crate) const fn max(&self) -> Duration {
        self.max
    }

    /// The pause to take after a failure; the one after it is twice as long, up to the cap.
    pub(crate) fn next_pause(&mut self) -> Duration {
        let pause = self.next;
        self.next = self.next.saturating_mul(2).min(self.max);
        pause
    }

    /// Like [`next_pause`](Self::next_pause), but cut so the pause ends by `deadline`; `None` when
    /// the deadline has already passed (give up and report the last error).
    pub(crate) fn next_pause_before(
        &mut self,
        now: Instant,
        deadline: Instant,
    ) -> Option<Duration> {
        let left = deadline
            .checked_duration_since(now)
            .filter(|d| !d.is_zero())?;
        Some(self.next_pause().min(left))
    }

    /// After a success: the next failure pauses for `initial` again.
    pub(crate) fn reset(&mut self) {
        self.next = self.initial;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn pauses_double_up_to_the_cap_and_reset_starts_over() {
        let mut backoff = Backoff::new(MS(100), MS(500));
        let pauses: Vec<Duration> = (0..5).map(|_| backoff.next_pause()).collect();
        assert_eq!(pauses, [MS(100), MS(200), MS(400), MS(500), MS(500)]);
        backoff.reset();
        assert_eq!(backoff.next_pause(), MS(100));
    }

    #[test]
    fn a_cap_below_the_first_pause_is_raised_to_it() {
        let mut backoff = Backoff::new(MS(300), MS(10));
        assert_eq!(
            (backoff.next_pause(), backoff.next_pause()),
            (MS(300), MS(300))
        );
    }

    #[test]
    fn pauses_never_run_past_the_deadline() {
        let now = Instant::now();
        let mut backoff = Backoff::new(MS(100), MS(1_000));
        assert_eq!(backoff.next_pause_before(now, now + MS(50)), Some(MS(50)));
        assert_eq!(
            backoff.next_pause_before(now, now + MS(10_000)),
            Some(MS(200))
        );
        assert_eq!(backoff.next_pause_before(now, now), None);
        assert_eq!(backoff.next_pause_before(now + MS(5), now), None);
    }
}
