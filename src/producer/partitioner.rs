//! Which partition a record goes to.
//!
//! The default is Java's: `toPositive(murmur2(key)) % partitions`, so a shoe id lands on the same
//! partition as it would from the Java client, Kafka Streams, ksqlDB or Connect — consumers that rely
//! on key locality keep working whichever producer wrote the record. `random` and `round-robin` exist
//! for spreading load when locality does not matter.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::{
    settings::PartitionerKind,
    support::random_seed::{mix64, random_seed},
};

/// Kafka's murmur2 (`org.apache.kafka.common.utils.Utils.murmur2`): 32-bit MurmurHash2 with seed
/// `0x9747b28c`, little-endian 4-byte blocks, returned as Java's signed `int`.
pub(crate) fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;

    let mut h = SEED ^ data.len() as u32;
    let mut blocks = data.chunks_exact(4);
    for block in &mut blocks {
        let mut k = u32::from_le_bytes([block[0], block[1], block[2], block[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        for (i, &byte) in tail.iter().enumerate().rev() {
            h ^= u32::from(byte) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// Java's `Utils.toPositive`: clears the sign bit (not `abs`, which overflows on `i32::MIN`).
pub(crate) fn to_positive(value: i32) -> i32 {
    value & 0x7fff_ffff
}

/// The partition Java's default partitioner picks for a keyed record.
pub fn java_partition_for_key(key: &[u8], partitions: i32) -> i32 {
    to_positive(murmur2(key)) % partitions
}

/// Picks partitions for records; shared by every handle, so it is `Sync` and lock-free. The
/// partition count is the caller's: it grows when partitions are added during a run, and keys then
/// map over the new count, as with the Java client.
#[derive(Debug)]
pub(crate) struct Partitioner {
    kind: PartitionerKind,
    counter: AtomicU32,
    /// Makes the random partitioner's sequence differ between runs.
    salt: u64,
}

impl Partitioner {
    pub(crate) fn new(kind: PartitionerKind) -> Self {
        Self {
            kind,
            counter: AtomicU32::new(random_seed() as u32),
            salt: random_seed(),
        }
    }

    /// The partition, of `partitions` (at least one), for a record with `key`.
    pub(crate) fn partition(&self, key: &[u8], partitions: usize) -> usize {
        let partitions = i32::try_from(partitions).unwrap_or(i32::MAX);
        debug_assert!(partitions > 0, "a topic has at least one partition");
        let chosen = match self.kind {
            PartitionerKind::Murmur2 => java_partition_for_key(key, partitions),
            PartitionerKind::RoundRobin => {
                let n = self.counter.fetch_add(1, Ordering::Relaxed);
                (n % partitions as u32) as i32
            }
            PartitionerKind::Random => {
                // A lock-free counter through a bit mixer: uniform over the partitions, no OS RNG call.
                let n = self.counter.fetch_add(1, Ordering::Relaxed);
                (mix64(u64::from(n) ^ self.salt) % partitions as u64) as i32
            }
        };
        chosen as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn data_lines(text: &str) -> impl Iterator<Item = Vec<&str>> {
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| l.split_whitespace().collect())
    }

    #[test]
    fn murmur2_matches_kafkas_published_vectors() {
        let text = include_str!("../../testdata/murmur2_kafka_vectors.txt");
        let mut checked = 0;
        for fields in data_lines(text) {
            let expected: i32 = fields[1].parse().unwrap();
            assert_eq!(
                murmur2(fields[0].as_bytes()),
                expected,
                "key {:?}",
                fields[0]
            );
            checked += 1;
        }
        assert_eq!(checked, 6);
    }

    #[test]
    fn partitions_match_the_java_client_for_decimal_keys() {
        let text = include_str!("../../testdata/murmur2_java_partitions.txt");
        let counts = [1, 3, 6, 7, 12, 100];
        let mut checked = 0;
        for fields in data_lines(text) {
            let key = fields[0].as_bytes();
            assert_eq!(
                murmur2(key),
                fields[1].parse::<i32>().unwrap(),
                "key {}",
                fields[0]
            );
            for (i, &count) in counts.iter().enumerate() {
                let expected: i32 = fields[2 + i].parse().unwrap();
                assert_eq!(
                    java_partition_for_key(key, count),
                    expected,
                    "key {} of {count}",
                    fields[0]
                );
            }
            checked += 1;
        }
        assert!(checked > 2000, "{checked}");
    }

    #[test]
    fn empty_key_hashes_like_java() {
        // seed ^ 0, no blocks, no tail, then the final mix.
        let mut h: u32 = 0x9747_b28c;
        h ^= h >> 13;
        h = h.wrapping_mul(0x5bd1_e995);
        h ^= h >> 15;
        assert_eq!(murmur2(b""), h as i32);
    }

    #[test]
    fn round_robin_cycles_through_every_partition() {
        let partitioner = Partitioner::new(PartitionerKind::RoundRobin);
        let mut seen: Vec<usize> = (0..6).map(|_| partitioner.partition(b"x", 6)).collect();
        seen.sort_unstable();
        assert_eq!(seen, vec![0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn random_spreads_evenly_over_the_partitions() {
        let partitioner = Partitioner::new(PartitionerKind::Random);
        let mut counts = [0u32; 6];
        for _ in 0..60_000 {
            counts[partitioner.partition(b"x", 6)] += 1;
        }
        // 10,000 expected each; a uniform draw stays within ±5 % with overwhelming probability, while
        // a stuck or cyclic-looking partitioner (all on one, or a fixed pattern) fails.
        for count in counts {
            assert!((9_500..=10_500).contains(&count), "{counts:?}");
        }
        let first: Vec<usize> = (0..12).map(|_| partitioner.partition(b"x", 6)).collect();
        assert!(
            first.windows(2).any(|w| w[1] != (w[0] + 1) % 6),
            "looks round-robin: {first:?}"
        );
    }

    proptest! {
        #[test]
        fn every_partitioner_stays_in_range(key in proptest::collection::vec(any::<u8>(), 0..64), partitions in 1usize..500) {
            for kind in [PartitionerKind::Murmur2, PartitionerKind::Random, PartitionerKind::RoundRobin] {
                let p = Partitioner::new(kind).partition(&key, partitions);
                prop_assert!((0..partitions).contains(&p));
            }
        }

        #[test]
        fn murmur2_maps_a_key_as_java_does_over_the_current_count(key in proptest::collection::vec(any::<u8>(), 0..64), partitions in 1usize..500) {
            let partitioner = Partitioner::new(PartitionerKind::Murmur2);
            prop_assert_eq!(
                partitioner.partition(&key, partitions) as i32,
                java_partition_for_key(&key, partitions as i32)
            );
        }
    }
}
