//! Avro values ↔ VRL values, guided by the compiled schema.
//!
//! | Avro | VRL ([`to_vrl`]) | accepted back ([`from_vrl`]) |
//! |------|------------------|------------------------------|
//! | `null` | null | null |
//! | `boolean` | boolean | boolean |
//! | `int`, `long` | integer | integer (range-checked for `int`) |
//! | `float`, `double` | float (NaN and ±infinity become **null**: VRL floats are never NaN) | float or integer |
//! | `string` | string | string (UTF-8) |
//! | `bytes`, `fixed` | bytes | string/bytes (a `fixed` of exactly its size) |
//! | `enum` | the symbol as a string | a string naming a symbol |
//! | union | the branch's value | the first branch that accepts the value (null → the null branch) |
//! | `array` | array | array |
//! | `map` | object | object |
//! | record | object keyed by field name | object: fields by name, missing/null → the field's default, unknown keys ignored |
//! | `timestamp-*`, `local-timestamp-*` | timestamp (UTC) | timestamp, integer (epoch in the type's unit) or RFC 3339 text |
//! | `date` | timestamp at midnight UTC | timestamp (its UTC date) or `"YYYY-MM-DD"` |
//! | `time-millis`, `time-micros` | integer | integer |
//! | `decimal`, `big-decimal` | the decimal text (`"12.34"`, exactly) | text, integer or float, rounded half away from zero to the scale, refused beyond the precision |
//! | `uuid` | the canonical text | canonical text (16 bytes on `bytes`/`fixed`) |
//! | `duration` | object `{months, days, milliseconds}` | the same object (missing parts are 0) |
//!
//! No other implicit conversion happens on the way back: a string never silently becomes a
//! number, so a program mistake shows up as an [`ConvertError`] naming the field path.
//!
//! [`kind_of`] gives the VRL type of what [`to_vrl`] produces, so a program compiled against
//! the input schema is type-checked (`.amount_cents` is known to be an integer). A NaN float
//! arrives as null although the type says float: arithmetic on it then fails at run time as a
//! program error.

mod decimal;

mod from_vrl;
mod kind;
pub(crate) use from_vrl::describe;
pub use from_vrl::{from_vrl, record_from_vrl, ConvertError};
pub use kind::kind_of;
pub(crate) use kind::{accepted_kind, expected};
#[cfg(test)]
mod tests;

use std::fmt::{self, Write as _};

use chrono::{DateTime, NaiveDate, Utc};
use vrl::prelude::{Bytes, Collection, Field, NotNan};
use vrl::value::{KeyString, Kind as VrlKind, ObjectMap, Value as VrlValue};
use weft_core::{Classify, ErrorClass, ErrorCode};
use weft_schema::codec::{
    Codec, FieldNode, Kind, Logical, NodeId, NodeRef, PathSegment, Value, MAX_DEPTH,
};

/// How deep [`kind_of`] describes nested types before it says `any` (recursive schemas are
/// cut where they recurse, whatever the depth).
const KIND_DEPTH: u32 = 24;

/// How many schema nodes [`kind_of`] expands at most (a named type used in many places is
/// expanded at each); beyond it, types are `any`.
const KIND_BUDGET: u32 = 20_000;

const SECONDS_PER_DAY: i64 = 86_400;

// ---------------------------------------------------------------------------------------
// Avro → VRL

/// The VRL value of the root record of `codec`.
pub fn record_to_vrl(codec: &Codec, value: &Value) -> VrlValue {
    to_vrl(codec, codec.root().id(), value)
}

/// The VRL object of a record value with only the fields at `indices` (of the codec's root
/// record): what a route condition that reads only those fields needs.
pub fn record_fields_to_vrl(codec: &Codec, value: &Value, indices: &[usize]) -> VrlValue {
    let root = codec.root();
    let (Kind::Record(r), Value::Record(fields)) = (root.kind(), value) else {
        return record_to_vrl(codec, value);
    };
    let mut map = ObjectMap::new();
    for &i in indices {
        if let (Some(field), Some(v)) = (r.fields.get(i), fields.get(i)) {
            map.insert(
                KeyString::from(field.name.as_str()),
                to(codec, codec.node(field.node), v, 1),
            );
        }
    }
    VrlValue::Object(map)
}

/// The VRL value of `value`, a value of `node`. Infallible: a value that does not fit its
/// node is converted as well as it can be, without the schema's help.
pub fn to_vrl(codec: &Codec, node: NodeId, value: &Value) -> VrlValue {
    to(codec, codec.node(node), value, 0)
}

