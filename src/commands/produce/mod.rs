//! The `produce` command, the main job: resolve the schema id once, connect to Kafka, then generate
//! → frame → send until the run's stop condition, flush, and print the summary.
//!
//! Everything that paces or bounds the run (`--count`, `--duration`, `--rate`, signals) lives in
//! `RunControl` and [`Shutdown`]; progress lines, metrics and the summary read the engine's books
//! ([`DeliveryFigures`]), which keep every delivery figure once. The generator, the framer and the key buffer are reused for every record, so the loop
//! allocates nothing per record: each record's bytes are copied once, into its partition's batch.
//!
//! The exit code follows one rule whatever ended the run: success only when every record sent was
//! acknowledged. A signal during start-up ends the run before anything was sent (a success with an
//! empty summary); a fatal error stops the generator at once and fails the run with that error.

mod metrics;
mod progress;
mod rate;
mod run_control;
pub mod shutdown;
pub mod summary;

pub use run_control::StopReason;

use std::{fmt::Display, future::Future, sync::Arc, time::Duration};

use tokio::time::Instant;

use crate::{
    app::config::{require_kafka, require_registry},
    commands::produce::metrics::{Metrics, MetricsServer},
    commands::produce::run_control::RunControl,
    commands::produce::shutdown::{Shutdown, GRACE},
    commands::produce::summary::{Destination, Generation, Summary},
    commands::{instance::Share, stdout},
    kafka,
    producer::delivery::{Distribution, StatsSnapshot},
    producer::{Producer, ProducerHandle},
    registry::{resolve_schema, subject_name, SchemaRegistryClient},
    settings::exit::Failure,
    settings::{Config, KafkaSettings, RegistrySettings, RunSettings},
    shoe::generator::ShoeGenerator,
    shoe::wire::Framer,
    shoe::Shoe,
    support::random_seed::random_seed,
};

/// Records generated per permit from [`RunControl`] (it caps this further under `--rate`).
const GENERATE_CHUNK: u64 = 1024;

/// Runs `produce`, stopped by SIGINT, SIGTERM or SIGHUP in any phase: the run's summary, including
/// why it stopped and how to replay it. `Ok` only when every record sent was acknowledged.
pub async fn produce(config: &Config) -> Result<Summary, Failure> {
    // First thing, so that no phase of the run can miss a signal.
    let shutdown = Shutdown::install(config.log_format)
        .map_err(|e| Failure::runtime(format!("cannot listen for SIGINT/SIGTERM/SIGHUP: {e}")))?;
    produce_with(config, shutdown).await
}

/// [`produce`] with a caller-owned stop request (tests, embedding).
pub async fn produce_with(config: &Config, shutdown: Shutdown) -> Result<Summary, Failure> {
    let kafka_settings = require_kafka(config)?;
    let registry_settings = require_registry(config)?;
    let base_seed = config.run.seed.unwrap_or_else(random_seed);
    let share = Share::of(&config.run, base_seed);
    let mut generation = Generation {
        stop_reason: StopReason::Signal,
        seed: share.seed,
        first_id: share.first_id,
        instance: config.run.instance,
    };
    let mut destination = Destination {
        topic: config.topic.clone(),
        subject: Some(subject_name(
            config.schema.subject_name_strategy,
            &config.topic,
        )),
        schema_id: None,
    };
    let starting = Instant::now();
    let running = match start(
        config,
        kafka_settings,
        registry_settings,
        &mut destination,
        &shutdown,
    )
    .await
    {
        Ok(running) => running,
        Err(Halt::Failed(failure)) => return Err(failure),
        Err(Halt::Stopped { doing }) => {
            tracing::warn!("stopped while {doing}: nothing was produced");
            let summary = Summary::new(
                StatsSnapshot::default(),
                starting.elapsed(),
                destination,
                generation,
            );
            stdout::print(&summary.render(config.log_format), "the summary");
            return Ok(summary);
        }
    };
    let Running {
        producer,
        handle,
        metrics_server,
        schema_id,
    } = running;
    let progress = progress::spawn(
        Arc::new(handle.clone()),
        config.run.progress_interval,
        config.log_format,
        share.count,
    );

    log_idempotence(&handle.snapshot(), "producer ready");
    tracing::info!(
        seed = %share.seed,
        first_id = %share.first_id,
        count = share.count,
        instance = config.run.instance.index,
        instances = config.run.instance.count,
        base_seed = (config.run.instance.count > 1).then(|| base_seed.to_string()),
        "generating shoes (replay with --seed {} --id-start {})",
        share.seed,
        share.first_id
    );
    let this_share = RunSettings {
        count: share.count,
        ..config.run.clone()
    };
    let started = Instant::now();
    generation.stop_reason = generate(
        &handle,
        RunControl::new(&this_share, shutdown.clone()),
        ShoeGenerator::new(share.seed, share.first_id),
        Framer::for_shoe(schema_id),
    )
    .await;
    tracing::info!(
        stop_reason = generation.stop_reason.as_str(),
        "generator stopped; delivering what is buffered"
    );
    let stats = tokio::select! {
        stats = producer.close() => stats,
        () = shutdown.grace_over() => {
            let stats = handle.snapshot();
            tracing::warn!(
                unresolved = stats.in_flight_records,
                "stopped delivering {} after the signal",
                humantime::format_duration(GRACE)
            );
            stats
        }
    };
    let elapsed = started.elapsed();
    progress.finish().await;
    log_idempotence(&stats, "producer closed");

    let summary = Summary::new(stats, elapsed, destination, generation);
    stdout::print(&summary.render(config.log_format), "the summary");
    if let Some(server) = metrics_server {
        linger_for_final_scrape(config.run.metrics_linger, &shutdown).await;
        server.shutdown();
    }
    match run_failure(&summary.stats) {
        Some(message) => Err(Failure::runtime(message)),
        None => Ok(summary),
    }
}

