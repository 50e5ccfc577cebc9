//! How a run is paced, watched and stopped, seen from outside the real binary against the local
//! stack: `--rate` is never exceeded, SIGINT/SIGTERM/SIGHUP mid-run flush every record and
//! exit 0 with the summary, a signal while a slow flush runs ends it after the grace with the
//! unresolved records counted, a second signal exits at once with 128 + its number (130 SIGINT,
//! 143 SIGTERM, 129 SIGHUP) and the unresolved count, and `/metrics` scraped during a run moves
//! consistently towards the summary's figures.

use crate::support;

use std::{collections::BTreeSet, time::Duration};

use serde_json::Value;
use support::{
    consume_all, create_topic, free_local_port, http_get, parse_metrics, run_to_end, spawn,
    stack_command, Finished,
};

const PARTITIONS: i32 = 6;
/// Hang guard for a run that should end within seconds.
const LIMIT: Duration = Duration::from_secs(60);
/// The log line that says the generator is running (so SIGINT is handled, not fatal).
const GENERATING: &str = "generating shoes";

fn number(summary: &Value, key: &str) -> u64 {
    summary[key]
        .as_u64()
        .unwrap_or_else(|| panic!("summary has no integer {key:?}: {summary}"))
}

/// Every record sent was acknowledged, none failed, none left unresolved.
fn assert_all_acked(run: &Finished) -> Value {
    assert_eq!(run.code(), Some(0), "{}", run.transcript());
    let summary = run.summary();
    assert!(number(&summary, "sent") > 0, "{summary}");
    assert_eq!(summary["acked"], summary["sent"], "{summary}");
    assert_eq!(number(&summary, "failed"), 0, "{summary}");
    assert_eq!(number(&summary, "unresolved"), 0, "{summary}");
    summary
}

/// The topic holds every acked record (more only by the summary's possible duplicates), and its keys
/// are exactly the ids `1..=acked` generated from `--id-start 1`.
fn assert_topic_holds(topic: &str, summary: &Value) {
    let acked = number(summary, "acked");
    let duplicates = number(summary, "possible_duplicates");
    let records = consume_all(topic, PARTITIONS);
    let count = records.len() as u64;
    assert!(
        (acked..=acked + duplicates).contains(&count),
        "{count} records on {topic}, summary: {summary}"
    );
    let ids: BTreeSet<u64> = records
        .iter()
        .map(|r| {
            std::str::from_utf8(&r.key)
                .expect("UTF-8 key")
                .parse()
                .expect("a decimal id")
        })
        .collect();
    assert_eq!(ids, (1..=acked).collect::<BTreeSet<u64>>());
}

/// `--rate` is a ceiling: the token bucket never lets more through than the rate allows (plus its 20 ms
/// burst), however busy the machine. That is what is asserted — over the whole run and over every
/// one-second window of the broker's record timestamps. How close the run came to the rate depends on
/// the machine's load, so it is printed, not asserted (a timing belongs in a benchmark).
#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn rate_is_never_exceeded_over_the_run_or_any_second() {
    const RATE: f64 = 5_000.0;
    const SECONDS: f64 = 10.0;
    // The bucket's burst (20 ms of tokens) and millisecond timestamps allow a little over the rate.
    const CEILING: f64 = 1.03;
    let topic = create_topic("run-rate", PARTITIONS);
    let run = run_to_end(
        stack_command()
            .args(["--log-format", "json", "produce", "--topic", &topic])
            .args([
                "--rate",
                "5000",
                "--duration",
                "10s",
                "--progress-interval",
                "0s",
            ]),
        LIMIT,
    );

    let summary = assert_all_acked(&run);
    let records_per_sec = summary["records_per_sec"]
        .as_f64()
        .expect("records_per_sec");
    let acked = number(&summary, "acked") as f64;
    assert!(acked > 0.0, "nothing was produced: {summary}");
    assert!(
        acked <= RATE * SECONDS * CEILING,
        "{acked} records in {SECONDS} s at --rate {RATE}: {summary}"
    );
    assert!(
        records_per_sec <= RATE * CEILING,
        "records/s {records_per_sec} above --rate {RATE}: {summary}"
    );

    // The broker's side: the CreateTime of the consumed records, in every one-second window.
    assert_topic_holds(&topic, &summary);
    let mut stamps: Vec<i64> = consume_all(&topic, PARTITIONS)
        .iter()
        .map(|r| r.timestamp_ms)
        .collect();
    stamps.sort_unstable();
    let mut busiest = 0;
    let mut start = 0;
    for (end, &stamp) in stamps.iter().enumerate() {
        while stamp - stamps[start] >= 1_000 {
            start += 1;
        }
        busiest = busiest.max(end + 1 - start);
    }
    let span = (stamps[stamps.len() - 1] - stamps[0]) as f64 / 1_000.0;
    eprintln!(
        "rate: summary {records_per_sec:.1}/s, {:.1}/s over {span:.3} s of record timestamps, busiest second {busiest}",
        (stamps.len() - 1) as f64 / span
    );
    assert!(
        busiest as f64 <= RATE * CEILING,
        "{busiest} records stamped within one second at --rate {RATE}"
    );
}

