//! Confluent's wire format for Protobuf values: `0x00` | schema id (u32 big-endian) | message indexes |
//! Protobuf payload.
//!
//! Any Confluent-compatible consumer (Java, Go, ksqlDB, Connect) reads the schema id to fetch the schema
//! and the message indexes to pick the message type inside the `.proto` file, so the header has to match
//! Confluent's serializer byte for byte. The header of a run never changes (one schema id, one message),
//! so [`Framer`] encodes it once and each record costs one copy of a few bytes plus the prost encoding,
//! written straight into the caller's buffer. [`decode`] reads the same format back (tests, `check`) and
//! returns typed errors instead of panicking on malformed input.

use prost::Message;

use crate::shoe::schema;

/// First byte of every framed value: Confluent's wire-format version.
pub(crate) const MAGIC_BYTE: u8 = 0x00;

/// Bytes before the message indexes: the magic byte and the 4-byte schema id.
const MAGIC_AND_ID_LEN: usize = 5;

/// The longest varint a 32-bit value takes (7 bits per byte).
const MAX_VARINT32_LEN: usize = 5;

/// Writes a message-index path the way Confluent's serializer does: `[0]` (the file's first message)
/// as the single byte `0x00`; any other path as its length then each index, all zigzag varints.
///
/// An empty path is written as `[0]`, the only meaning Confluent's deserializer gives a zero count.
pub(crate) fn write_message_indexes(path: &[i32], out: &mut Vec<u8>) {
    if path.is_empty() || path == [0] {
        out.push(0x00);
        return;
    }
    // A path longer than i32::MAX cannot exist in a descriptor; saturate rather than wrap.
    write_zigzag_varint(i32::try_from(path.len()).unwrap_or(i32::MAX), out);
    for &index in path {
        write_zigzag_varint(index, out);
    }
}

fn write_zigzag_varint(value: i32, out: &mut Vec<u8>) {
    let mut zigzag = ((value << 1) ^ (value >> 31)) as u32;
    while zigzag >= 0x80 {
        out.push((zigzag as u8) | 0x80);
        zigzag >>= 7;
    }
    out.push(zigzag as u8);
}

/// Frames values for one schema id and message path; build it once per run and reuse it per record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Framer {
    header: Vec<u8>,
}

impl Framer {
    /// A framer for the message at `message_indexes` (see [`write_message_indexes`]) of schema `schema_id`.
    pub fn new(schema_id: u32, message_indexes: &[i32]) -> Self {
        let mut header = Vec::with_capacity(MAGIC_AND_ID_LEN + 1);
        header.push(MAGIC_BYTE);
        header.extend_from_slice(&schema_id.to_be_bytes());
        write_message_indexes(message_indexes, &mut header);
        Self { header }
    }

    /// A framer for `Shoe` under `schema_id`, with the message indexes taken from the compiled descriptor.
    pub fn for_shoe(schema_id: u32) -> Self {
        Self::new(schema_id, &schema::shoe_schema().message_indexes)
    }

    /// The bytes written before every payload.
    pub fn header(&self) -> &[u8] {
        &self.header
    }

    /// The exact length [`Framer::frame_into`] produces for `message`.
    pub fn framed_len<M: Message>(&self, message: &M) -> usize {
        self.header.len() + message.encoded_len()
    }

    /// Replaces the contents of `out` with the framed `message`. Reusing `out` across records avoids
    /// any allocation once it has grown to the largest record; the payload is encoded in place.
    pub fn frame_into<M: Message>(&self, message: &M, out: &mut Vec<u8>) {
        out.clear();
        self.append_framed(message, out);
    }

    /// Appends the framed `message` to `out` (for callers packing several values into one buffer).
    /// `out` grows as needed; no size is computed up front, since prost's `encode` computes the
    /// payload length itself and a reused buffer already has room.
    pub(crate) fn append_framed<M: Message>(&self, message: &M, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.header);
        message
            .encode(out)
            .expect("a Vec<u8> grows to fit any message, so prost's capacity check cannot fail");
    }

    /// The framed `message` in a new vector of exactly the right capacity (one allocation).
    pub fn frame_to_vec<M: Message>(&self, message: &M) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.framed_len(message));
        self.append_framed(message, &mut out);
        out
    }
}

/// Why bytes are not a Confluent-framed Protobuf value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("not Confluent wire format: first byte is {found:#04x}, expected the magic byte 0x00")]
    BadMagic { found: u8 },
    #[error("framed value truncated: {len} bytes end inside the {part}")]
    Truncated { part: &'static str, len: usize },
    #[error("invalid varint in the message indexes at byte {offset}: more than 32 bits")]
    BadVarint { offset: usize },
    #[error("invalid message-index count {count} at byte {offset}")]
    BadIndexCount { count: i32, offset: usize },
    #[error("framed payload is not a valid Protobuf message of the expected type: {0}")]
    Payload(#[from] prost::DecodeError),
}

/// A framed value split into its parts; `payload` borrows from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Framed<'a> {
    pub schema_id: u32,
    pub message_indexes: Vec<i32>,
    pub payload: &'a [u8],
}

