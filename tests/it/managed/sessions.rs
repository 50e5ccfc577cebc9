//! A broker that ends every SASL session after ten seconds: a long run loses no request to an
//! expired session.

use std::time::Duration;

use super::{assert_sessions_end, run_without_failures};

use crate::support::engine::{
    consume_all, inherited_env_command as producer, kafka_with_topic, run_to_end, verify_produced,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack with connections.max.reauth.ms=10000: run scripts/test.sh"]
async fn a_minute_of_ten_second_sessions_fails_and_retries_no_request() {
    let (kafka, topic) = kafka_with_topic("reauth", 6).await;
    assert_sessions_end(&kafka);
    let check = {
        let mut command = producer(&["check", "--topic", &topic]);
        tokio::task::spawn_blocking(move || run_to_end(&mut command, Duration::from_secs(60)))
            .await
            .unwrap()
    };
    assert!(
        check.stdout.contains("sessions last 10s"),
        "check names the session lifetime:\n{}",
        check.stdout
    );

    let mut command = producer(&[
        "--topic",
        &topic,
        "--duration",
        "60s",
        "--rate",
        "5000",
        "--seed",
        "3",
        "--log-format",
        "json",
        "--progress-interval",
        "0s",
    ]);
    // The connection layer's debug lines (renewals) beside the default level, not every record's.
    command.env("RUST_LOG", "info,shoe_producer::kafka=debug");
    let (finished, summary) = run_without_failures(command).await;
    let stderr = &finished.stderr;
    assert_eq!(summary["possible_duplicates"], 0, "{stderr}");
    // A produce request that failed names itself; InitProducerId waiting for a freshly started
    // coordinator is the stack's start, not a session's end.
    for sign_of_a_lost_request in [
        "produce request failed",
        "NETWORK_EXCEPTION",
        "\"level\":\"WARN\"",
        "\"level\":\"ERROR\"",
    ] {
        assert!(
            !stderr.contains(sign_of_a_lost_request),
            "a request was lost or retried ({sign_of_a_lost_request}):\n{stderr}"
        );
    }
    // Six sessions end in a minute: each broker connection was replaced before its session did.
    let renewals = stderr.matches("renewed the connection").count();
    assert!(
        renewals >= 5,
        "{renewals} connection renewals in 60 s of 10 s sessions:\n{stderr}"
    );
    println!(
        "60 s against 10 s sessions: {} records acked, none failed or retried, {renewals} connections renewed",
        summary["acked"]
    );

    let acked = summary["acked"].as_u64().unwrap();
    let schema_id = summary["schema_id"].as_u64().unwrap() as u32;
    let read = verify_produced(
        &consume_all(&kafka, &topic, 6).await,
        1,
        acked,
        schema_id,
        false,
    );
    assert_eq!(read, acked, "every acknowledged record on the topic once");
}
