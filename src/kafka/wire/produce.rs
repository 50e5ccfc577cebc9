//! The produce request, written around already-encoded record batches, and the reading of its answer.
//!
//! rskafka's own `ProduceRequest` owns its records as structs, re-encodes them on every attempt and
//! always asks for `acks=all`. This body carries each closed batch's bytes as they are (so a retry
//! costs one memcpy) and the `acks` and timeout the user chose. One request carries one batch for
//! each of many partitions of one topic, all led by the broker it goes to. It plugs into rskafka's
//! `Messenger`, which negotiates the version, frames the request and matches the response; the
//! response is rskafka's `ProduceResponse`, read here into one answer per partition.

use std::{io::Write, time::Duration};

use bytes::Bytes;
use rskafka::{
    client::error::ProtocolError,
    protocol::{
        api_key::ApiKey,
        api_version::{ApiVersion, ApiVersionRange},
        messages::{ProduceResponse, RequestBody, WriteVersionedError, WriteVersionedType},
        primitives::Int16,
        traits::WriteError,
    },
};

/// Bytes a produce request adds around its batches, before the topic name: the request header
/// (client id included) and the body's fixed fields. An estimate for sizing requests.
pub(crate) const REQUEST_OVERHEAD: usize = 64;

/// Bytes each partition adds around its batch (index and batch length).
pub(crate) const PARTITION_OVERHEAD: usize = 8;

/// One batch per partition, for partitions of one topic led by one broker.
#[derive(Debug)]
pub(crate) struct ProduceRequest<'a> {
    pub topic: &'a str,
    /// `1` (leader) or `-1` (all in-sync replicas).
    pub acks: i16,
    /// How long the broker may wait for replication before answering `REQUEST_TIMED_OUT`.
    pub timeout_ms: i32,
    /// Partition and one encoded record batch (see `record_batch`), at most one per partition.
    pub batches: &'a [(i32, Bytes)],
}

impl RequestBody for ProduceRequest<'_> {
    type ResponseBody = ProduceResponse;
    const API_KEY: ApiKey = ApiKey::Produce;
    /// v3 is the first with record batches (message format v2); rskafka reads responses up to v7.
    const API_VERSION_RANGE: ApiVersionRange =
        ApiVersionRange::new(ApiVersion(Int16(3)), ApiVersion(Int16(7)));
    const FIRST_TAGGED_FIELD_IN_REQUEST_VERSION: ApiVersion = ApiVersion(Int16(9));
}

impl<W: Write> WriteVersionedType<W> for ProduceRequest<'_> {
    fn write_versioned(
        &self,
        writer: &mut W,
        version: ApiVersion,
    ) -> Result<(), WriteVersionedError> {
        debug_assert!((3..=7).contains(&version.0 .0));
        let topic = self.topic.as_bytes();
        let topic_len = i16::try_from(topic.len()).map_err(WriteError::from)?;
        let partitions = i32::try_from(self.batches.len()).map_err(WriteError::from)?;
        let io = |e: std::io::Error| WriteVersionedError::WriteError(WriteError::IO(e));
        writer.write_all(&(-1i16).to_be_bytes()).map_err(io)?; // transactional_id: null
        writer.write_all(&self.acks.to_be_bytes()).map_err(io)?;
        writer
            .write_all(&self.timeout_ms.to_be_bytes())
            .map_err(io)?;
        writer.write_all(&1i32.to_be_bytes()).map_err(io)?; // one topic
        writer.write_all(&topic_len.to_be_bytes()).map_err(io)?;
        writer.write_all(topic).map_err(io)?;
        writer.write_all(&partitions.to_be_bytes()).map_err(io)?;
        for (partition, batch) in self.batches {
            let batch_len = i32::try_from(batch.len()).map_err(WriteError::from)?;
            writer.write_all(&partition.to_be_bytes()).map_err(io)?;
            writer.write_all(&batch_len.to_be_bytes()).map_err(io)?;
            writer.write_all(batch).map_err(io)?;
        }
        Ok(())
    }
}

/// The broker's answer for one partition of a produce request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionAnswer {
    pub error: Option<ProtocolError>,
    /// The offset of the batch's first record (−1 when unknown, e.g. for a duplicate).
    pub base_offset: i64,
    /// How long the broker asked the client to hold back, when it did.
    pub throttle: Option<Duration>,
}

/// The answer for each partition of `topic` in `response`, in the response's order.
pub(crate) fn answers(response: &ProduceResponse, topic: &str) -> Vec<(i32, PartitionAnswer)> {
    let throttle = response
        .throttle_time_ms
        .map(|t| t.0)
        .filter(|&ms| ms > 0)
        .map(|ms| Duration::from_millis(ms as u64));
    response
        .responses
        .iter()
        .filter(|t| t.name.0 == topic)
        .flat_map(|t| &t.partition_responses)
        .map(|p| {
            (
                p.index.0,
                PartitionAnswer {
                    error: p.error,
                    base_offset: p.base_offset.0,
                    throttle,
                },
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rskafka::protocol::{
        messages::{
            ProduceRequest as TheirRequest, ProduceRequestPartitionData, ProduceRequestTopicData,
        },
        primitives::{Int32, NullableString, Records, String_},
        record::RecordBatch,
        traits::ReadType,
    };

    #[test]
    fn encodes_like_rskafkas_produce_request() {
        let mut writer = crate::kafka::wire::record_batch::BatchWriter::new(1_000, 0);
        writer.append(0, b"7", b"seven");
        let batch = writer
            .finish(
                crate::settings::Compression::None,
                crate::kafka::wire::record_batch::ProducerState::NONE,
            )
            .unwrap();
        let mut second = crate::kafka::wire::record_batch::BatchWriter::new(2_000, 0);
        second.append(3, b"11", b"eleven");
        let second = second
            .finish(
                crate::settings::Compression::None,
                crate::kafka::wire::record_batch::ProducerState::NONE,
            )
            .unwrap();
        let batches = [(4, batch.clone()), (0, second.clone())];
        let ours = ProduceRequest {
            topic: "shoes",
            acks: -1,
            timeout_ms: 30_000,
            batches: &batches,
        };
        let read = |bytes: &Bytes| {
            Records(vec![RecordBatch::read(&mut std::io::Cursor::new(
                &bytes[..],
            ))
            .unwrap()])
        };
        let theirs = TheirRequest {
            transactional_id: NullableString(None),
            acks: Int16(-1),
            timeout_ms: Int32(30_000),
            topic_data: vec![ProduceRequestTopicData {
                name: String_("shoes".into()),
                partition_data: vec![
                    ProduceRequestPartitionData {
                        index: Int32(4),
                        records: read(&batch),
                    },
                    ProduceRequestPartitionData {
                        index: Int32(0),
                        records: read(&second),
                    },
                ],
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