impl Framed<'_> {
    /// Decodes the payload as the message type `M` (usually [`crate::shoe::Shoe`]).
    pub fn decode_payload<M: Message + Default>(&self) -> Result<M, WireError> {
        Ok(M::decode(self.payload)?)
    }
}

/// Splits a framed value into schema id, message indexes and payload. Never panics: malformed input
/// of any length gives a [`WireError`].
pub fn decode(bytes: &[u8]) -> Result<Framed<'_>, WireError> {
    let Some(&magic) = bytes.first() else {
        return Err(WireError::Truncated {
            part: "magic byte",
            len: 0,
        });
    };
    if magic != MAGIC_BYTE {
        return Err(WireError::BadMagic { found: magic });
    }
    let Some(id_bytes) = bytes.get(1..MAGIC_AND_ID_LEN) else {
        return Err(WireError::Truncated {
            part: "schema id",
            len: bytes.len(),
        });
    };
    let schema_id = u32::from_be_bytes(id_bytes.try_into().expect("slice of length 4"));

    let mut reader = VarintReader {
        bytes,
        offset: MAGIC_AND_ID_LEN,
    };
    let count_offset = reader.offset;
    let count = reader.read_zigzag("message-index count")?;
    let message_indexes = match count {
        0 => vec![0],
        count if count < 0 => {
            return Err(WireError::BadIndexCount {
                count,
                offset: count_offset,
            })
        }
        count => {
            // Every index takes at least one byte: a count beyond the remaining bytes is a truncation,
            // caught before allocating for it.
            let count = count as usize;
            if count > bytes.len() - reader.offset {
                return Err(WireError::Truncated {
                    part: "message indexes",
                    len: bytes.len(),
                });
            }
            let mut indexes = Vec::with_capacity(count);
            for _ in 0..count {
                indexes.push(reader.read_zigzag("message indexes")?);
            }
            indexes
        }
    };
    Ok(Framed {
        schema_id,
        message_indexes,
        payload: &bytes[reader.offset..],
    })
}

