//! Encoding: checks that each value fits its node while writing it.

use super::error::{EncodeError, EncodeErrorKind as K, PathSegment};
use super::read::MAX_DEPTH;
use super::schema::{Kind, Node, NodeId};
use super::value::Value;

#[inline]
pub(crate) fn write_long(out: &mut Vec<u8>, n: i64) {
    let mut z = ((n << 1) ^ (n >> 63)) as u64;
    if z < 0x80 {
        out.push(z as u8);
        return;
    }
    let mut buf = [0u8; 10];
    let mut i = 0;
    while z >= 0x80 {
        buf[i] = (z as u8) | 0x80;
        z >>= 7;
        i += 1;
    }
    buf[i] = z as u8;
    out.extend_from_slice(&buf[..=i]);
}

#[inline]
fn write_bytes(out: &mut Vec<u8>, b: &[u8]) {
    write_long(out, b.len() as i64);
    out.extend_from_slice(b);
}

#[cold]
#[inline(never)]
fn mismatch(nodes: &[Node], node: &Node, found: &Value) -> EncodeError {
    EncodeError::new(K::Mismatch {
        expected: node.describe(nodes),
        found: found.kind_name(),
    })
}

/// Encodes `value` as node `id`, appending to `out`. Scalars are written inline in the
/// caller, nested types (and every mismatch) out of line.
#[inline(always)]
pub(crate) fn write(
    nodes: &[Node],
    id: NodeId,
    value: &Value,
    out: &mut Vec<u8>,
    depth: u32,
) -> Result<(), EncodeError> {
    let node = &nodes[id as usize];
    match (&node.kind, value) {
        (Kind::Null, Value::Null) => {}
        (Kind::Boolean, Value::Boolean(b)) => out.push(u8::from(*b)),
        (Kind::Int, Value::Int(i)) => write_long(out, i64::from(*i)),
        (Kind::Long, Value::Long(l)) => write_long(out, *l),
        (Kind::Float, Value::Float(f)) => out.extend_from_slice(&f.to_le_bytes()),
        (Kind::Double, Value::Double(d)) => out.extend_from_slice(&d.to_le_bytes()),
        (Kind::Bytes, Value::Bytes(b)) => write_bytes(out, b),
        (Kind::String, Value::String(s)) => write_bytes(out, s.as_bytes()),
        (Kind::Fixed { size }, Value::Fixed(b)) if b.len() == *size => out.extend_from_slice(b),
        (Kind::Enum(e), Value::Enum(i)) if (*i as usize) < e.symbols.len() => {
            write_long(out, i64::from(*i))
        }
        _ => write_nested(nodes, node, value, out, depth)?,
    }
    Ok(())
}

#[inline(never)]
fn write_nested(
    nodes: &[Node],
    node: &Node,
    value: &Value,
    out: &mut Vec<u8>,
    depth: u32,
) -> Result<(), EncodeError> {
    if depth > MAX_DEPTH {
        return Err(EncodeError::new(K::Logical(format!(
            "values nest more than {MAX_DEPTH} levels deep"
        ))));
    }
    let depth = depth + 1;
    match (&node.kind, value) {
        (Kind::Fixed { size }, Value::Fixed(b)) => {
            return Err(EncodeError::new(K::FixedSize {
                name: node.short_name(),
                expected: *size,
                found: b.len(),
            }));
        }
        (Kind::Enum(e), Value::Enum(i)) => {
            return Err(EncodeError::new(K::EnumIndex {
                name: node.short_name(),
                index: *i,
                symbols: e.symbols.len(),
            }));
        }
        (Kind::Union(branches), Value::Union(b, inner)) => {
            let Some(branch) = branches.get(*b as usize) else {
                return Err(EncodeError::new(K::UnionBranch {
                    index: *b,
                    branches: branches.len(),
                }));
            };
            write_long(out, i64::from(*b));
            write(nodes, *branch, inner, out, depth)?;
        }
        (Kind::Union(branches), other) => {
            // A bare value goes to the first branch of its shape.
            let Some((b, branch)) = branches
                .iter()
                .enumerate()
                .find(|(_, br)| nodes[**br as usize].fits_shape(other))
            else {
                return Err(EncodeError::new(K::NoBranch {
                    union: node.describe(nodes),
                    found: other.kind_name(),
                }));
            };
            write_long(out, b as i64);
            write(nodes, *branch, other, out, depth)?;
        }
        (Kind::Record(rec), Value::Record(fields)) => {
            if fields.len() != rec.fields.len() {
                return Err(EncodeError::new(K::RecordArity {
                    name: node.short_name(),
                    expected: rec.fields.len(),
                    found: fields.len(),
                }));
            }
            for (f, v) in rec.fields.iter().zip(fields) {
                if let Err(e) = write(nodes, f.node, v, out, depth) {
                    return Err(e.in_field(&f.name));
                }
            }
        }
        (Kind::Array(item), Value::Array(items)) => {
            if !items.is_empty() {
                write_long(out, items.len() as i64);
                for (i, v) in items.iter().enumerate() {
                    write(nodes, *item, v, out, depth).map_err(|e| e.at(PathSegment::Index(i)))?;
                }
            }
            out.push(0);
        }
        (Kind::Map(values), Value::Map(entries)) => {
            if !entries.is_empty() {
                write_long(out, entries.len() as i64);
                for (k, v) in entries {
                    write_bytes(out, k.as_bytes());
                    write(nodes, *values, v, out, depth)
                        .map_err(|e| e.at(PathSegment::Key(k.clone())))?;
                }
            }
            out.push(0);
        }
        (_, other) => return Err(mismatch(nodes, node, other)),
    }
    Ok(())
}