/// Starts an unlimited-duration run at `rate`, sends `signal` after `after`, and checks the
/// graceful ending.
fn graceful_stop(prefix: &str, rate: &str, signal: &str, after: Duration) {
    let topic = create_topic(prefix, PARTITIONS);
    let mut running = spawn(
        stack_command()
            .args(["--log-format", "json", "produce", "--topic", &topic])
            .args(["--rate", rate, "--progress-interval", "1s"]),
    );
    running.wait_for_stderr(GENERATING, LIMIT);
    std::thread::sleep(after);
    assert!(running.is_running(), "stopped before the signal");
    running.signal(signal);
    let run = running.finish(LIMIT);

    let summary = assert_all_acked(&run);
    assert_eq!(summary["topic"], topic.as_str());
    assert_eq!(summary["stop_reason"], "signal", "{summary}");
    // Progress lines describe their own interval.
    let progress: Vec<Value> = run
        .stderr
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["event"] == "progress")
        .collect();
    assert!(!progress.is_empty(), "{}", run.transcript());
    for line in &progress {
        assert!(line["interval_secs"].as_f64().unwrap() > 0.5, "{line}");
        assert!(line["records_per_sec"].is_number(), "{line}");
    }
    assert!(
        progress
            .iter()
            .any(|line| line["p99_ms"].is_number() && line["max_ms"].is_number()),
        "{progress:?}"
    );
    assert!(
        run.stderr
            .contains(&format!("SIG{signal} received: stopping the run")),
        "{}",
        run.transcript()
    );
    assert_topic_holds(&topic, &summary);
}

#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn sigint_mid_run_flushes_every_record_and_exits_zero_with_the_summary() {
    graceful_stop("run-sigint", "20000", "INT", Duration::from_secs(3));
}

#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn sigterm_mid_run_is_as_graceful_as_sigint() {
    graceful_stop("run-sigterm", "5000", "TERM", Duration::from_secs(1));
}

#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn sighup_mid_run_is_as_graceful_as_sigterm() {
    graceful_stop("run-sighup", "5000", "HUP", Duration::from_secs(1));
}

/// A run whose buffer drains slowly: tiny batches, one request in flight per partition.
const SLOW_DRAIN: [&str; 4] = ["--batch-size", "300", "--max-in-flight", "1"];

#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn a_signal_during_a_slow_flush_ends_the_run_with_the_unresolved_records_counted() {
    let topic = create_topic("run-signal-flush", PARTITIONS);
    // Every record fits in the buffer at once, so the generator stops at the count and the run is
    // left flushing, for far longer than the grace.
    let mut running = spawn(
        stack_command()
            .args(["--log-format", "json", "produce", "--topic", &topic])
            .args(["--count", "200000", "--buffer-memory", "134217728"])
            .args(SLOW_DRAIN)
            .args(["--progress-interval", "0s"]),
    );
    running.wait_for_stderr("delivering what is buffered", LIMIT);
    running.signal("TERM");
    let run = running.finish(LIMIT);

    assert_eq!(run.code(), Some(1), "{}", run.transcript());
    let summary = run.summary();
    assert_eq!(summary["stop_reason"], "count_reached", "{summary}");
    let unresolved = number(&summary, "unresolved");
    assert!(unresolved > 0, "{summary}");
    assert_eq!(
        number(&summary, "acked") + number(&summary, "failed") + unresolved,
        200_000,
        "{summary}"
    );
    let last: Value = serde_json::from_str(run.stderr.lines().last().expect("a last line"))
        .unwrap_or_else(|_| panic!("the last stderr line is not JSON\n{}", run.transcript()));
    assert_eq!(last["exit_code"], 1, "{last}");
    assert_eq!(
        last["message"],
        format!(
            "{unresolved} of 200000 records unresolved: delivery stopped 2s after the signal, \
             before Kafka answered for them (they may or may not be on the topic)"
        ),
        "{last}"
    );
}

