//! Small parts every layer shares and none owns: secret values that never print, the TLS trust used
//! for both Kafka and the Schema Registry, the one retry backoff, and random seeds that never panic.

pub mod backoff;
pub mod random_seed;
pub mod secret;
pub mod tls;
