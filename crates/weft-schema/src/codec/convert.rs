//! Conversions between Weft's [`Value`] and `apache_avro::types::Value`, guided by the
//! compiled schema (field names, enum symbols and logical types live there).

use std::collections::HashMap;

use apache_avro::types::Value as Avro;
use apache_avro::{Decimal, Duration, Schema, Uuid};

use super::error::{EncodeError, EncodeErrorKind as K, PathSegment};
use super::schema::{Kind, Logical, Node, NodeId};
use super::value::Value;
use super::Codec;

fn logical_err(msg: String) -> EncodeError {
    EncodeError::new(K::Logical(msg))
}

fn mismatch(nodes: &[Node], node: &Node, found: &'static str) -> EncodeError {
    EncodeError::new(K::Mismatch {
        expected: node.describe(nodes),
        found,
    })
}

fn avro_kind(v: &Avro) -> &'static str {
    match v {
        Avro::Null => "null",
        Avro::Boolean(_) => "a boolean",
        Avro::Int(_) => "an int",
        Avro::Long(_) => "a long",
        Avro::Float(_) => "a float",
        Avro::Double(_) => "a double",
        Avro::Bytes(_) => "bytes",
        Avro::String(_) => "a string",
        Avro::Fixed(_, _) => "a fixed",
        Avro::Enum(_, _) => "an enum",
        Avro::Union(_, _) => "a union",
        Avro::Array(_) => "an array",
        Avro::Map(_) => "a map",
        Avro::Record(_) => "a record",
        Avro::Date(_) => "a date",
        Avro::Decimal(_) => "a decimal",
        Avro::BigDecimal(_) => "a big-decimal",
        Avro::TimeMillis(_) => "a time-millis",
        Avro::TimeMicros(_) => "a time-micros",
        Avro::TimestampMillis(_) => "a timestamp-millis",
        Avro::TimestampMicros(_) => "a timestamp-micros",
        Avro::TimestampNanos(_) => "a timestamp-nanos",
        Avro::LocalTimestampMillis(_) => "a local-timestamp-millis",
        Avro::LocalTimestampMicros(_) => "a local-timestamp-micros",
        Avro::LocalTimestampNanos(_) => "a local-timestamp-nanos",
        Avro::Duration(_) => "a duration",
        Avro::Uuid(_) => "a uuid",
    }
}

/// The content of a `big-decimal` (what sits inside its `bytes`) as apache-avro writes it.
fn big_decimal_bytes(d: &apache_avro::BigDecimal) -> Result<Vec<u8>, EncodeError> {
    #[allow(deprecated)]
    let framed = apache_avro::to_avro_datum(&Schema::BigDecimal, Avro::BigDecimal(d.clone()))
        .map_err(|e| logical_err(format!("big-decimal does not encode: {e}")))?;
    // Strip the outer length prefix: decode it with our own reader.
    let mut r = super::read::Reader::new(&framed);
    r.len_prefixed("bytes")
        .map(<[u8]>::to_vec)
        .map_err(|e| logical_err(format!("big-decimal does not encode: {e}")))
}

fn big_decimal_from(content: &[u8]) -> Result<apache_avro::BigDecimal, EncodeError> {
    let mut framed = Vec::with_capacity(content.len() + 2);
    super::write::write_long(&mut framed, content.len() as i64);
    framed.extend_from_slice(content);
    #[allow(deprecated)]
    match apache_avro::from_avro_datum(&Schema::BigDecimal, &mut framed.as_slice(), None) {
        Ok(Avro::BigDecimal(d)) => Ok(d),
        Ok(other) => Err(logical_err(format!(
            "big-decimal bytes decode as {}",
            avro_kind(&other)
        ))),
        Err(e) => Err(logical_err(format!("big-decimal bytes do not decode: {e}"))),
    }
}

