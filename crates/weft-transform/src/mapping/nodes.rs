//! Questions a mapping asks of schema nodes: nullability, a union's other branches, the
//! record a path steps into.

use weft_schema::codec::{Kind, NodeRef, Value};

/// The branches of a union other than null (with their indexes), or the node itself.
pub(super) fn non_null_branches(node: NodeRef<'_>) -> Vec<(Option<u32>, NodeRef<'_>)> {
    match node.kind() {
        Kind::Union(_) => node
            .branches()
            .into_iter()
            .enumerate()
            .filter(|(_, b)| !matches!(b.kind(), Kind::Null))
            .map(|(k, b)| (Some(k as u32), b))
            .collect(),
        _ => vec![(None, node)],
    }
}

/// Whether values of the node may be null.
pub(super) fn nullable(node: NodeRef<'_>) -> bool {
    match node.kind() {
        Kind::Null => true,
        Kind::Union(_) => node
            .branches()
            .iter()
            .any(|b| matches!(b.kind(), Kind::Null)),
        _ => false,
    }
}

/// The null value of an output node that takes null.
pub(super) fn null_value(node: NodeRef<'_>) -> Option<Value> {
    match node.kind() {
        Kind::Null => Some(Value::Null),
        Kind::Union(_) => node
            .branches()
            .iter()
            .position(|b| matches!(b.kind(), Kind::Null))
            .map(|k| Value::Union(k as u32, Box::new(Value::Null))),
        _ => None,
    }
}

/// The record a path steps into: the node itself, or the record of a `[null, record]` union
/// (and whether it may be null).
pub(super) fn record_of(node: NodeRef<'_>) -> Option<(NodeRef<'_>, bool)> {
    match node.kind() {
        Kind::Record(_) => Some((node, false)),
        Kind::Union(_) => match non_null_branches(node).as_slice() {
            [(_, rec)] if matches!(rec.kind(), Kind::Record(_)) => Some((*rec, nullable(node))),
            _ => None,
        },
        _ => None,
    }
}
