//! The librdkafka peer of scripts/bench.sh: produces the same workload as shoe-producer (decimal keys
//! 1..=COUNT, values taken in turn from a pool of framed Shoe values, Java's murmur2 partitioner) with
//! the same engine settings, and prints one JSON line with its own throughput (first send to last
//! delivery report).
//!
//! Usage: rdkafka-peer TOPIC COUNT PAYLOAD_FILE none|lz4|zstd|gzip|snappy true|false
//! The last argument is `enable.idempotence`. Connection settings come from shoe-producer's
//! variables: BOOTSTRAP_SERVERS, KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_MECHANISM, KAFKA_API_KEY,
//! KAFKA_API_SECRET, KAFKA_SSL_CA_LOCATION.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::ClientContext;

static ACKED: AtomicU64 = AtomicU64::new(0);
static FAILED: AtomicU64 = AtomicU64::new(0);

struct Counting;
impl ClientContext for Counting {}
impl ProducerContext for Counting {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => ACKED.fetch_add(1, Ordering::Relaxed),
            Err((e, _)) => {
                if FAILED.fetch_add(1, Ordering::Relaxed) == 0 {
                    eprintln!("rdkafka-peer: delivery failed: {e}");
                }
                0
            }
        };
    }
}

fn fail(message: String, code: i32) -> ! {
    eprintln!("rdkafka-peer: {message}");
    std::process::exit(code)
}

fn read_pool(path: &str) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| fail(format!("{path}: {e}"), 2));
    let (mut pool, mut rest) = (Vec::new(), &bytes[..]);
    while rest.len() >= 4 {
        let len = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
        if rest.len() < 4 + len {
            fail(format!("{path}: truncated payload file"), 2);
        }
        pool.push(rest[4..4 + len].to_vec());
        rest = &rest[4 + len..];
    }
    if pool.is_empty() {
        fail(format!("{path}: empty payload file"), 2);
    }
    pool
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 6 {
        fail("usage: rdkafka-peer TOPIC COUNT PAYLOAD_FILE COMPRESSION true|false".into(), 2);
    }
    let topic = &args[1];
    let count: u64 = args[2].parse().unwrap_or_else(|_| fail("COUNT must be a number".into(), 2));
    let pool = read_pool(&args[3]);
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());

    let mut config = ClientConfig::new();
    let protocol = env("KAFKA_SECURITY_PROTOCOL").unwrap_or_else(|| "SASL_SSL".into());
    config
        .set("bootstrap.servers", env("BOOTSTRAP_SERVERS").unwrap_or_else(|| fail("BOOTSTRAP_SERVERS is unset".into(), 2)))
        .set("security.protocol", &protocol);
    if protocol.contains("SASL") {
        config
            .set("sasl.mechanisms", env("KAFKA_SASL_MECHANISM").unwrap_or_else(|| "PLAIN".into()))
            .set("sasl.username", env("KAFKA_API_KEY").unwrap_or_default())
            .set("sasl.password", env("KAFKA_API_SECRET").unwrap_or_default());
    }
    if let Some(ca) = env("KAFKA_SSL_CA_LOCATION") {
        config.set("ssl.ca.location", ca);
    }
    // The engine settings every producer of the benchmark runs with.
    config
        .set("acks", "all")
        .set("enable.idempotence", &args[5])
        .set("compression.codec", &args[4])
        .set("linger.ms", "5")
        .set("batch.size", "1048576")
        .set("max.in.flight.requests.per.connection", "5")
        .set("queue.buffering.max.kbytes", "32768")
        .set("queue.buffering.max.messages", "10000000")
        .set("message.timeout.ms", "120000")
        .set("partitioner", "murmur2_random"); // Java's partitioner
    let producer: ThreadedProducer<Counting> =
        config.create_with_context(Counting).unwrap_or_else(|e| fail(e.to_string(), 2));

    // Connect and read the topic's metadata before the clock starts, as shoe-producer does.
    producer
        .client()
        .fetch_metadata(Some(topic), Duration::from_secs(30))
        .unwrap_or_else(|e| fail(format!("metadata: {e}"), 1));

    let mut key = itoa_buffer();
    let start = Instant::now();
    for i in 0..count {
        let k = format_key(&mut key, i + 1);
        let value = &pool[(i % pool.len() as u64) as usize];
        let mut record = BaseRecord::to(topic).key(k).payload(value.as_slice());
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    std::thread::sleep(Duration::from_millis(1)); // backpressure: the poll thread drains
                }
                Err((e, _)) => fail(format!("produce failed: {e}"), 1),
            }
        }
    }
    if let Err(e) = producer.flush(Duration::from_secs(180)) {
        fail(format!("flush: {e}"), 1);
    }
    let elapsed = start.elapsed().as_secs_f64();
    let (acked, failed) = (ACKED.load(Ordering::Relaxed), FAILED.load(Ordering::Relaxed));
    let (_, version) = rdkafka::util::get_rdkafka_version();
    println!(
        "{{\"tool\":\"librdkafka {version}\",\"sent\":{count},\"acked\":{acked},\"failed\":{failed},\
         \"elapsed_secs\":{elapsed:.3},\"records_per_sec\":{:.1}}}",
        acked as f64 / elapsed
    );
    std::process::exit(if failed == 0 && acked == count { 0 } else { 1 });
}

fn itoa_buffer() -> [u8; 20] {
    [0; 20]
}

/// The decimal form of `n` in `buf`, without allocating (the key of record `n`).
fn format_key(buf: &mut [u8; 20], mut n: u64) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[at..];
        }
    }
}
