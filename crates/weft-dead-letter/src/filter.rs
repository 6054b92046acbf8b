//! The selection operators make from a dead-letter topic, shared by `weft dlq list|stats` and
//! replay: every given criterion must hold.

use std::collections::BTreeMap;

use weft_core::time::{format_millis, now_millis, parse_millis};

use crate::entry::Entry;

/// Dead letters to select; empty criteria select everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Written to the dead-letter topic at or after this time (ms since the epoch).
    pub since_ms: Option<i64>,
    /// Written before this time.
    pub until_ms: Option<i64>,
    /// The topic the record originally came from.
    pub source_topic: Option<String>,
    /// Any of these error codes (a foreign dead letter's error class counts as its code).
    pub error_codes: Vec<String>,
    pub fingerprint: Option<String>,
    /// The key, as UTF-8 text.
    pub key: Option<String>,
    /// Headers that must be present with these values (the last header of a name counts).
    pub headers: Vec<(String, String)>,
    /// The value's writer schema id.
    pub schema_id: Option<u32>,
}

/// A filter argument that does not read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{what}: {problem}")]
pub struct BadFilter {
    pub what: String,
    pub problem: String,
}

impl Filter {
    pub fn matches(&self, e: &Entry) -> bool {
        if let Some(since) = self.since_ms {
            if e.timestamp_ms().is_none_or(|t| t < since) {
                return false;
            }
        }
        if let Some(until) = self.until_ms {
            if e.timestamp_ms().is_none_or(|t| t >= until) {
                return false;
            }
        }
        if let Some(t) = &self.source_topic {
            if e.source_topic() != Some(t.as_str()) {
                return false;
            }
        }
        if !self.error_codes.is_empty()
            && !e
                .error_code()
                .is_some_and(|c| self.error_codes.iter().any(|x| x == c))
        {
            return false;
        }
        if let Some(f) = &self.fingerprint {
            if e.fingerprint().as_deref() != Some(f.as_str()) {
                return false;
            }
        }
        if let Some(k) = &self.key {
            if e.key_text() != Some(k.as_str()) {
                return false;
            }
        }
        if !self
            .headers
            .iter()
            .all(|(name, value)| e.headers().get_str(name) == Some(value.as_str()))
        {
            return false;
        }
        if let Some(id) = self.schema_id {
            if e.schema_id() != Some(id) {
                return false;
            }
        }
        true
    }

    /// The criteria by name, as the replay audit record keeps them (`filters`).
    pub fn to_map(&self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        if let Some(t) = self.since_ms {
            m.insert("since".into(), format_millis(t));
        }
        if let Some(t) = self.until_ms {
            m.insert("until".into(), format_millis(t));
        }
        if let Some(t) = &self.source_topic {
            m.insert("topic".into(), t.clone());
        }
        if !self.error_codes.is_empty() {
            m.insert("error_code".into(), self.error_codes.join(","));
        }
        if let Some(f) = &self.fingerprint {
            m.insert("fingerprint".into(), f.clone());
        }
        if let Some(k) = &self.key {
            m.insert("key".into(), k.clone());
        }
        if !self.headers.is_empty() {
            let h: Vec<String> = self
                .headers
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            m.insert("header".into(), h.join(","));
        }
        if let Some(id) = self.schema_id {
            m.insert("schema_id".into(), id.to_string());
        }
        m
    }
}

/// A time given on the command line: RFC 3339 (`2026-11-22T10:00:00Z`), milliseconds since the
/// epoch, or a duration before now (`90m`, `2h`, `7d`).
pub fn parse_time(what: &str, text: &str) -> Result<i64, BadFilter> {
    let t = text.trim();
    if let Some(ms) = parse_millis(t) {
        return Ok(ms);
    }
    match humantime::parse_duration(t) {
        Ok(d) => Ok(now_millis() - i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2)),
        Err(_) => Err(BadFilter {
            what: what.into(),
            problem: format!(
                "{text:?} is neither a time (2026-11-22T10:00:00Z, or milliseconds since the epoch) \
                 nor a duration before now (90m, 2h, 7d)"
            ),
        }),
    }
}

