//! Kafka's record batch (message format v2), written as records arrive.
//!
//! Each record is encoded straight into its partition's batch buffer the moment `send` hands it
//! over — no per-record allocation, no intermediate record structs — and the batch header, optional
//! compression and CRC-32C are applied once when the batch closes. The closed batch is immutable
//! bytes, so a retry resends the same bytes without re-encoding or copying the records. Two rare
//! events rewrite a closed batch: an idempotent producer's epoch bump gives it a new producer
//! state ([`restamp`]: header and CRC only), and a batch the topic finds too large is cut in two
//! ([`split`]: its records are read back and encoded again).
//!
//! Layout (<https://kafka.apache.org/documentation/#recordbatch>): baseOffset i64, batchLength i32,
//! partitionLeaderEpoch i32, magic i8 = 2, crc u32 (CRC-32C of everything after it), attributes i16,
//! lastOffsetDelta i32, baseTimestamp i64, maxTimestamp i64, producerId i64, producerEpoch i16,
//! baseSequence i32, record count i32, then the records (compressed as one block if asked).

use std::io::{self, Read, Write};

use bytes::Bytes;

use crate::settings::Compression;

/// Bytes before the first record.
pub(crate) const HEADER_LEN: usize = 61;

const CRC_START: usize = 21;
const ATTRIBUTES: usize = 21;
const BASE_TIMESTAMP: usize = 27;
const PRODUCER_ID: usize = 43;
const PRODUCER_EPOCH: usize = 51;
const BASE_SEQUENCE: usize = 53;
const RECORD_COUNT: usize = 57;

/// The idempotent producer's fields of a batch header: who wrote it and the sequence number of its
/// first record. [`ProducerState::NONE`] (all −1) marks a batch written without idempotence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProducerState {
    pub producer_id: i64,
    pub epoch: i16,
    pub base_sequence: i32,
}

impl ProducerState {
    pub(crate) const NONE: Self = Self {
        producer_id: -1,
        epoch: -1,
        base_sequence: -1,
    };
}

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
    /// A new empty batch whose records are timestamped from `base_timestamp_ms` (ms since the epoch),
    /// with room for `capacity` bytes (header included) before its buffer grows.
    pub(crate) fn new(base_timestamp_ms: i64, capacity: usize) -> Self {
        let mut buf = Vec::with_capacity(capacity.max(HEADER_LEN));
        buf.resize(HEADER_LEN, 0);
        Self {
            buf,
            records: 0,
            payload_bytes: 0,
            base_timestamp_ms,
            max_timestamp_delta_ms: 0,
        }
    }

    pub(crate) fn record_count(&self) -> u32 {
        self.records
    }

    /// Sum of the key and value lengths of the records so far.
    pub(crate) fn payload_bytes(&self) -> u64 {
        self.payload_bytes
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Bytes the batch takes so far, header included (uncompressed).
    pub(crate) fn encoded_len(&self) -> usize {
        self.buf.len()
    }

    /// Bytes the batch's buffer holds (its capacity, not its length).
    #[cfg(test)]
    pub(crate) fn allocated(&self) -> usize {
        self.buf.capacity()
    }

    /// Appends a record created `timestamp_delta_ms` after the batch's base timestamp; returns the
    /// bytes it took.
    pub(crate) fn append(&mut self, timestamp_delta_ms: i64, key: &[u8], value: &[u8]) -> usize {
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

    /// Closes the batch: compresses the records if asked, writes the header (with `producer`'s
    /// fields) and the CRC, and returns the wire bytes, holding no more memory than their length
    /// (the buffer grew by doubling; a closed batch may wait a while for its request).
    pub(crate) fn finish(
        self,
        compression: Compression,
        producer: ProducerState,
    ) -> io::Result<Bytes> {
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
        buf.shrink_to_fit();
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
        header[57..61].copy_from_slice(&(self.records as i32).to_be_bytes());
        write_producer_state(&mut buf, producer);
        Ok(Bytes::from(buf))
    }
}

/// Writes the producer fields into a closed batch and recomputes its CRC.
fn write_producer_state(batch: &mut [u8], producer: ProducerState) {
    batch[PRODUCER_ID..PRODUCER_EPOCH].copy_from_slice(&producer.producer_id.to_be_bytes());
    batch[PRODUCER_EPOCH..BASE_SEQUENCE].copy_from_slice(&producer.epoch.to_be_bytes());
    batch[BASE_SEQUENCE..RECORD_COUNT].copy_from_slice(&producer.base_sequence.to_be_bytes());
    let crc = crc32c::crc32c(&batch[CRC_START..]);
    batch[17..21].copy_from_slice(&crc.to_be_bytes());
}

/// A copy of a closed batch carrying `producer` instead of its producer fields.
pub(crate) fn restamp(batch: &[u8], producer: ProducerState) -> Bytes {
    let mut copy = batch.to_vec();
    write_producer_state(&mut copy, producer);
    Bytes::from(copy)
}

/// The producer fields of a closed batch.
pub fn producer_state(batch: &[u8]) -> ProducerState {
    let i64_at = |at: usize| i64::from_be_bytes(batch[at..at + 8].try_into().expect("8 bytes"));
    let i32_at = |at: usize| i32::from_be_bytes(batch[at..at + 4].try_into().expect("4 bytes"));
    ProducerState {
        producer_id: i64_at(PRODUCER_ID),
        epoch: i16::from_be_bytes([batch[PRODUCER_EPOCH], batch[PRODUCER_EPOCH + 1]]),
        base_sequence: i32_at(BASE_SEQUENCE),
    }
}

/// The number of records in a closed batch.
pub fn record_count(batch: &[u8]) -> u32 {
    u32::from_be_bytes(batch[RECORD_COUNT..HEADER_LEN].try_into().expect("4 bytes"))
}

/// The records of a closed batch, uncompressed.
pub fn records(batch: &[u8]) -> io::Result<Vec<u8>> {
    let body = batch.get(HEADER_LEN..).ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidData, "batch shorter than its header")
    })?;
    let codec = i16::from_be_bytes([batch[ATTRIBUTES], batch[ATTRIBUTES + 1]]) & 0x7;
    let mut out = Vec::with_capacity(body.len() * 2);
    match codec {
        0 => out.extend_from_slice(body),
        1 => {
            flate2::read::GzDecoder::new(body).read_to_end(&mut out)?;
        }
        2 => {
            out = snap::raw::Decoder::new()
                .decompress_vec(body)
                .map_err(io::Error::other)?
        }
        3 => {
            lz4::Decoder::new(body)?.read_to_end(&mut out)?;
        }
        4 => out = zstd::stream::decode_all(body)?,
        other => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("unknown compression codec {other}"),
            ))
        }
    }
    Ok(out)
}

