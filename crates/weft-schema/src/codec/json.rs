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
//! - **Nesting** is bounded by [`MAX_DEPTH`] (`too_deep`).
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
mod seed;
/// Dates and timestamps as text (shared with `weft-transform`).
pub mod temporal;
#[cfg(test)]
mod tests;

use std::fmt;

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use serde_json::{Map, Number, Value as Json};
use weft_core::{Classify, ErrorClass, ErrorCode};

use super::error::{EncodeError, EncodeErrorKind, FieldPath, PathSegment};
use super::read::MAX_DEPTH;
use super::schema::{Kind, Logical, Node, NodeId};
use super::value::Value;
use super::Codec;
use temporal::Unit;

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

/// JSON → values of one compiled schema.
struct FromJson<'a> {
    nodes: &'a [Node],
    opts: JsonOptions,
}

impl FromJson<'_> {
    #[cold]
    fn wrong_type(&self, node: &Node, json: &Json) -> JsonError {
        JsonError::new(JsonErrorKind::WrongType {
            expected: expected(self.nodes, node),
            got: shown(json),
        })
    }

    fn value(&self, id: NodeId, json: &Json, depth: u32) -> Result<Value, JsonError> {
        let node = &self.nodes[id as usize];
        Ok(match (&node.kind, json) {
            (Kind::Null, Json::Null) => Value::Null,
            (Kind::Boolean, Json::Bool(b)) => Value::Boolean(*b),
            (Kind::Int, _) => Value::Int(self.int(node, json)?),
            (Kind::Long, _) => Value::Long(self.long(node, json)?),
            (Kind::Float, _) => {
                let d = self.double(node, json)?;
                let f = d as f32;
                if d.is_finite() && !f.is_finite() {
                    return Err(JsonError::new(JsonErrorKind::OutOfRange(format!(
                        "{} is out of range for a float",
                        shown(json)
                    ))));
                }
                Value::Float(f)
            }
            (Kind::Double, _) => Value::Double(self.double(node, json)?),
            (Kind::String, Json::String(s)) => match node.logical {
                Some(Logical::Uuid) => {
                    if parse_uuid(s).is_none() {
                        return Err(bad_uuid(s));
                    }
                    Value::String(s.to_ascii_lowercase())
                }
                _ => Value::String(s.clone()),
            },
            (Kind::Bytes, _) => Value::Bytes(self.bytes(node, json, None)?),
            (Kind::Fixed { size }, _) => Value::Fixed(self.bytes(node, json, Some(*size))?),
            (Kind::Enum(e), Json::String(s)) => match e.lookup.get(s.as_str()) {
                Some(i) => Value::Enum(*i),
                None => {
                    return Err(JsonError::new(JsonErrorKind::BadEnumSymbol {
                        symbol: s.clone(),
                        symbols: e.symbols.clone(),
                    }))
                }
            },
            (Kind::Array(_) | Kind::Map(_) | Kind::Record(_) | Kind::Union(_), _) => {
                return self.nested(node, json, depth)
            }
            _ => return Err(self.wrong_type(node, json)),
        })
    }

    fn int(&self, node: &Node, json: &Json) -> Result<i32, JsonError> {
        match (node.logical, json) {
            (Some(Logical::Date), Json::String(s)) => {
                temporal::parse_date(s).map_err(JsonError::new)
            }
            (Some(Logical::TimeMillis), Json::String(s)) => {
                let v = temporal::parse_time_of_day(s, Unit::Millis).map_err(JsonError::new)?;
                // Within one day: always an int.
                Ok(v as i32)
            }
            (_, Json::Number(n)) => match integer(n) {
                Some(i) => i32::try_from(i)
                    .map_err(|_| out_of_range(json, "an int", i32::MIN.into(), i32::MAX.into())),
                None => Err(self.wrong_type(node, json)),
            },
            _ => Err(self.wrong_type(node, json)),
        }
    }

    fn long(&self, node: &Node, json: &Json) -> Result<i64, JsonError> {
        match (node.logical, json) {
            (Some(Logical::TimeMicros), Json::String(s)) => {
                temporal::parse_time_of_day(s, Unit::Micros).map_err(JsonError::new)
            }
            (Some(l), Json::String(s)) if timestamp(l).is_some() => {
                let (unit, local) = timestamp(l).unwrap_or((Unit::Millis, false));
                temporal::parse_timestamp(s, unit, local).map_err(JsonError::new)
            }
            (_, Json::Number(n)) => match integer(n) {
                Some(i) => {
                    i64::try_from(i).map_err(|_| out_of_range(json, "a long", i64::MIN, i64::MAX))
                }
                None => Err(self.wrong_type(node, json)),
            },
            _ => Err(self.wrong_type(node, json)),
        }
    }

    fn double(&self, node: &Node, json: &Json) -> Result<f64, JsonError> {
        let d = match json {
            Json::Number(n) => n.as_f64(),
            Json::String(s) => special_float(s),
            _ => None,
        };
        d.ok_or_else(|| self.wrong_type(node, json))
    }

    /// `bytes` (`size` None) and `fixed` values with their logical types.
    fn bytes(&self, node: &Node, json: &Json, size: Option<usize>) -> Result<Vec<u8>, JsonError> {
        match (node.logical, json) {
            (Some(Logical::Decimal { precision, scale }), Json::String(_) | Json::Number(_)) => {
                let parsed = parse_decimal(json)?;
                let digits = decimal::rescale(&parsed, precision, scale)
                    .map_err(|e| decimal_unfit(json, e, precision, scale))?;
                let bytes = decimal::to_twos_complement(parsed.negative, &digits);
                match size {
                    None => Ok(bytes),
                    Some(size) => decimal::sign_extend(bytes, size).ok_or_else(|| {
                        JsonError::new(JsonErrorKind::OutOfRange(format!(
                            "{} does not fit {}",
                            shown(json),
                            node.describe(self.nodes)
                        )))
                    }),
                }
            }
            (Some(Logical::BigDecimal), Json::String(_) | Json::Number(_)) if size.is_none() => {
                let parsed = parse_decimal(json)?;
                decimal::big_decimal_bytes(&parsed)
                    .map_err(|e| decimal_unfit(json, e, decimal::MAX_DIGITS, usize::MAX))
            }
            (Some(Logical::Uuid), Json::String(s)) if size.is_none_or(|n| n == 16) => {
                parse_uuid(s).map(|b| b.to_vec()).ok_or_else(|| bad_uuid(s))
            }
            (Some(Logical::Duration), Json::Object(obj)) if size == Some(12) => self.duration(obj),
            (Some(Logical::Duration), _) => Err(self.wrong_type(node, json)),
            (_, Json::String(s)) => {
                let b = BASE64.decode(s).map_err(|e| {
                    JsonError::new(JsonErrorKind::BadFormat(format!(
                        "{} is not base64 ({e})",
                        quote(s)
                    )))
                })?;
                match size {
                    Some(size) if b.len() != size => {
                        Err(JsonError::new(JsonErrorKind::BadFormat(format!(
                            "{} is base64 for {} bytes, but {} has {size}",
                            quote(s),
                            b.len(),
                            node.name.as_deref().unwrap_or("the fixed")
                        ))))
                    }
                    _ => Ok(b),
                }
            }
            _ => Err(self.wrong_type(node, json)),
        }
    }

    fn duration(&self, obj: &Map<String, Json>) -> Result<Vec<u8>, JsonError> {
        let mut out = Vec::with_capacity(12);
        for name in DURATION_FIELDS {
            let Some(j) = obj.get(name) else {
                return Err(JsonError::new(JsonErrorKind::MissingField {
                    field: name.to_string(),
                }));
            };
            let not_u32 = || {
                JsonError::new(JsonErrorKind::WrongType {
                    expected: "an unsigned 32-bit integer".into(),
                    got: shown(j),
                })
            };
            let v = match j {
                Json::Number(n) => match integer(n) {
                    Some(i) => u32::try_from(i)
                        .map_err(|_| out_of_range(j, "a duration part", 0, u32::MAX.into())),
                    None => Err(not_u32()),
                },
                _ => Err(not_u32()),
            }
            .map_err(|e| e.in_field(name))?;
            out.extend_from_slice(&v.to_le_bytes());
        }
        if !self.opts.allow_unknown_fields {
            if let Some(k) = obj.keys().find(|k| !DURATION_FIELDS.contains(&k.as_str())) {
                return Err(JsonError::new(JsonErrorKind::UnknownField).in_field(k));
            }
        }
        Ok(out)
    }

    #[inline(never)]
    fn nested(&self, node: &Node, json: &Json, depth: u32) -> Result<Value, JsonError> {
        if depth >= MAX_DEPTH {
            return Err(JsonError::new(JsonErrorKind::TooDeep(MAX_DEPTH)));
        }
        let depth = depth + 1;
        Ok(match (&node.kind, json) {
            (Kind::Union(branches), _) => return self.union(branches, json, depth),
            (Kind::Array(item), Json::Array(items)) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, j)| {
                        self.value(*item, j, depth)
                            .map_err(|e| e.at(PathSegment::Index(i)))
                    })
                    .collect::<Result<_, _>>()?,
            ),
            (Kind::Map(values), Json::Object(entries)) => Value::Map(
                entries
                    .iter()
                    .map(|(k, j)| match self.value(*values, j, depth) {
                        Ok(v) => Ok((k.clone(), v)),
                        Err(e) => Err(e.at(PathSegment::Key(k.clone()))),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            (Kind::Record(rec), Json::Object(obj)) => {
                let mut fields = Vec::with_capacity(rec.fields.len());
                let mut found = 0usize;
                for f in &rec.fields {
                    match obj.get(&f.name) {
                        Some(j) => {
                            found += 1;
                            fields.push(
                                self.value(f.node, j, depth)
                                    .map_err(|e| e.in_field(&f.name))?,
                            );
                        }
                        None => match &f.default {
                            Some(d) if self.opts.fill_defaults => fields.push(d.clone()),
                            _ => {
                                return Err(JsonError::new(JsonErrorKind::MissingField {
                                    field: f.name.clone(),
                                }))
                            }
                        },
                    }
                }
                if found < obj.len() && !self.opts.allow_unknown_fields {
                    if let Some(k) = obj.keys().find(|k| !rec.lookup.contains_key(k.as_str())) {
                        return Err(JsonError::new(JsonErrorKind::UnknownField).in_field(k));
                    }
                }
                Value::Record(fields)
            }
            _ => return Err(self.wrong_type(node, json)),
        })
    }

    /// The one-key object `{"<branch name>": value}`, read as that branch when it converts:
    /// `Some(Ok)` when it does, `Some(Err)` when the key names a branch but the value does not
    /// fit it, `None` when the JSON is not such an object.
    fn wrapped(
        &self,
        branches: &[NodeId],
        json: &Json,
        depth: u32,
    ) -> Option<Result<Value, JsonError>> {
        let Json::Object(obj) = json else {
            return None;
        };
        if obj.len() != 1 {
            return None;
        }
        let (key, inner) = obj.iter().next()?;
        let b = branch_named(self.nodes, branches, key)?;
        Some(
            self.value(branches[b], inner, depth)
                .map(|v| Value::Union(b as u32, Box::new(v))),
        )
    }

    fn union(&self, branches: &[NodeId], json: &Json, depth: u32) -> Result<Value, JsonError> {
        let no_branch = || {
            JsonError::new(JsonErrorKind::NoUnionBranch {
                branches: branches
                    .iter()
                    .map(|b| branch_label(&self.nodes[*b as usize]))
                    .collect(),
                got: shown(json),
            })
        };
        if json.is_null() {
            return branches
                .iter()
                .position(|b| matches!(self.nodes[*b as usize].kind, Kind::Null))
                .map(|b| Value::Union(b as u32, Box::new(Value::Null)))
                .ok_or_else(no_branch);
        }
        let wrapper_error = match self.wrapped(branches, json, depth) {
            Some(Ok(v)) => return Ok(v),
            Some(Err(e)) => Some(e),
            None => None,
        };
        let mut candidates = 0usize;
        let mut first_error = None;
        for (i, b) in branches.iter().enumerate() {
            if !may_fit(&self.nodes[*b as usize], json) {
                continue;
            }
            candidates += 1;
            match self.value(*b, json, depth) {
                Ok(v) => return Ok(Value::Union(i as u32, Box::new(v))),
                Err(e) => {
                    if first_error.is_none() {
                        first_error = Some(e);
                    }
                }
            }
        }
        if let Some(e) = wrapper_error {
            return Err(e);
        }
        // The only branch of the JSON's kind failed inside (a record's field, a bad
        // timestamp): its own error says more than the list of branches.
        match first_error {
            Some(e)
                if candidates == 1
                    && !(e.path().is_empty()
                        && matches!(e.kind(), JsonErrorKind::WrongType { .. })) =>
            {
                Err(e)
            }
            _ => Err(no_branch()),
        }
    }
}