/// A `--header name=value` argument.
pub fn parse_header(text: &str) -> Result<(String, String), BadFilter> {
    match text.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(BadFilter {
            what: "--header".into(),
            problem: format!("{text:?} is not name=value"),
        }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use std::sync::Arc;

    use bytes::Bytes;
    use weft_core::dead_letter::{DeadLetter, Failure, OriginalRecord};
    use weft_core::foreign_dlq::connect;
    use weft_core::{ErrorClass, ErrorCode, Headers};
    use weft_kafka::Record;

    use super::*;

    fn weft_entry(code: ErrorCode, topic: &str, key: &str, ts: i64) -> Entry {
        let dl = DeadLetter {
            original: OriginalRecord {
                topic: topic.into(),
                partition: 2,
                offset: 40,
                timestamp_ms: Some(ts - 5),
                key: Some(Bytes::from(key.to_string())),
                value: Some(Bytes::from_static(&[0, 0, 0, 0, 7, 2, 3])),
                headers: Headers::new(),
            },
            failure: Failure {
                service: "transform".into(),
                stage: "orders".into(),
                group: Some("g".into()),
                class: ErrorClass::Permanent,
                code,
                message: "field amount: expected long".into(),
                field: Some("amount".into()),
                schema_id: Some(7),
                attempt: 1,
                first_failure_ms: ts,
                last_failure_ms: ts,
                replay_count: 0,
            },
        };
        let (key, value, mut headers) = dl.to_kafka();
        headers.set("tenant", "acme");
        Entry::from_record(Record {
            topic: Arc::from("weft.dlq"),
            partition: 0,
            offset: 9,
            timestamp_ms: Some(ts),
            key,
            value,
            headers,
        })
    }

    #[test]
    fn every_criterion_must_hold() {
        let e = weft_entry(ErrorCode::SchemaMismatch, "orders", "o-1", 1_000);
        assert!(Filter::default().matches(&e));
        let ok = Filter {
            since_ms: Some(1_000),
            until_ms: Some(1_001),
            source_topic: Some("orders".into()),
            error_codes: vec!["decode_failed".into(), "schema_mismatch".into()],
            fingerprint: e.fingerprint(),
            key: Some("o-1".into()),
            headers: vec![("tenant".into(), "acme".into())],
            schema_id: Some(7),
        };
        assert!(ok.matches(&e));
        let misses = [
            Filter {
                since_ms: Some(1_001),
                ..ok.clone()
            },
            Filter {
                until_ms: Some(1_000),
                ..ok.clone()
            },
            Filter {
                source_topic: Some("other".into()),
                ..ok.clone()
            },
            Filter {
                error_codes: vec!["decode_failed".into()],
                ..ok.clone()
            },
            Filter {
                fingerprint: Some("0".into()),
                ..ok.clone()
            },
            Filter {
                key: Some("o-2".into()),
                ..ok.clone()
            },
            Filter {
                headers: vec![("tenant".into(), "other".into())],
                ..ok.clone()
            },
            Filter {
                schema_id: Some(8),
                ..ok.clone()
            },
        ];
        for f in misses {
            assert!(!f.matches(&e), "{f:?}");
        }
        let m = ok.to_map();
        assert_eq!(m["error_code"], "decode_failed,schema_mismatch");
        assert_eq!(m["header"], "tenant=acme");
        assert_eq!(m["since"], "1970-01-01T00:00:01Z");
    }

    #[test]
    fn foreign_dead_letters_are_selected_by_their_topic_and_class() {
        let mut h = Headers::new();
        h.set(connect::TOPIC, "crm.contacts");
        h.set(connect::PARTITION, "1");
        h.set(connect::OFFSET, "77");
        h.set(
            connect::EXCEPTION_CLASS_NAME,
            "org.apache.kafka.connect.errors.DataException",
        );
        let e = Entry::from_record(Record {
            topic: Arc::from("dlq-sink"),
            partition: 0,
            offset: 0,
            timestamp_ms: Some(5),
            key: None,
            value: Some(Bytes::from_static(b"{}")),
            headers: h,
        });
        assert!(e.weft.is_none());
        assert_eq!(e.source_topic(), Some("crm.contacts"));
        let f = Filter {
            source_topic: Some("crm.contacts".into()),
            error_codes: vec!["org.apache.kafka.connect.errors.DataException".into()],
            ..Filter::default()
        };
        assert!(f.matches(&e));
        assert_eq!(e.schema_id(), None);
    }

    #[test]
    fn times_and_headers_read_or_say_why_not() {
        assert_eq!(
            parse_time("--since", "2026-11-22T10:00:00Z").unwrap(),
            1_795_341_600_000
        );
        assert_eq!(parse_time("--since", "1000").unwrap(), 1000);
        let an_hour_ago = parse_time("--since", "1h").unwrap();
        assert!((now_millis() - an_hour_ago - 3_600_000).abs() < 5_000);
        let e = parse_time("--since", "yesterday").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("--since: \"yesterday\" is neither"),
            "{e}"
        );
        assert_eq!(parse_header("a=b=c").unwrap(), ("a".into(), "b=c".into()));
        assert!(parse_header("nope").is_err());
    }
}
