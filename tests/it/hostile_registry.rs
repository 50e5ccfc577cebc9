//! The binary against a Schema Registry that misbehaves on purpose — a tiny HTTP server in the test
//! that answers with a huge body, never answers, or trickles its headers — and against a Kafka
//! listener that never answers: each run ends by its bounds (the 1 MiB body cap, the one registry
//! deadline) or by a signal, with the exit code and one line saying what happened, and a huge answer
//! costs no memory. No stack is needed: the registry and the broker are fakes, and nothing gets far
//! enough to produce a record.

use crate::support;

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    os::unix::process::ExitStatusExt,
    process::{Command, ExitStatus, Stdio},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use support::{bare_command, spawn, Finished};

/// Hang guard: far above the registry's default deadline (30 s).
const LIMIT: Duration = Duration::from_secs(120);
/// The huge answer's size.
const HUGE: u64 = 50 * 1024 * 1024;

/// How the fake registry answers every request.
#[derive(Debug, Clone, Copy)]
enum Behaviour {
    /// This status and JSON body.
    Answer(u16, &'static str),
    /// `500` with an HTML body of [`HUGE`] bytes and no length, written as fast as it is read.
    HugeBody,
    /// Reads the request and never answers.
    Silent,
    /// Starts an answer, then sends one header byte every 100 ms, forever.
    Slowloris,
}

/// A fake registry (or any TCP peer) on loopback, counting requests and bytes it wrote.
struct FakeServer {
    address: String,
    requests: Arc<AtomicU64>,
    bytes_written: Arc<AtomicU64>,
}

impl FakeServer {
    fn start(behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fake server");
        let address = listener.local_addr().unwrap().to_string();
        let requests = Arc::new(AtomicU64::new(0));
        let bytes_written = Arc::new(AtomicU64::new(0));
        let (counted, written) = (Arc::clone(&requests), Arc::clone(&bytes_written));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (counted, written) = (Arc::clone(&counted), Arc::clone(&written));
                std::thread::spawn(move || serve(stream, behaviour, &counted, &written));
            }
        });
        Self {
            address,
            requests,
            bytes_written,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Waits until a request (or, for a fake broker, a connection) has arrived.
    fn wait_for_request(&self) {
        let started = Instant::now();
        while self.requests.load(Ordering::SeqCst) == 0 {
            assert!(
                started.elapsed() < LIMIT,
                "no request reached the fake server"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn serve(mut stream: TcpStream, behaviour: Behaviour, requests: &AtomicU64, written: &AtomicU64) {
    // Read the request head; its body, if any, is small and irrelevant here.
    let mut head = Vec::new();
    let mut byte = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&byte[..n]),
        }
        if matches!(behaviour, Behaviour::Silent) {
            break;
        }
    }
    requests.fetch_add(1, Ordering::SeqCst);
    let mut send = |bytes: &[u8]| -> bool {
        let ok = stream.write_all(bytes).is_ok();
        if ok {
            written.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        }
        ok
    };
    match behaviour {
        Behaviour::Answer(status, body) => {
            send(
                format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            );
        }
        Behaviour::HugeBody => {
            if !send(b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<html><body>") {
                return;
            }
            let chunk = vec![b'x'; 64 * 1024];
            let mut left = HUGE;
            while left > 0 && send(&chunk) {
                left = left.saturating_sub(chunk.len() as u64);
            }
        }
        Behaviour::Silent => std::thread::sleep(LIMIT),
        Behaviour::Slowloris => {
            if send(b"HTTP/1.1 200 OK\r\nx-slow: ") {
                while send(b"a") {
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
    }
}

/// `register` against `registry` (no credentials, so only the registry is involved).
fn register_command(registry: &FakeServer) -> Command {
    let mut command = bare_command();
    command
        .env("SCHEMA_REGISTRY_URL", registry.url())
        .args(["register", "--topic", "hostile"]);
    command
}

/// `produce` against `registry`, with a Kafka bootstrap that is only reached after the registry.
fn produce_command(registry: &FakeServer, bootstrap: &str) -> Command {
    let mut command = bare_command();
    command
        .env("SCHEMA_REGISTRY_URL", registry.url())
        .env("BOOTSTRAP_SERVERS", bootstrap)
        .env("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT")
        .args(["--log-format", "json", "produce", "--topic", "hostile"])
        .args(["--count", "1000", "--progress-interval", "0s"]);
    command
}

/// Runs `command` to its end and returns the run and the child's peak resident set in KiB, as the
/// kernel accounted it (`wait4`'s `ru_maxrss` for exactly this child).
// The child is reaped with `wait4`, which `Child::wait` cannot do: it drops the resource usage.
#[allow(clippy::zombie_processes)]
fn run_measuring_peak_rss(command: &mut Command) -> (Finished, u64) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the shoe-producer binary");
    let read_all = |mut pipe: Box<dyn Read + Send>| -> JoinHandle<String> {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = pipe.read_to_end(&mut text);
            String::from_utf8_lossy(&text).into_owned()
        })
    };
    let stdout = read_all(Box::new(child.stdout.take().unwrap()));
    let stderr = read_all(Box::new(child.stderr.take().unwrap()));
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    let started = Instant::now();
    let (status, peak_kib) = loop {
        let mut status = 0;
        // SAFETY: `rusage` is plain data, valid when zeroed; `wait4` writes only into the two
        // out-parameters, which live for the whole call.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let reaped = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if reaped == pid {
            break (status, u64::try_from(usage.ru_maxrss).unwrap());
        }
        assert_eq!(reaped, 0, "wait4 failed");
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            panic!("shoe-producer still running after {LIMIT:?}; killed it");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let run = Finished {
        status: ExitStatus::from_raw(status),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    };
    (run, peak_kib)
}

#[test]
fn a_huge_answer_is_refused_at_one_mebibyte_without_growing_memory() {
    // The same run against a registry that answers a small error: the binary's own footprint.
    let small = FakeServer::start(Behaviour::Answer(
        401,
        r#"{"error_code":40101,"message":"Unauthorized"}"#,
    ));
    let (baseline, baseline_kib) = run_measuring_peak_rss(&mut register_command(&small));
    assert_eq!(baseline.code(), Some(1), "{}", baseline.transcript());
    assert!(baseline.error_line().contains("HTTP 401"));

    let huge = FakeServer::start(Behaviour::HugeBody);
    let (run, peak_kib) = run_measuring_peak_rss(&mut register_command(&huge));
    let written = huge.bytes_written.load(Ordering::Relaxed);
    eprintln!(
        "peak RSS: {peak_kib} KiB against a {HUGE}-byte answer, {baseline_kib} KiB against a small one; \
         the server wrote {written} bytes before the client stopped reading"
    );
    assert_eq!(run.code(), Some(1), "{}", run.transcript());
    let line = run.error_line();
    assert!(
        line.contains("answered HTTP 500 with a body larger than 1 MiB while registering the schema for subject hostile-value; stopped reading it"),
        "{line}"
    );
    assert!(
        peak_kib < baseline_kib + 16 * 1024,
        "peak RSS {peak_kib} KiB, {baseline_kib} KiB without the huge answer"
    );
    assert!(written < HUGE / 2, "the client read {written} bytes");
}

#[test]
fn a_registry_that_never_answers_ends_the_run_at_the_deadline() {
    let silent = FakeServer::start(Behaviour::Silent);
    let slowloris = FakeServer::start(Behaviour::Slowloris);
    let runs: Vec<Finished> = std::thread::scope(|scope| {
        [&silent, &slowloris]
            .map(|registry| {
                scope.spawn(|| support::run_to_end(&mut register_command(registry), LIMIT))
            })
            .map(|run| run.join().unwrap())
            .into()
    });
    for run in &runs {
        assert_eq!(run.code(), Some(1), "{}", run.transcript());
        let line = run.error_line();
        assert!(
            line.contains("gave no answer within 30s (--registry-timeout) while registering the schema for subject hostile-value"),
            "{line}"
        );
    }
}

#[test]
fn a_signal_while_the_registry_is_asked_stops_the_run_at_once_with_an_empty_summary() {
    let silent = FakeServer::start(Behaviour::Silent);
    let running = spawn(&mut produce_command(&silent, "127.0.0.1:1"));
    silent.wait_for_request();
    running.signal("TERM");
    let run = running.finish(LIMIT);

    // Had the signal been missed, the registry's deadline would have failed the run with exit 1.
    assert_eq!(run.code(), Some(0), "{}", run.transcript());
    assert!(
        run.stderr.contains("SIGTERM received: stopping the run"),
        "{}",
        run.transcript()
    );
    assert!(
        run.stderr.contains(
            "stopped while asking the Schema Registry for the schema id: nothing was produced"
        ),
        "{}",
        run.transcript()
    );
    let summary = run.summary();
    assert_eq!(summary["sent"], 0, "{summary}");
    assert_eq!(summary["stop_reason"], "signal", "{summary}");
}

#[test]
fn a_signal_while_kafka_is_reached_stops_the_run_at_once() {
    let registry = FakeServer::start(Behaviour::Answer(200, r#"{"id":7}"#));
    // A "broker" that accepts connections and never answers.
    let broker = FakeServer::start(Behaviour::Silent);
    let running = spawn(&mut produce_command(&registry, &broker.address));
    broker.wait_for_request();
    running.signal("INT");
    let run = running.finish(LIMIT);

    assert_eq!(run.code(), Some(0), "{}", run.transcript());
    assert!(
        run.stderr
            .contains("stopped while connecting to Kafka: nothing was produced"),
        "{}",
        run.transcript()
    );
    let summary = run.summary();
    assert_eq!(summary["sent"], 0, "{summary}");
    assert_eq!(summary["schema_id"], 7, "{summary}");
}