#[cold]
fn out_of_range(json: &Json, what: &str, min: i64, max: i64) -> JsonError {
    JsonError::new(JsonErrorKind::OutOfRange(format!(
        "{} is out of range for {what} ({min} to {max})",
        shown(json)
    )))
}

#[cold]
fn bad_uuid(s: &str) -> JsonError {
    JsonError::new(JsonErrorKind::BadFormat(format!(
        "{} is not a UUID like 123e4567-e89b-12d3-a456-426614174000",
        quote(s)
    )))
}

/// A decimal's JSON (a string, or a number through its shortest decimal text).
fn parse_decimal(json: &Json) -> Result<decimal::Parsed, JsonError> {
    let parsed = match json {
        Json::String(s) => decimal::parse(s),
        Json::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => decimal::parse(&f.to_string()),
            _ => decimal::parse(&n.to_string()),
        },
        _ => None,
    };
    parsed.ok_or_else(|| {
        JsonError::new(JsonErrorKind::BadFormat(format!(
            "{} is not a decimal number like 12.34",
            shown(json)
        )))
    })
}

#[cold]
fn decimal_unfit(json: &Json, e: decimal::Unfit, precision: usize, scale: usize) -> JsonError {
    JsonError::new(JsonErrorKind::OutOfRange(match e {
        decimal::Unfit::Scale => format!(
            "{} has more fractional digits than the scale {scale} allows",
            shown(json)
        ),
        decimal::Unfit::Precision(n) => format!(
            "{} has {n} significant digits at scale {scale}, more than the precision {precision}",
            shown(json)
        ),
    }))
}

