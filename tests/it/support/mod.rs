//! Shared helpers for the integration tests: the local stack's settings from the environment, and
//! unique names so tests running in parallel never share a topic or subject.
//!
//! The tests need a real broker and registry: run them through `scripts/test.sh`, or bring the stack
//! up and `eval "$(scripts/local-stack.sh env)"` first. A missing variable fails the test, never skips it.
//!
//! The binary-level tests also find here: the built binary run with a cleared environment plus the
//! stack's variables (or with the caller's environment), a child process whose output is collected
//! while it runs (to signal it at the right moment), a port that notices connections, a `/metrics`
//! scraper, topic creation / read-back straight through rskafka and registry requests straight
//! through reqwest, so the oracle shares no code with the producer under test.

pub mod engine;
pub mod fault_proxy;

use std::{
    collections::HashMap,
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::Path,
    process::{Child, Command, ExitStatus, Output, Stdio},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    thread::JoinHandle,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use rskafka::client::{
    partition::UnknownTopicHandling, Client, ClientBuilder, Credentials, SaslConfig,
};

/// Reads a variable that `scripts/local-stack.sh env` exports, failing the test when it is missing.
pub fn stack_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: these tests need the local stack. Run scripts/test.sh, or \
             `scripts/local-stack.sh up && eval \"$(scripts/local-stack.sh env)\"` first"
        )
    })
}

/// A name no other test (in this run or an earlier one) uses: `<prefix>-<time>-<counter>`.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{}-{n}", nanos % 1_000_000_000_000)
}

// ---------------------------------------------------------------------------------------------------
// Running the real binary.
// ---------------------------------------------------------------------------------------------------

/// The binary under test: the one cargo built for these tests, or the one `SHOE_PRODUCER_BIN` names
/// (a release artifact, so what users download is what is tested).
pub fn bin() -> String {
    std::env::var("SHOE_PRODUCER_BIN")
        .ok()
        .filter(|path| !path.is_empty())
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_shoe-producer").to_owned())
}

/// Every connection variable (README, "Options") that `scripts/local-stack.sh env` exports; the topic is
/// always a flag.
pub const STACK_VARIABLES: [&str; 10] = [
    "BOOTSTRAP_SERVERS",
    "KAFKA_API_KEY",
    "KAFKA_API_SECRET",
    "KAFKA_SECURITY_PROTOCOL",
    "KAFKA_SASL_MECHANISM",
    "KAFKA_SSL_CA_LOCATION",
    "SCHEMA_REGISTRY_URL",
    "SCHEMA_REGISTRY_API_KEY",
    "SCHEMA_REGISTRY_API_SECRET",
    "SCHEMA_REGISTRY_SSL_CA_LOCATION",
];

/// The binary with an empty environment (PATH only), so the caller's variables never leak in.
pub fn bare_command() -> Command {
    let mut command = Command::new(bin());
    command.env_clear().stdin(Stdio::null());
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    command
}

/// The binary with PATH and the local stack's settings, exactly as `local-stack.sh env` exports them.
pub fn stack_command() -> Command {
    let mut command = bare_command();
    for name in STACK_VARIABLES {
        command.env(name, stack_env(name));
    }
    command
}

/// The binary with the caller's environment (where `eval "$(scripts/local-stack.sh env)"` put the
/// stack's settings) minus `RUST_LOG`, and `args`.
pub fn inherited_env_command(args: &[&str]) -> Command {
    let mut command = Command::new(bin());
    command.args(args).env_remove("RUST_LOG");
    command
}

/// A finished run of the binary.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    /// The `error: …` line on stderr of a failed run; the contract is exactly one.
    pub fn error_line(&self) -> &str {
        let errors: Vec<&str> = self
            .stderr
            .lines()
            .filter(|line| line.starts_with("error: "))
            .collect();
        assert_eq!(errors.len(), 1, "{}", self.transcript());
        errors[0]
    }

    /// The exit code (`None` if a signal killed it).
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// stdout and stderr, for assertion messages.
    pub fn transcript(&self) -> String {
        format!(
            "exit status: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.status, self.stdout, self.stderr
        )
    }

    /// The `--log-format json` summary line from stdout; fails the test when there is none.
    pub fn summary(&self) -> serde_json::Value {
        summary_line(&self.stdout)
            .unwrap_or_else(|| panic!("no JSON summary line on stdout\n{}", self.transcript()))
    }
}

