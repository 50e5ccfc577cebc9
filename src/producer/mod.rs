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
pub mod delivery;
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
    app::settings::{Acks, ProducerSettings},
    kafka::Connector,
    producer::delivery::{DeliveryObserver, StatsSnapshot},
};
use accumulator::{record_charge, PartitionQueue};
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
    /// One supervisor per partition: it awaits the partition's sender task and cleans up if that
    /// task ends abnormally.
    senders: Vec<JoinHandle<()>>,
    /// The sender tasks themselves, so tests can make one end abnormally.
    #[cfg(test)]
    sender_tasks: Vec<tokio::task::AbortHandle>,
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
        if settings.max_in_flight.get() == 0 {
            return Err(ProducerError::NoInFlight);
        }
        if settings.batch_size.get() == 0 {
            return Err(ProducerError::NoBatchSize);
        }
        if settings.buffer_memory.get() == 0 {
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
            memory: memory::MemoryPool::new(settings.buffer_memory.get()),
            queues: (0..partitions)
                .map(|_| PartitionQueue::new(settings.batch_size.get()))
                .collect(),
            flushing: AtomicUsize::new(0),
            closing: AtomicBool::new(false),
        });
        let mut senders = Vec::new();
        #[cfg(test)]
        let mut sender_tasks = Vec::new();
        for p in 0..partitions {
            let task = tokio::spawn(sender::run(Arc::clone(&shared), p));
            #[cfg(test)]
            sender_tasks.push(task.abort_handle());
            let shared = Arc::clone(&shared);
            senders.push(tokio::spawn(async move {
                if let Err(error) = task.await {
                    sender::stopped_abnormally(&shared, p, &error);
                }
            }));
        }
        Ok(Self {
            shared,
            partitioner: Arc::new(Partitioner::new(settings.partitioner, partitions)),
            senders,
            #[cfg(test)]
            sender_tasks,
        })
    }

    pub fn handle(&self) -> ProducerHandle {
        ProducerHandle {
            shared: Arc::clone(&self.shared),
            partitioner: Arc::clone(&self.partitioner),
        }
    }

    /// Sends buffered batches now and waits until every record sent so far is acked or failed.
    /// Records sent while it waits (by other tasks) do not hold it up.
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
                tracing::error!(error = %e, "a partition sender's supervisor stopped abnormally");
            }
        }
        // Every sender has drained its partition; a record still unsettled now never will be, and
        // must not pass for delivered.
        for (partition, queue) in (0..).zip(&self.shared.queues) {
            let stranded = queue.unsettled_records();
            if stranded > 0 {
                tracing::error!(
                    partition,
                    records = stranded,
                    "records neither acked nor failed at close"
                );
                queue.record_settled(stranded, 0);
                self.shared.stats.batch_failed(
                    partition,
                    stranded,
                    "internal error: the records were neither acked nor failed at close",
                );
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
        let partition = self.partitioner.partition(key) as usize;
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

/// Counts one `flush` in progress for as long as it lives, so a flush whose future is dropped
/// half-way (a caller's timeout) does not leave linger disabled for good.
struct Flushing<'a>(&'a AtomicUsize);

impl<'a> Flushing<'a> {
    fn start(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::AcqRel);
        Self(count)
    }
}

impl Drop for Flushing<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

async fn flush(shared: &Shared) {
    let _flushing = Flushing::start(&shared.flushing);
    // The batches holding the records sent so far; later ones (other tasks keep sending) are not
    // waited for, or a busy producer would never see a moment with nothing in flight.
    let marks: Vec<u64> = shared.queues.iter().map(|q| q.flush_mark()).collect();
    for queue in &shared.queues {
        queue.wake.notify_one();
    }
    loop {
        let settled = shared.stats.settled();
        let done = shared
            .queues
            .iter()
            .zip(&marks)
            .all(|(queue, &mark)| queue.settled_below() >= mark);
        if done {
            break;
        }
        settled.await;
    }
}

fn snapshot(shared: &Shared) -> StatsSnapshot {
    shared.stats.snapshot(shared.memory.in_use() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::settings::{KafkaSettings, SaslMechanism, SecurityProtocol};
    use std::time::Duration;

    /// A connector to a port nothing listens on: every attempt fails and is retried.
    fn unreachable_connector() -> Arc<Connector> {
        let settings = KafkaSettings {
            bootstrap_servers: crate::app::settings::BootstrapServers::parse("127.0.0.1:1")
                .unwrap(),
            security_protocol: SecurityProtocol::Plaintext,
            sasl_mechanism: SaslMechanism::Plain,
            api_key: None,
            api_secret: None,
            ca_file: None,
            connect_timeout: Duration::from_secs(1),
        };
        Arc::new(Connector::new(&settings, None))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_sender_that_stops_abnormally_fails_its_records_and_returns_their_memory() {
        let settings = ProducerSettings {
            delivery_timeout: Duration::from_secs(3_600),
            buffer_memory: std::num::NonZeroUsize::new(1 << 20).unwrap(),
            ..ProducerSettings::default()
        };
        let producer = Producer::start(unreachable_connector(), "t", 2, &settings, vec![]).unwrap();
        let handle = producer.handle();
        for id in 0..50u32 {
            handle.send(id.to_string().as_bytes(), b"v").await.unwrap();
        }
        assert!(handle.snapshot().buffered_bytes > 0);
        for task in &producer.sender_tasks {
            task.abort();
        }
        tokio::time::timeout(Duration::from_secs(10), handle.flush())
            .await
            .expect("flush ends once the stopped senders' records are failed");
        let snap = handle.snapshot();
        assert_eq!(
            (snap.sent, snap.acked, snap.failed),
            (50, 0, 50),
            "{snap:?}"
        );
        assert_eq!((snap.in_flight_records, snap.buffered_bytes), (0, 0));
        assert_eq!(handle.send(b"x", b"v").await, Err(ProducerClosed));
        let snap = tokio::time::timeout(Duration::from_secs(10), producer.close())
            .await
            .expect("close ends");
        assert_eq!((snap.sent, snap.failed), (50, 50), "{snap:?}");
    }

    #[tokio::test]
    async fn a_dropped_flush_stops_counting_as_a_flush() {
        let settings = ProducerSettings {
            linger: Duration::from_secs(3_600),
            ..ProducerSettings::default()
        };
        let producer = Producer::start(unreachable_connector(), "t", 1, &settings, vec![]).unwrap();
        let handle = producer.handle();
        handle.send(b"k", b"v").await.unwrap();
        assert!(tokio::time::timeout(Duration::ZERO, handle.flush())
            .await
            .is_err());
        assert_eq!(producer.shared.flushing.load(Ordering::Acquire), 0);
    }
}
