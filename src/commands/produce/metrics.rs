//! Prometheus metrics on `--metrics-addr`, at `/metrics`, in the OpenMetrics text format, named by
//! its conventions: the unit as a suffix (`…_seconds`, `…_bytes`), `_total` on counters, causes and
//! identifiers as labels (never a metric of its own for a sum the labels already give, never an id
//! as a gauge value), latency buckets fine enough to tell 2 ms from 3 ms, and the metrics people
//! look for when a run is slow — produce requests, errors and retries by reason, batch sizes and
//! records per batch, broker throttling, requests in flight. `deploy/grafana/shoe-producer.json`
//! charts every one of them.
//!
//! The metrics keep no figures of their own: a `prometheus-client` collector takes one snapshot of
//! the engine's books at each scrape and encodes it, so a scrape costs the send path nothing and
//! every figure of one scrape comes from the same moment. The exposition is `prometheus-client`'s,
//! not hand-formatted text; the HTTP side is a minimal hyper HTTP/1 server.

use std::{convert::Infallible, fmt, net::SocketAddr, sync::Arc, time::Duration};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{
    body::Incoming, server::conn::http1, service::service_fn, Method, Request, Response, StatusCode,
};
use hyper_util::rt::TokioIo;
use prometheus_client::{
    collector::Collector,
    encoding::{
        text::encode, DescriptorEncoder, EncodeCounterValue, EncodeExemplarValue, MetricEncoder,
        NoLabelSet,
    },
    metrics::{info::Info, MetricType},
    registry::{Registry, Unit},
};
use tokio::{net::TcpListener, task::JoinHandle};

use super::{summary::Destination, DeliveryFigures};
use crate::producer::delivery::Distribution;

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
/// Seconds per microsecond, the unit the engine keeps latencies in.
const MICROS: f64 = 1e-6;

/// The metric set of one run: the run's info, and the engine's books read at each scrape.
pub(crate) struct Metrics {
    registry: Registry,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// The metrics of a run writing to `destination`, read from `figures` at each scrape.
    pub(crate) fn new(figures: Arc<dyn DeliveryFigures>, destination: &Destination) -> Arc<Self> {
        let mut registry = Registry::with_prefix("shoe_producer");
        let info: Vec<(String, String)> = vec![
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
        registry.register("run", "What this producer writes", Info::new(info));
        registry.register_collector(Box::new(Books(figures)));
        Arc::new(Self { registry })
    }

    /// Encodes everything as OpenMetrics text, from one snapshot of the engine's books.
    pub(crate) fn encode(&self) -> String {
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

/// The collector: one snapshot of the engine's books, encoded at each scrape.
struct Books(Arc<dyn DeliveryFigures>);

impl fmt::Debug for Books {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Books")
    }
}

impl Collector for Books {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        let s = self.0.snapshot();
        let r = &s.requests;
        let e = &mut encoder;
        counter(
            e,
            "records_sent",
            "Records accepted by the producer",
            None,
            s.sent,
        )?;
        counter(
            e,
            "records_acked",
            "Records acknowledged by Kafka",
            None,
            s.acked,
        )?;
        by_reason(
            e,
            "records_failed",
            "Records that reached their final failed state, by reason (a series appears with its first failure)",
            &s.failed_by_reason,
        )?;
        counter(
            e,
            "records_possible_duplicates",
            "Acknowledged records whose request was retried after an unknown outcome",
            None,
            s.possible_duplicates,
        )?;
        counter(
            e,
            "acked",
            "Key and value bytes of acknowledged records",
            Some(Unit::Bytes),
            s.bytes_acked,
        )?;
        histogram(
            e,
            "ack_latency",
            "Time from send to acknowledgement, per record",
            Some(Unit::Seconds),
            (&s.ack_latency_us, MICROS),
            &LATENCY_BUCKETS,
        )?;
        counter(
            e,
            "produce_requests",
            "Produce requests that finished, acknowledged or not (each attempt of a retried batch counts)",
            None,
            r.finished,
        )?;
        by_reason(
            e,
            "produce_request_errors",
            "Produce requests that failed, by reason (a series appears with its first error)",
            &r.errors_by_reason,
        )?;
        by_reason(
            e,
            "produce_retries",
            "Failed produce requests whose batch is sent again, by reason",
            &r.retries_by_reason,
        )?;
        histogram(
            e,
            "produce_request_latency",
            "Time from sending a produce request to its answer or failure",
            Some(Unit::Seconds),
            (&r.latency_us, MICROS),
            &LATENCY_BUCKETS,
        )?;
        histogram(
            e,
            "batch_size",
            "Size on the wire (after compression) of each acknowledged batch",
            Some(Unit::Bytes),
            (&r.batch_bytes, 1.0),
            &BATCH_BYTES_BUCKETS,
        )?;
        histogram(
            e,
            "batch_records",
            "Records in each acknowledged batch",
            None,
            (&r.batch_records, 1.0),
            &BATCH_RECORDS_BUCKETS,
        )?;
        counter(
            e,
            "throttle",
            "Time the brokers asked the producer to hold back (produce quota throttling)",
            Some(Unit::Seconds),
            r.throttle.as_secs_f64(),
        )?;
        counter(
            e,
            "throttled_requests",
            "Produce requests answered with a throttle time",
            None,
            r.throttled,
        )?;
        gauge(
            e,
            "produce_requests_in_flight",
            "Produce requests sent and not yet answered",
            None,
            s.requests_in_flight,
        )?;
        gauge(
            e,
            "in_flight_records",
            "Records sent but not yet acked or failed",
            None,
            s.in_flight_records,
        )?;
        gauge(
            e,
            "buffered",
            "Bytes of records held by the producer (buffered or in flight), bounded by --buffer-memory",
            Some(Unit::Bytes),
            s.buffered_bytes,
        )?;
        counter(
            e,
            "epoch_bumps",
            "Times the idempotent producer bumped its epoch (or took a new producer id) and reset sequences",
            None,
            s.epoch_bumps,
        )?;
        let mut producer = describe(
            e,
            "idempotent_producer",
            "The idempotent producer's id and current epoch (no series without idempotence)",
            None,
            MetricType::Info,
        )?;
        if let Some((id, epoch)) = s.producer_id_and_epoch {
            producer.encode_info(&[
                ("producer_id", id.to_string()),
                ("producer_epoch", epoch.to_string()),
            ])?;
        }
        gauge(
            e,
            "fatal_error",
            "1 once a non-retriable error has stopped the run, else 0",
            None,
            u64::from(s.fatal_error.is_some()),
        )
    }
}

/// Writes a metric's HELP, TYPE and UNIT lines, punctuated as the registry's own metrics are.
fn describe<'e>(
    encoder: &'e mut DescriptorEncoder,
    name: &'e str,
    help: &str,
    unit: Option<&'e Unit>,
    metric_type: MetricType,
) -> Result<MetricEncoder<'e>, fmt::Error> {
    encoder.encode_descriptor(name, &format!("{help}."), unit, metric_type)
}

