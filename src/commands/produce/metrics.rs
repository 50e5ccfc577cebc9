//! Prometheus metrics on `--metrics-addr`, at `/metrics`, in the OpenMetrics text format, named by
//! its conventions: the unit as a suffix (`…_seconds`, `…_bytes`), `_total` on counters, latency
//! buckets fine enough to tell 2 ms from 3 ms, and the metrics people look for when a run is slow —
//! produce requests, errors and retries by reason, batch sizes and records per batch, broker
//! throttling, requests in flight. `deploy/grafana/shoe-producer.json` charts every one of them.
//!
//! Two halves, because the engine reports deliveries to observers it is given at start while its
//! counters can only be read once it runs: [`DeliveryMetrics`] is the observer, fed by the engine's
//! per-batch and per-request reports (counters, histograms); [`Metrics`] is built after the
//! producer and reads the engine's snapshot at scrape time for everything else (records sent,
//! possible duplicates, epoch bumps, the gauges), so a scrape costs the send path nothing. The
//! exposition is `prometheus-client`'s, not hand-formatted text; the HTTP side is a minimal hyper
//! HTTP/1 server.

use std::{
    convert::Infallible,
    net::SocketAddr,
    sync::{atomic::AtomicU64, Arc},
    time::Duration,
};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{
    body::Incoming, server::conn::http1, service::service_fn, Method, Request, Response, StatusCode,
};
use hyper_util::rt::TokioIo;
use prometheus_client::{
    encoding::text::encode,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram, info::Info},
    registry::{Registry, Unit},
};
use tokio::{net::TcpListener, task::JoinHandle};

use crate::{
    commands::produce::progress::SnapshotSource,
    commands::produce::summary::Destination,
    producer::delivery::{DeliveryObserver, RequestReport},
};

/// The content type of the OpenMetrics text exposition (Prometheus asks for it).
pub(crate) const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Ack and request latency buckets, in seconds: every millisecond up to 5 ms, then about a third
/// apart up to two minutes (a delivery timeout's order).
const LATENCY_BUCKETS: [f64; 28] = [
    0.000_5, 0.001, 0.002, 0.003, 0.004, 0.005, 0.007_5, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05,
    0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 120.0,
];
/// Batch sizes on the wire, in bytes: 256 B to 16 MiB, by fours.
const BATCH_BYTES_BUCKETS: [f64; 9] = [
    256.0,
    1024.0,
    4096.0,
    16384.0,
    65536.0,
    262_144.0,
    1_048_576.0,
    4_194_304.0,
    16_777_216.0,
];
/// Records per batch.
const BATCH_RECORDS_BUCKETS: [f64; 12] = [
    1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 5000.0, 20000.0,
];

type Labels = Vec<(String, String)>;

fn reason(reason: &str) -> Labels {
    vec![("reason".to_owned(), reason.to_owned())]
}

/// The metrics fed by the engine's delivery reports; handed to the engine as an observer.
pub(crate) struct DeliveryMetrics {
    records_failed_by_reason: Family<Labels, Counter>,
    ack_latency: Histogram,
    produce_requests: Counter,
    produce_request_errors: Family<Labels, Counter>,
    produce_retries: Family<Labels, Counter>,
    produce_request_latency: Histogram,
    batch_bytes: Histogram,
    batch_records: Histogram,
    throttle_seconds: Counter<f64, AtomicU64>,
    throttled_requests: Counter,
}

impl DeliveryMetrics {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            records_failed_by_reason: Family::default(),
            ack_latency: Histogram::new(LATENCY_BUCKETS),
            produce_requests: Counter::default(),
            produce_request_errors: Family::default(),
            produce_retries: Family::default(),
            produce_request_latency: Histogram::new(LATENCY_BUCKETS),
            batch_bytes: Histogram::new(BATCH_BYTES_BUCKETS),
            batch_records: Histogram::new(BATCH_RECORDS_BUCKETS),
            throttle_seconds: Counter::default(),
            throttled_requests: Counter::default(),
        })
    }
}

impl DeliveryObserver for DeliveryMetrics {
    fn acked(&self, _partition: i32, _base_offset: i64, latencies: &[Duration], _bytes: u64) {
        for latency in latencies {
            self.ack_latency.observe(latency.as_secs_f64());
        }
    }

    fn failed(&self, _partition: i32, records: u64, why: &str) {
        self.records_failed_by_reason
            .get_or_create(&reason(why))
            .inc_by(records);
    }

