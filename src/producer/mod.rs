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
//!   to `max_in_flight` produce requests pipelined on the leader's connection ([`transport`], over
//!   the cluster in [`kafka_transport`]), retries retriable errors with backoff and fresh metadata
//!   until `delivery_timeout` ([`errors`]), and reports each batch once: acked with per-record
//!   latencies, or failed with a reason ([`stats`]).
//!
//! Delivery is at least once: batches carry no producer id (producer id −1, as rskafka writes too:
//! no idempotence), so a batch retried after an unknown outcome can be written twice; such records
//! are counted in `possible_duplicates`. See [`sender`] for ordering under retries. `acks` is
//! honoured for `all` and `1`; `0` runs as `1` (rskafka's connection waits for every answer).
//!
//! Panics: release builds abort on panic (`panic = "abort"`), so the engine keeps no machinery to
//! survive one — no supervisor task, no unwinding guard around observers, no second book of
//! records to fail after a sender died. A panic is a bug that ends the process; in debug builds and
//! tests `close` re-raises a sender's panic. That leaves one ledger of records (the counters in
//! [`stats`], where each record is settled exactly once) and one of bytes (the memory pool).

mod accumulator;
pub mod delivery;
pub(crate) mod errors;
mod kafka_transport;
mod memory;
pub mod partitioner;
pub(crate) mod record_batch;
mod request;
mod sender;
mod stats;
mod transport;

#[cfg(test)]
mod fake_transport;
#[cfg(test)]
mod sender_tests;

use std::sync::{atomic::Ordering, Arc};

use tokio::{task::JoinHandle, time::Instant};

use crate::{
    app::settings::{Acks, ProducerSettings},
    kafka::{Kafka, KafkaError},
    producer::delivery::{DeliveryObserver, StatsSnapshot},
};
use accumulator::{record_charge, PartitionQueue};
use partitioner::Partitioner;
use sender::Shared;
use transport::Transport;

/// `send` after `close`: the record was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the producer is closed")]
pub struct ProducerClosed;

/// A running engine for one topic. Call [`close`](Self::close) to deliver what is buffered and stop
/// its tasks.
#[derive(Debug)]
pub struct Producer {
    shared: Arc<Shared>,
    senders: Vec<JoinHandle<()>>,
}

/// A cheap, cloneable way to send records to a [`Producer`].
#[derive(Debug, Clone)]
pub struct ProducerHandle {
    shared: Arc<Shared>,
}

impl Producer {
    /// Starts the engine for `topic` on the cluster behind `kafka` (its partition count is read
    /// here). Nothing else connects until records flow.
    pub async fn start(
        kafka: &Kafka,
        topic: &str,
        settings: &ProducerSettings,
        observers: Vec<Arc<dyn DeliveryObserver>>,
    ) -> Result<Self, KafkaError> {
        let partitions = kafka.partition_count(topic).await?;
        tracing::info!(topic, partitions, "topic found");
        let transport = kafka_transport::KafkaTransport::new(kafka, topic, acks(settings));
        Ok(Self::with_transport(
            Arc::new(transport),
            topic,
            partitions,
            settings,
            observers,
        ))
    }

    /// Starts the engine over any transport (the fake one in unit tests).
    fn with_transport(
        transport: Arc<dyn Transport>,
        topic: &str,
        partitions: i32,
        settings: &ProducerSettings,
        observers: Vec<Arc<dyn DeliveryObserver>>,
    ) -> Self {
        let mut settings = settings.clone();
        settings.max_in_flight = settings.max_in_flight.max(1);
        settings.batch_size = settings.batch_size.max(1);
        let queues = (0..partitions.max(1))
            .map(|_| Arc::new(PartitionQueue::new(settings.batch_size)))
            .collect();
        let shared = Arc::new(Shared {
            topic: Arc::from(topic),
            transport,
            stats: stats::Stats::new(observers),
            memory: memory::MemoryPool::new(settings.buffer_memory),
            partitioner: Partitioner::new(settings.partitioner),
            queues,
            closing: Default::default(),
            settings,
        });
        let senders = (0..partitions.max(1))
            .map(|partition| sender::spawn(&shared, partition))
            .collect();
        Self { shared, senders }
    }

    pub fn handle(&self) -> ProducerHandle {
        ProducerHandle {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Sends what is buffered, waits until every record is acked or failed, stops the senders and
    /// returns the final counters. Later `send`s fail.
    pub async fn close(self) -> StatsSnapshot {
        self.shared.closing.store(true, Ordering::Release);
        for queue in &self.shared.queues {
            queue.wake.notify_one();
        }
        for sender in self.senders {
            if let Err(error) = sender.await {
                if error.is_panic() {
                    std::panic::resume_unwind(error.into_panic());
                }
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
            .acquire(record_charge(key, value))
            .await
            .map_err(|_| ProducerClosed)?;
        let partition = shared.partitioner.partition(key, shared.queues.len());
        // Counted before it is visible to the sender, so `sent` never trails `acked + failed`.
        shared.stats.record_sent();
        match shared.queues[partition].append(key, value, reserved, Instant::now()) {
            Ok(()) => Ok(()),
            Err(_) => {
                shared.stats.unsend();
                shared.memory.release(reserved);
                Err(ProducerClosed)
            }
        }
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        snapshot(&self.shared)
    }
}

/// The `acks` value written in produce requests.
fn acks(settings: &ProducerSettings) -> i16 {
    match settings.acks {
        Acks::All => -1,
        Acks::Leader => 1,
        Acks::None => {
            tracing::warn!(
                "--acks 0 is not supported (the connection layer waits for every answer); \
                 using --acks 1: records count as delivered once the leader has them"
            );
            1
        }
    }
}

fn snapshot(shared: &Shared) -> StatsSnapshot {
    shared.stats.snapshot(shared.memory.in_use() as u64)
}
