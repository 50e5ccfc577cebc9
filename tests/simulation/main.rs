//! A simulated cluster that checks the real engine's delivery guarantees under random faults.
//!
//! An in-memory broker model sits behind the engine's transport seam: per-partition logs, replicated
//! perfectly (a new leader has the same log and producer state), and producer state checked as a
//! broker checks it — epoch, sequence, the last five batches kept for deduplication, answering
//! `OUT_OF_ORDER_SEQUENCE_NUMBER` and `INVALID_PRODUCER_EPOCH`. Each connection handles its requests
//! in order, as a broker does. A seeded schedule of faults plays against it: leaders that move,
//! connections dropped before or after a request was handled (requests in flight on it fail),
//! answers lost or delayed, `REQUEST_TIMED_OUT` and `NOT_ENOUGH_REPLICAS_AFTER_APPEND` after the
//! append, `NOT_ENOUGH_REPLICAS` and `UNKNOWN_PRODUCER_ID` before it, `MESSAGE_TOO_LARGE` for batches
//! above the model's limit, throttling, failed leader lookups. Everything runs in tokio's paused time
//! on one thread, so a seed replays exactly.
//!
//! After each run: every acknowledged record is on the log, once (a second copy only where the
//! engine counted a possible duplicate; one seed in five runs without idempotence, where retries
//! after an unknown outcome may write copies, each counted); each partition's log holds its records
//! in send order; every record ended acked or failed, with a reason; the run ended within a bound;
//! the counters add up.
//!
//! The broker model is `broker`, the cluster behind the transport seam `cluster`, the fault chances
//! `faults`, the checks `invariants`; this file draws each seed's scenario and runs it.
//!
//! `cargo test --release --test simulation`; `SIM_SEEDS=N` runs seeds 0..N (200 by default),
//! `SIM_SEED=S` replays one. A failure prints the seed, its settings and the fault schedule.
//! The anchors: FoundationDB's simulation testing, TigerBeetle's VOPR, franz-go's `kfake`.

mod broker;
mod cluster;
mod faults;
mod invariants;

use std::{
    collections::BTreeMap,
    num::NonZeroUsize,
    sync::{Arc, Mutex},
    time::Duration,
};

use broker::World;
use cluster::SimCluster;
use faults::Faults;
use invariants::{check, Observer};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use shoe_producer::{
    kafka::ProducerIdAndEpoch,
    producer::{delivery::StatsSnapshot, Producer},
    settings::{Acks, Compression, PartitionerKind, ProducerSettings},
};

/// One seed's settings.
#[derive(Debug, Clone)]
pub(crate) struct Scenario {
    pub(crate) partitions: i32,
    pub(crate) brokers: i32,
    pub(crate) records: u64,
    pub(crate) settings: ProducerSettings,
    pub(crate) faults: Faults,
    pub(crate) max_batch_records: u32,
}

pub(crate) fn scenario(seed: u64) -> Scenario {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let linger = Duration::from_millis(rng.random_range(0..10));
    // One seed in five runs without idempotence: at least once, in order with one request in flight.
    let enable_idempotence = rng.random_range(0..5) != 0;
    let request_timeout = Duration::from_secs(rng.random_range(2..10));
    let delivery_timeout = linger + request_timeout + Duration::from_secs(rng.random_range(0..40));
    let settings = ProducerSettings {
        acks: Acks::All,
        compression: Compression::None,
        linger,
        batch_size: NonZeroUsize::new(rng.random_range(100..4_000)).unwrap(),
        max_in_flight: NonZeroUsize::new(if enable_idempotence {
            rng.random_range(1..=5)
        } else {
            1
        })
        .unwrap(),
        buffer_memory: NonZeroUsize::new(64 * 1024).unwrap(),
        delivery_timeout,
        request_timeout,
        max_request_size: NonZeroUsize::new(rng.random_range(200..20_000)).unwrap(),
        partitioner: PartitionerKind::Murmur2,
        enable_idempotence,
        metadata_max_age: Duration::from_secs(rng.random_range(1..60)),
    };
    Scenario {
        partitions: rng.random_range(1..=12),
        brokers: rng.random_range(1..=4),
        records: rng.random_range(20..600),
        settings,
        faults: Faults::draw(&mut rng),
        max_batch_records: rng.random_range(2..200),
    }
}

/// Totals over the seeds run, to show the faults bit.
#[derive(Debug, Default)]
pub(crate) struct Totals {
    pub(crate) acked: u64,
    pub(crate) failed: u64,
    pub(crate) epoch_bumps: u64,
    pub(crate) possible_duplicates: u64,
    pub(crate) fatal: u64,
    pub(crate) faults: usize,
}

