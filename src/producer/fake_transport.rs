//! A scripted cluster for the senders' unit tests: every produce request waits, in arrival order,
//! until the test answers it — ack, broker error, lost connection or no answer at all. Leader
//! lookups can be made to fail, connections are numbered (a failure that drops the connection makes
//! the next lookup return a new one, as the real transport does), and every request is logged.

use std::{collections::VecDeque, sync::Arc};

use bytes::Bytes;
use parking_lot::Mutex;
use rskafka::{client::error::ProtocolError, messenger::RequestError};
use tokio::sync::{oneshot, Notify};

use super::{
    errors::{AttemptError, Refresh},
    record_batch::{self, ProducerState},
    transport::{
        BoxFuture, BrokerAnswer, BrokerLink, BrokerRequest, Leader, PartitionAnswer, Transport,
    },
};
use crate::kafka::{KafkaError, ProducerIdAndEpoch};

/// One produce request waiting for the test's answer.
#[derive(Debug)]
pub(crate) struct FakeRequest {
    pub partition: i32,
    pub connection: u64,
    pub batch: Bytes,
    reply: oneshot::Sender<Result<PartitionAnswer, AttemptError>>,
}

impl FakeRequest {
    pub(crate) fn producer(&self) -> ProducerState {
        record_batch::producer_state(&self.batch)
    }

    pub(crate) fn records(&self) -> u32 {
        record_batch::record_count(&self.batch)
    }

    /// The batch's keys, as text.
    pub(crate) fn keys(&self) -> Vec<String> {
        let records = record_batch::records(&self.batch).expect("readable batch");
        record_batch::read_records(&records)
            .map(|r| String::from_utf8(r.expect("well-formed record").key.to_vec()).unwrap())
            .collect()
    }

    pub(crate) fn ack(self, base_offset: i64) {
        self.answer(None, base_offset);
    }

    /// An ack that asks the client to hold back for `throttle` (a quota).
    pub(crate) fn ack_throttled(self, base_offset: i64, throttle: std::time::Duration) {
        let _ = self.reply.send(Ok(PartitionAnswer {
            error: None,
            base_offset,
            throttle: Some(throttle),
        }));
    }

    /// The broker answers with `error` for the partition.
    pub(crate) fn reject(self, error: ProtocolError) {
        self.answer(Some(error), -1);
    }

    fn answer(self, error: Option<ProtocolError>, base_offset: i64) {
        let _ = self.reply.send(Ok(PartitionAnswer {
            error,
            base_offset,
            throttle: None,
        }));
    }

    /// The connection breaks after the request was written: its outcome is unknown.
    pub(crate) fn lose(self) {
        let io = RequestError::IO(std::io::ErrorKind::ConnectionReset.into());
        let _ = self.reply.send(Err(AttemptError::from_request(&io)));
    }
}

/// What the fake saw of one produce request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sent {
    /// The produce request it rode in, numbered from 1.
    pub request: u64,
    pub partition: i32,
    pub connection: u64,
    pub producer: ProducerState,
    pub records: u32,
}

#[derive(Debug)]
struct State {
    waiting: VecDeque<FakeRequest>,
    sent: Vec<Sent>,
    connection: u64,
    failing_lookups: VecDeque<AttemptError>,
    partitions: i32,
    next_producer_id: i64,
    invalidations: Vec<Refresh>,
    requests: u64,
    /// Connections below this number are due for renewal: nothing new may go on them.
    fresh_from: u64,
}

#[derive(Debug)]
struct Inner {
    state: Mutex<State>,
    arrived: Notify,
}

/// See the module comment. Clones share the script: the test keeps one, the engine another.
#[derive(Debug, Clone)]
pub(crate) struct FakeTransport {
    inner: Arc<Inner>,
}

impl FakeTransport {
    pub(crate) fn new(partitions: i32) -> Self {
        let inner = Arc::new(Inner {
            state: Mutex::new(State {
                waiting: VecDeque::new(),
                sent: Vec::new(),
                connection: 1,
                failing_lookups: VecDeque::new(),
                partitions,
                next_producer_id: 1_000,
                invalidations: Vec::new(),
                requests: 0,
                fresh_from: 0,
            }),
            arrived: Notify::new(),
        });
        Self { inner }
    }

