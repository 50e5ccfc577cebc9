//! The final summary of a run, in the shape Kafka users know from `kafka-producer-perf-test`, or as
//! one JSON line that scripts can check without parsing prose.
//!
//! It is built from the engine's final [`StatsSnapshot`] plus what the run knows (elapsed time, topic,
//! subject, schema id) and printed on stdout, apart from the logs on stderr.

use std::{io::Write, time::Duration};

use serde_json::{json, Map, Value};

use crate::{app::settings::LogFormat, producer::delivery::StatsSnapshot};

/// Where the records went: the topic, and the subject and schema id they were framed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    pub topic: String,
    pub subject: Option<String>,
    pub schema_id: Option<u32>,
}

/// The figures of one finished run.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub stats: StatsSnapshot,
    pub elapsed: Duration,
    pub destination: Destination,
}

impl Summary {
    pub(crate) fn new(stats: StatsSnapshot, elapsed: Duration, destination: Destination) -> Self {
        Self {
            stats,
            elapsed,
            destination,
        }
    }

    /// Acknowledged records per second over the whole run.
    pub fn records_per_sec(&self) -> f64 {
        per_second(self.stats.acked as f64, self.elapsed)
    }

    /// Acknowledged key + value megabytes (2^20 bytes, as perf-test counts) per second.
    pub fn mb_per_sec(&self) -> f64 {
        per_second(
            self.stats.bytes_acked as f64 / (1024.0 * 1024.0),
            self.elapsed,
        )
    }

    /// Records sent but neither acked nor failed (only non-zero after an interrupted flush).
    pub fn unresolved(&self) -> u64 {
        self.stats
            .sent
            .saturating_sub(self.stats.acked + self.stats.failed)
    }

    /// Whether every record sent was acknowledged (the exit-code-0 condition).
    pub fn all_acked(&self) -> bool {
        self.stats.acked == self.stats.sent
    }

    /// perf-test's line, then ours: outcomes, destination and failures by reason.
    pub(crate) fn text(&self) -> String {
        let s = &self.stats;
        let l = &s.latency;
        let mut out = format!(
            "{} records sent, {:.1} records/sec ({:.2} MB/sec), {:.2} ms avg latency, {:.2} ms max latency, \
             {:.2} ms 50th, {:.2} ms 95th, {:.2} ms 99th.\n",
            s.sent,
            self.records_per_sec(),
            self.mb_per_sec(),
            l.avg_ms,
            l.max_ms,
            l.p50_ms,
            l.p95_ms,
            l.p99_ms
        );
        out.push_str(&format!(
            "{} acked, {} failed, {} possible duplicates",
            s.acked, s.failed, s.possible_duplicates
        ));
        if self.unresolved() > 0 {
            out.push_str(&format!(", {} unresolved", self.unresolved()));
        }
        out.push_str(&format!(
            " in {:.2} s; topic {}",
            self.elapsed.as_secs_f64(),
            self.destination.topic
        ));
        if let Some(subject) = &self.destination.subject {
            out.push_str(&format!(", subject {subject}"));
        }
        if let Some(id) = self.destination.schema_id {
            out.push_str(&format!(", schema id {id}"));
        }
        out.push('\n');
        if !s.failed_by_reason.is_empty() {
            let reasons: Vec<String> = s
                .failed_by_reason
                .iter()
                .map(|(reason, n)| format!("{reason} {n}"))
                .collect();
            out.push_str(&format!("failed by reason: {}\n", reasons.join(", ")));
        }
        out
    }

    /// One JSON object; the keys are a contract with the scripts that read it (see the README).
    pub(crate) fn json(&self) -> Value {
        let s = &self.stats;
        let l = &s.latency;
        let reasons: Map<String, Value> = s
            .failed_by_reason
            .iter()
            .map(|(reason, n)| (reason.clone(), json!(n)))
            .collect();
        json!({
            "event": "summary",
            "sent": s.sent,
            "acked": s.acked,
            "failed": s.failed,
            "unresolved": self.unresolved(),
            "possible_duplicates": s.possible_duplicates,
            "failed_by_reason": reasons,
            "bytes_acked": s.bytes_acked,
            "records_per_sec": round(self.records_per_sec(), 1),
            "mb_per_sec": round(self.mb_per_sec(), 3),
            "latency_avg_ms": round(l.avg_ms, 3),
            "latency_p50_ms": round(l.p50_ms, 3),
            "latency_p95_ms": round(l.p95_ms, 3),
            "latency_p99_ms": round(l.p99_ms, 3),
            "latency_max_ms": round(l.max_ms, 3),
            "elapsed_secs": round(self.elapsed.as_secs_f64(), 3),
            "topic": self.destination.topic,
            "subject": self.destination.subject,
            "schema_id": self.destination.schema_id,
        })
    }

