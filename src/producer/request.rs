//! The produce request, written around an already-encoded record batch.
//!
//! rskafka's own `ProduceRequest` owns its records as structs, re-encodes them on every attempt and
//! always asks for `acks=all`. This body carries the closed batch's bytes as they are (so a retry costs
//! one memcpy) and the `acks` and timeout the user chose. It plugs into rskafka's `Messenger`, which
//! negotiates the version, frames the request and matches the response; the response is rskafka's
//! `ProduceResponse`.

use std::io::Write;

use bytes::Bytes;
use rskafka::protocol::{
    api_key::ApiKey,
    api_version::{ApiVersion, ApiVersionRange},
    messages::{ProduceResponse, RequestBody, WriteVersionedError, WriteVersionedType},
    primitives::Int16,
    traits::WriteError,
};

/// One partition's batch for one topic.
#[derive(Debug)]
pub(crate) struct ProduceBatchRequest<'a> {
    pub topic: &'a str,
    pub partition: i32,
    /// `1` (leader) or `-1` (all in-sync replicas).
    pub acks: i16,
    /// How long the broker may wait for replication before answering `REQUEST_TIMED_OUT`.
    pub timeout_ms: i32,
    /// One encoded record batch (see `record_batch`).
    pub batch: &'a Bytes,
}

impl RequestBody for ProduceBatchRequest<'_> {
    type ResponseBody = ProduceResponse;
    const API_KEY: ApiKey = ApiKey::Produce;
    /// v3 is the first with record batches (message format v2); rskafka reads responses up to v7.
    const API_VERSION_RANGE: ApiVersionRange =
        ApiVersionRange::new(ApiVersion(Int16(3)), ApiVersion(Int16(7)));
    const FIRST_TAGGED_FIELD_IN_REQUEST_VERSION: ApiVersion = ApiVersion(Int16(9));
}

impl<W: Write> WriteVersionedType<W> for ProduceBatchRequest<'_> {
    fn write_versioned(
        &self,
        writer: &mut W,
        version: ApiVersion,
    ) -> Result<(), WriteVersionedError> {
        debug_assert!((3..=7).contains(&version.0 .0));
        let topic = self.topic.as_bytes();
        let topic_len = i16::try_from(topic.len()).map_err(WriteError::from)?;
        let batch_len = i32::try_from(self.batch.len()).map_err(WriteError::from)?;
        let io = |e: std::io::Error| WriteVersionedError::WriteError(WriteError::IO(e));
        writer.write_all(&(-1i16).to_be_bytes()).map_err(io)?; // transactional_id: null
        writer.write_all(&self.acks.to_be_bytes()).map_err(io)?;
        writer
            .write_all(&self.timeout_ms.to_be_bytes())
            .map_err(io)?;
        writer.write_all(&1i32.to_be_bytes()).map_err(io)?; // one topic
        writer.write_all(&topic_len.to_be_bytes()).map_err(io)?;
        writer.write_all(topic).map_err(io)?;
        writer.write_all(&1i32.to_be_bytes()).map_err(io)?; // one partition
        writer
            .write_all(&self.partition.to_be_bytes())
            .map_err(io)?;
        writer.write_all(&batch_len.to_be_bytes()).map_err(io)?;
        writer.write_all(self.batch).map_err(io)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rskafka::protocol::{
        messages::{ProduceRequest, ProduceRequestPartitionData, ProduceRequestTopicData},
        primitives::{Int32, NullableString, Records, String_},
        record::RecordBatch,
        traits::ReadType,
    };

    #[test]
    fn encodes_like_rskafkas_produce_request() {
        let mut writer = crate::producer::record_batch::BatchWriter::new(1_000, 0);
        writer.append(0, b"7", b"seven");
        let batch = writer
            .finish(
                crate::settings::Compression::None,
                crate::producer::record_batch::ProducerState::NONE,
            )
            .unwrap();
        let ours = ProduceBatchRequest {
            topic: "shoes",
            partition: 4,
            acks: -1,
            timeout_ms: 30_000,
            batch: &batch,
        };
        let theirs = ProduceRequest {
            transactional_id: NullableString(None),
            acks: Int16(-1),
            timeout_ms: Int32(30_000),
            topic_data: vec![ProduceRequestTopicData {
                name: String_("shoes".into()),
                partition_data: vec![ProduceRequestPartitionData {
                    index: Int32(4),
                    records: Records(vec![RecordBatch::read(&mut std::io::Cursor::new(
                        &batch[..],
                    ))
                    .unwrap()]),
                }],
            }],
        };
        for version in 3..=7 {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            ours.write_versioned(&mut a, ApiVersion(Int16(version)))
                .unwrap();
            theirs
                .write_versioned(&mut b, ApiVersion(Int16(version)))
                .unwrap();
            assert_eq!(a, b, "version {version}");
        }
    }
}
