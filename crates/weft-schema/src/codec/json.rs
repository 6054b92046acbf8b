//! JSON ↔ Avro values, by schema: the plain JSON an HTTP client or a webhook sends (not
//! Avro's own JSON encoding), read into a [`Value`] of the compiled schema, or refused with an
//! error naming the field path and the reason; and the way back for showing values to people.
//!
//! ```
//! use weft_schema::codec::{Codec, JsonOptions, Value};
//! let codec = Codec::parse(
//!     r#"{"type":"record","name":"Order","fields":[
//!         {"name":"id","type":"string"},
//!         {"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}},
//!         {"name":"note","type":["null","string"],"default":null}]}"#,
//!     &[],
//! ).unwrap();
//! let json = serde_json::json!({"id": "o-1", "at": "2026-11-22T11:00:00+01:00"});
//! let value = codec.from_json(&json, &JsonOptions::default()).unwrap();
//! assert_eq!(value, Value::Record(vec![
//!     Value::String("o-1".into()),
//!     Value::Long(1_795_341_600_000),
//!     Value::Union(0, Box::new(Value::Null)),
//! ]));
//! assert_eq!(
//!     codec.to_json(&value).unwrap(),
//!     serde_json::json!({"id": "o-1", "at": "2026-11-22T10:00:00.000Z", "note": null}),
//! );
//! let err = codec.from_json(&serde_json::json!({"id": 42, "at": 0}), &JsonOptions::default());
//! assert_eq!(err.unwrap_err().to_string(), "id: expected a string, got 42");
//! ```
//!
//! # Conventions (JSON → Avro; [`Codec::to_json`] writes the same forms)
//!
//! | Avro type | JSON |
//! |---|---|
//! | `null`, `boolean`, `string` | `null`, `true`/`false`, a string |
//! | `int`, `long` | an integer in range (`5.0` is taken as 5; `5.5` is refused) |
//! | `float`, `double` | a number, or the strings `"NaN"`, `"Infinity"`, `"-Infinity"` |
//! | `bytes`, `fixed` | a **base64** string (standard alphabet, padding optional); a fixed checks its size |
//! | `enum` | the symbol |
//! | `array`, `map`, `record` | an array, an object, an object (field name → value) |
//! | `date` | `"YYYY-MM-DD"` or days since 1970-01-01 |
//! | `time-millis`, `time-micros` | `"HH:MM:SS[.fraction]"` or units after midnight |
//! | `timestamp-{millis,micros,nanos}` | an RFC 3339 string (any offset, normalised to UTC) or units since the epoch |
//! | `local-timestamp-*` | `"YYYY-MM-DDTHH:MM:SS[.fraction]"` (no offset; an RFC 3339 string is normalised to UTC) or units |
//! | `uuid` | a canonical UUID string (`8-4-4-4-12` hex digits); stored lower-case (16 bytes on `fixed`/`bytes`) |
//! | `decimal` | a string or number (`"12.34"`, `1.5e3`), scaled exactly to the schema's scale, stored as big-endian two's complement |
//! | `big-decimal` | a string or number; its scale is the number of fractional digits written |
//! | `duration` | `{"months": m, "days": d, "milliseconds": ms}` |
//!
//! - **Records.** A field missing from the JSON takes its schema default (with
//!   [`JsonOptions::fill_defaults`], the default) or is refused (`missing_field`); `null` is
//!   taken only where the field's type admits null; keys that name no field are refused
//!   (`unknown_field`) unless [`JsonOptions::allow_unknown_fields`], then ignored. Fields are
//!   read in schema order, then unknown keys are looked for.
//! - **Unions.** `null` goes to the null branch. Otherwise the value goes to the first branch
//!   it fits (`["null","long","string"]` takes `5` as a long and `"5"` as a string). Avro's
//!   JSON-encoding wrapper is accepted too: a one-key object whose key names a branch exactly
//!   (`{"string": "x"}`, `{"com.acme.Card": {...}}`; a named type also by its simple name) is
//!   that branch's value — when it converts; otherwise the object is read as a plain value.
//! - **Fractions below a unit** (timestamps and times finer than the type) are dropped,
//!   rounding towards the past; decimals are never rounded: non-zero digits below the scale
//!   or more significant digits than the precision are refused (`out_of_range`). Numbers given
//!   for decimals go through their shortest decimal text (`0.1` is `0.1`), but only strings are
//!   exact beyond 15 significant digits.
//! - **Nesting** is bounded by [`MAX_DEPTH`](super::MAX_DEPTH) (`too_deep`).
//!
//! [`Codec::to_json`] writes those forms: timestamps in UTC with exactly the unit's fractional
//! digits (`2026-11-22T10:00:00.000Z`), decimals as strings with exactly the scale's digits,
//! bytes in padded base64. Values text cannot show are written as numbers: dates and
//! timestamps outside the years 0000–9999 and times outside one day as their integers, and
//! non-finite floats as the strings above. Union values are written bare unless the bare JSON
//! would be read as another branch (or as a wrapper), then wrapped as `{"<branch name>": value}`,
//! so `from_json(to_json(v)) == v` for every valid value with the default options — up to the
//! order of map entries, which a JSON object does not keep.

