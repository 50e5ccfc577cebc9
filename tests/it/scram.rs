//! SCRAM-SHA-256 and SCRAM-SHA-512 against the local stack's SASL_SSL listener, which enables both for
//! the same API key and secret as PLAIN: the binary produces and the records read back; a wrong secret
//! ends the run at once with the authentication message, and no output shows the secret; a mechanism
//! the broker does not enable is named as such.

use crate::support::{self, Finished};

use std::{
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use rskafka::{
    client::{error::ProtocolError, OauthBearerCredentials, SaslConfig},
    messenger::{Messenger, SaslError},
};
use shoe_producer::kafka::{KafkaError, OpenError};
use tokio::io::BufStream;

const SCRAM: [&str; 2] = ["SCRAM-SHA-256", "SCRAM-SHA-512"];

/// The producer's connect timeout: a run that waits this long on a bad secret was retrying it.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Hang guard for one run (not a timing assertion).
const HANG_GUARD: Duration = Duration::from_secs(180);

/// The binary on the local stack with `mechanism` instead of PLAIN.
fn producer_with(mechanism: &str, args: &[&str]) -> std::process::Command {
    let mut command = support::stack_command();
    command.env("KAFKA_SASL_MECHANISM", mechanism).args(args);
    command
}

fn produces_and_reads_back_with(mechanism: &str) {
    let topic = support::create_topic(&format!("scram-{}", &mechanism[10..]), 3);
    let count = 60;
    let finished = support::run_to_end(
        &mut producer_with(
            mechanism,
            &[
                "--topic",
                &topic,
                "--count",
                &count.to_string(),
                "--log-format",
                "json",
            ],
        ),
        HANG_GUARD,
    );
    assert_eq!(finished.code(), Some(0), "{}", finished.transcript());
    // The connection log names the mechanism in use, so PLAIN cannot have stood in for SCRAM.
    assert!(
        finished
            .stderr
            .contains(&format!("\"sasl_mechanism\":\"{mechanism}\"")),
        "{}",
        finished.transcript()
    );
    let summary = finished.summary();
    assert_eq!(summary["acked"], count, "{summary}");
    assert_eq!(summary["failed"], 0, "{summary}");
    let schema_id = u32::try_from(summary["schema_id"].as_u64().unwrap()).unwrap();

    let records = support::consume_all(&topic, 3);
    let mut keys: Vec<u64> = records
        .iter()
        .map(|r| std::str::from_utf8(&r.key).unwrap().parse().unwrap())
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, (1..=count).collect::<Vec<u64>>());
    for record in &records {
        assert_eq!(record.value[0], 0, "magic byte");
        assert_eq!(record.value[1..5], schema_id.to_be_bytes(), "schema id");
    }
}

#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn scram_sha_256_produces_and_the_records_read_back() {
    produces_and_reads_back_with(SCRAM[0]);
}

#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn scram_sha_512_produces_and_the_records_read_back() {
    produces_and_reads_back_with(SCRAM[1]);
}

#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn a_wrong_secret_fails_at_once_naming_the_credentials_and_never_showing_it() {
    let secret = "wrong-Scram-Secret-41c0de-distinctive";
    for mechanism in SCRAM {
        let mut command = producer_with(mechanism, &["--topic", "shoes", "--count", "1", "-vv"]);
        command.env("KAFKA_API_SECRET", secret);
        let started = Instant::now();
        let finished: Finished = support::run_to_end(&mut command, HANG_GUARD);
        let waited = started.elapsed();
        eprintln!("{mechanism}: wrong secret refused after {waited:?}");
        assert_eq!(finished.code(), Some(1), "{}", finished.transcript());
        let last = finished.stderr.lines().last().unwrap_or_default();
        assert_eq!(
            last,
            format!(
                "error: Kafka rejected the credentials (SASL {mechanism}) at {}: check \
                 KAFKA_API_KEY and KAFKA_API_SECRET (--kafka-api-key/--kafka-api-secret)",
                support::stack_env("BOOTSTRAP_SERVERS")
            ),
            "{}",
            finished.transcript()
        );
        // A rejected secret is final: never retried, so never waited on for the connect timeout.
        assert!(
            !finished.stderr.contains("retrying"),
            "{}",
            finished.transcript()
        );
        assert!(waited < CONNECT_TIMEOUT, "waited {waited:?}");
        for text in [&finished.stdout, &finished.stderr] {
            assert!(!text.contains(secret), "the secret leaked:\n{text}");
            assert!(
                !text.contains(&support::stack_env("KAFKA_API_SECRET")),
                "the real secret leaked:\n{text}"
            );
        }
    }
}

/// A mechanism the stack's listener does not enable (it enables PLAIN and both SCRAMs, which are
/// all the producer offers): OAUTHBEARER, offered straight through rskafka, and the broker's answer
/// turned into the producer's message.
#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn a_mechanism_the_broker_does_not_enable_is_named() {
    let address = support::stack_env("BOOTSTRAP_SERVERS");
    let ca = support::stack_env("KAFKA_SSL_CA_LOCATION");
    let tls = support::stack_tls_config(Path::new(&ca));
    let tcp = tokio::net::TcpStream::connect(&address).await.unwrap();
    let host = address.rsplit_once(':').unwrap().0.to_owned();
    let stream = tokio_rustls::TlsConnector::from(tls)
        .connect(rustls_pki_types::ServerName::try_from(host).unwrap(), tcp)
        .await
        .expect("TLS with the stack's CA");
    let mut messenger = Messenger::new(BufStream::new(stream), 1 << 20, Arc::from("scram-test"));
    messenger.sync_versions().await.expect("ApiVersions");
    let refused = messenger
        .do_sasl(SaslConfig::Oauthbearer(OauthBearerCredentials {
            callback: Arc::new(|| Box::pin(async { Ok("unused-token".to_owned()) })),
            authz_id: None,
            bearer_kvs: vec![],
        }))
        .await
        .expect_err("OAUTHBEARER is not enabled on the stack");
    assert!(
        matches!(
            refused,
            SaslError::ApiError(ProtocolError::UnsupportedSaslMechanism)
        ),
        "{refused:?}"
    );
    let error = KafkaError::from_open(&address, OpenError::Sasl(refused), Some("OAUTHBEARER"));
    assert_eq!(
        error.to_string(),
        format!(
            "Kafka broker {address} does not accept SASL mechanism OAUTHBEARER: set \
             KAFKA_SASL_MECHANISM (--sasl-mechanism) to one the cluster enables"
        )
    );
}
