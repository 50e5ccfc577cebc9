//! The batching producer engine: the heart of the product.
//!
//! rskafka speaks the protocol, and its batch producer lingers, but it has no memory bound, no
//! idempotence and one request at a time per partition. This engine does what the Java client and
//! librdkafka do, over rskafka's connection layer:
//!
//! - [`ProducerHandle::send`] picks the partition ([`partitioner`]), takes the record's bytes from
//!   the `buffer_memory` pool ([`memory`]; it waits only when the pool is empty — backpressure, never
//!   a drop) and encodes the record straight into its partition's open batch ([`accumulator`], with
//!   the record-batch format of `kafka::wire`).
//! - One sender task per partition ([`sender`]) closes batches on `linger` or `batch_size`, hands
//!   them to the sink of the leader's connection, retries retriable errors with backoff and fresh
//!   metadata until `delivery_timeout` ([`errors`]), and reports each batch once: acked with
//!   per-record latencies, or failed with a reason ([`stats`]).
//! - One sink task per broker connection ([`sink`]) sends the waiting batches of every partition
//!   that broker leads as one produce request (at most one batch per partition, up to
//!   `max_request_size`), with up to `max_in_flight` requests in flight on the connection
//!   ([`transport`], over the cluster in [`kafka_transport`]): the request count follows the
//!   broker count, not the partition count.
//! - Idempotence (the default, [`idempotence`]): a producer id and epoch from the cluster and a
//!   sequence number per partition on every batch, so the broker writes each record once and in
//!   order per partition however often a batch is retried. Without it delivery is at least once,
//!   and records retried after an unknown outcome count as possible duplicates.
//! - Every `metadata_max_age` the topic's metadata is read again: leaders are refreshed, and
//!   partitions added to the topic get a sender and records (keys then map over the new count).
//! - A non-retriable error (authorization, a deleted topic, a record larger than the topic takes)
//!   ends the run: it is recorded once in the snapshot, `send` refuses further records, and what was
//!   not sent fails at once; what is in flight still ends acked or failed.
//!
//! Panics: release builds abort on panic (`panic = "abort"`): a panic is a bug that ends the
//! process; in debug builds and tests `close` re-raises a sender's panic. The engine keeps one ledger
//! of records (the counters in [`stats`], where each record is settled exactly once) and one of
//! bytes (the memory pool).
//!
//! `acks` is `all` or `1` (fire-and-forget is refused where settings are validated); idempotence
//! always writes `all`.

mod accumulator;
mod conditions;
pub mod delivery;
pub(crate) mod errors;
mod idempotence;
mod kafka_transport;
mod memory;
pub mod partitioner;
mod sender;
mod sink;
mod stats;
mod throttling;
mod transport;

pub(crate) use crate::kafka::wire::record_batch;

/// The engine's seam to the cluster, for the simulated cluster of `tests/simulation/`; not part
/// of the product's interface.
#[doc(hidden)]
pub mod seam {
    pub use super::errors::{AttemptError, Refresh};
    pub use super::sender::BatchTap;
    pub use super::transport::{
        BoxFuture, BrokerAnswer, BrokerLink, BrokerRequest, Leader, PartitionAnswer, Transport,
    };
    pub use crate::kafka::wire::record_batch::{
        producer_state, read_records, record_count, records, ProducerState, RecordView,
    };
}

#[cfg(test)]
mod fake_transport;
#[cfg(test)]
mod sender_tests;

use std::sync::{atomic::Ordering, Arc};

use parking_lot::{Mutex, RwLock};
use tokio::{task::JoinHandle, time::Instant};

use crate::{
    kafka::{Kafka, KafkaError, ProducerIdAndEpoch},
    producer::delivery::{Distribution, StatsSnapshot},
    settings::{Acks, ProducerSettings},
    support::backoff::{retry_until, Attempt, Backoff, GaveUp},
};
use accumulator::{record_charge, PartitionQueue};
use idempotence::Identity;
use partitioner::Partitioner;
use sender::Shared;
use transport::Transport;

/// Why `send` did not take a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// `send` after `close`.
    #[error("the producer is closed")]
    Closed,
    /// The run met a non-retriable error (the message says which and what to do).
    #[error("{0}")]
    Fatal(String),
}

/// A running engine for one topic. Call [`close`](Self::close) to deliver what is buffered and stop
/// its tasks.
#[derive(Debug)]
pub struct Producer {
    shared: Arc<Shared>,
    metadata_refresh: JoinHandle<()>,
}

