//! A compiled Avro codec: the schema is walked once, when the codec is built, into an arena
//! of nodes; decoding and encoding then follow node indexes with no name look-ups and no
//! per-record schema work.
//!
//! ```
//! use weft_schema::codec::{Codec, Value};
//! let schema = apache_avro::Schema::parse_str(
//!     r#"{"type":"record","name":"Ping","fields":[{"name":"n","type":"long"}]}"#,
//! ).unwrap();
//! let codec = Codec::new(&schema).unwrap();
//! let mut body = Vec::new();
//! codec.encode(&Value::Record(vec![Value::Long(7)]), &mut body).unwrap();
//! assert_eq!(body, [14]);
//! assert_eq!(codec.decode(&body).unwrap(), Value::Record(vec![Value::Long(7)]));
//! ```
//!
//! A [`ResolvingCodec`] reads data written with one schema as values of another (Avro's
//! schema resolution), and [`Codec::to_avro`] / [`Codec::from_avro`] convert to and from
//! `apache_avro::types::Value`; [`Codec::from_json`] / [`Codec::to_json`] read and write the
//! plain JSON of HTTP clients and webhooks (see [`json`] for the conventions).

mod compile;
mod convert;
mod error;
pub mod json;
mod read;
mod resolve;
mod reuse;
mod schema;
mod value;
mod write;

#[cfg(test)]
mod tests;

use apache_avro::Schema;

pub use error::{
    CodecError, DecodeError, DecodeErrorKind, EncodeError, EncodeErrorKind, FieldPath, PathSegment,
};
pub use json::{JsonError, JsonErrorKind, JsonOptions};
pub use read::{MAX_DEPTH, MAX_EMPTY_ITEMS};
pub use resolve::ResolvingCodec;
pub use schema::{EnumNode, FieldNode, Kind, Logical, Node, NodeId, NodeRef, RecordNode};
pub use value::Value;

use compile::Compiler;
use read::Reader;

/// A schema compiled for decoding, validating and encoding.
#[derive(Debug, Clone)]
pub struct Codec {
    nodes: Vec<Node>,
    root: NodeId,
}

impl Codec {
    /// Compiles a self-contained schema (every named type it uses is defined inside it).
    pub fn new(schema: &Schema) -> Result<Self, CodecError> {
        Self::with_references(schema, &[])
    }

    /// Compiles a schema that may refer to named types defined in `referenced` (the schemas
    /// of its registry references, as `Schema::parse_str_with_list` returns them).
    pub fn with_references(schema: &Schema, referenced: &[Schema]) -> Result<Self, CodecError> {
        let mut compiler = Compiler::new(schema, referenced);
        let root = compiler.compile(schema, None)?;
        Ok(Self {
            nodes: compiler.finish(),
            root,
        })
    }

    /// Parses and compiles a schema text, with the texts of the named schemas it references.
    pub fn parse(schema: &str, referenced: &[&str]) -> Result<Self, CodecError> {
        let (schema, refs) = Schema::parse_str_with_list(schema, referenced.iter().copied())
            .map_err(|e| CodecError::Parse(e.to_string()))?;
        Self::with_references(&schema, &refs)
    }

    /// The top-level type.
    pub fn root(&self) -> NodeRef<'_> {
        self.node(self.root)
    }

    /// Any node of this codec.
    pub fn node(&self, id: NodeId) -> NodeRef<'_> {
        NodeRef {
            nodes: &self.nodes,
            id,
        }
    }

    pub(crate) fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    pub(crate) fn root_id(&self) -> NodeId {
        self.root
    }

    /// Decodes an Avro body (without the Confluent header), which must hold exactly one value.
    pub fn decode(&self, body: &[u8]) -> Result<Value, DecodeError> {
        let mut r = Reader::new(body);
        let v = read::read(&self.nodes, self.root, &mut r, 0)?;
        r.finish()?;
        Ok(v)
    }

    /// Decodes an Avro body into `value`, reusing the strings, vectors and boxes it already
    /// holds where the shapes match: decoding record after record into one scratch value
    /// allocates nothing once the buffers have grown. On error `value` holds a partly
    /// decoded value (still a valid `Value`).
    pub fn decode_into(&self, body: &[u8], value: &mut Value) -> Result<(), DecodeError> {
        let mut r = Reader::new(body);
        reuse::read_reuse(&self.nodes, self.root, &mut r, 0, value)?;
        r.finish()
    }

    /// Checks that an Avro body holds exactly one valid value, without building it.
    pub fn validate(&self, body: &[u8]) -> Result<(), DecodeError> {
        let mut r = Reader::new(body);
        read::skip(&self.nodes, self.root, &mut r, 0)?;
        r.finish()
    }

    /// Encodes `value`, appending the Avro body to `out`. On error `out` may hold part of
    /// the value; truncate it back if it is reused.
    pub fn encode(&self, value: &Value, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        write::write(&self.nodes, self.root, value, out, 0)
    }

    /// Encodes `value` into a new vector.
    pub fn encode_to_vec(&self, value: &Value) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(64);
        self.encode(value, &mut out)?;
        Ok(out)
    }

    /// Encodes `value` in the Confluent wire format (magic byte, schema id, body).
    pub fn encode_framed(&self, schema_id: u32, value: &Value) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(64);
        out.push(weft_core::wire::MAGIC_BYTE);
        out.extend_from_slice(&schema_id.to_be_bytes());
        self.encode(value, &mut out)?;
        Ok(out)
    }

    /// The value at a dotted field path (`customer.email`) of a record value, looking
    /// through unions on the way.
    pub fn lookup<'v>(&self, value: &'v Value, path: &str) -> Option<&'v Value> {
        let mut node = self.root();
        let mut value = value;
        for name in path.split('.') {
            // Step through a union to the branch the value holds.
            if let (Kind::Union(branches), Value::Union(b, inner)) = (node.kind(), value) {
                node = self.node(*branches.get(*b as usize)?);
                value = inner;
            }
            let (index, field) = node.field_named(name)?;
            value = value.as_record()?.get(index)?;
            node = field;
        }
        Some(value)
    }

    /// The default of a record field, as compiled from the schema.
    pub fn field_default(&self, record: NodeId, index: usize) -> Option<&Value> {
        self.node(record).fields().get(index)?.default.as_ref()
    }
}
