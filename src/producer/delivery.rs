//! What the engine tells the rest of the program about delivery: a point-in-time snapshot of its
//! figures, and the distributions they are made of.
//!
//! The engine is the only writer; progress lines, `/metrics`, the final summary and tests only read,
//! and all of them read these types — one set of books, each latency recorded once. Keeping the
//! types apart from the engine lets those readers be built and tested on their own.

use std::{fmt, sync::Arc, time::Duration};

use hdrhistogram::Histogram;

/// What one produce request did, as the sender reports it to the stats.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RequestReport<'a> {
    /// Records in the request's batch.
    pub records: u32,
    /// The batch's size on the wire (after compression).
    pub batch_bytes: usize,
    /// From sending the request to its answer or failure.
    pub latency: Duration,
    /// `None` when the broker acknowledged the batch; otherwise why not (a Kafka error name such as
    /// `NOT_LEADER_OR_FOLLOWER`, or a cause such as `request_timed_out`).
    pub error: Option<&'a str>,
    /// Whether the batch will be sent again after this failed attempt.
    pub will_retry: bool,
    /// How long the broker asked the client to hold back, when it did.
    pub throttle: Option<Duration>,
}

/// A distribution of recorded values — microseconds, bytes or records, as the field holding it
/// says — with their exact count and sum. Cheap to clone: the histogram is shared, never copied.
///
/// Quantiles and bucket counts are exact to the histogram's precision: three significant digits
/// (a value within 0.1% of a bound may fall on either side of it).
#[derive(Clone, Default, PartialEq)]
pub struct Distribution {
    histogram: Option<Arc<Histogram<u64>>>,
    sum: u64,
}

impl Distribution {
    pub(crate) fn new(histogram: Arc<Histogram<u64>>, sum: u64) -> Self {
        Self {
            histogram: Some(histogram),
            sum,
        }
    }

    /// A distribution of `values`, for tests of the readers.
    #[cfg(test)]
    pub(crate) fn of(values: &[u64]) -> Self {
        let mut histogram =
            Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds");
        for &value in values {
            histogram.saturating_record(value);
        }
        Self::new(Arc::new(histogram), values.iter().sum())
    }

    pub fn count(&self) -> u64 {
        self.histogram.as_ref().map_or(0, |h| h.len())
    }

    pub fn is_empty(&self) -> bool {
        self.count() == 0
    }

    /// The sum of the recorded values (exact, not rounded to the histogram's precision).
    pub fn sum(&self) -> u64 {
        self.sum
    }

    /// The mean; 0 when nothing was recorded.
    pub fn mean(&self) -> f64 {
        match self.count() {
            0 => 0.0,
            n => self.sum as f64 / n as f64,
        }
    }

    /// The value at `quantile` (0.0 ..= 1.0); 0 when nothing was recorded.
    pub fn quantile(&self, quantile: f64) -> u64 {
        self.histogram
            .as_ref()
            .filter(|h| !h.is_empty())
            .map_or(0, |h| h.value_at_quantile(quantile))
    }

    /// The largest value; 0 when nothing was recorded.
    pub fn max(&self) -> u64 {
        self.histogram
            .as_ref()
            .filter(|h| !h.is_empty())
            .map_or(0, |h| h.max())
    }

    /// How many recorded values are at most `bound` (a cumulative histogram bucket).
    pub fn count_at_most(&self, bound: u64) -> u64 {
        self.histogram
            .as_ref()
            .filter(|h| !h.is_empty())
            .map_or(0, |h| h.count_between(0, bound))
    }
}

impl fmt::Debug for Distribution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Distribution")
            .field("count", &self.count())
            .field("sum", &self.sum)
            .field("p50", &self.quantile(0.5))
            .field("p99", &self.quantile(0.99))
            .field("max", &self.max())
            .finish()
    }
}

/// The produce requests that finished (acknowledged or not; each attempt of a retried batch that
/// reached a broker connection counts).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestFigures {
    pub finished: u64,
    /// Failed requests by reason, sorted by reason.
    pub errors_by_reason: Vec<(String, u64)>,
    /// Of the failed requests, those whose batch is sent again, by reason.
    pub retries_by_reason: Vec<(String, u64)>,
    /// From sending a request to its answer or failure, in microseconds.
    pub latency_us: Distribution,
    /// Each acknowledged batch's size on the wire, in bytes (a batch counts once, however many
    /// attempts it took).
    pub batch_bytes: Distribution,
    /// Records in each acknowledged batch.
    pub batch_records: Distribution,
    /// The time the brokers asked the producer to hold back, in all.
    pub throttle: Duration,
    /// Requests answered with a throttle time.
    pub throttled: u64,
}

/// The delivery figures at one moment. `sent == acked + failed + in_flight_records` always holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatsSnapshot {
    /// Records accepted by `send`.
    pub sent: u64,
    pub acked: u64,
    pub failed: u64,
    /// Failed records by reason, sorted by reason.
    pub failed_by_reason: Vec<(String, u64)>,
    /// Of `failed`, the records whose delivery timeout ran out while the partition was unavailable
    /// or busy: a longer `--delivery-timeout` could have saved them. (Their reasons start with
    /// `delivery_timeout`; the other failures — a deleted topic, a refused write, a record too
    /// large — no timeout can fix.)
    pub failed_timed_out: u64,
    /// Acked records that may be on the topic twice: without idempotence, those retried after an
    /// unknown outcome; with it, only those resequenced by an epoch bump after an unknown outcome.
    pub possible_duplicates: u64,
    /// Key + value bytes of acked records.
    pub bytes_acked: u64,
    /// Records sent but not yet acked or failed.
    pub in_flight_records: u64,
    /// Bytes of records held by the engine (buffered or in flight), bounded by `buffer_memory`.
    pub buffered_bytes: u64,
    /// Each acked record's time from `send` to its acknowledgement, in microseconds.
    pub ack_latency_us: Distribution,
    pub requests: RequestFigures,
    /// Produce requests sent and not yet answered.
    pub requests_in_flight: u64,
    /// How long broker connections held their requests back because their broker asked (quota
    /// throttling, KIP-219), summed over connections: two brokers throttling for a whole second
    /// make two seconds.
    pub throttled: Duration,
    /// Times the idempotent producer bumped its epoch (or took a new producer id) and reset sequences.
    pub epoch_bumps: u64,
    /// The idempotent producer's id and epoch; `None` without idempotence.
    pub producer_id_and_epoch: Option<(i64, i16)>,
    /// The first non-retriable error that ended the run, if any: generation stops when it is set.
    pub fatal_error: Option<String>,
}