/// One record read back from a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordView<'a> {
    pub timestamp_delta_ms: i64,
    pub key: &'a [u8],
    pub value: &'a [u8],
}

/// Reads the uncompressed records written by [`BatchWriter::append`], in order. Records with
/// headers or a null key or value (never written here) end the iteration with an error.
pub fn read_records(records: &[u8]) -> impl Iterator<Item = io::Result<RecordView<'_>>> {
    let mut rest = records;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let record = read_record(&mut rest);
        if record.is_err() {
            rest = &[];
        }
        Some(record)
    })
}

fn read_record<'a>(rest: &mut &'a [u8]) -> io::Result<RecordView<'a>> {
    let malformed = |what: &str| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("malformed record: {what}"),
        )
    };
    let (len, after) = get_zigzag(rest).ok_or_else(|| malformed("length"))?;
    let len = usize::try_from(len).map_err(|_| malformed("length"))?;
    if len > after.len() || len == 0 {
        return Err(malformed("length"));
    }
    let (mut record, next) = after.split_at(len);
    *rest = next;
    record = &record[1..]; // attributes
    let mut varint = |what: &str| -> io::Result<i64> {
        let (value, after) = get_zigzag(record).ok_or_else(|| malformed(what))?;
        record = after;
        Ok(value)
    };
    let timestamp_delta_ms = varint("timestamp delta")?;
    varint("offset delta")?;
    let key_len = usize::try_from(varint("key length")?).map_err(|_| malformed("null key"))?;
    if key_len > record.len() {
        return Err(malformed("key"));
    }
    let (key, after_key) = record.split_at(key_len);
    record = after_key;
    let mut varint = |what: &str| -> io::Result<i64> {
        let (value, after) = get_zigzag(record).ok_or_else(|| malformed(what))?;
        record = after;
        Ok(value)
    };
    let value_len =
        usize::try_from(varint("value length")?).map_err(|_| malformed("null value"))?;
    if value_len > record.len() {
        return Err(malformed("value"));
    }
    let (value, after_value) = record.split_at(value_len);
    if after_value != [0] {
        return Err(malformed("headers"));
    }
    Ok(RecordView {
        timestamp_delta_ms,
        key,
        value,
    })
}

