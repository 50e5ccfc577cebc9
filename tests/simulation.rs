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
//! in send order;
//! every record ended acked or failed, with a reason; the run ended within a bound; the counters add
//! up.
//!
//! `cargo test --release --test simulation`; `SIM_SEEDS=N` runs seeds 0..N (200 by default),
//! `SIM_SEED=S` replays one. A failure prints the seed, its settings and the fault schedule.
//! The anchors: FoundationDB's simulation testing, TigerBeetle's VOPR, franz-go's `kfake`.

use std::{
    collections::{BTreeMap, VecDeque},
    num::NonZeroUsize,
    sync::{Arc, Mutex},
    time::Duration,
};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rskafka::client::error::ProtocolError;
use shoe_producer::{
    kafka::{KafkaError, ProducerIdAndEpoch},
    producer::{
        delivery::StatsSnapshot,
        partitioner::java_partition_for_key,
        seam::{
            producer_state, read_records, record_count, records, AttemptError, BatchTap, BoxFuture,
            BrokerAnswer, BrokerLink, BrokerRequest, Leader, PartitionAnswer, Refresh, Transport,
        },
        Producer,
    },
    settings::{Acks, Compression, PartitionerKind, ProducerSettings},
};
use tokio::sync::{mpsc, oneshot};

/// Per mille chances of each fault, drawn per seed (a seed is calm, stormy or in between).
#[derive(Debug, Clone, Copy)]
struct Faults {
    move_leader: u32,
    drop_before: u32,
    drop_after: u32,
    lose_answer: u32,
    delay_answer: u32,
    throttle: u32,
    timed_out_after_append: u32,
    not_enough_replicas: u32,
    not_enough_after_append: u32,
    unknown_producer: u32,
    failed_lookup: u32,
}

impl Faults {
    fn draw(rng: &mut ChaCha8Rng) -> Self {
        let storm = rng.random_range(0..=3u32);
        let mut p = |max: u32| rng.random_range(0..=max * storm);
        Self {
            move_leader: p(20),
            drop_before: p(10),
            drop_after: p(10),
            lose_answer: p(4),
            delay_answer: p(20),
            throttle: p(10),
            timed_out_after_append: p(10),
            not_enough_replicas: p(10),
            not_enough_after_append: p(10),
            unknown_producer: p(5),
            failed_lookup: p(20),
        }
    }
}

/// What a broker remembers of one producer on one partition.
#[derive(Debug)]
struct ProducerEntry {
    epoch: i16,
    last_sequence: i32,
    /// The last five batches: first and last sequence, base offset.
    recent: VecDeque<(i32, i32, i64)>,
}

/// One record on a partition's log: its key (the record id) and the batch it came in.
#[derive(Debug, Clone, Copy)]
struct Entry {
    key: u64,
    batch: u64,
}

#[derive(Debug)]
struct World {
    rng: ChaCha8Rng,
    faults: Faults,
    brokers: i32,
    /// The true leader of each partition.
    leaders: Vec<i32>,
    /// The leader the client's metadata names, until it asks again.
    known_leaders: Vec<i32>,
    /// The live connection of each broker; a dropped connection gets a new number.
    connection: Vec<u64>,
    logs: Vec<Vec<Entry>>,
    producers: Vec<BTreeMap<i64, ProducerEntry>>,
    next_batch: u64,
    next_producer_id: i64,
    /// Batches of more records than this are `MESSAGE_TOO_LARGE`.
    max_batch_records: u32,
    schedule: Vec<String>,
    started: tokio::time::Instant,
}

impl World {
    fn chance(&mut self, per_mille: u32) -> bool {
        per_mille > 0 && self.rng.random_range(0..1000) < per_mille
    }

    fn note(&mut self, event: String) {
        if self.schedule.len() < 400 {
            let at = self.started.elapsed().as_secs_f64();
            self.schedule.push(format!("{at:>9.3}s {event}"));
        }
    }

    fn maybe_move_leader(&mut self) {
        if self.brokers > 1 && self.chance(self.faults.move_leader) {
            let partition = self.rng.random_range(0..self.leaders.len());
            let broker = self.rng.random_range(0..self.brokers);
            self.leaders[partition] = broker;
            self.note(format!("partition {partition} leader -> broker {broker}"));
        }
    }

    fn drop_connection(&mut self, broker: i32) {
        self.connection[broker as usize] += 1;
        self.note(format!("broker {broker} connection dropped"));
    }

