//! What holds records back, told to a person in a few lines instead of one per batch.
//!
//! A leader election on a 2,000-partition topic answers thousands of requests with
//! `NOT_LEADER_OR_FOLLOWER`; a broker restart fails every request in flight; a topic with a small
//! `max.message.bytes` splits every batch. Each is one condition of the run, so at the default level
//! it gets one line when it starts, at most one line per [`REPORT_EVERY`] while it lasts (with the
//! number of partitions and attempts it touched), and one line when the last partition it held back
//! delivers again. The per-batch details stay at debug level (`-v`).
//!
//! Acknowledgements pass through [`ConditionLog::cleared`] on the hot path: with no condition
//! active that is one relaxed atomic load.

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use parking_lot::Mutex;
use tokio::time::Instant;

/// The longest a lasting condition goes without a line (the default progress interval).
pub(crate) const REPORT_EVERY: Duration = Duration::from_secs(5);

/// What a condition is: its family and the broker's error name or the client's cause.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Condition {
    pub(super) what: &'static str,
    pub(super) code: String,
}

impl Condition {
    /// Attempts that failed with `code` and are retried.
    pub(super) fn retried(code: &str) -> Self {
        Self {
            what: "retried",
            code: code.to_owned(),
        }
    }

    /// Batches the topic refused as too large, split and resent. The topic's limit does not go
    /// away when a half is delivered, so this lasts until the run ends; and it is news, not a
    /// warning: the one warning is the advice on `--batch-size`, given with the first half
    /// delivered.
    pub(super) fn split() -> Self {
        Self {
            what: "split",
            code: "MESSAGE_TOO_LARGE".to_owned(),
        }
    }

    /// Whether a delivered batch of a partition it held back ends it there.
    fn cleared_by_delivery(&self) -> bool {
        self.what != "split"
    }
}

/// One line for the log: a condition started, lasts, or ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Line {
    Started {
        condition: Condition,
        partition: i32,
        detail: String,
    },
    Lasting {
        condition: Condition,
        partitions: usize,
        attempts: u64,
        since: Duration,
    },
    Ended {
        condition: Condition,
        partitions: usize,
        attempts: u64,
        lasted: Duration,
    },
}

impl Line {
    /// Writes the line at the level it deserves: warnings while records wait, information when
    /// they flow again.
    pub(super) fn log(&self, topic: &str) {
        let (condition, partitions, attempts) = match self {
            Line::Started { condition, .. } => (condition, 1, 1),
            Line::Lasting {
                condition,
                partitions,
                attempts,
                ..
            }
            | Line::Ended {
                condition,
                partitions,
                attempts,
                ..
            } => (condition, *partitions, *attempts),
        };
        let code = condition.code.as_str();
        let waiting = matches!(self, Line::Started { .. } | Line::Lasting { .. });
        if waiting && condition.cleared_by_delivery() {
            tracing::warn!(topic, code, partitions, attempts, "{self}");
        } else {
            tracing::info!(topic, code, partitions, attempts, "{self}");
        }
    }
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Line::Started {
                condition,
                partition,
                detail,
            } => {
                write!(f, "{} on partition {partition}", condition.code)?;
                if !detail.is_empty() {
                    write!(f, " ({detail})")?;
                }
                write!(
                    f,
                    "; {}, and one line every {}s while it lasts (each attempt at -v)",
                    doing(condition),
                    REPORT_EVERY.as_secs()
                )
            }
            Line::Lasting {
                condition,
                partitions,
                attempts,
                since,
            } => write!(
                f,
                "{} goes on: {} partition(s), {} attempt(s) in {}; {}",
                condition.code,
                thousands(*partitions as u64),
                thousands(*attempts),
                seconds(*since),
                doing(condition)
            ),
            Line::Ended {
                condition,
                partitions,
                attempts,
                lasted,
            } => write!(
                f,
                "{} is over after {}: {} partition(s), {} attempt(s), all delivered since",
                condition.code,
                seconds(*lasted),
                thousands(*partitions as u64),
                thousands(*attempts)
            ),
        }
    }
}

