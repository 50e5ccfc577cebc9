//! `sample`: print generated shoes as JSON lines, without touching the network — to see what the
//! producer would send, or to feed other tools.
//!
//! Each line is the shoe in Protobuf's JSON mapping, as Confluent's Protobuf console consumer prints
//! it: the `.proto` field names, doubles as numbers, and the 64-bit `id` as a string (`"id":"1"`),
//! because a JSON number above 2^53 is rounded by JavaScript and jq 1.6. `--seed` and `--id-start`
//! give the exact sequence a `produce` run with the same values sends.

use std::io::{self, Write};

use crate::{
    commands::{instance::Share, stdout},
    settings::exit::Failure,
    settings::Config,
    shoe::generator::ShoeGenerator,
    shoe::Shoe,
};

/// Shoes printed when `--count` is not given (or, with several instances, this instance's first ones).
const DEFAULT_SAMPLE_COUNT: u64 = 10;

/// Writes `--count` shoes (10 by default) to stdout. Its output is its only work, so it stops at
/// the first write that fails: quietly when the reader went away (`| head`), with exit code 1
/// otherwise (the shoes asked for were lost).
pub(crate) fn sample(config: &Config) -> Result<(), Failure> {
    let seed = config.run.seed.unwrap_or_else(|| {
        let seed = crate::support::random_seed::random_seed();
        tracing::info!(
            seed = %seed,
            "seed {seed} (pass --seed {seed} to get these shoes again)"
        );
        seed
    });
    // With `--instance`/`--instances`, the shoes that instance would produce.
    let share = Share::of(&config.run, seed);
    let count = match config.run.count {
        Some(_) => share.count.unwrap_or(DEFAULT_SAMPLE_COUNT),
        None => DEFAULT_SAMPLE_COUNT.min(share.count.unwrap_or(u64::MAX)),
    };
    let stdout = io::stdout().lock();
    match write_sample(
        io::BufWriter::new(stdout),
        share.seed,
        share.first_id,
        count,
    ) {
        Err(error) if !stdout::is_closed(&error) => Err(Failure::runtime(format!(
            "cannot write the sample to stdout: {error}"
        ))),
        _ => Ok(()),
    }
}

/// Writes `count` shoes from `ShoeGenerator::new(seed, id_start)` as JSON lines to `out`.
fn write_sample(mut out: impl Write, seed: u64, id_start: i64, count: u64) -> io::Result<()> {
    let mut generator = ShoeGenerator::new(seed, id_start);
    let mut shoe = Shoe::default();
    let mut id = itoa::Buffer::new();
    for _ in 0..count {
        generator.next_into(&mut shoe);
        serde_json::to_writer(&mut out, &shoe_line(&shoe, id.format(shoe.id)))?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

/// One shoe as JSON, fields in `.proto` order with their `.proto` names.
#[derive(serde::Serialize)]
struct ShoeLine<'a> {
    id: &'a str,
    brand: &'a str,
    name: &'a str,
    sale_price: f64,
    rating: f64,
}

fn shoe_line<'a>(shoe: &'a Shoe, id: &'a str) -> ShoeLine<'a> {
    ShoeLine {
        id,
        brand: &shoe.brand,
        name: &shoe.name,
        sale_price: shoe.sale_price,
        rating: shoe.rating,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(seed: u64, id_start: i64, count: u64) -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        write_sample(&mut out, seed, id_start, count).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    #[test]
    fn same_seed_same_shoes_with_ids_from_id_start() {
        let first = lines(42, 1_000, 5);
        assert_eq!(first, lines(42, 1_000, 5));
        assert_ne!(first, lines(43, 1_000, 5));
        let ids: Vec<&str> = first.iter().map(|s| s["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["1000", "1001", "1002", "1003", "1004"]);
    }

    #[test]
    fn fields_come_in_proto_order() {
        let mut out = Vec::new();
        write_sample(&mut out, 1, 5, 1).unwrap();
        let line = String::from_utf8(out).unwrap();
        assert!(line.starts_with("{\"id\":\"5\",\"brand\":"), "{line}");
        let order: Vec<usize> = ["\"brand\"", "\"name\"", "\"sale_price\"", "\"rating\""]
            .iter()
            .map(|key| line.find(key).unwrap())
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{line}");
    }

    #[test]
    fn lines_match_the_generator_field_by_field() {
        let mut generator = ShoeGenerator::new(7, 1);
        for line in lines(7, 1, 3) {
            let shoe = generator.next_shoe();
            assert_eq!(line["brand"], shoe.brand.as_str());
            assert_eq!(line["name"], shoe.name.as_str());
            assert_eq!(line["sale_price"].as_f64().unwrap(), shoe.sale_price);
            assert_eq!(line["rating"].as_f64().unwrap(), shoe.rating);
            assert_eq!(line.as_object().unwrap().len(), 5);
        }
    }

    #[test]
    fn ids_beyond_two_to_the_53_survive_as_strings() {
        let first = 9_007_199_254_740_993_i64; // 2^53 + 1: no double holds it
        let ids: Vec<i64> = lines(7, first, 2)
            .iter()
            .map(|s| s["id"].as_str().unwrap().parse().unwrap())
            .collect();
        assert_eq!(ids, [first, first + 1]);
    }
}
