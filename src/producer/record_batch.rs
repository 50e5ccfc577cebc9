//! Kafka's record batch (message format v2), written as records arrive.
//!
//! Each record is encoded straight into its partition's batch buffer the moment `send` hands it
//! over — no per-record allocation, no intermediate record structs — and the batch header, optional
//! compression and CRC-32C are applied once when the batch closes. The closed batch is immutable
//! bytes, so a retry resends the same bytes without re-encoding or copying the records.
//!
//! Layout (<https://kafka.apache.org/documentation/#recordbatch>): baseOffset i64, batchLength i32,
//! partitionLeaderEpoch i32, magic i8 = 2, crc u32 (CRC-32C of everything after it), attributes i16,
//! lastOffsetDelta i32, baseTimestamp i64, maxTimestamp i64, producerId i64, producerEpoch i16,
//! baseSequence i32, record count i32, then the records (compressed as one block if asked).

use std::io::Write;

use bytes::Bytes;

use crate::app::settings::Compression;

/// Bytes before the first record.
pub(crate) const HEADER_LEN: usize = 61;

const CRC_START: usize = 21;

/// The most bytes [`BatchWriter::append`] can take for a record with this key and value: exact but
/// for the timestamp and offset deltas, which are counted at their largest (10 and 5 bytes).
pub(crate) fn max_record_len(key_len: usize, value_len: usize) -> usize {
    let body_len = 1
        + 10
        + 5
        + zigzag_len(key_len as i64)
        + key_len
        + zigzag_len(value_len as i64)
        + value_len
        + 1;
    zigzag_len(body_len as i64) + body_len
}

/// A batch being filled: the encoded records of one partition, in send order.
#[derive(Debug)]
pub(crate) struct BatchWriter {
    buf: Vec<u8>,
    records: u32,
    /// Sum of key and value lengths.
    payload_bytes: u64,
    base_timestamp_ms: i64,
    max_timestamp_delta_ms: i64,
}

impl BatchWriter {
    /// A new empty batch whose records are timestamped from `base_timestamp_ms` (ms since the epoch).
    pub fn new(base_timestamp_ms: i64, capacity: usize) -> Self {
        let mut buf = Vec::with_capacity(capacity.max(HEADER_LEN + 64));
        buf.resize(HEADER_LEN, 0);
        Self {
            buf,
            records: 0,
            payload_bytes: 0,
            base_timestamp_ms,
            max_timestamp_delta_ms: 0,
        }
    }

    pub fn record_count(&self) -> u32 {
        self.records
    }

    /// Sum of the key and value lengths of the records so far.
    pub fn payload_bytes(&self) -> u64 {
        self.payload_bytes
    }

    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Bytes the batch takes so far, header included (uncompressed).
    pub fn encoded_len(&self) -> usize {
        self.buf.len()
    }

    /// Appends a record created `timestamp_delta_ms` after the batch's base timestamp; returns the
    /// bytes it took.
    pub fn append(&mut self, timestamp_delta_ms: i64, key: &[u8], value: &[u8]) -> usize {
        let offset_delta = self.records as i64;
        let key_len = key.len() as i64;
        let value_len = value.len() as i64;
        let body_len = 1
            + zigzag_len(timestamp_delta_ms)
            + zigzag_len(offset_delta)
            + zigzag_len(key_len)
            + key.len()
            + zigzag_len(value_len)
            + value.len()
            + 1;
        let buf = &mut self.buf;
        let start = buf.len();
        buf.reserve(body_len + 5);
        put_zigzag(buf, body_len as i64);
        buf.push(0); // attributes: unused
        put_zigzag(buf, timestamp_delta_ms);
        put_zigzag(buf, offset_delta);
        put_zigzag(buf, key_len);
        buf.extend_from_slice(key);
        put_zigzag(buf, value_len);
        buf.extend_from_slice(value);
        buf.push(0); // header count: 0
        self.records += 1;
        self.payload_bytes += (key.len() + value.len()) as u64;
        self.max_timestamp_delta_ms = self.max_timestamp_delta_ms.max(timestamp_delta_ms);
        buf.len() - start
    }

    /// The uncompressed records, for reading keys back (debug logging).
    pub fn records_bytes(&self) -> &[u8] {
        &self.buf[HEADER_LEN..]
    }