/// A cheap, cloneable way to send records to a [`Producer`].
#[derive(Debug, Clone)]
pub struct ProducerHandle {
    shared: Arc<Shared>,
}

impl Producer {
    /// Starts the engine for `topic` on the cluster behind `kafka`: reads the partition count and,
    /// with idempotence, gets a producer id (a refusal ends here, with what to do about it). Nothing
    /// else connects until records flow.
    pub async fn start(
        kafka: &Kafka,
        topic: &str,
        settings: &ProducerSettings,
    ) -> Result<Self, KafkaError> {
        let partitions = partition_count(kafka, topic).await?;
        tracing::info!(topic, partitions, "topic found");
        let identity = if settings.enable_idempotence {
            let identity = kafka.init_producer_id().await?;
            tracing::info!(
                producer_id = identity.id,
                epoch = identity.epoch,
                "idempotent producer: each record is written once and in order per partition"
            );
            Some(identity)
        } else {
            tracing::info!(
                "idempotence off: records retried after an unknown outcome may be written twice"
            );
            None
        };
        let transport = kafka_transport::KafkaTransport::new(kafka, topic, acks(settings));
        Ok(Self::with_transport(
            Arc::new(transport),
            topic,
            partitions,
            settings,
            identity,
        ))
    }

    /// Starts the engine over any transport (a fake or simulated cluster in tests).
    #[doc(hidden)]
    pub fn with_transport(
        transport: Arc<dyn Transport>,
        topic: &str,
        partitions: i32,
        settings: &ProducerSettings,
        identity: Option<ProducerIdAndEpoch>,
    ) -> Self {
        let settings = settings.clone();
        let stats = Arc::new(stats::Stats::new());
        let shared = Arc::new(Shared {
            topic: Arc::from(topic),
            sinks: sink::Sinks::new(
                sink::SinkLimits {
                    max_in_flight: settings.max_in_flight.get(),
                    max_request_size: settings.max_request_size.get(),
                    request_timeout: settings.request_timeout,
                    topic_len: topic.len(),
                },
                Arc::clone(&stats),
            ),
            transport,
            stats,
            conditions: Default::default(),
            memory: memory::MemoryPool::new(settings.buffer_memory.get()),
            partitioner: Partitioner::new(settings.partitioner),
            partitions: RwLock::new(Vec::new()),
            senders: Mutex::new(Vec::new()),
            closing: Default::default(),
            identity: identity.map(Identity::new),
            split_advised: Default::default(),
            tap: Default::default(),
            settings,
        });
        add_partitions(&shared, usize::try_from(partitions.max(1)).unwrap_or(1));
        let metadata_refresh = tokio::spawn(refresh_metadata(Arc::clone(&shared)));
        Self {
            shared,
            metadata_refresh,
        }
    }

    /// Tells `tap` of every batch's end from now on (a test seam; once per producer).
    #[doc(hidden)]
    pub fn tap(&self, tap: Arc<dyn seam::BatchTap>) {
        let _ = self.shared.tap.set(tap);
    }