    fn request_finished(&self, request: &RequestReport<'_>) {
        self.produce_requests.inc();
        self.produce_request_latency
            .observe(request.latency.as_secs_f64());
        match request.error {
            None => {
                // A batch counts once, when it is acknowledged, however many attempts it took.
                self.batch_bytes.observe(request.batch_bytes as f64);
                self.batch_records.observe(f64::from(request.records));
            }
            Some(why) => {
                self.produce_request_errors
                    .get_or_create(&reason(why))
                    .inc();
                if request.will_retry {
                    self.produce_retries.get_or_create(&reason(why)).inc();
                }
            }
        }
        if let Some(throttle) = request.throttle.filter(|t| !t.is_zero()) {
            self.throttle_seconds.inc_by(throttle.as_secs_f64());
            self.throttled_requests.inc();
        }
    }
}

/// The metric set of one run: the delivery metrics plus what the engine's snapshot holds.
pub(crate) struct Metrics {
    registry: Registry,
    snapshot: SnapshotSource,
    records_sent: Counter,
    records_acked: Counter,
    records_failed: Counter,
    acked_bytes: Counter,
    possible_duplicates: Counter,
    epoch_bumps: Counter,
    in_flight_records: Gauge,
    requests_in_flight: Gauge,
    buffered_bytes: Gauge,
    producer_id: Gauge,
    producer_epoch: Gauge,
    fatal_error: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// Registers every metric — `delivery`'s and the snapshot-fed ones read from `snapshot` — with
    /// an info metric naming the topic, subject and schema id.
    pub(crate) fn new(
        delivery: &DeliveryMetrics,
        snapshot: SnapshotSource,
        destination: &Destination,
    ) -> Arc<Self> {
        let metrics = Self {
            registry: Registry::with_prefix("shoe_producer"),
            snapshot,
            records_sent: Counter::default(),
            records_acked: Counter::default(),
            records_failed: Counter::default(),
            acked_bytes: Counter::default(),
            possible_duplicates: Counter::default(),
            epoch_bumps: Counter::default(),
            in_flight_records: Gauge::default(),
            requests_in_flight: Gauge::default(),
            buffered_bytes: Gauge::default(),
            producer_id: Gauge::default(),
            producer_epoch: Gauge::default(),
            fatal_error: Gauge::default(),
        };
        let mut metrics = metrics;
        let r = &mut metrics.registry;
        let d = delivery;

        r.register(
            "records_sent",
            "Records accepted by the producer",
            metrics.records_sent.clone(),
        );
        r.register(
            "records_acked",
            "Records acknowledged by Kafka",
            metrics.records_acked.clone(),
        );
        r.register(
            "records_failed",
            "Records that reached their final failed state",
            metrics.records_failed.clone(),
        );
        r.register(
            "records_failed_by_reason",
            "Records that reached their final failed state, by reason (a series appears with its first failure)",
            d.records_failed_by_reason.clone(),
        );
        r.register(
            "records_possible_duplicates",
            "Acknowledged records whose request was retried after an unknown outcome",
            metrics.possible_duplicates.clone(),
        );
        r.register_with_unit(
            "acked",
            "Key and value bytes of acknowledged records",
            Unit::Bytes,
            metrics.acked_bytes.clone(),
        );
        r.register_with_unit(
            "ack_latency",
            "Time from send to acknowledgement, per record",
            Unit::Seconds,
            d.ack_latency.clone(),
        );
        r.register(
            "produce_requests",
            "Produce requests that finished, acknowledged or not (each attempt of a retried batch counts)",
            d.produce_requests.clone(),
        );
        r.register(
            "produce_request_errors",
            "Produce requests that failed, by reason (a series appears with its first error)",
            d.produce_request_errors.clone(),
        );
        r.register(
            "produce_retries",
            "Failed produce requests whose batch is sent again, by reason",
            d.produce_retries.clone(),
        );
        r.register_with_unit(
            "produce_request_latency",
            "Time from sending a produce request to its answer or failure",
            Unit::Seconds,
            d.produce_request_latency.clone(),
        );
        r.register_with_unit(
            "batch_size",
            "Size on the wire (after compression) of each acknowledged batch",
            Unit::Bytes,
            d.batch_bytes.clone(),
        );
        r.register(
            "batch_records",
            "Records in each acknowledged batch",
            d.batch_records.clone(),
        );
        r.register_with_unit(
            "throttle",
            "Time the brokers asked the producer to hold back (produce quota throttling)",
            Unit::Seconds,
            d.throttle_seconds.clone(),
        );
        r.register(
            "throttled_requests",
            "Produce requests answered with a throttle time",
            d.throttled_requests.clone(),
        );
        r.register(
            "produce_requests_in_flight",
            "Produce requests sent and not yet answered",
            metrics.requests_in_flight.clone(),
        );
        r.register(
            "in_flight_records",
            "Records sent but not yet acked or failed",
            metrics.in_flight_records.clone(),
        );
        r.register_with_unit(
            "buffered",
            "Bytes of records held by the producer (buffered or in flight), bounded by --buffer-memory",
            Unit::Bytes,
            metrics.buffered_bytes.clone(),
        );
        r.register(
            "epoch_bumps",
            "Times the idempotent producer bumped its epoch (or took a new producer id) and reset sequences",
            metrics.epoch_bumps.clone(),
        );
        r.register(
            "producer_id",
            "The idempotent producer's id (-1 without idempotence)",
            metrics.producer_id.clone(),
        );
        r.register(
            "producer_epoch",
            "The idempotent producer's epoch (-1 without idempotence)",
            metrics.producer_epoch.clone(),
        );
        r.register(
            "fatal_error",
            "1 once a non-retriable error has stopped the run, else 0",
            metrics.fatal_error.clone(),
        );
        let info: Labels = vec![
            ("topic".into(), destination.topic.clone()),
            (
                "subject".into(),
                destination.subject.clone().unwrap_or_default(),
            ),
            (
                "schema_id".into(),
                destination
                    .schema_id
                    .map(|id| id.to_string())
                    .unwrap_or_default(),
            ),
            ("version".into(), env!("CARGO_PKG_VERSION").into()),
        ];
        r.register("run", "What this producer writes", Info::new(info));
        Arc::new(metrics)
    }

