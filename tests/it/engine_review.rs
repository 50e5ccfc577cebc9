//! The engine under faults a reviewer found it mishandled, each one injected on loopback by a small
//! Kafka-aware TCP proxy placed between the producer and the broker's PLAINTEXT listener.
//!
//! The proxy forwards whole request/response frames and can: rewrite the broker port in metadata
//! responses (so the leader connections go through it too, not only the bootstrap one), answer a
//! produce request itself with an error (`NOT_LEADER_OR_FOLLOWER`: nothing was appended), forward a
//! produce request and turn its answer into an error (`REQUEST_TIMED_OUT`: appended, outcome unknown
//! to the client), and make connections go silent — sockets stay open, nothing is answered, as when a
//! broker host vanishes or the network drops packets. The broker itself is never stopped, so these
//! tests run in parallel with everything else. Topics are created and read back over the stack's
//! SASL_SSL listener, sharing no code path with the proxy.

use crate::support::engine as engine_support;

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use engine_support::{consume_all, env, init_logs, kafka_with_topic};
use shoe_producer::{
    app::settings::{
        BootstrapServers, KafkaSettings, ProducerSettings, SaslMechanism, SecurityProtocol,
    },
    kafka::{self, Connector},
    producer::delivery::{DeliveryObserver, StatsSnapshot},
    producer::{Producer, ProducerHandle},
};
use tokio::time::timeout;

/// Kafka error codes the proxy injects.
const NOT_LEADER_OR_FOLLOWER: i16 = 6;
const REQUEST_TIMED_OUT: i16 = 7;

mod fault_proxy {
    //! A PLAINTEXT Kafka proxy that can lie and go silent; see the file's doc comment.

    use std::{
        collections::VecDeque,
        net::SocketAddr,
        sync::{
            atomic::{AtomicBool, AtomicU64, Ordering},
            Arc, Mutex,
        },
    };

    use tokio::{
        io::{AsyncRead, AsyncReadExt, AsyncWriteExt},
        net::{tcp::OwnedWriteHalf, TcpListener, TcpStream},
        sync::Mutex as AsyncMutex,
        task::JoinHandle,
    };

    const PRODUCE: i16 = 0;
    const METADATA: i16 = 3;

    /// What to do with the next produce request.
    #[derive(Debug, Clone, Copy)]
    pub struct Injection {
        pub error_code: i16,
        /// `false`: answer it here (the broker never sees it); `true`: forward it and replace the
        /// error code of the broker's answer (the broker did append it).
        pub forward: bool,
        /// Silence the connection right after this answer reaches the client.
        pub then_silence: bool,
    }

    /// One proxied connection's fault switches.
    #[derive(Debug, Default)]
    struct Switches {
        /// Nothing is answered or forwarded any more.
        silenced: AtomicBool,
        /// Requests wait in the proxy (in order) until released: a congested or slow link.
        stalled: AtomicBool,
        released: tokio::sync::Notify,
    }

    #[derive(Debug, Default)]
    struct Control {
        silence_new: AtomicBool,
        connections: Mutex<Vec<Arc<Switches>>>,
        injections: Mutex<VecDeque<Injection>>,
        metadata_requests: AtomicU64,
    }

    #[derive(Debug)]
    pub struct FaultProxy {
        addr: SocketAddr,
        control: Arc<Control>,
        task: JoinHandle<()>,
    }

    impl Drop for FaultProxy {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    impl FaultProxy {
        pub async fn start(upstream: SocketAddr) -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
            let addr = listener.local_addr().unwrap();
            let control = Arc::new(Control::default());
            let task = {
                let control = Arc::clone(&control);
                tokio::spawn(async move {
                    while let Ok((client, _)) = listener.accept().await {
                        let switches = Arc::new(Switches::default());
                        switches
                            .silenced
                            .store(control.silence_new.load(Ordering::SeqCst), Ordering::SeqCst);
                        control
                            .connections
                            .lock()
                            .unwrap()
                            .push(Arc::clone(&switches));
                        tokio::spawn(serve(
                            client,
                            upstream,
                            addr.port(),
                            Arc::clone(&control),
                            switches,
                        ));
                    }
                })
            };
            Self {
                addr,
                control,
                task,
            }
        }