    fn state(&self) -> parking_lot::MutexGuard<'_, State> {
        self.inner.state.lock()
    }

    /// The oldest unanswered request, waiting for one to arrive (with paused time, the clock runs
    /// ahead to the senders' next timer meanwhile).
    pub(crate) async fn next_request(&self) -> FakeRequest {
        loop {
            let arrived = self.inner.arrived.notified();
            if let Some(request) = self.try_next() {
                return request;
            }
            arrived.await;
        }
    }

    /// The oldest unanswered request, if one has arrived.
    pub(crate) fn try_next(&self) -> Option<FakeRequest> {
        self.state().waiting.pop_front()
    }

    /// Every produce request so far, in arrival order.
    pub(crate) fn sent(&self) -> Vec<Sent> {
        self.state().sent.clone()
    }

    /// The next `errors.len()` leader lookups fail with these errors.
    pub(crate) fn fail_lookups(&self, errors: impl IntoIterator<Item = AttemptError>) {
        self.state().failing_lookups.extend(errors);
    }

    /// The topic now has `partitions` partitions.
    pub(crate) fn set_partitions(&self, partitions: i32) {
        self.state().partitions = partitions;
    }

    /// The current connection is due for renewal (its SASL session nears its end): lookups return
    /// a new one, and the old one refuses new requests.
    pub(crate) fn renew_connection(&self) {
        let mut state = self.state();
        state.connection += 1;
        state.fresh_from = state.connection;
    }

    /// Everything the senders asked to forget, in order.
    pub(crate) fn invalidations(&self) -> Vec<Refresh> {
        self.state().invalidations.clone()
    }
}

struct FakeLink {
    transport: FakeTransport,
    connection: u64,
}

impl BrokerLink for FakeLink {
    fn address(&self) -> &str {
        "fake:9092"
    }

    fn fresh(&self) -> bool {
        self.connection >= self.transport.state().fresh_from
    }

    /// Each partition of the request waits for its own answer; the request is answered when all
    /// are, and fails as a whole when any attempt failed (a lost connection fails them all).
    fn produce(
        &self,
        request: BrokerRequest,
    ) -> BoxFuture<'static, Result<BrokerAnswer, AttemptError>> {
        let mut answers = Vec::with_capacity(request.batches.len());
        {
            let mut state = self.transport.state();
            state.requests += 1;
            let number = state.requests;
            for (partition, batch) in request.batches {
                let (reply, answer) = oneshot::channel();
                state.sent.push(Sent {
                    request: number,
                    partition,
                    connection: self.connection,
                    producer: record_batch::producer_state(&batch),
                    records: record_batch::record_count(&batch),
                });
                state.waiting.push_back(FakeRequest {
                    partition,
                    connection: self.connection,
                    batch,
                    reply,
                });
                answers.push((partition, answer));
            }
        }
        self.transport.inner.arrived.notify_waiters();
        Box::pin(async move {
            let mut answered = Vec::with_capacity(answers.len());
            for (partition, answer) in answers {
                // An answer that never comes: the sink's request timeout ends the wait.
                match answer.await {
                    Ok(result) => answered.push((partition, result?)),
                    Err(_) => std::future::pending().await,
                }
            }
            Ok(answered)
        })
    }
}

impl Transport for FakeTransport {
    fn leader(&self, _partition: i32) -> BoxFuture<'_, Result<Leader, AttemptError>> {
        let result = {
            let mut state = self.state();
            match state.failing_lookups.pop_front() {
                Some(error) => Err(error),
                None => Ok(state.connection),
            }
        };
        Box::pin(async move {
            let connection = result?;
            Ok(Leader {
                broker: 1,
                connection,
                link: Arc::new(FakeLink {
                    transport: self.clone(),
                    connection,
                }),
            })
        })
    }

    fn invalidate<'a>(
        &'a self,
        _partition: i32,
        _failed: Option<&'a Leader>,
        refresh: Refresh,
    ) -> BoxFuture<'a, ()> {
        let mut state = self.state();
        if refresh != Refresh::Nothing {
            state.invalidations.push(refresh);
        }
        if refresh == Refresh::Connection {
            state.connection += 1;
        }
        Box::pin(async {})
    }

    fn partition_count(&self) -> BoxFuture<'_, Result<i32, AttemptError>> {
        let partitions = self.state().partitions;
        Box::pin(async move { Ok(partitions) })
    }

    fn init_producer_id(&self) -> BoxFuture<'_, Result<ProducerIdAndEpoch, KafkaError>> {
        let mut state = self.state();
        let id = state.next_producer_id;
        state.next_producer_id += 1;
        Box::pin(async move { Ok(ProducerIdAndEpoch { id, epoch: 0 }) })
    }
}