    /// Closes the batch: compresses the records if asked, writes the header and the CRC, and
    /// returns the wire bytes.
    pub fn finish(self, compression: Compression) -> Result<Bytes, std::io::Error> {
        assert!(self.records > 0, "an empty batch is never sent");
        let mut buf = match compression {
            Compression::None => self.buf,
            codec => {
                let mut out = Vec::with_capacity(HEADER_LEN + self.buf.len() / 2);
                out.resize(HEADER_LEN, 0);
                compress(codec, &self.buf[HEADER_LEN..], &mut out)?;
                out
            }
        };
        let batch_length = (buf.len() - 12) as i32;
        let header = &mut buf[..HEADER_LEN];
        header[0..8].copy_from_slice(&0i64.to_be_bytes()); // baseOffset: the broker assigns it
        header[8..12].copy_from_slice(&batch_length.to_be_bytes());
        header[12..16].copy_from_slice(&(-1i32).to_be_bytes()); // partitionLeaderEpoch: unknown
        header[16] = 2; // magic
        header[21..23].copy_from_slice(&codec_id(compression).to_be_bytes());
        header[23..27].copy_from_slice(&(self.records as i32 - 1).to_be_bytes());
        header[27..35].copy_from_slice(&self.base_timestamp_ms.to_be_bytes());
        let max_timestamp = self.base_timestamp_ms + self.max_timestamp_delta_ms;
        header[35..43].copy_from_slice(&max_timestamp.to_be_bytes());
        header[43..51].copy_from_slice(&(-1i64).to_be_bytes()); // producerId: none (no idempotence)
        header[51..53].copy_from_slice(&(-1i16).to_be_bytes()); // producerEpoch
        header[53..57].copy_from_slice(&(-1i32).to_be_bytes()); // baseSequence
        header[57..61].copy_from_slice(&(self.records as i32).to_be_bytes());
        let crc = crc32c::crc32c(&buf[CRC_START..]);
        buf[17..21].copy_from_slice(&crc.to_be_bytes());
        Ok(Bytes::from(buf))
    }
}

/// The compression codec id in the batch attributes (bits 0-2).
fn codec_id(compression: Compression) -> i16 {
    match compression {
        Compression::None => 0,
        Compression::Gzip => 1,
        Compression::Snappy => 2,
        Compression::Lz4 => 3,
        Compression::Zstd => 4,
    }
}

/// Compresses `records` as Kafka's clients do for v2 batches and appends the result to `out`.
fn compress(codec: Compression, records: &[u8], out: &mut Vec<u8>) -> std::io::Result<()> {
    match codec {
        Compression::None => out.extend_from_slice(records),
        Compression::Gzip => {
            let mut encoder = flate2::write::GzEncoder::new(out, flate2::Compression::default());
            encoder.write_all(records)?;
            encoder.finish()?;
        }
        Compression::Lz4 => {
            // The LZ4 frame format with independent blocks: the only kind Kafka reads.
            let mut encoder = lz4::EncoderBuilder::new()
                .block_mode(lz4::BlockMode::Independent)
                .build(out)?;
            encoder.write_all(records)?;
            let (_, result) = encoder.finish();
            result?;
        }
        Compression::Snappy => {
            // Raw (unframed) snappy, as librdkafka writes and every Kafka broker reads for v2.
            let start = out.len();
            out.resize(start + snap::raw::max_compress_len(records.len()), 0);
            let written = snap::raw::Encoder::new()
                .compress(records, &mut out[start..])
                .map_err(std::io::Error::other)?;
            out.truncate(start + written);
        }
        Compression::Zstd => {
            let compressed = zstd::bulk::compress(records, 3)?;
            out.extend_from_slice(&compressed);
        }
    }
    Ok(())
}

fn zigzag_len(value: i64) -> usize {
    let mut v = ((value << 1) ^ (value >> 63)) as u64;
    let mut len = 1;
    while v >= 0x80 {
        v >>= 7;
        len += 1;
    }
    len
}

