//! Pure pieces of routing: field paths for keys and header templates, the text of a value,
//! names and templates checked at start-up, and the headers of an output record.

use std::fmt::Write as _;

use bytes::Bytes;
use weft_core::headers::{self, CONTENT_TYPE_AVRO};
use weft_core::{Headers, TraceParent};
use weft_schema::codec::{Codec, Kind, Logical, NodeRef, Value};

/// A dotted field path of a record schema (`customer.country`), checked against the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    /// Field indexes from the root.
    steps: Vec<usize>,
    text: String,
}

impl FieldPath {
    /// Checks `path` against the record schema of `codec`: each segment a field of a record (a
    /// nullable record may be stepped through).
    pub fn resolve(codec: &Codec, path: &str) -> Result<Self, String> {
        let mut node = codec.root();
        let mut steps = Vec::new();
        for (i, name) in path.split('.').enumerate() {
            node = record_of(node).ok_or_else(|| {
                let at = path.split('.').take(i).collect::<Vec<_>>().join(".");
                format!("{at} is not a record, so {path:?} cannot go into it")
            })?;
            let Some((index, field)) = node.field_named(name) else {
                let known: Vec<&str> = node.fields().iter().map(|f| f.name.as_str()).collect();
                return Err(format!(
                    "no field {name:?} in {} (fields: {})",
                    node.name().unwrap_or("the record"),
                    known.join(", ")
                ));
            };
            steps.push(index);
            node = field;
        }
        Ok(Self {
            steps,
            text: path.to_string(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The value at this path and its schema node; `None` when a record on the way is null.
    pub fn get<'c, 'v>(
        &self,
        codec: &'c Codec,
        value: &'v Value,
    ) -> Option<(NodeRef<'c>, &'v Value)> {
        let mut node = codec.root();
        let mut value = value;
        for &index in &self.steps {
            let (n, v) = step_into_union(node, value);
            node = n.field(index)?;
            value = v.as_record()?.get(index)?;
        }
        Some(step_into_union(node, value))
    }
}

/// The record a node is, or the record branch of a nullable union.
fn record_of(node: NodeRef<'_>) -> Option<NodeRef<'_>> {
    match node.kind() {
        Kind::Record(_) => Some(node),
        Kind::Union(_) => node
            .branches()
            .into_iter()
            .find(|b| matches!(b.kind(), Kind::Record(_))),
        _ => None,
    }
}

fn step_into_union<'c, 'v>(node: NodeRef<'c>, value: &'v Value) -> (NodeRef<'c>, &'v Value) {
    if let (Kind::Union(_), Value::Union(b, inner)) = (node.kind(), value) {
        if let Some(branch) = node.branches().get(*b as usize) {
            return step_into_union(*branch, inner);
        }
    }
    (node, value)
}

/// The text of a value for keys and headers: strings as they are, numbers in decimal,
/// enums by symbol, timestamps as RFC 3339, null as nothing; `None` for bytes, records,
/// arrays and maps (no obvious text).
pub fn text_of(node: NodeRef<'_>, value: &Value, out: &mut String) -> bool {
    match value {
        Value::Null => true,
        Value::Boolean(b) => write!(out, "{b}").is_ok(),
        Value::Int(i) => write!(out, "{i}").is_ok(),
        Value::Long(l) => match node.logical() {
            Some(Logical::TimestampMillis) => {
                out.push_str(&weft_core::time::format_millis(*l));
                true
            }
            Some(Logical::TimestampMicros) => {
                out.push_str(&weft_core::time::format_millis(l.div_euclid(1000)));
                true
            }
            _ => write!(out, "{l}").is_ok(),
        },
        Value::Float(f) => write!(out, "{f}").is_ok(),
        Value::Double(d) => write!(out, "{d}").is_ok(),
        Value::String(s) => {
            out.push_str(s);
            true
        }
        Value::Enum(i) => match node.symbols().get(*i as usize) {
            Some(s) => {
                out.push_str(s);
                true
            }
            None => false,
        },
        Value::Union(b, inner) => match node.branches().get(*b as usize) {
            Some(branch) => text_of(*branch, inner, out),
            None => false,
        },
        Value::Bytes(_) | Value::Fixed(_) | Value::Array(_) | Value::Map(_) | Value::Record(_) => {
            false
        }
    }
}

/// Header text with `{field.path}` placeholders of the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Field(FieldPath),
}

impl Template {
    /// Parses and checks every placeholder against the record schema of `codec`.
    pub fn parse(codec: &Codec, template: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 1..];
            let close = after
                .find('}')
                .ok_or_else(|| format!("{template:?} has a '{{' without a matching '}}'"))?;
            parts.push(Part::Field(FieldPath::resolve(codec, &after[..close])?));
            rest = &after[close + 1..];
        }
        if rest.contains('}') {
            return Err(format!("{template:?} has a '}}' without a matching '{{'"));
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Self { parts })
    }

    /// The text for one event; a placeholder with no text (bytes, a record…) is an error
    /// naming the field.
    pub fn render(&self, codec: &Codec, event: &Value) -> Result<String, String> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Field(f) => {
                    if let Some((node, v)) = f.get(codec, event) {
                        if !text_of(node, v, &mut out) {
                            return Err(format!(
                                "field {} has no text form ({})",
                                f.as_str(),
                                v.kind_name()
                            ));
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

/// The key of an output record: the text of the field at `path`.
pub fn key_of(codec: &Codec, path: &FieldPath, event: &Value) -> Result<Option<Vec<u8>>, String> {
    let Some((node, v)) = path.get(codec, event) else {
        return Ok(None);
    };
    if v.is_null() {
        return Ok(None);
    }
    let mut out = String::new();
    if text_of(node, v, &mut out) {
        Ok(Some(out.into_bytes()))
    } else {
        match v {
            Value::Bytes(b) | Value::Fixed(b) => Ok(Some(b.clone())),
            other => Err(format!(
                "key field {} is {}, which has no text form",
                path.as_str(),
                other.kind_name()
            )),
        }
    }
}

/// `{topic}` is the only placeholder of an output subject template.
pub fn check_subject_template(template: &str) -> Result<(), String> {
    let without = template.replace("{topic}", "");
    if without.contains('{') || without.contains('}') {
        return Err(format!(
            "{template:?}: the only placeholder is {{topic}} (the destination topic)"
        ));
    }
    if template.trim().is_empty() {
        return Err("must not be empty".into());
    }
    Ok(())
}

pub fn render_subject(template: &str, topic: &str) -> String {
    template.replace("{topic}", topic)
}

pub use weft_core::topic::check_name as check_topic_name;

/// The headers of an output record: the input's, with the origin recorded (only when absent),
/// the trace continued, and — for re-encoded values — the schema id and content type of the
/// new bytes. The input topic and the schema id come as header values (`Bytes`), so a flow
/// makes them once, not per record.
pub fn output_headers(
    input: &Headers,
    topic: &Bytes,
    partition: i32,
    offset: i64,
    schema_id: Option<&Bytes>,
) -> Headers {
    let mut h = input.clone();
    if !h.contains(headers::ORIGIN_TOPIC) {
        h.set(headers::ORIGIN_TOPIC, topic.clone());
        h.set(headers::ORIGIN_PARTITION, partition.to_string());
        h.set(headers::ORIGIN_OFFSET, offset.to_string());
    }
    let next = h
        .get_parsed::<TraceParent>(headers::TRACEPARENT)
        .map_or_else(TraceParent::new_root, |tp| tp.child());
    h.set(headers::TRACEPARENT, next.to_string());
    if let Some(id) = schema_id {
        h.set(headers::SCHEMA_ID, id.clone());
        h.set(headers::CONTENT_TYPE, CONTENT_TYPE_AVRO);
    }
    h
}

/// A text as a header value.
pub fn header_value(text: &str) -> Bytes {
    Bytes::copy_from_slice(text.as_bytes())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const SCHEMA: &str = r#"{"type":"record","name":"O","fields":[
        {"name":"id","type":"string"},
        {"name":"n","type":"long"},
        {"name":"kind","type":{"type":"enum","name":"K","symbols":["A","B"]}},
        {"name":"addr","type":["null",{"type":"record","name":"Addr","fields":[{"name":"country","type":"string"}]}],"default":null},
        {"name":"blob","type":"bytes"}]}"#;

    fn codec() -> Codec {
        Codec::parse(SCHEMA, &[]).unwrap()
    }

    fn event(addr: Option<&str>) -> Value {
        Value::Record(vec![
            Value::String("o-1".into()),
            Value::Long(42),
            Value::Enum(1),
            match addr {
                Some(c) => Value::Union(1, Box::new(Value::Record(vec![Value::String(c.into())]))),
                None => Value::Union(0, Box::new(Value::Null)),
            },
            Value::Bytes(vec![1, 2]),
        ])
    }

    #[test]
    fn paths_are_checked_and_followed_through_nullable_records() {
        let c = codec();
        let p = FieldPath::resolve(&c, "addr.country").unwrap();
        assert_eq!(
            key_of(&c, &p, &event(Some("DE"))).unwrap(),
            Some(b"DE".to_vec())
        );
        assert_eq!(key_of(&c, &p, &event(None)).unwrap(), None);
        let e = FieldPath::resolve(&c, "addr.city").unwrap_err();
        assert!(
            e.contains("no field \"city\" in Addr (fields: country)"),
            "{e}"
        );
        let e = FieldPath::resolve(&c, "id.x").unwrap_err();
        assert!(e.contains("id is not a record"), "{e}");
    }

    #[test]
    fn templates_render_fields_as_text() {
        let c = codec();
        let t = Template::parse(&c, "{kind}-{n}/{addr.country}").unwrap();
        assert_eq!(t.render(&c, &event(Some("US"))).unwrap(), "B-42/US");
        assert_eq!(t.render(&c, &event(None)).unwrap(), "B-42/");
        assert!(Template::parse(&c, "{nope}").is_err());
        assert!(Template::parse(&c, "a}").is_err());
        let blob = Template::parse(&c, "{blob}").unwrap();
        assert!(blob.render(&c, &event(None)).unwrap_err().contains("blob"));
    }

    #[test]
    fn subject_templates_know_only_topic() {
        assert!(check_subject_template("{topic}-value").is_ok());
        assert!(check_subject_template("{to}-value").is_err());
        assert_eq!(
            render_subject("{topic}-value", "orders.eu"),
            "orders.eu-value"
        );
    }

    #[test]
    fn output_headers_keep_origin_and_continue_the_trace() {
        let mut h = Headers::new();
        h.set(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        );
        let out = output_headers(&h, &header_value("in"), 1, 7, Some(&header_value("9")));
        assert_eq!(out.get_str(headers::ORIGIN_TOPIC), Some("in"));
        assert_eq!(out.get_str(headers::ORIGIN_PARTITION), Some("1"));
        assert_eq!(out.get_str(headers::ORIGIN_OFFSET), Some("7"));
        assert_eq!(out.get_str(headers::SCHEMA_ID), Some("9"));
        let tp = out.get_str("traceparent").unwrap();
        assert!(tp.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
        assert!(!tp.contains("00f067aa0ba902b7"));
        let again = output_headers(&out, &header_value("next"), 0, 1, None);
        assert_eq!(again.get_str(headers::ORIGIN_TOPIC), Some("in"));
    }
}