/// Generates, frames and sends records until `control` says stop, or the producer refuses a record
/// (a fatal error); returns why it stopped.
async fn generate(
    handle: &ProducerHandle,
    mut control: RunControl,
    mut generator: ShoeGenerator,
    framer: Framer,
) -> StopReason {
    let mut shoe = Shoe::default();
    let mut key = itoa::Buffer::new();
    let mut value = Vec::with_capacity(256);
    while let Some(n) = control.permit(GENERATE_CHUNK).await {
        for _ in 0..n {
            generator.next_into(&mut shoe);
            framer.frame_into(&shoe, &mut value);
            if handle
                .send(key.format(shoe.id).as_bytes(), &value)
                .await
                .is_err()
            {
                return StopReason::FatalError;
            }
        }
    }
    control
        .stop_reason()
        .expect("permit returns None only once it has a stop reason")
}

/// Why start-up ended before the generator ran.
enum Halt {
    Failed(Failure),
    /// A signal arrived while the run was `doing` something.
    Stopped {
        doing: &'static str,
    },
}

impl From<Failure> for Halt {
    fn from(failure: Failure) -> Self {
        Self::Failed(failure)
    }
}

/// What start-up hands to the generator loop.
struct Running {
    producer: Producer,
    handle: ProducerHandle,
    metrics_server: Option<MetricsServer>,
    schema_id: u32,
}

/// Resolves the schema id, connects to Kafka, creates the topic if asked, starts the producer and
/// the metrics endpoint. Each network phase races the stop request.
async fn start(
    config: &Config,
    kafka_settings: &KafkaSettings,
    registry_settings: &RegistrySettings,
    destination: &mut Destination,
    shutdown: &Shutdown,
) -> Result<Running, Halt> {
    let topic = config.topic.as_str();
    let subject = destination.subject.clone().unwrap_or_default();
    let registry = SchemaRegistryClient::new(registry_settings).map_err(Failure::runtime)?;
    let (schema_id, resolution) = phase(
        shutdown,
        "asking the Schema Registry for the schema id",
        resolve_schema(&registry, &subject, &config.schema),
    )
    .await?;
    destination.schema_id = Some(schema_id);
    tracing::info!(
        %subject,
        schema_id,
        resolution = resolution.as_str(),
        "schema id resolved"
    );

    let kafka = phase(
        shutdown,
        "connecting to Kafka",
        kafka::connect(kafka_settings),
    )
    .await?;
    if let Some(creation) = config.run.create_topic {
        phase(
            shutdown,
            "creating the topic",
            kafka.create_topic(topic, creation.partitions, creation.replication_factor),
        )
        .await?;
    }

    let producer = phase(
        shutdown,
        "reading the topic's metadata and getting a producer id",
        Producer::start(&kafka, topic, &config.producer),
    )
    .await?;
    let handle = producer.handle();
    let metrics_server = match config.run.metrics_addr {
        Some(addr) => Some(
            Metrics::new(Arc::new(handle.clone()), destination)
                .serve(addr)
                .await
                .map_err(|e| {
                    Failure::runtime(format!(
                        "cannot serve metrics on {addr} (--metrics-addr): {e}"
                    ))
                })?,
        ),
        None => None,
    };
    {
        let handle = handle.clone();
        shutdown.track_unresolved(move || handle.snapshot().in_flight_records);
    }
    Ok(Running {
        producer,
        handle,
        metrics_server,
        schema_id,
    })
}

/// Runs one start-up phase, `doing` something, unless a stop is asked for first.
async fn phase<T, E: Display>(
    shutdown: &Shutdown,
    doing: &'static str,
    work: impl Future<Output = Result<T, E>>,
) -> Result<T, Halt> {
    match shutdown.unless_stopped(work).await {
        None => Err(Halt::Stopped { doing }),
        Some(result) => result.map_err(|error| Halt::Failed(Failure::runtime(error))),
    }
}

/// The idempotent producer's id and epoch, at debug level (`-v`), when there is one.
fn log_idempotence(stats: &StatsSnapshot, when: &str) {
    if let Some((producer_id, epoch)) = stats.producer_id_and_epoch {
        tracing::debug!(
            producer_id = %producer_id,
            epoch,
            epoch_bumps = stats.epoch_bumps,
            "{when}: idempotent producer id {producer_id}, epoch {epoch}"
        );
    }
}