    /// Handles one partition's batch as its broker would.
    fn append(&mut self, broker: i32, partition: i32, batch: &[u8]) -> PartitionAnswer {
        let answer = |error: Option<ProtocolError>, base_offset: i64| PartitionAnswer {
            error,
            base_offset,
            throttle: None,
        };
        let p = partition as usize;
        if self.leaders[p] != broker {
            return answer(Some(ProtocolError::NotLeaderOrFollower), -1);
        }
        if self.chance(self.faults.not_enough_replicas) {
            return answer(Some(ProtocolError::NotEnoughReplicas), -1);
        }
        let state = producer_state(batch);
        let idempotent = state.producer_id >= 0;
        if idempotent && self.chance(self.faults.unknown_producer) {
            return answer(Some(ProtocolError::UnknownProducerId), -1);
        }
        let count = record_count(batch);
        if count > self.max_batch_records {
            return answer(Some(ProtocolError::MessageTooLarge), -1);
        }
        let first = state.base_sequence;
        let last = sequence_after(first, count - 1);
        let entry = self.producers[p].get(&state.producer_id);
        if let Some(entry) = entry.filter(|_| idempotent) {
            if state.epoch < entry.epoch {
                return answer(Some(ProtocolError::InvalidProducerEpoch), -1);
            }
            if state.epoch == entry.epoch {
                if let Some(&(_, _, offset)) = entry
                    .recent
                    .iter()
                    .find(|(f, l, _)| (*f, *l) == (first, last))
                {
                    return answer(None, offset);
                }
                if first != sequence_after(entry.last_sequence, 1) {
                    return answer(Some(ProtocolError::OutOfOrderSequenceNumber), -1);
                }
            } else if first != 0 {
                return answer(Some(ProtocolError::OutOfOrderSequenceNumber), -1);
            }
        }
        let base_offset = self.logs[p].len() as i64;
        let id = self.next_batch;
        self.next_batch += 1;
        let bytes = records(batch).expect("a readable batch");
        for record in read_records(&bytes) {
            let key = record.expect("a well-formed record").key;
            let key = std::str::from_utf8(key).unwrap().parse().unwrap();
            self.logs[p].push(Entry { key, batch: id });
        }
        if !idempotent {
            return self.answer_appended(base_offset);
        }
        let entry = self.producers[p]
            .entry(state.producer_id)
            .or_insert(ProducerEntry {
                epoch: state.epoch,
                last_sequence: -1,
                recent: VecDeque::new(),
            });
        if entry.epoch != state.epoch {
            entry.epoch = state.epoch;
            entry.recent.clear();
        }
        entry.last_sequence = last;
        entry.recent.push_back((first, last, base_offset));
        if entry.recent.len() > 5 {
            entry.recent.pop_front();
        }
        self.answer_appended(base_offset)
    }

    /// The answer for a batch just appended at `base_offset`: an ack, or an error after the append.
    fn answer_appended(&mut self, base_offset: i64) -> PartitionAnswer {
        let (error, base_offset) = if self.chance(self.faults.timed_out_after_append) {
            (Some(ProtocolError::RequestTimedOut), -1)
        } else if self.chance(self.faults.not_enough_after_append) {
            (Some(ProtocolError::NotEnoughReplicasAfterAppend), -1)
        } else {
            (None, base_offset)
        };
        PartitionAnswer {
            error,
            base_offset,
            throttle: None,
        }
    }
}

fn sequence_after(sequence: i32, n: u32) -> i32 {
    ((i64::from(sequence) + i64::from(n)) % (i64::from(i32::MAX) + 1)) as i32
}

struct Job {
    request: BrokerRequest,
    reply: oneshot::Sender<Result<BrokerAnswer, AttemptError>>,
}

/// The request queue of each live connection, by broker and connection number.
type Connections = BTreeMap<(i32, u64), mpsc::UnboundedSender<Job>>;

#[derive(Debug, Clone)]
struct SimCluster {
    world: Arc<Mutex<World>>,
    connections: Arc<Mutex<Connections>>,
}

struct SimLink {
    cluster: SimCluster,
    broker: i32,
    connection: u64,
}

impl BrokerLink for SimLink {
    fn address(&self) -> &str {
        "simulated:9092"
    }

    fn produce(
        &self,
        request: BrokerRequest,
    ) -> BoxFuture<'static, Result<BrokerAnswer, AttemptError>> {
        let (reply, answer) = oneshot::channel();
        let key = (self.broker, self.connection);
        let mut connections = self.cluster.connections.lock().unwrap();
        let queue = connections.entry(key).or_insert_with(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(serve(
                self.cluster.clone(),
                self.broker,
                self.connection,
                rx,
            ));
            tx
        });
        let _ = queue.send(Job { request, reply });
        Box::pin(async move {
            match answer.await {
                Ok(result) => result,
                // No answer ever: the engine's request timeout ends the wait.
                Err(_) => std::future::pending().await,
            }
        })
    }
}

fn lost() -> AttemptError {
    let io = rskafka::messenger::RequestError::IO(std::io::ErrorKind::ConnectionReset.into());
    AttemptError::from_request(&io)
}