fn doing(condition: &Condition) -> &'static str {
    match condition.what {
        "retried" => "retrying",
        "split" => "splitting batches",
        _ => "holding records back",
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

/// `1873` → `1,873`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[derive(Debug)]
struct Episode {
    started: Instant,
    last_line: Instant,
    /// Partitions held back now.
    waiting: BTreeSet<i32>,
    /// Every partition it touched, and its attempts.
    touched: BTreeSet<i32>,
    attempts: u64,
}

/// The conditions of one run.
#[derive(Debug, Default)]
pub(crate) struct ConditionLog {
    /// A condition that a delivery can end is active.
    clearable: AtomicBool,
    active: Mutex<BTreeMap<Condition, Episode>>,
}

impl ConditionLog {
    /// An attempt for `partition` met `condition`: the line to log now, if one is due.
    pub(super) fn hit(
        &self,
        condition: Condition,
        partition: i32,
        detail: impl FnOnce() -> String,
        now: Instant,
    ) -> Option<Line> {
        let mut active = self.active.lock();
        if condition.cleared_by_delivery() {
            self.clearable.store(true, Ordering::Relaxed);
        }
        if let Some(episode) = active.get_mut(&condition) {
            episode.waiting.insert(partition);
            episode.touched.insert(partition);
            episode.attempts += 1;
            if now.saturating_duration_since(episode.last_line) < REPORT_EVERY {
                return None;
            }
            episode.last_line = now;
            return Some(Line::Lasting {
                partitions: episode.touched.len(),
                attempts: episode.attempts,
                since: now.saturating_duration_since(episode.started),
                condition,
            });
        }
        active.insert(
            condition.clone(),
            Episode {
                started: now,
                last_line: now,
                waiting: BTreeSet::from([partition]),
                touched: BTreeSet::from([partition]),
                attempts: 1,
            },
        );
        Some(Line::Started {
            condition,
            partition,
            detail: detail(),
        })
    }

    /// `partition` delivered a batch: the conditions that held nothing else back are over.
    pub(super) fn cleared(&self, partition: i32, now: Instant) -> Vec<Line> {
        if !self.clearable.load(Ordering::Relaxed) {
            return Vec::new();
        }
        let mut active = self.active.lock();
        let mut ended = Vec::new();
        active.retain(|condition, episode| {
            episode.waiting.remove(&partition);
            if !episode.waiting.is_empty() || !condition.cleared_by_delivery() {
                return true;
            }
            ended.push(Line::Ended {
                condition: condition.clone(),
                partitions: episode.touched.len(),
                attempts: episode.attempts,
                lasted: now.saturating_duration_since(episode.started),
            });
            false
        });
        self.clearable.store(
            active.keys().any(Condition::cleared_by_delivery),
            Ordering::Relaxed,
        );
        ended
    }

    /// The run ended with these conditions still active: how far each got, as a lasting line.
    pub(super) fn close(&self, now: Instant) -> Vec<Line> {
        let mut active = self.active.lock();
        self.clearable.store(false, Ordering::Relaxed);
        std::mem::take(&mut *active)
            .into_iter()
            .map(|(condition, episode)| Line::Lasting {
                partitions: episode.touched.len(),
                attempts: episode.attempts,
                since: now.saturating_duration_since(episode.started),
                condition,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn not_leader() -> Condition {
        Condition::retried("NOT_LEADER_OR_FOLLOWER")
    }

    #[test]
    fn a_leader_election_on_many_partitions_is_three_lines() {
        let log = ConditionLog::default();
        let t0 = Instant::now();
        let mut lines = Vec::new();
        for attempt in 0..3_139u32 {
            let partition = (attempt % 1_873) as i32;
            let at = t0 + Duration::from_millis(u64::from(attempt) * 2);
            lines.extend(log.hit(not_leader(), partition, || "leader moved".into(), at));
        }
        let done = t0 + Duration::from_secs(9);
        for partition in 0..1_873 {
            lines.extend(log.cleared(partition, done));
        }
        let text: Vec<String> = lines.iter().map(ToString::to_string).collect();
        assert_eq!(text.len(), 3, "{text:#?}");
        assert!(
            text[0].starts_with("NOT_LEADER_OR_FOLLOWER on partition 0 (leader moved); retrying")
        );
        assert!(
            text[1].starts_with(
                "NOT_LEADER_OR_FOLLOWER goes on: 1,873 partition(s), 2,501 attempt(s) in 5.0s"
            ),
            "{}",
            text[1]
        );
        assert_eq!(
            text[2],
            "NOT_LEADER_OR_FOLLOWER is over after 9.0s: 1,873 partition(s), 3,139 attempt(s), all delivered since"
        );
    }

    #[test]
    fn a_condition_ends_only_when_the_last_partition_it_held_delivers() {
        let log = ConditionLog::default();
        let t0 = Instant::now();
        assert!(log.hit(not_leader(), 1, String::new, t0).is_some());
        assert!(log.hit(not_leader(), 2, String::new, t0).is_none());
        assert!(log.cleared(1, t0).is_empty());
        assert!(log.cleared(7, t0).is_empty(), "a partition it never held");
        assert_eq!(log.cleared(2, t0).len(), 1);
        assert!(log.cleared(2, t0).is_empty(), "nothing left to end");
        assert!(
            log.hit(not_leader(), 2, String::new, t0).is_some(),
            "a new episode starts with a line"
        );
    }

    #[test]
    fn conditions_are_told_apart_and_a_run_end_reports_what_lasts() {
        let log = ConditionLog::default();
        let t0 = Instant::now();
        let gone = Condition::retried("NETWORK_EXCEPTION");
        assert!(log.hit(not_leader(), 1, String::new, t0).is_some());
        assert!(log.hit(gone.clone(), 1, String::new, t0).is_some());
        let ended = log.cleared(1, t0 + Duration::from_secs(1));
        assert_eq!(ended.len(), 2);
        assert!(log.hit(gone, 3, String::new, t0).is_some());
        let left = log.close(t0 + Duration::from_secs(2));
        assert_eq!(left.len(), 1);
        assert!(left[0]
            .to_string()
            .starts_with("NETWORK_EXCEPTION goes on: 1 partition(s)"));
        assert!(log.cleared(3, t0).is_empty(), "closed");
    }

    #[test]
    fn splitting_lasts_through_deliveries_until_the_run_ends() {
        let log = ConditionLog::default();
        let t0 = Instant::now();
        let mut lines = Vec::new();
        for i in 0..2_299u64 {
            let at = t0 + Duration::from_millis(i * 3);
            let partition = (i % 6) as i32;
            lines.extend(log.hit(Condition::split(), partition, String::new, at));
            lines.extend(log.cleared(partition, at));
        }
        let end = t0 + Duration::from_millis(2_299 * 3);
        assert_eq!(
            lines.len(),
            2,
            "a start and one line after five seconds: {lines:#?}"
        );
        let left = log.close(end);
        assert_eq!(left.len(), 1);
        assert!(left[0]
            .to_string()
            .starts_with("MESSAGE_TOO_LARGE goes on: 6 partition(s), 2,299 attempt(s)"));
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