        pub fn addr(&self) -> String {
            self.addr.to_string()
        }

        /// Every open connection stops answering (its socket stays open).
        pub fn silence_existing(&self) {
            for switches in self.control.connections.lock().unwrap().iter() {
                switches.silenced.store(true, Ordering::SeqCst);
            }
        }

        /// Requests on every open connection wait in the proxy until [`release`](Self::release).
        pub fn stall_existing(&self) {
            for switches in self.control.connections.lock().unwrap().iter() {
                switches.stalled.store(true, Ordering::SeqCst);
            }
        }

        /// Forwards the stalled requests, in order, and stops stalling.
        pub fn release(&self) {
            for switches in self.control.connections.lock().unwrap().iter() {
                switches.stalled.store(false, Ordering::SeqCst);
                switches.released.notify_waiters();
            }
        }

        /// New connections are accepted but never answered (`true`), or served normally.
        pub fn silence_new(&self, on: bool) {
            self.control.silence_new.store(on, Ordering::SeqCst);
        }

        pub fn inject(&self, injection: Injection) {
            self.control.injections.lock().unwrap().push_back(injection);
        }

        /// Injections not yet used up by a produce request.
        pub fn pending_injections(&self) -> usize {
            self.control.injections.lock().unwrap().len()
        }

        pub fn metadata_requests(&self) -> u64 {
            self.control.metadata_requests.load(Ordering::SeqCst)
        }
    }

    /// A response owed to the client, in request order.
    struct Slot {
        correlation_id: i32,
        api_key: i16,
        api_version: i16,
        rewrite_error: Option<i16>,
        then_silence: bool,
        frame: Option<Vec<u8>>,
    }

    struct Outbox {
        slots: VecDeque<Slot>,
        client: OwnedWriteHalf,
        switches: Arc<Switches>,
    }

    impl Outbox {
        /// Writes the answers that are ready, oldest first, stopping at the first one still owed.
        async fn drain(&mut self) -> std::io::Result<()> {
            while self.slots.front().is_some_and(|s| s.frame.is_some()) {
                let slot = self.slots.pop_front().unwrap();
                if self.switches.silenced.load(Ordering::SeqCst) {
                    continue;
                }
                write_frame(&mut self.client, slot.frame.as_deref().unwrap()).await?;
                if slot.then_silence {
                    self.switches.silenced.store(true, Ordering::SeqCst);
                }
            }
            Ok(())
        }
    }

    async fn serve(
        client: TcpStream,
        upstream: SocketAddr,
        proxy_port: u16,
        control: Arc<Control>,
        switches: Arc<Switches>,
    ) {
        let Ok(upstream) = TcpStream::connect(upstream).await else {
            return;
        };
        let (mut client_read, client_write) = client.into_split();
        let (mut upstream_read, mut upstream_write) = upstream.into_split();
        let outbox = Arc::new(AsyncMutex::new(Outbox {
            slots: VecDeque::new(),
            client: client_write,
            switches: Arc::clone(&switches),
        }));
        let answers = {
            let outbox = Arc::clone(&outbox);
            let switches = Arc::clone(&switches);
            tokio::spawn(async move {
                while let Ok(mut frame) = read_frame(&mut upstream_read).await {
                    if switches.silenced.load(Ordering::SeqCst) {
                        continue;
                    }
                    let correlation_id = i32::from_be_bytes(frame[0..4].try_into().unwrap());
                    let mut outbox = outbox.lock().await;
                    if let Some(slot) = outbox
                        .slots
                        .iter_mut()
                        .find(|s| s.correlation_id == correlation_id && s.frame.is_none())
                    {
                        if slot.api_key == METADATA {
                            rewrite_metadata_ports(&mut frame, slot.api_version, proxy_port);
                        }
                        if let Some(code) = slot.rewrite_error {
                            rewrite_produce_error(&mut frame, code);
                        }
                        slot.frame = Some(frame);
                    }
                    if outbox.drain().await.is_err() {
                        break;
                    }
                }
            })
        };
        while let Ok(frame) = read_frame(&mut client_read).await {
            loop {
                let released = switches.released.notified();
                if !switches.stalled.load(Ordering::SeqCst) {
                    break;
                }
                released.await;
            }
            if switches.silenced.load(Ordering::SeqCst) {
                continue;
            }
            let api_key = i16::from_be_bytes(frame[0..2].try_into().unwrap());
            let api_version = i16::from_be_bytes(frame[2..4].try_into().unwrap());
            let correlation_id = i32::from_be_bytes(frame[4..8].try_into().unwrap());
            let injection = match api_key {
                PRODUCE => control.injections.lock().unwrap().pop_front(),
                METADATA => {
                    control.metadata_requests.fetch_add(1, Ordering::SeqCst);
                    None
                }
                _ => None,
            };
            let mut slot = Slot {
                correlation_id,
                api_key,
                api_version,
                rewrite_error: None,
                then_silence: injection.is_some_and(|i| i.then_silence),
                frame: None,
            };
            let forward = match injection {
                Some(i) if !i.forward => {
                    slot.frame = Some(produce_error_response(&frame, i.error_code));
                    false
                }
                Some(i) => {
                    slot.rewrite_error = Some(i.error_code);
                    true
                }
                None => true,
            };
            {
                let mut outbox = outbox.lock().await;
                outbox.slots.push_back(slot);
                if outbox.drain().await.is_err() {
                    break;
                }
            }
            if forward && write_frame(&mut upstream_write, &frame).await.is_err() {
                break;
            }
        }
        answers.abort();
    }