/// One connection of one broker: its requests handled in order.
async fn serve(
    cluster: SimCluster,
    broker: i32,
    connection: u64,
    mut jobs: mpsc::UnboundedReceiver<Job>,
) {
    while let Some(job) = jobs.recv().await {
        let pause = {
            let mut world = cluster.world.lock().unwrap();
            Duration::from_micros(world.rng.random_range(100..3_000))
        };
        tokio::time::sleep(pause).await;
        let mut world = cluster.world.lock().unwrap();
        let faults = world.faults;
        if world.connection[broker as usize] != connection {
            let _ = job.reply.send(Err(lost()));
            continue;
        }
        if world.chance(faults.drop_before) {
            world.drop_connection(broker);
            let _ = job.reply.send(Err(lost()));
            continue;
        }
        let mut answers: BrokerAnswer = job
            .request
            .batches
            .iter()
            .map(|(partition, batch)| (*partition, world.append(broker, *partition, batch)))
            .collect();
        world.maybe_move_leader();
        if world.chance(faults.drop_after) {
            world.drop_connection(broker);
            let _ = job.reply.send(Err(lost()));
            continue;
        }
        if world.chance(faults.lose_answer) {
            world.note(format!("broker {broker} lost an answer"));
            continue;
        }
        if world.chance(faults.throttle) {
            let throttle = Duration::from_millis(world.rng.random_range(1..500));
            for (_, answer) in &mut answers {
                answer.throttle = Some(throttle);
            }
        }
        let delay = if world.chance(faults.delay_answer) {
            Duration::from_millis(world.rng.random_range(1..8_000))
        } else {
            Duration::ZERO
        };
        drop(world);
        if delay.is_zero() {
            let _ = job.reply.send(Ok(answers));
        } else {
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                let _ = job.reply.send(Ok(answers));
            });
        }
    }
}

impl std::fmt::Debug for SimLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SimLink({}, {})", self.broker, self.connection)
    }
}

impl Transport for SimCluster {
    fn leader(&self, partition: i32) -> BoxFuture<'_, Result<Leader, AttemptError>> {
        let result = {
            let mut world = self.world.lock().unwrap();
            let faults = world.faults;
            if world.chance(faults.failed_lookup) {
                world.note(format!("leader lookup of partition {partition} failed"));
                Err(AttemptError::no_leader("simulated: no metadata"))
            } else {
                let broker = world.known_leaders[partition as usize];
                Ok((broker, world.connection[broker as usize]))
            }
        };
        let cluster = self.clone();
        Box::pin(async move {
            let (broker, connection) = result?;
            Ok(Leader {
                broker,
                connection,
                link: Arc::new(SimLink {
                    cluster,
                    broker,
                    connection,
                }),
            })
        })
    }

    fn invalidate<'a>(
        &'a self,
        partition: i32,
        failed: Option<&'a Leader>,
        refresh: Refresh,
    ) -> BoxFuture<'a, ()> {
        let mut world = self.world.lock().unwrap();
        if refresh != Refresh::Nothing {
            let p = partition as usize;
            world.known_leaders[p] = world.leaders[p];
        }
        if let (Refresh::Connection, Some(leader)) = (refresh, failed) {
            if world.connection[leader.broker as usize] == leader.connection {
                world.drop_connection(leader.broker);
            }
        }
        Box::pin(async {})
    }

    fn partition_count(&self) -> BoxFuture<'_, Result<i32, AttemptError>> {
        let count = self.world.lock().unwrap().leaders.len() as i32;
        Box::pin(async move { Ok(count) })
    }

    fn init_producer_id(&self) -> BoxFuture<'_, Result<ProducerIdAndEpoch, KafkaError>> {
        let mut world = self.world.lock().unwrap();
        let id = world.next_producer_id;
        world.next_producer_id += 1;
        Box::pin(async move { Ok(ProducerIdAndEpoch { id, epoch: 0 }) })
    }
}

/// What the engine reported, batch by batch.
#[derive(Debug, Default)]
struct Reports {
    acked: Vec<(i32, i64, usize)>,
    failed: Vec<(i32, u64, String)>,
}

#[derive(Debug, Default)]
struct Observer(Mutex<Reports>);

impl BatchTap for Observer {
    fn acked(&self, partition: i32, base_offset: i64, records: u32) {
        self.0
            .lock()
            .unwrap()
            .acked
            .push((partition, base_offset, records as usize));
    }
    fn failed(&self, partition: i32, records: u32, reason: &str) {
        self.0
            .lock()
            .unwrap()
            .failed
            .push((partition, u64::from(records), reason.to_owned()));
    }
}

/// One seed's settings.
#[derive(Debug, Clone)]
struct Scenario {
    partitions: i32,
    brokers: i32,
    records: u64,
    settings: ProducerSettings,
    faults: Faults,
    max_batch_records: u32,
}

