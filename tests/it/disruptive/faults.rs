//! Broker faults: the local stack's broker is SIGKILLed mid-run (`scripts/local-stack.sh kill kafka`)
//! and brought back (`up`). With idempotence (the default) every record is on the topic exactly once
//! and in order; without it, at least once with every extra copy counted; and an outage longer
//! than the delivery timeout fails the run, every record in exactly one final state.
//!
//! These tests stop the shared broker, so they hold one lock for their whole length (tests in this
//! binary never overlap, and cargo runs test binaries one after another) and always restart it.

use crate::support::engine as engine_support;

use std::{process::Command, time::Duration};

use engine_support::{
    consume_all, inherited_env_command, kafka_with_topic, run_config, spawn, stored_batches,
    verify_produced, Running,
};
use shoe_producer::{
    app::config::producer_defaults,
    commands::produce::{self, shutdown::Shutdown},
    producer::Producer,
    settings::ProducerSettings,
};
use tokio::sync::Mutex;

pub(super) static BROKER: Mutex<()> = Mutex::const_new(());

fn stack(args: &[&str]) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/local-stack.sh");
    let status = Command::new(script)
        .args(args)
        .status()
        .expect("run scripts/local-stack.sh");
    assert!(status.success(), "scripts/local-stack.sh {args:?} failed");
}

pub(super) async fn stack_async(args: &'static [&'static str]) {
    tokio::task::spawn_blocking(move || stack(args))
        .await
        .unwrap();
}

/// Brings the broker back even when the test fails half-way.
pub(super) struct RestartBroker;

impl Drop for RestartBroker {
    fn drop(&mut self) {
        stack(&["up"]);
    }
}

/// Starts the binary with the local stack's environment, JSON logs and no progress lines; a test
/// that fails before waiting for it kills it.
fn spawn_producer(args: &[&str]) -> Running {
    spawn(inherited_env_command(args).args(["--log-format", "json", "--progress-interval", "0s"]))
}

/// Waits for the run's end (a run still going after five minutes is killed and fails the test);
/// returns (exit code, summary line, stderr).
pub(super) async fn wait_producer(running: Running) -> (Option<i32>, serde_json::Value, String) {
    let finished = tokio::task::spawn_blocking(move || running.finish(Duration::from_secs(300)))
        .await
        .unwrap();
    (finished.code(), finished.summary(), finished.stderr)
}

