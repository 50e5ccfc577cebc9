//! The simulated cluster behind the engine's transport seam: connections that handle their
//! requests in order, and the faults of the schedule played on them.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use rand::Rng;
use shoe_producer::{
    kafka::{KafkaError, ProducerIdAndEpoch},
    producer::seam::{
        AttemptError, BoxFuture, BrokerAnswer, BrokerLink, BrokerRequest, Leader, Refresh,
        Transport,
    },
};
use tokio::sync::{mpsc, oneshot};

use crate::broker::World;

pub(crate) struct Job {
    pub(crate) request: BrokerRequest,
    pub(crate) reply: oneshot::Sender<Result<BrokerAnswer, AttemptError>>,
}

/// The request queue of each live connection, by broker and connection number.
pub(crate) type Connections = BTreeMap<(i32, u64), mpsc::UnboundedSender<Job>>;

#[derive(Debug, Clone)]
pub(crate) struct SimCluster {
    pub(crate) world: Arc<Mutex<World>>,
    pub(crate) connections: Arc<Mutex<Connections>>,
}

pub(crate) struct SimLink {
    pub(crate) cluster: SimCluster,
    pub(crate) broker: i32,
    pub(crate) connection: u64,
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

pub(crate) fn lost() -> AttemptError {
    let io = rskafka::messenger::RequestError::IO(std::io::ErrorKind::ConnectionReset.into());
    AttemptError::from_request(&io)
}

/// One connection of one broker: its requests handled in order.
pub(crate) async fn serve(
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