/// Values → JSON.
struct ToJson<'a> {
    nodes: &'a [Node],
}

fn logical_err(msg: String) -> EncodeError {
    EncodeError::new(EncodeErrorKind::Logical(msg))
}

/// Whether `value` has the shape of the node at its top level (to place a bare value given
/// for a union).
fn shape_fits(node: &Node, value: &Value) -> bool {
    match (&node.kind, value) {
        (Kind::Null, Value::Null)
        | (Kind::Boolean, Value::Boolean(_))
        | (Kind::Int, Value::Int(_))
        | (Kind::Long, Value::Long(_))
        | (Kind::Float, Value::Float(_))
        | (Kind::Double, Value::Double(_))
        | (Kind::Bytes, Value::Bytes(_))
        | (Kind::String, Value::String(_))
        | (Kind::Enum(_), Value::Enum(_))
        | (Kind::Array(_), Value::Array(_))
        | (Kind::Map(_), Value::Map(_)) => true,
        (Kind::Fixed { size }, Value::Fixed(b)) => b.len() == *size,
        (Kind::Record(r), Value::Record(f)) => r.fields.len() == f.len(),
        _ => false,
    }
}

fn float_json(d: f64) -> Json {
    match Number::from_f64(d) {
        Some(n) => Json::Number(n),
        None if d.is_nan() => Json::String("NaN".into()),
        None if d > 0.0 => Json::String("Infinity".into()),
        None => Json::String("-Infinity".into()),
    }
}

