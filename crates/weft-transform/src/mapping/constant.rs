//! Constants from the flow file (`value`, `default`) converted to output values when the
//! mapping is compiled.
//!
//! Each kind of constant goes only to the types it naturally means: a boolean to `boolean`; an
//! integer to `int`, `long`, `float`, `double`, `date` (days) or `timestamp-*` (units); a
//! float to `float` or `double`; a string to `string`, `bytes` (UTF-8), an enum (a symbol),
//! `date` (`YYYY-MM-DD`), `timestamp-*` (RFC 3339; a TOML date-time literal is taken as its
//! text) or `uuid`; an array to an array; a table to a record (by field name, missing fields
//! take their defaults) or a map; null to null. A union takes the first branch that fits.

use weft_schema::codec::{Codec, Kind, NodeRef, Value};

use super::cast::{
    constant_num, num_of, parse_date, parse_timestamp, parse_uuid, EnumTarget, Scalar,
};
use super::spec::Constant;

/// `c` as a value of output node `node`; the error says why it does not fit (empty when it
/// is plainly of another kind).
pub(crate) fn to_value(output: &Codec, node: NodeRef<'_>, c: &Constant) -> Result<Value, String> {
    match (node.kind(), c) {
        (Kind::Union(branches), _) => {
            let mut reasons = Vec::new();
            for (k, b) in branches.iter().enumerate() {
                match to_value(output, output.node(*b), c) {
                    Ok(v) => return Ok(Value::Union(k as u32, Box::new(v))),
                    Err(why) if !matches!(output.node(*b).kind(), Kind::Null) => reasons.push(why),
                    Err(_) => {}
                }
            }
            // With one branch besides null, its reason is the union's.
            match reasons.pop() {
                Some(why) if reasons.is_empty() => Err(why),
                _ => Err(String::new()),
            }
        }
        (Kind::Null, Constant::Null) => Ok(Value::Null),
        (Kind::Array(item), Constant::Array(items)) => {
            let item = output.node(*item);
            items
                .iter()
                .enumerate()
                .map(|(i, x)| {
                    to_value(output, item, x).map_err(|e| nested(&format!("[{i}]"), x, e))
                })
                .collect::<Result<_, _>>()
                .map(Value::Array)
        }
        (Kind::Map(value), Constant::Table(entries)) => {
            let value = output.node(*value);
            entries
                .iter()
                .map(|(k, x)| {
                    to_value(output, value, x)
                        .map(|v| (k.clone(), v))
                        .map_err(|e| nested(k, x, e))
                })
                .collect::<Result<_, _>>()
                .map(Value::Map)
        }
        (Kind::Record(r), Constant::Table(entries)) => {
            if let Some(unknown) = entries.keys().find(|k| !r.lookup.contains_key(*k)) {
                return Err(format!("{} has no field {unknown}", node.describe()));
            }
            let mut out = Vec::with_capacity(r.fields.len());
            for f in &r.fields {
                match (entries.get(&f.name), &f.default) {
                    (Some(x), _) => out.push(
                        to_value(output, output.node(f.node), x)
                            .map_err(|e| nested(&f.name, x, e))?,
                    ),
                    (None, Some(d)) => out.push(d.clone()),
                    (None, None) => {
                        return Err(format!("field {} is missing and has no default", f.name))
                    }
                }
            }
            Ok(Value::Record(out))
        }
        _ => scalar(node, c),
    }
}

fn nested(at: &str, c: &Constant, why: String) -> String {
    if why.is_empty() {
        format!("{at}: {c} does not fit")
    } else {
        format!("{at}: {why}")
    }
}

fn scalar(node: NodeRef<'_>, c: &Constant) -> Result<Value, String> {
    let Some(s) = Scalar::of(node) else {
        return Err(String::new());
    };
    match (c, s) {
        (Constant::Boolean(b), Scalar::Boolean) => Ok(Value::Boolean(*b)),
        (Constant::Integer(i), _) => match num_of(s) {
            Some(n) => constant_num(Some(*i), None, n),
            None => Err(String::new()),
        },
        (Constant::Float(f), Scalar::Float | Scalar::Double) => match num_of(s) {
            Some(n) => constant_num(None, Some(*f), n),
            None => Err(String::new()),
        },
        (Constant::String(t), _) => {
            let r = match s {
                Scalar::String => Ok(Value::String(t.clone())),
                Scalar::Bytes => Ok(Value::Bytes(t.as_bytes().to_vec())),
                Scalar::Enum => EnumTarget::new(node).index(t, true).map(Value::Enum),
                Scalar::Date => parse_date(t).map(Value::Int),
                Scalar::Timestamp(unit, local) => parse_timestamp(t, unit, local).map(Value::Long),
                Scalar::Uuid => parse_uuid(t).map(Value::String),
                _ => return Err(String::new()),
            };
            r.map_err(|f| f.into_inner().message)
        }
        _ => Err(String::new()),
    }
}