    async fn read_frame(stream: &mut (impl AsyncRead + Unpin)) -> std::io::Result<Vec<u8>> {
        let len = stream.read_i32().await?;
        let mut frame = vec![0; usize::try_from(len).unwrap_or(0)];
        stream.read_exact(&mut frame).await?;
        Ok(frame)
    }

    async fn write_frame(stream: &mut OwnedWriteHalf, frame: &[u8]) -> std::io::Result<()> {
        stream.write_i32(frame.len() as i32).await?;
        stream.write_all(frame).await?;
        stream.flush().await
    }

    struct Cursor<'a>(&'a [u8], usize);

    impl Cursor<'_> {
        fn take(&mut self, n: usize) -> &[u8] {
            let s = &self.0[self.1..self.1 + n];
            self.1 += n;
            s
        }
        fn i16(&mut self) -> i16 {
            i16::from_be_bytes(self.take(2).try_into().unwrap())
        }
        fn i32(&mut self) -> i32 {
            i32::from_be_bytes(self.take(4).try_into().unwrap())
        }
        fn skip_string(&mut self) {
            let len = self.i16();
            if len > 0 {
                self.take(len as usize);
            }
        }
    }

    /// The broker's answer to a produce request (v3-v7, one topic, one partition) with `error_code`.
    fn produce_error_response(request: &[u8], error_code: i16) -> Vec<u8> {
        let mut r = Cursor(request, 0);
        r.i16(); // api key
        let version = r.i16();
        let correlation_id = r.i32();
        r.skip_string(); // client id
        r.skip_string(); // transactional id
        r.i16(); // acks
        r.i32(); // timeout
        assert_eq!(r.i32(), 1, "one topic per produce request");
        let name_len = r.i16();
        let name = r.take(name_len as usize).to_vec();
        assert_eq!(r.i32(), 1, "one partition per produce request");
        let partition = r.i32();
        let mut out = Vec::new();
        out.extend_from_slice(&correlation_id.to_be_bytes());
        out.extend_from_slice(&1i32.to_be_bytes());
        out.extend_from_slice(&name_len.to_be_bytes());
        out.extend_from_slice(&name);
        out.extend_from_slice(&1i32.to_be_bytes());
        out.extend_from_slice(&partition.to_be_bytes());
        out.extend_from_slice(&error_code.to_be_bytes());
        out.extend_from_slice(&(-1i64).to_be_bytes()); // base offset
        if version >= 2 {
            out.extend_from_slice(&(-1i64).to_be_bytes()); // log append time
        }
        if version >= 5 {
            out.extend_from_slice(&(-1i64).to_be_bytes()); // log start offset
        }
        out.extend_from_slice(&0i32.to_be_bytes()); // throttle time
        out
    }

    /// Replaces the partition error code in a produce response (v3-v7, one topic, one partition).
    fn rewrite_produce_error(frame: &mut [u8], error_code: i16) {
        let mut r = Cursor(frame, 4);
        assert_eq!(r.i32(), 1);
        r.skip_string();
        assert_eq!(r.i32(), 1);
        r.i32(); // partition
        let at = r.1;
        frame[at..at + 2].copy_from_slice(&error_code.to_be_bytes());
    }

    /// Points every broker of a metadata response (v0-v8) at the proxy.
    fn rewrite_metadata_ports(frame: &mut [u8], version: i16, port: u16) {
        let mut r = Cursor(frame, 4);
        if version >= 3 {
            r.i32(); // throttle time
        }
        let brokers = r.i32();
        let mut ports = Vec::new();
        for _ in 0..brokers {
            r.i32(); // node id
            r.skip_string(); // host
            ports.push(r.1);
            r.i32();
            if version >= 1 {
                r.skip_string(); // rack
            }
        }
        for at in ports {
            frame[at..at + 4].copy_from_slice(&i32::from(port).to_be_bytes());
        }
    }
}

