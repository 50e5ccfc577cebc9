//! The faults a seed draws: per mille chances, calm to stormy.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Per mille chances of each fault, drawn per seed (a seed is calm, stormy or in between).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Faults {
    pub(crate) move_leader: u32,
    pub(crate) drop_before: u32,
    pub(crate) drop_after: u32,
    pub(crate) lose_answer: u32,
    pub(crate) delay_answer: u32,
    pub(crate) throttle: u32,
    pub(crate) timed_out_after_append: u32,
    pub(crate) not_enough_replicas: u32,
    pub(crate) not_enough_after_append: u32,
    pub(crate) unknown_producer: u32,
    pub(crate) failed_lookup: u32,
}

impl Faults {
    pub(crate) fn draw(rng: &mut ChaCha8Rng) -> Self {
        let storm = rng.random_range(0..=3u32);
        let mut p = |max: u32| rng.random_range(0..=max * storm);
        Self {
            move_leader: p(20),
            drop_before: p(10),
            drop_after: p(10),
            lose_answer: p(4),
            delay_answer: p(20),
            throttle: p(10),
            timed_out_after_append: p(10),
            not_enough_replicas: p(10),
            not_enough_after_append: p(10),
            unknown_producer: p(5),
            failed_lookup: p(20),
        }
    }
}
