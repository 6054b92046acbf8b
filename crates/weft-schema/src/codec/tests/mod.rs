//! Unit tests of the codec: every type and logical type, errors, resolution.
#![allow(deprecated)] // apache-avro's to_avro_datum/from_avro_datum, the reference here

mod errors;
mod resolution;
mod types;

use apache_avro::types::Value as Avro;
use apache_avro::Schema;

use super::{Codec, Value};

pub(super) fn schema(json: &str) -> Schema {
    Schema::parse_str(json).unwrap_or_else(|e| panic!("schema {json}: {e}"))
}

pub(super) fn codec(json: &str) -> Codec {
    Codec::new(&schema(json)).unwrap_or_else(|e| panic!("codec {json}: {e}"))
}

/// apache-avro's encoding of `v`.
pub(super) fn avro_encode(json: &str, v: Avro) -> Vec<u8> {
    apache_avro::to_avro_datum(&schema(json), v).unwrap()
}

/// apache-avro's decoding of `body`.
pub(super) fn avro_decode(json: &str, body: &[u8]) -> Avro {
    apache_avro::from_avro_datum(&schema(json), &mut &body[..], None).unwrap()
}

/// Checks that `v` (of schema `json`) encodes to exactly what apache-avro writes for `avro`,
/// decodes back to `v`, validates, and converts both ways.
pub(super) fn agree(json: &str, v: Value, avro: Avro) {
    let c = codec(json);
    let expected = avro_encode(json, avro.clone());
    let mut ours = Vec::new();
    c.encode(&v, &mut ours).unwrap();
    assert_eq!(ours, expected, "{json}: encoded bytes");
    assert_eq!(c.decode(&ours).unwrap(), v, "{json}: decoded value");
    c.validate(&ours).unwrap();
    assert_eq!(
        c.to_avro(&v).unwrap(),
        avro_decode(json, &ours),
        "{json}: to_avro"
    );
    assert_eq!(c.from_avro(&avro).unwrap(), v, "{json}: from_avro");
}