/// The engine's books, as progress and metrics read them (the producer's handle; fakes in tests).
pub(crate) trait DeliveryFigures: Send + Sync + 'static {
    /// Every figure of the run so far.
    fn snapshot(&self) -> StatsSnapshot;
    /// The ack latencies (µs) of the records acknowledged since the previous call; only progress
    /// calls it, one interval after the other.
    fn end_interval(&self) -> Distribution;
}

impl DeliveryFigures for ProducerHandle {
    fn snapshot(&self) -> StatsSnapshot {
        ProducerHandle::snapshot(self)
    }
    fn end_interval(&self) -> Distribution {
        ProducerHandle::end_interval(self)
    }
}

/// Keeps `/metrics` up for `linger` after the summary, so a scraper can read the final values. A run
/// stopped by a signal does not wait, and a signal during the wait ends it.
async fn linger_for_final_scrape(linger: Duration, shutdown: &Shutdown) {
    if linger.is_zero() {
        return;
    }
    tracing::info!(
        linger = %humantime::format_duration(linger),
        "serving the final metrics before exiting"
    );
    tokio::select! {
        () = tokio::time::sleep(linger) => {}
        () = shutdown.wait() => {}
    }
}

/// The one line for a run that did not get every record acknowledged, or `None` when it did.
fn run_failure(stats: &StatsSnapshot) -> Option<String> {
    let unresolved = stats.in_flight_records;
    let line = if let Some(fatal) = &stats.fatal_error {
        format!(
            "stopped at the first fatal error: {fatal}; {} of {} records failed",
            stats.failed, stats.sent
        )
    } else if stats.failed > 0 {
        failed_records_message(stats)
    } else if unresolved > 0 {
        format!(
            "{unresolved} of {} records unresolved: delivery stopped {} after the signal, before \
             Kafka answered for them (they may or may not be on the topic)",
            stats.sent,
            humantime::format_duration(GRACE)
        )
    } else {
        return None;
    };
    Some(line)
}

/// How many records failed and why, suggesting a longer `--delivery-timeout` only when some of them
/// ran out of time while retrying (the engine counts those apart): a non-retriable error
/// (`MESSAGE_TOO_LARGE`, an authorization error, a deleted topic) fails however long one waits.
fn failed_records_message(stats: &StatsSnapshot) -> String {
    let reasons: Vec<String> = stats
        .failed_by_reason
        .iter()
        .map(|(reason, n)| format!("{n} × {reason}"))
        .collect();
    let mut line = format!(
        "{} of {} records failed ({})",
        stats.failed,
        stats.sent,
        reasons.join(", ")
    );
    if stats.failed_timed_out > 0 {
        line.push_str("; raise --delivery-timeout to ride out longer outages");
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(failed_by_reason: &[(&str, u64)]) -> StatsSnapshot {
        let failed = failed_by_reason.iter().map(|(_, n)| n).sum();
        StatsSnapshot {
            sent: 100,
            acked: 100 - failed,
            failed,
            failed_by_reason: failed_by_reason
                .iter()
                .map(|(reason, n)| (reason.to_string(), *n))
                .collect(),
            ..StatsSnapshot::default()
        }
    }

    #[test]
    fn a_longer_delivery_timeout_is_suggested_only_where_it_could_help() {
        let expired = run_failure(&StatsSnapshot {
            failed_timed_out: 3,
            ..stats(&[("delivery_timeout (last error: NOT_LEADER_OR_FOLLOWER)", 3)])
        })
        .unwrap();
        assert_eq!(
            expired,
            "3 of 100 records failed (3 × delivery_timeout (last error: NOT_LEADER_OR_FOLLOWER)); raise --delivery-timeout to ride out longer outages"
        );
        let too_large = run_failure(&stats(&[("MESSAGE_TOO_LARGE", 4)])).unwrap();
        assert_eq!(too_large, "4 of 100 records failed (4 × MESSAGE_TOO_LARGE)");
    }

    #[test]
    fn a_fatal_error_is_reported_once_and_unresolved_records_fail_the_run() {
        let mut fatal = stats(&[("TOPIC_AUTHORIZATION_FAILED", 7)]);
        fatal.fatal_error = Some("TOPIC_AUTHORIZATION_FAILED on topic shoes".into());
        assert_eq!(
            run_failure(&fatal).unwrap(),
            "stopped at the first fatal error: TOPIC_AUTHORIZATION_FAILED on topic shoes; 7 of 100 records failed"
        );
        let unresolved = StatsSnapshot {
            sent: 10,
            acked: 6,
            in_flight_records: 4,
            ..StatsSnapshot::default()
        };
        assert!(run_failure(&unresolved)
            .unwrap()
            .starts_with("4 of 10 records unresolved: delivery stopped 2s after the signal"));
        assert_eq!(run_failure(&stats(&[])), None);
    }
}
