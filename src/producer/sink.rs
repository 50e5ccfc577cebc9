//! One task per broker connection: gathers the closed batches the partition senders hand it and
//! sends them as few produce requests as the broker allows.
//!
//! A topic of hundreds of partitions on a handful of brokers would otherwise cost one request, one
//! response and one round of broker bookkeeping per partition batch. As the Java client drains
//! every ready partition of a node into one request (and franz-go keeps one sink per broker), a
//! request here carries the waiting batch of every partition, at most one per partition (a
//! partition's next batch rides in the next request, so the broker sees a partition's batches in
//! order), up to `max_request_size` bytes; up to `max_in_flight` requests are in flight on the
//! connection, and while they are, new batches gather for the next one.
//!
//! The partition senders keep every per-partition rule (sequences, retries, expiry); a sink only
//! carries bytes and answers. Its requests are futures polled by the sink in creation order, so they
//! reach the wire in that order. A request that gets no answer within `request_timeout` fails for
//! every partition in it, as a lost connection does. A batch whose sender stopped waiting before the
//! request left (its delivery timeout passed) is not sent. When an answer asks the client to hold
//! back (a quota's throttle time), the sink sends nothing more on the connection until then, as
//! KIP-219 asks and the Java client does by muting the connection; the time held goes to the stats
//! and the episode to [`super::throttling`]. While the broker throttles, each of its connections
//! carries one request at a time (the broker reads a request sent behind a throttled one only after
//! that one's throttle time, which could be after the connection's session ended).
//!
//! A connection is replaced before its SASL session ends (see the cluster's `broker`): nothing is
//! sent on one past that point. Batches still waiting in its sink then (held back by a throttle, or
//! behind a full pipeline) go back to their senders unsent, which hand them to the new
//! connection's sink once the old connection's requests have answered.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::{
    sync::{mpsc, oneshot},
    time::Instant,
};

use super::{
    errors::AttemptError,
    stats::Stats,
    throttling::Throttling,
    transport::{BrokerLink, BrokerRequest, Leader, PartitionAnswer},
};
use crate::kafka::wire::produce::{PARTITION_OVERHEAD, REQUEST_OVERHEAD};

pub(crate) type AttemptResult = Result<PartitionAnswer, AttemptError>;

/// The bounds every sink keeps.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SinkLimits {
    pub max_in_flight: usize,
    pub max_request_size: usize,
    pub request_timeout: Duration,
    /// Bytes of the topic name in each request.
    pub topic_len: usize,
}

/// A batch waiting for a request, and where its answer goes.
struct Submission {
    partition: i32,
    batch: Bytes,
    reply: oneshot::Sender<AttemptResult>,
}

/// The sinks of one producer, one per broker (for the broker's current connection).
#[derive(Debug)]
pub(crate) struct Sinks {
    limits: SinkLimits,
    books: Arc<Books>,
    by_broker: Mutex<HashMap<i32, (u64, mpsc::UnboundedSender<Submission>)>>,
    /// Sinks started so far: each sink's number in the stats' throttle books.
    started: std::sync::atomic::AtomicU64,
}

/// Where sinks report throttling: the time held to the stats, the episodes to the log.
#[derive(Debug)]
struct Books {
    stats: Arc<Stats>,
    throttling: Throttling,
}

impl Sinks {
    pub(super) fn new(limits: SinkLimits, stats: Arc<Stats>) -> Self {
        Self {
            limits,
            books: Arc::new(Books {
                stats,
                throttling: Throttling::default(),
            }),
            by_broker: Mutex::new(HashMap::new()),
            started: Default::default(),
        }
    }

    /// Hands `batch` of `partition` to the sink of `leader`'s connection (started on first use; a
    /// sink of an older connection to that broker finishes what it holds and stops). Resolves with
    /// the broker's answer for the partition.
    pub(super) fn submit(
        &self,
        leader: &Leader,
        partition: i32,
        batch: Bytes,
    ) -> impl Future<Output = AttemptResult> + Send + 'static {
        let (reply, answer) = oneshot::channel();
        let submission = Submission {
            partition,
            batch,
            reply,
        };
        let mut by_broker = self.by_broker.lock();
        let current = by_broker
            .get(&leader.broker)
            .filter(|(connection, tx)| *connection == leader.connection && !tx.is_closed());
        let rejected = match current {
            Some((_, tx)) => tx.send(submission).err().map(|e| e.0),
            None => Some(submission),
        };
        if let Some(submission) = rejected {
            let (tx, rx) = mpsc::unbounded_channel();
            let number = self
                .started
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tokio::spawn(run(
                Connection {
                    broker: leader.broker,
                    number,
                    link: Arc::clone(&leader.link),
                },
                self.limits,
                Arc::clone(&self.books),
                rx,
            ));
            let _ = tx.send(submission);
            by_broker.insert(leader.broker, (leader.connection, tx));
        }
        drop(by_broker);
        async move {
            answer
                .await
                .unwrap_or_else(|_| Err(AttemptError::lost("the connection's sink stopped")))
        }
    }

    /// Lets every sink stop once it has sent what it holds.
    pub(super) fn close(&self) {
        self.by_broker.lock().clear();
    }

    /// The run is over: ends the throttling episodes still going.
    pub(super) fn report_end(&self) {
        self.books.throttling.close();
    }
}