/// Exact decimal text ↔ Avro's unscaled two's-complement bytes (shared with `weft-transform`).
pub mod decimal;
mod from_json;
mod seed;
/// Dates and timestamps as text (shared with `weft-transform`).
pub mod temporal;
#[cfg(test)]
mod tests;
mod to_json;

use std::fmt;

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Number, Value as Json};
use weft_core::{Classify, ErrorClass, ErrorCode};

use super::error::{EncodeError, FieldPath, PathSegment};
use super::schema::{Kind, Logical, Node, NodeId};
use super::value::Value;
use super::Codec;
use from_json::FromJson;
use temporal::Unit;
use to_json::ToJson;

/// How [`Codec::from_json`] treats record fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonOptions {
    /// Ignore object keys that name no field of the record (default: refuse them with
    /// `unknown_field`).
    pub allow_unknown_fields: bool,
    /// Give a field missing from the JSON its schema default (default: yes). Without it every
    /// field must be present.
    pub fill_defaults: bool,
}

impl Default for JsonOptions {
    fn default() -> Self {
        Self {
            allow_unknown_fields: false,
            fill_defaults: true,
        }
    }
}

/// Why a JSON value does not fit the schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonErrorKind {
    #[error("expected {expected}, got {got}")]
    WrongType { expected: String, got: String },
    #[error("missing required field {}", quote(.field))]
    MissingField { field: String },
    #[error("unknown field (the schema has no such field)")]
    UnknownField,
    #[error("{} is not one of {}", quote(.symbol), symbol_list(.symbols))]
    BadEnumSymbol {
        symbol: String,
        symbols: Vec<String>,
    },
    /// A number (or a decimal, date or timestamp) the type cannot hold.
    #[error("{0}")]
    OutOfRange(String),
    /// Text that is not a valid timestamp, date, time, UUID, decimal or base64, or base64
    /// of the wrong size for a fixed.
    #[error("{0}")]
    BadFormat(String),
    #[error("no branch of the union [{}] takes {got}", .branches.join(", "))]
    NoUnionBranch { branches: Vec<String>, got: String },
    #[error("values nest more than {0} levels deep")]
    TooDeep(u32),
}

impl JsonErrorKind {
    /// A short stable code for metrics labels and HTTP error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            Self::WrongType { .. } => "wrong_type",
            Self::MissingField { .. } => "missing_field",
            Self::UnknownField => "unknown_field",
            Self::BadEnumSymbol { .. } => "bad_enum_symbol",
            Self::OutOfRange(_) => "out_of_range",
            Self::BadFormat(_) => "bad_format",
            Self::NoUnionBranch { .. } => "no_union_branch",
            Self::TooDeep(_) => "too_deep",
        }
    }

    /// Every code [`code`](Self::code) returns.
    pub const CODES: &'static [&'static str] = &[
        "wrong_type",
        "missing_field",
        "unknown_field",
        "bad_enum_symbol",
        "out_of_range",
        "bad_format",
        "no_union_branch",
        "too_deep",
    ];
}

/// A JSON value that does not fit the schema: where (the field path, `items[3].sku`; empty at
/// the top level) and why. Displays as `items[3].sku: expected a string, got 42`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError(Box<(FieldPath, JsonErrorKind)>);

impl JsonError {
    #[cold]
    #[inline(never)]
    fn new(kind: JsonErrorKind) -> Self {
        Self(Box::new((FieldPath::default(), kind)))
    }