/// Runs one seed; returns what went wrong, if anything.
pub(crate) fn run(seed: u64, totals: &mut Totals) -> Result<(), String> {
    let scenario = scenario(seed);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    let (world, outcome) = runtime.block_on(simulate(seed, &scenario));
    match outcome {
        Ok(snap) => {
            totals.acked += snap.acked;
            totals.failed += snap.failed;
            totals.epoch_bumps += snap.epoch_bumps;
            totals.possible_duplicates += snap.possible_duplicates;
            totals.fatal += u64::from(snap.fatal_error.is_some());
            totals.faults += world.lock().unwrap().schedule.len();
            Ok(())
        }
        Err(problem) => {
            let world = world.lock().unwrap();
            Err(format!(
                "seed {seed} failed: {problem}\nreplay: SIM_SEED={seed} cargo test --release --test simulation\nscenario: {scenario:#?}\nschedule:\n  {}",
                world.schedule.join("\n  ")
            ))
        }
    }
}

pub(crate) async fn simulate(
    seed: u64,
    scenario: &Scenario,
) -> (Arc<Mutex<World>>, Result<StatsSnapshot, String>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    let leaders: Vec<i32> = (0..scenario.partitions)
        .map(|_| rng.random_range(0..scenario.brokers))
        .collect();
    let world = Arc::new(Mutex::new(World {
        rng: ChaCha8Rng::seed_from_u64(seed.wrapping_mul(31).wrapping_add(7)),
        faults: scenario.faults,
        brokers: scenario.brokers,
        known_leaders: leaders.clone(),
        leaders,
        connection: vec![1; scenario.brokers as usize],
        logs: vec![Vec::new(); scenario.partitions as usize],
        producers: (0..scenario.partitions).map(|_| BTreeMap::new()).collect(),
        next_batch: 0,
        next_producer_id: 1_001,
        max_batch_records: scenario.max_batch_records,
        schedule: Vec::new(),
        started: tokio::time::Instant::now(),
    }));
    let cluster = SimCluster {
        world: Arc::clone(&world),
        connections: Arc::default(),
    };
    let observer = Arc::new(Observer::default());
    let producer = Producer::with_transport(
        Arc::new(cluster),
        "sim",
        scenario.partitions,
        &scenario.settings,
        scenario
            .settings
            .enable_idempotence
            .then_some(ProducerIdAndEpoch {
                id: 1_000,
                epoch: 0,
            }),
    );
    producer.tap(observer.clone());
    let handle = producer.handle();
    let mut sent = 0u64;
    for id in 0..scenario.records {
        if rng.random_range(0..4) == 0 {
            tokio::time::sleep(Duration::from_micros(rng.random_range(0..3_000))).await;
        }
        match handle.send(id.to_string().as_bytes(), b"shoe").await {
            Ok(()) => sent += 1,
            Err(_) => break,
        }
    }
    // Every record ends within its delivery timeout; closing adds at most one request's wait.
    let bound = scenario.settings.delivery_timeout * 2 + Duration::from_secs(60);
    let snap = match tokio::time::timeout(bound, producer.close()).await {
        Ok(snap) => snap,
        Err(_) => return (world, Err(format!("the run did not end within {bound:?}"))),
    };
    let outcome = check(
        &world.lock().unwrap(),
        &observer.0.lock().unwrap(),
        &snap,
        sent,
        scenario,
    );
    (world, outcome.map(|()| snap))
}

fn seeds() -> Vec<u64> {
    if let Ok(seed) = std::env::var("SIM_SEED") {
        return vec![seed.parse().expect("SIM_SEED is a number")];
    }
    let count = std::env::var("SIM_SEEDS")
        .ok()
        .map(|n| n.parse().expect("SIM_SEEDS is a number"))
        .unwrap_or(200);
    (0..count).collect()
}

#[test]
fn the_engine_delivers_exactly_once_in_order_under_random_faults() {
    let seeds = seeds();
    let started = std::time::Instant::now();
    let mut totals = Totals::default();
    let failures: Vec<String> = seeds
        .iter()
        .filter_map(|&seed| run(seed, &mut totals).err())
        .take(3)
        .collect();
    eprintln!(
        "simulation: {} seeds in {:.1}s: {totals:?}",
        seeds.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Seeds that once failed, kept whatever `SIM_SEEDS` says: without idempotence, 178, 477 and 623
/// wrote acked records three times (each copy counted, the record once) and 2758 left failed
/// records on the log twice — the checks now read the guarantees as documented.
#[test]
fn seeds_that_once_failed() {
    let mut totals = Totals::default();
    for seed in [178, 477, 623, 2758] {
        if let Err(failure) = run(seed, &mut totals) {
            panic!("{failure}");
        }
    }
}