    /// The summary as printed for `format`: text lines, or one JSON line.
    pub(crate) fn render(&self, format: LogFormat) -> String {
        match format {
            LogFormat::Text => self.text(),
            LogFormat::Json => format!("{}\n", self.json()),
        }
    }

    /// Prints the summary on stdout and flushes it.
    pub(crate) fn print(&self, format: LogFormat) -> std::io::Result<()> {
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(self.render(format).as_bytes())?;
        stdout.flush()
    }
}

fn per_second(amount: f64, elapsed: Duration) -> f64 {
    let seconds = elapsed.as_secs_f64();
    if seconds > 0.0 {
        amount / seconds
    } else {
        0.0
    }
}

fn round(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::producer::delivery::LatencySummary;

    fn summary() -> Summary {
        Summary::new(
            StatsSnapshot {
                sent: 1_000,
                acked: 990,
                failed: 10,
                failed_by_reason: vec![
                    ("NOT_LEADER_OR_FOLLOWER".into(), 4),
                    ("delivery_timeout".into(), 6),
                ],
                possible_duplicates: 3,
                bytes_acked: 2 * 1024 * 1024,
                in_flight_records: 0,
                buffered_bytes: 0,
                latency: LatencySummary {
                    count: 990,
                    avg_ms: 3.5,
                    p50_ms: 3.0,
                    p95_ms: 8.0,
                    p99_ms: 10.0,
                    max_ms: 12.25,
                },
                ..StatsSnapshot::default()
            },
            Duration::from_secs(2),
            Destination {
                topic: "shoes".into(),
                subject: Some("shoes-value".into()),
                schema_id: Some(100_001),
            },
        )
    }

    #[test]
    fn json_has_the_contract_keys() {
        let line = summary().render(LogFormat::Json);
        assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
        let json: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(json["event"], "summary");
        assert_eq!(json["sent"], 1_000);
        assert_eq!(json["acked"], 990);
        assert_eq!(json["failed"], 10);
        assert_eq!(json["possible_duplicates"], 3);
        assert_eq!(json["records_per_sec"], 495.0);
        assert_eq!(json["mb_per_sec"], 1.0);
        assert_eq!(json["topic"], "shoes");
        assert_eq!(json["subject"], "shoes-value");
        assert_eq!(json["schema_id"], 100_001);
        assert_eq!(json["failed_by_reason"]["delivery_timeout"], 6);
        assert_eq!(json["latency_max_ms"], 12.25);
    }

    #[test]
    fn text_reads_like_perf_test() {
        let text = summary().text();
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap(),
            "1000 records sent, 495.0 records/sec (1.00 MB/sec), 3.50 ms avg latency, 12.25 ms max latency, \
             3.00 ms 50th, 8.00 ms 95th, 10.00 ms 99th."
        );
        assert_eq!(
            lines.next().unwrap(),
            "990 acked, 10 failed, 3 possible duplicates in 2.00 s; topic shoes, subject shoes-value, schema id 100001"
        );
        assert_eq!(
            lines.next().unwrap(),
            "failed by reason: NOT_LEADER_OR_FOLLOWER 4, delivery_timeout 6"
        );
        assert!(!summary().all_acked());
    }

    #[test]
    fn unresolved_records_are_shown_and_zero_elapsed_is_safe() {
        let mut s = summary();
        s.stats.sent = 1_005;
        s.elapsed = Duration::ZERO;
        assert_eq!(s.unresolved(), 5);
        assert!(s.text().contains(", 5 unresolved in 0.00 s"));
        assert_eq!(s.json()["records_per_sec"], 0.0);
    }
}
