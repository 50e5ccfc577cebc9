//! Prometheus metrics on `--metrics-addr`, at `/metrics`, in the OpenMetrics text format.
//!
//! Two halves, because the engine reports deliveries to observers it is given at start while its
//! counters can only be read once it runs: [`DeliveryMetrics`] is the observer, fed by the engine's
//! delivery reports (counters, the ack-latency histogram); [`Metrics`] is built after the producer
//! and reads the engine's snapshot at scrape time for everything else (records sent, possible
//! duplicates, the gauges), so a scrape costs the send path nothing. The exposition is
//! `prometheus-client`'s, not hand-formatted text; the HTTP side is a minimal hyper HTTP/1 server.

use std::{convert::Infallible, net::SocketAddr, sync::Arc, time::Duration};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{
    body::Incoming, server::conn::http1, service::service_fn, Method, Request, Response, StatusCode,
};
use hyper_util::rt::TokioIo;
use prometheus_client::{
    encoding::text::encode,
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{exponential_buckets, Histogram},
        info::Info,
    },
    registry::Registry,
};
use tokio::{net::TcpListener, task::JoinHandle};

use crate::{
    commands::produce::progress::SnapshotSource, commands::produce::summary::Destination,
    producer::delivery::DeliveryObserver,
};

/// The content type of the OpenMetrics text exposition (Prometheus asks for it).
pub(crate) const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

type Labels = Vec<(String, String)>;

/// The metrics fed by the engine's delivery reports; handed to the engine as an observer.
pub(crate) struct DeliveryMetrics {
    records_acked: Counter,
    records_failed: Counter,
    records_failed_by_reason: Family<Labels, Counter>,
    bytes_acked: Counter,
    ack_latency: Histogram,
}

impl DeliveryMetrics {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            records_acked: Counter::default(),
            records_failed: Counter::default(),
            records_failed_by_reason: Family::default(),
            bytes_acked: Counter::default(),
            // 0.25 ms … ~34 s, doubling.
            ack_latency: Histogram::new(exponential_buckets(0.000_25, 2.0, 18)),
        })
    }
}

impl DeliveryObserver for DeliveryMetrics {
    fn acked(&self, _partition: i32, _base_offset: i64, latencies: &[Duration], bytes: u64) {
        self.records_acked.inc_by(latencies.len() as u64);
        self.bytes_acked.inc_by(bytes);
        for latency in latencies {
            self.ack_latency.observe(latency.as_secs_f64());
        }
    }

    fn failed(&self, _partition: i32, records: u64, reason: &str) {
        self.records_failed.inc_by(records);
        self.records_failed_by_reason
            .get_or_create(&vec![("reason".to_owned(), reason.to_owned())])
            .inc_by(records);
    }
}

/// The metric set of one run: the delivery metrics plus what the engine's snapshot holds.
pub(crate) struct Metrics {
    registry: Registry,
    snapshot: SnapshotSource,
    records_sent: Counter,
    possible_duplicates: Counter,
    in_flight_records: Gauge,
    buffered_bytes: Gauge,
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
        let mut registry = Registry::with_prefix("shoe_producer");
        let records_sent = Counter::default();
        let possible_duplicates = Counter::default();
        let in_flight_records = Gauge::default();
        let buffered_bytes = Gauge::default();

        registry.register(
            "records_sent",
            "Records accepted by the producer",
            records_sent.clone(),
        );
        registry.register(
            "records_acked",
            "Records acknowledged by Kafka",
            delivery.records_acked.clone(),
        );
        registry.register(
            "records_failed",
            "Records that reached their final failed state",
            delivery.records_failed.clone(),
        );
        registry.register(
            "records_failed_by_reason",
            "Records that reached their final failed state, by reason (a series appears with its first failure)",
            delivery.records_failed_by_reason.clone(),
        );
        registry.register(
            "records_possible_duplicates",
            "Acknowledged records whose request was retried after an unknown outcome",
            possible_duplicates.clone(),
        );
        registry.register(
            "bytes_acked",
            "Key and value bytes of acknowledged records",
            delivery.bytes_acked.clone(),
        );
        registry.register(
            "ack_latency_seconds",
            "Time from send to acknowledgement, per record",
            delivery.ack_latency.clone(),
        );
        registry.register(
            "in_flight_records",
            "Records sent but not yet acked or failed",
            in_flight_records.clone(),
        );
        registry.register(
            "buffered_bytes",
            "Bytes of records held by the producer (buffered or in flight)",
            buffered_bytes.clone(),
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
        registry.register("run", "What this producer writes", Info::new(info));

        Arc::new(Self {
            registry,
            snapshot,
            records_sent,
            possible_duplicates,
            in_flight_records,
            buffered_bytes,
        })
    }

    /// Refreshes the snapshot-fed metrics and encodes everything as OpenMetrics text.
    pub(crate) fn encode(&self) -> String {
        let stats = (self.snapshot)();
        raise_to(&self.records_sent, stats.sent);
        raise_to(&self.possible_duplicates, stats.possible_duplicates);
        self.in_flight_records
            .set(saturating_i64(stats.in_flight_records));
        self.buffered_bytes
            .set(saturating_i64(stats.buffered_bytes));
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
            ..Default::default()
        }
    }

    fn metrics_over(source: SnapshotSource) -> Arc<Metrics> {
        let delivery = DeliveryMetrics::new();
        delivery.acked(
            0,
            10,
            &[Duration::from_millis(2), Duration::from_millis(3)],
            120,
        );
        delivery.failed(1, 4, "delivery_timeout");
        Metrics::new(&delivery, source, &destination())
    }

    fn fed_metrics() -> Arc<Metrics> {
        metrics_over(Arc::new(snapshot))
    }

    #[test]
    fn exposition_names_every_metric() {
        let text = fed_metrics().encode();
        for expected in [
            "shoe_producer_records_sent_total 9\n",
            "shoe_producer_records_acked_total 2\n",
            "shoe_producer_records_failed_total 4\n",
            "shoe_producer_records_failed_by_reason_total{reason=\"delivery_timeout\"} 4\n",
            "shoe_producer_records_possible_duplicates_total 1\n",
            "shoe_producer_bytes_acked_total 120\n",
            "shoe_producer_ack_latency_seconds_count 2\n",
            "shoe_producer_ack_latency_seconds_bucket{le=\"0.004\"} 2\n",
            "shoe_producer_in_flight_records 3\n",
            "shoe_producer_buffered_bytes 4096\n",
            "shoe_producer_run_info{topic=\"shoes\",subject=\"shoes-value\",schema_id=\"100001\",",
            "# EOF\n",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
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
