//! Placeholder replaced by the serialization benchmark.
fn main() {}
