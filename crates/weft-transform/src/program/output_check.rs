//! The start-up check of a program's final type against the output schema.

use super::*;

pub(super) fn check_record(
    codec: &Codec,
    record: NodeRef<'_>,
    kind: &VrlKind,
    prefix: &str,
    problems: &mut Vec<String>,
    depth: u32,
) {
    if depth > 16 {
        return;
    }
    for field in record.fields() {
        let path = if prefix.is_empty() {
            field.name.clone()
        } else {
            format!("{prefix}.{}", field.name)
        };
        let field_kind = field_kind(kind, &field.name);
        check_field(codec, field, &field_kind, &path, problems, depth);
    }
}

/// The type of an object's field, `undefined` included when it may be missing.
fn field_kind(kind: &VrlKind, name: &str) -> VrlKind {
    let Some(object) = kind.as_object() else {
        return if kind.is_any() {
            VrlKind::any()
        } else {
            VrlKind::undefined()
        };
    };
    let mut k = object
        .known()
        .get(&Field::from(name))
        .cloned()
        .unwrap_or_else(|| object.unknown_kind());
    if !kind.is_exact() {
        k = k.or_undefined();
    }
    k
}

fn check_field(
    codec: &Codec,
    field: &FieldNode,
    kind: &VrlKind,
    path: &str,
    problems: &mut Vec<String>,
    depth: u32,
) {
    if kind.is_any() {
        return;
    }
    let node = codec.node(field.node);
    let nullable = matches!(node.kind(), Kind::Null)
        || node
            .branches()
            .iter()
            .any(|b| matches!(b.kind(), Kind::Null));
    let has_fallback = field.default.is_some() || nullable;
    // Missing or null values are fine when the field has a default or takes null.
    if has_fallback && (kind.contains_undefined() || kind.contains_null()) {
        return;
    }
    let mut defined = kind.clone();
    defined.remove_undefined();
    if !has_fallback && kind.contains_undefined() && defined.is_never() {
        problems.push(format!(
            "field {path}: the program never sets it and the output schema has no default for it (it wants {})",
            expected(node)
        ));
        return;
    }
    if defined.is_never() {
        return;
    }
    let accepted = accepted_kind(codec, node);
    if !overlaps(&defined, &accepted) {
        problems.push(format!(
            "field {path}: the program sets {}, the output schema wants {}",
            describe_kind(&defined),
            expected(node)
        ));
        return;
    }
    // Look inside a record the program certainly sets as an object.
    if defined.is_object() && !kind.contains_undefined() {
        let records: Vec<NodeRef<'_>> = std::iter::once(node)
            .chain(node.branches())
            .filter(|n| matches!(n.kind(), Kind::Record(_)))
            .collect();
        if let [record] = records.as_slice() {
            check_record(codec, *record, &defined, path, problems, depth + 1);
        }
    }
}

/// Whether some value of `a` could be of `b` (shallowly: collections match collections).
fn overlaps(a: &VrlKind, b: &VrlKind) -> bool {
    (a.contains_bytes() && b.contains_bytes())
        || (a.contains_integer() && b.contains_integer())
        || (a.contains_float() && b.contains_float())
        || (a.contains_boolean() && b.contains_boolean())
        || (a.contains_timestamp() && b.contains_timestamp())
        || (a.contains_null() && b.contains_null())
        || (a.contains_array() && b.contains_array())
        || (a.contains_object() && b.contains_object())
}

/// A VRL type for messages: `a string`, `an integer`, `a string or integer`.
pub(super) fn describe_kind(kind: &VrlKind) -> String {
    let article = |s: &'static str| s.to_string();
    if kind.is_exact() {
        if kind.is_bytes() {
            return article("a string");
        }
        if kind.is_integer() {
            return article("an integer");
        }
        if kind.is_float() {
            return article("a float");
        }
        if kind.is_boolean() {
            return article("a boolean");
        }
        if kind.is_timestamp() {
            return article("a timestamp");
        }
        if kind.is_null() {
            return article("null");
        }
        if kind.is_object() {
            return article("an object");
        }
        if kind.is_array() {
            return article("an array");
        }
        if kind.is_regex() {
            return article("a regex");
        }
    }
    format!("a value of type {kind}")
}
