//! The `produce` command, the main job: resolve the schema id once, connect to Kafka, then generate
//! → frame → send until the run's stop condition, flush, and print the summary.
//!
//! Everything that paces or bounds the run (`--count`, `--duration`, `--rate`, SIGINT/SIGTERM) lives
//! in [`RunControl`]; progress lines, metrics and the summary read the engine's counters. The
//! generator, the framer and the key buffer are reused for every record, so the loop allocates
//! nothing per record: each record's bytes are copied once, into its partition's batch.

pub mod metrics;
pub mod progress;
pub mod rate;
pub mod run_control;
pub mod shutdown;
pub mod summary;

use std::{sync::Arc, time::Duration};

use tokio::time::Instant;

use crate::{
    app::exit::Failure,
    app::settings::Config,
    commands::produce::metrics::Metrics,
    commands::produce::progress::SnapshotSource,
    commands::produce::run_control::{RunControl, StopReason},
    commands::produce::shutdown::Shutdown,
    commands::produce::summary::{Destination, Summary},
    kafka,
    producer::delivery::DeliveryObserver,
    producer::Producer,
    registry::{resolve_schema, subject_name, SchemaRegistryClient},
    shoe::generator::ShoeGenerator,
    shoe::wire::Framer,
    shoe::Shoe,
    support::random_seed::random_seed,
};

/// Records generated per permit from [`RunControl`] (it caps this further under `--rate`).
const GENERATE_CHUNK: u64 = 1024;

/// How a completed run ended.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub summary: Summary,
    /// Why the generator stopped.
    pub stop_reason: Option<StopReason>,
    pub seed: u64,
}

/// Runs `produce` with SIGINT/SIGTERM handling. `Ok` only when every record sent was acknowledged.
pub async fn produce(config: &Config) -> Result<RunOutcome, Failure> {
    let shutdown = Shutdown::install(config.log_format)
        .map_err(|e| Failure::runtime(format!("cannot listen for SIGINT/SIGTERM: {e}")))?;
    produce_with(config, shutdown).await
}

/// [`produce`] with a caller-owned stop request (tests, embedding).
pub async fn produce_with(config: &Config, shutdown: Shutdown) -> Result<RunOutcome, Failure> {
    let kafka_settings = config.require_kafka()?;
    let registry_settings = config.require_registry()?;
    let topic = config.topic.as_str();

    let subject = subject_name(config.schema.subject_name_strategy, topic);
    let registry = SchemaRegistryClient::new(registry_settings).map_err(Failure::runtime)?;
    let (schema_id, resolution) = resolve_schema(&registry, &subject, &config.schema)
        .await
        .map_err(Failure::runtime)?;
    tracing::info!(%subject, schema_id, ?resolution, "schema id resolved");

    let kafka = kafka::connect(kafka_settings)
        .await
        .map_err(Failure::runtime)?;
    if let Some(creation) = config.run.create_topic {
        kafka
            .create_topic(topic, creation.partitions, creation.replication_factor)
            .await
            .map_err(Failure::runtime)?;
    }
    let partitions = kafka
        .partition_count(topic)
        .await
        .map_err(Failure::runtime)?;
    tracing::info!(topic, partitions, "topic found");
    // The engine opens its own connections to the partition leaders; the admin one is done.
    let connector = kafka.connector();
    drop(kafka);

    let destination = Destination {
        topic: topic.to_owned(),
        subject: Some(subject),
        schema_id: Some(schema_id),
    };
    let metrics = Metrics::new(&destination);
    let metrics_server = match config.run.metrics_addr {
        Some(addr) => Some(metrics.serve(addr).await.map_err(|e| {
            Failure::runtime(format!(
                "cannot serve metrics on {addr} (--metrics-addr): {e}"
            ))
        })?),
        None => None,
    };
    let observers: Vec<Arc<dyn DeliveryObserver>> = vec![metrics.clone()];
    let producer = Producer::start(connector, topic, partitions, &config.producer, observers)
        .map_err(Failure::usage)?;
    let handle = producer.handle();
    let snapshot: SnapshotSource = {
        let handle = handle.clone();
        Arc::new(move || handle.snapshot())
    };
    metrics.set_snapshot_source(Arc::clone(&snapshot));
    {
        let handle = handle.clone();
        shutdown.track_unresolved(move || handle.snapshot().in_flight_records);
    }
    let progress = progress::spawn(
        Arc::clone(&snapshot),
        config.run.progress_interval,
        config.log_format,
        config.run.count,
    );

    let seed = config.run.seed.unwrap_or_else(random_seed);
    tracing::info!(
        seed,
        id_start = config.run.id_start,
        "generating shoes (replay with --seed)"
    );
    let mut generator = ShoeGenerator::new(seed, config.run.id_start);
    let framer = Framer::for_shoe(schema_id);
    let mut control = RunControl::new(&config.run, shutdown.clone());
    let mut shoe = Shoe::default();
    let mut key = itoa::Buffer::new();
    let mut value = Vec::with_capacity(256);

    let started = Instant::now();
    'generate: while let Some(n) = control.permit(GENERATE_CHUNK).await {
        for _ in 0..n {
            generator.next_into(&mut shoe);
            framer.frame_into(&shoe, &mut value);
            if handle
                .send(key.format(shoe.id).as_bytes(), &value)
                .await
                .is_err()
            {
                break 'generate;
            }
        }
    }
    let stop_reason = control.stop_reason();
    tracing::info!(
        ?stop_reason,
        "generator stopped; delivering what is buffered"
    );
    let stats = producer.close().await;
    let elapsed = started.elapsed();
    progress.finish().await;

    let summary = Summary::new(stats, elapsed, destination);
    summary
        .print(config.log_format)
        .map_err(|e| Failure::runtime(format!("cannot write the summary to stdout: {e}")))?;
    if let Some(server) = metrics_server {
        linger_for_final_scrape(config.run.metrics_linger, &shutdown).await;
        server.shutdown();
    }
    if summary.stats.failed > 0 {
        return Err(Failure::runtime(failure_message(&summary)));
    }
    Ok(RunOutcome {
        summary,
        stop_reason,
        seed,
    })
}

/// Keeps `/metrics` up for `linger` after the summary, so a scraper can read the final values. A run
/// stopped by a signal does not wait, and a signal during the wait ends it.
async fn linger_for_final_scrape(linger: Duration, shutdown: &Shutdown) {
    if linger.is_zero() {
        return;
    }
    tracing::info!(?linger, "serving the final metrics before exiting");
    tokio::select! {
        () = tokio::time::sleep(linger) => {}
        () = shutdown.wait() => {}
    }
}

/// The one line for a run with failed records: how many, and the reasons.
fn failure_message(summary: &Summary) -> String {
    let s = &summary.stats;
    let reasons: Vec<String> = s
        .failed_by_reason
        .iter()
        .map(|(reason, n)| format!("{n} × {reason}"))
        .collect();
    format!(
        "{} of {} records failed ({}); raise --delivery-timeout to ride out longer outages",
        s.failed,
        s.sent,
        reasons.join(", ")
    )
}