use fault_proxy::{FaultProxy, Injection};

/// The broker's PLAINTEXT listener, where the proxy forwards to.
fn plaintext_upstream() -> SocketAddr {
    env("LOCAL_STACK_PLAINTEXT_BOOTSTRAP")
        .parse()
        .expect("LOCAL_STACK_PLAINTEXT_BOOTSTRAP is host:port")
}

/// PLAINTEXT settings whose only bootstrap server is `proxy`, with a short connect timeout.
fn settings_via(proxy: &FaultProxy, connect_timeout: Duration) -> KafkaSettings {
    KafkaSettings {
        bootstrap_servers: BootstrapServers::parse(&proxy.addr()).unwrap(),
        security_protocol: SecurityProtocol::Plaintext,
        sasl_mechanism: SaslMechanism::Plain,
        api_key: None,
        api_secret: None,
        ca_file: None,
        connect_timeout,
    }
}

fn connector_via(proxy: &FaultProxy) -> Arc<Connector> {
    Arc::new(Connector::new(
        &settings_via(proxy, Duration::from_secs(3)),
        None,
    ))
}

fn assert_books_balance(snap: &StatsSnapshot) {
    assert_eq!(
        snap.sent,
        snap.acked + snap.failed + snap.in_flight_records,
        "{snap:?}"
    );
    assert!(snap.acked + snap.failed <= snap.sent, "{snap:?}");
}

/// Samples snapshots until stopped, checking the books balance in every one.
fn watch_books(handle: ProducerHandle) -> (Arc<AtomicBool>, tokio::task::JoinHandle<u64>) {
    let stop = Arc::new(AtomicBool::new(false));
    let task = {
        let stop = Arc::clone(&stop);
        tokio::spawn(async move {
            let mut samples = 0;
            while !stop.load(Ordering::SeqCst) {
                assert_books_balance(&handle.snapshot());
                samples += 1;
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            samples
        })
    };
    (stop, task)
}

async fn send_ids(handle: &ProducerHandle, ids: std::ops::Range<u64>) {
    for id in ids {
        handle
            .send(id.to_string().as_bytes(), format!("value-{id}").as_bytes())
            .await
            .unwrap();
    }
}

/// Ids per partition as read back from the topic.
async fn ids_on_topic(kafka: &kafka::Kafka, topic: &str, partitions: i32) -> Vec<Vec<u64>> {
    consume_all(kafka, topic, partitions)
        .await
        .into_iter()
        .map(|records| {
            records
                .iter()
                .map(|r| std::str::from_utf8(&r.key).unwrap().parse().unwrap())
                .collect()
        })
        .collect()
}

/// A leader change followed by the old leader's connection going silent (the broker host vanished
/// without closing its sockets): the engine must stop asking the dead connection for metadata and
/// find the leader through the bootstrap servers again, instead of hanging on it until every record
/// times out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn a_silent_cached_connection_does_not_block_leader_lookups_forever() {
    let (kafka, topic) = kafka_with_topic("review-silent-cached", 1).await;
    let proxy = FaultProxy::start(plaintext_upstream()).await;
    let settings = ProducerSettings {
        linger: Duration::ZERO,
        delivery_timeout: Duration::from_secs(25),
        ..ProducerSettings::default()
    };
    let producer = Producer::start(connector_via(&proxy), &topic, 1, &settings, vec![]).unwrap();
    let handle = producer.handle();
    send_ids(&handle, 0..1).await;
    handle.flush().await;
    assert_eq!(handle.snapshot().acked, 1);

    proxy.inject(Injection {
        error_code: NOT_LEADER_OR_FOLLOWER,
        forward: false,
        then_silence: true,
    });
    send_ids(&handle, 1..2).await;
    timeout(Duration::from_secs(60), handle.flush())
        .await
        .expect("flush ends within the delivery timeout");
    let snap = handle.snapshot();
    assert_eq!(
        (snap.acked, snap.failed),
        (2, 0),
        "the record after the leader change was not delivered although new connections work: {snap:?}"
    );
    send_ids(&handle, 2..3).await;
    let snap = timeout(Duration::from_secs(60), producer.close())
        .await
        .expect("close ends");
    assert_eq!((snap.sent, snap.acked, snap.failed), (3, 3, 0), "{snap:?}");
    assert_eq!(snap.possible_duplicates, 0, "{snap:?}");
    assert_eq!(ids_on_topic(&kafka, &topic, 1).await, vec![vec![0, 1, 2]]);
}