impl From<Output> for Finished {
    /// A run collected with `Command::output` or `Child::wait_with_output`.
    fn from(output: Output) -> Self {
        Self {
            status: output.status,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// The JSON object with `"event":"summary"` in `stdout`, if any.
pub fn summary_line(stdout: &str) -> Option<serde_json::Value> {
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|json| json["event"] == "summary")
}

/// A child process whose stdout and stderr are collected as they come.
pub struct Running {
    child: Child,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
}

/// Starts `command` with piped stdout/stderr.
pub fn spawn(command: &mut Command) -> Running {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the shoe-producer binary");
    let stdout = Arc::new(Mutex::new(String::new()));
    let stderr = Arc::new(Mutex::new(String::new()));
    let readers = vec![
        collect(
            child.stdout.take().expect("piped stdout"),
            Arc::clone(&stdout),
        ),
        collect(
            child.stderr.take().expect("piped stderr"),
            Arc::clone(&stderr),
        ),
    ];
    Running {
        child,
        stdout,
        stderr,
        readers,
    }
}

fn collect(mut pipe: impl Read + Send + 'static, into: Arc<Mutex<String>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buffer = [0u8; 8192];
        loop {
            match pipe.read(&mut buffer) {
                Ok(0) | Err(_) => return,
                Ok(n) => into
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buffer[..n])),
            }
        }
    })
}

/// Runs `command` to its end; a run that outlives `limit` is killed and fails the test.
pub fn run_to_end(command: &mut Command, limit: Duration) -> Finished {
    spawn(command).finish(limit)
}