/// Sends `first`, then `second` while the flush runs; the process must exit at once with `code`, no
/// summary, and a last line giving the unresolved count.
fn second_signal_exits_at_once(first: &str, second: &str, code: u8) {
    let topic = create_topic(&format!("run-second-sig{second}"), PARTITIONS);
    // Unlimited rate into a slowly draining buffer: it fills far faster than it drains, so the
    // delivery after the first signal lasts the whole grace, and the second signal comes within it.
    let mut running = spawn(
        stack_command()
            .args(["--log-format", "json", "produce", "--topic", &topic])
            .args(SLOW_DRAIN)
            .args(["--progress-interval", "0s"]),
    );
    running.wait_for_stderr(GENERATING, LIMIT);
    std::thread::sleep(Duration::from_secs(1));
    running.signal(first);
    running.wait_for_stderr(&format!("SIG{first} received"), LIMIT);
    assert!(
        running.is_running(),
        "the flush ended before the second signal"
    );
    running.signal(second);
    let run = running.finish(LIMIT);

    assert_eq!(run.code(), Some(i32::from(code)), "{}", run.transcript());
    assert!(
        support::summary_line(&run.stdout).is_none(),
        "no summary after a forced exit\n{}",
        run.transcript()
    );
    let last: Value = serde_json::from_str(run.stderr.lines().last().expect("a last line"))
        .unwrap_or_else(|_| panic!("the last stderr line is not JSON\n{}", run.transcript()));
    assert_eq!(last["event"], "error", "{last}");
    assert_eq!(last["exit_code"], code, "{last}");
    let message = last["message"].as_str().expect("a message");
    let unresolved: u64 = message
        .split(" record(s) unresolved")
        .next()
        .and_then(|head| head.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no unresolved count in {message:?}"));
    assert!(unresolved > 0, "{message}");
}

#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn a_second_sigint_exits_at_once_with_130_and_the_unresolved_count() {
    second_signal_exits_at_once("INT", "INT", 130);
}

#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn a_second_sigterm_exits_at_once_with_143() {
    second_signal_exits_at_once("TERM", "TERM", 143);
}

/// The second signal names the code, whichever came first.
#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn a_sigterm_then_a_sighup_exits_at_once_with_129() {
    second_signal_exits_at_once("TERM", "HUP", 129);
}

/// One scrape's figures of interest.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Scrape {
    sent: f64,
    acked: f64,
    bytes_acked: f64,
    latency_count: f64,
    in_flight: f64,
}