/// `NOT_LEADER_OR_FOLLOWER` (nothing appended) is retried after fresh metadata: every record once,
/// and none counted as a possible duplicate; with one request in flight per partition, in order.
/// (With more, a batch pipelined behind a rejected one may be written first — documented.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn not_leader_is_retried_with_fresh_metadata_exactly_once_in_order() {
    let (kafka, topic) = kafka_with_topic("review-not-leader", 3).await;
    let proxy = FaultProxy::start(plaintext_upstream()).await;
    let settings = ProducerSettings {
        batch_size: std::num::NonZeroUsize::new(2_000).unwrap(),
        linger: Duration::from_millis(1),
        max_in_flight: std::num::NonZeroUsize::new(1).unwrap(),
        ..ProducerSettings::default()
    };
    let producer = Producer::start(connector_via(&proxy), &topic, 3, &settings, vec![]).unwrap();
    let handle = producer.handle();
    let (stop, watcher) = watch_books(handle.clone());
    send_ids(&handle, 0..500).await;
    handle.flush().await;
    let metadata_before = proxy.metadata_requests();
    for _ in 0..6 {
        proxy.inject(Injection {
            error_code: NOT_LEADER_OR_FOLLOWER,
            forward: false,
            then_silence: false,
        });
    }
    send_ids(&handle, 500..3_000).await;
    let snap = timeout(Duration::from_secs(60), producer.close())
        .await
        .expect("close ends");
    stop.store(true, Ordering::SeqCst);
    assert!(watcher.await.unwrap() > 0);
    assert_eq!(proxy.pending_injections(), 0);
    assert_eq!(
        (snap.sent, snap.acked, snap.failed),
        (3_000, 3_000, 0),
        "{snap:?}"
    );
    assert_eq!(snap.possible_duplicates, 0, "{snap:?}");
    assert!(
        proxy.metadata_requests() > metadata_before,
        "no metadata refresh after NOT_LEADER_OR_FOLLOWER"
    );
    let mut total = 0;
    for ids in ids_on_topic(&kafka, &topic, 3).await {
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "order or duplicates");
        total += ids.len();
    }
    assert_eq!(total, 3_000);
}

