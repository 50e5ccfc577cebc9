//! Managed-Kafka conditions on a broker that ends every SASL session after ten seconds
//! (`connections.max.reauth.ms=10000`, as Amazon MSK's IAM sessions end after an hour), and a
//! produce quota on the stack's user. `scripts/test.sh` runs this module on a stack of its own
//! started with `LOCAL_STACK_KAFKA_CONFIG=connections.max.reauth.ms=10000`, one test at a time (a
//! quota slows every client of the user); on a stack without that setting the tests fail, saying
//! so.

use std::{process::Command, time::Duration};

use crate::support::{run_to_end, Finished};

mod quota;
mod sessions;

/// The session lifetime the stack of this module sets.
const SESSION: Duration = Duration::from_secs(10);

/// Fails the test unless the broker ends sessions after [`SESSION`].
fn assert_sessions_end(kafka: &shoe_producer::kafka::Kafka) {
    assert_eq!(
        kafka.session_lifetime(),
        Some(SESSION),
        "the broker must end sessions after 10 s: start the stack with \
         LOCAL_STACK_KAFKA_CONFIG=connections.max.reauth.ms=10000 (scripts/test.sh does)"
    );
}

/// Runs the producer `command` to its end (three minutes at most) off the runtime's threads and
/// checks that it succeeded with no record failed; returns the run and its summary.
async fn run_without_failures(mut command: Command) -> (Finished, serde_json::Value) {
    let finished =
        tokio::task::spawn_blocking(move || run_to_end(&mut command, Duration::from_secs(180)))
            .await
            .unwrap();
    let stderr = &finished.stderr;
    assert_eq!(finished.code(), Some(0), "{stderr}");
    let summary = finished.summary();
    assert_eq!(summary["failed"], 0, "{stderr}");
    (finished, summary)
}
