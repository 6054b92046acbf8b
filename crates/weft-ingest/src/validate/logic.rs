//! What validation decides about a record (pure: no Kafka, no registry, no clock of its own).

use std::sync::Arc;
use std::time::Duration;

use weft_core::headers::{self, EventMeta, CONTENT_TYPE_AVRO};
use weft_core::{ErrorClass, ErrorCode, EventId, StageError, TraceParent};
use weft_kafka::{OutRecord, Record};
use weft_schema::SchemaError;

/// The prefix `{suffix}` strips from input topic names.
pub const INGEST_PREFIX: &str = "ingest.";
/// The subject of a route that names none: TopicNameStrategy of the destination.
pub const DEFAULT_SUBJECT: &str = "{to}-value";
/// Placeholders a `to` template may use.
pub const TO_PLACEHOLDERS: &[&str] = &["topic", "suffix"];
/// Placeholders a `subject` template may use.
pub const SUBJECT_PLACEHOLDERS: &[&str] = &["to", "topic", "suffix"];

/// `ingest.orders` → `orders`; a topic without the prefix is its own suffix.
pub fn suffix(topic: &str) -> &str {
    topic.strip_prefix(INGEST_PREFIX).unwrap_or(topic)
}

/// Whether a `from` entry is a librdkafka subscription pattern rather than a topic name.
pub fn is_pattern(from: &str) -> bool {
    from.starts_with('^')
}

/// Refuses `{...}` placeholders other than `allowed` and unbalanced braces.
pub fn check_template(template: &str, allowed: &[&str]) -> Result<(), String> {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(format!("{template:?} has a '{{' without a matching '}}'"));
        };
        let name = &after[..close];
        if !allowed.contains(&name) {
            let known: Vec<String> = allowed.iter().map(|a| format!("{{{a}}}")).collect();
            return Err(format!(
                "unknown placeholder {{{name}}} in {template:?} (known: {})",
                known.join(", ")
            ));
        }
        rest = &after[close + 1..];
    }
    if rest.contains('}') {
        return Err(format!("{template:?} has a '}}' without a matching '{{'"));
    }
    Ok(())
}

pub use weft_core::topic::check_name as check_topic_name;

/// The destination topic of `input_topic` for a `to` template.
pub fn render_to(to: &str, input_topic: &str) -> String {
    if !to.contains('{') {
        return to.to_string();
    }
    to.replace("{topic}", input_topic)
        .replace("{suffix}", suffix(input_topic))
}

/// The subject for a subject template, once the destination is known.
pub fn render_subject(subject: &str, to: &str, input_topic: &str) -> String {
    if !subject.contains('{') {
        return subject.to_string();
    }
    subject
        .replace("{to}", to)
        .replace("{topic}", input_topic)
        .replace("{suffix}", suffix(input_topic))
}

/// Where the records of one input topic go, and the subject that decides what is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub topic: Arc<str>,
    pub subject: Arc<str>,
}

impl Target {
    /// The target of `input_topic`; a destination equal to the input (a loop) or not a valid
    /// topic name is a configuration error.
    pub fn resolve(to: &str, subject: &str, input_topic: &str) -> Result<Self, StageError> {
        let topic = render_to(to, input_topic);
        if topic == input_topic {
            return Err(StageError::new(
                ErrorCode::ConfigInvalid,
                format!("route to {to:?} would send {input_topic:?} back to itself"),
            ));
        }
        check_topic_name(&topic).map_err(|m| {
            StageError::new(
                ErrorCode::ConfigInvalid,
                format!("route to {to:?} for input {input_topic:?}: {m}"),
            )
        })?;
        let subject = render_subject(subject, &topic, input_topic);
        Ok(Self {
            topic: Arc::from(topic),
            subject: Arc::from(subject),
        })
    }
}

