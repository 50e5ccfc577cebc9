//! Per-partition record buffers: the open batch records are encoded into, and the closed batches
//! waiting for a free in-flight slot.
//!
//! `send` appends under the partition's lock (a short, uncontended critical section: a varint or
//! two and a memcpy) and wakes the partition's sender only when a batch opens or closes — not per
//! record. A batch closes when the next record would push it past `batch_size`, when it reaches
//! `batch_size`, or when the sender finds it older than `linger` (or a flush is asked for).
//!
//! Batches are numbered in the order they open, which is the order the sender keeps them in
//! through retries.
//!
//! A partition costs memory only for the records it holds: a batch's buffer starts with room for
//! its first record and grows with the batch, so an idle or slow partition of a topic of thousands
//! keeps a few hundred bytes, not a `batch_size` reservation each, and the memory pool's count is
//! the memory really held (see [`record_charge`]).

use std::{collections::VecDeque, time::SystemTime};

use parking_lot::Mutex;
use tokio::{sync::Notify, time::Instant};

use super::record_batch::{max_record_len, BatchWriter, HEADER_LEN};

/// Copies of a record the engine holds at worst: its batch, and the request buffer rskafka's
/// connection writes from while the request waits for the socket. The same factor covers an open
/// batch, whose buffer and latency slots grow by doubling (up to twice their length) while no
/// request holds its records; a closed batch's buffer is its exact length.
const COPIES: usize = 2;

/// The memory a record is charged, reserved before it is encoded: its largest encoded size and its
/// latency slot, once per copy. The few bytes by which the bound exceeds the exact size stay with
/// the batch and come back when it settles, so `send` gives nothing back per record (giving back
/// memory takes the pool's lock).
pub(crate) fn record_charge(key: &[u8], value: &[u8]) -> usize {
    COPIES * (max_record_len(key.len(), value.len()) + std::mem::size_of::<u32>())
}

/// Records of one partition on their way into a batch.
#[derive(Debug)]
pub(crate) struct OpenBatch {
    /// Position of the batch among its partition's batches, in the order they opened.
    pub seq: u64,
    pub writer: BatchWriter,
    /// When the first record was sent: the start of linger and of the delivery timeout.
    pub opened_at: Instant,
    /// Per record: microseconds from `opened_at` to its `send`, for ack latency.
    pub send_offsets_us: Vec<u32>,
    /// Bytes taken from the memory pool for these records.
    pub memory: usize,
}

impl OpenBatch {
    /// An empty batch with room for `first_record` bytes of records.
    fn new(seq: u64, now: Instant, first_record: usize) -> Self {
        let wall_ms = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        Self {
            seq,
            writer: BatchWriter::new(wall_ms, HEADER_LEN + first_record),
            opened_at: now,
            send_offsets_us: Vec::new(),
            memory: 0,
        }
    }

    pub(super) fn records(&self) -> u32 {
        self.writer.record_count()
    }
}

#[derive(Debug, Default)]
struct Buffers {
    open: Option<OpenBatch>,
    closed: VecDeque<OpenBatch>,
    /// Set once the partition's sender has drained and stopped: no more records are taken.
    shut: bool,
    /// The number the next batch to open gets.
    next_seq: u64,
}

/// What [`PartitionQueue::take`] found.
#[derive(Debug)]
pub(crate) enum Take {
    Batch(OpenBatch),
    /// Nothing ready; the open batch (if any) lingers until this instant.
    LingerUntil(Option<Instant>),
}

/// The record buffers of one partition, shared by every handle and that partition's sender.
#[derive(Debug)]
pub(crate) struct PartitionQueue {
    buffers: Mutex<Buffers>,
    /// Wakes the partition's sender: a batch opened or closed, or the producer is closing.
    pub wake: Notify,
    batch_size: usize,
}

/// The queue no longer takes records (the producer is closed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct QueueShut;

impl PartitionQueue {
    pub(super) fn new(batch_size: usize) -> Self {
        Self {
            buffers: Mutex::new(Buffers::default()),
            wake: Notify::new(),
            batch_size: batch_size.max(HEADER_LEN + 1),
        }
    }

