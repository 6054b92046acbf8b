//! The dead-letter record: the original record, untouched, plus why and where it failed.
//!
//! On Kafka a dead letter keeps the original key and value bytes (Confluent framing intact)
//! and the original headers; Weft appends the `weft.dlq.*` headers below. Nothing else is
//! rewritten, so a replay re-publishes exactly what first arrived.

use bytes::Bytes;

use crate::envelope::Headers;
use crate::error::{ErrorClass, ErrorCode, StageError};
use crate::time::{format_millis, parse_millis};

pub const DLQ_PREFIX: &str = "weft.dlq.";
pub const DLQ_ORIGIN_TOPIC: &str = "weft.dlq.origin.topic";
pub const DLQ_ORIGIN_PARTITION: &str = "weft.dlq.origin.partition";
pub const DLQ_ORIGIN_OFFSET: &str = "weft.dlq.origin.offset";
pub const DLQ_ORIGIN_TIMESTAMP: &str = "weft.dlq.origin.timestamp";
pub const DLQ_GROUP: &str = "weft.dlq.group";
pub const DLQ_SERVICE: &str = "weft.dlq.service";
pub const DLQ_STAGE: &str = "weft.dlq.stage";
pub const DLQ_ERROR_CLASS: &str = "weft.dlq.error.class";
pub const DLQ_ERROR_CODE: &str = "weft.dlq.error.code";
pub const DLQ_ERROR_MESSAGE: &str = "weft.dlq.error.message";
pub const DLQ_ERROR_FIELD: &str = "weft.dlq.error.field";
pub const DLQ_FINGERPRINT: &str = "weft.dlq.fingerprint";
pub const DLQ_SCHEMA_ID: &str = "weft.dlq.schema.id";
pub const DLQ_ATTEMPT: &str = "weft.dlq.attempt";
pub const DLQ_FIRST_FAILURE: &str = "weft.dlq.first.failure";
pub const DLQ_LAST_FAILURE: &str = "weft.dlq.last.failure";
pub const DLQ_REPLAY_COUNT: &str = "weft.dlq.replay.count";
/// The subject whose schema the failing stage expected the value in (decoding failures).
pub const DLQ_EXPECTED_SUBJECT: &str = "weft.dlq.expected.subject";

/// Error messages longer than this are cut (on a character boundary) in headers.
pub const MAX_MESSAGE_BYTES: usize = 1024;

/// The record as it was consumed, before anything failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginalRecord {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub timestamp_ms: Option<i64>,
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    pub headers: Headers,
}

/// Why and where a record failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub service: String,
    pub stage: String,
    pub group: Option<String>,
    pub class: ErrorClass,
    pub code: ErrorCode,
    pub message: String,
    pub field: Option<String>,
    pub schema_id: Option<u32>,
    /// How many times processing was attempted before giving up (1 = first try failed).
    pub attempt: u32,
    pub first_failure_ms: i64,
    pub last_failure_ms: i64,
    /// How many times this record has been replayed from the dead-letter topic.
    pub replay_count: u32,
}

impl Failure {
    /// A failure observed now from a classified error.
    pub fn from_error(service: &str, stage: &str, error: &StageError, attempt: u32) -> Self {
        let now = crate::time::now_millis();
        Self {
            service: service.to_string(),
            stage: stage.to_string(),
            group: None,
            class: error.class,
            code: error.code,
            message: error.message.clone(),
            field: error.field.clone(),
            schema_id: None,
            attempt,
            first_failure_ms: now,
            last_failure_ms: now,
            replay_count: 0,
        }
    }

    /// Groups failures with the same cause: error code, schema id and field path, never the
    /// message text (which often holds values). Stable across releases: FNV-1a, 64 bits, hex.
    pub fn fingerprint(&self) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let schema = self.schema_id.map(|s| s.to_string()).unwrap_or_default();
        let parts = [
            self.code.as_str(),
            &schema,
            self.field.as_deref().unwrap_or(""),
        ];
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                h = fnv_step(h, 0x1f);
            }
            for b in part.bytes() {
                h = fnv_step(h, b);
            }
        }
        format!("{h:016x}")
    }
}

fn fnv_step(h: u64, b: u8) -> u64 {
    (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
}

/// A dead-letter record: what to write to (or what was read from) the dead-letter topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub original: OriginalRecord,
    pub failure: Failure,
}

/// Why a record read from a dead-letter topic is not a Weft dead letter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a Weft dead letter: header {header} {problem}")]
pub struct NotADeadLetter {
    pub header: &'static str,
    pub problem: &'static str,
}

