//! How often and how patiently a registry request is retried: a bounded exponential backoff, so a
//! registry that restarts or blips is ridden out while a dead one fails the run within seconds.

use std::time::Duration;

/// Attempts and pauses for one registry request. Only transport failures (other than TLS) and 5xx
/// answers are retried; a 4xx answer is final.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts, the first included (at least 1).
    pub attempts: u32,
    /// Pause after the first failure; doubled after each further one.
    pub first_backoff: Duration,
    /// Upper bound on one pause.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    /// 4 attempts, pausing 250 ms, 500 ms, 1 s: at most about 2 s of waiting besides the requests.
    fn default() -> Self {
        Self {
            attempts: 4,
            first_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// The pause after failed attempt number `attempt` (1-based), or `None` if that was the last one.
    pub fn backoff_after(&self, attempt: u32) -> Option<Duration> {
        if attempt >= self.attempts.max(1) {
            return None;
        }
        let doublings = attempt.saturating_sub(1).min(16);
        Some(
            self.first_backoff
                .saturating_mul(1 << doublings)
                .min(self.max_backoff),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_backoff_doubles_and_stops_after_four_attempts() {
        let policy = RetryPolicy::default();
        let pauses: Vec<Option<Duration>> = (1..=5).map(|a| policy.backoff_after(a)).collect();
        assert_eq!(
            pauses,
            [
                Some(Duration::from_millis(250)),
                Some(Duration::from_millis(500)),
                Some(Duration::from_secs(1)),
                None,
                None
            ]
        );
    }

    #[test]
    fn pauses_are_capped_and_zero_attempts_means_one() {
        let policy = RetryPolicy {
            attempts: 40,
            first_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(3),
        };
        assert_eq!(policy.backoff_after(30), Some(Duration::from_secs(3)));
        let once = RetryPolicy {
            attempts: 0,
            ..policy
        };
        assert_eq!(once.backoff_after(1), None);
    }
}
