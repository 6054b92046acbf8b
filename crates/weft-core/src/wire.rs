//! The Confluent wire format: `0x00`, schema id (u32, big-endian), Avro binary body.

use crate::error::{Classify, ErrorClass, ErrorCode};

/// The first byte of every framed value.
pub const MAGIC_BYTE: u8 = 0;
/// Magic byte plus schema id.
pub const HEADER_LEN: usize = 5;

/// A framed value, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framed<'a> {
    pub schema_id: u32,
    pub body: &'a [u8],
}

/// Why bytes are not a framed value. Always permanent: the same bytes fail the same way.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("the value is empty; expected the Confluent wire format (magic byte 0, schema id, Avro body)")]
    Empty,
    #[error("the value starts with byte 0x{0:02x}, not the Confluent magic byte 0x00")]
    BadMagic(u8),
    #[error(
        "the value has {0} bytes; the Confluent header alone needs 5 (magic byte and schema id)"
    )]
    TooShort(usize),
}

impl Classify for WireError {
    fn class(&self) -> ErrorClass {
        ErrorClass::Permanent
    }

    fn code(&self) -> ErrorCode {
        ErrorCode::BadMagicByte
    }
}

/// Splits a framed value into schema id and body.
pub fn parse(bytes: &[u8]) -> Result<Framed<'_>, WireError> {
    match bytes {
        [] => Err(WireError::Empty),
        [m, ..] if *m != MAGIC_BYTE => Err(WireError::BadMagic(*m)),
        b if b.len() < HEADER_LEN => Err(WireError::TooShort(b.len())),
        [_, a, b, c, d, body @ ..] => Ok(Framed {
            schema_id: u32::from_be_bytes([*a, *b, *c, *d]),
            body,
        }),
        // Unreachable: every length below 5 is handled above.
        b => Err(WireError::TooShort(b.len())),
    }
}

/// Frames an Avro body with its schema id.
pub fn frame(schema_id: u32, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.push(MAGIC_BYTE);
    out.extend_from_slice(&schema_id.to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// The schema id of a framed value, if it is one (for headers and metrics; never fails).
pub fn schema_id(bytes: &[u8]) -> Option<u32> {
    parse(bytes).ok().map(|f| f.schema_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let framed = frame(0x0102_0304, b"avro");
        assert_eq!(framed, [0, 1, 2, 3, 4, b'a', b'v', b'r', b'o']);
        let f = parse(&framed).expect("framed");
        assert_eq!(f.schema_id, 0x0102_0304);
        assert_eq!(f.body, b"avro");
        assert_eq!(
            parse(&frame(7, b"")).map(|f| f.body.len()),
            Ok(0),
            "an empty body is valid"
        );
    }

    #[test]
    fn every_malformed_value_is_named() {
        assert_eq!(parse(b""), Err(WireError::Empty));
        assert_eq!(parse(b"{\"json\":1}"), Err(WireError::BadMagic(b'{')));
        assert_eq!(parse(&[0, 0, 1]), Err(WireError::TooShort(3)));
        assert_eq!(schema_id(b"{}"), None);
        let e = WireError::BadMagic(0x7b);
        assert_eq!(e.code(), ErrorCode::BadMagicByte);
        assert_eq!(e.class(), ErrorClass::Permanent);
        assert!(e.to_string().contains("0x7b"));
    }
}
