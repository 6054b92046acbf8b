//! The VRL types of schema nodes: what `to_vrl` produces (the programs' input type) and what
//! `from_vrl` accepts (the output check).

use super::*;

/// The VRL type of what [`to_vrl`] produces for `node`: records are objects with their
/// fields known, unions the union of their branches; recursive types become `any` where
/// they recurse (and everything below [`KIND_DEPTH`] levels).
pub fn kind_of(codec: &Codec, node: NodeId) -> VrlKind {
    let mut walk = KindWalk {
        codec,
        stack: Vec::new(),
        budget: KIND_BUDGET,
    };
    walk.kind(codec.node(node), 0)
}

pub(super) struct KindWalk<'a> {
    codec: &'a Codec,
    /// The records being expanded (a record met again recurses).
    stack: Vec<NodeId>,
    budget: u32,
}

impl KindWalk<'_> {
    fn kind(&mut self, node: NodeRef<'_>, depth: u32) -> VrlKind {
        if depth > KIND_DEPTH || self.budget == 0 {
            return VrlKind::any();
        }
        self.budget -= 1;
        let codec = self.codec;
        let logical = node.logical();
        match node.kind() {
            Kind::Null => VrlKind::null(),
            Kind::Boolean => VrlKind::boolean(),
            Kind::Int | Kind::Long => match logical {
                Some(
                    Logical::Date
                    | Logical::TimestampMillis
                    | Logical::TimestampMicros
                    | Logical::TimestampNanos
                    | Logical::LocalTimestampMillis
                    | Logical::LocalTimestampMicros
                    | Logical::LocalTimestampNanos,
                ) => VrlKind::timestamp(),
                _ => VrlKind::integer(),
            },
            Kind::Float | Kind::Double => VrlKind::float(),
            Kind::Bytes | Kind::String | Kind::Enum(_) => VrlKind::bytes(),
            Kind::Fixed { .. } => match logical {
                Some(Logical::Duration) => duration_kind(),
                _ => VrlKind::bytes(),
            },
            Kind::Array(items) => VrlKind::array(Collection::from_unknown(
                self.kind(codec.node(*items), depth + 1),
            )),
            Kind::Map(items) => VrlKind::object(Collection::from_unknown(
                self.kind(codec.node(*items), depth + 1),
            )),
            Kind::Union(branches) => {
                let mut out: Option<VrlKind> = None;
                for b in branches {
                    let k = self.kind(codec.node(*b), depth + 1);
                    out = Some(match out {
                        Some(o) => o.union(k),
                        None => k,
                    });
                }
                out.unwrap_or_else(VrlKind::never)
            }
            Kind::Record(r) => {
                if self.stack.contains(&node.id()) {
                    return VrlKind::any();
                }
                self.stack.push(node.id());
                let known = r
                    .fields
                    .iter()
                    .map(|f| {
                        (
                            Field::from(f.name.as_str()),
                            self.kind(codec.node(f.node), depth + 1),
                        )
                    })
                    .collect();
                self.stack.pop();
                VrlKind::object(Collection::from_parts(known, VrlKind::undefined()))
            }
        }
    }
}

pub(super) fn duration_kind() -> VrlKind {
    VrlKind::object(Collection::from_parts(
        ["months", "days", "milliseconds"]
            .into_iter()
            .map(|n| (Field::from(n), VrlKind::integer()))
            .collect(),
        VrlKind::undefined(),
    ))
}

/// The VRL kinds [`from_vrl`] may accept for `node`, one level deep (collections with any
/// content): used to find program outputs that can never fit.
pub(crate) fn accepted_kind(codec: &Codec, node: NodeRef<'_>) -> VrlKind {
    let logical = node.logical();
    match node.kind() {
        Kind::Null => VrlKind::null(),
        Kind::Boolean => VrlKind::boolean(),
        Kind::Int | Kind::Long => match logical {
            Some(Logical::Date) => VrlKind::timestamp().or_bytes(),
            Some(
                Logical::TimestampMillis
                | Logical::TimestampMicros
                | Logical::TimestampNanos
                | Logical::LocalTimestampMillis
                | Logical::LocalTimestampMicros
                | Logical::LocalTimestampNanos,
            ) => VrlKind::timestamp().or_integer().or_bytes(),
            _ => VrlKind::integer(),
        },
        Kind::Float | Kind::Double => VrlKind::float().or_integer(),
        Kind::Bytes | Kind::Fixed { .. } => match logical {
            Some(Logical::Decimal { .. } | Logical::BigDecimal) => {
                VrlKind::bytes().or_integer().or_float()
            }
            Some(Logical::Duration) => VrlKind::any_object(),
            _ => VrlKind::bytes(),
        },
        Kind::String | Kind::Enum(_) => VrlKind::bytes(),
        Kind::Array(_) => VrlKind::array(Collection::any()),
        Kind::Map(_) | Kind::Record(_) => VrlKind::any_object(),
        Kind::Union(branches) => branches
            .iter()
            .map(|b| accepted_kind(codec, codec.node(*b)))
            .reduce(|a, b| a.union(b))
            .unwrap_or_else(VrlKind::never),
    }
}

/// What `node` wants, for messages: `a long (timestamp-millis)`, `a decimal (precision 10,
/// scale 2)`.
pub(crate) fn expected(node: NodeRef<'_>) -> String {
    match node.logical() {
        Some(Logical::Decimal { precision, scale }) => {
            format!("a decimal (precision {precision}, scale {scale})")
        }
        Some(Logical::BigDecimal) => "a decimal".to_string(),
        Some(Logical::Uuid) => "a UUID string".to_string(),
        Some(Logical::Duration) => "a duration {months, days, milliseconds}".to_string(),
        _ => node.describe(),
    }
}
