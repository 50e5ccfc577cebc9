//! Pins the generator's output for seed 42: the first shoes, field by field and as prost bytes.
//!
//! A change here means every `--seed` replays differently than before (a word list was edited, or a
//! dependency changed ChaCha8's stream). If that is intended, replace `testdata/generator_seed42.txt`
//! with the listing this test prints on failure.

use prost::Message;
use shoe_producer::shoe::generator::ShoeGenerator;

const GOLDEN: &str = include_str!("../../testdata/generator_seed42.txt");
const SEED: u64 = 42;
const ID_START: i64 = 1;
const COUNT: usize = 12;

fn listing(count: usize) -> String {
    let mut text = String::new();
    for shoe in ShoeGenerator::new(SEED, ID_START).take(count) {
        text.push_str(&format!(
            "{}|{}|{}|{}|{}|{}\n",
            shoe.id,
            shoe.brand,
            shoe.name,
            shoe.sale_price,
            shoe.rating,
            hex::encode(shoe.encode_to_vec())
        ));
    }
    text
}

#[test]
fn seed_42_replays_the_golden_sequence() {
    let expected: Vec<&str> = GOLDEN
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .collect();
    let actual = listing(COUNT);
    let actual: Vec<&str> = actual.lines().collect();
    assert_eq!(
        actual,
        expected,
        "generator output for seed {SEED} changed; if intended, the new listing is:\n{}",
        actual.join("\n")
    );
}
