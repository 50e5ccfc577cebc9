//! A check of the first bytes a new broker connection answers with.
//!
//! A Kafka response starts with its length. When the port speaks something else — a TLS listener
//! answering a plaintext request with an alert, an HTTP server — those four bytes read as a length of
//! hundreds of megabytes, and the frame reader allocates that much before it fails. The first answer on
//! a connection is the one to ApiVersions, a few kilobytes, so its first bytes are checked as they
//! arrive, before anything is buffered: a TLS record or an absurd length becomes a clear error instead
//! of an allocation.

use std::fmt;

/// The largest first answer we accept: ApiVersions responses are a few kilobytes.
pub(super) const FIRST_ANSWER_MAX: usize = 1024 * 1024;

/// How many of the first bytes a [`NotKafka`] error shows.
const SHOWN: usize = 8;

/// The first answer on a connection is not a Kafka response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotKafka {
    /// It starts like a TLS record (content type alert or handshake, version 3.x).
    #[error("it answered with a TLS record ({0})")]
    Tls(FirstBytes),
    /// It announces a length no first answer has.
    #[error("its first answer is not a Kafka response ({0})")]
    Garbage(FirstBytes),
}

/// The first bytes of an answer, shown as hex and printable ASCII.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirstBytes {
    bytes: [u8; SHOWN],
    len: usize,
}

impl fmt::Display for FirstBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = &self.bytes[..self.len];
        f.write_str("it starts with")?;
        for b in bytes {
            write!(f, " {b:02x}")?;
        }
        if bytes.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
            write!(f, " \"{}\"", String::from_utf8_lossy(bytes))?;
        }
        Ok(())
    }
}

/// Watches the bytes of a connection until its first answer has shown a plausible length.
#[derive(Debug, Default)]
pub(super) struct FirstAnswer {
    seen: [u8; SHOWN],
    len: usize,
}

impl FirstAnswer {
    /// Looks at the next bytes read. `Ok(true)` once the answer looks like Kafka (stop watching),
    /// `Ok(false)` while more bytes are needed to tell.
    pub(super) fn inspect(&mut self, bytes: &[u8]) -> Result<bool, NotKafka> {
        let take = bytes.len().min(SHOWN - self.len);
        self.seen[self.len..self.len + take].copy_from_slice(&bytes[..take]);
        self.len += take;
        let first = FirstBytes {
            bytes: self.seen,
            len: self.len,
        };
        if self.len >= 2 && matches!(self.seen[0], 0x15 | 0x16) && self.seen[1] == 0x03 {
            return Err(NotKafka::Tls(first));
        }
        if self.len < 4 {
            return Ok(false);
        }
        let length = i32::from_be_bytes([self.seen[0], self.seen[1], self.seen[2], self.seen[3]]);
        // A response holds at least its correlation id.
        match usize::try_from(length) {
            Ok(length) if (4..=FIRST_ANSWER_MAX).contains(&length) => Ok(true),
            _ => Err(NotKafka::Garbage(first)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(chunks: &[&[u8]]) -> Result<bool, NotKafka> {
        let mut watch = FirstAnswer::default();
        let mut last = Ok(false);
        for chunk in chunks {
            last = watch.inspect(chunk);
            if last != Ok(false) {
                return last;
            }
        }
        last
    }

    #[test]
    fn a_kafka_frame_passes_even_when_its_length_arrives_byte_by_byte() {
        assert_eq!(verdict(&[&[0, 0, 1, 0x2c, 0, 0, 0, 1]]), Ok(true));
        assert_eq!(verdict(&[&[0], &[0], &[1]]), Ok(false));
        assert_eq!(verdict(&[&[0], &[0], &[1], &[0x2c]]), Ok(true));
    }

    #[test]
    fn a_tls_alert_is_recognised_from_two_bytes() {
        // What a TLS listener sends a plaintext client: a fatal alert record.
        let error = verdict(&[&[0x15, 0x03]]).unwrap_err();
        assert!(matches!(error, NotKafka::Tls(_)), "{error:?}");
        let error = verdict(&[&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x50]]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "it answered with a TLS record (it starts with 15 03 03 00 02 02 50)"
        );
        assert!(matches!(
            verdict(&[&[0x16, 0x03, 0x01]]),
            Err(NotKafka::Tls(_))
        ));
    }

    #[test]
    fn absurd_or_negative_lengths_are_not_kafka() {
        let http = verdict(&[b"HTTP/1.1 400"]).unwrap_err();
        assert_eq!(
            http.to_string(),
            "its first answer is not a Kafka response (it starts with 48 54 54 50 2f 31 2e 31 \"HTTP/1.1\")"
        );
        assert!(verdict(&[&[0xff, 0xff, 0xff, 0xff]]).is_err());
        assert!(verdict(&[&[0, 0, 0, 0]]).is_err());
        assert!(verdict(&[&[0, 0x10, 0, 1]]).is_err());
        assert_eq!(verdict(&[&[0, 0x10, 0, 0]]), Ok(true));
    }
}