/// The copy of a valid record to produce to `to`: key, value bytes and headers unchanged,
/// plus the `weft.*` headers that are missing.
///
/// - `weft.event.id`, `weft.time`, `weft.source`, `weft.event.type`: only when they do not
///   read as a value (absent or malformed, per the headers contract); taken from CloudEvents
///   `ce_*` headers when those are there, else a new UUIDv7, the record's Kafka timestamp
///   (`now_ms` without one) and the input topic (no type).
/// - `weft.schema.id` and `weft.content.type` describe the bytes just checked: set (replacing
///   a different value) for framed values, left alone for tombstones (`schema_id` = `None`).
/// - `weft.origin.*`: the input coordinates, only when `weft.origin.topic` is absent.
/// - `traceparent`: a child of a valid incoming one, else a new trace.
pub fn forward(record: &Record, to: Arc<str>, schema_id: Option<u32>, now_ms: i64) -> OutRecord {
    let mut out = OutRecord::forward(record, to);
    let h = &mut out.headers;
    let meta = EventMeta::from_headers(h);
    let mut ce = EventMeta::default();
    ce.fill_from_cloudevents(h);
    if meta.event_id.is_none() {
        let id = ce.event_id.unwrap_or_else(EventId::new);
        h.set(headers::EVENT_ID, id.to_string());
    }
    if meta.time_ms.is_none() {
        let t = ce.time_ms.or(record.timestamp_ms).unwrap_or(now_ms);
        h.set(headers::TIME, weft_core::time::format_millis(t));
    }
    if meta.source.is_none() {
        let source = ce.source.unwrap_or_else(|| record.topic.to_string());
        h.set(headers::SOURCE, source);
    }
    if meta.event_type.is_none() {
        if let Some(t) = ce.event_type {
            h.set(headers::EVENT_TYPE, t);
        }
    }
    if let Some(id) = schema_id {
        if meta.schema_id != Some(id) {
            h.set(headers::SCHEMA_ID, id.to_string());
        }
        if h.get_str(headers::CONTENT_TYPE) != Some(CONTENT_TYPE_AVRO) {
            h.set(headers::CONTENT_TYPE, CONTENT_TYPE_AVRO);
        }
    }
    if !h.contains(headers::ORIGIN_TOPIC) {
        h.set(headers::ORIGIN_TOPIC, record.topic.to_string());
        h.set(headers::ORIGIN_PARTITION, record.partition.to_string());
        h.set(headers::ORIGIN_OFFSET, record.offset.to_string());
    }
    let next = meta
        .traceparent
        .map_or_else(TraceParent::new_root, |tp| tp.child());
    h.set(headers::TRACEPARENT, next.to_string());
    out
}

/// What to do with a record whose value is null: forward a keyed tombstone, refuse the rest.
pub fn null_value(record: &Record) -> Result<(), StageError> {
    if record.key.is_some() {
        Ok(())
    } else {
        Err(StageError::new(
            ErrorCode::BadMagicByte,
            "the value is null and the record has no key (not a tombstone); expected the \
             Confluent wire format (magic byte 0, schema id, Avro body)",
        ))
    }
}

/// The error for a schema id that is not one of the subject's live versions.
pub fn not_allowed(id: u32, subject: &str, allowed: &[u32]) -> StageError {
    let message = if allowed.is_empty() {
        format!("schema id {id} is not a version of subject {subject} (the subject has no live versions)")
    } else {
        let ids: Vec<String> = allowed.iter().map(u32::to_string).collect();
        format!(
            "schema id {id} is not a version of subject {subject} (allowed: {})",
            ids.join(", ")
        )
    };
    StageError::new(ErrorCode::SchemaNotAllowed, message)
}

/// A registry or decoding failure as the stage error the consumer loop acts on: unknown id
/// and decode failures are permanent (dead-lettered), an unreachable registry is transient,
/// refused credentials or configuration are fatal.
pub fn schema_error(e: &SchemaError) -> StageError {
    StageError::from_classified(e)
}

/// A failure to list the versions of `subject`, with the subject named. (An unknown subject
/// is not a failure: it has no versions.)
pub fn subject_lookup_error(subject: &str, e: &SchemaError) -> StageError {
    let mut s = StageError::from_classified(e);
    s.message = format!("looking up the versions of subject {subject}: {e}");
    if s.class == ErrorClass::Permanent {
        // Nothing about this record is wrong: the registry answered something unexpected.
        s.class = ErrorClass::Transient;
        s.code = ErrorCode::RegistryUnavailable;
    }
    s
}

/// Whether a cached list of a subject's ids answers for one id, or must be read again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    Allowed,
    NotAllowed,
    Fetch,
}

