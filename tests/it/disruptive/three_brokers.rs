//! Leader moves, as Confluent Cloud's rolling upgrades cause them, on the local stack's
//! three-broker mode (`LOCAL_STACK_BROKERS=3`: three brokers, a separate KRaft controller, topics
//! with replication factor 3 and `min.insync.replicas=2`): a rolling restart of every broker, and a
//! SIGKILL of the leader of most partitions, during one run at the default settings. The run must
//! end with exit 0 and every record on the topic exactly once, in order per partition — leaders
//! followed through `NOT_LEADER_OR_FOLLOWER` and fresh metadata, well inside a delivery timeout
//! shorter than the outages' total.

use crate::support::engine as engine_support;

use std::{process::Command, time::Duration};

use engine_support::{
    consume_all, inherited_env_command, init_logs, kafka_settings, set_topic_config, spawn,
    unique_topic, verify_produced, Running,
};
use shoe_producer::kafka::{self, Kafka};

/// Runs `scripts/local-stack.sh` with `args` (the caller's environment says which stack).
async fn stack(args: &[&str]) -> String {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/local-stack.sh");
        let output = Command::new(script)
            .args(&args)
            .output()
            .expect("run scripts/local-stack.sh");
        assert!(
            output.status.success(),
            "scripts/local-stack.sh {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    })
    .await
    .unwrap()
}

/// Brings every broker back even when the test fails half-way.
struct RestartBrokers;

impl Drop for RestartBrokers {
    fn drop(&mut self) {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/local-stack.sh");
        let _ = Command::new(script).arg("up").status();
    }
}

/// The three-broker stack's cluster, and a fresh topic on it as Confluent Cloud makes them.
async fn three_broker_topic(prefix: &str) -> (Kafka, String) {
    init_logs();
    assert_eq!(
        std::env::var("LOCAL_STACK_BROKERS").as_deref(),
        Ok("3"),
        "these tests need the three-broker stack: LOCAL_STACK_BROKERS=3 scripts/local-stack.sh up, \
         then eval \"$(LOCAL_STACK_BROKERS=3 scripts/local-stack.sh env)\""
    );
    let kafka = kafka::connect(&kafka_settings()).await.expect("connect");
    assert_eq!(kafka.cluster_info().await.unwrap().brokers.len(), 3);
    let topic = unique_topic(prefix);
    assert!(kafka
        .create_topic(&topic, 6, 3)
        .await
        .expect("create topic"));
    let configured = topic.clone();
    tokio::task::spawn_blocking(move || set_topic_config(&configured, "min.insync.replicas", "2"))
        .await
        .unwrap();
    (kafka, topic)
}

/// The binary with the stack's environment, JSON logs, no progress lines, 2,000 records/s until
/// stopped, and a delivery timeout of 30 s: shorter than the outages add up to, so a record that
/// waited for one of them to pass instead of following the leader fails the run.
fn spawn_producer(topic: &str) -> Running {
    spawn(
        inherited_env_command(&[
            "--topic",
            topic,
            "--rate",
            "2000",
            "--delivery-timeout",
            "30s",
            "--request-timeout",
            "20s",
        ])
        .args(["--log-format", "json", "--progress-interval", "0s"]),
    )
}

/// Stops the run with SIGINT and waits for its end; checks exit 0 and every record once, in order,
/// on its partition. Returns the run's stderr.
async fn stop_and_expect_exactly_once(running: Running, kafka: &Kafka, topic: &str) -> String {
    tokio::time::sleep(Duration::from_secs(5)).await;
    let interrupted = Command::new("kill")
        .args(["-INT", &running.pid().to_string()])
        .status()
        .expect("run kill");
    assert!(interrupted.success());
    let finished = tokio::task::spawn_blocking(move || running.finish(Duration::from_secs(300)))
        .await
        .unwrap();
    let summary = finished.summary();
    assert_eq!(finished.code(), Some(0), "{}", finished.transcript());
    println!("{summary}");
    let count = summary["sent"].as_u64().expect("sent");
    assert!(count > 0, "{summary}");
    assert_eq!(summary["acked"], count, "{summary}");
    assert_eq!(summary["failed"], 0, "{summary}");
    assert_eq!(summary["possible_duplicates"], 0, "{summary}");
    let partitions = consume_all(kafka, topic, 6).await;
    let schema_id = summary["schema_id"].as_u64().unwrap() as u32;
    assert_eq!(
        verify_produced(&partitions, 1, count, schema_id, false),
        count
    );
    finished.stderr
}

/// The broker leading most of `topic`'s partitions, from `describe` ("TOPIC PARTITION LEADER …").
async fn busiest_leader(topic: &str) -> String {
    let described = stack(&["describe", topic]).await;
    let mut led = [0usize; 4];
    for line in described.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() >= 3 && fields[0] == topic {
            if let Ok(leader @ 1..=3) = fields[2].parse::<usize>() {
                led[leader] += 1;
            }
        }
    }
    let leader = (1..=3).max_by_key(|&b| led[b]).unwrap();
    assert!(led[leader] > 0, "no leaders in {described}");
    format!("kafka-{leader}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the three-broker local stack: LOCAL_STACK_BROKERS=3 scripts/test.sh three_brokers"]
async fn a_rolling_restart_of_every_broker_loses_and_duplicates_nothing() {
    let _restart = RestartBrokers;
    let (kafka, topic) = three_broker_topic("leaders-rolling").await;
    let producer = spawn_producer(&topic);
    for broker in ["kafka-1", "kafka-2", "kafka-3"] {
        tokio::time::sleep(Duration::from_secs(5)).await;
        stack(&["stop", broker]).await;
        // `up` returns once the broker is back and every partition is in sync again.
        stack(&["up"]).await;
    }
    let stderr = stop_and_expect_exactly_once(producer, &kafka, &topic).await;
    assert!(
        stderr.contains("NOT_LEADER_OR_FOLLOWER"),
        "leaders moved, yet no request was refused by a former leader:\n{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the three-broker local stack: LOCAL_STACK_BROKERS=3 scripts/test.sh three_brokers"]
async fn a_sigkill_of_the_busiest_leader_loses_and_duplicates_nothing() {
    let _restart = RestartBrokers;
    let (kafka, topic) = three_broker_topic("leaders-sigkill").await;
    let producer = spawn_producer(&topic);
    tokio::time::sleep(Duration::from_secs(5)).await;
    let victim = busiest_leader(&topic).await;
    stack(&["kill", &victim]).await;
    // The controller fences the dead broker after its session timeout and elects new leaders; the
    // run goes on through them, then the broker comes back.
    tokio::time::sleep(Duration::from_secs(20)).await;
    stack(&["up"]).await;
    stop_and_expect_exactly_once(producer, &kafka, &topic).await;
}
