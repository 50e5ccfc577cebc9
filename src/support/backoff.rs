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
}

/// What one attempt of a retried call came to; `C` is what a failed attempt worth retrying leaves
/// (a cause's text for most callers, a typed error for those that report it as it is).
#[derive(Debug)]
pub(crate) enum Attempt<T, E, C = String> {
    Done(T),
    /// Retrying cannot help.
    Fatal(E),
    /// Worth another try; why this one failed.
    Retry(C),
}

/// Why [`retry_until`] gave up.
#[derive(Debug)]
pub(crate) enum GaveUp<E, C = String> {
    Fatal(E),
    /// The deadline passed; the last attempt's cause.
    Deadline(C),
}

/// Calls `attempt` (with its number, from 1) until it is done or fatal, pausing as `backoff` says between tries, and gives up
/// with the last cause once the deadline has passed (a pause is cut to end at the deadline): the
/// one loop behind every call that is retried until a deadline (connecting, metadata, producer ids,
/// registry requests).
pub(crate) async fn retry_until<T, E, C, F, Fut>(
    mut backoff: Backoff,
    deadline: Instant,
    what: &str,
    mut attempt: F,
) -> Result<T, GaveUp<E, C>>
where
    C: std::fmt::Display,
    F: FnMut(u32) -> Fut,
    Fut: std::future::Future<Output = Attempt<T, E, C>>,
{
    let mut number: u32 = 0;
    loop {
        number = number.saturating_add(1);
        let cause = match attempt(number).await {
            Attempt::Done(value) => return Ok(value),
            Attempt::Fatal(error) => return Err(GaveUp::Fatal(error)),
            Attempt::Retry(cause) => cause,
        };
        match backoff.next_pause_before(Instant::now(), deadline) {
            Some(pause) => {
                tracing::debug!(%cause, ?pause, "{what} failed; will retry");
                tokio::time::sleep(pause).await;
            }
            None => return Err(GaveUp::Deadline(cause)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn pauses_double_up_to_the_cap() {
        let mut backoff = Backoff::new(MS(100), MS(500));
        let pauses: Vec<Duration> = (0..5).map(|_| backoff.next_pause()).collect();
        assert_eq!(pauses, [MS(100), MS(200), MS(400), MS(500), MS(500)]);
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

    #[tokio::test(start_paused = true)]
    async fn retry_until_stops_at_done_fatal_or_the_deadline() {
        let start = Instant::now();
        let done: Result<u32, GaveUp<()>> = retry_until(
            Backoff::new(MS(100), MS(100)),
            start + MS(1_000),
            "test",
            |n| async move {
                if n < 3 {
                    Attempt::Retry(format!("try {n}"))
                } else {
                    Attempt::Done(n)
                }
            },
        )
        .await;
        assert!(matches!(done, Ok(3)));
        let fatal: Result<(), GaveUp<&str>> = retry_until(
            Backoff::new(MS(100), MS(100)),
            start + MS(1_000),
            "test",
            |_| async { Attempt::Fatal("no") },
        )
        .await;
        assert!(matches!(fatal, Err(GaveUp::Fatal("no"))));
        let before = Instant::now();
        let late: Result<(), GaveUp<()>> = retry_until(
            Backoff::new(MS(100), MS(100)),
            before + MS(250),
            "test",
            |_| async { Attempt::Retry("down".into()) },
        )
        .await;
        assert!(matches!(late, Err(GaveUp::Deadline(ref c)) if c == "down"));
        assert!(Instant::now() <= before + MS(250));
    }
}
