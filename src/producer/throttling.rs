//! Quota throttling told to a person: one line when a broker starts throttling this producer, one
//! when it stops.
//!
//! Under a `producer_byte_rate` quota nearly every answer carries a throttle time, and the sinks
//! hold each connection for it (see [`super::sink`]); a line per answer would bury everything else.
//! So each broker has an episode: it starts with the first throttled answer and ends once the
//! broker's answers have carried no throttle time for [`QUIET`] (or the run ends). The time held
//! is counted in the engine's stats, not here.

use std::{collections::HashMap, time::Duration};

use parking_lot::Mutex;
use tokio::time::Instant;

/// How long a broker's answers must come without a throttle time before its episode ends: quota
/// throttling comes in bursts (the broker measures the rate over a window of samples), and a calm
/// answer between two throttled ones is no end.
pub(crate) const QUIET: Duration = Duration::from_secs(5);

/// What the broker's throttle time can mean, for the person reading the line.
const QUOTA_KINDS: &str = "a producer_byte_rate or request_percentage quota of this client/user";

#[derive(Debug)]
struct Episode {
    address: String,
    started: Instant,
    /// When the last throttled answer's hold ends.
    held_until: Instant,
    answers: u64,
    longest: Duration,
}

/// The throttling episodes of one producer's brokers.
#[derive(Debug, Default)]
pub(crate) struct Throttling {
    brokers: Mutex<HashMap<i32, Episode>>,
}

impl Throttling {
    /// `broker` at `address` answered with `throttle` at `now`; logs the episode's start.
    pub(super) fn throttled(&self, broker: i32, address: &str, throttle: Duration, now: Instant) {
        let mut brokers = self.brokers.lock();
        if let Some(episode) = brokers.get_mut(&broker) {
            episode.answers += 1;
            episode.longest = episode.longest.max(throttle);
            episode.held_until = episode.held_until.max(now + throttle);
            return;
        }
        brokers.insert(
            broker,
            Episode {
                address: address.to_owned(),
                started: now,
                held_until: now + throttle,
                answers: 1,
                longest: throttle,
            },
        );
        drop(brokers);
        tracing::warn!(
            broker,
            address,
            throttle_ms = throttle.as_millis() as u64,
            "broker {broker} ({address}) throttles this producer: it asks to hold requests for {} ms \
             ({QUOTA_KINDS} is exceeded); holding each request to it as long as asked, one line \
             when it stops",
            throttle.as_millis()
        );
    }

    /// `broker` answered without a throttle time at `now`; logs the episode's end once the broker
    /// has been calm for [`QUIET`].
    pub(super) fn calm(&self, broker: i32, now: Instant) {
        let mut brokers = self.brokers.lock();
        let over = brokers
            .get(&broker)
            .is_some_and(|e| now.saturating_duration_since(e.held_until) >= QUIET);
        if over {
            let episode = brokers.remove(&broker).expect("checked");
            drop(brokers);
            ended(broker, &episode);
        }
    }

    /// Whether `broker` is throttling this producer now.
    pub(super) fn active(&self, broker: i32) -> bool {
        self.brokers.lock().contains_key(&broker)
    }

    /// When the next episode could end, for the sinks to look again then.
    pub(super) fn next_end(&self, broker: i32) -> Option<Instant> {
        self.brokers
            .lock()
            .get(&broker)
            .map(|e| e.held_until + QUIET)
    }

    /// The run ended: every episode still going ends with it.
    pub(super) fn close(&self) {
        let episodes: Vec<(i32, Episode)> = self.brokers.lock().drain().collect();
        for (broker, episode) in episodes {
            ended(broker, &episode);
        }
    }
}

fn ended(broker: i32, episode: &Episode) {
    let lasted = episode
        .held_until
        .saturating_duration_since(episode.started);
    tracing::info!(
        broker,
        address = %episode.address,
        throttled_answers = episode.answers,
        lasted_secs = (lasted.as_secs_f64() * 10.0).round() / 10.0,
        longest_throttle_ms = episode.longest.as_millis() as u64,
        "broker {broker} ({}) stopped throttling this producer: it throttled {} answer(s) over {:.1} s, \
         the longest for {} ms",
        episode.address,
        episode.answers,
        lasted.as_secs_f64(),
        episode.longest.as_millis()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn an_episode_lasts_through_calm_answers_until_the_broker_is_quiet() {
        let log = Throttling::default();
        let t0 = Instant::now();
        log.throttled(1, "b1:9093", ms(200), t0);
        for i in 1..50 {
            log.throttled(1, "b1:9093", ms(300), t0 + ms(i * 250));
            log.calm(1, t0 + ms(i * 250 + 100));
        }
        let episode_end = t0 + ms(49 * 250 + 300);
        assert_eq!(log.next_end(1), Some(episode_end + QUIET));
        log.calm(1, episode_end + QUIET - ms(1));
        assert!(log.brokers.lock().contains_key(&1), "not quiet long enough");
        log.calm(1, episode_end + QUIET);
        assert!(log.next_end(1).is_none(), "over");
        {
            let brokers = log.brokers.lock();
            assert!(brokers.is_empty());
        }
    }

    #[test]
    fn brokers_have_their_own_episodes_and_close_ends_them_all() {
        let log = Throttling::default();
        let t0 = Instant::now();
        log.throttled(1, "b1:9093", ms(100), t0);
        log.throttled(2, "b2:9093", ms(700), t0);
        log.calm(1, t0 + ms(100) + QUIET);
        assert!(log.next_end(1).is_none());
        let episode = |b| {
            log.brokers
                .lock()
                .get(&b)
                .map(|e| (e.answers, e.longest, e.address.clone()))
        };
        assert_eq!(episode(2), Some((1, ms(700), "b2:9093".into())));
        log.close();
        assert!(episode(2).is_none());
    }
}
