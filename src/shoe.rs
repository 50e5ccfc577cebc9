//! The `Shoe` event: the Rust type generated from `proto/shoe.proto`.

include!(concat!(env!("OUT_DIR"), "/main.rs"));
