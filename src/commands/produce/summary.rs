//! The final summary of a run, in the shape Kafka users know from `kafka-producer-perf-test`, or as
//! one JSON line that scripts can check without parsing prose.
//!
//! It is built from the engine's final [`StatsSnapshot`] plus what the run knows (elapsed time, topic,
//! subject, schema id, why it stopped, the seed and ids that replay it) and printed on stdout, apart
//! from the logs on stderr. In JSON, the seed and the ids are strings: they are 64-bit numbers, and
//! a JSON number above 2^53 is rounded by JavaScript and jq 1.6, which would replay other shoes.

use std::time::Duration;

use serde_json::{json, Map, Value};

use super::run_control::StopReason;
use crate::{
    producer::delivery::{Distribution, StatsSnapshot},
    settings::{Instance, LogFormat},
};

/// Where the records went: the topic, and the subject and schema id they were framed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    pub topic: String,
    pub subject: Option<String>,
    pub schema_id: Option<u32>,
}

/// What the run generated and why it stopped: what it takes to replay it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generation {
    pub stop_reason: StopReason,
    /// The generator's seed (`--seed` replays it).
    pub seed: u64,
    /// The first shoe id; the run's ids are `first_id ..` one per record sent.
    pub first_id: i64,
    /// Which of several parallel instances this run was.
    pub instance: Instance,
}

impl Generation {
    /// The last id generated after `sent` records, if any were.
    fn last_id(&self, sent: u64) -> Option<i64> {
        let before_last = i64::try_from(sent.checked_sub(1)?).ok()?;
        self.first_id.checked_add(before_last)
    }
}

/// The run's ack latency, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Latency {
    avg_ms: f64,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

impl Latency {
    /// The figures of the run's ack latencies (µs); all zero when nothing was acknowledged.
    fn of(latency_us: &Distribution) -> Self {
        Self {
            avg_ms: latency_us.mean() / 1000.0,
            p50_ms: millis(latency_us.quantile(0.50)),
            p95_ms: millis(latency_us.quantile(0.95)),
            p99_ms: millis(latency_us.quantile(0.99)),
            max_ms: millis(latency_us.max()),
        }
    }
}

/// The figures of one finished run.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub stats: StatsSnapshot,
    pub elapsed: Duration,
    pub destination: Destination,
    pub generation: Generation,
}