/// `cached`: whether the cached list holds the id and how old it is. A list is read again
/// when it is older than `refresh`, or when it lacks the id and is older than `recheck`
/// (a version registered since may be the one).
pub fn lookup(cached: Option<(bool, Duration)>, refresh: Duration, recheck: Duration) -> Lookup {
    match cached {
        None => Lookup::Fetch,
        Some((_, age)) if age >= refresh => Lookup::Fetch,
        Some((true, _)) => Lookup::Allowed,
        Some((false, age)) if age >= recheck => Lookup::Fetch,
        Some((false, _)) => Lookup::NotAllowed,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use bytes::Bytes;
    use weft_core::headers::cloudevents;
    use weft_core::Headers;

    fn record(headers: Headers) -> Record {
        Record {
            topic: Arc::from("ingest.orders"),
            partition: 2,
            offset: 40,
            timestamp_ms: Some(1_795_314_600_123),
            key: Some(Bytes::from_static(b"k")),
            value: Some(Bytes::from_static(&[0, 0, 0, 0, 7, 2, 42])),
            headers,
        }
    }

    #[test]
    fn templates_render_topic_and_suffix() {
        assert_eq!(suffix("ingest.orders"), "orders");
        assert_eq!(suffix("ingest.a.b"), "a.b");
        assert_eq!(suffix("raw.orders"), "raw.orders");
        assert_eq!(render_to("{suffix}", "ingest.orders"), "orders");
        assert_eq!(
            render_to("valid.{topic}", "ingest.orders"),
            "valid.ingest.orders"
        );
        assert_eq!(render_to("fixed", "ingest.orders"), "fixed");
        assert_eq!(
            render_subject(DEFAULT_SUBJECT, "orders", "ingest.orders"),
            "orders-value"
        );
        assert_eq!(
            render_subject("{suffix}-v", "x", "ingest.orders"),
            "orders-v"
        );
        assert_eq!(render_subject("shared", "x", "ingest.orders"), "shared");
    }

    #[test]
    fn template_checks_name_the_problem() {
        assert!(check_template("{suffix}", TO_PLACEHOLDERS).is_ok());
        assert!(check_template("a.{topic}.b", TO_PLACEHOLDERS).is_ok());
        let e = check_template("{to}-x", TO_PLACEHOLDERS).unwrap_err();
        assert!(e.contains("unknown placeholder {to}"), "{e}");
        assert!(check_template("{to}-value", SUBJECT_PLACEHOLDERS).is_ok());
        assert!(check_template("{suffix", TO_PLACEHOLDERS).is_err());
        assert!(check_template("suffix}", TO_PLACEHOLDERS).is_err());
        assert!(check_topic_name("orders.v1_x-y").is_ok());
        assert!(check_topic_name("a b").is_err());
        assert!(check_topic_name("..").is_err());
        assert!(check_topic_name(&"x".repeat(250)).is_err());
    }

    #[test]
    fn targets_refuse_loops() {
        let t = Target::resolve("{suffix}", DEFAULT_SUBJECT, "ingest.orders").unwrap();
        assert_eq!(&*t.topic, "orders");
        assert_eq!(&*t.subject, "orders-value");
        let e = Target::resolve("{suffix}", DEFAULT_SUBJECT, "orders").unwrap_err();
        assert_eq!(e.code, ErrorCode::ConfigInvalid);
        assert_eq!(e.class, ErrorClass::Fatal);
        assert!(Target::resolve("{suffix}", DEFAULT_SUBJECT, "ingest.").is_err());
    }

    #[test]
    fn missing_headers_are_stamped_and_bytes_kept() {
        let mut h = Headers::new();
        h.set("custom", "kept");
        let r = record(h);
        let out = forward(&r, Arc::from("orders"), Some(7), 5);
        assert_eq!(&*out.topic, "orders");
        assert_eq!(out.key, r.key);
        assert_eq!(out.value, r.value);
        assert_eq!(out.timestamp_ms, r.timestamp_ms);
        let h = &out.headers;
        assert_eq!(h.iter().next().map(|x| x.key.as_ref()), Some("custom"));
        let id: uuid::Uuid = h.get_parsed(headers::EVENT_ID).unwrap();
        assert_eq!(id.get_version_num(), 7);
        assert_eq!(h.get_str(headers::TIME), Some("2026-11-22T02:30:00.123Z"));
        assert_eq!(h.get_str(headers::SOURCE), Some("ingest.orders"));
        assert_eq!(h.get_str(headers::SCHEMA_ID), Some("7"));
        assert_eq!(h.get_str(headers::CONTENT_TYPE), Some(CONTENT_TYPE_AVRO));
        assert_eq!(h.get_str(headers::EVENT_TYPE), None);
        assert_eq!(h.get_str(headers::ORIGIN_TOPIC), Some("ingest.orders"));
        assert_eq!(h.get_str(headers::ORIGIN_PARTITION), Some("2"));
        assert_eq!(h.get_str(headers::ORIGIN_OFFSET), Some("40"));
        assert!(h.get_parsed::<TraceParent>(headers::TRACEPARENT).is_some());
        let mut no_ts = record(Headers::new());
        no_ts.timestamp_ms = None;
        let out = forward(&no_ts, Arc::from("orders"), Some(7), 1_000);
        assert_eq!(
            out.headers.get_str(headers::TIME),
            Some("1970-01-01T00:00:01Z")
        );
    }

    #[test]
    fn present_headers_are_kept_and_the_trace_continues() {
        let mut h = Headers::new();
        h.set(headers::EVENT_ID, "0190b6c4-5c3e-7a1b-8f2d-3c4e5f607182");
        h.set(headers::TIME, "2020-01-01T00:00:00Z");
        h.set(headers::SOURCE, "shop");
        h.set(headers::EVENT_TYPE, "order.created");
        h.set(headers::SCHEMA_ID, "7");
        h.set(headers::CONTENT_TYPE, CONTENT_TYPE_AVRO);
        h.set(headers::ORIGIN_TOPIC, "first");
        h.set(headers::ORIGIN_PARTITION, "0");
        h.set(headers::ORIGIN_OFFSET, "1");
        h.set(
            headers::TRACEPARENT,
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        );
        let r = record(h.clone());
        let out = forward(&r, Arc::from("orders"), Some(7), 5);
        let o = &out.headers;
        for k in [
            headers::EVENT_ID,
            headers::TIME,
            headers::SOURCE,
            headers::EVENT_TYPE,
            headers::SCHEMA_ID,
            headers::CONTENT_TYPE,
            headers::ORIGIN_TOPIC,
            headers::ORIGIN_OFFSET,
        ] {
            assert_eq!(o.get_str(k), h.get_str(k), "{k}");
        }
        // Everything but the trace header stays where it was.
        let keys: Vec<&str> = o.iter().map(|x| x.key.as_ref()).collect();
        assert_eq!(keys.last(), Some(&headers::TRACEPARENT));
        assert_eq!(keys.len(), h.len());
        let tp = o.get_str(headers::TRACEPARENT).unwrap();
        assert!(
            tp.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
            "{tp}"
        );
        assert!(!tp.contains("00f067aa0ba902b7"), "a new span id");
    }

    #[test]
    fn malformed_or_wrong_headers_are_replaced() {
        let mut h = Headers::new();
        h.set(headers::EVENT_ID, "not-a-uuid");
        h.set(headers::TIME, "yesterday");
        h.set(headers::SCHEMA_ID, "42");
        h.set(headers::CONTENT_TYPE, "application/json");
        h.set(headers::TRACEPARENT, "junk");
        let out = forward(&record(h), Arc::from("orders"), Some(7), 5);
        let o = &out.headers;
        assert!(o.get_parsed::<EventId>(headers::EVENT_ID).is_some());
        assert_eq!(o.get_str(headers::TIME), Some("2026-11-22T02:30:00.123Z"));
        assert_eq!(o.get_str(headers::SCHEMA_ID), Some("7"));
        assert_eq!(o.get_str(headers::CONTENT_TYPE), Some(CONTENT_TYPE_AVRO));
        assert!(o.get_parsed::<TraceParent>(headers::TRACEPARENT).is_some());
        for k in [headers::EVENT_ID, headers::SCHEMA_ID, headers::TRACEPARENT] {
            assert_eq!(o.iter().filter(|x| x.key == k).count(), 1, "{k} once");
        }
    }

    #[test]
    fn cloudevents_headers_fill_what_is_missing() {
        let mut h = Headers::new();
        h.set(cloudevents::SPECVERSION, "1.0");
        h.set(cloudevents::ID, "0190b6c4-5c3e-7a1b-8f2d-3c4e5f607182");
        h.set(cloudevents::SOURCE, "/shop");
        h.set(cloudevents::TYPE, "order.created");
        h.set(cloudevents::TIME, "2026-01-02T03:04:05Z");
        let out = forward(&record(h), Arc::from("orders"), Some(7), 5);
        let o = &out.headers;
        assert_eq!(
            o.get_str(headers::EVENT_ID),
            Some("0190b6c4-5c3e-7a1b-8f2d-3c4e5f607182")
        );
        assert_eq!(o.get_str(headers::SOURCE), Some("/shop"));
        assert_eq!(o.get_str(headers::EVENT_TYPE), Some("order.created"));
        assert_eq!(o.get_str(headers::TIME), Some("2026-01-02T03:04:05Z"));
        assert_eq!(
            o.get_str(cloudevents::ID),
            Some("0190b6c4-5c3e-7a1b-8f2d-3c4e5f607182")
        );
    }

    #[test]
    fn tombstones_pass_with_a_key_only() {
        let mut r = record(Headers::new());
        r.value = None;
        assert!(null_value(&r).is_ok());
        let out = forward(&r, Arc::from("orders"), None, 5);
        assert_eq!(out.value, None);
        assert_eq!(out.headers.get_str(headers::SCHEMA_ID), None);
        assert_eq!(out.headers.get_str(headers::CONTENT_TYPE), None);
        assert!(out.headers.get_str(headers::EVENT_ID).is_some());
        r.key = None;
        assert_eq!(null_value(&r).unwrap_err().code, ErrorCode::BadMagicByte);
    }

    #[test]
    fn errors_map_to_codes_and_classes() {
        let e = not_allowed(42, "orders-value", &[3, 7]);
        assert_eq!(e.code, ErrorCode::SchemaNotAllowed);
        assert_eq!(e.class, ErrorClass::Permanent);
        assert_eq!(
            e.message,
            "schema id 42 is not a version of subject orders-value (allowed: 3, 7)"
        );
        assert!(not_allowed(1, "s", &[])
            .message
            .contains("no live versions"));

        let unknown = SchemaError::UnknownSchemaId {
            id: 999_999,
            message: "Schema not found".into(),
        };
        let e = schema_error(&unknown);
        assert_eq!(
            (e.code, e.class),
            (ErrorCode::UnknownSchemaId, ErrorClass::Permanent)
        );
        assert!(e.message.contains("999999"), "{}", e.message);

        let down = SchemaError::RegistryUnavailable {
            message: "connection refused".into(),
        };
        let e = schema_error(&down);
        assert_eq!(
            (e.code, e.class),
            (ErrorCode::RegistryUnavailable, ErrorClass::Transient)
        );
        let e = subject_lookup_error("orders-value", &down);
        assert_eq!(e.class, ErrorClass::Transient);
        assert!(e
            .message
            .starts_with("looking up the versions of subject orders-value"));

        let denied = SchemaError::Unauthorized {
            message: "401".into(),
        };
        assert_eq!(schema_error(&denied).class, ErrorClass::Fatal);
        assert_eq!(subject_lookup_error("s", &denied).class, ErrorClass::Fatal);

        let odd = SchemaError::Unparsable {
            what: "x".into(),
            message: "y".into(),
        };
        assert_eq!(subject_lookup_error("s", &odd).class, ErrorClass::Transient);

        let bad = weft_core::wire::parse(&[1, 2]).unwrap_err();
        let e = schema_error(&SchemaError::from(bad));
        assert_eq!(
            (e.code, e.class),
            (ErrorCode::BadMagicByte, ErrorClass::Permanent)
        );
    }

    #[test]
    fn cached_subject_lists_are_trusted_for_a_while() {
        let (refresh, recheck) = (Duration::from_secs(60), Duration::from_secs(2));
        let s = Duration::from_secs;
        assert_eq!(lookup(None, refresh, recheck), Lookup::Fetch);
        assert_eq!(
            lookup(Some((true, s(59))), refresh, recheck),
            Lookup::Allowed
        );
        assert_eq!(lookup(Some((true, s(60))), refresh, recheck), Lookup::Fetch);
        assert_eq!(
            lookup(Some((false, s(1))), refresh, recheck),
            Lookup::NotAllowed
        );
        assert_eq!(lookup(Some((false, s(2))), refresh, recheck), Lookup::Fetch);
    }
}
