//! The `InitProducerId` request and response (API key 22).
//!
//! rskafka has no type for this request, so it is written here against rskafka's message traits and
//! plugs into its `Messenger` like rskafka's own.

use std::io::{Read, Write};

use rskafka::{
    client::error::ProtocolError,
    protocol::{
        api_key::ApiKey,
        api_version::{ApiVersion, ApiVersionRange},
        messages::{
            ReadVersionedError, ReadVersionedType, RequestBody, WriteVersionedError,
            WriteVersionedType,
        },
        primitives::{CompactNullableStringRef, Int16, Int32, Int64, NullableString, TaggedFields},
        traits::{ReadType, WriteType},
    },
};

use crate::kafka::ProducerIdAndEpoch;

/// The request body. `producer` (v3+) names the id and epoch to continue, for a transactional id;
/// without one the broker hands out a new id whatever is written here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InitProducerIdRequest {
    pub transactional_id: Option<String>,
    pub transaction_timeout_ms: i32,
    pub producer: Option<ProducerIdAndEpoch>,
}

impl InitProducerIdRequest {
    /// What an idempotent (non-transactional) producer asks, as the Java client does.
    pub(crate) fn idempotent() -> Self {
        Self {
            transactional_id: None,
            transaction_timeout_ms: i32::MAX,
            producer: None,
        }
    }
}

/// The response body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InitProducerIdResponse {
    pub throttle_time_ms: i32,
    pub error: Option<ProtocolError>,
    pub producer: ProducerIdAndEpoch,
}

impl RequestBody for InitProducerIdRequest {
    type ResponseBody = InitProducerIdResponse;
    const API_KEY: ApiKey = ApiKey::InitProducerId;
    /// v5 is the newest stable version (v6 adds two-phase-commit fields); v2 is the first flexible one.
    const API_VERSION_RANGE: ApiVersionRange =
        ApiVersionRange::new(ApiVersion(Int16(0)), ApiVersion(Int16(5)));
    const FIRST_TAGGED_FIELD_IN_REQUEST_VERSION: ApiVersion = ApiVersion(Int16(2));
}

impl<W: Write> WriteVersionedType<W> for InitProducerIdRequest {
    fn write_versioned(
        &self,
        writer: &mut W,
        version: ApiVersion,
    ) -> Result<(), WriteVersionedError> {
        let v = version.0 .0;
        assert!((0..=5).contains(&v), "InitProducerId v{v} is not supported");
        if v >= 2 {
            CompactNullableStringRef(self.transactional_id.as_deref()).write(writer)?;
        } else {
            NullableString(self.transactional_id.clone()).write(writer)?;
        }
        Int32(self.transaction_timeout_ms).write(writer)?;
        match (self.producer, v >= 3) {
            (Some(producer), true) => {
                Int64(producer.id).write(writer)?;
                Int16(producer.epoch).write(writer)?;
            }
            (None, true) => {
                Int64(-1).write(writer)?;
                Int16(-1).write(writer)?;
            }
            (None, false) => {}
            (Some(_), false) => {
                return Err(WriteVersionedError::FieldNotAvailable {
                    field: "producer_id".into(),
                    version,
                })
            }
        }
        if v >= 2 {
            TaggedFields::default().write(writer)?;
        }
        Ok(())
    }
}