    /// Refreshes the snapshot-fed metrics and encodes everything as OpenMetrics text.
    pub(crate) fn encode(&self) -> String {
        let stats = (self.snapshot)();
        // Counts come from one snapshot, which the engine keeps consistent (acked + failed never
        // pass sent); the observer's callbacks would race it.
        raise_to(&self.records_sent, stats.sent);
        raise_to(&self.records_acked, stats.acked);
        raise_to(&self.records_failed, stats.failed);
        raise_to(&self.acked_bytes, stats.bytes_acked);
        raise_to(&self.possible_duplicates, stats.possible_duplicates);
        raise_to(&self.epoch_bumps, stats.epoch_bumps);
        self.in_flight_records
            .set(saturating_i64(stats.in_flight_records));
        self.requests_in_flight
            .set(saturating_i64(stats.requests_in_flight));
        self.buffered_bytes
            .set(saturating_i64(stats.buffered_bytes));
        let (id, epoch) = stats.producer_id_and_epoch.unwrap_or((-1, -1));
        self.producer_id.set(id);
        self.producer_epoch.set(i64::from(epoch));
        self.fatal_error.set(i64::from(stats.fatal_error.is_some()));
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("writing to a String cannot fail");
        text
    }
    /// Binds `addr` now (so a taken port fails at once) and serves `/metrics` until the handle is
    /// dropped or shut down. Needs a Tokio runtime.
    pub(crate) async fn serve(
        self: &Arc<Self>,
        addr: SocketAddr,
    ) -> std::io::Result<MetricsServer> {
        let listener = TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        let metrics = Arc::clone(self);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let metrics = Arc::clone(&metrics);
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        let metrics = Arc::clone(&metrics);
                        async move { Ok::<_, Infallible>(respond(&metrics, &request)) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        tracing::info!("serving Prometheus metrics on http://{local_addr}/metrics");
        Ok(MetricsServer {
            #[cfg(test)]
            local_addr,
            task,
        })
    }
}

/// Counters only go up: raise `counter` to `value` (the snapshot's running total).
fn raise_to(counter: &Counter, value: u64) {
    let current = counter.get();
    if value > current {
        counter.inc_by(value - current);
    }
}

fn saturating_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn respond(metrics: &Metrics, request: &Request<Incoming>) -> Response<Full<Bytes>> {
    let response = Response::builder();
    let built = match (request.method(), request.uri().path()) {
        (&Method::GET | &Method::HEAD, "/metrics") => response
            .status(StatusCode::OK)
            .header(hyper::header::CONTENT_TYPE, CONTENT_TYPE)
            .body(Full::new(Bytes::from(metrics.encode()))),
        (_, "/metrics") => response
            .status(StatusCode::METHOD_NOT_ALLOWED)
            .header(hyper::header::ALLOW, "GET, HEAD")
            .body(Full::new(Bytes::new())),
        _ => response
            .status(StatusCode::NOT_FOUND)
            .header(hyper::header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(Full::new(Bytes::from_static(b"metrics are at /metrics\n"))),
    };
    built.expect("a response from constant parts")
}

/// The running metrics endpoint.
#[derive(Debug)]
pub(crate) struct MetricsServer {
    #[cfg(test)]
    local_addr: SocketAddr,
    task: JoinHandle<()>,
}

impl MetricsServer {
    /// The bound address (the real port when `--metrics-addr` asked for port 0).
    #[cfg(test)]
    fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting scrapes.
    pub(crate) fn shutdown(self) {
        self.task.abort();
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::producer::delivery::StatsSnapshot;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn destination() -> Destination {
        Destination {
            topic: "shoes".into(),
            subject: Some("shoes-value".into()),
            schema_id: Some(100_001),
        }
    }

    fn snapshot() -> StatsSnapshot {
        StatsSnapshot {
            sent: 9,
            acked: 2,
            failed: 4,
            possible_duplicates: 1,
            in_flight_records: 3,
            buffered_bytes: 4096,
            requests_in_flight: 2,
            epoch_bumps: 1,
            producer_id_and_epoch: Some((4_001, 2)),
            bytes_acked: 120,
            ..Default::default()
        }
    }

    fn request(error: Option<&str>, will_retry: bool) -> RequestReport<'_> {
        RequestReport {
            partition: 0,
            records: 2,
            batch_bytes: 300,
            latency: Duration::from_micros(2_500),
            error,
            will_retry,
            throttle: error.is_none().then(|| Duration::from_millis(250)),
        }
    }

    fn metrics_over(source: SnapshotSource) -> Arc<Metrics> {
        let delivery = DeliveryMetrics::new();
        delivery.acked(
            0,
            10,
            &[Duration::from_millis(2), Duration::from_micros(2_500)],
            120,
        );
        delivery.failed(1, 4, "delivery_timeout");
        delivery.request_finished(&request(Some("NOT_LEADER_OR_FOLLOWER"), true));
        delivery.request_finished(&request(Some("MESSAGE_TOO_LARGE"), false));
        delivery.request_finished(&request(None, false));
        Metrics::new(&delivery, source, &destination())
    }

    fn fed_metrics() -> Arc<Metrics> {
        metrics_over(Arc::new(snapshot))
    }

    #[test]
    fn exposition_names_every_metric_with_its_unit() {
        let text = fed_metrics().encode();
        for expected in [
            "shoe_producer_records_sent_total 9\n",
            "shoe_producer_records_acked_total 2\n",
            "shoe_producer_records_failed_total 4\n",
            "shoe_producer_records_failed_by_reason_total{reason=\"delivery_timeout\"} 4\n",
            "shoe_producer_records_possible_duplicates_total 1\n",
            "# UNIT shoe_producer_acked_bytes bytes\n",
            "shoe_producer_acked_bytes_total 120\n",
            "# UNIT shoe_producer_ack_latency_seconds seconds\n",
            "shoe_producer_ack_latency_seconds_count 2\n",
            "shoe_producer_produce_requests_total 3\n",
            "shoe_producer_produce_request_errors_total{reason=\"NOT_LEADER_OR_FOLLOWER\"} 1\n",
            "shoe_producer_produce_request_errors_total{reason=\"MESSAGE_TOO_LARGE\"} 1\n",
            "shoe_producer_produce_retries_total{reason=\"NOT_LEADER_OR_FOLLOWER\"} 1\n",
            "shoe_producer_produce_request_latency_seconds_count 3\n",
            "shoe_producer_batch_size_bytes_count 1\n",
            "shoe_producer_batch_size_bytes_sum 300.0\n",
            "shoe_producer_batch_records_sum 2.0\n",
            "shoe_producer_throttle_seconds_total 0.25\n",
            "shoe_producer_throttled_requests_total 1\n",
            "shoe_producer_produce_requests_in_flight 2\n",
            "shoe_producer_in_flight_records 3\n",
            "shoe_producer_buffered_bytes 4096\n",
            "shoe_producer_epoch_bumps_total 1\n",
            "shoe_producer_producer_id 4001\n",
            "shoe_producer_producer_epoch 2\n",
            "shoe_producer_fatal_error 0\n",
            "shoe_producer_run_info{topic=\"shoes\",subject=\"shoes-value\",schema_id=\"100001\",",
            "# EOF\n",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
        }
        assert!(
            !text.contains("shoe_producer_produce_retries_total{reason=\"MESSAGE_TOO_LARGE\"}"),
            "a request that is not retried is no retry:\n{text}"
        );
    }

    #[test]
    fn latency_buckets_tell_milliseconds_apart() {
        let text = fed_metrics().encode();
        // 2 ms and 2.5 ms land in different buckets.
        for bucket in [
            "shoe_producer_ack_latency_seconds_bucket{le=\"0.002\"} 1\n",
            "shoe_producer_ack_latency_seconds_bucket{le=\"0.003\"} 2\n",
        ] {
            assert!(text.contains(bucket), "missing {bucket:?} in:\n{text}");
        }
        let below_10ms = LATENCY_BUCKETS.iter().filter(|&&le| le <= 0.01).count();
        assert!(below_10ms >= 8, "{LATENCY_BUCKETS:?}");
    }

    #[test]
    fn without_idempotence_the_producer_id_is_minus_one() {
        let metrics = metrics_over(Arc::new(|| StatsSnapshot {
            fatal_error: Some("TOPIC_AUTHORIZATION_FAILED".into()),
            ..StatsSnapshot::default()
        }));
        let text = metrics.encode();
        assert!(text.contains("shoe_producer_producer_id -1\n"), "{text}");
        assert!(text.contains("shoe_producer_fatal_error 1\n"), "{text}");
    }

    #[test]
    fn the_grafana_dashboard_charts_only_metrics_that_exist() {
        let dashboard: serde_json::Value =
            serde_json::from_str(include_str!("../../../deploy/grafana/shoe-producer.json"))
                .expect("the dashboard is JSON");
        let exposition = fed_metrics().encode();
        let mut charted = std::collections::BTreeSet::new();
        for panel in dashboard["panels"].as_array().unwrap() {
            for target in panel["targets"].as_array().into_iter().flatten() {
                let expr = target["expr"].as_str().unwrap();
                let mut rest = expr;
                while let Some(at) = rest.find("shoe_producer_") {
                    let name: String = rest[at..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    rest = &rest[at + name.len()..];
                    charted.insert(name);
                }
            }
        }
        assert!(charted.len() >= 20, "{charted:?}");
        for name in &charted {
            let exposed = exposition.lines().any(|line| {
                line.starts_with(&format!("{name} ")) || line.starts_with(&format!("{name}{{"))
            });
            assert!(
                exposed,
                "the dashboard charts {name}, which /metrics does not expose"
            );
        }
        // And every metric family is on the dashboard.
        for line in exposition.lines().filter(|l| l.starts_with("# TYPE ")) {
            let family = line.split_whitespace().nth(2).unwrap();
            if family == "shoe_producer_run" {
                continue;
            }
            assert!(
                charted.iter().any(|name| name.starts_with(family)),
                "{family} is not on the dashboard"
            );
        }
    }

    #[test]
    fn snapshot_counters_never_go_down() {
        let reads = std::sync::atomic::AtomicU32::new(0);
        let metrics = metrics_over(Arc::new(move || {
            if reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed) == 0 {
                snapshot()
            } else {
                StatsSnapshot::default()
            }
        }));
        metrics.encode();
        assert!(metrics
            .encode()
            .contains("shoe_producer_records_sent_total 9\n"));
    }

    #[tokio::test]
    async fn serves_metrics_over_http() {
        let metrics = fed_metrics();
        let server = metrics.serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let addr = server.local_addr();
        let get = |path: &'static str| async move {
            let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            stream.write_all(request.as_bytes()).await.unwrap();
            let mut response = String::new();
            stream.read_to_string(&mut response).await.unwrap();
            response
        };
        let response = get("/metrics").await;
        let not_found = get("/other").await;
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        assert!(
            response.contains("content-type: application/openmetrics-text"),
            "{response}"
        );
        assert!(response.contains("shoe_producer_records_sent_total 9\n"));
        assert!(not_found.starts_with("HTTP/1.1 404"), "{not_found}");
        server.shutdown();
    }
}