    #[cold]
    #[inline(never)]
    fn in_field(mut self, name: &str) -> Self {
        self.0 .0.push_outer(PathSegment::Field(name.to_string()));
        self
    }

    #[cold]
    #[inline(never)]
    fn at(mut self, segment: PathSegment) -> Self {
        self.0 .0.push_outer(segment);
        self
    }

    pub fn path(&self) -> &FieldPath {
        &self.0 .0
    }

    pub fn kind(&self) -> &JsonErrorKind {
        &self.0 .1
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.0 .0, self.0 .1)
    }
}

impl std::error::Error for JsonError {}

impl Classify for JsonError {
    fn class(&self) -> ErrorClass {
        ErrorClass::Permanent
    }

    fn code(&self) -> ErrorCode {
        ErrorCode::InvalidInput
    }
}

/// A string as a JSON string literal, cut after 64 characters.
fn quote(s: &str) -> String {
    const LIMIT: usize = 64;
    match s.char_indices().nth(LIMIT) {
        None => Json::String(s.to_string()).to_string(),
        Some((cut, _)) => Json::String(format!("{}…", &s[..cut])).to_string(),
    }
}

fn symbol_list(symbols: &[String]) -> String {
    const LIMIT: usize = 20;
    let mut out = symbols
        .iter()
        .take(LIMIT)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if symbols.len() > LIMIT {
        out.push_str(&format!(", … ({} more)", symbols.len() - LIMIT));
    }
    out
}

