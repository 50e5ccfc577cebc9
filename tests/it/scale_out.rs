//! Scale-out against the local stack: instances 0..N of one run, given the same settings, write
//! disjoint key ranges that together are exactly `--count` ids, each instance's shoes replayable
//! from the seed and first id its summary reports — through the library, and as the pods of a
//! Kubernetes Indexed Job would run the binary (same flags, `JOB_COMPLETION_INDEX` in the
//! environment).

use crate::support;

use std::{collections::BTreeMap, time::Duration};

use shoe_producer::{
    commands::produce::{self, shutdown::Shutdown},
    settings::Instance,
    shoe::{generator::ShoeGenerator, wire, Shoe},
};
use support::{
    consume_all, create_topic, engine::run_config, run_to_end, spawn, stack_command, Finished,
};

const PARTITIONS: i32 = 6;
/// Not a multiple of the instance count, so the shares differ.
const TOTAL: u64 = 1_000;
const INSTANCES: u32 = 3;

/// Every record on `topic` by shoe id; fails on a key seen twice or a key that is not the shoe's id.
fn shoes_by_id(topic: &str) -> BTreeMap<i64, Shoe> {
    let mut by_id = BTreeMap::new();
    for record in consume_all(topic, PARTITIONS) {
        let key: i64 = std::str::from_utf8(&record.key)
            .expect("UTF-8 key")
            .parse()
            .expect("a decimal id");
        let shoe: Shoe = wire::decode(&record.value)
            .expect("a framed value")
            .decode_payload()
            .expect("a Shoe");
        assert_eq!(shoe.id, key, "the key is the shoe's id");
        assert!(
            by_id.insert(key, shoe).is_none(),
            "key {key} twice on {topic}"
        );
    }
    by_id
}

/// The ids `first..first + count` on the topic hold exactly the shoes `seed` generates from `first`.
fn assert_replays(on_topic: &BTreeMap<i64, Shoe>, seed: u64, first: i64, count: u64) {
    let mut generator = ShoeGenerator::new(seed, first);
    for _ in 0..count {
        let expected = generator.next_shoe();
        assert_eq!(
            on_topic.get(&expected.id),
            Some(&expected),
            "id {}",
            expected.id
        );
    }
}

#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn instances_write_disjoint_complete_replayable_ranges() {
    let topic = create_topic("scale-lib", PARTITIONS);
    let runs = (0..INSTANCES).map(|index| {
        let mut config = run_config(&topic, TOTAL);
        config.run.instance = Instance {
            index,
            count: INSTANCES,
        };
        async move { produce::produce_with(&config, Shutdown::manual()).await }
    });
    let outcomes: Vec<_> = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a Tokio runtime")
        .block_on(join_all(runs));

    let on_topic = shoes_by_id(&topic);
    assert_eq!(
        on_topic.keys().copied().collect::<Vec<i64>>(),
        (1..=TOTAL as i64).collect::<Vec<i64>>()
    );
    let mut seeds = std::collections::BTreeSet::new();
    for (index, outcome) in outcomes.into_iter().enumerate() {
        let summary = outcome.expect("every record acked");
        let generation = summary.generation;
        assert_eq!(generation.instance.index, index as u32);
        assert_eq!(summary.stats.acked, summary.stats.sent);
        assert_replays(
            &on_topic,
            generation.seed,
            generation.first_id,
            summary.stats.sent,
        );
        seeds.insert(generation.seed);
    }
    assert_eq!(
        seeds.len(),
        INSTANCES as usize,
        "each instance has its own seed"
    );
}

/// Runs the futures concurrently on the current runtime and returns their outputs in order.
async fn join_all<F: std::future::Future + Send + 'static>(
    futures: impl IntoIterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let tasks: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for task in tasks {
        outputs.push(task.await.expect("the task did not panic"));
    }
    outputs
}

#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn an_indexed_jobs_pods_write_disjoint_complete_ranges() {
    let topic = create_topic("scale-job", PARTITIONS);
    let pods: Vec<_> = (0..INSTANCES)
        .map(|index| {
            spawn(
                stack_command()
                    .env("JOB_COMPLETION_INDEX", index.to_string())
                    .args(["--log-format", "json", "produce", "--topic", &topic])
                    .args(["--count", &TOTAL.to_string(), "--seed", "11"])
                    .args(["--instances", &INSTANCES.to_string()])
                    .args(["--progress-interval", "0s"]),
            )
        })
        .collect();
    let runs: Vec<Finished> = pods
        .into_iter()
        .map(|pod| pod.finish(Duration::from_secs(120)))
        .collect();
    for run in &runs {
        assert_eq!(run.code(), Some(0), "{}", run.transcript());
    }

    let on_topic = shoes_by_id(&topic);
    assert_eq!(
        on_topic.keys().copied().collect::<Vec<i64>>(),
        (1..=TOTAL as i64).collect::<Vec<i64>>()
    );
    let mut sent = 0;
    for (index, run) in runs.iter().enumerate() {
        let summary = run.summary();
        assert_eq!(summary["instance"], index, "{summary}");
        assert_eq!(summary["instances"], INSTANCES, "{summary}");
        let seed: u64 = summary["seed"].as_str().unwrap().parse().unwrap();
        let first: i64 = summary["first_id"].as_str().unwrap().parse().unwrap();
        let count = summary["sent"].as_u64().unwrap();
        assert_replays(&on_topic, seed, first, count);
        sent += count;

        // `sample` with the same flags shows the same shoes.
        let sample = run_to_end(
            support::bare_command()
                .env("JOB_COMPLETION_INDEX", index.to_string())
                .args(["sample", "--count", &TOTAL.to_string(), "--seed", "11"])
                .args(["--instances", &INSTANCES.to_string()]),
            Duration::from_secs(60),
        );
        assert_eq!(sample.code(), Some(0), "{}", sample.transcript());
        assert_eq!(sample.stdout.lines().count() as u64, count);
        let first_line: serde_json::Value =
            serde_json::from_str(sample.stdout.lines().next().unwrap()).unwrap();
        assert_eq!(first_line["id"], first.to_string());
        assert_eq!(first_line["name"], on_topic[&first].name.as_str());
    }
    assert_eq!(sent, TOTAL);
}
