//! Connecting to the local stack, and each failure a user can cause ending in one line that names the
//! setting to fix: wrong password, unknown CA, a name the certificate does not hold, the wrong
//! security protocol for the port (both ways, with the memory it took), SASL on a port without it and
//! the reverse, an address that refuses or does not resolve, a missing topic, a topic the broker will
//! not create. The TLS classification is shared with the registry client, so it is also checked on
//! reqwest's errors from the stack's HTTPS registry.

use crate::support::{self, engine as engine_support, Finished};

use std::{
    io::Read,
    net::{Shutdown, TcpListener, TcpStream},
    os::unix::process::{CommandExt, ExitStatusExt},
    path::PathBuf,
    process::{Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use engine_support::kafka_settings;
use shoe_producer::{
    kafka::{self, KafkaError},
    settings::BootstrapServers,
    settings::SecurityProtocol,
    support::{secret::Secret, tls::TlsFailure},
};

/// Peak resident memory a failed start may take, in KiB: the runtime, TLS and registry client, and
/// no more (a garbage frame length read as a size and allocated would cost ~100 MB).
const PEAK_RSS_LIMIT_KIB: i64 = 40 * 1024;

/// How long a run that should fail at start-up may take before the test kills it (a hang guard).
const HANG_GUARD: Duration = Duration::from_secs(60);

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn connects_and_describes_the_cluster() {
    let kafka = kafka::connect(&kafka_settings()).await.expect("connect");
    let cluster = kafka.cluster_info().await.unwrap();
    assert!(!cluster.brokers.is_empty());
    let bootstrap = kafka_settings().bootstrap_servers[0].clone();
    assert!(
        cluster.brokers.iter().any(|b| b.address() == bootstrap),
        "{cluster:?} does not advertise {bootstrap}"
    );
    assert_eq!(
        kafka
            .partition_count(&engine_support::env("KAFKA_TOPIC"))
            .await
            .unwrap(),
        6
    );
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn a_wrong_password_fails_at_once_without_leaking_it() {
    let secret = "wrong-Secret-7f3a9c-distinctive";
    let mut settings = kafka_settings();
    settings.api_secret = Some(Secret::new(secret));
    settings.connect_timeout = Duration::from_secs(60);
    let started = Instant::now();
    let error = kafka::connect(&settings).await.expect_err("wrong password");
    let waited = started.elapsed();
    assert!(
        matches!(error, KafkaError::AuthenticationFailed { .. }),
        "{error:?}"
    );
    assert!(
        waited < Duration::from_secs(15),
        "took {waited:?}: no retry loop on a rejected password"
    );
    let message = error.to_string();
    assert!(message.contains("KAFKA_API_SECRET"), "{message}");
    assert!(!message.contains(secret) && !format!("{error:?}").contains(secret));
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn an_unknown_ca_names_kafka_ssl_ca_location() {
    let mut settings = kafka_settings();
    settings.ca_file = None; // only the bundled public roots: the stack's private CA is unknown
    let error = kafka::connect(&settings)
        .await
        .expect_err("untrusted certificate");
    assert!(
        matches!(
            error,
            KafkaError::Tls {
                failure: TlsFailure::UnknownIssuer,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("set KAFKA_SSL_CA_LOCATION"),
        "{error}"
    );
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn a_ca_file_that_does_not_exist_names_the_setting() {
    let mut settings = kafka_settings();
    settings.ca_file = Some(PathBuf::from("/nonexistent/kafka-ca.pem"));
    let error = kafka::connect(&settings).await.expect_err("missing file");
    let message = error.to_string();
    assert!(
        message.contains("KAFKA_SSL_CA_LOCATION") && message.contains("/nonexistent/kafka-ca.pem"),
        "{message}"
    );
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn a_port_that_refuses_is_retried_until_the_connect_timeout_and_said_so() {
    let mut settings = kafka_settings();
    // A port nothing listens on (connection refused at once, retried with backoff).
    settings.bootstrap_servers = BootstrapServers::parse("127.0.0.1:1").unwrap();
    settings.connect_timeout = Duration::from_secs(2);
    let error = kafka::connect(&settings)
        .await
        .expect_err("nothing listens");
    assert!(matches!(error, KafkaError::Unreachable { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "cannot reach Kafka at 127.0.0.1:1 (BOOTSTRAP_SERVERS) within 2s: 127.0.0.1:1: connection \
         refused (nothing listens on that port); check the address, the network and \
         KAFKA_SECURITY_PROTOCOL (--security-protocol)"
    );
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn a_host_that_does_not_resolve_is_named() {
    let mut settings = kafka_settings();
    settings.bootstrap_servers = BootstrapServers::parse("no-such-broker.invalid:9093").unwrap();
    settings.connect_timeout = Duration::from_secs(1);
    let error = kafka::connect(&settings).await.expect_err("no such host");
    let message = error.to_string();
    assert!(
        matches!(error, KafkaError::Unreachable { .. })
            && message.contains("cannot resolve host no-such-broker.invalid")
            && message.contains("within 1s"),
        "{message}"
    );
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn tls_without_sasl_on_the_sasl_port_asks_for_sasl() {
    let mut settings = kafka_settings();
    settings.security_protocol = SecurityProtocol::Ssl;
    let error = kafka::connect(&settings).await.expect_err("SASL expected");
    assert!(
        matches!(error, KafkaError::SaslExpected { .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("set KAFKA_SECURITY_PROTOCOL (--security-protocol) to SASL_SSL"),
        "{error}"
    );
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn sasl_on_the_plaintext_port_says_the_port_has_no_sasl() {
    let mut settings = kafka_settings();
    settings.security_protocol = SecurityProtocol::SaslPlaintext;
    settings.bootstrap_servers =
        BootstrapServers::parse(&engine_support::env("LOCAL_STACK_PLAINTEXT_BOOTSTRAP")).unwrap();
    let error = kafka::connect(&settings).await.expect_err("no SASL there");
    assert!(
        matches!(error, KafkaError::SaslNotEnabled { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("ILLEGAL_SASL_STATE"), "{error}");
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn a_missing_topic_is_reported_as_such() {
    let kafka = kafka::connect(&kafka_settings()).await.unwrap();
    let topic = engine_support::unique_topic("no-such-topic");
    let error = kafka.partition_count(&topic).await.expect_err("missing");
    assert!(
        matches!(error, KafkaError::TopicMissing { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("--create-topic"));
    // Asking did not create it.
    let again = kafka.partition_count(&topic).await;
    assert!(
        matches!(again, Err(KafkaError::TopicMissing { .. })),
        "{again:?}"
    );
}

// ---------------------------------------------------------------------------------------------------
// The binary: exit code, the one line on stderr, and the memory a failed start took.
// ---------------------------------------------------------------------------------------------------

/// The binary configured for the local stack, producing one record quietly (only warnings and the
/// failure line reach stderr).
fn quiet_producer(topic: &str) -> Command {
    let mut command = support::stack_command();
    command.args(["--topic", topic, "--count", "1", "-q"]);
    command
}

/// Runs `command` to its end and returns the run and its peak resident memory in KiB: `VmHWM` of
/// `/proc/<pid>/status`, read when the process stops on its way out (ptrace's exit event), so no
/// short-lived peak is missed. (`wait4`'s `ru_maxrss` will not do: it counts the test process's own
/// memory, which the child had until it called exec.)
fn run_measuring_memory(command: &mut Command) -> (Finished, i64) {
    // SAFETY: between fork and exec the closure only makes one async-signal-safe system call.
    unsafe {
        command.pre_exec(|| {
            let traced = libc::ptrace(
                libc::PTRACE_TRACEME,
                0,
                std::ptr::null_mut::<libc::c_void>(),
                std::ptr::null_mut::<libc::c_void>(),
            );
            if traced == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    // Reaped below with waitpid, which also sees the tracing stops `Child::wait` cannot handle.
    #[allow(clippy::zombie_processes)]
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the shoe-producer binary");
    let read_all = |mut pipe: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = read_all(Box::new(child.stdout.take().unwrap()));
    let stderr = read_all(Box::new(child.stderr.take().unwrap()));
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    let resume = |signal: libc::c_int| {
        // SAFETY: pid is our stopped tracee; PTRACE_CONT takes the signal to deliver as data.
        let resumed = unsafe {
            libc::ptrace(
                libc::PTRACE_CONT,
                pid,
                std::ptr::null_mut::<libc::c_void>(),
                signal as usize as *mut libc::c_void,
            )
        };
        assert_eq!(
            resumed,
            0,
            "PTRACE_CONT: {}",
            std::io::Error::last_os_error()
        );
    };
    let exit_event = libc::SIGTRAP | (libc::PTRACE_EVENT_EXIT << 8);
    let started = Instant::now();
    let mut first_stop = true;
    let mut peak_kib = None;
    let status = loop {
        let mut status = 0;
        // SAFETY: waitpid writes only into the local.
        let reaped = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        assert!(reaped >= 0, "waitpid: {}", std::io::Error::last_os_error());
        if reaped == 0 {
            if started.elapsed() > HANG_GUARD {
                let _ = child.kill();
                panic!("shoe-producer still running after {HANG_GUARD:?}; killed it");
            }
            thread::sleep(Duration::from_millis(5));
            continue;
        }
        if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
            break status;
        }
        if first_stop {
            // Stopped after exec: ask to stop again on the way out, then let it run.
            first_stop = false;
            // SAFETY: pid is our stopped tracee; the options are passed as data.
            let set = unsafe {
                libc::ptrace(
                    libc::PTRACE_SETOPTIONS,
                    pid,
                    std::ptr::null_mut::<libc::c_void>(),
                    (libc::PTRACE_O_TRACEEXIT | libc::PTRACE_O_EXITKILL) as usize
                        as *mut libc::c_void,
                )
            };
            assert_eq!(
                set,
                0,
                "PTRACE_SETOPTIONS: {}",
                std::io::Error::last_os_error()
            );
            resume(0);
        } else if status >> 8 == exit_event {
            peak_kib = Some(vm_hwm_kib(pid));
            resume(0);
        } else {
            // Any other stop is a signal for the process: pass it on.
            resume(libc::WSTOPSIG(status));
        }
    };
    let finished = Finished {
        status: std::process::ExitStatus::from_raw(status),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    };
    let peak_kib =
        peak_kib.unwrap_or_else(|| panic!("no exit stop seen\n{}", finished.transcript()));
    (finished, peak_kib)
}

/// The peak resident memory of a live process, in KiB.
fn vm_hwm_kib(pid: libc::pid_t) -> i64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmHWM in /proc/{pid}/status:\n{status}"))
}

/// Asserts a failed start: exit code 1 and exactly one line on stderr, which it returns.
fn one_failure_line(finished: &Finished) -> String {
    assert_eq!(finished.code(), Some(1), "{}", finished.transcript());
    let lines: Vec<&str> = finished.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", finished.transcript());
    lines[0].to_owned()
}

#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn plaintext_against_the_tls_port_says_so_in_one_line_with_little_memory() {
    let tls_port = support::stack_env("BOOTSTRAP_SERVERS");
    let mut command = quiet_producer("shoes");
    command
        .env("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT")
        .env_remove("KAFKA_API_KEY")
        .env_remove("KAFKA_API_SECRET")
        .env_remove("KAFKA_SSL_CA_LOCATION");
    let (finished, peak_kib) = run_measuring_memory(&mut command);
    eprintln!(
        "PLAINTEXT to {tls_port}: peak RSS {peak_kib} KiB\n{}",
        finished.stderr
    );
    let line = one_failure_line(&finished);
    assert_eq!(
        line,
        format!(
            "error: Kafka broker {tls_port} answered a plaintext request in TLS (it starts with 15 \
             03 03 00 02 02 50): is this a TLS port? set KAFKA_SECURITY_PROTOCOL \
             (--security-protocol) to SASL_SSL (or SSL)"
        )
    );
    assert!(
        peak_kib < PEAK_RSS_LIMIT_KIB,
        "peak RSS {peak_kib} KiB: the garbage length was allocated"
    );
}

#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn tls_against_the_plaintext_port_says_so_in_one_line_with_little_memory() {
    let plaintext_port = support::stack_env("LOCAL_STACK_PLAINTEXT_BOOTSTRAP");
    let mut command = quiet_producer("shoes");
    command.env("BOOTSTRAP_SERVERS", &plaintext_port);
    let (finished, peak_kib) = run_measuring_memory(&mut command);
    eprintln!(
        "SASL_SSL to {plaintext_port}: peak RSS {peak_kib} KiB\n{}",
        finished.stderr
    );
    let line = one_failure_line(&finished);
    assert_eq!(
        line,
        format!(
            "error: Kafka broker {plaintext_port} answers plaintext Kafka, not TLS: is this a \
             plaintext port? set KAFKA_SECURITY_PROTOCOL (--security-protocol) to PLAINTEXT (or \
             SASL_PLAINTEXT)"
        )
    );
    assert!(peak_kib < PEAK_RSS_LIMIT_KIB, "peak RSS {peak_kib} KiB");
}

/// Forwards every connection to `127.0.0.2:<port>` to `upstream`, so the broker is reached under a
/// name its certificate does not hold (the stack's holds 127.0.0.1 and localhost). A TCP relay, as a
/// load balancer would be: TLS still runs end to end between the binary and the broker.
fn relay_on_127_0_0_2(upstream: String) -> String {
    let listener = TcpListener::bind("127.0.0.2:0").expect("bind 127.0.0.2 (Linux loopback)");
    let address = listener.local_addr().unwrap().to_string();
    thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(&upstream) else {
                continue;
            };
            let pipe = |mut from: TcpStream, mut to: TcpStream| {
                thread::spawn(move || {
                    let _ = std::io::copy(&mut from, &mut to);
                    let _ = to.shutdown(Shutdown::Write);
                })
            };
            pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
            pipe(server, client);
        }
    });
    address
}

#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn a_name_not_in_the_certificate_is_named_with_the_names_it_holds() {
    let relay = relay_on_127_0_0_2(support::stack_env("BOOTSTRAP_SERVERS"));
    let mut command = quiet_producer("shoes");
    command.env("BOOTSTRAP_SERVERS", &relay);
    let (finished, _) = run_measuring_memory(&mut command);
    let line = one_failure_line(&finished);
    eprintln!("{line}");
    assert_eq!(
        line,
        format!(
            "error: the TLS certificate of Kafka broker {relay} is not valid for \"127.0.0.2\" (it \
             holds 127.0.0.1, localhost): connect with a name the certificate holds in \
             BOOTSTRAP_SERVERS (--bootstrap-servers), or give the server a certificate for that \
             name (a CA file cannot fix a name)"
        )
    );
    assert!(!line.contains("KAFKA_SSL_CA_LOCATION"), "{line}");
}

#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn a_replication_factor_the_cluster_cannot_hold_is_one_line_with_the_broker_count() {
    let topic = support::unique_name("edge-rf");
    let mut command = quiet_producer(&topic);
    command.args([
        "--create-topic",
        "--partitions",
        "1",
        "--replication-factor",
        "3",
    ]);
    let (finished, _) = run_measuring_memory(&mut command);
    let line = one_failure_line(&finished);
    eprintln!("{line}");
    assert!(
        line.starts_with(&format!(
            "error: cannot create topic \"{topic}\": INVALID_REPLICATION_FACTOR: "
        )) && line.ends_with("; the cluster has 1 broker(s): pass --replication-factor 1 or less"),
        "{line}"
    );
    for debug in ["ServerError", "request:", "virtual", "Topic("] {
        assert!(!line.contains(debug), "Rust debug text in: {line}");
    }
}

#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn a_topic_name_that_collides_is_one_line_with_the_brokers_reason() {
    // Kafka refuses a name that differs from an existing one only in '.' versus '_'.
    let existing = support::create_topic("edge_collide", 1);
    let colliding = existing.replace('_', ".");
    let mut command = quiet_producer(&colliding);
    command.args([
        "--create-topic",
        "--partitions",
        "1",
        "--replication-factor",
        "1",
    ]);
    let (finished, _) = run_measuring_memory(&mut command);
    let line = one_failure_line(&finished);
    eprintln!("{line}");
    assert!(
        line.starts_with(&format!(
            "error: cannot create topic \"{colliding}\": INVALID_TOPIC_EXCEPTION: "
        )) && line.contains(&existing)
            && line.ends_with("; choose another --topic"),
        "{line}"
    );
}

/// The shared TLS classification reads reqwest's connect errors as it reads the broker's: an unknown
/// CA, and a name the certificate does not hold (the registry reached through a relay on 127.0.0.2).
#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn the_registry_handshake_errors_classify_the_same_way() {
    use shoe_producer::support::tls::{classify, client_config};
    let url = support::stack_env("SCHEMA_REGISTRY_URL");
    let ca = PathBuf::from(support::stack_env("SCHEMA_REGISTRY_SSL_CA_LOCATION"));
    let client = |ca: Option<&std::path::Path>| {
        reqwest::Client::builder()
            .tls_backend_preconfigured((*client_config(ca).unwrap()).clone())
            .build()
            .unwrap()
    };
    let unknown_ca = client(None)
        .get(format!("{url}/subjects"))
        .send()
        .await
        .expect_err("the stack's CA is not bundled");
    assert_eq!(classify(&unknown_ca), Some(TlsFailure::UnknownIssuer));

    let registry_address = url.trim_start_matches("https://").to_owned();
    let relay = relay_on_127_0_0_2(registry_address);
    let wrong_name = client(Some(&ca))
        .get(format!("https://{relay}/subjects"))
        .send()
        .await
        .expect_err("127.0.0.2 is not in the certificate");
    assert_eq!(
        classify(&wrong_name),
        Some(TlsFailure::WrongName {
            expected: "127.0.0.2".into(),
            presented: vec!["127.0.0.1".into(), "localhost".into()],
        })
    );
}