fn counter<V: EncodeCounterValue + EncodeExemplarValue>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<Unit>,
    value: V,
) -> fmt::Result {
    describe(encoder, name, help, unit.as_ref(), MetricType::Counter)?
        .encode_counter::<NoLabelSet, _, V>(&value, None)
}

/// A counter with one series per reason, in the books' order.
fn by_reason(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    counts: &[(String, u64)],
) -> fmt::Result {
    let mut metric = describe(encoder, name, help, None, MetricType::Counter)?;
    for (reason, count) in counts {
        let labels = [("reason", reason.as_str())];
        metric
            .encode_family(&labels)?
            .encode_counter::<NoLabelSet, _, u64>(count, None)?;
    }
    Ok(())
}

fn gauge(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<Unit>,
    value: u64,
) -> fmt::Result {
    describe(encoder, name, help, unit.as_ref(), MetricType::Gauge)?.encode_gauge(&value)
}

/// A histogram of `values` (each worth `scale` of the metric's unit) over `bounds` in that unit.
fn histogram(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<Unit>,
    (values, scale): (&Distribution, f64),
    bounds: &[f64],
) -> fmt::Result {
    let mut buckets = Vec::with_capacity(bounds.len() + 1);
    let mut below = 0;
    for &bound in bounds {
        let at_most = values.count_at_most((bound / scale).round() as u64);
        buckets.push((bound, at_most - below));
        below = at_most;
    }
    // The encoder writes `f64::MAX` as `+Inf`.
    buckets.push((f64::MAX, values.count() - below));
    describe(encoder, name, help, unit.as_ref(), MetricType::Histogram)?
        .encode_histogram::<NoLabelSet>(values.sum() as f64 * scale, values.count(), &buckets, None)
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
    use crate::producer::delivery::{RequestFigures, StatsSnapshot};
    use std::sync::atomic::{AtomicU64, Ordering};
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
            failed_by_reason: vec![("delivery_timeout".into(), 4)],
            possible_duplicates: 1,
            in_flight_records: 3,
            buffered_bytes: 4096,
            ack_latency_us: Distribution::of(&[2_000, 2_500]),
            requests: RequestFigures {
                finished: 3,
                errors_by_reason: vec![
                    ("MESSAGE_TOO_LARGE".into(), 1),
                    ("NOT_LEADER_OR_FOLLOWER".into(), 1),
                ],
                retries_by_reason: vec![("NOT_LEADER_OR_FOLLOWER".into(), 1)],
                latency_us: Distribution::of(&[2_500; 3]),
                batch_bytes: Distribution::of(&[300]),
                batch_records: Distribution::of(&[2]),
                throttle: Duration::from_millis(250),
                throttled: 1,
            },
            requests_in_flight: 2,
            epoch_bumps: 1,
            producer_id_and_epoch: Some((4_001, 2)),
            bytes_acked: 120,
            ..Default::default()
        }
    }

    /// Books that always read `snapshot`, counting the reads.
    struct Fixed(StatsSnapshot, AtomicU64);

    impl DeliveryFigures for Fixed {
        fn snapshot(&self) -> StatsSnapshot {
            self.1.fetch_add(1, Ordering::SeqCst);
            self.0.clone()
        }
        fn end_interval(&self) -> Distribution {
            unreachable!("metrics read no intervals")
        }
    }

    fn metrics_over(snapshot: StatsSnapshot) -> Arc<Metrics> {
        Metrics::new(Arc::new(Fixed(snapshot, AtomicU64::new(0))), &destination())
    }

    fn fed_metrics() -> Arc<Metrics> {
        metrics_over(snapshot())
    }

    #[test]
    fn exposition_names_every_metric_with_its_unit() {
        let text = fed_metrics().encode();
        for expected in [
            "# HELP shoe_producer_records_sent Records accepted by the producer.\n",
            "shoe_producer_records_sent_total 9\n",
            "shoe_producer_records_acked_total 2\n",
            "shoe_producer_records_failed_total{reason=\"delivery_timeout\"} 4\n",
            "shoe_producer_records_possible_duplicates_total 1\n",
            "# UNIT shoe_producer_acked_bytes bytes\n",
            "shoe_producer_acked_bytes_total 120\n",
            "# UNIT shoe_producer_ack_latency_seconds seconds\n",
            "shoe_producer_ack_latency_seconds_count 2\n",
            "shoe_producer_ack_latency_seconds_sum 0.0045\n",
            "shoe_producer_ack_latency_seconds_bucket{le=\"+Inf\"} 2\n",
            "shoe_producer_produce_requests_total 3\n",
            "shoe_producer_produce_request_errors_total{reason=\"NOT_LEADER_OR_FOLLOWER\"} 1\n",
            "shoe_producer_produce_request_errors_total{reason=\"MESSAGE_TOO_LARGE\"} 1\n",
            "shoe_producer_produce_retries_total{reason=\"NOT_LEADER_OR_FOLLOWER\"} 1\n",
            "shoe_producer_produce_request_latency_seconds_count 3\n",
            "shoe_producer_batch_size_bytes_count 1\n",
            "shoe_producer_batch_size_bytes_sum 300.0\n",
            "shoe_producer_batch_size_bytes_bucket{le=\"256.0\"} 0\n",
            "shoe_producer_batch_size_bytes_bucket{le=\"1024.0\"} 1\n",
            "shoe_producer_batch_records_sum 2.0\n",
            "shoe_producer_throttle_seconds_total 0.25\n",
            "shoe_producer_throttled_requests_total 1\n",
            "shoe_producer_produce_requests_in_flight 2\n",
            "shoe_producer_in_flight_records 3\n",
            "shoe_producer_buffered_bytes 4096\n",
            "shoe_producer_epoch_bumps_total 1\n",
            "shoe_producer_idempotent_producer_info{producer_id=\"4001\",producer_epoch=\"2\"} 1\n",
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
    fn no_metric_repeats_a_sum_or_carries_an_id_as_its_value() {
        let text = fed_metrics().encode();
        for gone in [
            "shoe_producer_records_failed_total ",
            "shoe_producer_records_failed_by_reason",
            "shoe_producer_producer_id",
            "shoe_producer_producer_epoch",
        ] {
            assert!(!text.contains(gone), "{gone:?} in:\n{text}");
        }
    }

    #[test]
    fn latency_buckets_tell_milliseconds_apart() {
        let text = fed_metrics().encode();
        // 2 ms and 2.5 ms land in different buckets.
        for bucket in [
            "shoe_producer_ack_latency_seconds_bucket{le=\"0.001\"} 0\n",
            "shoe_producer_ack_latency_seconds_bucket{le=\"0.002\"} 1\n",
            "shoe_producer_ack_latency_seconds_bucket{le=\"0.003\"} 2\n",
            "shoe_producer_ack_latency_seconds_bucket{le=\"120.0\"} 2\n",
        ] {
            assert!(text.contains(bucket), "missing {bucket:?} in:\n{text}");
        }
        let below_10ms = LATENCY_BUCKETS.iter().filter(|&&le| le <= 0.01).count();
        assert!(below_10ms >= 8, "{LATENCY_BUCKETS:?}");
    }

    #[test]
    fn without_idempotence_there_is_no_producer_series() {
        let text = metrics_over(StatsSnapshot {
            fatal_error: Some("TOPIC_AUTHORIZATION_FAILED".into()),
            ..StatsSnapshot::default()
        })
        .encode();
        assert!(
            !text.contains("shoe_producer_idempotent_producer_info{"),
            "{text}"
        );
        assert!(text.contains("shoe_producer_fatal_error 1\n"), "{text}");
        assert!(
            text.contains("shoe_producer_ack_latency_seconds_bucket{le=\"+Inf\"} 0\n"),
            "{text}"
        );
    }

    #[test]
    fn a_scrape_reads_one_snapshot() {
        let books = Arc::new(Fixed(snapshot(), AtomicU64::new(0)));
        let metrics = Metrics::new(books.clone(), &destination());
        metrics.encode();
        metrics.encode();
        assert_eq!(books.1.load(Ordering::SeqCst), 2);
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
