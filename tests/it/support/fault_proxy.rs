//! A Kafka-aware TCP proxy for fault tests, placed between the producer and the broker's PLAINTEXT
//! listener on loopback.
//!
//! It forwards whole request/response frames and can: rewrite the broker port in metadata responses
//! (so the leader connections go through it too, not only the bootstrap one), answer a produce
//! request itself with an error (`NOT_LEADER_OR_FOLLOWER`: nothing was appended), forward a produce
//! request and turn its answer into an error (`REQUEST_TIMED_OUT`: appended, outcome unknown to the
//! client), forward a produce request and close the connection instead of answering (the answer is
//! lost: appended, outcome unknown), make requests wait (a slow link), and make connections go
//! silent — sockets stay open, nothing is answered, as when a broker host vanishes or the network
//! drops packets. The broker itself is never stopped, so tests using it run in parallel with
//! everything else.

use std::{
    collections::VecDeque,
    net::SocketAddr,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex,
    },
};

use shoe_producer::settings::{BootstrapServers, KafkaSettings, SaslMechanism, SecurityProtocol};
use std::time::Duration;
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWriteExt},
    net::{tcp::OwnedWriteHalf, TcpListener, TcpStream},
    sync::Mutex as AsyncMutex,
    task::JoinHandle,
};

const PRODUCE: i16 = 0;
const METADATA: i16 = 3;
const INIT_PRODUCER_ID: i16 = 22;

/// Kafka error codes the proxy injects.
pub const NOT_LEADER_OR_FOLLOWER: i16 = 6;
pub const REQUEST_TIMED_OUT: i16 = 7;

/// What happens to a produce request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answered here with this error code; the broker never sees the request.
    Refuse(i16),
    /// Forwarded; the broker's answer reaches the client with this error code instead.
    RewriteAnswer(i16),
    /// Forwarded; the answer is dropped and the client's connection closed.
    LoseAnswer,
}

/// What to do with the next produce request.
#[derive(Debug, Clone, Copy)]
pub struct Injection {
    pub fault: Fault,
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
    /// Answer every InitProducerId request here with this error code.
    init_producer_id_error: Mutex<Option<i16>>,
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

    /// PLAINTEXT settings whose only bootstrap server is this proxy.
    pub fn plaintext_settings(&self, connect_timeout: Duration) -> KafkaSettings {
        KafkaSettings {
            bootstrap_servers: BootstrapServers::parse(&self.addr()).unwrap(),
            security_protocol: SecurityProtocol::Plaintext,
            sasl_mechanism: SaslMechanism::Plain,
            api_key: None,
            api_secret: None,
            ca_file: None,
            connect_timeout,
        }
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

    /// Every InitProducerId request is answered here with `error_code`, as a broker that refuses
    /// the producer id (e.g. 31, `CLUSTER_AUTHORIZATION_FAILED`).
    pub fn refuse_producer_ids(&self, error_code: i16) {
        *self.control.init_producer_id_error.lock().unwrap() = Some(error_code);
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
    /// Close the client connection instead of writing this answer.
    then_close: bool,
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
            if slot.then_close {
                self.client.shutdown().await?;
                return Err(std::io::ErrorKind::ConnectionAborted.into());
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
                        rewrite_produce_error(&mut frame, slot.api_version, code);
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
            then_close: false,
            frame: None,
        };
        let refusal = *control.init_producer_id_error.lock().unwrap();
        if let (INIT_PRODUCER_ID, Some(code)) = (api_key, refusal) {
            slot.frame = Some(init_producer_id_error_response(
                correlation_id,
                api_version,
                code,
            ));
        }
        let forward = slot.frame.is_none()
            && match injection.map(|i| i.fault) {
                Some(Fault::Refuse(code)) => {
                    slot.frame = Some(produce_error_response(&frame, code));
                    false
                }
                Some(Fault::RewriteAnswer(code)) => {
                    slot.rewrite_error = Some(code);
                    true
                }
                Some(Fault::LoseAnswer) => {
                    slot.then_close = true;
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

/// The broker's answer to a produce request (v3-v7, one topic) with `error_code` for every
/// partition in it.
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
    let partitions = r.i32();
    let mut out = Vec::new();
    out.extend_from_slice(&correlation_id.to_be_bytes());
    out.extend_from_slice(&1i32.to_be_bytes());
    out.extend_from_slice(&name_len.to_be_bytes());
    out.extend_from_slice(&name);
    out.extend_from_slice(&partitions.to_be_bytes());
    for _ in 0..partitions {
        let partition = r.i32();
        let batch_len = r.i32();
        r.take(batch_len.max(0) as usize);
        out.extend_from_slice(&partition.to_be_bytes());
        out.extend_from_slice(&error_code.to_be_bytes());
        out.extend_from_slice(&(-1i64).to_be_bytes()); // base offset
        if version >= 2 {
            out.extend_from_slice(&(-1i64).to_be_bytes()); // log append time
        }
        if version >= 5 {
            out.extend_from_slice(&(-1i64).to_be_bytes()); // log start offset
        }
    }
    out.extend_from_slice(&0i32.to_be_bytes()); // throttle time
    out
}

/// The broker's answer to an InitProducerId request (v0-v5) with `error_code`.
fn init_producer_id_error_response(correlation_id: i32, version: i16, error_code: i16) -> Vec<u8> {
    let flexible = version >= 2;
    let mut out = correlation_id.to_be_bytes().to_vec();
    if flexible {
        out.push(0); // response header tagged fields
    }
    out.extend_from_slice(&0i32.to_be_bytes()); // throttle time
    out.extend_from_slice(&error_code.to_be_bytes());
    out.extend_from_slice(&(-1i64).to_be_bytes()); // producer id
    out.extend_from_slice(&(-1i16).to_be_bytes()); // epoch
    if flexible {
        out.push(0); // body tagged fields
    }
    out
}

/// Replaces the error code of every partition in a produce response (v3-v7, one topic).
fn rewrite_produce_error(frame: &mut [u8], version: i16, error_code: i16) {
    let mut r = Cursor(frame, 4);
    assert_eq!(r.i32(), 1);
    r.skip_string();
    let partitions = r.i32();
    let mut at = Vec::new();
    for _ in 0..partitions {
        r.i32(); // partition
        at.push(r.1);
        r.i16(); // error code
        r.take(8); // base offset
        if version >= 2 {
            r.take(8); // log append time
        }
        if version >= 5 {
            r.take(8); // log start offset
        }
    }
    for at in at {
        frame[at..at + 2].copy_from_slice(&error_code.to_be_bytes());
    }
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
