//! The headers contract (documented in `docs/headers.md`).
//!
//! All Weft headers are UTF-8 strings. Numbers are decimal, times RFC 3339 UTC with
//! milliseconds. Header names are lowercase and dotted under the `weft.` prefix, except the
//! W3C trace headers and the optional CloudEvents binary-mode `ce_*` headers.

use crate::envelope::{HeaderKey, Headers};
use crate::ids::EventId;
use crate::trace::TraceParent;

pub const EVENT_ID: &str = "weft.event.id";
pub const EVENT_TYPE: &str = "weft.event.type";
pub const SOURCE: &str = "weft.source";
pub const TENANT: &str = "weft.tenant";
pub const CORRELATION_ID: &str = "weft.correlation.id";
pub const CAUSATION_ID: &str = "weft.causation.id";
pub const SCHEMA_ID: &str = "weft.schema.id";
pub const CONTENT_TYPE: &str = "weft.content.type";
pub const TIME: &str = "weft.time";
pub const ATTEMPT: &str = "weft.attempt";
pub const ORIGIN_TOPIC: &str = "weft.origin.topic";
pub const ORIGIN_PARTITION: &str = "weft.origin.partition";
pub const ORIGIN_OFFSET: &str = "weft.origin.offset";

/// Replay lineage, on every record `weft replay` re-publishes (docs/headers.md).
pub mod replay {
    /// The replay that re-published the record (a UUID).
    pub const ID: &str = "weft.replay.id";
    /// How many times the record has been replayed, this time included (`u32`).
    pub const COUNT: &str = "weft.replay.count";
    /// The dead letter it was re-published from: `<topic>-<partition>@<offset>`.
    pub const FROM: &str = "weft.replay.from";
    /// The error code of the failure that dead-lettered it.
    pub const PREVIOUS_ERROR_CODE: &str = "weft.replay.previous.error.code";
    /// The fingerprint of that failure.
    pub const PREVIOUS_FINGERPRINT: &str = "weft.replay.previous.fingerprint";
}

/// Retry tiers: on records waiting in a tier topic and handed back on the ready topic
/// (docs/headers.md). The rest of such a record is a dead letter (`weft.dlq.*`).
pub mod retry {
    /// The consumer group whose stage failed the record; only that group retries it.
    pub const GROUP: &str = "weft.retry.group";
    /// The tier the record was sent to (0 = first), decimal.
    pub const TIER: &str = "weft.retry.tier";
    /// When it is due again (a time).
    pub const DUE: &str = "weft.retry.due";
    /// On a record parked behind an earlier one of its key: its place in that key's queue.
    pub const PARKED: &str = "weft.retry.parked";
}

pub const TRACEPARENT: &str = "traceparent";
pub const TRACESTATE: &str = "tracestate";

/// Content type of values in the Confluent Schema Registry wire format with Avro.
pub const CONTENT_TYPE_AVRO: &str = "application/vnd.weft.avro";

/// The prefix every Weft-owned header shares.
pub const WEFT_PREFIX: &str = "weft.";