impl ToJson<'_> {
    fn mismatch(&self, node: &Node, value: &Value) -> EncodeError {
        EncodeError::new(EncodeErrorKind::Mismatch {
            expected: node.describe(self.nodes),
            found: value.kind_name(),
        })
    }

    fn json(&self, id: NodeId, value: &Value, depth: u32) -> Result<Json, EncodeError> {
        let node = &self.nodes[id as usize];
        Ok(match (&node.kind, value) {
            (Kind::Null, Value::Null) => Json::Null,
            (Kind::Boolean, Value::Boolean(b)) => Json::Bool(*b),
            (Kind::Int, Value::Int(i)) => {
                let text = match node.logical {
                    Some(Logical::Date) => temporal::format_date(*i),
                    Some(Logical::TimeMillis) => {
                        temporal::format_time_of_day(i64::from(*i), Unit::Millis)
                    }
                    _ => None,
                };
                text.map_or_else(|| Json::from(*i), Json::String)
            }
            (Kind::Long, Value::Long(l)) => {
                let text = match node.logical.and_then(timestamp) {
                    Some((unit, local)) => temporal::format_timestamp(*l, unit, local),
                    None if node.logical == Some(Logical::TimeMicros) => {
                        temporal::format_time_of_day(*l, Unit::Micros)
                    }
                    None => None,
                };
                text.map_or_else(|| Json::from(*l), Json::String)
            }
            (Kind::Float, Value::Float(f)) => {
                // The shortest text that reads back as this float, not the double's digits.
                let short: f64 = f.to_string().parse().unwrap_or(f64::from(*f));
                float_json(if short as f32 == *f {
                    short
                } else {
                    f64::from(*f)
                })
            }
            (Kind::Double, Value::Double(d)) => float_json(*d),
            (Kind::String, Value::String(s)) => Json::String(s.clone()),
            (Kind::Bytes, Value::Bytes(b)) => self.bytes(node, b)?,
            (Kind::Fixed { size }, Value::Fixed(b)) => {
                if b.len() != *size {
                    return Err(EncodeError::new(EncodeErrorKind::FixedSize {
                        name: node.short_name(),
                        expected: *size,
                        found: b.len(),
                    }));
                }
                self.bytes(node, b)?
            }
            (Kind::Enum(e), Value::Enum(i)) => match e.symbols.get(*i as usize) {
                Some(s) => Json::String(s.clone()),
                None => {
                    return Err(EncodeError::new(EncodeErrorKind::EnumIndex {
                        name: node.short_name(),
                        index: *i,
                        symbols: e.symbols.len(),
                    }))
                }
            },
            (Kind::Array(_) | Kind::Map(_) | Kind::Record(_) | Kind::Union(_), _) => {
                return self.nested(node, value, depth)
            }
            _ => return Err(self.mismatch(node, value)),
        })
    }

    fn bytes(&self, node: &Node, b: &[u8]) -> Result<Json, EncodeError> {
        Ok(match node.logical {
            Some(Logical::Decimal { scale, .. }) => {
                let (negative, digits) = decimal::from_twos_complement(b).map_err(logical_err)?;
                Json::String(decimal::render(negative, &digits, scale))
            }
            Some(Logical::BigDecimal) if matches!(node.kind, Kind::Bytes) => {
                Json::String(decimal::big_decimal_text(b).map_err(logical_err)?)
            }
            Some(Logical::Uuid) => {
                if b.len() != 16 {
                    return Err(logical_err(format!(
                        "a uuid needs 16 bytes, found {}",
                        b.len()
                    )));
                }
                Json::String(format_uuid(b))
            }
            Some(Logical::Duration) if b.len() == 12 => {
                let mut obj = Map::new();
                for (name, part) in DURATION_FIELDS.iter().zip(b.chunks_exact(4)) {
                    let v = part
                        .iter()
                        .rev()
                        .fold(0u32, |acc, byte| (acc << 8) | u32::from(*byte));
                    obj.insert((*name).to_string(), Json::from(v));
                }
                Json::Object(obj)
            }
            _ => Json::String(BASE64.encode(b)),
        })
    }

    #[inline(never)]
    fn nested(&self, node: &Node, value: &Value, depth: u32) -> Result<Json, EncodeError> {
        if depth >= MAX_DEPTH {
            return Err(logical_err(format!(
                "values nest more than {MAX_DEPTH} levels deep"
            )));
        }
        let depth = depth + 1;
        Ok(match (&node.kind, value) {
            (Kind::Union(branches), Value::Union(b, inner)) => {
                let Some(branch) = branches.get(*b as usize) else {
                    return Err(EncodeError::new(EncodeErrorKind::UnionBranch {
                        index: *b,
                        branches: branches.len(),
                    }));
                };
                self.union(branches, *b as usize, *branch, inner, depth)?
            }
            (Kind::Union(branches), other) => {
                let Some((b, branch)) = branches
                    .iter()
                    .enumerate()
                    .find(|(_, br)| shape_fits(&self.nodes[**br as usize], other))
                else {
                    return Err(EncodeError::new(EncodeErrorKind::NoBranch {
                        union: node.describe(self.nodes),
                        found: other.kind_name(),
                    }));
                };
                self.union(branches, b, *branch, other, depth)?
            }
            (Kind::Array(item), Value::Array(items)) => Json::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        self.json(*item, v, depth)
                            .map_err(|e| e.at(PathSegment::Index(i)))
                    })
                    .collect::<Result<_, _>>()?,
            ),
            (Kind::Map(values), Value::Map(entries)) => {
                let mut obj = Map::new();
                for (k, v) in entries {
                    let j = self
                        .json(*values, v, depth)
                        .map_err(|e| e.at(PathSegment::Key(k.clone())))?;
                    obj.insert(k.clone(), j);
                }
                Json::Object(obj)
            }
            (Kind::Record(rec), Value::Record(fields)) => {
                if fields.len() != rec.fields.len() {
                    return Err(EncodeError::new(EncodeErrorKind::RecordArity {
                        name: node.short_name(),
                        expected: rec.fields.len(),
                        found: fields.len(),
                    }));
                }
                let mut obj = Map::new();
                for (f, v) in rec.fields.iter().zip(fields) {
                    let j = self
                        .json(f.node, v, depth)
                        .map_err(|e| e.in_field(&f.name))?;
                    obj.insert(f.name.clone(), j);
                }
                Json::Object(obj)
            }
            (_, other) => return Err(self.mismatch(node, other)),
        })
    }

    /// Branch `b`'s value, bare unless [`Codec::from_json`] would read the bare JSON as
    /// something else; then wrapped as `{"<branch name>": value}`.
    fn union(
        &self,
        branches: &[NodeId],
        b: usize,
        branch: NodeId,
        inner: &Value,
        depth: u32,
    ) -> Result<Json, EncodeError> {
        let j = self.json(branch, inner, depth)?;
        let reader = FromJson {
            nodes: self.nodes,
            opts: JsonOptions::default(),
        };
        let misread = reader
            .wrapped(branches, &j, depth)
            .is_some_and(|r| r.is_ok())
            || branches[..b].iter().any(|a| {
                let node = &self.nodes[*a as usize];
                may_fit(node, &j) && reader.value(*a, &j, depth).is_ok()
            });
        if !misread {
            return Ok(j);
        }
        let name = self.nodes[branch as usize].type_name();
        if branch_named(self.nodes, branches, name) != Some(b) {
            // Another branch has the same name (a `long` beside a `timestamp-millis`):
            // no wrapper can tell them apart.
            return Ok(j);
        }
        let mut obj = Map::new();
        obj.insert(name.to_string(), j);
        Ok(Json::Object(obj))
    }
}

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
