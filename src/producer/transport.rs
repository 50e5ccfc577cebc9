//! The seam between the engine and the cluster: leader lookups, and produce requests to one broker
//! carrying many partitions' batches.
//!
//! The engine's state machines — linger, the in-flight limits, retries, expiry, ordering, sequence
//! numbers — are the part most worth testing and least worth testing through a live broker. Behind
//! this trait they run over the real cluster in the product ([`super::kafka_transport`]) and over a
//! scripted fake or a simulated cluster with paused time in tests.

use std::{future::Future, pin::Pin, sync::Arc};

use bytes::Bytes;

use super::errors::{AttemptError, Refresh};
use crate::kafka::{KafkaError, ProducerIdAndEpoch};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

pub use crate::kafka::wire::produce::PartitionAnswer;

/// One produce request to one broker: the closed batch of each of some partitions it leads, at most
/// one per partition.
#[derive(Debug, Clone)]
pub struct BrokerRequest {
    /// How long the broker may wait for replication before answering `REQUEST_TIMED_OUT`.
    pub timeout_ms: i32,
    pub batches: Vec<(i32, Bytes)>,
}

/// The broker's answer for each partition of a request.
pub type BrokerAnswer = Vec<(i32, PartitionAnswer)>;

/// A connection to one broker.
pub trait BrokerLink: Send + Sync {
    /// Sends `request` (in the order of the first polls of the futures of this link) and resolves
    /// with the answer of every partition in it.
    fn produce(
        &self,
        request: BrokerRequest,
    ) -> BoxFuture<'static, Result<BrokerAnswer, AttemptError>>;

    /// The broker's address, for log lines.
    fn address(&self) -> &str;

    /// Whether new requests may go on this connection: `false` once it is due to be replaced
    /// before the broker ends its SASL session (a link without a session lifetime stays fresh).
    fn fresh(&self) -> bool {
        true
    }
}

/// Where a partition's batches go right now.
#[derive(Clone)]
pub struct Leader {
    pub broker: i32,
    /// Identifies the connection: two lookups that return the same id share one socket, whose
    /// requests the broker handles in order.
    pub connection: u64,
    pub link: Arc<dyn BrokerLink>,
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
pub trait Transport: std::fmt::Debug + Send + Sync + 'static {
    /// The leader of `partition`, reading metadata and connecting if needed.
    fn leader(&self, partition: i32) -> BoxFuture<'_, Result<Leader, AttemptError>>;

    /// Forgets what `refresh` says after an attempt of `partition` through `failed` failed.
    fn invalidate<'a>(
        &'a self,
        partition: i32,
        failed: Option<&'a Leader>,
        refresh: Refresh,
    ) -> BoxFuture<'a, ()>;

    /// Re-reads the topic's metadata (leaders included) and returns its partition count.
    fn partition_count(&self) -> BoxFuture<'_, Result<i32, AttemptError>>;

    /// A new producer id, for when the epoch of the current one is exhausted.
    fn init_producer_id(&self) -> BoxFuture<'_, Result<ProducerIdAndEpoch, KafkaError>>;
}