impl DeadLetter {
    /// The key, value and headers to produce to the dead-letter topic. Any `weft.dlq.*`
    /// headers from an earlier failure are replaced; the original headers are kept in order.
    pub fn to_kafka(&self) -> (Option<Bytes>, Option<Bytes>, Headers) {
        let o = &self.original;
        let f = &self.failure;
        let mut h = Headers::with_capacity(o.headers.len() + 18);
        for x in o.headers.iter().filter(|x| !x.key.starts_with(DLQ_PREFIX)) {
            h.push(x.key.clone(), x.value.clone());
        }
        // Every weft.dlq.* header is gone: push, no search. Names and fixed words are static.
        let mut put = |k: &'static str, v: Bytes| h.push(k, Some(v));
        put(DLQ_ORIGIN_TOPIC, Bytes::from(o.topic.clone()));
        put(DLQ_ORIGIN_PARTITION, Bytes::from(o.partition.to_string()));
        put(DLQ_ORIGIN_OFFSET, Bytes::from(o.offset.to_string()));
        if let Some(ts) = o.timestamp_ms {
            put(DLQ_ORIGIN_TIMESTAMP, Bytes::from(format_millis(ts)));
        }
        if let Some(g) = &f.group {
            put(DLQ_GROUP, Bytes::from(g.clone()));
        }
        put(DLQ_SERVICE, Bytes::from(f.service.clone()));
        put(DLQ_STAGE, Bytes::from(f.stage.clone()));
        put(
            DLQ_ERROR_CLASS,
            Bytes::from_static(f.class.as_str().as_bytes()),
        );
        put(
            DLQ_ERROR_CODE,
            Bytes::from_static(f.code.as_str().as_bytes()),
        );
        put(
            DLQ_ERROR_MESSAGE,
            Bytes::from(truncate(&f.message, MAX_MESSAGE_BYTES)),
        );
        if let Some(field) = &f.field {
            put(DLQ_ERROR_FIELD, Bytes::from(field.clone()));
        }
        put(DLQ_FINGERPRINT, Bytes::from(f.fingerprint()));
        if let Some(id) = f.schema_id {
            put(DLQ_SCHEMA_ID, Bytes::from(id.to_string()));
        }
        put(DLQ_ATTEMPT, Bytes::from(f.attempt.to_string()));
        let first = Bytes::from(format_millis(f.first_failure_ms));
        let last = if f.last_failure_ms == f.first_failure_ms {
            first.clone()
        } else {
            Bytes::from(format_millis(f.last_failure_ms))
        };
        put(DLQ_FIRST_FAILURE, first);
        put(DLQ_LAST_FAILURE, last);
        // Lineage: only a record replayed before carries a count (readers take 0 when absent).
        if f.replay_count > 0 {
            put(DLQ_REPLAY_COUNT, Bytes::from(f.replay_count.to_string()));
        }
        (o.key.clone(), o.value.clone(), h)
    }

