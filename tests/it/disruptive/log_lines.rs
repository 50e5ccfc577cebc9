//! What a person sees on stderr at the default log level when something holds records back: a
//! few lines per condition (when it starts, while it lasts, when it ends), not one per batch. Each
//! test counts the lines of a real run of the binary and prints the count; `-v` still shows every
//! batch.
//!
//! The broker restart stops the shared broker, hence this module's place; the split run only
//! shares its helpers.

use std::time::Duration;

use super::faults::{kill_and_restart, wait_producer, RestartBroker, BROKER};
use crate::support::{
    engine::{kafka_with_topic, set_topic_config},
    inherited_env_command, spawn,
};

/// The most lines a run of these tests may write at the default level: a handful per condition
/// and start-up, and a progress line every five seconds.
const LINE_BOUND: usize = 20;

/// stderr's JSON log lines, and how many of them are at `level`.
fn lines_at(stderr: &str, level: &str) -> Vec<serde_json::Value> {
    stderr
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|json| json["level"] == level)
        .collect()
}

fn report(what: &str, stderr: &str) {
    let levels: Vec<String> = ["ERROR", "WARN", "INFO"]
        .iter()
        .map(|level| format!("{level} {}", lines_at(stderr, level).len()))
        .collect();
    println!(
        "{what}: {} stderr lines at the default level ({})",
        stderr.lines().count(),
        levels.join(", ")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn a_topic_taking_smaller_batches_gives_one_warning_not_a_line_per_split() {
    let (_kafka, topic) = kafka_with_topic("logs-split", 6).await;
    let configured = topic.clone();
    tokio::task::spawn_blocking(move || {
        set_topic_config(&configured, "max.message.bytes", "10000")
    })
    .await
    .unwrap();
    // Default settings: 1 MiB batches, far above the topic's 10,000 bytes.
    let child = spawn(&mut inherited_env_command(&[
        "--topic",
        &topic,
        "--count",
        "100000",
        "--log-format",
        "json",
    ]));
    let (code, summary, stderr) = wait_producer(child).await;
    report(
        "100,000 records to a topic with max.message.bytes=10000",
        &stderr,
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        (summary["acked"].as_u64(), summary["failed"].as_u64()),
        (Some(100_000), Some(0))
    );
    let warnings = lines_at(&stderr, "WARN");
    assert_eq!(
        warnings.len(),
        1,
        "the README promises one warning:\n{stderr}"
    );
    assert!(
        warnings[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("--batch-size")),
        "{stderr}"
    );
    assert!(
        stderr.contains("MESSAGE_TOO_LARGE on partition"),
        "the splitting is told when it starts:\n{stderr}"
    );
    assert!(
        stderr.lines().count() <= LINE_BOUND,
        "{} lines:\n{stderr}",
        stderr.lines().count()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn a_broker_restart_is_a_few_lines_not_one_per_batch() {
    let _serial = BROKER.lock().await;
    let _restart = RestartBroker;
    let (_kafka, topic) = kafka_with_topic("logs-restart", 6).await;
    // About 10 s of producing at 15,000 records/s; the broker dies after 3 s.
    let child = spawn(&mut inherited_env_command(&[
        "--topic",
        &topic,
        "--count",
        "150000",
        "--rate",
        "15000",
        "--log-format",
        "json",
    ]));
    kill_and_restart(1, Duration::from_secs(3)).await;
    let (code, summary, stderr) = wait_producer(child).await;
    report(
        "a broker SIGKILLed and restarted under 15,000 records/s",
        &stderr,
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        (summary["acked"].as_u64(), summary["failed"].as_u64()),
        (Some(150_000), Some(0))
    );
    assert!(stderr.contains("retrying"), "the outage is told:\n{stderr}");
    assert!(
        stderr.contains("all delivered since"),
        "and its end:\n{stderr}"
    );
    assert!(
        stderr.lines().count() <= LINE_BOUND,
        "{} lines:\n{stderr}",
        stderr.lines().count()
    );
}
