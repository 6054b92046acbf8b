//! One record of a dead-letter topic, read for inspection: Weft's own dead letter, one written
//! by another tool, or a record that is neither (still listed, never hidden).

use serde_json::json;
use weft_core::dead_letter::{
    DeadLetter, DLQ_ERROR_CODE, DLQ_FINGERPRINT, DLQ_SCHEMA_ID, DLQ_STAGE,
};
use weft_core::foreign_dlq::{self, ForeignOrigin, Scheme};
use weft_core::time::format_millis;
use weft_core::Headers;
use weft_kafka::Record;

/// A record of the dead-letter topic with what its headers say about the failure.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The record as read from the dead-letter topic (its partition, offset and timestamp are
    /// the dead letter's own).
    pub record: Record,
    /// Where it came from, by whichever scheme its headers carry; `None`: no known scheme.
    pub origin: Option<ForeignOrigin>,
    /// Weft's own dead letter, when every required `weft.dlq.*` header reads.
    pub weft: Option<DeadLetter>,
}

impl Entry {
    pub fn from_record(record: Record) -> Self {
        let weft =
            DeadLetter::from_kafka(record.key.clone(), record.value.clone(), &record.headers).ok();
        Self {
            origin: foreign_dlq::detect(&record.headers),
            record,
            weft,
        }
    }

    pub fn headers(&self) -> &Headers {
        &self.record.headers
    }

    /// When it was written to the dead-letter topic (its Kafka timestamp).
    pub fn timestamp_ms(&self) -> Option<i64> {
        self.record.timestamp_ms
    }

    /// `partition:offset`, how `weft dlq show` names a record.
    pub fn position(&self) -> String {
        format!("{}:{}", self.record.partition, self.record.offset)
    }

    pub fn scheme(&self) -> Option<Scheme> {
        self.origin.as_ref().map(|o| o.scheme)
    }

    pub fn source_topic(&self) -> Option<&str> {
        self.origin.as_ref().map(|o| o.topic.as_str())
    }

    /// Weft's error code; for a foreign dead letter, the error class its tool wrote.
    pub fn error_code(&self) -> Option<&str> {
        if let Some(code) = self.record.headers.get_str(DLQ_ERROR_CODE) {
            return Some(code);
        }
        self.origin.as_ref().and_then(|o| o.error_class.as_deref())
    }

    pub fn stage(&self) -> Option<&str> {
        self.record.headers.get_str(DLQ_STAGE)
    }

    pub fn fingerprint(&self) -> Option<String> {
        match &self.weft {
            Some(dl) => Some(dl.failure.fingerprint()),
            None => self
                .record
                .headers
                .get_str(DLQ_FINGERPRINT)
                .map(str::to_string),
        }
    }

    pub fn message(&self) -> Option<&str> {
        match &self.weft {
            Some(dl) => Some(dl.failure.message.as_str()),
            None => self.origin.as_ref().and_then(|o| o.message.as_deref()),
        }
    }

    /// The writer schema id of the value: its Confluent framing (magic byte 0 and four bytes),
    /// else the `weft.dlq.schema.id` header.
    pub fn schema_id(&self) -> Option<u32> {
        match self.record.value.as_deref() {
            Some([0, a, b, c, d, ..]) => Some(u32::from_be_bytes([*a, *b, *c, *d])),
            _ => self
                .record
                .headers
                .get_str(DLQ_SCHEMA_ID)
                .and_then(|s| s.trim().parse().ok()),
        }
    }

    /// The key as text when it is UTF-8.
    pub fn key_text(&self) -> Option<&str> {
        self.record
            .key
            .as_deref()
            .and_then(|k| std::str::from_utf8(k).ok())
    }

    /// The summary `weft dlq list --output json` prints per record.
    pub fn summary_json(&self) -> serde_json::Value {
        let o = self.origin.as_ref();
        json!({
            "position": self.position(),
            "partition": self.record.partition,
            "offset": self.record.offset,
            "timestamp": self.record.timestamp_ms.map(format_millis),
            "scheme": self.scheme().map(Scheme::as_str),
            "source": o.map(|o| json!({
                "topic": o.topic,
                "partition": o.partition,
                "offset": o.offset,
            })),
            "stage": self.stage(),
            "error_code": self.error_code(),
            "error_class": self.weft.as_ref().map(|d| d.failure.class.as_str()),
            "fingerprint": self.fingerprint(),
            "schema_id": self.schema_id(),
            "key": self.key_text(),
            "message": self.message(),
            "attempt": self.weft.as_ref().map(|d| d.failure.attempt),
            "replay_count": self.weft.as_ref().map(|d| d.failure.replay_count),
        })
    }

    /// One line for `weft dlq list`.
    pub fn summary_line(&self) -> String {
        let source = match &self.origin {
            Some(o) => format!(
                "{}-{}@{}",
                o.topic,
                o.partition.map_or("?".into(), |p| p.to_string()),
                o.offset.map_or("?".into(), |p| p.to_string())
            ),
            None => "(not a dead letter of a known scheme)".into(),
        };
        let mut message = self.message().unwrap_or("").replace('\n', " ");
        if message.len() > 120 {
            let mut cut = 117;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push('…');
        }
        format!(
            "{:<10} {:<24} {:<40} {:<20} {:<24} {}",
            self.position(),
            self.record
                .timestamp_ms
                .map(format_millis)
                .unwrap_or_default(),
            source,
            self.stage().unwrap_or("-"),
            self.error_code().unwrap_or("-"),
            message
        )
    }
}
