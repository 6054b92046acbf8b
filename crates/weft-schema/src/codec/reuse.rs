//! Decoding into an existing value, reusing its allocations.

use super::error::{DecodeError, PathSegment};
use super::read::{enum_index, too_deep, union_branch, Reader, MAX_DEPTH};
use super::schema::{Kind, Node, NodeId};
use super::value::Value;

/// Decodes one value of node `id` into `slot`, reusing the allocations `slot` already holds
/// (strings, byte vectors, record and array vectors, union boxes) where its shape matches.
pub(crate) fn read_reuse(
    nodes: &[Node],
    id: NodeId,
    r: &mut Reader<'_>,
    depth: u32,
    slot: &mut Value,
) -> Result<(), DecodeError> {
    let node = &nodes[id as usize];
    match (&node.kind, &mut *slot) {
        (Kind::Null, _) => *slot = Value::Null,
        (Kind::Boolean, _) => *slot = Value::Boolean(r.boolean()?),
        (Kind::Int, _) => *slot = Value::Int(r.int()?),
        (Kind::Long, _) => *slot = Value::Long(r.long()?),
        (Kind::Float, _) => *slot = Value::Float(r.float()?),
        (Kind::Double, _) => *slot = Value::Double(r.double()?),
        (Kind::Enum(e), _) => *slot = Value::Enum(enum_index(r, e.symbols.len())?),
        (Kind::String, Value::String(s)) => {
            let text = r.str()?;
            s.clear();
            s.push_str(text);
        }
        (Kind::String, _) => *slot = Value::String(r.str()?.to_owned()),
        (Kind::Bytes, Value::Bytes(b)) => {
            let bytes = r.len_prefixed("bytes")?;
            b.clear();
            b.extend_from_slice(bytes);
        }
        (Kind::Bytes, _) => *slot = Value::Bytes(r.len_prefixed("bytes")?.to_vec()),
        (Kind::Fixed { size }, Value::Fixed(b)) => {
            let bytes = r.take(*size, "a fixed")?;
            b.clear();
            b.extend_from_slice(bytes);
        }
        (Kind::Fixed { size }, _) => *slot = Value::Fixed(r.take(*size, "a fixed")?.to_vec()),
        _ => {
            if depth > MAX_DEPTH {
                return Err(too_deep(r));
            }
            read_reuse_nested(nodes, node, r, depth + 1, slot)?;
        }
    }
    Ok(())
}

fn read_reuse_nested(
    nodes: &[Node],
    node: &Node,
    r: &mut Reader<'_>,
    depth: u32,
    slot: &mut Value,
) -> Result<(), DecodeError> {
    match &node.kind {
        Kind::Union(branches) => {
            let b = union_branch(r, branches.len())?;
            if let Value::Union(branch, inner) = slot {
                *branch = b as u32;
                return read_reuse(nodes, branches[b], r, depth, inner);
            }
            let mut inner = Value::Null;
            read_reuse(nodes, branches[b], r, depth, &mut inner)?;
            *slot = Value::Union(b as u32, Box::new(inner));
        }
        Kind::Record(rec) => {
            let n = rec.fields.len();
            if !matches!(slot, Value::Record(f) if f.len() == n) {
                *slot = Value::Record(vec![Value::Null; n]);
            }
            if let Value::Record(fields) = slot {
                for (f, v) in rec.fields.iter().zip(fields.iter_mut()) {
                    if let Err(e) = read_reuse(nodes, f.node, r, depth, v) {
                        return Err(e.in_field(&f.name));
                    }
                }
            }
        }
        Kind::Array(item) => {
            if !matches!(slot, Value::Array(_)) {
                *slot = Value::Array(Vec::new());
            }
            let Value::Array(items) = slot else {
                return Ok(());
            };
            let item_min = nodes[*item as usize].min_size;
            let mut len = 0usize;
            loop {
                let n = r.block_len("array block", item_min, false)?;
                if n == 0 {
                    break;
                }
                for _ in 0..n {
                    if len == items.len() {
                        items.push(Value::Null);
                    }
                    read_reuse(nodes, *item, r, depth, &mut items[len])
                        .map_err(|e| e.at(PathSegment::Index(len)))?;
                    len += 1;
                }
            }
            items.truncate(len);
        }
        Kind::Map(values) => {
            if !matches!(slot, Value::Map(_)) {
                *slot = Value::Map(Vec::new());
            }
            let Value::Map(entries) = slot else {
                return Ok(());
            };
            let item_min = nodes[*values as usize].min_size;
            let mut len = 0usize;
            loop {
                let n = r.block_len("map block", item_min, true)?;
                if n == 0 {
                    break;
                }
                for _ in 0..n {
                    let key = r.str()?;
                    if len == entries.len() {
                        entries.push((String::new(), Value::Null));
                    }
                    let (k, v) = &mut entries[len];
                    k.clear();
                    k.push_str(key);
                    read_reuse(nodes, *values, r, depth, v)
                        .map_err(|e| e.at(PathSegment::Key(key.to_string())))?;
                    len += 1;
                }
            }
            entries.truncate(len);
        }
        // Scalars are handled by `read_reuse`.
        _ => {
            let nodes = std::slice::from_ref(node);
            read_reuse(nodes, 0, r, depth, slot)?;
        }
    }
    Ok(())
}
