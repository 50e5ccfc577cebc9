//! Checks the framing against the hand-derived byte vectors in `testdata/wire_vectors.txt`: each
//! `[frame]` vector must encode to exactly its bytes and decode back, each `[reject]` vector must fail
//! with the named error.

use shoe_producer::{
    shoe::wire::{self, Framer, WireError},
    shoe::Shoe,
};

const VECTORS: &str = include_str!("../../testdata/wire_vectors.txt");

#[derive(Debug, Default)]
struct Vector {
    kind: String,
    name: String,
    fields: Vec<(String, String)>,
    bytes: Vec<u8>,
}

impl Vector {
    fn field(&self, key: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("vector {} lacks `{key}`", self.name))
    }

    fn shoe(&self) -> Shoe {
        Shoe {
            id: self.field("id").parse().unwrap(),
            brand: self.field("brand").to_owned(),
            name: self.field("name").to_owned(),
            sale_price: self.field("sale_price").parse().unwrap(),
            rating: self.field("rating").parse().unwrap(),
        }
    }

    fn message_indexes(&self) -> Vec<i32> {
        self.field("message_indexes")
            .split(',')
            .map(|index| index.trim().parse().unwrap())
            .collect()
    }
}

fn parse_vectors() -> Vec<Vector> {
    let mut vectors: Vec<Vector> = Vec::new();
    for line in VECTORS.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if let Some(header) = trimmed.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            let (kind, name) = header.split_once(' ').expect("`[kind name]`");
            vectors.push(Vector {
                kind: kind.to_owned(),
                name: name.to_owned(),
                ..Vector::default()
            });
            continue;
        }
        let vector = vectors
            .last_mut()
            .expect("a `[kind name]` line comes first");
        let (key, value) = trimmed.split_once('=').expect("`key = value`");
        let (key, value) = (key.trim(), value.trim());
        if key == "bytes" {
            let hex_digits: String = value
                .split('#')
                .next()
                .unwrap()
                .split_whitespace()
                .collect();
            vector
                .bytes
                .extend(hex::decode(&hex_digits).expect("hex bytes"));
        } else {
            vector.fields.push((key.to_owned(), value.to_owned()));
        }
    }
    vectors
}

#[test]
fn frame_vectors_encode_byte_exact_and_decode_back() {
    let vectors: Vec<Vector> = parse_vectors()
        .into_iter()
        .filter(|v| v.kind == "frame")
        .collect();
    assert!(vectors.len() >= 5, "testdata holds the frame vectors");
    for vector in vectors {
        let shoe = vector.shoe();
        let schema_id: u32 = vector.field("schema_id").parse().unwrap();
        let indexes = vector.message_indexes();
        let framer = Framer::new(schema_id, &indexes);

        let encoded = framer.frame_to_vec(&shoe);
        assert_eq!(
            hex::encode(&encoded),
            hex::encode(&vector.bytes),
            "vector {}",
            vector.name
        );
        assert_eq!(
            framer.framed_len(&shoe),
            vector.bytes.len(),
            "vector {}",
            vector.name
        );

        let framed = wire::decode(&vector.bytes).unwrap();
        assert_eq!(framed.schema_id, schema_id, "vector {}", vector.name);
        assert_eq!(framed.message_indexes, indexes, "vector {}", vector.name);
        assert_eq!(
            framed.decode_payload::<Shoe>().unwrap(),
            shoe,
            "vector {}",
            vector.name
        );
    }
}

#[test]
fn reject_vectors_fail_with_the_named_error() {
    let vectors: Vec<Vector> = parse_vectors()
        .into_iter()
        .filter(|v| v.kind == "reject")
        .collect();
    assert!(vectors.len() >= 8, "testdata holds the reject vectors");
    for vector in vectors {
        let error = wire::decode(&vector.bytes).expect_err(&vector.name);
        let kind = match error {
            WireError::BadMagic { .. } => "bad_magic",
            WireError::Truncated { .. } => "truncated",
            WireError::BadVarint { .. } => "bad_varint",
            WireError::BadIndexCount { .. } => "bad_index_count",
            WireError::Payload(_) => "payload",
        };
        assert_eq!(
            kind,
            vector.field("error"),
            "vector {}: {error}",
            vector.name
        );
    }
}

#[test]
fn shoe_framer_uses_the_first_message_path() {
    // Shoe is the first message of shoe.proto, so its framing matches the `[0]` vectors.
    let vectors = parse_vectors();
    let vector = vectors
        .iter()
        .find(|v| v.name == "first-message-small-id")
        .unwrap();
    let framed = Framer::for_shoe(1).frame_to_vec(&vector.shoe());
    assert_eq!(hex::encode(framed), hex::encode(&vector.bytes));
}
