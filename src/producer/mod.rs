//! The batching producer engine: the heart of the product.
//!
//! rskafka speaks the protocol; it has no record buffering, linger or memory bound. This engine adds
//! them the way the Java client and librdkafka do, over rskafka's connection layer:
//!
//! - [`ProducerHandle::send`] picks the partition ([`partitioner`]), takes the record's bytes from
//!   the `buffer_memory` pool ([`memory`]; it waits only when the pool is empty — backpressure, never
//!   a drop) and encodes the record straight into its partition's open batch ([`accumulator`],
//!   [`record_batch`]).
//! - One sender task per partition ([`sender`]) closes batches on `linger` or `batch_size`, keeps up
//!   to `max_in_flight` produce requests pipelined on the leader's connection ([`cluster`]), retries
//!   retriable errors with backoff and fresh metadata until `delivery_timeout` ([`errors`]), and
//!   reports each batch once: acked with per-record latencies, or failed with a reason ([`stats`]).
//!
//! Delivery is at least once: batches carry no producer id (producer id −1, as rskafka writes too:
//! no idempotence), so a batch retried after an unknown outcome can be written twice; such records
//! are counted in `possible_duplicates`. See [`sender`] for ordering under retries. `acks` is
//! honoured for `all` and `1`; `0` runs as `1` (rskafka's connection waits for every answer).

mod accumulator;
mod cluster;
pub mod errors;
pub mod memory;
pub mod partitioner;
pub mod record_batch;
mod request;
mod sender;
mod stats;

use std::sync::{
    atomic::{AtomicBool, AtomicUsize, Ordering},
    Arc,
};

use tokio::{task::JoinHandle, time::Instant};

use crate::{
    delivery::{DeliveryObserver, StatsSnapshot},
    kafka::Connector,
    settings::{Acks, ProducerSettings},
};
use accumulator::{max_record_charge, PartitionQueue};
use partitioner::Partitioner;
use sender::Shared;

/// `send` after `close`: the record was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the producer is closed")]
pub struct ProducerClosed;

/// Settings the engine cannot run with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProducerError {
    #[error("the topic must have at least one partition (got {0})")]
    NoPartitions(i32),
    #[error("--max-in-flight must be at least 1")]
    NoInFlight,
    #[error("--batch-size must be at least 1 byte")]
    NoBatchSize,
    #[error("--buffer-memory must be at least 1 byte")]
    NoBufferMemory,
}

/// A running engine for one topic. Dropping it without [`close`](Self::close) abandons buffered
/// records; call `close` to deliver them.
#[derive(Debug)]
pub struct Producer {
    shared: Arc<Shared>,
    partitioner: Arc<Partitioner>,
    senders: Vec<JoinHandle<()>>,
}

/// A cheap, cloneable way to send records to a [`Producer`].
#[derive(Debug, Clone)]
pub struct ProducerHandle {
    shared: Arc<Shared>,
    partitioner: Arc<Partitioner>,
}

impl Producer {
    /// Starts the engine for `topic` (with `partitions` partitions) over connections made by
    /// `connector`. Must be called inside a Tokio runtime; nothing connects until records flow.
    pub fn start(
        connector: Arc<Connector>,
        topic: &str,
        partitions: i32,
        settings: &ProducerSettings,
        observers: Vec<Arc<dyn DeliveryObserver>>,
    ) -> Result<Self, ProducerError> {
        if partitions < 1 {
            return Err(ProducerError::NoPartitions(partitions));
        }
        if settings.max_in_flight == 0 {
            return Err(ProducerError::NoInFlight);
        }
        if settings.batch_size == 0 {
            return Err(ProducerError::NoBatchSize);
        }
        if settings.buffer_memory == 0 {
            return Err(ProducerError::NoBufferMemory);
        }
        let acks = match settings.acks {
            Acks::All => -1,
            Acks::Leader => 1,
            Acks::None => {
                tracing::warn!(
                    "--acks 0 is not supported (the connection layer waits for every answer); \
                     using --acks 1: records count as delivered once the leader has them"
                );
                1
            }
        };
        let shared = Arc::new(Shared {
            topic: Arc::from(topic),
            settings: settings.clone(),
            acks,
            cluster: cluster::Cluster::new(connector, topic),
            stats: stats::Stats::new(observers),
            memory: memory::MemoryPool::new(settings.buffer_memory),
            queues: (0..partitions)
                .map(|_| PartitionQueue::new(settings.batch_size))
                .collect(),
            flushing: AtomicUsize::new(0),
            closing: AtomicBool::new(false),
        });
        let senders = (0..partitions)
            .map(|p| tokio::spawn(sender::run(Arc::clone(&shared), p)))
            .collect();
        Ok(Self {
            shared,
            partitioner: Arc::new(Partitioner::new(settings.partitioner, partitions)),
            senders,
        })
    }

    pub fn handle(&self) -> ProducerHandle {
        ProducerHandle {
            shared: Arc::clone(&self.shared),
            partitioner: Arc::clone(&self.partitioner),
        }
    }

    /// Sends buffered batches now and waits until every record sent so far is acked or failed.
    pub async fn flush(&self) {
        flush(&self.shared).await;
    }

    /// Flushes, stops the senders and returns the final counters. Later `send`s fail.
    pub async fn close(self) -> StatsSnapshot {
        self.shared.closing.store(true, Ordering::Release);
        for queue in &self.shared.queues {
            queue.wake.notify_one();
        }
        for sender in self.senders {
            if let Err(e) = sender.await {
                tracing::error!(error = %e, "a partition sender stopped abnormally");
            }
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
    /// Its outcome arrives later through the observers and the counters.
    pub async fn send(&self, key: &[u8], value: &[u8]) -> Result<(), ProducerClosed> {
        let shared = &*self.shared;
        if shared.closing.load(Ordering::Relaxed) {
            return Err(ProducerClosed);
        }
        let reserved = shared
            .memory
            .acquire(max_record_charge(key, value))
            .await
            .map_err(|_| ProducerClosed)?;
        let partition = self.partitioner.partition(key) as usize;
        // Counted before it is visible to the sender, so `sent` never trails `acked + failed`.
        shared.stats.record_sent();
        match shared.queues[partition].append(key, value, reserved, Instant::now()) {
            Ok(unused) => {
                shared.memory.release(unused);
                Ok(())
            }
            Err(_) => {
                shared.stats.unsend();
                shared.memory.release(reserved);
                Err(ProducerClosed)
            }
        }
    }

    /// The partition `send` would pick for `key` (deterministic for the murmur2 partitioner).
    pub fn partition_for(&self, key: &[u8]) -> i32 {
        self.partitioner.partition(key)
    }

    /// See [`Producer::flush`].
    pub async fn flush(&self) {
        flush(&self.shared).await;
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        snapshot(&self.shared)
    }
}

async fn flush(shared: &Shared) {
    shared.flushing.fetch_add(1, Ordering::AcqRel);
    for queue in &shared.queues {
        queue.wake.notify_one();
    }
    loop {
        let settled = shared.stats.settled();
        if shared.stats.unsettled() == 0 {
            break;
        }
        settled.await;
    }
    shared.flushing.fetch_sub(1, Ordering::AcqRel);
}

fn snapshot(shared: &Shared) -> StatsSnapshot {
    shared.stats.snapshot(shared.memory.in_use() as u64)
}