/// Cuts a closed batch in two, each half with the same base timestamp and the same record
/// timestamps, the first holding the first half of the records (rounded down). The halves are open
/// batches again, to be finished with their own producer state. `None` for a batch of one record.
pub(crate) fn split(batch: &[u8]) -> io::Result<Option<(BatchWriter, BatchWriter)>> {
    let count = record_count(batch) as usize;
    if count < 2 {
        return Ok(None);
    }
    let base_timestamp = i64::from_be_bytes(
        batch[BASE_TIMESTAMP..BASE_TIMESTAMP + 8]
            .try_into()
            .expect("8 bytes"),
    );
    let plain = records(batch)?;
    let half = count / 2;
    let mut halves = (
        BatchWriter::new(base_timestamp, plain.len() / 2 + HEADER_LEN),
        BatchWriter::new(base_timestamp, plain.len() / 2 + HEADER_LEN),
    );
    for (i, record) in read_records(&plain).enumerate() {
        let record = record?;
        let writer = if i < half {
            &mut halves.0
        } else {
            &mut halves.1
        };
        writer.append(record.timestamp_delta_ms, record.key, record.value);
    }
    if halves.0.record_count() as usize + halves.1.record_count() as usize != count {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "the batch holds fewer records than its header says",
        ));
    }
    Ok(Some(halves))
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

    const IDEMPOTENT: ProducerState = ProducerState {
        producer_id: 4_321,
        epoch: 7,
        base_sequence: 1_000,
    };

    fn decode(bytes: &[u8]) -> RecordBatch {
        let mut cursor = std::io::Cursor::new(bytes);
        let batch = RecordBatch::read(&mut cursor).expect("rskafka reads our batch");
        assert_eq!(cursor.position() as usize, bytes.len(), "no trailing bytes");
        batch
    }

    fn decoded_records(batch: &RecordBatch) -> &[Record] {
        match &batch.records {
            ControlBatchOrRecords::Records(r) => r,
            ControlBatchOrRecords::ControlBatch(_) => panic!("not a control batch"),
        }
    }

    fn three_records() -> BatchWriter {
        let mut writer = BatchWriter::new(1_700_000_000_000, 1024);
        writer.append(0, b"1", b"\x00\x00\x00\x00\x01\x00value-one");
        writer.append(3, b"22", b"");
        writer.append(130, b"", b"v");
        writer
    }

    fn rskafka_batch(producer: ProducerState) -> RecordBatch {
        RecordBatch {
            base_offset: 0,
            partition_leader_epoch: -1,
            last_offset_delta: 2,
            first_timestamp: 1_700_000_000_000,
            max_timestamp: 1_700_000_000_130,
            producer_id: producer.producer_id,
            producer_epoch: producer.epoch,
            base_sequence: producer.base_sequence,
            records: ControlBatchOrRecords::Records(vec![
                rec(0, 0, b"1", b"\x00\x00\x00\x00\x01\x00value-one"),
                rec(3, 1, b"22", b""),
                rec(130, 2, b"", b"v"),
            ]),
            compression: RecordBatchCompression::NoCompression,
            is_transactional: false,
            timestamp_type: RecordBatchTimestampType::CreateTime,
        }
    }

    #[test]
    fn uncompressed_batch_is_byte_identical_to_rskafkas_encoder() {
        let ours = three_records()
            .finish(Compression::None, ProducerState::NONE)
            .unwrap();
        let mut expected = Vec::new();
        rskafka_batch(ProducerState::NONE)
            .write(&mut expected)
            .unwrap();
        assert_eq!(hex::encode(&ours), hex::encode(&expected));

        let vector = include_str!("../../../testdata/record_batch_v2.hex")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<String>();
        assert_eq!(hex::encode(&ours), vector.trim());
    }

    #[test]
    fn producer_state_is_written_as_rskafka_writes_it() {
        let ours = three_records()
            .finish(Compression::None, IDEMPOTENT)
            .unwrap();
        let mut expected = Vec::new();
        rskafka_batch(IDEMPOTENT).write(&mut expected).unwrap();
        assert_eq!(hex::encode(&ours), hex::encode(&expected));
        assert_eq!(producer_state(&ours), IDEMPOTENT);
        assert_eq!(record_count(&ours), 3);
    }

    #[test]
    fn restamping_equals_writing_the_state_in_the_first_place() {
        for codec in ALL {
            let plain = three_records().finish(codec, ProducerState::NONE).unwrap();
            let stamped = three_records().finish(codec, IDEMPOTENT).unwrap();
            assert_eq!(restamp(&plain, IDEMPOTENT), stamped, "{codec:?}");
            assert_eq!(restamp(&stamped, ProducerState::NONE), plain, "{codec:?}");
            // rskafka checks the CRC when it reads a batch.
            assert_eq!(decode(&restamp(&plain, IDEMPOTENT)).base_sequence, 1_000);
        }
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
    fn records_are_read_back_in_order_from_every_codec() {
        for codec in ALL {
            let mut writer = BatchWriter::new(0, 0);
            for i in 0..300 {
                writer.append(i, i.to_string().as_bytes(), &[7; 200]);
            }
            let batch = writer.finish(codec, ProducerState::NONE).unwrap();
            let plain = records(&batch).unwrap();
            let read: Vec<RecordView<'_>> = read_records(&plain).map(Result::unwrap).collect();
            assert_eq!(read.len(), 300, "{codec:?}");
            assert_eq!(read[299].key, b"299");
            assert_eq!(read[299].timestamp_delta_ms, 299);
            assert_eq!(read[5].value, &[7; 200]);
        }
    }

    #[test]
    fn a_malformed_record_ends_the_reading_with_an_error() {
        let mut writer = BatchWriter::new(0, 0);
        writer.append(0, b"k", b"v");
        let batch = writer
            .finish(Compression::None, ProducerState::NONE)
            .unwrap();
        let plain = records(&batch).unwrap();
        for cut in 1..plain.len() {
            let read: Vec<_> = read_records(&plain[..cut]).collect();
            assert!(read.last().unwrap().is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn a_single_record_is_not_split() {
        let mut writer = BatchWriter::new(0, 0);
        writer.append(0, b"k", b"v");
        let batch = writer
            .finish(Compression::Lz4, ProducerState::NONE)
            .unwrap();
        assert!(split(&batch).unwrap().is_none());
    }

    proptest! {
        #[test]
        fn every_codec_round_trips_through_rskafkas_decoder(
            base in 0i64..4_000_000_000_000,
            entries in proptest::collection::vec(
                (0i64..100_000, proptest::collection::vec(any::<u8>(), 0..40), proptest::collection::vec(any::<u8>(), 0..300)),
                1..60,
            ),
            sequence in 0i32..i32::MAX,
        ) {
            for codec in ALL {
                let mut writer = BatchWriter::new(base, 0);
                for (ts, key, value) in &entries {
                    writer.append(*ts, key, value);
                }
                let state = ProducerState { producer_id: 9, epoch: 3, base_sequence: sequence };
                let bytes = writer.finish(codec, state).unwrap();
                let batch = decode(&bytes);
                prop_assert_eq!(batch.first_timestamp, base);
                prop_assert_eq!(batch.max_timestamp, base + entries.iter().map(|e| e.0).max().unwrap());
                prop_assert_eq!(batch.last_offset_delta as usize, entries.len() - 1);
                prop_assert_eq!((batch.producer_id, batch.producer_epoch, batch.base_sequence), (9, 3, sequence));
                let decoded = decoded_records(&batch);
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
        fn split_halves_hold_every_record_in_order_with_its_timestamp(
            base in 0i64..4_000_000_000_000,
            entries in proptest::collection::vec(
                (0i64..100_000, proptest::collection::vec(any::<u8>(), 0..20), proptest::collection::vec(any::<u8>(), 0..100)),
                2..40,
            ),
        ) {
            for codec in ALL {
                let mut writer = BatchWriter::new(base, 0);
                for (ts, key, value) in &entries {
                    writer.append(*ts, key, value);
                }
                let whole = writer.finish(codec, ProducerState::NONE).unwrap();
                let (first, second) = split(&whole).unwrap().expect("two or more records");
                prop_assert_eq!(first.record_count() as usize, entries.len() / 2);
                let mut read_back = Vec::new();
                for half in [first, second] {
                    let batch = decode(&half.finish(codec, ProducerState::NONE).unwrap());
                    prop_assert_eq!(batch.first_timestamp, base);
                    for record in decoded_records(&batch) {
                        read_back.push((record.timestamp_delta, record.key.clone().unwrap(), record.value.clone().unwrap()));
                    }
                }
                prop_assert_eq!(&read_back, &entries);
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
