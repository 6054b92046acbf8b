//! Codec errors. Decode and encode errors name the field path (`customer.email`,
//! `lines[3].sku`, `tags["env"]`) and, for decoding, the byte offset in the Avro body.
//!
//! Paths are built only when something fails: each level of the recursion adds its segment
//! while the error travels up, so the success path pays nothing for them.

use std::fmt;

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSegment {
    Field(String),
    Index(usize),
    Key(String),
}

/// A field path; segments are kept innermost first while an error travels up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldPath(Vec<PathSegment>);

impl FieldPath {
    pub(crate) fn push_outer(&mut self, segment: PathSegment) {
        self.0.push(segment);
    }

    /// Segments from the outermost to the innermost.
    pub fn segments(&self) -> impl Iterator<Item = &PathSegment> {
        self.0.iter().rev()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("the top level");
        }
        for (i, segment) in self.segments().enumerate() {
            match segment {
                PathSegment::Field(name) if i == 0 => f.write_str(name)?,
                PathSegment::Field(name) => write!(f, ".{name}")?,
                PathSegment::Index(index) => write!(f, "[{index}]")?,
                PathSegment::Key(key) => write!(f, "[{key:?}]")?,
            }
        }
        Ok(())
    }
}

/// Why a schema could not be compiled into a codec.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("invalid Avro schema: {0}")]
    Parse(String),
    #[error("the schema refers to the type {0:?}, which is not defined (give its schema in the list of referenced schemas)")]
    UnknownName(String),
    #[error("the schema has more than {0} types; refusing to compile it")]
    TooLarge(usize),
    #[error("at {path}: the writer schema cannot be read with the reader schema: {reason}")]
    Incompatible { path: FieldPath, reason: String },
}

/// What went wrong while decoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeErrorKind {
    #[error("{what} needs {needed} bytes but only {remaining} remain")]
    UnexpectedEnd {
        what: &'static str,
        needed: usize,
        remaining: usize,
    },
    #[error("a variable-length integer runs past the end of the data")]
    VarintTruncated,
    #[error("a variable-length integer is longer than 10 bytes or overflows 64 bits")]
    VarintOverflow,
    #[error("{what} length {length} is negative")]
    NegativeLength { what: &'static str, length: i64 },
    #[error("int value {0} is out of the 32-bit range")]
    IntOutOfRange(i64),
    #[error("boolean byte is 0x{0:02x}, not 0 or 1")]
    BadBoolean(u8),
    #[error("string is not valid UTF-8 (first bad byte at string offset {0})")]
    InvalidUtf8(usize),
    #[error("enum index {index} is out of range: the enum has {symbols} symbols")]
    EnumIndex { index: i64, symbols: usize },
    #[error("union branch {index} is out of range: the union has {branches} branches")]
    UnionBranch { index: i64, branches: usize },
    #[error("{what} claims {items} items; at least {min_bytes} bytes would be needed but only {remaining} remain")]
    CollectionTooLong {
        what: &'static str,
        items: u64,
        min_bytes: u128,
        remaining: usize,
    },
    #[error("array or map of empty items claims {0} items, more than the limit of {limit}", limit = super::read::MAX_EMPTY_ITEMS)]
    TooManyEmptyItems(u64),
    #[error("values nest more than {0} levels deep")]
    TooDeep(u32),
    #[error("the value ends {0} bytes before the end of the body")]
    TrailingBytes(usize),
    #[error("writer union branch {branch} ({writer}) has no counterpart in the reader schema")]
    UnresolvedBranch { branch: u32, writer: String },
    #[error("enum symbol {symbol:?} is not in the reader's enum, which has no default")]
    UnknownSymbol { symbol: String },
}

/// A decode failure: where (field path and byte offset in the body) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(Box<DecodeErrorInner>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct DecodeErrorInner {
    path: FieldPath,
    offset: usize,
    kind: DecodeErrorKind,
}