fn scenario(seed: u64) -> Scenario {
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
struct Totals {
    acked: u64,
    failed: u64,
    epoch_bumps: u64,
    possible_duplicates: u64,
    fatal: u64,
    faults: usize,
}

/// Runs one seed; returns what went wrong, if anything.
fn run(seed: u64, totals: &mut Totals) -> Result<(), String> {
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

async fn simulate(
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

fn check(
    world: &World,
    reports: &Reports,
    snap: &StatsSnapshot,
    sent: u64,
    scenario: &Scenario,
) -> Result<(), String> {
    let fail = |what: String| Err(format!("{what}\nsnapshot: {snap:#?}"));
    if snap.sent != sent || snap.acked + snap.failed != sent || snap.in_flight_records != 0 {
        return fail(format!("records unaccounted for: sent {sent}"));
    }
    if snap.buffered_bytes != 0 || snap.requests_in_flight != 0 {
        return fail("memory or requests left over after close".to_owned());
    }
    let reported_failed: u64 = reports.failed.iter().map(|(_, n, _)| n).sum();
    let by_reason: u64 = snap.failed_by_reason.iter().map(|(_, n)| n).sum();
    if reported_failed != snap.failed || by_reason != snap.failed {
        return fail(format!(
            "failures do not add up: observer {reported_failed}, by reason {by_reason}"
        ));
    }
    if let Some((_, _, reason)) = reports.failed.iter().find(|(_, _, r)| r.is_empty()) {
        return fail(format!("a failure without a reason: {reason:?}"));
    }
    // Each ack names a batch on the log: its records, acked once.
    let mut acked = vec![0u32; sent as usize];
    let mut acked_records = 0u64;
    for &(partition, base_offset, n) in &reports.acked {
        let log = &world.logs[partition as usize];
        let start = usize::try_from(base_offset)
            .map_err(|_| format!("partition {partition}: an ack without an offset"))?;
        let Some(batch) = log.get(start..start + n) else {
            return fail(format!(
                "partition {partition}: ack of {n} records at offset {base_offset} beyond the log ({})",
                log.len()
            ));
        };
        if batch.iter().any(|e| e.batch != batch[0].batch)
            || (start > 0 && log[start - 1].batch == batch[0].batch)
            || log
                .get(start + n)
                .is_some_and(|e| e.batch == batch[0].batch)
        {
            return fail(format!(
                "partition {partition}: ack of {n} records at offset {base_offset} is not one batch"
            ));
        }
        for entry in batch {
            if java_partition_for_key(entry.key.to_string().as_bytes(), scenario.partitions)
                != partition
            {
                return fail(format!("record {} on the wrong partition", entry.key));
            }
            acked[entry.key as usize] += 1;
        }
        acked_records += n as u64;
    }
    if acked_records != snap.acked {
        return fail(format!(
            "acks reported {acked_records} records, the snapshot {}",
            snap.acked
        ));
    }
    let acked_twice: u64 = acked.iter().map(|&n| u64::from(n.saturating_sub(1))).sum();
    let distinct_acked = acked.iter().filter(|&&n| n > 0).count() as u64;
    if distinct_acked + snap.failed + acked_twice != sent {
        return fail(format!(
            "{distinct_acked} distinct records acked, {} failed, of {sent}",
            snap.failed
        ));
    }
    // The logs: each record once (a second copy only where a possible duplicate was counted), and
    // each partition's records in send order.
    let mut copies = vec![0u32; sent as usize];
    for (partition, log) in world.logs.iter().enumerate() {
        let mut last = None;
        for entry in log {
            let key = entry.key as usize;
            copies[key] += 1;
            if copies[key] == 1 {
                if last.is_some_and(|last| last > entry.key) {
                    return fail(format!(
                        "partition {partition}: record {} after record {}",
                        entry.key,
                        last.unwrap()
                    ));
                }
                last = Some(entry.key);
            }
        }
    }
    // An acked record may be written more than once only if it was counted (once) as a possible
    // duplicate; without idempotence each retry after an unknown outcome may add a copy.
    // (A failed record's outcome is unknown: it may be on the log, even twice.)
    let duplicates = (0..sent as usize)
        .filter(|&k| acked[k] > 0 && copies[k] > 1)
        .count() as u64;
    if duplicates > snap.possible_duplicates || acked_twice > snap.possible_duplicates {
        return fail(format!(
            "{duplicates} records on the log more than once, {acked_twice} records acked twice, {} counted as possible duplicates",
            snap.possible_duplicates
        ));
    }
    if let Some(key) = (0..sent as usize).find(|&k| acked[k] > 0 && copies[k] == 0) {
        return fail(format!("record {key} acked but not on the log"));
    }
    Ok(())
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