    /// Encodes a record into the open batch (opening or rotating batches as needed). `reserved` is
    /// what was taken from the memory pool for it ([`record_charge`]); the batch holds it until it
    /// settles.
    pub(super) fn append(
        &self,
        key: &[u8],
        value: &[u8],
        reserved: usize,
        now: Instant,
    ) -> Result<(), QueueShut> {
        let record_len = max_record_len(key.len(), value.len());
        let mut wake = false;
        {
            let mut buffers = self.buffers.lock();
            if buffers.shut {
                return Err(QueueShut);
            }
            let rotate = buffers.open.as_ref().is_some_and(|open| {
                !open.writer.is_empty() && open.writer.encoded_len() + record_len > self.batch_size
            });
            if rotate {
                let full = buffers.open.take().expect("checked");
                buffers.closed.push_back(full);
            }
            if buffers.open.is_none() {
                let seq = buffers.next_seq;
                buffers.next_seq += 1;
                buffers.open = Some(OpenBatch::new(seq, now, record_len));
                wake = true;
            }
            let open = buffers.open.as_mut().expect("opened above");
            let elapsed = now.saturating_duration_since(open.opened_at);
            open.writer.append(elapsed.as_millis() as i64, key, value);
            open.send_offsets_us
                .push(u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX));
            open.memory += reserved;
            if open.writer.encoded_len() >= self.batch_size {
                let full = buffers.open.take().expect("just filled");
                buffers.closed.push_back(full);
                wake = true;
            }
        }
        if wake {
            self.wake.notify_one();
        }
        Ok(())
    }

    /// Takes the oldest batch that is ready: a closed one, else the open one once it has lingered
    /// `linger` (or at once when `force` is set, for flush and shutdown).
    pub(super) fn take(&self, linger: std::time::Duration, force: bool, now: Instant) -> Take {
        let mut buffers = self.buffers.lock();
        if let Some(batch) = buffers.closed.pop_front() {
            return Take::Batch(batch);
        }
        match &buffers.open {
            None => Take::LingerUntil(None),
            Some(open) => {
                let due = open.opened_at + linger;
                if force || now >= due {
                    Take::Batch(buffers.open.take().expect("checked"))
                } else {
                    Take::LingerUntil(Some(due))
                }
            }
        }
    }

    /// Removes closed batches opened before `cutoff` (they can no longer be delivered in time).
    pub(super) fn take_expired(&self, cutoff: Instant) -> Vec<OpenBatch> {
        let mut buffers = self.buffers.lock();
        let mut expired = Vec::new();
        while buffers
            .closed
            .front()
            .is_some_and(|b| b.opened_at <= cutoff)
        {
            expired.extend(buffers.closed.pop_front());
        }
        if buffers.closed.is_empty() && buffers.open.as_ref().is_some_and(|b| b.opened_at <= cutoff)
        {
            expired.extend(buffers.open.take());
        }
        expired
    }

    /// Stops taking records if nothing is buffered; returns whether the queue is now shut.
    pub(super) fn shut_if_empty(&self) -> bool {
        let mut buffers = self.buffers.lock();
        if buffers.open.is_none() && buffers.closed.is_empty() {
            buffers.shut = true;
        }
        buffers.shut
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn batches_rotate_before_exceeding_batch_size() {
        let queue = PartitionQueue::new(1_000);
        let now = Instant::now();
        for i in 0..30u32 {
            queue
                .append(i.to_string().as_bytes(), &[0; 100], 1, now)
                .unwrap();
        }
        let mut sizes = Vec::new();
        let mut records = 0;
        while let Take::Batch(batch) = queue.take(Duration::ZERO, true, now) {
            assert!(batch.writer.encoded_len() <= 1_000);
            sizes.push(batch.writer.encoded_len());
            records += batch.records();
        }
        assert_eq!(records, 30);
        assert!(sizes.len() >= 4, "{sizes:?}");
    }

    #[test]
    fn a_batch_holds_no_more_memory_than_its_records_were_charged() {
        let queue = PartitionQueue::new(1 << 20);
        let now = Instant::now();
        for i in 0..5_000u32 {
            let key = i.to_string();
            let value = [7; 60];
            let charge = record_charge(key.as_bytes(), &value);
            queue.append(key.as_bytes(), &value, charge, now).unwrap();
            let buffers = queue.buffers.lock();
            let open = buffers.open.as_ref().expect("one batch holds them all");
            let held = open.writer.allocated()
                + open.send_offsets_us.capacity() * std::mem::size_of::<u32>();
            assert!(held <= open.memory, "record {i}: {held} > {}", open.memory);
        }
    }

    #[test]
    fn open_batch_waits_for_linger_unless_forced() {
        let queue = PartitionQueue::new(1 << 20);
        let now = Instant::now();
        queue.append(b"k", b"v", 1, now).unwrap();
        match queue.take(Duration::from_millis(5), false, now) {
            Take::LingerUntil(Some(due)) => assert_eq!(due, now + Duration::from_millis(5)),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            queue.take(
                Duration::from_millis(5),
                false,
                now + Duration::from_millis(5)
            ),
            Take::Batch(_)
        ));
        assert!(queue.shut_if_empty());
        assert_eq!(queue.append(b"k", b"v", 1, now), Err(QueueShut));
    }

    #[test]
    fn expired_batches_are_taken_oldest_first() {
        let queue = PartitionQueue::new(200);
        let start = Instant::now();
        for i in 0..10u64 {
            let at = start + Duration::from_secs(i);
            queue.append(b"key", &[0; 100], 1, at).unwrap();
        }
        let expired = queue.take_expired(start + Duration::from_secs(4));
        assert!(!expired.is_empty());
        assert!(expired
            .iter()
            .all(|b| b.opened_at <= start + Duration::from_secs(4)));
        assert!(!queue.shut_if_empty());
    }
}
