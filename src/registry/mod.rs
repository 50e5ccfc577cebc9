//! Talking to a Confluent-compatible Schema Registry: naming the subject, registering or finding the
//! Shoe schema, and reporting every failure so the user knows what to fix.
//!
//! The producer resolves the schema id once per run ([`resolve_schema`]) and frames every record
//! with it; nothing in the hot path talks to the registry.

mod client;
mod error;
mod resolve;
mod subject;

pub use client::{SchemaById, SchemaRegistryClient, SubjectSchema};
pub use error::{Operation, RegistryError};
pub use resolve::{resolve_schema, Resolution};
pub use subject::subject_name;