/// Sign-extends or trims big-endian two's-complement bytes to `size`.
fn decimal_to_size(bytes: Vec<u8>, size: usize) -> Result<Vec<u8>, EncodeError> {
    use std::cmp::Ordering;
    let negative = bytes.first().is_some_and(|b| b & 0x80 != 0);
    let pad = if negative { 0xff } else { 0 };
    match bytes.len().cmp(&size) {
        Ordering::Equal => Ok(bytes),
        Ordering::Less => {
            let mut out = vec![pad; size - bytes.len()];
            out.extend_from_slice(&bytes);
            Ok(out)
        }
        Ordering::Greater => {
            let extra = bytes.len() - size;
            let trimmed = &bytes[extra..];
            let sign_kept = trimmed.first().is_some_and(|b| (b & 0x80 != 0) == negative);
            if bytes[..extra].iter().all(|b| *b == pad) && sign_kept {
                Ok(trimmed.to_vec())
            } else {
                Err(logical_err(format!(
                    "decimal needs {} bytes, more than the fixed size {size}",
                    bytes.len()
                )))
            }
        }
    }
}

fn to_avro(nodes: &[Node], id: NodeId, v: &Value) -> Result<Avro, EncodeError> {
    let node = &nodes[id as usize];
    let logical = node.logical;
    Ok(match (&node.kind, v) {
        (Kind::Null, Value::Null) => Avro::Null,
        (Kind::Boolean, Value::Boolean(b)) => Avro::Boolean(*b),
        (Kind::Int, Value::Int(i)) => match logical {
            Some(Logical::Date) => Avro::Date(*i),
            Some(Logical::TimeMillis) => Avro::TimeMillis(*i),
            _ => Avro::Int(*i),
        },
        (Kind::Long, Value::Long(l)) => match logical {
            Some(Logical::TimeMicros) => Avro::TimeMicros(*l),
            Some(Logical::TimestampMillis) => Avro::TimestampMillis(*l),
            Some(Logical::TimestampMicros) => Avro::TimestampMicros(*l),
            Some(Logical::TimestampNanos) => Avro::TimestampNanos(*l),
            Some(Logical::LocalTimestampMillis) => Avro::LocalTimestampMillis(*l),
            Some(Logical::LocalTimestampMicros) => Avro::LocalTimestampMicros(*l),
            Some(Logical::LocalTimestampNanos) => Avro::LocalTimestampNanos(*l),
            _ => Avro::Long(*l),
        },
        (Kind::Float, Value::Float(f)) => Avro::Float(*f),
        (Kind::Double, Value::Double(d)) => Avro::Double(*d),
        (Kind::Bytes, Value::Bytes(b)) => match logical {
            Some(Logical::Decimal { .. }) => Avro::Decimal(Decimal::from(b)),
            Some(Logical::BigDecimal) => Avro::BigDecimal(big_decimal_from(b)?),
            Some(Logical::Uuid) => Avro::Uuid(
                Uuid::from_slice(b).map_err(|e| logical_err(format!("uuid bytes: {e}")))?,
            ),
            _ => Avro::Bytes(b.clone()),
        },
        (Kind::String, Value::String(s)) => match logical {
            Some(Logical::Uuid) => {
                Avro::Uuid(Uuid::parse_str(s).map_err(|e| logical_err(format!("uuid {s:?}: {e}")))?)
            }
            _ => Avro::String(s.clone()),
        },
        (Kind::Fixed { size }, Value::Fixed(b)) => {
            if b.len() != *size {
                return Err(EncodeError::new(K::FixedSize {
                    name: node.short_name(),
                    expected: *size,
                    found: b.len(),
                }));
            }
            match logical {
                Some(Logical::Decimal { .. }) => Avro::Decimal(Decimal::from(b)),
                Some(Logical::Uuid) => Avro::Uuid(
                    Uuid::from_slice(b).map_err(|e| logical_err(format!("uuid bytes: {e}")))?,
                ),
                Some(Logical::Duration) => {
                    let mut a = [0u8; 12];
                    if b.len() != 12 {
                        return Err(logical_err("a duration needs 12 bytes".into()));
                    }
                    a.copy_from_slice(b);
                    Avro::Duration(Duration::from(a))
                }
                _ => Avro::Fixed(*size, b.clone()),
            }
        }
        (Kind::Enum(e), Value::Enum(i)) => match e.symbols.get(*i as usize) {
            Some(s) => Avro::Enum(*i, s.clone()),
            None => {
                return Err(EncodeError::new(K::EnumIndex {
                    name: node.short_name(),
                    index: *i,
                    symbols: e.symbols.len(),
                }))
            }
        },
        (Kind::Union(branches), Value::Union(b, inner)) => {
            let Some(branch) = branches.get(*b as usize) else {
                return Err(EncodeError::new(K::UnionBranch {
                    index: *b,
                    branches: branches.len(),
                }));
            };
            Avro::Union(*b, Box::new(to_avro(nodes, *branch, inner)?))
        }
        (Kind::Array(item), Value::Array(items)) => Avro::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| to_avro(nodes, *item, v).map_err(|e| e.at(PathSegment::Index(i))))
                .collect::<Result<_, _>>()?,
        ),
        (Kind::Map(values), Value::Map(entries)) => Avro::Map(
            entries
                .iter()
                .map(|(k, v)| {
                    to_avro(nodes, *values, v)
                        .map(|a| (k.clone(), a))
                        .map_err(|e| e.at(PathSegment::Key(k.clone())))
                })
                .collect::<Result<HashMap<_, _>, _>>()?,
        ),
        (Kind::Record(rec), Value::Record(fields)) => {
            if fields.len() != rec.fields.len() {
                return Err(EncodeError::new(K::RecordArity {
                    name: node.short_name(),
                    expected: rec.fields.len(),
                    found: fields.len(),
                }));
            }
            let mut out = Vec::with_capacity(fields.len());
            for (f, v) in rec.fields.iter().zip(fields) {
                let a = to_avro(nodes, f.node, v).map_err(|e| e.in_field(&f.name))?;
                out.push((f.name.clone(), a));
            }
            Avro::Record(out)
        }
        (_, other) => return Err(mismatch(nodes, node, other.kind_name())),
    })
}