/// A header name read from Kafka: one of Weft's own names (or the W3C trace headers) is kept
/// as its `&'static str` constant, so records carrying them are copied without allocating a
/// name per header; any other name is owned.
pub fn intern(key: &str) -> HeaderKey {
    use crate::dead_letter as d;
    let known: &'static str = match key {
        EVENT_ID => EVENT_ID,
        EVENT_TYPE => EVENT_TYPE,
        SOURCE => SOURCE,
        TENANT => TENANT,
        CORRELATION_ID => CORRELATION_ID,
        CAUSATION_ID => CAUSATION_ID,
        SCHEMA_ID => SCHEMA_ID,
        CONTENT_TYPE => CONTENT_TYPE,
        TIME => TIME,
        ATTEMPT => ATTEMPT,
        ORIGIN_TOPIC => ORIGIN_TOPIC,
        ORIGIN_PARTITION => ORIGIN_PARTITION,
        ORIGIN_OFFSET => ORIGIN_OFFSET,
        TRACEPARENT => TRACEPARENT,
        TRACESTATE => TRACESTATE,
        replay::ID => replay::ID,
        replay::COUNT => replay::COUNT,
        replay::FROM => replay::FROM,
        replay::PREVIOUS_ERROR_CODE => replay::PREVIOUS_ERROR_CODE,
        replay::PREVIOUS_FINGERPRINT => replay::PREVIOUS_FINGERPRINT,
        retry::GROUP => retry::GROUP,
        retry::TIER => retry::TIER,
        retry::DUE => retry::DUE,
        retry::PARKED => retry::PARKED,
        d::DLQ_ORIGIN_TOPIC => d::DLQ_ORIGIN_TOPIC,
        d::DLQ_ORIGIN_PARTITION => d::DLQ_ORIGIN_PARTITION,
        d::DLQ_ORIGIN_OFFSET => d::DLQ_ORIGIN_OFFSET,
        d::DLQ_ORIGIN_TIMESTAMP => d::DLQ_ORIGIN_TIMESTAMP,
        d::DLQ_GROUP => d::DLQ_GROUP,
        d::DLQ_SERVICE => d::DLQ_SERVICE,
        d::DLQ_STAGE => d::DLQ_STAGE,
        d::DLQ_ERROR_CLASS => d::DLQ_ERROR_CLASS,
        d::DLQ_ERROR_CODE => d::DLQ_ERROR_CODE,
        d::DLQ_ERROR_MESSAGE => d::DLQ_ERROR_MESSAGE,
        d::DLQ_ERROR_FIELD => d::DLQ_ERROR_FIELD,
        d::DLQ_FINGERPRINT => d::DLQ_FINGERPRINT,
        d::DLQ_SCHEMA_ID => d::DLQ_SCHEMA_ID,
        d::DLQ_ATTEMPT => d::DLQ_ATTEMPT,
        d::DLQ_FIRST_FAILURE => d::DLQ_FIRST_FAILURE,
        d::DLQ_LAST_FAILURE => d::DLQ_LAST_FAILURE,
        d::DLQ_REPLAY_COUNT => d::DLQ_REPLAY_COUNT,
        d::DLQ_EXPECTED_SUBJECT => d::DLQ_EXPECTED_SUBJECT,
        _ => return HeaderKey::Owned(key.to_owned()),
    };
    HeaderKey::Borrowed(known)
}

/// CloudEvents Kafka protocol binding, binary content mode
/// (<https://github.com/cloudevents/spec/blob/main/cloudevents/bindings/kafka-protocol-binding.md>).
pub mod cloudevents {
    pub const SPECVERSION: &str = "ce_specversion";
    pub const ID: &str = "ce_id";
    pub const SOURCE: &str = "ce_source";
    pub const TYPE: &str = "ce_type";
    pub const TIME: &str = "ce_time";
    pub const SUBJECT: &str = "ce_subject";
    pub const DATASCHEMA: &str = "ce_dataschema";
    /// In binary mode the data content type travels in the plain `content-type` header.
    pub const CONTENT_TYPE: &str = "content-type";
    pub const SPEC_VERSION_1_0: &str = "1.0";
}

/// The typed view of an event's `weft.*` metadata headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventMeta {
    pub event_id: Option<EventId>,
    pub event_type: Option<String>,
    pub source: Option<String>,
    pub tenant: Option<String>,
    pub correlation_id: Option<String>,
    pub causation_id: Option<String>,
    pub schema_id: Option<u32>,
    pub content_type: Option<String>,
    /// Event time in milliseconds since the epoch.
    pub time_ms: Option<i64>,
    pub attempt: Option<u32>,
    pub origin: Option<Origin>,
    pub traceparent: Option<TraceParent>,
    pub tracestate: Option<String>,
}

/// Where a re-published record first came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

