//! The headers of a re-published record: the dead letter's headers without any tool's
//! dead-letter headers or an earlier replay's lineage, plus this replay's lineage
//! (`weft.replay.*`, docs/headers.md).

use weft_core::dead_letter::DLQ_PREFIX;
use weft_core::foreign_dlq::{connect, spring, streams};
use weft_core::headers::replay;
use weft_core::Headers;

use super::decide::previous_replays;
use crate::entry::Entry;

/// Prefixes of the header families a re-published record must not carry: Weft's dead-letter
/// headers, Kafka Connect's and Kafka Streams' error context, Spring's dead-letter and retry
/// topic headers, and an earlier replay's lineage.
const DROPPED_PREFIXES: [&str; 7] = [
    DLQ_PREFIX,
    connect::PREFIX,
    streams::PREFIX,
    "kafka_dlt-",
    "kafka_original-",
    "kafka_exception-",
    "weft.replay.",
];

/// Whether a header belongs to a dead-letter family or to an earlier replay's lineage.
pub fn is_dropped(name: &str) -> bool {
    DROPPED_PREFIXES.iter().any(|p| name.starts_with(p))
        || spring::DLT_ALL.contains(&name)
        || name == spring::ORIGINAL_TOPIC
}

/// What a replay says about where a record comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lineage {
    pub replay_id: String,
    /// Replays of this record, this one included.
    pub count: u32,
    /// `<dead-letter topic>-<partition>@<offset>`.
    pub from: String,
    pub previous_error_code: Option<String>,
    pub previous_fingerprint: Option<String>,
}

impl Lineage {
    pub fn of(e: &Entry, replay_id: &str) -> Self {
        let r = &e.record;
        Self {
            replay_id: replay_id.to_string(),
            count: previous_replays(e.headers()).saturating_add(1),
            from: format!("{}-{}@{}", r.topic, r.partition, r.offset),
            previous_error_code: e.error_code().map(str::to_string),
            previous_fingerprint: e.fingerprint(),
        }
    }
}

/// The headers to re-publish `e` with: its own headers, in order, less the dropped families,
/// then the lineage.
pub fn replay_headers(e: &Entry, lineage: &Lineage) -> Headers {
    let mut h: Headers = e
        .headers()
        .iter()
        .filter(|x| !is_dropped(&x.key))
        .cloned()
        .collect();
    h.set(replay::ID, lineage.replay_id.clone());
    h.set(replay::COUNT, lineage.count.to_string());
    h.set(replay::FROM, lineage.from.clone());
    if let Some(c) = &lineage.previous_error_code {
        h.set(replay::PREVIOUS_ERROR_CODE, c.clone());
    }
    if let Some(f) = &lineage.previous_fingerprint {
        h.set(replay::PREVIOUS_FINGERPRINT, f.clone());
    }
    h
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bytes::Bytes;
    use weft_core::dead_letter::{DeadLetter, Failure, OriginalRecord};
    use weft_core::foreign_dlq::{write_connect, write_spring};
    use weft_core::{ErrorClass, ErrorCode};
    use weft_kafka::Record;

    use super::*;

    fn weft_dead_letter(replay_count: u32, extra: &[(&'static str, &'static str)]) -> Entry {
        let mut original = Headers::new();
        original.set("tenant", "acme");
        original.push("binary", Some(Bytes::from_static(&[0, 0xff])));
        for (k, v) in extra {
            original.set(*k, *v);
        }
        let dl = DeadLetter {
            original: OriginalRecord {
                topic: "orders".into(),
                partition: 1,
                offset: 5,
                timestamp_ms: Some(10),
                key: Some(Bytes::from_static(b"o-1")),
                value: Some(Bytes::from_static(&[0, 0, 0, 0, 7, 2])),
                headers: original,
            },
            failure: Failure {
                service: "transform".into(),
                stage: "orders".into(),
                group: Some("g".into()),
                class: ErrorClass::Permanent,
                code: ErrorCode::SchemaMismatch,
                message: "nope".into(),
                field: Some("amount".into()),
                schema_id: Some(7),
                attempt: 1,
                first_failure_ms: 20,
                last_failure_ms: 20,
                replay_count,
            },
        };
        let (key, value, mut headers) = dl.to_kafka();
        write_connect(&dl, &mut headers);
        write_spring(&dl, &mut headers);
        Entry::from_record(Record {
            topic: Arc::from("weft.dlq"),
            partition: 2,
            offset: 99,
            timestamp_ms: Some(30),
            key,
            value,
            headers,
        })
    }

    #[test]
    fn dead_letter_headers_go_and_lineage_comes() {
        let e = weft_dead_letter(0, &[]);
        let l = Lineage::of(&e, "r-1");
        assert_eq!(l.count, 1);
        assert_eq!(l.from, "weft.dlq-2@99");
        assert_eq!(l.previous_error_code.as_deref(), Some("schema_mismatch"));
        assert_eq!(
            l.previous_fingerprint,
            e.weft.as_ref().map(|d| d.failure.fingerprint())
        );
        let h = replay_headers(&e, &l);
        let names: Vec<&str> = h.iter().map(|x| x.key.as_ref()).collect();
        assert_eq!(
            names,
            [
                "tenant",
                "binary",
                replay::ID,
                replay::COUNT,
                replay::FROM,
                replay::PREVIOUS_ERROR_CODE,
                replay::PREVIOUS_FINGERPRINT
            ]
        );
        assert_eq!(h.get("binary"), Some(&[0u8, 0xff][..]));
        assert_eq!(h.get_str(replay::COUNT), Some("1"));
    }

    #[test]
    fn an_earlier_replays_lineage_is_replaced_and_the_count_grows() {
        let e = weft_dead_letter(
            2,
            &[
                (replay::ID, "r-0"),
                (replay::COUNT, "2"),
                (replay::FROM, "x-0@1"),
            ],
        );
        let l = Lineage::of(&e, "r-1");
        assert_eq!(l.count, 3);
        let h = replay_headers(&e, &l);
        assert_eq!(
            h.iter()
                .filter(|x| x.key.starts_with("weft.replay."))
                .count(),
            5
        );
        assert_eq!(h.get_str(replay::ID), Some("r-1"));
        assert_eq!(h.get_str(replay::COUNT), Some("3"));
        assert_eq!(h.get_str(replay::FROM), Some("weft.dlq-2@99"));
    }

    #[test]
    fn every_foreign_family_is_recognised() {
        for name in connect::ALL.iter().chain(spring::DLT_ALL.iter()) {
            assert!(is_dropped(name), "{name}");
        }
        for name in [
            streams::EXCEPTION,
            streams::TOPIC,
            spring::ORIGINAL_TOPIC,
            spring::ORIGINAL_OFFSET,
            spring::EXCEPTION_FQCN,
            "weft.dlq.error.code",
        ] {
            assert!(is_dropped(name), "{name}");
        }
        for name in [
            "tenant",
            "weft.event.id",
            "traceparent",
            "weft.origin.topic",
        ] {
            assert!(!is_dropped(name), "{name}");
        }
    }
}
