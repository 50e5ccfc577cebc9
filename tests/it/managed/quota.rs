//! A `producer_byte_rate` quota on the stack's user: the broker answers with throttle times and the
//! producer holds each connection as long as asked (KIP-219) — told once when throttling starts
//! and once when it ends, its time in the progress lines and the summary — while connections are
//! renewed every ten seconds. A request held past its connection's renewal point must go out on
//! the new connection, never on the old one after its session ended (the broker would drop it:
//! `NETWORK_EXCEPTION`).

use std::time::Duration;

use super::{assert_sessions_end, run_without_failures};
use crate::support::{
    engine::{kafka_tool, kafka_with_topic},
    inherited_env_command, stack_env,
};

/// The quota: 2 MiB/s of produce requests for the user.
const BYTE_RATE: u64 = 2 * 1024 * 1024;

/// Sets (`--add-config`) or removes (`--delete-config`) the quota on the stack's Kafka user.
fn user_quota(action: &str, config: &str) {
    kafka_tool(
        "kafka.admin.ConfigCommand",
        &[
            "--bootstrap-server",
            &stack_env("LOCAL_STACK_PLAINTEXT_BOOTSTRAP"),
            "--alter",
            "--entity-type",
            "users",
            "--entity-name",
            &stack_env("KAFKA_API_KEY"),
            action,
            config,
        ],
    );
}

/// The quota on the stack's user while it lives.
struct Quota;

impl Quota {
    fn set() -> Self {
        user_quota("--add-config", &format!("producer_byte_rate={BYTE_RATE}"));
        Self
    }
}

impl Drop for Quota {
    fn drop(&mut self) {
        user_quota("--delete-config", "producer_byte_rate");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack with connections.max.reauth.ms=10000: run scripts/test.sh"]
async fn a_byte_rate_quota_is_honoured_told_once_and_totalled() {
    let (kafka, topic) = kafka_with_topic("quota", 6).await;
    assert_sessions_end(&kafka);
    let _quota = tokio::task::spawn_blocking(Quota::set).await.unwrap();
    // The broker applies the quota from its metadata log: give it a moment.
    tokio::time::sleep(Duration::from_secs(2)).await;

    // As fast as the producer can, for longer than two sessions, with small buffers so the run
    // ends soon after the generator stops.
    let command = inherited_env_command(&[
        "--topic",
        &topic,
        "--duration",
        "25s",
        "--buffer-memory",
        "4194304",
        "--log-format",
        "json",
    ]);
    let (finished, summary) = run_without_failures(command).await;
    let stderr = &finished.stderr;

    let started = stderr.matches("throttles this producer").count();
    let ended = stderr.matches("stopped throttling this producer").count();
    assert_eq!((started, ended), (1, 1), "one line each:\n{stderr}");
    let lines = stderr.lines().count();
    assert!(
        lines <= 20,
        "not a line per request: {lines} lines\n{stderr}"
    );
    let progress: Vec<serde_json::Value> = stderr
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|json| json["event"] == "progress")
        .collect();
    assert!(
        progress
            .iter()
            .any(|line| line["throttled_percent"].as_u64() > Some(0)),
        "progress lines show the throttling:\n{stderr}"
    );
    for sign_of_a_lost_request in ["NETWORK_EXCEPTION", "\"level\":\"ERROR\""] {
        assert!(
            !stderr.contains(sign_of_a_lost_request),
            "a held request was lost ({sign_of_a_lost_request}):\n{stderr}"
        );
    }

    let throttled = summary["throttled_secs"].as_f64().unwrap();
    let elapsed = summary["elapsed_secs"].as_f64().unwrap();
    let mb_per_sec = summary["mb_per_sec"].as_f64().unwrap();
    println!(
        "quota {} MiB/s: {} records acked in {elapsed:.1} s, {mb_per_sec:.2} MiB/s of keys and values, \
         throttled {throttled:.1} s; {lines} stderr lines",
        BYTE_RATE / (1024 * 1024),
        summary["acked"]
    );
    assert!(throttled > 1.0, "{summary}");
    // Keys and values are most of a request's bytes: the rate achieved is about the quota's.
    let quota_mib = BYTE_RATE as f64 / (1024.0 * 1024.0);
    assert!(
        mb_per_sec > quota_mib * 0.4 && mb_per_sec < quota_mib * 1.5,
        "{mb_per_sec:.2} MiB/s under a {quota_mib} MiB/s quota: {summary}"
    );
}
