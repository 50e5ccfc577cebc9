//! Bad input is caught before any network I/O: the binary, run with a cleared environment (PATH
//! only) on each bad input, exits 2 with one line on stderr that names the flag or variable — and the
//! broker and registry addresses it was given (a listener of this test) never see a connection.
//!
//! Also here, because they are about what a user types: per-command flags and their help, typo tips,
//! completions and the man page, and the config file's bounds in time and memory (peak RSS read from
//! the child's own resource usage).

use crate::support;

use std::{
    process::{Output, Stdio},
    time::{Duration, Instant},
};

use support::{bare_command, Trap};

/// A valid produce configuration pointing at `trap`; each case changes one thing.
fn base_env(trap: &Trap) -> Vec<(&'static str, String)> {
    vec![
        ("BOOTSTRAP_SERVERS", trap.address()),
        ("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT".into()),
        ("KAFKA_API_KEY", "test-key".into()),
        ("KAFKA_API_SECRET", "kafka-secret-DISTINCTIVE".into()),
        ("SCHEMA_REGISTRY_URL", format!("http://{}", trap.address())),
    ]
}

struct Case {
    name: &'static str,
    args: Vec<String>,
    /// Variables to set (replacing the base value); an empty value sets the variable empty, which
    /// counts as unset.
    env: Vec<(&'static str, String)>,
    /// What the one line must contain (the flag or variable, and the file key where there is one).
    names: Vec<&'static str>,
}

fn case(
    name: &'static str,
    args: &[&str],
    env: &[(&'static str, &str)],
    names: &[&'static str],
) -> Case {
    Case {
        name,
        args: args.iter().map(|a| a.to_string()).collect(),
        env: env.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        names: names.to_vec(),
    }
}

fn run(args: &[String], env: &[(&'static str, String)]) -> Output {
    let mut command = bare_command();
    command
        .args(args)
        .envs(env.iter().map(|(name, value)| (name, value)));
    command.output().unwrap()
}

fn temp_file(suffix: &str, content: &str) -> tempfile::NamedTempFile {
    let file = tempfile::Builder::new().suffix(suffix).tempfile().unwrap();
    std::fs::write(file.path(), content).unwrap();
    file
}

#[test]
fn each_bad_input_exits_2_with_one_line_naming_the_setting_and_no_connection() {
    let trap = Trap::new();
    let bad_yaml = temp_file(".yaml", "topic: \"unclosed\n");
    let unknown_key = temp_file(".yaml", "topics: a\n");
    let empty_yaml = temp_file(".yaml", "count:\n");
    let empty_string_yaml = temp_file(".yaml", "topic: \"\"\n");
    let empty_properties = temp_file(".properties", "acks=\n");
    let duplicate_key = temp_file(".yaml", "topic: a\nrate: 5\ntopic: b\n");
    let idempotent_file = temp_file(".properties", "enable.idempotence=true\nacks=1\n");
    let bad_properties = temp_file(".properties", "compression.type=brotli\n");
    let not_pem = temp_file(".pem", "not a certificate\n");
    let acks_zero = temp_file(".properties", "acks=0\n");
    let count_exponent = temp_file(".yaml", "count: 1e6\n");
    let count_fraction = temp_file(".yaml", "count: 10.0\n");
    let id_negative = temp_file(".yaml", "id-start: -1\n");
    let fifos = tempfile::tempdir().unwrap();
    let fifo = fifos.path().join("fifo").display().to_string();
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let bad_yaml = bad_yaml.path().display().to_string();
    let unknown_key = unknown_key.path().display().to_string();
    let empty_yaml = empty_yaml.path().display().to_string();
    let empty_string_yaml = empty_string_yaml.path().display().to_string();
    let empty_properties = empty_properties.path().display().to_string();
    let duplicate_key = duplicate_key.path().display().to_string();
    let idempotent_file = idempotent_file.path().display().to_string();
    let bad_properties = bad_properties.path().display().to_string();
    let not_pem = not_pem.path().display().to_string();
    let acks_zero = acks_zero.path().display().to_string();
    let count_exponent = count_exponent.path().display().to_string();
    let count_fraction = count_fraction.path().display().to_string();
    let id_negative = id_negative.path().display().to_string();

    let cases = vec![
        case(
            "missing bootstrap",
            &[],
            &[("BOOTSTRAP_SERVERS", "")],
            &["BOOTSTRAP_SERVERS", "--bootstrap-servers"],
        ),
        case(
            "host without port",
            &[],
            &[("BOOTSTRAP_SERVERS", "127.0.0.1")],
            &["BOOTSTRAP_SERVERS", "no port"],
        ),
        case(
            "host without port, flag",
            &["--bootstrap-servers", "localhost"],
            &[],
            &["--bootstrap-servers"],
        ),
        case(
            "unknown security protocol",
            &[],
            &[("KAFKA_SECURITY_PROTOCOL", "TLS")],
            &["KAFKA_SECURITY_PROTOCOL", "'TLS'"],
        ),
        case(
            "unknown SASL mechanism",
            &["--sasl-mechanism", "GSSAPI"],
            &[],
            &["--sasl-mechanism", "KAFKA_SASL_MECHANISM"],
        ),
        case(
            "unknown compression",
            &["--compression", "brotli"],
            &[],
            &["--compression", "'brotli'"],
        ),
        case("unknown acks", &["--acks", "2"], &[], &["--acks"]),
        case(
            "acks 0",
            &["--acks", "0", "--enable-idempotence", "false"],
            &[],
            &["--acks", "waits for an answer", "use 1 (the leader) or all"],
        ),
        case(
            "acks 0 in client.properties",
            &["--config", &acks_zero],
            &[],
            &["--acks", "`acks`", "use 1 (the leader) or all"],
        ),
        case(
            "unknown partitioner",
            &["--partitioner", "sticky"],
            &[],
            &["--partitioner"],
        ),
        case("negative rate", &["--rate", "-5"], &[], &["--rate", "'-5'"]),
        case("fractional rate", &["--rate=2.5"], &[], &["--rate"]),
        case("zero count", &["--count", "0"], &[], &["--count"]),
        case("negative count", &["--count", "-1"], &[], &["--count"]),
        case(
            "malformed duration",
            &["--duration", "10 parsecs"],
            &[],
            &["--duration", "10 parsecs"],
        ),
        case(
            "duration without unit",
            &["--duration", "30"],
            &[],
            &["--duration"],
        ),
        case("zero duration", &["--duration", "0s"], &[], &["--duration"]),
        case(
            "malformed metrics linger",
            &["--metrics-linger", "soon"],
            &[],
            &["--metrics-linger", "soon"],
        ),
        case(
            "malformed linger",
            &["--linger", "soon"],
            &[],
            &["--linger"],
        ),
        case(
            "non-http registry URL",
            &[],
            &[("SCHEMA_REGISTRY_URL", "ftp://127.0.0.1:21")],
            &["SCHEMA_REGISTRY_URL", "--schema-registry-url"],
        ),
        case(
            "registry URL without scheme",
            &[],
            &[("SCHEMA_REGISTRY_URL", "127.0.0.1:8081")],
            &["SCHEMA_REGISTRY_URL"],
        ),
        case(
            "registry URL with credentials",
            &[],
            &[(
                "SCHEMA_REGISTRY_URL",
                "https://user:url-secret-DISTINCTIVE@127.0.0.1",
            )],
            &["SCHEMA_REGISTRY_URL", "credentials"],
        ),
        case(
            "missing registry URL",
            &[],
            &[("SCHEMA_REGISTRY_URL", "")],
            &["SCHEMA_REGISTRY_URL"],
        ),
        case(
            "registry key without secret",
            &[],
            &[("SCHEMA_REGISTRY_API_KEY", "k")],
            &["SCHEMA_REGISTRY_API_SECRET"],
        ),
        case(
            "unreadable Kafka CA file",
            &[],
            &[
                ("KAFKA_SSL_CA_LOCATION", "/nonexistent/ca.pem"),
                ("KAFKA_SECURITY_PROTOCOL", "SASL_SSL"),
            ],
            &["KAFKA_SSL_CA_LOCATION", "/nonexistent/ca.pem"],
        ),
        case(
            "Kafka CA file without certificates",
            &["--security-protocol", "SSL", "--kafka-ca-file", &not_pem],
            &[],
            &["--kafka-ca-file", "KAFKA_SSL_CA_LOCATION"],
        ),
        case(
            "unreadable registry CA file",
            &[],
            &[
                ("SCHEMA_REGISTRY_SSL_CA_LOCATION", "/nonexistent/sr.pem"),
                ("SCHEMA_REGISTRY_URL", "https://127.0.0.1:1"),
            ],
            &["SCHEMA_REGISTRY_SSL_CA_LOCATION"],
        ),
        case(
            "missing API key for SASL",
            &[],
            &[("KAFKA_API_KEY", "")],
            &["KAFKA_API_KEY", "--kafka-api-key"],
        ),
        case(
            "missing API secret for SASL",
            &[],
            &[("KAFKA_API_SECRET", "")],
            &["KAFKA_API_SECRET"],
        ),
        case(
            "missing config file",
            &["--config", "/nonexistent/shoe.yaml"],
            &[],
            &["--config", "/nonexistent/shoe.yaml"],
        ),
        case(
            "config file that is a FIFO",
            &["--config", &fifo, "--count", "10"],
            &[],
            &["--config", "a pipe (FIFO), not a regular file"],
        ),
        case(
            "config file that is a directory",
            &["--config", "/tmp"],
            &[],
            &["--config", "'/tmp': it is a directory"],
        ),
        case(
            "Kafka CA file that is a FIFO",
            &["--security-protocol", "SSL", "--kafka-ca-file", &fifo],
            &[],
            &["--kafka-ca-file", "a pipe (FIFO), not a regular file"],
        ),
        case(
            "registry CA file that is a FIFO",
            &[],
            &[
                ("SCHEMA_REGISTRY_SSL_CA_LOCATION", &fifo),
                ("SCHEMA_REGISTRY_URL", "https://127.0.0.1:1"),
            ],
            &["SCHEMA_REGISTRY_SSL_CA_LOCATION", "not a regular file"],
        ),
        case(
            "malformed config file",
            &["--config", &bad_yaml],
            &[],
            &["--config", "not valid YAML"],
        ),
        case(
            "unknown key in config file",
            &["--config", &unknown_key],
            &[],
            &["--config", "topics"],
        ),
        case(
            "bad value in client.properties",
            &["--config", &bad_properties],
            &[],
            &["--compression", "compression.type"],
        ),
        case(
            "bad metrics address",
            &["--metrics-addr", "metrics:x"],
            &[],
            &["--metrics-addr"],
        ),
        case(
            "bad topic name",
            &["--topic", "no spaces"],
            &[],
            &["--topic", "KAFKA_TOPIC"],
        ),
        case(
            "bad RUST_LOG",
            &[],
            &[("RUST_LOG", "shoe_producer=chatty")],
            &["RUST_LOG"],
        ),
        case(
            "unknown log format",
            &["--log-format", "xml"],
            &[],
            &["--log-format"],
        ),
        case("empty count", &["--count", ""], &[], &["--count", "empty"]),
        case(
            "blank count",
            &["--count", "  "],
            &[],
            &["--count", "empty"],
        ),
        case("empty topic", &["--topic", ""], &[], &["--topic", "empty"]),
        case(
            "empty duration",
            &["--duration="],
            &[],
            &["--duration", "empty"],
        ),
        case(
            "empty count for sample",
            &["sample", "--count", ""],
            &[],
            &["--count", "empty"],
        ),
        case(
            "empty value in YAML",
            &["--config", &empty_yaml],
            &[],
            &["--count", "`count`", "empty"],
        ),
        case(
            "empty string in YAML",
            &["--config", &empty_string_yaml],
            &[],
            &["--topic", "`topic`", "empty"],
        ),
        case(
            "empty value in client.properties",
            &["--config", &empty_properties],
            &[],
            &["--acks", "`acks`", "empty"],
        ),
        case(
            "empty environment variable is unset",
            &[],
            &[("BOOTSTRAP_SERVERS", "")],
            &["no Kafka brokers given", "BOOTSTRAP_SERVERS"],
        ),
        case(
            "duplicate YAML key",
            &["--config", &duplicate_key],
            &[],
            &["duplicate key 'topic'", "line 3", "line 1"],
        ),
        case(
            "IPv6 without brackets",
            &["--bootstrap-servers", "::1:9093"],
            &[],
            &["--bootstrap-servers", "[::1]:9093"],
        ),
        case(
            "semicolon-separated brokers",
            &[],
            &[("BOOTSTRAP_SERVERS", "a:1;b:2")],
            &["BOOTSTRAP_SERVERS", "commas", "a:1,b:2"],
        ),
        case(
            "idempotence with acks 1",
            &["--enable-idempotence", "true", "--acks", "1"],
            &[],
            &["--enable-idempotence", "--acks"],
        ),
        case(
            "idempotence with too many in flight, from the environment",
            &["--max-in-flight", "6"],
            &[("KAFKA_ENABLE_IDEMPOTENCE", "true")],
            &["KAFKA_ENABLE_IDEMPOTENCE", "--max-in-flight"],
        ),
        case(
            "idempotence conflict in client.properties",
            &["--config", &idempotent_file],
            &[],
            &["enable.idempotence", "`acks`"],
        ),
        case(
            "instance index from the Indexed Job beyond --instances",
            &["--instances", "2"],
            &[("JOB_COMPLETION_INDEX", "2")],
            &["JOB_COMPLETION_INDEX", "--instances"],
        ),
        case(
            "zero instances",
            &["--instances", "0"],
            &[],
            &["--instances"],
        ),
        case(
            "zero registry timeout",
            &["--registry-timeout", "0s"],
            &[],
            &["--registry-timeout"],
        ),
        case(
            "malformed metadata max age",
            &["--metadata-max-age", "often"],
            &[],
            &["--metadata-max-age", "often"],
        ),
        case(
            "a topic holding a newline",
            &["--topic", "a\nb"],
            &[],
            &["--topic", r"'a\nb'"],
        ),
        case(
            "a topic holding a control byte, from the environment",
            &[],
            &[("KAFKA_TOPIC", "a\x01b")],
            &["KAFKA_TOPIC", r"'a\x01b'"],
        ),
        case(
            "a broker address holding a control byte",
            &[],
            &[("BOOTSTRAP_SERVERS", "a\x01b:9092")],
            &[
                "BOOTSTRAP_SERVERS",
                r"'a\x01b:9092' holds a control character",
            ],
        ),
        case(
            "an id beyond the largest",
            &[
                "sample",
                "--id-start",
                "9223372036854775808",
                "--count",
                "1",
            ],
            &[],
            &["--id-start", "too large: at most 9223372036854775807"],
        ),
        case(
            "ids running past the largest",
            &[
                "sample",
                "--id-start",
                "9223372036854775807",
                "--count",
                "3",
            ],
            &[],
            &[
                "--id-start",
                "runs past the largest id, 9223372036854775807",
            ],
        ),
        case(
            "a negative id after a space",
            &["sample", "--id-start", "-1"],
            &[],
            &["--id-start", "'-1' is not a first shoe id from 0"],
        ),
        case(
            "a negative id after =",
            &["sample", "--id-start=-1"],
            &[],
            &["--id-start", "'-1' is not a first shoe id from 0"],
        ),
        case(
            "a seed beyond the largest",
            &["sample", "--seed", "18446744073709551616"],
            &[],
            &["--seed", "too large: at most 18446744073709551615"],
        ),
        case(
            "a count written with an exponent",
            &["--count", "1e6"],
            &[],
            &["--count", "'1e6' is not a number of records"],
        ),
        case(
            "a YAML count written with an exponent",
            &["--config", &count_exponent],
            &[],
            &["--count", "`count`", "'1e6' is not a number of records"],
        ),
        case(
            "a YAML count written as a fraction",
            &["--config", &count_fraction],
            &[],
            &["--count", "`count`", "'10.0' is not a number of records"],
        ),
        case(
            "a negative id in YAML",
            &["sample", "--config", &id_negative],
            &[],
            &[
                "--id-start",
                "`id-start`",
                "'-1' is not a first shoe id from 0",
            ],
        ),
        case(
            "a progress interval that would flood",
            &["--progress-interval", "1ns"],
            &[],
            &["--progress-interval", "minimum, 100ms", "0s to turn it off"],
        ),
        case(
            "a metadata refresh that would spin",
            &["--metadata-max-age", "1ms"],
            &[],
            &["--metadata-max-age", "minimum, 1s"],
        ),
        case(
            "a request timeout no answer could meet",
            &["--request-timeout", "1ns"],
            &[],
            &["--request-timeout", "minimum, 100ms"],
        ),
        case(
            "a produce flag given to sample",
            &["sample", "--rate", "5"],
            &[],
            &["--rate is not an option of `sample`"],
        ),
        case(
            "a produce flag given before sample",
            &["--metrics-addr", ":9100", "sample"],
            &[],
            &["--metrics-addr is not an option of `sample`"],
        ),
        case(
            "a Kafka flag given to register",
            &["register", "--bootstrap-server", "b:1"],
            &[],
            &["--bootstrap-server is not an option of `register`"],
        ),
        case(
            "a run flag given to check",
            &["check", "--count", "5"],
            &[],
            &["--count is not an option of `check`"],
        ),
        case(
            "a typo'd flag",
            &["--cout", "5"],
            &[],
            &["--cout", "tip: a similar argument exists: '--count'"],
        ),
        case(
            "a typo'd flag of sample",
            &["sample", "--cuont", "5"],
            &[],
            &["tip: a similar argument exists: '--count'", "sample --help"],
        ),
        case(
            "a typo'd command",
            &["smaple"],
            &[],
            &["smaple", "tip: a similar subcommand exists: 'sample'"],
        ),
        case(
            "an unknown shell",
            &["completions", "tcsh"],
            &[],
            &["tcsh", "bash"],
        ),
        case("unknown subcommand", &["frobnicate"], &[], &["frobnicate"]),
        case("unknown flag", &["--frobnicate"], &[], &["--frobnicate"]),
        case(
            "check without bootstrap",
            &["check"],
            &[("BOOTSTRAP_SERVERS", "")],
            &["BOOTSTRAP_SERVERS"],
        ),
        case(
            "register without registry",
            &["register"],
            &[("SCHEMA_REGISTRY_URL", "")],
            &["SCHEMA_REGISTRY_URL"],
        ),
    ];

    let mut problems = Vec::new();
    for case in &cases {
        let mut env = base_env(&trap);
        for (name, value) in &case.env {
            env.retain(|(n, _)| n != name);
            env.push((name, value.clone()));
        }
        let output = run(&case.args, &env);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        if output.status.code() != Some(2) {
            problems.push(format!(
                "{}: exit {:?}, stderr {stderr:?}",
                case.name,
                output.status.code()
            ));
        }
        if lines.len() != 1 {
            problems.push(format!(
                "{}: {} stderr lines: {stderr:?}",
                case.name,
                lines.len()
            ));
        }
        for name in &case.names {
            if !stderr.contains(name) {
                problems.push(format!(
                    "{}: stderr does not name {name}: {stderr:?}",
                    case.name
                ));
            }
        }
        if stderr.trim_end().chars().any(char::is_control) {
            problems.push(format!(
                "{}: a control character reached stderr: {stderr:?}",
                case.name
            ));
        }
        if stderr.contains("DISTINCTIVE") {
            problems.push(format!("{}: a secret leaked: {stderr:?}", case.name));
        }
        if !output.stdout.is_empty() {
            problems.push(format!(
                "{}: wrote to stdout: {:?}",
                case.name,
                String::from_utf8_lossy(&output.stdout)
            ));
        }
        if trap.was_contacted() {
            problems.push(format!("{}: a network connection was attempted", case.name));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn json_log_format_makes_the_error_line_json() {
    let trap = Trap::new();
    let mut env = base_env(&trap);
    env.retain(|(n, _)| *n != "BOOTSTRAP_SERVERS");
    let output = run(&["--log-format".into(), "json".into()], &env);
    assert_eq!(output.status.code(), Some(2));
    let line: serde_json::Value = serde_json::from_slice(&output.stderr).unwrap();
    assert_eq!(line["level"], "ERROR");
    assert_eq!(line["exit_code"], 2);
    assert!(line["message"]
        .as_str()
        .unwrap()
        .contains("BOOTSTRAP_SERVERS"));
}

#[test]
fn the_trap_does_see_a_real_connection_attempt() {
    // Control: the same base configuration, valid, does connect — so "no connection" above means
    // the binary stopped before the network, not that the trap cannot see connections.
    let trap = Trap::new();
    let mut child = bare_command()
        .envs(base_env(&trap))
        .args(["check", "--security-protocol", "PLAINTEXT"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut contacted = false;
    while Instant::now() < deadline {
        if trap.was_contacted() {
            contacted = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(contacted, "check never connected to the configured broker");
}

#[test]
fn help_and_version_exit_0() {
    for flag in ["--help", "--version"] {
        let output = run(&[flag.to_string()], &[]);
        assert_eq!(output.status.code(), Some(0), "{flag}");
        assert!(!output.stdout.is_empty(), "{flag}");
    }
}

#[test]
fn each_command_shows_and_takes_only_its_flags() {
    let sample = run(&["sample".into(), "--help".into()], &[]);
    assert_eq!(sample.status.code(), Some(0));
    let help = String::from_utf8_lossy(&sample.stdout);
    for flag in [
        "--count",
        "--seed",
        "--id-start",
        "--instances",
        "--log-format",
    ] {
        assert!(
            help.contains(flag),
            "{flag} missing from sample --help:\n{help}"
        );
    }
    for flag in ["--rate", "--acks", "--bootstrap-servers", "--metrics-addr"] {
        assert!(!help.contains(flag), "{flag} in sample --help:\n{help}");
    }
    let produce = run(&["--help".into()], &[]);
    let help = String::from_utf8_lossy(&produce.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        help.contains("[possible values: none, gzip, snappy, lz4, zstd]"),
        "{help}"
    );
    assert!(help.contains("--bootstrap-server"), "{help}");
    // No command means produce, with produce's flags at the top.
    let output = run(
        &["--count".into(), "1".into(), "--rate".into(), "-1".into()],
        &[],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no Kafka brokers given"), "{stderr}");
}

#[test]
fn completions_and_the_man_page_are_printed() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let output = run(&["completions".into(), shell.into()], &[]);
        assert_eq!(output.status.code(), Some(0), "{shell}");
        let script = String::from_utf8_lossy(&output.stdout);
        assert!(script.contains("bootstrap-servers"), "{shell}");
        assert!(script.contains("sample"), "{shell}");
    }
    let output = run(&["man".into()], &[]);
    assert_eq!(output.status.code(), Some(0));
    let page = String::from_utf8_lossy(&output.stdout);
    assert!(page.contains(".TH shoe-producer 1"), "{page}");
    // A closed pipe ends them quietly.
    let mut child = bare_command()
        .args(["completions", "bash"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
}

/// A run of the binary stopped by a usage error: its exit code, its stderr line, its peak resident
/// set (VmHWM) in KiB and how long it took.
#[cfg(target_os = "linux")]
struct Measured {
    code: Option<i32>,
    stderr: String,
    peak_rss_kib: u64,
    elapsed: Duration,
}

/// Holding a child at its last write, so its memory can be read before it exits.
///
/// `wait4`'s peak RSS of a child is no use here: a child spawned from this (large) test process
/// inherits the parent's high-water mark at `exec`. `/proc/PID/status`'s `VmHWM` is the child's
/// own, but only while it lives. So the child's stderr is a pipe filled to the brim beforehand: the
/// one line it writes when it fails blocks it in `write(2, …)` — after all its work — and then its
/// `VmHWM` is read, the pipe drained, and the child let go.
#[cfg(target_os = "linux")]
mod held {
    use std::{
        fs::File,
        io::{Read, Write},
        os::{
            fd::{AsRawFd, FromRawFd},
            raw::c_int,
        },
    };

    extern "C" {
        fn fcntl(fd: c_int, command: c_int, ...) -> c_int;
        fn pipe2(fds: *mut c_int, flags: c_int) -> c_int;
    }
    const F_GETFL: c_int = 3;
    const F_SETFL: c_int = 4;
    const O_NONBLOCK: c_int = 0o4000;
    /// So that children other tests spawn meanwhile do not hold the pipe open.
    const O_CLOEXEC: c_int = 0o2000000;

    fn set_nonblocking(fd: c_int, on: bool) {
        // SAFETY: fcntl on a pipe end we own, with the flag commands.
        unsafe {
            let flags = fcntl(fd, F_GETFL);
            assert!(flags >= 0, "fcntl F_GETFL");
            let flags = if on {
                flags | O_NONBLOCK
            } else {
                flags & !O_NONBLOCK
            };
            assert_eq!(fcntl(fd, F_SETFL, flags), 0, "fcntl F_SETFL");
        }
    }

    /// A pipe whose buffer is full, and how many bytes fill it.
    pub fn full_pipe() -> (File, File, usize) {
        let mut fds: [c_int; 2] = [-1; 2];
        // SAFETY: `fds` has room for the two descriptors pipe2(2) writes.
        assert_eq!(unsafe { pipe2(fds.as_mut_ptr(), O_CLOEXEC) }, 0, "pipe2(2)");
        // SAFETY: both descriptors are fresh and owned by nothing else.
        let (reader, mut writer) =
            unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) };
        set_nonblocking(writer.as_raw_fd(), true);
        let mut filled = 0;
        let chunk = [b'.'; 4096];
        for size in [4096, 1] {
            loop {
                match writer.write(&chunk[..size]) {
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => panic!("filling the pipe: {e}"),
                }
            }
        }
        set_nonblocking(writer.as_raw_fd(), false);
        (reader, writer, filled)
    }

    /// Whether `pid` is blocked writing to its stderr.
    pub fn writing_stderr(pid: u32) -> bool {
        #[cfg(target_arch = "x86_64")]
        const WRITE: &str = "1";
        #[cfg(target_arch = "aarch64")]
        const WRITE: &str = "64";
        std::fs::read_to_string(format!("/proc/{pid}/syscall")).is_ok_and(|call| {
            let mut fields = call.split_whitespace();
            fields.next() == Some(WRITE) && fields.next() == Some("0x2")
        })
    }

    /// `VmHWM` of `pid` in KiB.
    pub fn peak_rss_kib(pid: u32) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// Everything from `reader` after the first `skip` bytes.
    pub fn drain(mut reader: File, skip: usize) -> String {
        let mut bytes = Vec::new();
        let _ = reader.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes[skip.min(bytes.len())..]).into_owned()
    }
}

/// Runs the binary with `args` (no environment) until it blocks writing its error line, and
/// measures it there. A run that never gets there within `limit` (an unbounded read, say) fails the
/// test with the peak reached so far.
#[cfg(target_os = "linux")]
fn run_measured(args: &[&str], limit: Duration) -> Measured {
    let (reader, writer, filled) = held::full_pipe();
    let started = Instant::now();
    let mut child = bare_command()
        .args(args)
        .stdout(Stdio::null())
        .stderr(writer)
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut peak = 0;
    let mut held = false;
    while started.elapsed() < limit {
        peak = peak.max(held::peak_rss_kib(pid).unwrap_or(0));
        if held::writing_stderr(pid) {
            held = true;
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let elapsed = started.elapsed();
    if !held {
        let _ = child.kill();
    }
    let stderr = std::thread::spawn(move || held::drain(reader, filled));
    let status = child.wait().unwrap();
    let stderr = stderr.join().unwrap();
    assert!(
        held,
        "{args:?} did not reach its error line within {limit:?} (peak RSS so far {peak} KiB): {stderr}"
    );
    Measured {
        code: status.code(),
        stderr,
        peak_rss_kib: peak,
        elapsed,
    }
}

/// The bound on the peak RSS of a run that stops at a bad config file: well above the binary's own
/// footprint, far below what an unbounded read reaches before the watchdog.
#[cfg(target_os = "linux")]
const PEAK_RSS_BOUND_KIB: u64 = 64 * 1024;

#[cfg(target_os = "linux")]
#[test]
fn a_config_file_without_end_fails_at_once_in_bounded_memory() {
    let baseline = run_measured(&["sample", "--count", "0"], Duration::from_secs(30));
    let measured = run_measured(
        &["sample", "--config", "/dev/zero"],
        Duration::from_secs(30),
    );
    eprintln!(
        "--config /dev/zero: exit {:?} after {:?}, peak RSS {} KiB (a run stopped by a plain usage error: {} KiB)",
        measured.code, measured.elapsed, measured.peak_rss_kib, baseline.peak_rss_kib
    );
    assert_eq!(measured.code, Some(2), "{}", measured.stderr);
    assert!(
        measured
            .stderr
            .contains("'/dev/zero': it is a device, not a regular file"),
        "{}",
        measured.stderr
    );
    assert!(
        measured.peak_rss_kib < PEAK_RSS_BOUND_KIB,
        "peak RSS {} KiB",
        measured.peak_rss_kib
    );
}

#[cfg(target_os = "linux")]
#[test]
fn pathological_yaml_under_the_size_cap_fails_with_one_line_in_bounded_memory() {
    let budget = shoe_producer::app::config::MAX_FILE_BYTES - 64;
    let depth = budget / 2 - 8;
    let deep = format!("count: {}{}\n", "[".repeat(depth), "]".repeat(depth));
    let mut bomb = String::from("bootstrap-servers: &a [");
    while bomb.len() < budget - 16 {
        bomb.push_str("*a, ");
    }
    bomb.push_str("x]\n");
    let mut flow = String::from("bootstrap-servers: [");
    while flow.len() < budget - 16 {
        flow.push_str("a:1, ");
    }
    flow.push_str("a:1]\n");
    let mut aliases = String::from("topic: &t shoes\nbootstrap-servers:\n");
    while aliases.len() < budget - 16 {
        aliases.push_str("  - *t\n");
    }
    for (name, text, expected) in [
        ("deep nesting", deep, "holds more than 64 `[` and `{`"),
        ("alias to its own list", bomb, "bootstrap-servers"),
        ("huge flow list", flow, "longer than 1000 brokers"),
        ("a list of aliases", aliases, "longer than 1000 brokers"),
    ] {
        assert!(
            text.len() <= shoe_producer::app::config::MAX_FILE_BYTES,
            "{name}"
        );
        let file = temp_file(".yaml", &text);
        let path = file.path().display().to_string();
        let measured = run_measured(&["sample", "--config", &path], Duration::from_secs(60));
        eprintln!(
            "{name} ({} bytes): exit {:?} after {:?}, peak RSS {} KiB: {}",
            text.len(),
            measured.code,
            measured.elapsed,
            measured.peak_rss_kib,
            measured.stderr.trim()
        );
        assert_eq!(measured.code, Some(2), "{name}: {}", measured.stderr);
        assert_eq!(
            measured.stderr.trim().lines().count(),
            1,
            "{name}: {}",
            measured.stderr
        );
        assert!(
            measured.stderr.contains(expected),
            "{name}: {}",
            measured.stderr
        );
        assert!(
            measured.peak_rss_kib < PEAK_RSS_BOUND_KIB,
            "{name}: peak RSS {} KiB",
            measured.peak_rss_kib
        );
    }
}
