//! Writes `COUNT` framed Shoe values (Confluent wire format, schema id `SCHEMA_ID`, seed `SEED`) to
//! `OUT` as `[u32 big-endian length][bytes]` records, and prints their average length. The benchmark
//! peers (`scripts/bench.sh`) send these exact bytes, so compression sees the same data as
//! shoe-producer's own run. An example of the crate, so every build of its targets keeps it compiling.

use std::io::Write;

use shoe_producer::shoe::{generator::ShoeGenerator, wire::Framer, Shoe};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 {
        eprintln!("usage: bench_payloads OUT COUNT SCHEMA_ID SEED");
        std::process::exit(2);
    }
    let count: u64 = args[2].parse().expect("COUNT");
    let schema_id: u32 = args[3].parse().expect("SCHEMA_ID");
    let seed: u64 = args[4].parse().expect("SEED");
    let mut generator = ShoeGenerator::new(seed, 1);
    let framer = Framer::for_shoe(schema_id);
    let mut out = std::io::BufWriter::new(std::fs::File::create(&args[1]).expect("OUT"));
    let (mut shoe, mut value, mut total) = (Shoe::default(), Vec::new(), 0u64);
    for _ in 0..count {
        generator.next_into(&mut shoe);
        framer.frame_into(&shoe, &mut value);
        out.write_all(&(value.len() as u32).to_be_bytes()).unwrap();
        out.write_all(&value).unwrap();
        total += value.len() as u64;
    }
    out.flush().unwrap();
    println!("{}", (total as f64 / count as f64).round() as u64);
}