/// The connection a sink sends on.
struct Connection {
    broker: i32,
    /// The sink's number, unique in the producer.
    number: u64,
    link: Arc<dyn BrokerLink>,
}

/// A request in flight; it resolves with the throttle time its answer asked for.
type RequestFuture = Pin<Box<dyn Future<Output = Option<Duration>> + Send>>;

/// Where each partition's answer to one request goes.
type Replies = Vec<(i32, oneshot::Sender<AttemptResult>)>;

/// The sink task of one connection.
async fn run(
    connection: Connection,
    limits: SinkLimits,
    books: Arc<Books>,
    mut submissions: mpsc::UnboundedReceiver<Submission>,
) {
    let Connection {
        broker,
        number,
        link,
    } = connection;
    let mut pending: VecDeque<Submission> = VecDeque::new();
    let mut in_flight: VecDeque<RequestFuture> = VecDeque::new();
    let mut open = true;
    let mut throttled_until: Option<Instant> = None;
    let timeout_ms = i32::try_from(limits.request_timeout.as_millis())
        .unwrap_or(i32::MAX)
        .max(1);
    loop {
        while open {
            match submissions.try_recv() {
                Ok(submission) => pending.push_back(submission),
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => open = false,
            }
        }
        pending.retain(|s| !s.reply.is_closed());
        if let Some(until) = throttled_until.filter(|until| Instant::now() >= *until) {
            books.stats.hold_ended(number, until);
            throttled_until = None;
        }
        if !pending.is_empty() && !link.fresh() {
            tracing::debug!(
                broker,
                batches = pending.len(),
                "the connection is due for renewal; its waiting batches go back to be sent on the new one"
            );
            for submission in pending.drain(..) {
                let _ = submission.reply.send(Err(AttemptError::renewed()));
            }
        }
        // While its broker throttles, a connection carries one request at a time: the broker
        // leaves a request sent behind a throttled one unread until that one's throttle time is
        // over, and a few of those in a row could reach it after the connection's session ended.
        let max_in_flight = if books.throttling.active(broker) {
            1
        } else {
            limits.max_in_flight
        };
        while in_flight.len() < max_in_flight && !pending.is_empty() && throttled_until.is_none() {
            let (batches, replies) = next_request(&mut pending, &limits);
            let answer = link.produce(BrokerRequest {
                timeout_ms,
                batches,
            });
            let wait = limits.request_timeout;
            in_flight.push_back(Box::pin(async move {
                let result = tokio::time::timeout(wait, answer)
                    .await
                    .unwrap_or_else(|_| Err(AttemptError::timed_out()));
                deliver(replies, result)
            }));
        }
        if !open && pending.is_empty() && in_flight.is_empty() {
            if let Some(until) = throttled_until {
                books.stats.hold_ended(number, until.min(Instant::now()));
            }
            return;
        }
        let busy = !in_flight.is_empty();
        let hold = throttled_until.filter(|_| !pending.is_empty());
        let episode_end = books.throttling.next_end(broker);
        tokio::select! {
            biased;
            throttle = std::future::poll_fn(|cx| poll_all(&mut in_flight, cx)), if busy => {
                let now = Instant::now();
                match throttle.filter(|t| !t.is_zero()) {
                    Some(throttle) => {
                        tracing::debug!(broker, ?throttle, "broker asked to throttle; holding this connection's requests");
                        books.throttling.throttled(broker, link.address(), throttle, now);
                        if throttled_until.is_none() {
                            books.stats.hold_started(number, now);
                        }
                        let until = now + throttle;
                        throttled_until = Some(throttled_until.map_or(until, |t| t.max(until)));
                    }
                    None => books.throttling.calm(broker, now),
                }
            }
            () = sleep_until_some(hold), if hold.is_some() => {}
            () = sleep_until_some(episode_end), if episode_end.is_some() => {
                books.throttling.calm(broker, Instant::now());
            }
            received = submissions.recv(), if open => match received {
                Some(submission) => pending.push_back(submission),
                None => open = false,
            },
        }
    }
}

