//! Serialization throughput on one core: generate a shoe, prost-encode it and frame it in Confluent's
//! wire format, per record — the work the producer does before a record reaches the batching engine.
//! The target is at least 3 million records/s, so serialization is never the producer's bottleneck.
//!
//! Run: `cargo bench --bench serialize`. Criterion prints `thrpt` in elements (records) per second for
//! each step; a closing line measures the full pipeline over a fixed count of records and prints the
//! figure as records/s.

use std::{
    hint::black_box,
    time::{Duration, Instant},
};

use criterion::{Criterion, Throughput};
use shoe_producer::{shoe::generator::ShoeGenerator, shoe::wire::Framer, shoe::Shoe};

/// A Confluent Cloud-sized schema id.
const SCHEMA_ID: u32 = 100_001;
const SEED: u64 = 42;

fn per_record(c: &mut Criterion) {
    let mut group = c.benchmark_group("per_record");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(5));

    group.bench_function("generate", |b| {
        let mut generator = ShoeGenerator::new(SEED, 1);
        let mut shoe = Shoe::default();
        b.iter(|| {
            generator.next_into(&mut shoe);
            black_box(&shoe);
        });
    });

    group.bench_function("frame", |b| {
        let framer = Framer::for_shoe(SCHEMA_ID);
        let shoe = ShoeGenerator::new(SEED, 1).next_shoe();
        let mut buffer = Vec::with_capacity(128);
        b.iter(|| {
            framer.frame_into(black_box(&shoe), &mut buffer);
            black_box(&buffer);
        });
    });

    group.bench_function("generate_and_frame_reused_buffer", |b| {
        let framer = Framer::for_shoe(SCHEMA_ID);
        let mut generator = ShoeGenerator::new(SEED, 1);
        let mut shoe = Shoe::default();
        let mut buffer = Vec::with_capacity(128);
        b.iter(|| {
            generator.next_into(&mut shoe);
            framer.frame_into(&shoe, &mut buffer);
            black_box(&buffer);
        });
    });

    // What the engine does when each record must own its value (rskafka's `Record` holds a Vec<u8>):
    // one exactly-sized allocation per record.
    group.bench_function("generate_and_frame_owned_vec", |b| {
        let framer = Framer::for_shoe(SCHEMA_ID);
        let mut generator = ShoeGenerator::new(SEED, 1);
        let mut shoe = Shoe::default();
        b.iter(|| {
            generator.next_into(&mut shoe);
            black_box(framer.frame_to_vec(&shoe))
        });
    });

    group.finish();
}

/// The full pipeline over a fixed count, timed once, printed as one figure.
fn one_core_summary() {
    const RECORDS: u64 = 20_000_000;
    let framer = Framer::for_shoe(SCHEMA_ID);
    let mut generator = ShoeGenerator::new(SEED, 1);
    let mut shoe = Shoe::default();
    let mut buffer = Vec::with_capacity(128);
    let mut bytes = 0u64;
    let started = Instant::now();
    for _ in 0..RECORDS {
        generator.next_into(&mut shoe);
        framer.frame_into(&shoe, &mut buffer);
        bytes += black_box(&buffer).len() as u64;
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "generate + encode + frame on one core: {RECORDS} records in {elapsed:.3} s = {:.2} M records/s ({:.1} bytes/record on average)",
        RECORDS as f64 / elapsed / 1e6,
        bytes as f64 / RECORDS as f64
    );
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    per_record(&mut criterion);
    criterion.final_summary();
    one_core_summary();
}
