//! What a pipe does to a record (pure).

use std::sync::Arc;

use weft_core::headers;
use weft_core::TraceParent;
use weft_kafka::{OutRecord, Record};

/// The destination of `record` for the `to` template.
pub fn destination(to: &str, input_topic: &str) -> String {
    if to.contains("{topic}") {
        to.replace("{topic}", input_topic)
    } else {
        to.to_string()
    }
}

/// Where a pipe sends records: a fixed topic, or a `{topic}` template.
#[derive(Debug, Clone)]
pub enum Destination {
    Fixed(Arc<str>),
    Template(String),
}

impl Destination {
    pub fn new(to: &str) -> Self {
        if to.contains("{topic}") {
            Self::Template(to.to_string())
        } else {
            Self::Fixed(Arc::from(to))
        }
    }

    fn topic_for(&self, input_topic: &str) -> Arc<str> {
        match self {
            Self::Fixed(t) => t.clone(),
            Self::Template(t) => Arc::from(destination(t, input_topic)),
        }
    }
}

/// The copy of `record` to produce: key, value bytes and headers kept; the first origin
/// recorded (`weft.origin.*`, only when absent) and the trace continued with a new span.
pub fn forward(record: &Record, to: &Destination) -> OutRecord {
    let mut out = OutRecord::forward(record, to.topic_for(&record.topic));
    let h = &mut out.headers;
    if !h.contains(headers::ORIGIN_TOPIC) {
        h.set(headers::ORIGIN_TOPIC, record.topic.to_string());
        h.set(headers::ORIGIN_PARTITION, record.partition.to_string());
        h.set(headers::ORIGIN_OFFSET, record.offset.to_string());
    }
    // A malformed traceparent counts as absent (the headers contract): a new trace starts.
    let next = h
        .get_parsed::<TraceParent>(headers::TRACEPARENT)
        .map_or_else(TraceParent::new_root, |tp| tp.child());
    h.set(headers::TRACEPARENT, next.to_string());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use weft_core::Headers;

    fn record() -> Record {
        let mut h = Headers::new();
        h.set(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        );
        h.set("custom", "kept");
        Record {
            topic: Arc::from("ingest.demo"),
            partition: 2,
            offset: 40,
            timestamp_ms: Some(1000),
            key: Some(Bytes::from_static(b"k")),
            value: Some(Bytes::from_static(&[0, 0, 0, 0, 1, 42])),
            headers: h,
        }
    }

    #[test]
    fn forward_keeps_bytes_and_adds_origin_and_span() {
        let out = forward(&record(), &Destination::new("mirror.{topic}"));
        assert_eq!(out.topic.as_ref(), "mirror.ingest.demo");
        assert_eq!(out.value.as_deref(), Some(&[0, 0, 0, 0, 1, 42][..]));
        assert_eq!(out.key.as_deref(), Some(&b"k"[..]));
        assert_eq!(out.headers.get_str("custom"), Some("kept"));
        assert_eq!(out.headers.get_str(headers::ORIGIN_OFFSET), Some("40"));
        let tp = out.headers.get_str("traceparent").unwrap_or_default();
        assert!(
            tp.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
            "{tp}"
        );
        assert!(!tp.contains("00f067aa0ba902b7"), "new span id");
        assert_eq!(out.timestamp_ms, Some(1000));
    }

    #[test]
    fn first_origin_is_kept_across_hops() {
        let first = forward(&record(), &Destination::new("a"));
        let mut second_in = record();
        second_in.topic = Arc::from("a");
        second_in.headers = first.headers.clone();
        let second = forward(&second_in, &Destination::new("b"));
        assert_eq!(
            second.headers.get_str(headers::ORIGIN_TOPIC),
            Some("ingest.demo")
        );
    }

    #[test]
    fn a_malformed_traceparent_is_replaced_by_a_new_trace() {
        let mut r = record();
        r.headers.set("traceparent", "junk");
        let out = forward(&r, &Destination::new("x"));
        assert!(out
            .headers
            .get_parsed::<TraceParent>("traceparent")
            .is_some());
        assert_eq!(
            out.headers
                .iter()
                .filter(|h| h.key == "traceparent")
                .count(),
            1
        );
    }

    #[test]
    fn records_without_trace_start_one() {
        let mut r = record();
        r.headers = Headers::new();
        let out = forward(&r, &Destination::new("x"));
        assert!(out
            .headers
            .get_parsed::<TraceParent>("traceparent")
            .is_some());
    }
}
