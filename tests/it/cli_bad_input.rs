//! Bad input is caught before any network I/O: the binary, run with a cleared environment (PATH
//! only) on each bad input, exits 2 with one line on stderr that names the flag or variable — and the
//! broker and registry addresses it was given (a listener of this test) never see a connection.
//!
//! Also here, because they are about what a user types: per-command flags and their help, typo tips,
//! completions and the man page.

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
    let bad_yaml = temp_file(".yaml", "topic: [unclosed\n");
    let unknown_key = temp_file(".yaml", "topics: a\n");
    let bad_properties = temp_file(".properties", "compression.type=brotli\n");
    let not_pem = temp_file(".pem", "not a certificate\n");
    let bad_yaml = bad_yaml.path().display().to_string();
    let unknown_key = unknown_key.path().display().to_string();
    let bad_properties = bad_properties.path().display().to_string();
    let not_pem = not_pem.path().display().to_string();

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
        case(
            "empty environment variable is unset",
            &[],
            &[("BOOTSTRAP_SERVERS", "")],
            &["no Kafka brokers given", "BOOTSTRAP_SERVERS"],
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
    for flag in ["--count", "--seed", "--id-start", "--log-format"] {
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
