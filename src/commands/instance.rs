//! Scale-out: instance I of N generates its own share of the ids with its own seed, so N copies of
//! the same command — a Kubernetes Indexed Job's pods, told apart only by `JOB_COMPLETION_INDEX` —
//! write disjoint key ranges that together are complete, with no flag computed outside.
//!
//! `--count C` is the total over all instances: instance I generates the ids
//! `[id_start + ⌊C·I/N⌋, id_start + ⌊C·(I+1)/N⌋)`, so the shares differ by at most one record and
//! add up to exactly C. Without `--count`, the ids from `id_start` to the largest id are split the
//! same way, so instances that run until stopped never meet. Each instance's seed is derived from
//! the seed and I (below), so its shoes differ from its neighbours' and can be replayed alone with
//! `--seed <its seed> --id-start <its first id>`. A single instance keeps the seed, ids and count it
//! was given.

use crate::settings::{Instance, RunSettings};

/// What one instance generates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Share {
    /// The generator's seed for this instance.
    pub(crate) seed: u64,
    pub(crate) first_id: i64,
    /// How many records this instance generates at most; `None` until stopped.
    pub(crate) count: Option<u64>,
}

impl Share {
    /// This instance's share of `run`'s ids, generated from `seed` (the `--seed`, or a random one).
    pub(crate) fn of(run: &RunSettings, seed: u64) -> Self {
        let Instance { index, count: n } = run.instance;
        let n = n.max(1);
        if n == 1 {
            return Self {
                seed,
                first_id: run.id_start,
                count: run.count,
            };
        }
        let index = index.min(n - 1);
        // Every id from `id_start` up, when no count bounds them.
        let total = match run.count {
            Some(count) => i128::from(count),
            None => i128::from(i64::MAX) - i128::from(run.id_start) + 1,
        };
        let bound = |i: u32| total * i128::from(i) / i128::from(n);
        let (low, high) = (bound(index), bound(index + 1));
        Self {
            seed: instance_seed(seed, index),
            first_id: i64::try_from(i128::from(run.id_start) + low)
                .expect("a share starts within the ids from id_start to the largest"),
            count: Some(u64::try_from(high - low).expect("a share is not negative")),
        }
    }
}

/// The seed of instance `index`: SplitMix64's output function applied to
/// `seed + (index + 1) × 0x9E3779B97F4A7C15` (wrapping), so neighbouring instances and neighbouring
/// seeds give unrelated generators. A documented formula, kept stable across versions: replaying an
/// instance must give the same shoes tomorrow.
pub(crate) fn instance_seed(seed: u64, index: u32) -> u64 {
    let mut z = seed.wrapping_add((u64::from(index) + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::time::Duration;

    fn run(count: Option<u64>, id_start: i64, index: u32, n: u32) -> RunSettings {
        RunSettings {
            count,
            duration: None,
            rate: None,
            seed: None,
            id_start,
            progress_interval: Duration::from_secs(5),
            metrics_addr: None,
            metrics_linger: Duration::ZERO,
            create_topic: None,
            instance: Instance { index, count: n },
        }
    }

    /// The `[first, end)` id range of each of `n` instances.
    fn ranges(count: Option<u64>, id_start: i64, n: u32) -> Vec<(i128, i128)> {
        (0..n)
            .map(|i| {
                let share = Share::of(&run(count, id_start, i, n), 42);
                let first = i128::from(share.first_id);
                let end = share
                    .count
                    .map_or(i128::from(i64::MAX) + 1, |count| first + i128::from(count));
                (first, end)
            })
            .collect()
    }

    #[test]
    fn a_single_instance_keeps_what_it_was_given() {
        assert_eq!(
            Share::of(&run(None, 7, 0, 1), 42),
            Share {
                seed: 42,
                first_id: 7,
                count: None
            }
        );
        assert_eq!(Share::of(&run(Some(5), 7, 0, 1), 42).count, Some(5));
    }

    #[test]
    fn a_count_is_the_total_split_into_near_equal_adjacent_shares() {
        assert_eq!(
            ranges(Some(1_000), 1, 3),
            [(1, 334), (334, 667), (667, 1_001)]
        );
        // Fewer records than instances: some instances get none, none gets an id twice.
        assert_eq!(ranges(Some(2), 10, 3), [(10, 10), (10, 11), (11, 12)]);
    }

    #[test]
    fn without_a_count_the_id_space_is_split_to_the_largest_id() {
        let shares = ranges(None, 1, 3);
        assert_eq!(shares[0].0, 1);
        assert_eq!(shares[2].1, i128::from(i64::MAX) + 1);
        assert_eq!(shares[0].1, shares[1].0);
        assert_eq!(shares[1].1, shares[2].0);
        let negative_start = ranges(None, i64::MIN, 2);
        assert_eq!(negative_start[0], (i128::from(i64::MIN), 0));
    }

    #[test]
    fn instance_seeds_are_stable_and_distinct() {
        // The formula is a contract: these values must never change.
        assert_eq!(instance_seed(0, 0), 0xE220_A839_7B1D_CDAF);
        assert_eq!(instance_seed(42, 2), instance_seed(42, 2));
        let seeds: std::collections::BTreeSet<u64> =
            (0..1_000).map(|i| instance_seed(42, i)).collect();
        assert_eq!(seeds.len(), 1_000);
        assert_ne!(instance_seed(42, 0), 42);
        assert_eq!(
            Share::of(&run(Some(9), 1, 1, 3), 42).seed,
            instance_seed(42, 1)
        );
    }

    proptest! {
        #[test]
        fn shares_are_disjoint_and_complete(
            count in proptest::option::of(0u64..10_000_000_000),
            id_start in -1_000_000i64..1_000_000,
            n in 1u32..64,
        ) {
            let shares = ranges(count, id_start, n);
            prop_assert_eq!(shares[0].0, i128::from(id_start));
            for pair in shares.windows(2) {
                prop_assert_eq!(pair[0].1, pair[1].0);
                prop_assert!(pair[0].0 <= pair[0].1);
            }
            let end = shares[shares.len() - 1].1;
            match count {
                Some(count) => prop_assert_eq!(end, i128::from(id_start) + i128::from(count)),
                None => prop_assert_eq!(end, i128::from(i64::MAX) + 1),
            }
        }
    }
}