fn from_avro(nodes: &[Node], id: NodeId, v: &Avro) -> Result<Value, EncodeError> {
    let node = &nodes[id as usize];
    Ok(match (&node.kind, v) {
        (Kind::Union(branches), Avro::Union(b, inner)) => {
            let Some(branch) = branches.get(*b as usize) else {
                return Err(EncodeError::new(K::UnionBranch {
                    index: *b,
                    branches: branches.len(),
                }));
            };
            Value::Union(*b, Box::new(from_avro(nodes, *branch, inner)?))
        }
        (Kind::Union(branches), other) => {
            // A bare value: the first branch it converts to.
            for (i, b) in branches.iter().enumerate() {
                if let Ok(v) = from_avro(nodes, *b, other) {
                    return Ok(Value::Union(i as u32, Box::new(v)));
                }
            }
            return Err(EncodeError::new(K::NoBranch {
                union: node.describe(nodes),
                found: avro_kind(other),
            }));
        }
        (Kind::Null, Avro::Null) => Value::Null,
        (Kind::Boolean, Avro::Boolean(b)) => Value::Boolean(*b),
        (Kind::Int, Avro::Int(i) | Avro::Date(i) | Avro::TimeMillis(i)) => Value::Int(*i),
        (
            Kind::Long,
            Avro::Long(l)
            | Avro::TimeMicros(l)
            | Avro::TimestampMillis(l)
            | Avro::TimestampMicros(l)
            | Avro::TimestampNanos(l)
            | Avro::LocalTimestampMillis(l)
            | Avro::LocalTimestampMicros(l)
            | Avro::LocalTimestampNanos(l),
        ) => Value::Long(*l),
        (Kind::Long, Avro::Int(i)) => Value::Long(i64::from(*i)),
        (Kind::Float, Avro::Float(f)) => Value::Float(*f),
        (Kind::Double, Avro::Double(d)) => Value::Double(*d),
        (Kind::Double, Avro::Float(f)) => Value::Double(f64::from(*f)),
        (Kind::Bytes, Avro::Bytes(b)) => Value::Bytes(b.clone()),
        (Kind::Bytes, Avro::Decimal(d)) => {
            Value::Bytes(Vec::<u8>::try_from(d).map_err(|e| logical_err(format!("decimal: {e}")))?)
        }
        (Kind::Bytes, Avro::BigDecimal(d)) => Value::Bytes(big_decimal_bytes(d)?),
        (Kind::Bytes, Avro::Uuid(u)) => Value::Bytes(u.as_bytes().to_vec()),
        (Kind::String, Avro::String(s)) => Value::String(s.clone()),
        (Kind::String, Avro::Uuid(u)) => Value::String(u.to_string()),
        (Kind::Fixed { size }, Avro::Fixed(n, b)) => {
            if *n != *size || b.len() != *size {
                return Err(EncodeError::new(K::FixedSize {
                    name: node.short_name(),
                    expected: *size,
                    found: b.len(),
                }));
            }
            Value::Fixed(b.clone())
        }
        (Kind::Fixed { size }, Avro::Decimal(d)) => {
            let bytes = Vec::<u8>::try_from(d).map_err(|e| logical_err(format!("decimal: {e}")))?;
            Value::Fixed(decimal_to_size(bytes, *size)?)
        }
        (Kind::Fixed { size: 16 }, Avro::Uuid(u)) => Value::Fixed(u.as_bytes().to_vec()),
        (Kind::Fixed { size: 12 }, Avro::Duration(d)) => {
            let a: [u8; 12] = (*d).into();
            Value::Fixed(a.to_vec())
        }
        (Kind::Enum(e), Avro::Enum(_, symbol)) => match e.lookup.get(symbol) {
            Some(index) => Value::Enum(*index),
            None => {
                return Err(logical_err(format!(
                    "symbol {symbol:?} is not one of the {} symbols of {}",
                    e.symbols.len(),
                    node.short_name()
                )))
            }
        },
        (Kind::Enum(e), Avro::String(symbol)) => match e.lookup.get(symbol) {
            Some(index) => Value::Enum(*index),
            None => {
                return Err(logical_err(format!(
                    "symbol {symbol:?} is not one of the symbols of {}",
                    node.short_name()
                )))
            }
        },
        (Kind::Array(item), Avro::Array(items)) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| from_avro(nodes, *item, v).map_err(|e| e.at(PathSegment::Index(i))))
                .collect::<Result<_, _>>()?,
        ),
        (Kind::Map(values), Avro::Map(entries)) => Value::Map(
            entries
                .iter()
                .map(|(k, v)| {
                    from_avro(nodes, *values, v)
                        .map(|a| (k.clone(), a))
                        .map_err(|e| e.at(PathSegment::Key(k.clone())))
                })
                .collect::<Result<_, _>>()?,
        ),
        (Kind::Record(rec), Avro::Record(fields)) => {
            let mut out = Vec::with_capacity(rec.fields.len());
            for (i, f) in rec.fields.iter().enumerate() {
                // Fields usually come in schema order; look them up by name otherwise.
                let found = match fields.get(i) {
                    Some((name, v)) if *name == f.name => Some(v),
                    _ => fields
                        .iter()
                        .find(|(name, _)| *name == f.name)
                        .map(|(_, v)| v),
                };
                let v = match (found, &f.default) {
                    (Some(v), _) => from_avro(nodes, f.node, v).map_err(|e| e.in_field(&f.name))?,
                    (None, Some(d)) => d.clone(),
                    (None, None) => {
                        return Err(EncodeError::new(K::MissingField {
                            name: node.short_name(),
                            field: f.name.clone(),
                        }))
                    }
                };
                out.push(v);
            }
            Value::Record(out)
        }
        (_, other) => return Err(mismatch(nodes, node, avro_kind(other))),
    })
}

impl Codec {
    /// Converts a value of this schema to apache-avro's generic value (with field names,
    /// enum symbols and logical-type variants such as `TimestampMillis`).
    pub fn to_avro(&self, value: &Value) -> Result<Avro, EncodeError> {
        to_avro(self.nodes(), self.root_id(), value)
    }

    /// Converts apache-avro's generic value to a value of this schema. Record fields are
    /// matched by name (missing ones take their defaults), logical-type variants become
    /// their underlying values, and a bare value given for a union goes to the first
    /// branch it fits.
    pub fn from_avro(&self, value: &Avro) -> Result<Value, EncodeError> {
        from_avro(self.nodes(), self.root_id(), value)
    }
}