#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn metrics_scraped_during_a_run_agree_with_the_summary() {
    const COUNT: f64 = 30_000.0;
    const LINGERING: &str = "serving the final metrics";
    let topic = create_topic("run-metrics", PARTITIONS);
    let addr = format!("127.0.0.1:{}", free_local_port());
    let mut running = spawn(
        stack_command()
            .args(["--log-format", "json", "produce", "--topic", &topic])
            .args([
                "--count",
                "30000",
                "--rate",
                "10000",
                "--metrics-addr",
                &addr,
                "--metrics-linger",
                "30s",
            ])
            .args(["--progress-interval", "0s"]),
    );

    let mut scrapes: Vec<Scrape> = Vec::new();
    // Scrape during the run, until the binary says the run is over and it serves the final values.
    while running.is_running() && !running.stderr_so_far().contains(LINGERING) {
        if let Some((status, body)) = http_get(&addr, "/metrics") {
            assert_eq!(status, 200, "{body}");
            let series = parse_metrics(&body);
            let get = |name: &str| series.get(name).copied().unwrap_or(f64::NAN);
            scrapes.push(Scrape {
                sent: get("shoe_producer_records_sent_total"),
                acked: get("shoe_producer_records_acked_total"),
                bytes_acked: get("shoe_producer_acked_bytes_total"),
                latency_count: get("shoe_producer_ack_latency_seconds_count"),
                in_flight: get("shoe_producer_in_flight_records"),
            });
            for (name, value) in &series {
                if name.starts_with("shoe_producer_records_failed") {
                    assert_eq!(*value, 0.0, "{name} in\n{body}");
                }
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // The run is over: one more scrape sees the final values, then a signal ends the linger.
    running.wait_for_stderr(LINGERING, LIMIT);
    let (status, final_text) =
        http_get(&addr, "/metrics").expect("/metrics served while lingering");
    assert_eq!(status, 200, "{final_text}");
    running.signal("INT");
    let run = running.finish(LIMIT);
    let summary = assert_all_acked(&run);
    assert_eq!(number(&summary, "sent"), COUNT as u64, "{summary}");
    let last = parse_metrics(&final_text);
    // Failed records have a series per reason, and none while nothing failed.
    let failed: f64 = last
        .iter()
        .filter(|(series, _)| series.starts_with("shoe_producer_records_failed_total{"))
        .map(|(_, value)| value)
        .sum();
    assert_eq!(failed, number(&summary, "failed") as f64, "{final_text}");
    for (metric, key) in [
        ("shoe_producer_records_sent_total", "sent"),
        ("shoe_producer_records_acked_total", "acked"),
        (
            "shoe_producer_records_possible_duplicates_total",
            "possible_duplicates",
        ),
        ("shoe_producer_acked_bytes_total", "bytes_acked"),
        ("shoe_producer_ack_latency_seconds_count", "acked"),
    ] {
        assert_eq!(
            last.get(metric).copied(),
            Some(number(&summary, key) as f64),
            "{metric} at the end vs the summary's {key}: {summary}\n{final_text}"
        );
    }
    assert_eq!(
        last.get("shoe_producer_in_flight_records").copied(),
        Some(0.0)
    );
    eprintln!(
        "{} scrapes; last {:?}; summary acked {} bytes {}",
        scrapes.len(),
        scrapes.last(),
        summary["acked"],
        summary["bytes_acked"]
    );

    // Every metric the README lists, with the run's topic, subject and schema id on the info metric.
    // (`shoe_producer_records_failed_total{reason=…}` only has series once a record failed.)
    for name in [
        "# TYPE shoe_producer_records_sent counter",
        "# TYPE shoe_producer_records_failed counter",
        "# TYPE shoe_producer_records_acked counter",
        "# TYPE shoe_producer_acked_bytes counter",
        "# TYPE shoe_producer_produce_requests counter",
        "# TYPE shoe_producer_batch_size_bytes histogram",
        "# TYPE shoe_producer_produce_requests_in_flight gauge",
        "# TYPE shoe_producer_ack_latency_seconds histogram",
        "shoe_producer_ack_latency_seconds_bucket{le=",
        "shoe_producer_ack_latency_seconds_sum ",
        "# TYPE shoe_producer_in_flight_records gauge",
        "# TYPE shoe_producer_buffered_bytes gauge",
        "shoe_producer_buffered_bytes ",
        "shoe_producer_idempotent_producer_info{producer_id=\"",
        "# EOF",
    ] {
        assert!(
            final_text.contains(name),
            "missing {name:?} in\n{final_text}"
        );
    }
    let info = format!(
        "shoe_producer_run_info{{topic=\"{topic}\",subject=\"{topic}-value\",schema_id=\"{}\"",
        summary["schema_id"]
    );
    assert!(
        final_text.contains(&info),
        "missing {info:?} in\n{final_text}"
    );

    // Scraped during the run: some scrape caught it half-way, figures only grow, stay consistent,
    // and never pass the summary's final figures.
    assert!(scrapes.len() >= 5, "only {} scrapes", scrapes.len());
    assert!(
        scrapes.iter().any(|s| s.acked > 0.0 && s.acked < COUNT),
        "no scrape caught the run half-way: {scrapes:?}"
    );
    let summary_acked = number(&summary, "acked") as f64;
    let summary_bytes = number(&summary, "bytes_acked") as f64;
    for s in &scrapes {
        assert!(s.acked <= s.sent && s.sent <= COUNT, "{s:?}");
        assert!(s.in_flight >= 0.0 && s.in_flight <= s.sent, "{s:?}");
        assert!(
            s.acked <= summary_acked && s.bytes_acked <= summary_bytes,
            "{s:?}"
        );
        assert!(s.latency_count <= summary_acked, "{s:?}");
    }
    for pair in scrapes.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        assert!(
            a.sent <= b.sent
                && a.acked <= b.acked
                && a.bytes_acked <= b.bytes_acked
                && a.latency_count <= b.latency_count,
            "a counter went down: {a:?} then {b:?}"
        );
    }
}