/// `REQUEST_TIMED_OUT` after the broker appended: the retry writes the batch again, and the
/// summary's `possible_duplicates` covers every record that is on the topic twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn an_error_after_append_is_counted_as_possible_duplicates() {
    let (kafka, topic) = kafka_with_topic("review-after-append", 1).await;
    let proxy = FaultProxy::start(plaintext_upstream()).await;
    let settings = ProducerSettings {
        linger: Duration::ZERO,
        max_in_flight: std::num::NonZeroUsize::new(1).unwrap(),
        ..ProducerSettings::default()
    };
    let producer = Producer::start(connector_via(&proxy), &topic, 1, &settings, vec![]).unwrap();
    let handle = producer.handle();
    send_ids(&handle, 0..10).await;
    handle.flush().await;
    proxy.inject(Injection {
        error_code: REQUEST_TIMED_OUT,
        forward: true,
        then_silence: false,
    });
    send_ids(&handle, 10..20).await;
    let snap = timeout(Duration::from_secs(60), producer.close())
        .await
        .expect("close ends");
    assert_eq!(
        (snap.sent, snap.acked, snap.failed),
        (20, 20, 0),
        "{snap:?}"
    );
    let ids = ids_on_topic(&kafka, &topic, 1).await.remove(0);
    let mut copies: HashMap<u64, u64> = HashMap::new();
    for id in &ids {
        *copies.entry(*id).or_default() += 1;
    }
    assert_eq!(copies.len(), 20);
    let duplicated = copies.values().filter(|&&n| n > 1).count() as u64;
    assert!(duplicated > 0, "the injected error did not cause a retry");
    assert!(
        snap.possible_duplicates >= duplicated,
        "{duplicated} records are on the topic twice but possible_duplicates = {}",
        snap.possible_duplicates
    );
}

/// A broker that stops answering (sockets open, no RST): every record still ends — failed at the
/// delivery timeout — the memory comes back, and the failure reasons stay a handful of stable
/// strings (they key the summary's and the metrics' per-reason counts, so a reason that embeds a
/// measured duration would make every batch its own row and label).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn a_silent_broker_fails_every_record_by_the_delivery_timeout_under_few_reasons() {
    let (_kafka, topic) = kafka_with_topic("review-silent-broker", 6).await;
    let proxy = FaultProxy::start(plaintext_upstream()).await;
    let settings = ProducerSettings {
        batch_size: std::num::NonZeroUsize::new(1_000).unwrap(),
        linger: Duration::from_millis(1),
        delivery_timeout: Duration::from_secs(4),
        ..ProducerSettings::default()
    };
    let producer = Producer::start(connector_via(&proxy), &topic, 6, &settings, vec![]).unwrap();
    let handle = producer.handle();
    let (stop, watcher) = watch_books(handle.clone());
    send_ids(&handle, 0..600).await;
    handle.flush().await;
    proxy.silence_new(true);
    proxy.silence_existing();
    send_ids(&handle, 600..1_200).await;
    timeout(Duration::from_secs(60), handle.flush())
        .await
        .expect("flush ends by the delivery timeout");
    let snap = timeout(Duration::from_secs(60), producer.close())
        .await
        .expect("close ends");
    stop.store(true, Ordering::SeqCst);
    assert!(watcher.await.unwrap() > 0);
    assert_eq!(
        (snap.sent, snap.acked, snap.failed),
        (1_200, 600, 600),
        "{snap:?}"
    );
    assert_eq!(snap.buffered_bytes, 0, "{snap:?}");
    assert_eq!(
        snap.failed_by_reason.iter().map(|(_, n)| n).sum::<u64>(),
        snap.failed,
        "every failed record is counted under a reason: {snap:?}"
    );
    for (reason, _) in &snap.failed_by_reason {
        assert!(
            !has_measured_duration(reason),
            "a failure reason embeds a measured duration: {reason}"
        );
    }
    assert!(
        snap.failed_by_reason.len() <= 6,
        "failure reasons should be a few stable strings, got {}: {:#?}",
        snap.failed_by_reason.len(),
        snap.failed_by_reason
    );
}

/// True when `text` holds a duration printed with a fraction (`3.999096973s`, `12.5ms`): a measured
/// wait, unlike a configured bound (`3s`) or an address (`127.0.0.1:9092`).
fn has_measured_duration(text: &str) -> bool {
    let bytes = text.as_bytes();
    (1..bytes.len()).any(|dot| {
        if bytes[dot] != b'.' || !bytes[dot - 1].is_ascii_digit() {
            return false;
        }
        let digits = bytes[dot + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let unit = &text[dot + 1 + digits..];
        digits > 0 && ["s", "ms", "µs", "ns"].iter().any(|u| unit.starts_with(u))
    })
}

#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn measured_durations_are_told_from_bounds_and_addresses() {
    assert!(has_measured_duration("no response within 3.999096973s"));
    assert!(has_measured_duration("waited 12.5ms"));
    assert!(!has_measured_duration("no answer within 3s"));
    assert!(!has_measured_duration("cannot connect to 127.0.0.1:9092"));
}

