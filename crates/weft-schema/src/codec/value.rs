//! Weft's own Avro value model: cheap to build, positional, and schema-blind.
//!
//! A value means nothing without the compiled schema it was decoded with (or is meant for):
//! record fields are a `Vec` in schema order (names live in the schema, see
//! [`NodeRef::field_index`](super::NodeRef::field_index)), enums are symbol indexes, unions
//! carry their branch, and logical types hold their underlying value (a `timestamp-millis`
//! is a [`Value::Long`], a `decimal` is [`Value::Bytes`] or [`Value::Fixed`]); the schema
//! knows the logical type.

/// One Avro value, as the compiled schema lays it out.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Boolean(bool),
    /// `int`, and the logical types `date` and `time-millis`.
    Int(i32),
    /// `long`, and the logical types `time-micros`, `timestamp-*` and `local-timestamp-*`.
    Long(i64),
    Float(f32),
    Double(f64),
    /// `bytes`, and `decimal`/`big-decimal`/`uuid` over bytes.
    Bytes(Vec<u8>),
    /// `string`, and `uuid` over a string (kept as the text that was written).
    String(String),
    /// `fixed`, and `decimal`/`uuid`/`duration` over a fixed.
    Fixed(Vec<u8>),
    /// The index of the symbol in the enum's symbol list.
    Enum(u32),
    /// The branch index in the union, and the value of that branch.
    Union(u32, Box<Value>),
    Array(Vec<Value>),
    /// Entries in the order they were decoded (or are to be encoded).
    Map(Vec<(String, Value)>),
    /// Field values in the schema's field order.
    Record(Vec<Value>),
}

impl Value {
    /// A short name of the value's kind, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Boolean(_) => "a boolean",
            Self::Int(_) => "an int",
            Self::Long(_) => "a long",
            Self::Float(_) => "a float",
            Self::Double(_) => "a double",
            Self::Bytes(_) => "bytes",
            Self::String(_) => "a string",
            Self::Fixed(_) => "a fixed",
            Self::Enum(_) => "an enum",
            Self::Union(_, _) => "a union",
            Self::Array(_) => "an array",
            Self::Map(_) => "a map",
            Self::Record(_) => "a record",
        }
    }

    /// The value inside a union (or the value itself when it is not a union).
    pub fn unwrap_union(&self) -> &Self {
        match self {
            Self::Union(_, inner) => inner.unwrap_union(),
            other => other,
        }
    }

    /// Whether the value is null, or a union holding null.
    pub fn is_null(&self) -> bool {
        matches!(self.unwrap_union(), Self::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self.unwrap_union() {
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self.unwrap_union() {
            Self::Bytes(b) | Self::Fixed(b) => Some(b),
            _ => None,
        }
    }

    /// An `int` or `long` as an `i64`.
    pub fn as_long(&self) -> Option<i64> {
        match self.unwrap_union() {
            Self::Int(i) => Some(i64::from(*i)),
            Self::Long(l) => Some(*l),
            _ => None,
        }
    }

    /// A `float` or `double` as an `f64`.
    pub fn as_double(&self) -> Option<f64> {
        match self.unwrap_union() {
            Self::Float(f) => Some(f64::from(*f)),
            Self::Double(d) => Some(*d),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.unwrap_union() {
            Self::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    /// The field values of a record.
    pub fn as_record(&self) -> Option<&[Value]> {
        match self.unwrap_union() {
            Self::Record(fields) => Some(fields),
            _ => None,
        }
    }

    /// The field values of a record, mutable.
    pub fn as_record_mut(&mut self) -> Option<&mut Vec<Value>> {
        match self {
            Self::Record(fields) => Some(fields),
            Self::Union(_, inner) => inner.as_record_mut(),
            _ => None,
        }
    }

    /// Field `index` of a record.
    pub fn field(&self, index: usize) -> Option<&Value> {
        self.as_record().and_then(|f| f.get(index))
    }
}