impl Running {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the process wrote to stderr so far.
    pub fn stderr_so_far(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until stderr contains `needle`; fails the test (killing the process) after `limit`.
    pub fn wait_for_stderr(&mut self, needle: &str, limit: Duration) {
        let started = Instant::now();
        while !self.stderr_so_far().contains(needle) {
            if started.elapsed() > limit || !self.is_running() {
                let _ = self.child.kill();
                panic!(
                    "stderr never showed {needle:?} (waited {limit:?})\n--- stderr ---\n{}",
                    self.stderr_so_far()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends a signal (`INT`, `TERM`, …) with the system's `kill`.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args(["-s", name, &self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -s {name} {} failed", self.pid());
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits for the exit and the end of both pipes; a process still running after `limit` is
    /// killed and fails the test.
    pub fn finish(mut self, limit: Duration) -> Finished {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for the binary") {
                break status;
            }
            if started.elapsed() > limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "shoe-producer still running after {limit:?}; killed it\n--- stdout ---\n{}\n--- stderr ---\n{}",
                    self.stdout.lock().unwrap(),
                    self.stderr.lock().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        let stdout = self.stdout.lock().unwrap().clone();
        let stderr = self.stderr.lock().unwrap().clone();
        Finished {
            status,
            stdout,
            stderr,
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // A failed assertion must not leave a producer running against the stack.
        if self.is_running() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A local port that was free a moment ago (bound to port 0, then released).
pub fn free_local_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("bind a free local port")
        .port()
}

/// A local TCP port that notices any connection attempt (to prove a command stayed offline).
pub struct Trap {
    listener: TcpListener,
}

impl Trap {
    pub fn new() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the trap");
        listener.set_nonblocking(true).expect("a non-blocking trap");
        Self { listener }
    }

    /// `127.0.0.1:<port>`.
    pub fn address(&self) -> String {
        self.listener.local_addr().unwrap().to_string()
    }

    /// Whether a connection arrived (and is waiting in the backlog).
    pub fn was_contacted(&self) -> bool {
        match self.listener.accept() {
            Ok(_) => true,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => false,
            Err(e) => panic!("accept failed: {e}"),
        }
    }
}

/// `GET path` over plain HTTP/1.1; the status code and body, or `None` when nothing answered.
pub fn http_get(addr: &str, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_owned()))
}

/// Prometheus text exposition as `series → value`, where a series is the name with its labels
/// exactly as written (`shoe_producer_records_failed_total{reason="x"}`).
pub fn parse_metrics(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            Some((series.to_owned(), value.parse().ok()?))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------------
// Kafka, straight through rskafka (not our modules), so the oracle does not share the producer's code.
// ---------------------------------------------------------------------------------------------------

/// Runs a future to completion on a fresh single-threaded runtime (tests here are synchronous).
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime")
        .block_on(future)
}

/// rustls trusting exactly the PEM certificates in `ca_file`.
pub fn stack_tls_config(ca_file: &Path) -> Arc<rustls::ClientConfig> {
    tls_config_trusting_only(Some(ca_file))
}

/// rustls trusting only the PEM certificates in `ca_file`; with `None` it trusts no certificate at
/// all (to prove a handshake fails without the stack's CA).
pub fn tls_config_trusting_only(ca_file: Option<&Path>) -> Arc<rustls::ClientConfig> {
    use rustls_pki_types::{pem::PemObject, CertificateDer};
    let mut roots = rustls::RootCertStore::empty();
    if let Some(ca_file) = ca_file {
        for cert in CertificateDer::pem_file_iter(ca_file).expect("CA file readable") {
            roots.add(cert.expect("CA PEM valid")).expect("CA accepted");
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// An rskafka client on the stack's SASL_SSL listener with its API key and `secret`, trusting only
/// `ca_file`; rskafka's retries give up after `deadline`.
pub async fn sasl_ssl_client(
    secret: &str,
    ca_file: Option<&Path>,
    deadline: Duration,
) -> Result<Client, rskafka::client::error::Error> {
    ClientBuilder::new(vec![stack_env("BOOTSTRAP_SERVERS")])
        .tls_config(tls_config_trusting_only(ca_file))
        .sasl_config(SaslConfig::Plain(Credentials::new(
            stack_env("KAFKA_API_KEY"),
            secret.to_owned(),
        )))
        .backoff_config(rskafka::BackoffConfig {
            init_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_millis(500),
            base: 2.0,
            deadline: Some(deadline),
        })
        .build()
        .await
}

/// An rskafka client on the stack's SASL_SSL listener with its key, secret and CA.
pub async fn stack_kafka_client() -> Client {
    let ca = stack_env("KAFKA_SSL_CA_LOCATION");
    sasl_ssl_client(
        &stack_env("KAFKA_API_SECRET"),
        Some(Path::new(&ca)),
        Duration::from_secs(20),
    )
    .await
    .expect("rskafka connects to the local stack over SASL_SSL")
}

/// Creates a fresh topic `<prefix>-…` with `partitions` partitions and returns its name.
pub fn create_topic(prefix: &str, partitions: i32) -> String {
    let topic = unique_name(prefix);
    block_on(async {
        let client = stack_kafka_client().await;
        client
            .controller_client()
            .expect("controller client")
            .create_topic(&topic, partitions, 1, 10_000)
            .await
            .unwrap_or_else(|e| panic!("create topic {topic}: {e}"));
        // The controller has the topic now; a broker learns of it from the metadata log a moment
        // later. Wait until the broker lists it, so the code under test never races the creation.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let listed = client.list_topics().await.unwrap_or_default();
            if listed
                .iter()
                .any(|t| t.name == topic && t.partitions.len() == partitions as usize)
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "topic {topic} not listed by the broker 30 s after its creation"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    topic
}

/// One record read back from a topic.
#[derive(Debug, Clone)]
pub struct ConsumedRecord {
    pub partition: i32,
    pub offset: i64,
    pub key: Vec<u8>,
    pub value: Vec<u8>,
    /// The record's CreateTime in milliseconds since the epoch.
    pub timestamp_ms: i64,
}

/// Reads every record of partitions `0..partitions` of `topic`, up to each high watermark.
pub fn consume_all(topic: &str, partitions: i32) -> Vec<ConsumedRecord> {
    block_on(async {
        let client = stack_kafka_client().await;
        let mut all = Vec::new();
        for partition in 0..partitions {
            all.extend(read_partition(&client, topic, partition).await);
        }
        all
    })
}

/// Reads every record of one partition of `topic` with `client`, in offset order, up to the high
/// watermark.
pub async fn read_partition(client: &Client, topic: &str, partition: i32) -> Vec<ConsumedRecord> {
    let partition_client = client
        .partition_client(topic, partition, UnknownTopicHandling::Retry)
        .await
        .expect("partition client");
    let mut records = Vec::new();
    let mut offset = 0;
    loop {
        let (batch, high_watermark) = partition_client
            .fetch_records(offset, 1..8_000_000, 1_000)
            .await
            .expect("fetch records");
        for fetched in batch {
            offset = fetched.offset + 1;
            records.push(ConsumedRecord {
                partition,
                offset: fetched.offset,
                key: fetched.record.key.unwrap_or_default(),
                value: fetched.record.value.unwrap_or_default(),
                timestamp_ms: fetched.record.timestamp.timestamp_millis(),
            });
        }
        if offset >= high_watermark {
            return records;
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// The Schema Registry, straight through reqwest + rustls (not our client), for the same reason.
// ---------------------------------------------------------------------------------------------------

/// reqwest trusting only the registry's CA (`SCHEMA_REGISTRY_SSL_CA_LOCATION`), with no credentials.
pub fn registry_http_client() -> reqwest::Client {
    let ca = stack_env("SCHEMA_REGISTRY_SSL_CA_LOCATION");
    reqwest::Client::builder()
        .tls_backend_preconfigured((*stack_tls_config(Path::new(&ca))).clone())
        .timeout(Duration::from_secs(20))
        .build()
        .expect("a reqwest client")
}

/// `method` on `SCHEMA_REGISTRY_URL` + `path` (e.g. `/subjects`), with the stack's Basic-auth key
/// and secret.
pub fn registry_request(
    client: &reqwest::Client,
    method: reqwest::Method,
    path: &str,
) -> reqwest::RequestBuilder {
    client
        .request(
            method,
            format!("{}{path}", stack_env("SCHEMA_REGISTRY_URL")),
        )
        .basic_auth(
            stack_env("SCHEMA_REGISTRY_API_KEY"),
            Some(stack_env("SCHEMA_REGISTRY_API_SECRET")),
        )
}

/// `GET path` on the registry with the stack's credentials; the JSON body of a successful answer.
pub async fn registry_get_json(client: &reqwest::Client, path: &str) -> serde_json::Value {
    registry_request(client, reqwest::Method::GET, path)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
        .error_for_status()
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: not JSON: {e}"))
}