/// A JSON value as error messages show it: scalars as JSON text, containers by kind.
fn shown(json: &Json) -> String {
    match json {
        Json::Null => "null".into(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => n.to_string(),
        Json::String(s) => quote(s),
        Json::Array(_) => "an array".into(),
        Json::Object(_) => "an object".into(),
    }
}

/// What a node takes, in JSON terms.
fn expected(nodes: &[Node], node: &Node) -> String {
    let name = || node.name.as_deref().unwrap_or("(anonymous)");
    match (node.logical, &node.kind) {
        (Some(Logical::Date), _) => "a date (YYYY-MM-DD or days since 1970-01-01)".into(),
        (Some(Logical::TimeMillis), _) => {
            "a time of day (HH:MM:SS[.fff] or milliseconds after midnight)".into()
        }
        (Some(Logical::TimeMicros), _) => {
            "a time of day (HH:MM:SS[.ffffff] or microseconds after midnight)".into()
        }
        (Some(l), Kind::Long) if timestamp(l).is_some() => {
            let (unit, local) = timestamp(l).unwrap_or((Unit::Millis, false));
            let text = if local {
                "YYYY-MM-DDTHH:MM:SS"
            } else {
                "RFC 3339 text"
            };
            format!(
                "a {}timestamp ({text} or {} since the epoch)",
                if local { "local " } else { "" },
                unit.name()
            )
        }
        (Some(Logical::Decimal { precision, scale }), _) => {
            format!("a decimal (a string or number; precision {precision}, scale {scale})")
        }
        (Some(Logical::BigDecimal), _) => "a decimal (a string or number)".into(),
        (Some(Logical::Uuid), _) => "a UUID string".into(),
        (Some(Logical::Duration), _) => {
            "a duration object {\"months\", \"days\", \"milliseconds\"}".into()
        }
        (_, Kind::Bytes) => "base64 bytes".into(),
        (_, Kind::Fixed { size }) => format!("fixed {} of {size} bytes (base64)", name()),
        (_, Kind::Enum(_)) => format!("a symbol of enum {}", name()),
        (_, Kind::Map(_)) => "an object (a map)".into(),
        (_, Kind::Record(_)) => format!("an object (record {})", name()),
        _ => node.describe(nodes),
    }
}

/// The unit of a timestamp logical type, and whether it is local.
fn timestamp(l: Logical) -> Option<(Unit, bool)> {
    Some(match l {
        Logical::TimestampMillis => (Unit::Millis, false),
        Logical::TimestampMicros => (Unit::Micros, false),
        Logical::TimestampNanos => (Unit::Nanos, false),
        Logical::LocalTimestampMillis => (Unit::Millis, true),
        Logical::LocalTimestampMicros => (Unit::Micros, true),
        Logical::LocalTimestampNanos => (Unit::Nanos, true),
        _ => return None,
    })
}

/// A union branch as error messages list it: `string`, `long (timestamp-millis)`, `com.acme.Card`.
fn branch_label(node: &Node) -> String {
    match node.logical {
        Some(l) => format!("{} ({})", node.type_name(), l.as_str()),
        None => node.type_name().to_string(),
    }
}

/// The first branch a wrapper key names: a full name, a named type's simple name, or a
/// primitive's name.
fn branch_named(nodes: &[Node], branches: &[NodeId], key: &str) -> Option<usize> {
    branches.iter().position(|b| {
        let node = &nodes[*b as usize];
        match &node.name {
            Some(full) => full == key || full.rsplit('.').next() == Some(key),
            None => node.type_name() == key,
        }
    })
}

/// Whether JSON of this kind could be a value of the node (before looking inside it): the
/// union branches worth trying.
fn may_fit(node: &Node, json: &Json) -> bool {
    match (&node.kind, json) {
        (Kind::Null, Json::Null)
        | (Kind::Boolean, Json::Bool(_))
        | (Kind::Int | Kind::Long | Kind::Float | Kind::Double, Json::Number(_))
        | (Kind::Bytes | Kind::String | Kind::Enum(_), Json::String(_))
        | (Kind::Array(_), Json::Array(_))
        | (Kind::Map(_) | Kind::Record(_), Json::Object(_)) => true,
        (Kind::Int | Kind::Long, Json::String(_)) => node.logical.is_some(),
        (Kind::Float | Kind::Double, Json::String(s)) => special_float(s).is_some(),
        (Kind::Bytes, Json::Number(_)) => {
            matches!(
                node.logical,
                Some(Logical::Decimal { .. } | Logical::BigDecimal)
            )
        }
        (Kind::Fixed { .. }, Json::String(_)) => node.logical != Some(Logical::Duration),
        (Kind::Fixed { .. }, Json::Number(_)) => {
            matches!(node.logical, Some(Logical::Decimal { .. }))
        }
        (Kind::Fixed { .. }, Json::Object(_)) => node.logical == Some(Logical::Duration),
        _ => false,
    }
}

fn special_float(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

/// An integral JSON number (`5.0` included) as an `i128`, saturating far out of range;
/// `None` when it has a fraction.
fn integer(n: &Number) -> Option<i128> {
    if let Some(i) = n.as_i64() {
        return Some(i128::from(i));
    }
    if let Some(u) = n.as_u64() {
        return Some(i128::from(u));
    }
    let f = n.as_f64()?;
    (f.fract() == 0.0).then_some(f as i128)
}

/// Base64 with the standard alphabet, writing padding and accepting it or not.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A canonical UUID (`8-4-4-4-12` hex digits, either case) as its 16 bytes.
pub fn parse_uuid(s: &str) -> Option<[u8; 16]> {
    let b = s.as_bytes();
    if b.len() != 36 {
        return None;
    }
    let mut out = [0u8; 16];
    let mut nibbles = 0usize;
    for (i, c) in b.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if *c != b'-' {
                return None;
            }
            continue;
        }
        let v = (*c as char).to_digit(16)? as u8;
        out[nibbles / 2] |= if nibbles.is_multiple_of(2) { v << 4 } else { v };
        nibbles += 1;
    }
    Some(out)
}

pub fn format_uuid(b: &[u8]) -> String {
    let mut s = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push_str(&format!("{byte:02x}"));
    }
    s
}

const DURATION_FIELDS: [&str; 3] = ["months", "days", "milliseconds"];

impl Codec {
    /// Reads plain JSON (what an HTTP client sends) as a value of this schema, following the
    /// [module's conventions](self); refuses it with the field path and the reason.
    pub fn from_json(&self, json: &Json, opts: &JsonOptions) -> Result<Value, JsonError> {
        FromJson {
            nodes: self.nodes(),
            opts: *opts,
        }
        .value(self.root_id(), json, 0)
    }

    /// Writes a value of this schema as the plain JSON [`Codec::from_json`] reads
    /// (timestamps as RFC 3339 UTC text, decimals as strings, bytes in base64, unions bare
    /// where that is unambiguous). Fails, naming the field, when the value does not fit the
    /// schema.
    pub fn to_json(&self, value: &Value) -> Result<Json, EncodeError> {
        ToJson {
            nodes: self.nodes(),
        }
        .json(self.root_id(), value, 0)
    }
}
