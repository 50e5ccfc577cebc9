//! The broker model: per-partition logs and producer state, checked as a broker checks them
//! (epoch, sequence, the last five batches kept for deduplication).

use std::collections::{BTreeMap, VecDeque};

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rskafka::client::error::ProtocolError;
use shoe_producer::producer::seam::{
    producer_state, read_records, record_count, records, PartitionAnswer,
};

use crate::faults::Faults;

/// What a broker remembers of one producer on one partition.
#[derive(Debug)]
pub(crate) struct ProducerEntry {
    pub(crate) epoch: i16,
    pub(crate) last_sequence: i32,
    /// The last five batches: first and last sequence, base offset.
    pub(crate) recent: VecDeque<(i32, i32, i64)>,
}

/// One record on a partition's log: its key (the record id) and the batch it came in.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub(crate) key: u64,
    pub(crate) batch: u64,
}

#[derive(Debug)]
pub(crate) struct World {
    pub(crate) rng: ChaCha8Rng,
    pub(crate) faults: Faults,
    pub(crate) brokers: i32,
    /// The true leader of each partition.
    pub(crate) leaders: Vec<i32>,
    /// The leader the client's metadata names, until it asks again.
    pub(crate) known_leaders: Vec<i32>,
    /// The live connection of each broker; a dropped connection gets a new number.
    pub(crate) connection: Vec<u64>,
    pub(crate) logs: Vec<Vec<Entry>>,
    pub(crate) producers: Vec<BTreeMap<i64, ProducerEntry>>,
    pub(crate) next_batch: u64,
    pub(crate) next_producer_id: i64,
    /// Batches of more records than this are `MESSAGE_TOO_LARGE`.
    pub(crate) max_batch_records: u32,
    pub(crate) schedule: Vec<String>,
    pub(crate) started: tokio::time::Instant,
}

impl World {
    pub(crate) fn chance(&mut self, per_mille: u32) -> bool {
        per_mille > 0 && self.rng.random_range(0..1000) < per_mille
    }

    pub(crate) fn note(&mut self, event: String) {
        if self.schedule.len() < 400 {
            let at = self.started.elapsed().as_secs_f64();
            self.schedule.push(format!("{at:>9.3}s {event}"));
        }
    }

    pub(crate) fn maybe_move_leader(&mut self) {
        if self.brokers > 1 && self.chance(self.faults.move_leader) {
            let partition = self.rng.random_range(0..self.leaders.len());
            let broker = self.rng.random_range(0..self.brokers);
            self.leaders[partition] = broker;
            self.note(format!("partition {partition} leader -> broker {broker}"));
        }
    }

    pub(crate) fn drop_connection(&mut self, broker: i32) {
        self.connection[broker as usize] += 1;
        self.note(format!("broker {broker} connection dropped"));
    }

    /// Handles one partition's batch as its broker would.
    pub(crate) fn append(&mut self, broker: i32, partition: i32, batch: &[u8]) -> PartitionAnswer {
        let answer = |error: Option<ProtocolError>, base_offset: i64| PartitionAnswer {
            error,
            base_offset,
            throttle: None,
        };
        let p = partition as usize;
        if self.leaders[p] != broker {
            return answer(Some(ProtocolError::NotLeaderOrFollower), -1);
        }
        if self.chance(self.faults.not_enough_replicas) {
            return answer(Some(ProtocolError::NotEnoughReplicas), -1);
        }
        let state = producer_state(batch);
        let idempotent = state.producer_id >= 0;
        if idempotent && self.chance(self.faults.unknown_producer) {
            return answer(Some(ProtocolError::UnknownProducerId), -1);
        }
        let count = record_count(batch);
        if count > self.max_batch_records {
            return answer(Some(ProtocolError::MessageTooLarge), -1);
        }
        let first = state.base_sequence;
        let last = sequence_after(first, count - 1);
        let entry = self.producers[p].get(&state.producer_id);
        if let Some(entry) = entry.filter(|_| idempotent) {
            if state.epoch < entry.epoch {
                return answer(Some(ProtocolError::InvalidProducerEpoch), -1);
            }
            if state.epoch == entry.epoch {
                if let Some(&(_, _, offset)) = entry
                    .recent
                    .iter()
                    .find(|(f, l, _)| (*f, *l) == (first, last))
                {
                    return answer(None, offset);
                }
                if first != sequence_after(entry.last_sequence, 1) {
                    return answer(Some(ProtocolError::OutOfOrderSequenceNumber), -1);
                }
            } else if first != 0 {
                return answer(Some(ProtocolError::OutOfOrderSequenceNumber), -1);
            }
        }
        let base_offset = self.logs[p].len() as i64;
        let id = self.next_batch;
        self.next_batch += 1;
        let bytes = records(batch).expect("a readable batch");
        for record in read_records(&bytes) {
            let key = record.expect("a well-formed record").key;
            let key = std::str::from_utf8(key).unwrap().parse().unwrap();
            self.logs[p].push(Entry { key, batch: id });
        }
        if !idempotent {
            return self.answer_appended(base_offset);
        }
        let entry = self.producers[p]
            .entry(state.producer_id)
            .or_insert(ProducerEntry {
                epoch: state.epoch,
                last_sequence: -1,
                recent: VecDeque::new(),
            });
        if entry.epoch != state.epoch {
            entry.epoch = state.epoch;
            entry.recent.clear();
        }
        entry.last_sequence = last;
        entry.recent.push_back((first, last, base_offset));
        if entry.recent.len() > 5 {
            entry.recent.pop_front();
        }
        self.answer_appended(base_offset)
    }

    /// The answer for a batch just appended at `base_offset`: an ack, or an error after the append.
    pub(crate) fn answer_appended(&mut self, base_offset: i64) -> PartitionAnswer {
        let (error, base_offset) = if self.chance(self.faults.timed_out_after_append) {
            (Some(ProtocolError::RequestTimedOut), -1)
        } else if self.chance(self.faults.not_enough_after_append) {
            (Some(ProtocolError::NotEnoughReplicasAfterAppend), -1)
        } else {
            (None, base_offset)
        };
        PartitionAnswer {
            error,
            base_offset,
            throttle: None,
        }
    }
}

pub(crate) fn sequence_after(sequence: i32, n: u32) -> i32 {
    ((i64::from(sequence) + i64::from(n)) % (i64::from(i32::MAX) + 1)) as i32
}
