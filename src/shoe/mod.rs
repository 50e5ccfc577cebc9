//! The `Shoe` event and everything that turns one into a record value: the Rust type generated from
//! `proto/shoe.proto` (here), the schema facts the registry sees ([`schema`]), Confluent's wire
//! framing ([`wire`]) and the seeded generator ([`generator`]).

pub mod generator;
pub mod schema;
pub mod wire;

include!(concat!(env!("OUT_DIR"), "/main.rs"));
