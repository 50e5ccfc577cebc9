//! Kafka protocol messages that this client writes itself, around rskafka's `Messenger`: the only
//! code that touches rskafka's protocol internals.

pub(crate) mod init_producer_id;
pub(crate) mod metadata;
pub(crate) mod produce;
pub(crate) mod record_batch;