impl Summary {
    pub(crate) fn new(
        stats: StatsSnapshot,
        elapsed: Duration,
        destination: Destination,
        generation: Generation,
    ) -> Self {
        Self {
            stats,
            elapsed,
            destination,
            generation,
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

    /// Records sent but neither acked nor failed (only non-zero when delivery was cut short).
    pub fn unresolved(&self) -> u64 {
        self.stats.in_flight_records
    }

    /// perf-test's line, then ours: outcomes and destination, how to replay, failures by reason.
    pub(crate) fn text(&self) -> String {
        let s = &self.stats;
        let l = Latency::of(&s.ack_latency_us);
        let g = &self.generation;
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
        out.push_str(&format!(
            "stopped: {}; seed {}",
            g.stop_reason.as_str(),
            g.seed
        ));
        if let Some(last) = g.last_id(s.sent) {
            out.push_str(&format!(", ids {}..={last}", g.first_id));
        }
        if g.instance.count > 1 {
            out.push_str(&format!(
                ", instance {} of {}",
                g.instance.index, g.instance.count
            ));
        }
        if !s.throttled.is_zero() {
            out.push_str(&format!(
                "; throttled {:.1} s by broker quotas",
                s.throttled.as_secs_f64()
            ));
        }
        if let Some((producer_id, epoch)) = s.producer_id_and_epoch {
            out.push_str(&format!(
                "; producer id {producer_id} epoch {epoch}, {} epoch bumps",
                s.epoch_bumps
            ));
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
        if let Some(fatal) = &s.fatal_error {
            out.push_str(&format!("fatal error: {fatal}\n"));
        }
        out
    }

    /// One JSON object; the keys are a contract with the scripts that read it (see the README).
    pub(crate) fn json(&self) -> Value {
        let s = &self.stats;
        let l = Latency::of(&s.ack_latency_us);
        let g = &self.generation;
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
            "fatal_error": s.fatal_error,
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
            "stop_reason": g.stop_reason.as_str(),
            "seed": g.seed.to_string(),
            "first_id": g.last_id(s.sent).map(|_| g.first_id.to_string()),
            "last_id": g.last_id(s.sent).map(|id| id.to_string()),
            "instance": g.instance.index,
            "instances": g.instance.count,
            "producer_id": s.producer_id_and_epoch.map(|(id, _)| id.to_string()),
            "producer_epoch": s.producer_id_and_epoch.map(|(_, epoch)| epoch),
            "epoch_bumps": s.epoch_bumps,
            "throttled_secs": round(s.throttled.as_secs_f64(), 3),
        })
    }

    /// The summary as printed for `format`: text lines, or one JSON line.
    pub(crate) fn render(&self, format: LogFormat) -> String {
        match format {
            LogFormat::Text => self.text(),
            LogFormat::Json => format!("{}\n", self.json()),
        }
    }
}

pub(super) fn per_second(amount: f64, elapsed: Duration) -> f64 {
    let seconds = elapsed.as_secs_f64();
    if seconds > 0.0 {
        amount / seconds
    } else {
        0.0
    }
}

/// Microseconds (the engine's latency unit) in milliseconds (the unit people read).
pub(super) fn millis(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

pub(super) fn round(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 990 ack latencies: 495 at 1 ms, 446 at 1.5 ms, 40 at 1.8 ms, 9 at 2 ms.
    fn latencies_us() -> Distribution {
        let mut micros = Vec::new();
        for (share, value) in [(495, 1_000), (446, 1_500), (40, 1_800), (9, 2_000)] {
            micros.extend(std::iter::repeat_n(value, share));
        }
        Distribution::of(&micros)
    }

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
                ack_latency_us: latencies_us(),
                epoch_bumps: 1,
                producer_id_and_epoch: Some((4_001, 2)),
                ..StatsSnapshot::default()
            },
            Duration::from_secs(2),
            Destination {
                topic: "shoes".into(),
                subject: Some("shoes-value".into()),
                schema_id: Some(100_001),
            },
            Generation {
                stop_reason: StopReason::CountReached,
                seed: u64::MAX - 1,
                first_id: 9_007_199_254_740_993,
                instance: Instance { index: 1, count: 3 },
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
        assert_eq!(json["latency_max_ms"], 2.0);
        assert_eq!(json["latency_avg_ms"], 1.267);
        assert_eq!(json["stop_reason"], "count_reached");
        assert_eq!(json["fatal_error"], Value::Null);
        assert_eq!(
            (json["instance"].clone(), json["instances"].clone()),
            (json!(1), json!(3))
        );
        assert_eq!(
            (json["producer_id"].clone(), json["producer_epoch"].clone()),
            (json!("4001"), json!(2))
        );
        assert_eq!(json["epoch_bumps"], 1);
        assert_eq!(json["throttled_secs"], 0.0);
    }

    #[test]
    fn sixty_four_bit_numbers_are_strings_that_read_back_exactly() {
        let json: Value = serde_json::from_str(&summary().render(LogFormat::Json)).unwrap();
        assert_eq!(json["seed"], "18446744073709551614");
        assert_eq!(
            json["seed"].as_str().unwrap().parse::<u64>().unwrap(),
            u64::MAX - 1
        );
        assert_eq!(json["first_id"], "9007199254740993");
        assert_eq!(json["last_id"], "9007199254741992");
        // As a JSON number the id would not survive a double: 2^53 + 1 has no exact one.
        assert_ne!(9_007_199_254_740_993_f64 as i64, 9_007_199_254_740_993);
    }

    #[test]
    fn text_reads_like_perf_test() {
        let text = summary().text();
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap(),
            "1000 records sent, 495.0 records/sec (1.00 MB/sec), 1.27 ms avg latency, 2.00 ms max latency, \
             1.00 ms 50th, 1.50 ms 95th, 1.80 ms 99th."
        );
        assert_eq!(
            lines.next().unwrap(),
            "990 acked, 10 failed, 3 possible duplicates in 2.00 s; topic shoes, subject shoes-value, schema id 100001"
        );
        assert_eq!(
            lines.next().unwrap(),
            "stopped: count_reached; seed 18446744073709551614, ids 9007199254740993..=9007199254741992, \
             instance 1 of 3; producer id 4001 epoch 2, 1 epoch bumps"
        );
        assert_eq!(
            lines.next().unwrap(),
            "failed by reason: NOT_LEADER_OR_FOLLOWER 4, delivery_timeout 6"
        );
    }

    #[test]
    fn an_empty_run_has_no_ids_and_zero_elapsed_is_safe() {
        let mut s = summary();
        s.stats = StatsSnapshot::default();
        s.elapsed = Duration::ZERO;
        let json = s.json();
        assert_eq!(json["records_per_sec"], 0.0);
        assert_eq!(
            (json["first_id"].clone(), json["last_id"].clone()),
            (Value::Null, Value::Null)
        );
        assert!(!s.text().contains("ids"));
    }

    #[test]
    fn unresolved_records_and_a_fatal_error_are_shown() {
        let mut s = summary();
        s.stats.sent = 1_005;
        s.stats.in_flight_records = 5; // a snapshot keeps sent = acked + failed + in flight
        s.stats.fatal_error = Some("TOPIC_AUTHORIZATION_FAILED".into());
        assert_eq!(s.unresolved(), 5);
        assert!(s.text().contains(", 5 unresolved in 2.00 s"));
        s.stats.throttled = Duration::from_millis(12_340);
        assert!(s.text().contains("; throttled 12.3 s by broker quotas"));
        assert_eq!(s.json()["throttled_secs"], 12.34);
        assert!(s
            .text()
            .ends_with("fatal error: TOPIC_AUTHORIZATION_FAILED\n"));
        assert_eq!(s.json()["fatal_error"], "TOPIC_AUTHORIZATION_FAILED");
    }
}