/// Kills the broker `times` times, `every` apart, bringing it back each time.
pub(super) async fn kill_and_restart(times: usize, every: Duration) {
    for _ in 0..times {
        tokio::time::sleep(every).await;
        stack_async(&["kill", "kafka"]).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        stack_async(&["up"]).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn a_broker_killed_twice_mid_run_leaves_every_record_exactly_once_in_order() {
    let _serial = BROKER.lock().await;
    let _restart = RestartBroker;
    let (kafka, topic) = kafka_with_topic("fault-kill-twice", 6).await;
    let count = 200_000u64;
    // About 13 s of producing at 15,000 records/s, at the default settings; the broker dies twice.
    let child = spawn_producer(&["--topic", &topic, "--count", "200000", "--rate", "15000"]);
    kill_and_restart(2, Duration::from_secs(3)).await;

    let (code, summary, stderr) = wait_producer(child).await;
    assert_eq!(
        code,
        Some(0),
        "the run rides out both restarts; stderr:\n{stderr}"
    );
    assert_eq!(summary["sent"], count);
    assert_eq!(summary["acked"], count);
    assert_eq!(summary["failed"], 0);
    assert_eq!(summary["possible_duplicates"], 0, "{summary}");
    assert!(
        stderr.contains("retrying"),
        "the outages were noticed and retried"
    );

    let partitions = consume_all(&kafka, &topic, 6).await;
    let schema_id = summary["schema_id"].as_u64().unwrap() as u32;
    let read = verify_produced(&partitions, 1, count, schema_id, false);
    assert_eq!(
        read, count,
        "every record exactly once, in order per partition"
    );
    let batches = tokio::task::spawn_blocking(move || stored_batches(&topic))
        .await
        .unwrap();
    assert!(
        batches.iter().map(|b| b.count).sum::<i64>() >= count as i64,
        "DumpLogSegments saw every record"
    );
    let anonymous: Vec<_> = batches.iter().filter(|b| b.producer_id < 0).collect();
    assert!(
        anonymous.is_empty(),
        "batches without a producer id on disk: {anonymous:?}"
    );
    println!(
        "read back {read} records, each once and in order; {} batches on disk, none without a producer id; {summary}",
        batches.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn without_idempotence_a_killed_broker_leaves_at_least_once_with_every_copy_counted() {
    let _serial = BROKER.lock().await;
    let _restart = RestartBroker;
    let (kafka, topic) = kafka_with_topic("fault-at-least-once", 6).await;
    let count = 150_000u64;
    let mut config = run_config(&topic, count);
    config.run.rate = Some(15_000);
    config.producer.enable_idempotence = false;
    let run = tokio::spawn(async move { produce::produce_with(&config, Shutdown::manual()).await });
    kill_and_restart(1, Duration::from_secs(3)).await;
    let outcome = run.await.unwrap().expect("every record acked");
    let stats = &outcome.stats;
    assert_eq!((stats.sent, stats.acked, stats.failed), (count, count, 0));
    assert_eq!(stats.producer_id_and_epoch, None);

    let partitions = consume_all(&kafka, &topic, 6).await;
    let schema_id = outcome.destination.schema_id.unwrap();
    let read = verify_produced(&partitions, 1, count, schema_id, true);
    // Every acked record is there; any extra copy comes from a retry counted as a possible duplicate.
    assert!(
        read - count <= stats.possible_duplicates,
        "{} duplicates on the topic but only {} counted as possible",
        read - count,
        stats.possible_duplicates
    );
    let batches = tokio::task::spawn_blocking(move || stored_batches(&topic))
        .await
        .unwrap();
    assert!(batches.iter().all(|b| b.producer_id == -1), "{batches:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn a_broker_down_past_the_delivery_timeout_fails_the_run_with_exit_1() {
    let _serial = BROKER.lock().await;
    let _restart = RestartBroker;
    let (_kafka, topic) = kafka_with_topic("fault-exit1", 6).await;
    let child = spawn_producer(&[
        "--topic",
        &topic,
        "--count",
        "40000",
        "--rate",
        "10000",
        "--delivery-timeout",
        "4s",
        "--request-timeout",
        "3s",
    ]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stack_async(&["kill", "kafka"]).await;
    let (code, summary, stderr) = wait_producer(child).await;
    assert_eq!(code, Some(1), "stderr:\n{stderr}");
    let (sent, acked, failed) = (
        summary["sent"].as_u64().unwrap(),
        summary["acked"].as_u64().unwrap(),
        summary["failed"].as_u64().unwrap(),
    );
    assert_eq!(sent, 40_000);
    assert_eq!(
        acked + failed,
        sent,
        "every record in exactly one final state"
    );
    assert!(acked > 0 && failed > 0, "{summary}");
    let reasons = summary["failed_by_reason"].as_object().unwrap();
    assert_eq!(
        reasons.values().filter_map(|n| n.as_u64()).sum::<u64>(),
        failed,
        "every failed record is counted under a reason: {summary}"
    );
    assert_eq!(
        reasons.keys().collect::<Vec<_>>(),
        ["delivery_timeout (partition unavailable)"],
        "one outage, one reason"
    );
    assert!(stderr.contains("records failed"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn an_outage_longer_than_the_delivery_timeout_fails_records_but_keeps_the_books() {
    let _serial = BROKER.lock().await;
    let _restart = RestartBroker;
    let (kafka, topic) = kafka_with_topic("fault-timeout", 6).await;
    let settings = ProducerSettings {
        delivery_timeout: Duration::from_secs(4),
        ..producer_defaults()
    };
    let producer = Producer::start(&kafka, &topic, &settings).await.unwrap();
    let handle = producer.handle();

    // Before, during and after the kill: records flow for 3 s at about 10,000/s.
    let sender = tokio::spawn(async move {
        let mut sent = 0u64;
        for id in 0..30_000u64 {
            handle
                .send(id.to_string().as_bytes(), b"fault")
                .await
                .unwrap();
            sent += 1;
            if id % 100 == 0 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        sent
    });
    tokio::time::sleep(Duration::from_millis(800)).await;
    stack_async(&["kill", "kafka"]).await;
    let sent = sender.await.unwrap();
    let stats = producer.close().await;

    assert_eq!(stats.sent, sent);
    assert_eq!(
        stats.acked + stats.failed,
        stats.sent,
        "every record in exactly one final state"
    );
    assert_eq!(stats.in_flight_records, 0);
    assert!(
        stats.acked > 0,
        "records before the kill are acked: {stats:?}"
    );
    assert!(
        stats.failed > 0,
        "records during the outage fail: {stats:?}"
    );
    assert_eq!(
        stats.failed_by_reason.iter().map(|(_, n)| n).sum::<u64>(),
        stats.failed,
        "every failed record is counted under a reason: {stats:?}"
    );
    assert_eq!(
        stats.failed_by_reason,
        [(
            "delivery_timeout (partition unavailable)".to_string(),
            stats.failed
        )],
        "one outage, one reason"
    );
    assert_eq!(stats.failed_timed_out, stats.failed);

    // Every record reported acked is on the topic (idempotence writes each once): at least as many
    // distinct keys as acks, and only keys that were sent.
    stack_async(&["up"]).await;
    let on_topic: std::collections::HashSet<u64> = consume_all(&kafka, &topic, 6)
        .await
        .into_iter()
        .flatten()
        .map(|r| {
            std::str::from_utf8(&r.key)
                .expect("UTF-8 key")
                .parse()
                .expect("decimal key")
        })
        .collect();
    assert!(
        on_topic.len() as u64 >= stats.acked,
        "{} records on the topic, {} acked",
        on_topic.len(),
        stats.acked
    );
    assert!(on_topic.iter().all(|&id| id < sent), "only sent ids");
}
