//! The idempotent producer's bookkeeping: one producer id and epoch for the whole producer, and a
//! sequence number per partition.
//!
//! The broker keeps, per partition and producer, the sequence number of the last batch it wrote
//! (and the last five batches themselves). A batch whose first sequence is the next one is written;
//! a batch it already holds is answered as a duplicate, without writing it again; anything else is
//! refused as out of order. So a retried batch must carry the sequence it first went out with, and
//! a partition's batches must reach the broker in sequence order — which is what makes retries
//! harmless and keeps order with up to five requests in flight.
//!
//! When a partition's chain of sequences breaks (a batch failed or expired after it was given a
//! sequence, or the broker lost the producer's state), the producer bumps its epoch, as the Java
//! client's idempotent producer does: locally, without asking the broker, which accepts a higher
//! epoch whose first batch has sequence 0. The broken partition resequences its unacknowledged
//! batches from 0 under the new epoch; every other partition moves to the new epoch at its own pace,
//! from sequence 0, once it has nothing in flight under the old one. Only when the epoch would
//! overflow does the producer ask for a new producer id.

use parking_lot::Mutex;

use super::record_batch::ProducerState;
use crate::kafka::ProducerIdAndEpoch;

/// The sequence after `records` records starting at `sequence`; sequences wrap from `i32::MAX`
/// to 0, as Kafka's do.
pub(crate) fn sequence_after(sequence: i32, records: u32) -> i32 {
    let next = i64::from(sequence) + i64::from(records);
    (next % (i64::from(i32::MAX) + 1)) as i32
}

/// What asking for an epoch bump did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bump {
    /// This call bumped the epoch to the one returned.
    Bumped(ProducerIdAndEpoch),
    /// Another partition already moved the producer past the caller's epoch: use this one.
    Moved(ProducerIdAndEpoch),
    /// The epoch is at its maximum: a new producer id is needed.
    Exhausted,
}

/// The producer id and epoch every partition moves towards.
#[derive(Debug)]
pub(crate) struct Identity {
    current: Mutex<ProducerIdAndEpoch>,
}

impl Identity {
    pub(super) fn new(first: ProducerIdAndEpoch) -> Self {
        Self {
            current: Mutex::new(first),
        }
    }

    pub(super) fn current(&self) -> ProducerIdAndEpoch {
        *self.current.lock()
    }

    /// Moves past `seen` (the id and epoch the caller's broken partition used): bumps the epoch,
    /// unless another partition already did.
    pub(super) fn bump_from(&self, seen: ProducerIdAndEpoch) -> Bump {
        let mut current = self.current.lock();
        if *current != seen {
            return Bump::Moved(*current);
        }
        if current.epoch == i16::MAX {
            return Bump::Exhausted;
        }
        current.epoch += 1;
        Bump::Bumped(*current)
    }

    /// Replaces an exhausted `seen` with a new producer id (unless another partition already did);
    /// returns the id to use.
    pub(super) fn replace(
        &self,
        seen: ProducerIdAndEpoch,
        new: ProducerIdAndEpoch,
    ) -> ProducerIdAndEpoch {
        let mut current = self.current.lock();
        if *current == seen {
            *current = new;
        }
        *current
    }
}

/// One partition's next sequence under the id and epoch it writes with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PartitionSequence {
    identity: ProducerIdAndEpoch,
    next: i32,
}

impl PartitionSequence {
    /// A partition that has written nothing under `identity`.
    pub(super) fn new(identity: ProducerIdAndEpoch) -> Self {
        Self { identity, next: 0 }
    }

    pub(super) fn identity(&self) -> ProducerIdAndEpoch {
        self.identity
    }

    /// The sequence the next batch gets.
    pub(super) fn next(&self) -> i32 {
        self.next
    }

    /// The producer state for the next batch, of `records` records.
    pub(super) fn assign(&mut self, records: u32) -> ProducerState {
        let state = ProducerState {
            producer_id: self.identity.id,
            epoch: self.identity.epoch,
            base_sequence: self.next,
        };
        self.next = sequence_after(self.next, records);
        state
    }

    /// Takes back the last [`assign`](Self::assign) (its batch was never sent).
    pub(super) fn unassign(&mut self, state: ProducerState) {
        debug_assert_eq!(
            (state.producer_id, state.epoch),
            (self.identity.id, self.identity.epoch)
        );
        self.next = state.base_sequence;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIRST: ProducerIdAndEpoch = ProducerIdAndEpoch { id: 77, epoch: 0 };

    #[test]
    fn sequences_increase_by_the_record_count_per_partition() {
        let mut p0 = PartitionSequence::new(FIRST);
        let mut p1 = PartitionSequence::new(FIRST);
        assert_eq!(p0.assign(10).base_sequence, 0);
        assert_eq!(p0.assign(5).base_sequence, 10);
        assert_eq!(p1.assign(3).base_sequence, 0);
        assert_eq!(p0.assign(1).base_sequence, 15);
        assert_eq!(p1.assign(1).base_sequence, 3);
        let state = p0.assign(2);
        assert_eq!(
            (state.producer_id, state.epoch, state.base_sequence),
            (77, 0, 16)
        );
    }

    #[test]
    fn sequences_wrap_at_i32_max_as_kafkas_do() {
        assert_eq!(sequence_after(0, 1), 1);
        assert_eq!(sequence_after(i32::MAX - 1, 1), i32::MAX);
        assert_eq!(sequence_after(i32::MAX, 1), 0);
        assert_eq!(sequence_after(i32::MAX - 2, 5), 2);
        let mut p = PartitionSequence::new(FIRST);
        p.next = i32::MAX - 1;
        assert_eq!(p.assign(4).base_sequence, i32::MAX - 1);
        assert_eq!(p.assign(1).base_sequence, 2);
    }

    #[test]
    fn an_unsent_batch_gives_its_sequences_back() {
        let mut p = PartitionSequence::new(FIRST);
        p.assign(4);
        let unsent = p.assign(6);
        p.unassign(unsent);
        assert_eq!(p.assign(1).base_sequence, 4);
    }

    #[test]
    fn one_bump_per_break_and_a_new_epoch_restarts_sequences_at_zero() {
        let identity = Identity::new(FIRST);
        let bumped = ProducerIdAndEpoch { id: 77, epoch: 1 };
        assert_eq!(identity.bump_from(FIRST), Bump::Bumped(bumped));
        // A second partition broken under the same epoch follows the first bump.
        assert_eq!(identity.bump_from(FIRST), Bump::Moved(bumped));
        assert_eq!(identity.current(), bumped);
        let mut p = PartitionSequence::new(FIRST);
        p.assign(100);
        p = PartitionSequence::new(identity.current());
        let state = p.assign(1);
        assert_eq!((state.epoch, state.base_sequence), (1, 0));
    }

    #[test]
    fn an_exhausted_epoch_asks_for_a_new_id_once() {
        let last = ProducerIdAndEpoch {
            id: 5,
            epoch: i16::MAX,
        };
        let identity = Identity::new(last);
        assert_eq!(identity.bump_from(last), Bump::Exhausted);
        let new = ProducerIdAndEpoch { id: 6, epoch: 0 };
        assert_eq!(identity.replace(last, new), new);
        let other = ProducerIdAndEpoch { id: 9, epoch: 0 };
        assert_eq!(identity.replace(last, other), new, "the first new id wins");
    }
}