/// Takes the next request's batches from `pending`: the first waiting batch of each partition, in
/// order, while they fit in `max_request_size` (the first always goes, whatever its size: the
/// topic's own limit decides about it).
fn next_request(
    pending: &mut VecDeque<Submission>,
    limits: &SinkLimits,
) -> (Vec<(i32, Bytes)>, Replies) {
    let mut size = REQUEST_OVERHEAD + limits.topic_len;
    let mut batches = Vec::new();
    let mut replies = Vec::new();
    let mut kept = VecDeque::with_capacity(pending.len());
    let mut taken_partitions = HashSet::with_capacity(pending.len());
    let mut full = false;
    while let Some(submission) = pending.pop_front() {
        let taken = full || taken_partitions.contains(&submission.partition);
        let grown = size + PARTITION_OVERHEAD + submission.batch.len();
        if taken || (!batches.is_empty() && grown > limits.max_request_size) {
            full |= !taken;
            kept.push_back(submission);
            continue;
        }
        size = grown;
        taken_partitions.insert(submission.partition);
        batches.push((submission.partition, submission.batch));
        replies.push((submission.partition, submission.reply));
    }
    *pending = kept;
    (batches, replies)
}

/// Sends each partition its answer (a partition the broker's answer does not mention gets an
/// invalid-response error); returns the throttle time the answer asked for.
fn deliver(
    replies: Replies,
    result: Result<Vec<(i32, PartitionAnswer)>, AttemptError>,
) -> Option<Duration> {
    match result {
        Ok(answers) => {
            let throttle = answers.iter().filter_map(|(_, a)| a.throttle).max();
            for (i, (partition, reply)) in replies.into_iter().enumerate() {
                // Brokers answer in request order; search only when one does not.
                let answer = answers
                    .get(i)
                    .filter(|(p, _)| *p == partition)
                    .or_else(|| answers.iter().find(|(p, _)| *p == partition))
                    .map(|(_, answer)| *answer)
                    .ok_or_else(|| {
                        AttemptError::invalid_response(format!(
                            "the produce response does not mention partition {partition}"
                        ))
                    });
                let _ = reply.send(answer);
            }
            throttle
        }
        Err(error) => {
            for (_, reply) in replies {
                let _ = reply.send(Err(error.clone()));
            }
            None
        }
    }
}

async fn sleep_until_some(at: Option<Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at).await;
    }
}

/// Polls every request in creation order (so each reaches the wire in that order) and drops the
/// finished ones; ready when one finished, with the longest throttle time their answers asked for.
fn poll_all(
    in_flight: &mut VecDeque<RequestFuture>,
    cx: &mut Context<'_>,
) -> Poll<Option<Duration>> {
    let before = in_flight.len();
    let mut throttle = None;
    in_flight.retain_mut(|request| match request.as_mut().poll(cx) {
        Poll::Ready(asked) => {
            throttle = throttle.max(asked);
            false
        }
        Poll::Pending => true,
    });
    if in_flight.len() < before {
        Poll::Ready(throttle)
    } else {
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_request_size: usize) -> SinkLimits {
        SinkLimits {
            max_in_flight: 5,
            max_request_size,
            request_timeout: Duration::from_secs(30),
            topic_len: 5,
        }
    }

    fn waiting(batches: &[(i32, usize)]) -> VecDeque<Submission> {
        batches
            .iter()
            .map(|&(partition, len)| Submission {
                partition,
                batch: Bytes::from(vec![0; len]),
                reply: oneshot::channel().0,
            })
            .collect()
    }

    fn partitions(batches: &[(i32, Bytes)]) -> Vec<i32> {
        batches.iter().map(|(p, _)| *p).collect()
    }

    #[test]
    fn a_request_carries_one_batch_per_partition_in_order() {
        let mut pending = waiting(&[(0, 10), (1, 10), (0, 10), (2, 10), (1, 10)]);
        let (batches, replies) = next_request(&mut pending, &limits(1 << 20));
        assert_eq!(partitions(&batches), [0, 1, 2]);
        assert_eq!(replies.len(), 3);
        let left: Vec<i32> = pending.iter().map(|s| s.partition).collect();
        assert_eq!(
            left,
            [0, 1],
            "later batches wait for the next request, in order"
        );
    }

    #[test]
    fn a_request_stops_at_max_request_size_but_always_takes_one_batch() {
        let overhead = REQUEST_OVERHEAD + 5 + PARTITION_OVERHEAD;
        let mut pending = waiting(&[(0, 1_000), (1, 1_000), (2, 10)]);
        let (batches, _) = next_request(&mut pending, &limits(overhead + 1_500));
        assert_eq!(partitions(&batches), [0], "nothing jumps the queue");
        assert_eq!(pending.len(), 2);
        let mut huge = waiting(&[(3, 10_000)]);
        let (batches, _) = next_request(&mut huge, &limits(100));
        assert_eq!(partitions(&batches), [3]);
    }
}
