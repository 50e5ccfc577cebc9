//! The seam between the partition senders and the cluster.
//!
//! A sender's state machine — linger, the in-flight limit, retries, expiry, ordering, sequence
//! numbers — is the part of the engine most worth testing and least worth testing through a live
//! broker. Behind this trait it runs over the real cluster in the product
//! ([`super::kafka_transport`]) and over a scripted fake with paused time in unit tests.

use std::{future::Future, pin::Pin, sync::Arc, time::Duration};

use bytes::Bytes;
use rskafka::client::error::ProtocolError;

use super::errors::{AttemptError, Refresh};
use crate::kafka::{KafkaError, ProducerIdAndEpoch};

pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One produce request: one closed batch for one partition.
#[derive(Debug, Clone)]
pub(crate) struct ProduceCall {
    pub partition: i32,
    /// How long the broker may wait for replication before answering `REQUEST_TIMED_OUT`.
    pub timeout_ms: i32,
    pub batch: Bytes,
}

/// The broker's answer for the partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PartitionAnswer {
    pub error: Option<ProtocolError>,
    /// The offset of the batch's first record (−1 when unknown, e.g. for a duplicate).
    pub base_offset: i64,
    /// How long the broker asked the client to hold back, when it did.
    pub throttle: Option<Duration>,
}

/// A connection to a partition's leader.
pub(crate) trait LeaderLink: Send + Sync {
    /// Sends `call` now (in the order of calls on this link) and resolves with the answer.
    fn produce(
        &self,
        call: ProduceCall,
    ) -> BoxFuture<'static, Result<PartitionAnswer, AttemptError>>;
}

/// Where a partition's batches go right now.
#[derive(Clone)]
pub(crate) struct Leader {
    pub broker: i32,
    /// Identifies the connection: two lookups that return the same id share one socket, whose
    /// requests the broker handles in order.
    pub connection: u64,
    pub link: Arc<dyn LeaderLink>,
}

impl std::fmt::Debug for Leader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leader")
            .field("broker", &self.broker)
            .field("connection", &self.connection)
            .finish_non_exhaustive()
    }
}

/// The cluster as the senders see it.
pub(crate) trait Transport: std::fmt::Debug + Send + Sync + 'static {
    /// The leader of `partition`, reading metadata and connecting if needed.
    fn leader(&self, partition: i32) -> BoxFuture<'_, Result<Leader, AttemptError>>;

    /// Forgets what `refresh` says after an attempt through `failed` failed.
    fn invalidate<'a>(&'a self, failed: Option<&'a Leader>, refresh: Refresh) -> BoxFuture<'a, ()>;

    /// Re-reads the topic's metadata (leaders included) and returns its partition count.
    fn partition_count(&self) -> BoxFuture<'_, Result<i32, AttemptError>>;

    /// A new producer id, for when the epoch of the current one is exhausted.
    fn init_producer_id(&self) -> BoxFuture<'_, Result<ProducerIdAndEpoch, KafkaError>>;
}
