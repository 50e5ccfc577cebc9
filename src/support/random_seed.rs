//! Seeds for the parts that want randomness but no particular sequence: the generator when `--seed` is
//! not given, and the partitioners' starting points.
//!
//! `rand`'s thread RNG panics when the OS gives no randomness (a bare chroot without `/dev/urandom`
//! under a static build, for one). A seed needs no cryptographic quality and is logged anyway, so
//! here the OS RNG is tried first and the clock and process id stand in when it fails.

use std::time::{SystemTime, UNIX_EPOCH};

use rand::TryRngCore;

/// 64 random bits from the OS, or from the clock and the process id when the OS has none to give.
pub(crate) fn random_seed() -> u64 {
    rand::rngs::OsRng
        .try_next_u64()
        .unwrap_or_else(|_| clock_seed())
}

fn clock_seed() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default();
    mix64(nanos ^ (u64::from(std::process::id()) << 32))
}

/// SplitMix64's finalizer: spreads every input bit over the whole output, so consecutive inputs give
/// unrelated outputs.
pub(crate) fn mix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_seeds_differ_between_calls() {
        let a = clock_seed();
        std::thread::sleep(std::time::Duration::from_millis(1));
        assert_ne!(a, clock_seed());
    }

    #[test]
    fn mix64_matches_splitmix64_reference_values() {
        // SplitMix64 seeded with 0 yields these first outputs (state advances by the golden gamma).
        assert_eq!(mix64(0), 0xe220_a839_7b1d_cdaf);
        assert_eq!(mix64(0x9e37_79b9_7f4a_7c15), 0x6e78_9e6a_a1b9_65f4);
    }
}
