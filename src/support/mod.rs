//! Small parts every layer shares and none owns: secret values that never print, the TLS trust used
//! for both Kafka and the Schema Registry, the one retry backoff, random seeds that never panic, the
//! one way a file the user names is read, and user text quoted for a one-line message.

pub(crate) mod backoff;
pub(crate) mod input_file;
pub(crate) mod quoted;
pub(crate) mod random_seed;
pub mod secret;
pub mod tls;
