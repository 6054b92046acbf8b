//! Schema identity: two schema texts are the same schema when their Parsing Canonical Forms
//! are equal (field order, whitespace, docs, defaults and aliases do not matter).

use apache_avro::rabin::Rabin;
use apache_avro::Schema;

/// A parsed Avro schema with what identifies it.
#[derive(Debug, Clone)]
pub struct SchemaIdentity {
    pub schema: Schema,
    /// Avro's Parsing Canonical Form.
    pub canonical: String,
    /// The CRC-64-AVRO (Rabin) fingerprint of the canonical form, as Avro specifies it.
    pub fingerprint: u64,
    /// The full name of a named top-level type (record, enum, fixed), for subject strategies.
    pub full_name: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid Avro schema: {0}")]
pub struct SchemaParseError(String);

impl SchemaIdentity {
    /// Parses a schema text (JSON). The error names what Avro refused.
    pub fn parse(text: &str) -> Result<Self, SchemaParseError> {
        let schema = Schema::parse_str(text).map_err(|e| SchemaParseError(e.to_string()))?;
        let canonical = schema.canonical_form();
        let fp = schema.fingerprint::<Rabin>();
        let mut bytes = [0u8; 8];
        for (dst, src) in bytes.iter_mut().zip(fp.bytes.iter()) {
            *dst = *src;
        }
        let full_name = match &schema {
            Schema::Record(r) => Some(r.name.fullname(None)),
            Schema::Enum(e) => Some(e.name.fullname(None)),
            Schema::Fixed(f) => Some(f.name.fullname(None)),
            _ => None,
        };
        Ok(Self {
            schema,
            canonical,
            fingerprint: u64::from_le_bytes(bytes),
            full_name,
        })
    }

    /// Whether two schemas are the same schema.
    pub fn same_as(&self, other: &Self) -> bool {
        self.canonical == other.canonical
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORDER: &str = r#"{"type":"record","name":"Order","namespace":"com.acme",
        "doc":"An order","fields":[{"name":"id","type":"string"},
        {"name":"amount","type":"double","default":0.0}]}"#;

    #[test]
    fn canonical_form_ignores_docs_defaults_and_whitespace() {
        let a = SchemaIdentity::parse(ORDER).expect("valid");
        let b = SchemaIdentity::parse(
            r#"{"namespace":"com.acme","name":"Order","type":"record",
                "fields":[{"type":"string","name":"id"},{"name":"amount","type":"double"}]}"#,
        )
        .expect("valid");
        assert!(a.same_as(&b));
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_eq!(a.full_name.as_deref(), Some("com.acme.Order"));
        assert_eq!(
            a.canonical,
            r#"{"name":"com.acme.Order","type":"record","fields":[{"name":"id","type":"string"},{"name":"amount","type":"double"}]}"#
        );
    }

    #[test]
    fn a_different_field_type_is_a_different_schema() {
        let a = SchemaIdentity::parse(ORDER).expect("valid");
        let c = SchemaIdentity::parse(&ORDER.replace(r#""type":"double""#, r#""type":"float""#))
            .expect("valid");
        assert!(!a.same_as(&c));
        assert_ne!(a.fingerprint, c.fingerprint);
    }

    #[test]
    fn the_spec_fingerprint_of_a_primitive() {
        // The CRC-64-AVRO fingerprint of "int": bytes 8f 5c 39 3f 1a d5 75 72 (little-endian),
        // the value Avro's reference implementations give.
        let int = SchemaIdentity::parse(r#""int""#).expect("valid");
        assert_eq!(int.canonical, r#""int""#);
        assert_eq!(int.full_name, None);
        assert_eq!(
            int.fingerprint, 0x7275_d51a_3f39_5c8f,
            "{:#018x}",
            int.fingerprint
        );
    }

    #[test]
    fn invalid_schemas_say_why() {
        let e = SchemaIdentity::parse(r#"{"type":"record","name":"X","fields":[{"name":"a"}]}"#)
            .expect_err("field without type");
        assert!(e.to_string().starts_with("invalid Avro schema: "), "{e}");
    }
}