    /// Reads a dead letter back from a record of the dead-letter topic.
    pub fn from_kafka(
        key: Option<Bytes>,
        value: Option<Bytes>,
        headers: &Headers,
    ) -> Result<Self, NotADeadLetter> {
        fn need<'a>(h: &'a Headers, k: &'static str) -> Result<&'a str, NotADeadLetter> {
            h.get_str(k).ok_or(NotADeadLetter {
                header: k,
                problem: "is missing",
            })
        }
        fn parse<T: std::str::FromStr>(h: &Headers, k: &'static str) -> Result<T, NotADeadLetter> {
            need(h, k)?.parse().map_err(|_| NotADeadLetter {
                header: k,
                problem: "is malformed",
            })
        }
        let time = |k: &'static str| {
            need(headers, k).and_then(|s| {
                parse_millis(s).ok_or(NotADeadLetter {
                    header: k,
                    problem: "is not a timestamp",
                })
            })
        };
        let original = OriginalRecord {
            topic: need(headers, DLQ_ORIGIN_TOPIC)?.to_string(),
            partition: parse(headers, DLQ_ORIGIN_PARTITION)?,
            offset: parse(headers, DLQ_ORIGIN_OFFSET)?,
            timestamp_ms: headers.get_str(DLQ_ORIGIN_TIMESTAMP).and_then(parse_millis),
            key,
            value,
            headers: headers
                .iter()
                .filter(|x| !x.key.starts_with(DLQ_PREFIX))
                .cloned()
                .collect(),
        };
        let failure = Failure {
            service: need(headers, DLQ_SERVICE)?.to_string(),
            stage: need(headers, DLQ_STAGE)?.to_string(),
            group: headers.get_str(DLQ_GROUP).map(str::to_string),
            class: parse(headers, DLQ_ERROR_CLASS)?,
            code: parse(headers, DLQ_ERROR_CODE)?,
            message: headers
                .get_str(DLQ_ERROR_MESSAGE)
                .unwrap_or_default()
                .to_string(),
            field: headers.get_str(DLQ_ERROR_FIELD).map(str::to_string),
            schema_id: headers.get_parsed(DLQ_SCHEMA_ID),
            attempt: parse(headers, DLQ_ATTEMPT)?,
            first_failure_ms: time(DLQ_FIRST_FAILURE)?,
            last_failure_ms: time(DLQ_LAST_FAILURE)?,
            replay_count: headers.get_parsed(DLQ_REPLAY_COUNT).unwrap_or(0),
        };
        Ok(Self { original, failure })
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> DeadLetter {
        let mut headers = Headers::new();
        headers.set("weft.event.id", "0190b6c4-0000-7000-8000-000000000000");
        headers.push("binary", Some(Bytes::from_static(&[0, 1, 2, 0xff])));
        headers.push("nullable", None);
        DeadLetter {
            original: OriginalRecord {
                topic: "ingest.orders".into(),
                partition: 2,
                offset: 1234,
                timestamp_ms: Some(1_795_314_600_000),
                key: Some(Bytes::from_static(b"order-1")),
                value: Some(Bytes::from_static(&[0, 0, 0, 0, 7, 2, 4])),
                headers,
            },
            failure: Failure {
                service: "transform".into(),
                stage: "orders-canonical".into(),
                group: Some("weft.transform.orders".into()),
                class: ErrorClass::Permanent,
                code: ErrorCode::SchemaMismatch,
                message: "field amount: expected double, found string".into(),
                field: Some("amount".into()),
                schema_id: Some(7),
                attempt: 1,
                first_failure_ms: 1_795_314_600_500,
                last_failure_ms: 1_795_314_601_500,
                replay_count: 0,
            },
        }
    }

    #[test]
    fn dead_letter_round_trips_and_keeps_original_bytes_and_headers() {
        let dl = sample();
        let (key, value, headers) = dl.to_kafka();
        assert_eq!(value, dl.original.value, "value bytes are untouched");
        assert_eq!(headers.get_str(DLQ_ERROR_CODE), Some("schema_mismatch"));
        let back = DeadLetter::from_kafka(key, value, &headers).expect("parses");
        assert_eq!(back, dl);
    }

    #[test]
    fn a_second_failure_replaces_the_dlq_headers() {
        let mut dl = sample();
        let (key, value, headers) = dl.to_kafka();
        dl.original.headers = headers;
        dl.original.key = key;
        dl.original.value = value;
        dl.failure.replay_count = 1;
        let (_, _, headers) = dl.to_kafka();
        let codes = headers.iter().filter(|h| h.key == DLQ_ERROR_CODE).count();
        assert_eq!(codes, 1);
        assert_eq!(headers.get_str(DLQ_REPLAY_COUNT), Some("1"));
    }

    #[test]
    fn missing_or_malformed_headers_are_named() {
        let (k, v, mut h) = sample().to_kafka();
        h.remove(DLQ_STAGE);
        let e = DeadLetter::from_kafka(k.clone(), v.clone(), &h).expect_err("no stage");
        assert_eq!(e.header, DLQ_STAGE);
        let (_, _, mut h) = sample().to_kafka();
        h.set(DLQ_ORIGIN_OFFSET, "twelve");
        let e = DeadLetter::from_kafka(k, v, &h).expect_err("bad offset");
        assert_eq!(
            e.to_string(),
            "not a Weft dead letter: header weft.dlq.origin.offset is malformed"
        );
    }

    #[test]
    fn fingerprint_ignores_message_and_depends_on_code_schema_field() {
        let a = sample().failure;
        let mut b = a.clone();
        b.message = "different words".into();
        assert_eq!(a.fingerprint(), b.fingerprint());
        b.field = Some("currency".into());
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert_eq!(a.fingerprint().len(), 16);
    }

    #[test]
    fn long_messages_are_cut_on_a_char_boundary() {
        let s = "é".repeat(MAX_MESSAGE_BYTES);
        let t = truncate(&s, MAX_MESSAGE_BYTES);
        assert!(t.len() <= MAX_MESSAGE_BYTES + '…'.len_utf8());
        assert!(t.ends_with('…'));
    }
}