/// Reads zigzag varints of at most 32 bits, as Confluent's `ByteUtils.readVarint` writes them.
struct VarintReader<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl VarintReader<'_> {
    fn read_zigzag(&mut self, part: &'static str) -> Result<i32, WireError> {
        let start = self.offset;
        let mut value: u32 = 0;
        for position in 0..MAX_VARINT32_LEN {
            let Some(&byte) = self.bytes.get(start + position) else {
                return Err(WireError::Truncated {
                    part,
                    len: self.bytes.len(),
                });
            };
            let bits = u32::from(byte & 0x7f);
            // The fifth byte holds the top 4 bits of a u32; anything more does not fit 32 bits.
            if position == MAX_VARINT32_LEN - 1 && byte > 0x0f {
                return Err(WireError::BadVarint { offset: start });
            }
            value |= bits << (7 * position);
            if byte & 0x80 == 0 {
                self.offset = start + position + 1;
                return Ok(((value >> 1) as i32) ^ -((value & 1) as i32));
            }
        }
        Err(WireError::BadVarint { offset: start })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shoe::Shoe;
    use proptest::prelude::*;

    fn indexes_bytes(path: &[i32]) -> Vec<u8> {
        let mut out = Vec::new();
        write_message_indexes(path, &mut out);
        out
    }

    #[test]
    fn first_message_is_the_single_zero_byte() {
        assert_eq!(indexes_bytes(&[0]), [0x00]);
        assert_eq!(indexes_bytes(&[]), [0x00]);
    }

    #[test]
    fn other_paths_are_zigzag_count_then_indexes() {
        // count 1 → zigzag 2; index 1 → zigzag 2.
        assert_eq!(indexes_bytes(&[1]), [0x02, 0x02]);
        // count 2 → 4; 0 → 0; 64 → zigzag 128 → varint 0x80 0x01.
        assert_eq!(indexes_bytes(&[0, 64]), [0x04, 0x00, 0x80, 0x01]);
        // -1 → zigzag 1.
        assert_eq!(indexes_bytes(&[-1]), [0x02, 0x01]);
        // i32::MIN → zigzag u32::MAX → five bytes.
        assert_eq!(
            indexes_bytes(&[i32::MIN]),
            [0x02, 0xff, 0xff, 0xff, 0xff, 0x0f]
        );
    }

    #[test]
    fn shoe_framer_header_is_magic_id_and_zero_index() {
        let framer = Framer::for_shoe(0x0001_86a1);
        assert_eq!(framer.header(), [0x00, 0x00, 0x01, 0x86, 0xa1, 0x00]);
    }

    #[test]
    fn frame_into_replaces_buffer_and_matches_framed_len() {
        let framer = Framer::for_shoe(7);
        let shoe = Shoe {
            id: 5,
            brand: "Hoka".into(),
            name: "Clifton 9".into(),
            sale_price: 144.95,
            rating: 4.6,
        };
        let mut out = vec![0xaa; 100];
        framer.frame_into(&shoe, &mut out);
        assert_eq!(out.len(), framer.framed_len(&shoe));
        assert_eq!(&out[..6], framer.header());
        assert_eq!(&out[6..], shoe.encode_to_vec().as_slice());
        assert_eq!(framer.frame_to_vec(&shoe), out);
    }

    #[test]
    fn rejects_malformed_headers() {
        assert_eq!(
            decode(&[]),
            Err(WireError::Truncated {
                part: "magic byte",
                len: 0
            })
        );
        assert_eq!(
            decode(&[0x01, 0, 0, 0, 1, 0]),
            Err(WireError::BadMagic { found: 1 })
        );
        assert_eq!(
            decode(&[0x00, 0, 0, 1]),
            Err(WireError::Truncated {
                part: "schema id",
                len: 4
            })
        );
        assert_eq!(
            decode(&[0x00, 0, 0, 0, 1]),
            Err(WireError::Truncated {
                part: "message-index count",
                len: 5
            })
        );
        // Six continuation bytes: longer than any 32-bit varint.
        assert_eq!(
            decode(&[0x00, 0, 0, 0, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]),
            Err(WireError::BadVarint { offset: 5 })
        );
        // Fifth byte above 0x0f: the value needs more than 32 bits.
        assert_eq!(
            decode(&[0x00, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0x1f]),
            Err(WireError::BadVarint { offset: 5 })
        );
        // Count -1 (zigzag 1).
        assert_eq!(
            decode(&[0x00, 0, 0, 0, 1, 0x01]),
            Err(WireError::BadIndexCount {
                count: -1,
                offset: 5
            })
        );
        // Count 3 but only two bytes follow.
        assert_eq!(
            decode(&[0x00, 0, 0, 0, 1, 0x06, 0x02, 0x02]),
            Err(WireError::Truncated {
                part: "message indexes",
                len: 8
            })
        );
    }

    #[test]
    fn header_only_value_is_an_empty_payload() {
        let framed = decode(&[0x00, 0, 0, 0, 9, 0x00]).unwrap();
        assert_eq!(framed.schema_id, 9);
        assert_eq!(framed.message_indexes, vec![0]);
        assert!(framed.payload.is_empty());
        assert_eq!(framed.decode_payload::<Shoe>().unwrap(), Shoe::default());
    }

    #[test]
    fn invalid_payload_is_a_payload_error() {
        // Field 2 (brand) claims 5 bytes; none follow.
        let framed = decode(&[0x00, 0, 0, 0, 9, 0x00, 0x12, 0x05]).unwrap();
        assert!(matches!(
            framed.decode_payload::<Shoe>(),
            Err(WireError::Payload(_))
        ));
    }

    fn any_shoe() -> impl Strategy<Value = Shoe> {
        (
            any::<i64>(),
            ".*",
            ".*",
            any::<f64>().prop_filter("NaN never equals itself", |v| !v.is_nan()),
            any::<f64>().prop_filter("NaN never equals itself", |v| !v.is_nan()),
        )
            .prop_map(|(id, brand, name, sale_price, rating)| Shoe {
                id,
                brand,
                name,
                sale_price,
                rating,
            })
    }

    proptest! {
        #[test]
        fn decode_inverts_frame(
            shoe in any_shoe(),
            schema_id in any::<u32>(),
            path in prop::collection::vec(any::<i32>(), 1..8),
        ) {
            let framer = Framer::new(schema_id, &path);
            let mut bytes = Vec::new();
            framer.frame_into(&shoe, &mut bytes);
            prop_assert_eq!(bytes.len(), framer.framed_len(&shoe));
            let framed = decode(&bytes).unwrap();
            prop_assert_eq!(framed.schema_id, schema_id);
            prop_assert_eq!(&framed.message_indexes, &path);
            prop_assert_eq!(framed.decode_payload::<Shoe>().unwrap(), shoe);
        }

        #[test]
        fn decode_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(framed) = decode(&bytes) {
                let _ = framed.decode_payload::<Shoe>();
            }
        }

        #[test]
        fn decode_never_panics_after_a_valid_prefix(
            tail in prop::collection::vec(any::<u8>(), 0..32),
        ) {
            let mut bytes = vec![0x00, 0x00, 0x01, 0x86, 0xa1];
            bytes.extend_from_slice(&tail);
            if let Ok(framed) = decode(&bytes) {
                prop_assert!(!framed.message_indexes.is_empty());
                let _ = framed.decode_payload::<Shoe>();
            }
        }
    }
}