impl EventMeta {
    /// Reads the metadata from headers. Malformed values are treated as absent, never as errors:
    /// a header written by someone else must not make a record unprocessable.
    pub fn from_headers(h: &Headers) -> Self {
        let owned = |k| h.get_str(k).map(str::to_string);
        let origin = match (
            h.get_str(ORIGIN_TOPIC),
            h.get_parsed(ORIGIN_PARTITION),
            h.get_parsed(ORIGIN_OFFSET),
        ) {
            (Some(topic), Some(partition), Some(offset)) => Some(Origin {
                topic: topic.to_string(),
                partition,
                offset,
            }),
            _ => None,
        };
        Self {
            event_id: h.get_parsed(EVENT_ID),
            event_type: owned(EVENT_TYPE),
            source: owned(SOURCE),
            tenant: owned(TENANT),
            correlation_id: owned(CORRELATION_ID),
            causation_id: owned(CAUSATION_ID),
            schema_id: h.get_parsed(SCHEMA_ID),
            content_type: owned(CONTENT_TYPE),
            time_ms: h.get_str(TIME).and_then(crate::time::parse_millis),
            attempt: h.get_parsed(ATTEMPT),
            origin,
            traceparent: h.get_parsed(TRACEPARENT),
            tracestate: owned(TRACESTATE),
        }
    }

