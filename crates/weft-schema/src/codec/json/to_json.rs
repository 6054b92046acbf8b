//! Values → the plain JSON [`super`] describes.

use base64::Engine as _;
use serde_json::{Map, Number, Value as Json};

use super::temporal::{self, Unit};
use super::{
    branch_named, decimal, format_uuid, may_fit, timestamp, FromJson, JsonOptions, BASE64,
    DURATION_FIELDS,
};
use crate::codec::error::{EncodeError, EncodeErrorKind, PathSegment};
use crate::codec::read::MAX_DEPTH;
use crate::codec::schema::{Kind, Logical, Node, NodeId};
use crate::codec::value::Value;

/// Values → JSON.
pub(super) struct ToJson<'a> {
    pub(super) nodes: &'a [Node],
}

pub(super) fn logical_err(msg: String) -> EncodeError {
    EncodeError::new(EncodeErrorKind::Logical(msg))
}

pub(super) fn float_json(d: f64) -> Json {
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

    pub(super) fn json(&self, id: NodeId, value: &Value, depth: u32) -> Result<Json, EncodeError> {
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
                    .find(|(_, br)| self.nodes[**br as usize].fits_shape(other))
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