fn put_zigzag(buf: &mut Vec<u8>, value: i64) {
    let mut v = ((value << 1) ^ (value >> 63)) as u64;
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

/// Reads the keys of uncompressed records written by [`BatchWriter::append`], in order.
pub(crate) fn keys(records: &[u8]) -> Vec<&[u8]> {
    let mut keys = Vec::new();
    let mut rest = records;
    while !rest.is_empty() {
        let Some((len, after_len)) = get_zigzag(rest) else {
            break;
        };
        let (record, next) = after_len.split_at((len as usize).min(after_len.len()));
        rest = next;
        let mut cursor = &record[1..]; // attributes
        for _ in 0..2 {
            // timestamp delta, offset delta
            cursor = get_zigzag(cursor).map(|(_, r)| r).unwrap_or_default();
        }
        if let Some((key_len, after)) = get_zigzag(cursor) {
            if key_len >= 0 && key_len as usize <= after.len() {
                keys.push(&after[..key_len as usize]);
            }
        }
    }
    keys
}

fn get_zigzag(buf: &[u8]) -> Option<(i64, &[u8])> {
    let mut value: u64 = 0;
    for (i, &byte) in buf.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            let decoded = ((value >> 1) as i64) ^ -((value & 1) as i64);
            return Some((decoded, &buf[i + 1..]));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rskafka::protocol::{
        record::{
            ControlBatchOrRecords, Record, RecordBatch, RecordBatchCompression,
            RecordBatchTimestampType,
        },
        traits::{ReadType, WriteType},
    };

    const ALL: [Compression; 5] = [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];

    fn decode(bytes: &[u8]) -> RecordBatch {
        let mut cursor = std::io::Cursor::new(bytes);
        let batch = RecordBatch::read(&mut cursor).expect("rskafka reads our batch");
        assert_eq!(cursor.position() as usize, bytes.len(), "no trailing bytes");
        batch
    }

    fn records(batch: &RecordBatch) -> &[Record] {
        match &batch.records {
            ControlBatchOrRecords::Records(r) => r,
            ControlBatchOrRecords::ControlBatch(_) => panic!("not a control batch"),
        }
    }

    #[test]
    fn uncompressed_batch_is_byte_identical_to_rskafkas_encoder() {
        let mut writer = BatchWriter::new(1_700_000_000_000, 1024);
        writer.append(0, b"1", b"\x00\x00\x00\x00\x01\x00value-one");
        writer.append(3, b"22", b"");
        writer.append(130, b"", b"v");
        let ours = writer.finish(Compression::None).unwrap();

        let theirs = RecordBatch {
            base_offset: 0,
            partition_leader_epoch: -1,
            last_offset_delta: 2,
            first_timestamp: 1_700_000_000_000,
            max_timestamp: 1_700_000_000_130,
            producer_id: -1,
            producer_epoch: -1,
            base_sequence: -1,
            records: ControlBatchOrRecords::Records(vec![
                rec(0, 0, b"1", b"\x00\x00\x00\x00\x01\x00value-one"),
                rec(3, 1, b"22", b""),
                rec(130, 2, b"", b"v"),
            ]),
            compression: RecordBatchCompression::NoCompression,
            is_transactional: false,
            timestamp_type: RecordBatchTimestampType::CreateTime,
        };
        let mut expected = Vec::new();
        theirs.write(&mut expected).unwrap();
        assert_eq!(hex::encode(&ours), hex::encode(&expected));

        let vector = include_str!("../../testdata/record_batch_v2.hex")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<String>();
        assert_eq!(hex::encode(&ours), vector.trim());
    }

    fn rec(ts: i64, offset: i32, key: &[u8], value: &[u8]) -> Record {
        Record {
            timestamp_delta: ts,
            offset_delta: offset,
            key: Some(key.to_vec()),
            value: Some(value.to_vec()),
            headers: vec![],
        }
    }

    #[test]
    fn keys_are_read_back_in_order() {
        let mut writer = BatchWriter::new(0, 0);
        for i in 0..300 {
            writer.append(i, i.to_string().as_bytes(), &[7; 200]);
        }
        let keys = keys(writer.records_bytes());
        assert_eq!(keys.len(), 300);
        assert_eq!(keys[299], b"299");
    }

    proptest! {
        #[test]
        fn every_codec_round_trips_through_rskafkas_decoder(
            base in 0i64..4_000_000_000_000,
            entries in proptest::collection::vec(
                (0i64..100_000, proptest::collection::vec(any::<u8>(), 0..40), proptest::collection::vec(any::<u8>(), 0..300)),
                1..60,
            ),
        ) {
            for codec in ALL {
                let mut writer = BatchWriter::new(base, 0);
                for (ts, key, value) in &entries {
                    writer.append(*ts, key, value);
                }
                let bytes = writer.finish(codec).unwrap();
                let batch = decode(&bytes);
                prop_assert_eq!(batch.first_timestamp, base);
                prop_assert_eq!(batch.max_timestamp, base + entries.iter().map(|e| e.0).max().unwrap());
                prop_assert_eq!(batch.last_offset_delta as usize, entries.len() - 1);
                prop_assert_eq!(batch.producer_id, -1);
                let decoded = records(&batch);
                prop_assert_eq!(decoded.len(), entries.len());
                for (i, ((ts, key, value), record)) in entries.iter().zip(decoded).enumerate() {
                    prop_assert_eq!(record.offset_delta as usize, i);
                    prop_assert_eq!(record.timestamp_delta, *ts);
                    prop_assert_eq!(record.key.as_deref(), Some(key.as_slice()));
                    prop_assert_eq!(record.value.as_deref(), Some(value.as_slice()));
                    prop_assert!(record.headers.is_empty());
                }
            }
        }

        #[test]
        fn record_overhead_bound_holds(ts in any::<i64>(), key_len in 0usize..300, value_len in 0usize..3000) {
            let mut writer = BatchWriter::new(0, 0);
            let taken = writer.append(ts, &vec![1; key_len], &vec![2; value_len]);
            prop_assert_eq!(writer.encoded_len() - HEADER_LEN, taken);
            prop_assert!(taken <= max_record_len(key_len, value_len));
            // Counting both deltas at their largest costs at most 13 bytes over the exact size.
            prop_assert!(max_record_len(key_len, value_len) <= taken + 13);
        }
    }
}
