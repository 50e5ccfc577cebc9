//! The seeded `Shoe` generator: plausible shoes, reproducible from a seed on any machine, cheap enough
//! that producing millions per second costs one core a fraction of its time.
//!
//! Reproducibility rests on ChaCha8 alone: its output stream is fixed by the algorithm and the seed
//! (the same on every platform and endianness), and every field is derived from raw 32-bit draws with
//! our own arithmetic rather than `rand`'s distributions, whose exact values a `rand` upgrade may
//! change. The first shoes for seed 42 are pinned in `testdata/generator_seed42.txt`.
//!
//! Names come from static word lists ([`catalog`]) copied into the `Shoe`'s reused `String`s, and
//! prices and ratings are whole cents and tenths divided once, so the hot path neither allocates nor
//! formats. `fake` was not used: its generators allocate a `String` per value and their word lists
//! have nothing shoe-shaped.

mod catalog;

use rand_chacha::{
    rand_core::{RngCore, SeedableRng},
    ChaCha8Rng,
};

use crate::shoe::Shoe;

/// Cheapest sale price, in cents (29.99).
pub(crate) const MIN_PRICE_CENTS: u32 = 2_999;
/// Dearest sale price, in cents (349.99).
pub(crate) const MAX_PRICE_CENTS: u32 = 34_999;
/// Highest rating, in tenths (5.0).
pub(crate) const MAX_RATING_TENTHS: u32 = 50;

/// Produces shoes with ids `id_start`, `id_start + 1`, … and fields drawn from a seeded ChaCha8.
#[derive(Debug, Clone)]
pub struct ShoeGenerator {
    rng: ChaCha8Rng,
    next_id: i64,
}

impl ShoeGenerator {
    /// A generator whose sequence is fixed by `seed`; the first shoe gets id `id_start`.
    pub fn new(seed: u64, id_start: i64) -> Self {
        // The seed fills the first 8 bytes of the ChaCha key (little-endian, so the same on every
        // machine); the rest of the key is zero. No seed-expansion function that could change with
        // a dependency upgrade stands between the seed and the stream.
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        Self {
            rng: ChaCha8Rng::from_seed(key),
            next_id: id_start,
        }
    }

    #[cfg(test)]
    /// The id the next shoe will get.
    pub(crate) fn next_id(&self) -> i64 {
        self.next_id
    }

    /// Overwrites `shoe` with the next shoe of the sequence, reusing its `String` buffers.
    pub fn next_into(&mut self, shoe: &mut Shoe) {
        let draws = [
            self.rng.next_u64(),
            self.rng.next_u64(),
            self.rng.next_u64(),
        ];
        let [brand_draw, line_draw, version_draw, edition_draw, price_draw, rating_draw] = [
            draws[0] as u32,
            (draws[0] >> 32) as u32,
            draws[1] as u32,
            (draws[1] >> 32) as u32,
            draws[2] as u32,
            (draws[2] >> 32) as u32,
        ];

        let brand = &catalog::BRANDS[pick(brand_draw, catalog::BRANDS.len())];
        let line = brand.lines[pick(line_draw, brand.lines.len())];
        let version = catalog::VERSIONS[pick(version_draw, catalog::VERSIONS.len())];
        let edition = catalog::EDITIONS[pick(edition_draw, catalog::EDITIONS.len())];

        shoe.id = self.next_id;
        // Ids are monotonic for any realistic run; wrapping only avoids a panic at i64::MAX.
        self.next_id = self.next_id.wrapping_add(1);

        shoe.brand.clear();
        shoe.brand.push_str(brand.name);

        shoe.name.clear();
        shoe.name.push_str(line);
        shoe.name.push(' ');
        shoe.name.push_str(version);
        shoe.name.push_str(edition);

        let price_span = (MAX_PRICE_CENTS - MIN_PRICE_CENTS + 1) as usize;
        let cents = MIN_PRICE_CENTS + pick(price_draw, price_span) as u32;
        // Whole cents divided once: the nearest double to the two-decimal price (prints as `129.99`).
        shoe.sale_price = f64::from(cents) / 100.0;

        // The better of two uniform draws (each 0..=50 tenths, from the two halves of one u32) skews
        // ratings towards the top, as shop ratings are, while keeping the full 0.0–5.0 range.
        let rating_span = MAX_RATING_TENTHS + 1;
        let first = ((rating_draw & 0xffff) * rating_span) >> 16;
        let second = ((rating_draw >> 16) * rating_span) >> 16;
        shoe.rating = f64::from(first.max(second)) / 10.0;
    }

    /// The next shoe, in new buffers. Prefer [`ShoeGenerator::next_into`] in loops.
    pub fn next_shoe(&mut self) -> Shoe {
        let mut shoe = Shoe::default();
        self.next_into(&mut shoe);
        shoe
    }
}

