//! The `shoe-producer` binary end to end against the local stack: the 200,000-record run read back
//! and checked, and the failures a user meets (wrong password, unknown CA, missing topic) ending with
//! exit code 1, a clear message, and no secret in any output.

use crate::support::engine as engine_support;

use std::{
    process::Command,
    time::{Duration, Instant},
};

use engine_support::{
    consume_all, env, inherited_env_command as producer, kafka_with_topic, run_to_end,
    unique_topic, verify_produced, Finished,
};

/// Runs `command` to its end: the finished run (exit status, stdout, stderr). A run still going
/// after five minutes is killed and fails the test (a hang guard, not a timing assertion).
fn run(mut command: Command) -> Finished {
    run_to_end(&mut command, Duration::from_secs(300))
}

fn assert_no_secrets(texts: &[&str]) {
    for secret in [env("KAFKA_API_SECRET"), env("SCHEMA_REGISTRY_API_SECRET")] {
        for text in texts {
            assert!(
                !text.contains(&secret),
                "a secret leaked into the output:\n{text}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn produces_two_hundred_thousand_shoes_that_read_back_exactly() {
    let (kafka, topic) = kafka_with_topic("bin-200k", 6).await;
    let command = producer(&[
        "--topic",
        &topic,
        "--count",
        "200000",
        "--seed",
        "11",
        "--log-format",
        "json",
        "--progress-interval",
        "0s",
        "-vv",
    ]);
    let finished = tokio::task::spawn_blocking(move || run(command))
        .await
        .unwrap();
    let Finished { stdout, stderr, .. } = &finished;
    assert_eq!(finished.code(), Some(0), "{stderr}");
    let s = finished.summary();
    assert_eq!(s["sent"], 200_000);
    assert_eq!(s["acked"], 200_000);
    assert_eq!(s["failed"], 0);
    assert_eq!(s["topic"], topic.as_str());
    assert_eq!(s["subject"], format!("{topic}-value"));
    let schema_id = s["schema_id"].as_u64().unwrap() as u32;
    // Per-record success is logged at debug level (-vv) in the documented shape.
    assert!(
        stderr.contains(&format!("produced key=1 to topic={topic} partition=")),
        "no per-record debug line"
    );
    assert_no_secrets(&[stdout, stderr]);

    let partitions = consume_all(&kafka, &topic, 6).await;
    let read = verify_produced(&partitions, 1, 200_000, schema_id, false);
    assert_eq!(read, 200_000);
}

#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn a_wrong_password_exits_1_fast_naming_the_credentials() {
    let secret = "wrong-Kafka-Secret-9d1e77-distinctive";
    let mut command = producer(&["--topic", &env("KAFKA_TOPIC"), "--count", "10"]);
    command.env("KAFKA_API_SECRET", secret);
    let started = Instant::now();
    let Finished {
        status,
        stdout,
        stderr,
    } = run(command);
    let waited = started.elapsed();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(waited < Duration::from_secs(15), "took {waited:?}");
    assert!(
        stderr.contains("Kafka rejected the credentials"),
        "{stderr}"
    );
    assert!(stderr.contains("KAFKA_API_SECRET"), "{stderr}");
    for text in [&stdout, &stderr] {
        assert!(!text.contains(secret), "the wrong secret leaked:\n{text}");
    }
    assert_no_secrets(&[&stdout, &stderr]);
}

#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn an_unknown_ca_exits_1_naming_kafka_ssl_ca_location() {
    let mut command = producer(&["--topic", &env("KAFKA_TOPIC"), "--count", "10"]);
    command.env_remove("KAFKA_SSL_CA_LOCATION");
    let Finished {
        status,
        stdout,
        stderr,
    } = run(command);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("KAFKA_SSL_CA_LOCATION"), "{stderr}");
    assert!(stderr.contains("not trusted"), "{stderr}");
    assert_no_secrets(&[&stdout, &stderr]);
}

#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn a_missing_topic_exits_1_with_what_to_do() {
    let topic = unique_topic("bin-missing");
    let Finished {
        status,
        stdout,
        stderr,
    } = run(producer(&["--topic", &topic, "--count", "10"]));
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("topic \"{topic}\" does not exist")),
        "{stderr}"
    );
    assert!(stderr.contains("--create-topic"), "{stderr}");
    assert_no_secrets(&[&stdout, &stderr]);
}

#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn create_topic_on_an_existing_topic_uses_it_and_says_when_partitions_differ() {
    let topic = crate::support::create_topic("bin-existing", 3);
    let finished = run(producer(&[
        "--topic",
        &topic,
        "--create-topic",
        "--partitions",
        "6",
        "--count",
        "300",
        "--log-format",
        "json",
    ]));
    assert_eq!(finished.code(), Some(0), "{}", finished.transcript());
    assert_eq!(
        finished.summary()["acked"],
        300,
        "{}",
        finished.transcript()
    );
    assert!(
        finished
            .stderr
            .contains("exists already with 3 partitions; --partitions 6 applies only"),
        "{}",
        finished.transcript()
    );
    let records = crate::support::consume_all(&topic, 3);
    assert_eq!(records.len(), 300);
}

#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn a_deleted_topic_stops_the_generator_and_fails_the_run_once() {
    let topic = crate::support::create_topic("bin-deleted", 6);
    let mut running = crate::support::spawn(
        crate::support::stack_command()
            .args(["--log-format", "json", "produce", "--topic", &topic])
            .args([
                "--rate",
                "2000",
                "--delivery-timeout",
                "5s",
                "--request-timeout",
                "4s",
            ])
            .args(["--progress-interval", "0s"]),
    );
    running.wait_for_stderr("generating shoes", Duration::from_secs(60));
    std::thread::sleep(Duration::from_secs(1));
    crate::support::block_on(async {
        crate::support::stack_kafka_client()
            .await
            .controller_client()
            .expect("controller client")
            .delete_topic(&topic, 10_000)
            .await
            .expect("delete the topic");
    });
    // Without --count or --duration only a fatal error (or a signal) can end this run.
    let run = running.finish(Duration::from_secs(120));

    assert_eq!(run.code(), Some(1), "{}", run.transcript());
    let summary = run.summary();
    assert_eq!(summary["stop_reason"], "fatal_error", "{summary}");
    assert!(summary["fatal_error"].is_string(), "{summary}");
    assert_eq!(summary["unresolved"], 0, "{summary}");
    let errors: Vec<serde_json::Value> = run
        .stderr
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|line| line["event"] == "error")
        .collect();
    assert_eq!(errors.len(), 1, "{}", run.transcript());
    let message = errors[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("stopped at the first fatal error: "),
        "{message}"
    );
}
