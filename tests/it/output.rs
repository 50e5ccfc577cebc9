//! Output that cannot be written never changes what a run does: with stderr on a full disk or a
//! closed pipe, logging is dropped and the run ends as it would have, summary included; with stdout
//! closed (`| head -1`, `| true`), every command finishes its work and exits with the code that work
//! earned, and `sample` stops early. The binary runs against the local stack where the command
//! needs it.

use crate::support;

use std::{
    fs::{File, OpenOptions},
    process::{Command, Stdio},
    time::Duration,
};

use support::{bare_command, block_on, create_topic, registry_get_json, registry_http_client};
use support::{run_to_end, stack_command, unique_name, Finished};

const LIMIT: Duration = Duration::from_secs(120);

/// `/dev/full`: every write fails with "no space left on device".
fn full_disk() -> File {
    OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full, the device that is always full")
}

/// Runs `command` with stdout a pipe whose reading end is closed before the command writes, as
/// `| true` leaves it.
fn with_closed_stdout(command: &mut Command) -> Finished {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the shoe-producer binary");
    drop(child.stdout.take());
    let started = std::time::Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            panic!("still running after {LIMIT:?} with stdout closed");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Finished::from(child.wait_with_output().expect("collect stderr"))
}

#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn a_full_stderr_loses_the_logs_but_not_the_run_or_its_summary() {
    let topic = create_topic("out-full-stderr", 6);
    let run = Finished::from(
        stack_command()
            .args(["--log-format", "json", "produce", "--topic", &topic])
            .args(["--count", "1000", "-vv", "--progress-interval", "100ms"])
            .stderr(full_disk())
            .output()
            .expect("run the binary"),
    );
    assert_eq!(run.code(), Some(0), "{}", run.transcript());
    let summary = run.summary();
    assert_eq!(
        (summary["sent"].clone(), summary["acked"].clone()),
        (1000.into(), 1000.into())
    );
}

#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn verbose_logs_into_a_pipe_that_closes_after_two_lines_do_not_end_the_run() {
    let topic = create_topic("out-head", 6);
    // What `shoe-producer … -v 2>&1 | head -2` does, with the producer's own exit status.
    let script = format!(
        "\"$0\" produce --topic {topic} --count 1000 -v 2>&1 | head -2; exit \"${{PIPESTATUS[0]}}\""
    );
    let command = stack_command();
    let program = command.get_program().to_owned();
    let envs: Vec<_> = command
        .get_envs()
        .filter_map(|(k, v)| Some((k.to_owned(), v?.to_owned())))
        .collect();
    let run = run_to_end(
        Command::new("bash")
            .env_clear()
            .envs(envs)
            .args(["-c", &script])
            .arg(program),
        LIMIT,
    );
    assert_eq!(run.code(), Some(0), "{}", run.transcript());
    assert_eq!(run.stdout.lines().count(), 2, "{}", run.transcript());
    // Every record was delivered although nobody read the summary.
    assert_eq!(support::consume_all(&topic, 6).len(), 1000);
}

#[test]
fn sample_with_a_full_stderr_still_prints_its_shoes() {
    let run = Finished::from(
        bare_command()
            .args(["sample", "--count", "3", "-v"])
            .stderr(full_disk())
            .output()
            .expect("run the binary"),
    );
    assert_eq!(run.code(), Some(0), "{}", run.transcript());
    assert_eq!(run.stdout.lines().count(), 3, "{}", run.transcript());
}

#[test]
fn sample_stops_early_with_0_when_stdout_closes_and_fails_on_a_full_disk() {
    // Far more than a pipe holds: it must notice the closed pipe and stop, not write them all.
    let closed =
        with_closed_stdout(bare_command().args(["sample", "--count", "100000000", "--seed", "1"]));
    assert_eq!(closed.code(), Some(0), "{}", closed.transcript());
    assert_eq!(closed.stderr, "", "{}", closed.transcript());

    let full = Finished::from(
        bare_command()
            .args(["sample", "--count", "3", "--seed", "1"])
            .stdout(full_disk())
            .output()
            .expect("run the binary"),
    );
    assert_eq!(full.code(), Some(1), "{}", full.transcript());
    assert!(
        full.stderr
            .starts_with("error: cannot write the sample to stdout: No space left on device"),
        "{}",
        full.transcript()
    );
}

#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn produce_check_and_register_finish_their_work_when_stdout_is_closed() {
    let topic = create_topic("out-closed", 6);
    let produce = with_closed_stdout(
        stack_command()
            .args(["produce", "--topic", &topic, "--count", "1000"])
            .args(["--progress-interval", "0s"]),
    );
    assert_eq!(produce.code(), Some(0), "{}", produce.transcript());
    assert_eq!(support::consume_all(&topic, 6).len(), 1000);

    let check = with_closed_stdout(stack_command().args(["check", "--topic", &topic]));
    assert_eq!(check.code(), Some(0), "{}", check.transcript());

    let registered = unique_name("out-closed-register");
    let register = with_closed_stdout(stack_command().args(["register", "--topic", &registered]));
    assert_eq!(register.code(), Some(0), "{}", register.transcript());
    let versions = block_on(registry_get_json(
        &registry_http_client(),
        &format!("/subjects/{registered}-value/versions"),
    ));
    assert_eq!(versions, serde_json::json!([1]));
    for run in [&produce, &check, &register] {
        assert!(!run.stderr.contains("cannot write"), "{}", run.transcript());
    }
}

#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn a_full_stdout_is_named_once_and_does_not_fail_the_check() {
    let topic = create_topic("out-full-stdout", 6);
    let run = Finished::from(
        stack_command()
            .args(["check", "--topic", &topic])
            .stdout(full_disk())
            .output()
            .expect("run the binary"),
    );
    assert_eq!(run.code(), Some(0), "{}", run.transcript());
    let warnings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|line| line.contains("cannot write check's results to stdout"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", run.transcript());
}