fn to(codec: &Codec, node: NodeRef<'_>, value: &Value, depth: u32) -> VrlValue {
    if depth > MAX_DEPTH {
        return VrlValue::Null;
    }
    match (node.kind(), value) {
        (Kind::Union(branches), Value::Union(b, inner)) => match branches.get(*b as usize) {
            Some(id) => to(codec, codec.node(*id), inner, depth + 1),
            None => plain(inner, depth + 1),
        },
        (Kind::Record(r), Value::Record(fields)) => {
            let mut map = ObjectMap::new();
            for (field, v) in r.fields.iter().zip(fields) {
                map.insert(
                    KeyString::from(field.name.as_str()),
                    to(codec, codec.node(field.node), v, depth + 1),
                );
            }
            VrlValue::Object(map)
        }
        (Kind::Array(items), Value::Array(values)) => {
            let items = codec.node(*items);
            VrlValue::Array(
                values
                    .iter()
                    .map(|v| to(codec, items, v, depth + 1))
                    .collect(),
            )
        }
        (Kind::Map(items), Value::Map(entries)) => {
            let items = codec.node(*items);
            VrlValue::Object(
                entries
                    .iter()
                    .map(|(k, v)| (KeyString::from(k.as_str()), to(codec, items, v, depth + 1)))
                    .collect(),
            )
        }
        (Kind::Enum(e), Value::Enum(i)) => match e.symbols.get(*i as usize) {
            Some(symbol) => VrlValue::from(symbol.as_str()),
            None => VrlValue::Integer(i64::from(*i)),
        },
        (_, v) => logical_to(node.logical(), v).unwrap_or_else(|| plain(v, depth)),
    }
}

/// The VRL value of a logical type's carrier; `None` when it is not one (or does not fit).
fn logical_to(logical: Option<Logical>, value: &Value) -> Option<VrlValue> {
    let v = match (logical?, value) {
        (Logical::Date, Value::Int(days)) => timestamp(DateTime::from_timestamp(
            i64::from(*days) * SECONDS_PER_DAY,
            0,
        )),
        (Logical::TimestampMillis | Logical::LocalTimestampMillis, Value::Long(t)) => {
            timestamp(DateTime::from_timestamp_millis(*t))
        }
        (Logical::TimestampMicros | Logical::LocalTimestampMicros, Value::Long(t)) => {
            timestamp(DateTime::from_timestamp_micros(*t))
        }
        (Logical::TimestampNanos | Logical::LocalTimestampNanos, Value::Long(t)) => {
            VrlValue::Timestamp(DateTime::from_timestamp_nanos(*t))
        }
        (Logical::Decimal { scale, .. }, Value::Bytes(b) | Value::Fixed(b)) => {
            VrlValue::from(decimal::to_text(b, scale)?)
        }
        (Logical::BigDecimal, Value::Bytes(b)) => VrlValue::from(decimal::big_decimal_text(b)?),
        (Logical::Uuid, Value::Bytes(b) | Value::Fixed(b)) if b.len() == 16 => {
            VrlValue::from(decimal::format_uuid(b))
        }
        (Logical::Duration, Value::Fixed(b)) if b.len() == 12 => {
            let part = |i: usize| {
                let mut word = [0u8; 4];
                word.copy_from_slice(&b[i..i + 4]);
                VrlValue::Integer(i64::from(u32::from_le_bytes(word)))
            };
            let mut map = ObjectMap::new();
            map.insert("months".into(), part(0));
            map.insert("days".into(), part(4));
            map.insert("milliseconds".into(), part(8));
            VrlValue::Object(map)
        }
        _ => return None,
    };
    Some(v)
}

fn timestamp(t: Option<DateTime<Utc>>) -> VrlValue {
    t.map_or(VrlValue::Null, VrlValue::Timestamp)
}

fn float(f: f64) -> VrlValue {
    NotNan::new(f)
        .ok()
        .filter(|f| f.is_finite())
        .map_or(VrlValue::Null, VrlValue::Float)
}

/// A value converted without its schema (best effort for values that do not fit their node).
fn plain(value: &Value, depth: u32) -> VrlValue {
    if depth > MAX_DEPTH {
        return VrlValue::Null;
    }
    match value {
        Value::Null => VrlValue::Null,
        Value::Boolean(b) => VrlValue::Boolean(*b),
        Value::Int(i) => VrlValue::Integer(i64::from(*i)),
        Value::Long(l) => VrlValue::Integer(*l),
        Value::Float(f) => float(f64::from(*f)),
        Value::Double(d) => float(*d),
        Value::Bytes(b) | Value::Fixed(b) => VrlValue::Bytes(Bytes::copy_from_slice(b)),
        Value::String(s) => VrlValue::from(s.as_str()),
        Value::Enum(i) => VrlValue::Integer(i64::from(*i)),
        Value::Union(_, inner) => plain(inner, depth + 1),
        Value::Array(items) | Value::Record(items) => {
            VrlValue::Array(items.iter().map(|v| plain(v, depth + 1)).collect())
        }
        Value::Map(entries) => VrlValue::Object(
            entries
                .iter()
                .map(|(k, v)| (KeyString::from(k.as_str()), plain(v, depth + 1)))
                .collect(),
        ),
    }
}