    pub fn handle(&self) -> ProducerHandle {
        ProducerHandle {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Sends what is buffered, waits until every record is acked or failed, stops the senders and
    /// returns the final counters. Later `send`s fail.
    pub async fn close(self) -> StatsSnapshot {
        self.metadata_refresh.abort();
        let _ = self.metadata_refresh.await;
        self.shared.closing.store(true, Ordering::Release);
        for queue in self.shared.partitions.read().iter() {
            queue.wake.notify_one();
        }
        let senders = std::mem::take(&mut *self.shared.senders.lock());
        for sender in senders {
            if let Err(error) = sender.await {
                if error.is_panic() {
                    std::panic::resume_unwind(error.into_panic());
                }
            }
        }
        self.shared.sinks.close();
        self.shared.sinks.report_end();
        for line in self.shared.conditions.close(Instant::now()) {
            line.log(&self.shared.topic);
        }
        self.shared.memory.close();
        snapshot(&self.shared)
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        snapshot(&self.shared)
    }
}

impl ProducerHandle {
    /// Enqueues one record. Waits only while `buffer_memory` is full; never drops the record.
    /// Its outcome arrives later in the snapshot's counters.
    pub async fn send(&self, key: &[u8], value: &[u8]) -> Result<(), SendError> {
        let shared = &*self.shared;
        let reserved = shared
            .memory
            .acquire(record_charge(key, value))
            .await
            .map_err(|_| SendError::Closed)?;
        let refused = if shared.closing.load(Ordering::Relaxed) {
            Some(SendError::Closed)
        } else {
            shared
                .stats
                .fatal_error()
                .map(|message| SendError::Fatal(message.to_owned()))
        };
        if let Some(refused) = refused {
            shared.memory.release(reserved);
            return Err(refused);
        }
        let partitions = shared.partitions.read();
        let partition = shared.partitioner.partition(key, partitions.len());
        // Counted before it is visible to the sender, so `sent` never trails `acked + failed`.
        shared.stats.record_sent();
        match partitions[partition].append(key, value, reserved, Instant::now()) {
            Ok(()) => Ok(()),
            Err(_) => {
                shared.stats.unsend();
                shared.memory.release(reserved);
                Err(SendError::Closed)
            }
        }
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        snapshot(&self.shared)
    }

    /// The ack latencies (µs) of the records acknowledged since the previous call; the next
    /// interval starts now.
    pub fn end_interval(&self) -> Distribution {
        self.shared.stats.end_interval()
    }
}

/// The topic's partition count. A topic created a moment before may be missing from a broker's
/// first answer: it is asked for again, up to the connect timeout (as the Java producer waits up
/// to `max.block.ms` for a topic's metadata), before the run fails.
async fn partition_count(kafka: &Kafka, topic: &str) -> Result<i32, KafkaError> {
    let deadline = Instant::now() + kafka.connect_timeout();
    let counted = retry_until(TOPIC_BACKOFF, deadline, "topic lookup", |_| async {
        match kafka.partition_count(topic).await {
            Ok(count) => Attempt::Done(count),
            Err(missing @ KafkaError::TopicMissing { .. }) => Attempt::Retry(missing.to_string()),
            Err(error) => Attempt::Fatal(error),
        }
    })
    .await;
    match counted {
        Ok(count) => Ok(count),
        Err(GaveUp::Fatal(error)) => Err(error),
        Err(GaveUp::Deadline(_)) => Err(KafkaError::TopicMissing {
            topic: topic.to_owned(),
        }),
    }
}

/// Pauses between asking for a topic that is not in the metadata yet.
const TOPIC_BACKOFF: Backoff = Backoff::new(
    std::time::Duration::from_millis(50),
    std::time::Duration::from_secs(1),
);

/// The `acks` value written in produce requests.
fn acks(settings: &ProducerSettings) -> i16 {
    if settings.enable_idempotence {
        return -1;
    }
    match settings.acks {
        Acks::All => -1,
        Acks::Leader => 1,
    }
}

/// Gives partitions up to `count` a queue and a sender, then lets `send` use them.
fn add_partitions(shared: &Arc<Shared>, count: usize) {
    if shared.closing.load(Ordering::Acquire) {
        return;
    }
    let mut partitions = shared.partitions.write();
    let before = partitions.len();
    if count <= before {
        return;
    }
    let mut senders = shared.senders.lock();
    for partition in before..count {
        let queue = Arc::new(PartitionQueue::new(shared.settings.batch_size.get()));
        partitions.push(Arc::clone(&queue));
        let id = i32::try_from(partition).expect("partition ids fit in i32");
        senders.push(sender::spawn(shared, id, queue));
    }
    if before > 0 {
        tracing::info!(
            topic = %shared.topic,
            from = before,
            to = count,
            "partitions were added to the topic; sending to them too"
        );
    }
}

/// Re-reads the topic's metadata every `metadata_max_age` (as the Java client's
/// `metadata.max.age.ms`), so partitions added during a run are used and leaders stay current
/// without waiting for an error.
async fn refresh_metadata(shared: Arc<Shared>) {
    let every = shared.settings.metadata_max_age;
    let Some(first) = Instant::now()
        .checked_add(every)
        .filter(|_| !every.is_zero())
    else {
        return;
    };
    let mut ticks = tokio::time::interval_at(first, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match shared.transport.partition_count().await {
            Ok(count) => add_partitions(&shared, usize::try_from(count).unwrap_or(0)),
            Err(error) => {
                tracing::debug!(topic = %shared.topic, %error, "metadata refresh failed; will try again")
            }
        }
    }
}

fn snapshot(shared: &Shared) -> StatsSnapshot {
    shared.stats.snapshot(
        shared.memory.in_use() as u64,
        shared.identity.as_ref().map(Identity::current),
    )
}
