//! A structural difference between two Avro schemas, for people: which fields were added,
//! removed or changed, with their paths. (Compatibility is [`crate::compat`]'s job; this only
//! says what changed.)

use std::fmt;

use apache_avro::Schema;
use serde_json::Value as Json;

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Added {
        path: String,
        what: String,
    },
    Removed {
        path: String,
        what: String,
    },
    Changed {
        path: String,
        from: String,
        to: String,
    },
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Added { path, what } => write!(f, "+ {path}: {what}"),
            Self::Removed { path, what } => write!(f, "- {path}: {what}"),
            Self::Changed { path, from, to } => write!(f, "~ {path}: {from} -> {to}"),
        }
    }
}

/// What changed from `old` to `new`; empty when they are the same schema (docs included).
pub fn diff(old: &Schema, new: &Schema) -> Vec<Change> {
    let (a, b) = (to_json(old), to_json(new));
    let mut out = Vec::new();
    walk(&a, &b, "", &mut out);
    out
}

fn to_json(s: &Schema) -> Json {
    serde_json::to_value(s).unwrap_or(Json::Null)
}

fn compact(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Object(o) if o.len() == 1 && o.contains_key("type") => compact(&o["type"]),
        other => other.to_string(),
    }
}

fn is_record(v: &Json) -> bool {
    v.get("type").and_then(Json::as_str) == Some("record")
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

fn field_summary(f: &Json) -> String {
    let mut s = compact(&f["type"]);
    if let Some(d) = f.get("default") {
        s.push_str(&format!(" (default {d})"));
    }
    s
}

fn walk(a: &Json, b: &Json, path: &str, out: &mut Vec<Change>) {
    if a == b {
        return;
    }
    let here = if path.is_empty() { "(root)" } else { path };
    match (a, b) {
        _ if is_record(a) && is_record(b) => {
            for key in ["name", "namespace", "doc", "aliases"] {
                if a.get(key) != b.get(key) {
                    out.push(Change::Changed {
                        path: format!("{here} {key}"),
                        from: a.get(key).map_or("(none)".into(), compact),
                        to: b.get(key).map_or("(none)".into(), compact),
                    });
                }
            }
            let empty = Vec::new();
            let fa = a["fields"].as_array().unwrap_or(&empty);
            let fb = b["fields"].as_array().unwrap_or(&empty);
            let name = |f: &Json| f["name"].as_str().unwrap_or("").to_string();
            for f in fa {
                let n = name(f);
                match fb.iter().find(|g| name(g) == n) {
                    None => out.push(Change::Removed {
                        path: join(path, &n),
                        what: field_summary(f),
                    }),
                    Some(g) => {
                        let p = join(path, &n);
                        walk(&f["type"], &g["type"], &p, out);
                        for key in ["default", "doc", "aliases", "order"] {
                            if f.get(key) != g.get(key) {
                                out.push(Change::Changed {
                                    path: format!("{p} {key}"),
                                    from: f.get(key).map_or("(none)".into(), |v| v.to_string()),
                                    to: g.get(key).map_or("(none)".into(), |v| v.to_string()),
                                });
                            }
                        }
                    }
                }
            }
            for g in fb {
                let n = name(g);
                if !fa.iter().any(|f| name(f) == n) {
                    out.push(Change::Added {
                        path: join(path, &n),
                        what: field_summary(g),
                    });
                }
            }
        }
        (Json::Array(xa), Json::Array(xb)) => {
            // Unions: branches by their compact form.
            for x in xa {
                if !xb.contains(x) && !xb.iter().any(|y| same_named(x, y)) {
                    out.push(Change::Removed {
                        path: format!("{here} union branch"),
                        what: compact(x),
                    });
                }
            }
            for y in xb {
                if let Some(x) = xa.iter().find(|x| same_named(x, y)) {
                    walk(x, y, path, out);
                } else if !xa.contains(y) {
                    out.push(Change::Added {
                        path: format!("{here} union branch"),
                        what: compact(y),
                    });
                }
            }
        }
        _ if a.get("type") == b.get("type")
            && matches!(a.get("type").and_then(Json::as_str), Some("array" | "map")) =>
        {
            let key = if a["type"] == "array" {
                "items"
            } else {
                "values"
            };
            walk(&a[key], &b[key], &format!("{here}[{key}]"), out);
        }
        _ if a.get("type").and_then(Json::as_str) == Some("enum")
            && b.get("type").and_then(Json::as_str) == Some("enum") =>
        {
            let empty = Vec::new();
            let sa = a["symbols"].as_array().unwrap_or(&empty);
            let sb = b["symbols"].as_array().unwrap_or(&empty);
            for s in sa.iter().filter(|s| !sb.contains(s)) {
                out.push(Change::Removed {
                    path: format!("{here} symbol"),
                    what: compact(s),
                });
            }
            for s in sb.iter().filter(|s| !sa.contains(s)) {
                out.push(Change::Added {
                    path: format!("{here} symbol"),
                    what: compact(s),
                });
            }
            if a.get("default") != b.get("default") {
                out.push(Change::Changed {
                    path: format!("{here} default"),
                    from: a.get("default").map_or("(none)".into(), compact),
                    to: b.get("default").map_or("(none)".into(), compact),
                });
            }
        }
        _ => out.push(Change::Changed {
            path: here.to_string(),
            from: compact(a),
            to: compact(b),
        }),
    }
}

/// Two union branches of the same named type (compared field by field, not as a swap).
fn same_named(x: &Json, y: &Json) -> bool {
    let named = |v: &Json| {
        v.get("name")
            .and_then(Json::as_str)
            .map(|n| (n.to_string(), v.get("type").cloned()))
    };
    matches!((named(x), named(y)), (Some(a), Some(b)) if a == b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Schema {
        Schema::parse_str(s).unwrap()
    }

    #[test]
    fn fields_added_removed_and_changed() {
        let old = parse(
            r#"{"type":"record","name":"Order","fields":[
                {"name":"id","type":"string"},{"name":"qty","type":"int"},
                {"name":"legacy","type":"string"},
                {"name":"customer","type":{"type":"record","name":"Customer","fields":[{"name":"email","type":"string"}]}},
                {"name":"status","type":{"type":"enum","name":"Status","symbols":["NEW","PAID"]}}]}"#,
        );
        let new = parse(
            r#"{"type":"record","name":"Order","fields":[
                {"name":"id","type":"string"},{"name":"qty","type":"long"},
                {"name":"note","type":["null","string"],"default":null},
                {"name":"customer","type":{"type":"record","name":"Customer","fields":[{"name":"email","type":["null","string"],"default":null}]}},
                {"name":"status","type":{"type":"enum","name":"Status","symbols":["NEW","PAID","SHIPPED"]}}]}"#,
        );
        let changes: Vec<String> = diff(&old, &new).iter().map(ToString::to_string).collect();
        assert_eq!(
            changes,
            vec![
                "~ qty: int -> long",
                "- legacy: string",
                "~ customer.email: string -> [\"null\",\"string\"]",
                "~ customer.email default: (none) -> null",
                "+ status symbol: SHIPPED",
                "+ note: [\"null\",\"string\"] (default null)",
            ]
        );
        assert!(diff(&old, &old).is_empty());
    }
}