    /// Writes every present field, replacing existing headers of the same names.
    pub fn write_to(&self, h: &mut Headers) {
        let mut put = |k: &'static str, v: Option<String>| {
            if let Some(v) = v {
                h.set(k, v);
            }
        };
        put(EVENT_ID, self.event_id.map(|v| v.to_string()));
        put(EVENT_TYPE, self.event_type.clone());
        put(SOURCE, self.source.clone());
        put(TENANT, self.tenant.clone());
        put(CORRELATION_ID, self.correlation_id.clone());
        put(CAUSATION_ID, self.causation_id.clone());
        put(SCHEMA_ID, self.schema_id.map(|v| v.to_string()));
        put(CONTENT_TYPE, self.content_type.clone());
        put(TIME, self.time_ms.map(crate::time::format_millis));
        put(ATTEMPT, self.attempt.map(|v| v.to_string()));
        if let Some(o) = &self.origin {
            put(ORIGIN_TOPIC, Some(o.topic.clone()));
            put(ORIGIN_PARTITION, Some(o.partition.to_string()));
            put(ORIGIN_OFFSET, Some(o.offset.to_string()));
        }
        put(TRACEPARENT, self.traceparent.map(|v| v.to_string()));
        put(TRACESTATE, self.tracestate.clone());
    }

    /// The metadata of an event caused by this one: same correlation and trace, new id,
    /// causation pointing at this event.
    pub fn caused(&self) -> Self {
        let id = EventId::new();
        Self {
            event_id: Some(id),
            correlation_id: self
                .correlation_id
                .clone()
                .or_else(|| self.event_id.map(|e| e.to_string())),
            causation_id: self.event_id.map(|e| e.to_string()),
            traceparent: Some(
                self.traceparent
                    .map_or_else(TraceParent::new_root, |t| t.child()),
            ),
            tracestate: self.tracestate.clone(),
            tenant: self.tenant.clone(),
            ..Self::default()
        }
    }

    /// Writes the CloudEvents binary-mode headers for the fields CloudEvents requires
    /// (id, source, type, specversion) plus time and content type when known.
    /// Returns false, writing nothing, when id, source or type is missing.
    pub fn write_cloudevents(&self, h: &mut Headers) -> bool {
        let (Some(id), Some(source), Some(ty)) = (&self.event_id, &self.source, &self.event_type)
        else {
            return false;
        };
        h.set(cloudevents::SPECVERSION, cloudevents::SPEC_VERSION_1_0);
        h.set(cloudevents::ID, id.to_string());
        h.set(cloudevents::SOURCE, source.clone());
        h.set(cloudevents::TYPE, ty.clone());
        if let Some(t) = self.time_ms {
            h.set(cloudevents::TIME, crate::time::format_millis(t));
        }
        if let Some(ct) = &self.content_type {
            h.set(cloudevents::CONTENT_TYPE, ct.clone());
        }
        true
    }

    /// Fills fields that are absent from CloudEvents binary-mode headers, so records produced
    /// by CloudEvents SDKs get Weft metadata without being rewritten.
    pub fn fill_from_cloudevents(&mut self, h: &Headers) {
        if h.get_str(cloudevents::SPECVERSION).is_none() {
            return;
        }
        let owned = |k| h.get_str(k).map(str::to_string);
        if self.event_id.is_none() {
            self.event_id = h.get_parsed(cloudevents::ID);
        }
        if self.source.is_none() {
            self.source = owned(cloudevents::SOURCE);
        }
        if self.event_type.is_none() {
            self.event_type = owned(cloudevents::TYPE);
        }
        if self.time_ms.is_none() {
            self.time_ms = h
                .get_str(cloudevents::TIME)
                .and_then(crate::time::parse_millis);
        }
        if self.content_type.is_none() {
            self.content_type = owned(cloudevents::CONTENT_TYPE);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;

    #[test]
    fn weft_header_names_are_interned_and_others_owned() {
        assert!(matches!(intern("weft.event.id"), Cow::Borrowed(EVENT_ID)));
        assert!(matches!(
            intern("weft.dlq.error.code"),
            Cow::Borrowed(crate::dead_letter::DLQ_ERROR_CODE)
        ));
        assert!(matches!(intern("traceparent"), Cow::Borrowed(TRACEPARENT)));
        let other = intern("x-custom");
        assert!(matches!(other, Cow::Owned(_)));
        assert_eq!(other, "x-custom");
        assert!(matches!(intern("weft.event.idx"), Cow::Owned(_)));
    }

    fn sample() -> EventMeta {
        EventMeta {
            event_id: Some(EventId::new()),
            event_type: Some("github.push".into()),
            source: Some("webhook/github".into()),
            tenant: Some("acme".into()),
            correlation_id: Some("corr-1".into()),
            causation_id: None,
            schema_id: Some(42),
            content_type: Some(CONTENT_TYPE_AVRO.into()),
            time_ms: Some(1_795_314_600_123),
            attempt: Some(1),
            origin: Some(Origin {
                topic: "ingest.github".into(),
                partition: 3,
                offset: 99,
            }),
            traceparent: Some(TraceParent::new_root()),
            tracestate: Some("vendor=x".into()),
        }
    }

    #[test]
    fn meta_round_trips_through_headers() {
        let meta = sample();
        let mut h = Headers::new();
        meta.write_to(&mut h);
        assert_eq!(EventMeta::from_headers(&h), meta);
        assert_eq!(h.get_str(SCHEMA_ID), Some("42"));
    }

    #[test]
    fn malformed_headers_read_as_absent() {
        let mut h = Headers::new();
        h.set(EVENT_ID, "not-a-uuid");
        h.set(SCHEMA_ID, "forty-two");
        h.set(TRACEPARENT, "junk");
        h.set(ORIGIN_TOPIC, "t");
        let m = EventMeta::from_headers(&h);
        assert_eq!(m.event_id, None);
        assert_eq!(m.schema_id, None);
        assert_eq!(m.traceparent, None);
        assert_eq!(m.origin, None, "origin needs topic, partition and offset");
    }

    #[test]
    fn caused_event_links_to_its_cause() {
        let cause = sample();
        let effect = cause.caused();
        assert_ne!(effect.event_id, cause.event_id);
        assert_eq!(effect.causation_id, cause.event_id.map(|e| e.to_string()));
        assert_eq!(effect.correlation_id.as_deref(), Some("corr-1"));
        let (Some(a), Some(b)) = (cause.traceparent, effect.traceparent) else {
            panic!("both have trace context");
        };
        assert_eq!(a.trace_id, b.trace_id);
        assert_ne!(a.parent_id, b.parent_id);
    }

    #[test]
    fn cloudevents_mapping_both_ways() {
        let meta = sample();
        let mut h = Headers::new();
        assert!(meta.write_cloudevents(&mut h));
        assert_eq!(h.get_str(cloudevents::SPECVERSION), Some("1.0"));
        assert_eq!(h.get_str(cloudevents::TYPE), Some("github.push"));

        let mut filled = EventMeta::default();
        filled.fill_from_cloudevents(&h);
        assert_eq!(filled.event_id, meta.event_id);
        assert_eq!(filled.source, meta.source);
        assert_eq!(filled.time_ms, meta.time_ms);

        assert!(!EventMeta::default().write_cloudevents(&mut Headers::new()));
    }
}