impl Iterator for ShoeGenerator {
    type Item = Shoe;

    fn next(&mut self) -> Option<Shoe> {
        Some(self.next_shoe())
    }
}

/// Maps a uniform 32-bit draw onto `0..len` by multiply-and-shift (no division, no rejection loop).
/// The bias is at most `len / 2^32`: invisible for lists of a few dozen entries or 32 001 prices.
fn pick(draw: u32, len: usize) -> usize {
    ((u64::from(draw) * len as u64) >> 32) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let first: Vec<Shoe> = ShoeGenerator::new(7, 1).take(1000).collect();
        let second: Vec<Shoe> = ShoeGenerator::new(7, 1).take(1000).collect();
        assert_eq!(first, second);
    }

    #[test]
    fn different_seeds_differ() {
        let first: Vec<Shoe> = ShoeGenerator::new(7, 1).take(20).collect();
        let second: Vec<Shoe> = ShoeGenerator::new(8, 1).take(20).collect();
        assert_ne!(first, second);
    }

    #[test]
    fn ids_count_up_from_id_start() {
        let mut generator = ShoeGenerator::new(1, 1_000_000);
        let ids: Vec<i64> = (&mut generator).take(5).map(|shoe| shoe.id).collect();
        assert_eq!(ids, [1_000_000, 1_000_001, 1_000_002, 1_000_003, 1_000_004]);
        assert_eq!(generator.next_id(), 1_000_005);
    }

    #[test]
    fn id_start_does_not_change_the_other_fields() {
        let from_one: Vec<Shoe> = ShoeGenerator::new(3, 1).take(50).collect();
        let from_big: Vec<Shoe> = ShoeGenerator::new(3, 500).take(50).collect();
        for (a, b) in from_one.iter().zip(&from_big) {
            assert_eq!(
                (&a.brand, &a.name, a.sale_price, a.rating),
                (&b.brand, &b.name, b.sale_price, b.rating)
            );
        }
    }

    #[test]
    fn next_into_reuses_and_fully_overwrites() {
        let mut generator = ShoeGenerator::new(11, 1);
        let mut reused = Shoe {
            id: -5,
            brand: "x".repeat(64),
            name: "y".repeat(64),
            sale_price: -1.0,
            rating: 9.0,
        };
        let brand_capacity = reused.brand.capacity();
        let expected: Vec<Shoe> = ShoeGenerator::new(11, 1).take(100).collect();
        for shoe in &expected {
            generator.next_into(&mut reused);
            assert_eq!(&reused, shoe);
        }
        assert_eq!(
            reused.brand.capacity(),
            brand_capacity,
            "brand buffer reused"
        );
    }

    #[test]
    fn fields_are_plausible() {
        let brands: Vec<&str> = catalog::BRANDS.iter().map(|brand| brand.name).collect();
        let mut seen_low_rating = false;
        let mut seen_top_rating = false;
        for shoe in ShoeGenerator::new(42, 1).take(20_000) {
            assert!(brands.contains(&shoe.brand.as_str()), "{shoe:?}");
            let brand = catalog::BRANDS
                .iter()
                .find(|b| b.name == shoe.brand)
                .unwrap();
            assert!(
                brand.lines.iter().any(|line| shoe.name.starts_with(line)),
                "{shoe:?}"
            );
            assert!((29.99..=349.99).contains(&shoe.sale_price), "{shoe:?}");
            let cents = (shoe.sale_price * 100.0).round();
            assert_eq!(cents / 100.0, shoe.sale_price, "two decimals: {shoe:?}");
            let printed = shoe.sale_price.to_string();
            assert!(
                printed.split('.').nth(1).map_or(0, str::len) <= 2,
                "{printed}"
            );
            assert!((0.0..=5.0).contains(&shoe.rating), "{shoe:?}");
            let tenths = (shoe.rating * 10.0).round();
            assert_eq!(tenths / 10.0, shoe.rating, "one decimal: {shoe:?}");
            seen_low_rating |= shoe.rating < 1.0;
            seen_top_rating |= shoe.rating == 5.0;
        }
        assert!(
            seen_low_rating && seen_top_rating,
            "the full rating range occurs"
        );
    }

    #[test]
    fn every_brand_and_price_bound_occurs() {
        let shoes: Vec<Shoe> = ShoeGenerator::new(5, 1).take(50_000).collect();
        for brand in catalog::BRANDS {
            assert!(
                shoes.iter().any(|shoe| shoe.brand == brand.name),
                "{}",
                brand.name
            );
        }
        assert_eq!(pick(0, 32_001), 0);
        assert_eq!(pick(u32::MAX, 32_001), 32_000);
    }
}