impl DecodeError {
    #[cold]
    #[inline(never)]
    pub(crate) fn new(offset: usize, kind: DecodeErrorKind) -> Self {
        Self(Box::new(DecodeErrorInner {
            path: FieldPath::default(),
            offset,
            kind,
        }))
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn in_field(mut self, name: &str) -> Self {
        self.0.path.push_outer(PathSegment::Field(name.to_string()));
        self
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn at(mut self, segment: PathSegment) -> Self {
        self.0.path.push_outer(segment);
        self
    }

    pub fn path(&self) -> &FieldPath {
        &self.0.path
    }

    /// Byte offset in the Avro body (after the 5-byte Confluent header) where the failing
    /// item starts.
    pub fn offset(&self) -> usize {
        self.0.offset
    }

    pub fn kind(&self) -> &DecodeErrorKind {
        &self.0.kind
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "at {} (byte {}): {}",
            self.0.path, self.0.offset, self.0.kind
        )
    }
}

impl std::error::Error for DecodeError {}

/// What did not fit while encoding (or converting) a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeErrorKind {
    #[error("expected {expected}, found {found}")]
    Mismatch {
        expected: String,
        found: &'static str,
    },
    #[error("expected {expected} bytes for fixed {name}, found {found}")]
    FixedSize {
        name: String,
        expected: usize,
        found: usize,
    },
    #[error("enum index {index} is out of range: {name} has {symbols} symbols")]
    EnumIndex {
        name: String,
        index: u32,
        symbols: usize,
    },
    #[error("union branch {index} is out of range: the union has {branches} branches")]
    UnionBranch { index: u32, branches: usize },
    #[error("expected {expected} fields for record {name}, found {found}")]
    RecordArity {
        name: String,
        expected: usize,
        found: usize,
    },
    #[error("no branch of the union {union} takes {found}")]
    NoBranch { union: String, found: &'static str },
    #[error("the record {name} has no field {field:?} and the field has no default")]
    MissingField { name: String, field: String },
    #[error("{0}")]
    Logical(String),
}

/// An encode (or conversion) failure: which field, what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeError(Box<(FieldPath, EncodeErrorKind)>);

impl EncodeError {
    #[cold]
    #[inline(never)]
    pub(crate) fn new(kind: EncodeErrorKind) -> Self {
        Self(Box::new((FieldPath::default(), kind)))
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn in_field(mut self, name: &str) -> Self {
        self.0 .0.push_outer(PathSegment::Field(name.to_string()));
        self
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn at(mut self, segment: PathSegment) -> Self {
        self.0 .0.push_outer(segment);
        self
    }

    pub fn path(&self) -> &FieldPath {
        &self.0 .0
    }

    pub fn kind(&self) -> &EncodeErrorKind {
        &self.0 .1
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at {}: {}", self.0 .0, self.0 .1)
    }
}

impl std::error::Error for EncodeError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_outermost_first() {
        let e = DecodeError::new(
            17,
            DecodeErrorKind::NegativeLength {
                what: "string",
                length: -3,
            },
        )
        .in_field("email")
        .in_field("customer");
        assert_eq!(
            e.to_string(),
            "at customer.email (byte 17): string length -3 is negative"
        );
        let e = EncodeError::new(EncodeErrorKind::Mismatch {
            expected: "a string".into(),
            found: "a long",
        })
        .in_field("sku")
        .at(PathSegment::Index(3))
        .in_field("lines")
        .at(PathSegment::Key("eu".into()))
        .in_field("regions");
        assert_eq!(
            e.to_string(),
            "at regions[\"eu\"].lines[3].sku: expected a string, found a long"
        );
        let top = DecodeError::new(4, DecodeErrorKind::TrailingBytes(2));
        assert_eq!(
            top.to_string(),
            "at the top level (byte 4): the value ends 2 bytes before the end of the body"
        );
    }
}
