//! `sample`: print generated shoes as JSON lines, without touching the network — to see what the
//! producer would send, or to feed other tools.
//!
//! Fields keep their `.proto` names and JSON types (`"id":1`, `"sale_price":129.99`), which is what
//! people grep and `jq` for; `--seed` and `--id-start` give the exact sequence a `produce` run with the
//! same values sends.

use std::io::{self, Write};

use crate::{
    app::exit::Failure, app::settings::Config, commands::stdout, shoe::generator::ShoeGenerator,
    shoe::Shoe,
};

/// Shoes printed when `--count` is not given.
const DEFAULT_SAMPLE_COUNT: u64 = 10;

/// Writes `--count` shoes (10 by default) to stdout. Its output is its only work, so it stops at
/// the first write that fails: quietly when the reader went away (`| head`), with exit code 1
/// otherwise (the shoes asked for were lost).
pub(crate) fn sample(config: &Config) -> Result<(), Failure> {
    let seed = config.run.seed.unwrap_or_else(|| {
        let seed = crate::support::random_seed::random_seed();
        tracing::info!("seed {seed} (pass --seed {seed} to get these shoes again)");
        seed
    });
    let count = config.run.count.unwrap_or(DEFAULT_SAMPLE_COUNT);
    let stdout = io::stdout().lock();
    match write_sample(io::BufWriter::new(stdout), seed, config.run.id_start, count) {
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
    for _ in 0..count {
        generator.next_into(&mut shoe);
        serde_json::to_writer(&mut out, &shoe_line(&shoe))?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

/// One shoe as JSON, fields in `.proto` order with their `.proto` names.
#[derive(serde::Serialize)]
struct ShoeLine<'a> {
    id: i64,
    brand: &'a str,
    name: &'a str,
    sale_price: f64,
    rating: f64,
}

fn shoe_line(shoe: &Shoe) -> ShoeLine<'_> {
    ShoeLine {
        id: shoe.id,
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
        let ids: Vec<i64> = first.iter().map(|s| s["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, [1_000, 1_001, 1_002, 1_003, 1_004]);
    }

    #[test]
    fn fields_come_in_proto_order() {
        let mut out = Vec::new();
        write_sample(&mut out, 1, 5, 1).unwrap();
        let line = String::from_utf8(out).unwrap();
        assert!(line.starts_with("{\"id\":5,\"brand\":"), "{line}");
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
}