impl<R: Read> ReadVersionedType<R> for InitProducerIdResponse {
    fn read_versioned(reader: &mut R, version: ApiVersion) -> Result<Self, ReadVersionedError> {
        let v = version.0 .0;
        assert!((0..=5).contains(&v), "InitProducerId v{v} is not supported");
        let throttle_time_ms = Int32::read(reader)?.0;
        let error = ProtocolError::new(Int16::read(reader)?.0);
        let id = Int64::read(reader)?.0;
        let epoch = Int16::read(reader)?.0;
        if v >= 2 {
            TaggedFields::read(reader)?;
        }
        Ok(Self {
            throttle_time_ms,
            error,
            producer: ProducerIdAndEpoch { id, epoch },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `name version hex` lines of `testdata/init_producer_id.txt`, written from Kafka's message
    /// specs (`InitProducerIdRequest.json`, `InitProducerIdResponse.json`).
    fn vectors() -> Vec<(String, i16, Vec<u8>)> {
        include_str!("../../../testdata/init_producer_id.txt")
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(|line| {
                let mut parts = line.split_whitespace();
                let name = parts.next().unwrap().to_owned();
                let version = parts
                    .next()
                    .unwrap()
                    .trim_start_matches('v')
                    .parse()
                    .unwrap();
                let hex: String = parts.collect();
                (name, version, hex::decode(hex).unwrap())
            })
            .collect()
    }

    fn request(name: &str) -> InitProducerIdRequest {
        match name {
            "request-idempotent" => InitProducerIdRequest::idempotent(),
            "request-continue" => InitProducerIdRequest {
                transactional_id: Some("tx".into()),
                transaction_timeout_ms: 60_000,
                producer: Some(ProducerIdAndEpoch { id: 1234, epoch: 5 }),
            },
            other => panic!("unknown request vector {other}"),
        }
    }

    fn response(name: &str) -> InitProducerIdResponse {
        match name {
            "response-ok" => InitProducerIdResponse {
                throttle_time_ms: 0,
                error: None,
                producer: ProducerIdAndEpoch { id: 1000, epoch: 0 },
            },
            "response-denied" => InitProducerIdResponse {
                throttle_time_ms: 7,
                error: Some(ProtocolError::ClusterAuthorizationFailed),
                producer: ProducerIdAndEpoch { id: -1, epoch: -1 },
            },
            other => panic!("unknown response vector {other}"),
        }
    }

    #[test]
    fn requests_encode_byte_for_byte_as_the_spec_says() {
        let mut seen = 0;
        for (name, version, bytes) in vectors() {
            if !name.starts_with("request") {
                continue;
            }
            let mut written = Vec::new();
            request(&name)
                .write_versioned(&mut written, ApiVersion(Int16(version)))
                .unwrap();
            assert_eq!(
                hex::encode(&written),
                hex::encode(&bytes),
                "{name} v{version}"
            );
            seen += 1;
        }
        assert_eq!(
            seen, 9,
            "versions 0-5 of the first request, 3-5 of the second"
        );
    }

    #[test]
    fn a_producer_id_is_refused_before_v3_as_kafkas_own_encoder_does() {
        for version in 0..3 {
            let written = request("request-continue")
                .write_versioned(&mut Vec::new(), ApiVersion(Int16(version)));
            assert!(
                matches!(written, Err(WriteVersionedError::FieldNotAvailable { .. })),
                "v{version}: {written:?}"
            );
        }
    }

    #[test]
    fn responses_decode_byte_for_byte_as_the_spec_says() {
        let mut seen = 0;
        for (name, version, bytes) in vectors() {
            if !name.starts_with("response") {
                continue;
            }
            let mut cursor = std::io::Cursor::new(&bytes[..]);
            let decoded =
                InitProducerIdResponse::read_versioned(&mut cursor, ApiVersion(Int16(version)))
                    .unwrap();
            assert_eq!(
                cursor.position() as usize,
                bytes.len(),
                "{name} v{version}: trailing bytes"
            );
            assert_eq!(decoded, response(&name), "{name} v{version}");
            seen += 1;
        }
        assert_eq!(seen, 12, "every version 0-5 of both responses");
    }

    #[test]
    fn a_truncated_response_is_an_error_not_a_panic() {
        for (name, version, bytes) in vectors() {
            if !name.starts_with("response") {
                continue;
            }
            for cut in 0..bytes.len() {
                let mut cursor = std::io::Cursor::new(&bytes[..cut]);
                assert!(
                    InitProducerIdResponse::read_versioned(&mut cursor, ApiVersion(Int16(version)))
                        .is_err(),
                    "{name} v{version} cut at {cut}"
                );
            }
        }
    }
}