/// Admin calls on a connection that went silent end within the connect timeout with an error,
/// instead of waiting forever (the run would hang before producing anything).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn admin_calls_to_a_silent_broker_end_within_the_connect_timeout() {
    init_logs();
    let proxy = FaultProxy::start(plaintext_upstream()).await;
    let kafka = kafka::connect(&settings_via(&proxy, Duration::from_secs(2)))
        .await
        .expect("connect through the proxy");
    assert!(kafka.cluster_info().await.is_ok());
    proxy.silence_new(true);
    proxy.silence_existing();
    let metadata = timeout(Duration::from_secs(30), kafka.partition_count("shoes"))
        .await
        .expect("partition_count must not wait forever on a silent broker");
    assert!(metadata.is_err(), "{metadata:?}");
    let client = timeout(Duration::from_secs(30), kafka.client())
        .await
        .expect("building rskafka's client must not wait forever on a silent broker");
    assert!(client.is_err());
    let created = timeout(
        Duration::from_secs(60),
        kafka.create_topic("review-never-created", 1, 1),
    )
    .await
    .expect("create_topic must not wait forever on a silent broker");
    assert!(created.is_err(), "{created:?}");
}

/// Panics on its first acked batch, like a buggy metrics exporter.
#[derive(Debug, Default)]
struct PanicsOnFirstAck(AtomicBool);

impl DeliveryObserver for PanicsOnFirstAck {
    fn acked(&self, _: i32, _: i64, _: &[Duration], _: u64) {
        if !self.0.swap(true, Ordering::SeqCst) {
            panic!("observer bug (injected by the test)");
        }
    }
    fn failed(&self, _: i32, _: u64, _: &str) {}
}

/// A delivery observer that panics must not take a partition's sender down with it: the records
/// behind it would never be acked or failed, `flush` would wait forever and the run would end
/// with records in neither state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn a_panicking_observer_does_not_strand_records() {
    let (_kafka, topic) = kafka_with_topic("review-observer-panic", 2).await;
    let proxy = FaultProxy::start(plaintext_upstream()).await;
    let observers: Vec<Arc<dyn DeliveryObserver>> = vec![Arc::new(PanicsOnFirstAck::default())];
    let settings = ProducerSettings {
        linger: Duration::ZERO,
        ..ProducerSettings::default()
    };
    let producer = Producer::start(connector_via(&proxy), &topic, 2, &settings, observers).unwrap();
    let handle = producer.handle();
    send_ids(&handle, 0..200).await;
    timeout(Duration::from_secs(30), handle.flush())
        .await
        .expect("flush returns although an observer panicked");
    send_ids(&handle, 200..400).await;
    let snap = timeout(Duration::from_secs(30), producer.close())
        .await
        .expect("close ends");
    assert_eq!(
        (snap.sent, snap.acked, snap.failed),
        (400, 400, 0),
        "{snap:?}"
    );
}

/// A `flush` whose future is dropped before it finishes (a caller's timeout) must not leave the
/// engine flushing for ever, which would ignore `linger` from then on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn a_cancelled_flush_does_not_disable_linger() {
    let (_kafka, topic) = kafka_with_topic("review-cancelled-flush", 1).await;
    let proxy = FaultProxy::start(plaintext_upstream()).await;
    let settings = ProducerSettings {
        linger: Duration::from_secs(3_600),
        ..ProducerSettings::default()
    };
    let producer = Producer::start(connector_via(&proxy), &topic, 1, &settings, vec![]).unwrap();
    let handle = producer.handle();
    send_ids(&handle, 0..1).await;
    // Polled once (the record is not acked yet), then dropped.
    assert!(timeout(Duration::ZERO, handle.flush()).await.is_err());
    timeout(Duration::from_secs(20), handle.flush())
        .await
        .expect("flush ignores linger");
    assert_eq!(handle.snapshot().acked, 1);
    send_ids(&handle, 1..2).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let snap = handle.snapshot();
    assert_eq!(
        (snap.acked, snap.in_flight_records),
        (1, 1),
        "a record went out before its hour of linger: a flush is still in effect"
    );
    let snap = producer.close().await;
    assert_eq!((snap.sent, snap.acked), (2, 2));
}

/// `flush` waits for the records sent before it, not for a moment when nothing at all is in
/// flight: while another task keeps sending, that moment may never come.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn flush_returns_while_another_task_keeps_sending() {
    let (_kafka, topic) = kafka_with_topic("review-busy-flush", 3).await;
    let proxy = FaultProxy::start(plaintext_upstream()).await;
    let settings = ProducerSettings {
        buffer_memory: std::num::NonZeroUsize::new(64 * 1024).unwrap(),
        batch_size: std::num::NonZeroUsize::new(4 * 1024).unwrap(),
        ..ProducerSettings::default()
    };
    let producer = Producer::start(connector_via(&proxy), &topic, 3, &settings, vec![]).unwrap();
    let handle = producer.handle();
    let stop = Arc::new(AtomicBool::new(false));
    let sent_by_other = Arc::new(AtomicU64::new(0));
    let other = {
        let handle = handle.clone();
        let stop = Arc::clone(&stop);
        let sent = Arc::clone(&sent_by_other);
        tokio::spawn(async move {
            let mut id = 1_000_000u64;
            while !stop.load(Ordering::SeqCst) {
                handle
                    .send(id.to_string().as_bytes(), &[b'x'; 200])
                    .await
                    .unwrap();
                id += 1;
                sent.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    while sent_by_other.load(Ordering::SeqCst) < 2_000 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    send_ids(&handle, 0..100).await;
    let flushed = timeout(Duration::from_secs(30), handle.flush()).await;
    stop.store(true, Ordering::SeqCst);
    other.await.unwrap();
    assert!(
        flushed.is_ok(),
        "flush did not return while another task kept sending"
    );
    let snap = producer.close().await;
    assert_eq!(snap.acked, snap.sent, "{snap:?}");
}

/// Ids `from..` whose keys the producer puts on `partition`, `n` of them.
fn ids_on_partition(handle: &ProducerHandle, partition: i32, from: u64, n: usize) -> Vec<u64> {
    (from..)
        .filter(|id| handle.partition_for(id.to_string().as_bytes()) == partition)
        .take(n)
        .collect()
}

/// A partition must not pipeline its requests over two connections: when another partition's
/// timeout replaces the leader connection while this partition still has a request in flight on the
/// old (slow) one, a new request on the new connection can be written first — out of order with no
/// failure of this partition at all, which the documentation does not allow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn a_partition_does_not_overtake_its_own_request_on_a_new_connection() {
    let (kafka, topic) = kafka_with_topic("review-two-connections", 2).await;
    let proxy = FaultProxy::start(plaintext_upstream()).await;
    let settings = ProducerSettings {
        linger: Duration::ZERO,
        delivery_timeout: Duration::from_secs(10),
        ..ProducerSettings::default()
    };
    let producer = Producer::start(connector_via(&proxy), &topic, 2, &settings, vec![]).unwrap();
    let handle = producer.handle();
    let p0 = ids_on_partition(&handle, 0, 0, 3);
    let p1 = ids_on_partition(&handle, 1, 0, 2);
    let send = |id: u64| {
        let handle = handle.clone();
        async move { handle.send(id.to_string().as_bytes(), b"v").await.unwrap() }
    };
    send(p0[0]).await;
    send(p1[0]).await;
    handle.flush().await;

    // The link to the broker gets slow: requests on the open connection wait in the proxy.
    proxy.stall_existing();
    send(p1[1]).await; // will time out at +10 s, which drops the connection
    tokio::time::sleep(Duration::from_secs(4)).await;
    send(p0[1]).await; // in flight on the slow connection until +12 s
    tokio::time::sleep(Duration::from_millis(6_500)).await;
    send(p0[2]).await; // after the timeout: a new connection is opened for it
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    proxy.release();
    let snap = timeout(Duration::from_secs(60), producer.close())
        .await
        .expect("close ends");
    assert_eq!(snap.sent, 5, "{snap:?}");
    let on_topic = ids_on_topic(&kafka, &topic, 2).await;
    assert_eq!(
        on_topic[0], p0,
        "partition 0 holds {:?}, sent in the order {p0:?} ({snap:?})",
        on_topic[0]
    );
}
