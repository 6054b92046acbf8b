//! Records in retry tiers: a dead letter (the original record untouched plus `weft.dlq.*`)
//! with the `weft.retry.*` headers saying whose it is, which tier it is in and when it is due.
//! Written by a loop whose record failed with a `Transient` error after its in-place
//! attempts; handed back, when due, by the dead-letter service on the ready topic.

use std::sync::Arc;

use weft_core::dead_letter::NotADeadLetter;
use weft_core::headers::retry;
use weft_core::time::{format_millis, parse_millis};
use weft_core::DeadLetter;

use crate::options::Tier;
use crate::record::{OutRecord, Record};

/// A record handed back for another attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retried {
    /// The consumer group it belongs to.
    pub group: String,
    /// The tier it last waited in (0 = first).
    pub tier: u32,
    /// The original record and its failures so far.
    pub dead_letter: DeadLetter,
}

/// Why a record of the ready topic is not a retry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotARetry {
    #[error("not a retry: header {0} is missing or malformed")]
    Header(&'static str),
    #[error(transparent)]
    DeadLetter(#[from] NotADeadLetter),
}

impl Retried {
    pub fn read(record: &Record) -> Result<Self, NotARetry> {
        let group = record
            .headers
            .get_str(retry::GROUP)
            .filter(|g| !g.is_empty())
            .ok_or(NotARetry::Header(retry::GROUP))?
            .to_string();
        let tier = record
            .headers
            .get_str(retry::TIER)
            .and_then(|t| t.parse().ok())
            .ok_or(NotARetry::Header(retry::TIER))?;
        let mut dead_letter =
            DeadLetter::from_kafka(record.key.clone(), record.value.clone(), &record.headers)?;
        dead_letter
            .original
            .headers
            .retain(|h| !h.key.starts_with("weft.retry."));
        Ok(Self {
            group,
            tier,
            dead_letter,
        })
    }

    /// The record as first consumed, to process again.
    pub fn original_record(&self) -> Record {
        let o = &self.dead_letter.original;
        Record {
            topic: Arc::from(o.topic.as_str()),
            partition: o.partition,
            offset: o.offset,
            timestamp_ms: o.timestamp_ms,
            key: o.key.clone(),
            value: o.value.clone(),
            headers: o.headers.clone(),
        }
    }
}

/// The record to write to tier `index` (`tier`) for `dead_letter`, due `tier.delay` after
/// `now_ms`.
pub fn tier_record(
    dead_letter: &DeadLetter,
    group: &str,
    index: u32,
    tier: &Tier,
    now_ms: i64,
) -> OutRecord {
    let (key, value, mut headers) = dead_letter.to_kafka();
    let delay = i64::try_from(tier.delay.as_millis()).unwrap_or(i64::MAX / 2);
    headers.set(retry::GROUP, group.to_string());
    headers.set(retry::TIER, index.to_string());
    headers.set(retry::DUE, format_millis(now_ms.saturating_add(delay)));
    OutRecord {
        topic: Arc::from(tier.topic.as_str()),
        partition: None,
        key,
        value,
        headers,
        timestamp_ms: dead_letter.original.timestamp_ms,
    }
}

/// Fails with a configuration error naming every tier topic (and the ready topic) missing
/// on the cluster: a tier record with nowhere to go would stop its stage later, mid-stream.
pub fn check_topics(
    kafka: &crate::KafkaConfig,
    tiers: &crate::options::RetryTiers,
) -> Result<(), crate::Error> {
    let admin = crate::admin::Admin::new(kafka)?;
    let existing: std::collections::HashSet<String> = admin
        .describe(None, std::time::Duration::from_secs(10))?
        .into_iter()
        .map(|t| t.name)
        .collect();
    let missing: Vec<&str> = tiers
        .tiers
        .iter()
        .map(|t| t.topic.as_str())
        .chain(std::iter::once(tiers.ready_topic.as_str()))
        .filter(|t| !existing.contains(*t))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(crate::Error::Config(format!(
        "retry tiers: topics missing on the cluster: {} (create them with `weft topics apply`)",
        missing.join(", ")
    )))
}

/// When a tier record is due: its `weft.retry.due` header.
pub fn due_ms(record: &Record) -> Option<i64> {
    record.headers.get_str(retry::DUE).and_then(parse_millis)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use std::time::Duration;

    use bytes::Bytes;
    use weft_core::{ErrorCode, Failure, Headers, OriginalRecord, StageError};

    use super::*;

    #[test]
    fn a_tier_record_reads_back_as_the_original_and_its_failure() {
        let mut h = Headers::new();
        h.set(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        );
        let original = OriginalRecord {
            topic: "orders".into(),
            partition: 2,
            offset: 41,
            timestamp_ms: Some(1_000),
            key: Some(Bytes::from_static(b"k")),
            value: Some(Bytes::from_static(&[0, 0, 0, 0, 1, 2])),
            headers: h.clone(),
        };
        let error = StageError::new(ErrorCode::RegistryUnavailable, "registry down");
        let dl = DeadLetter {
            original,
            failure: Failure::from_error("transform", "orders", &error, 3),
        };
        let tier = Tier {
            topic: "weft.retry.10s".into(),
            delay: Duration::from_secs(10),
        };
        let out = tier_record(&dl, "g", 0, &tier, 5_000);
        assert_eq!(out.topic.as_ref(), "weft.retry.10s");
        assert_eq!(
            out.headers.get_str(retry::DUE),
            Some("1970-01-01T00:00:15Z")
        );
        let as_read = Record {
            topic: Arc::from("weft.retry.ready"),
            partition: 0,
            offset: 7,
            timestamp_ms: Some(15_000),
            key: out.key.clone(),
            value: out.value.clone(),
            headers: out.headers.clone(),
        };
        assert_eq!(due_ms(&as_read), Some(15_000));
        let r = Retried::read(&as_read).unwrap();
        assert_eq!((r.group.as_str(), r.tier), ("g", 0));
        assert_eq!(r.dead_letter.failure.attempt, 3);
        let again = r.original_record();
        assert_eq!(
            (again.topic.as_ref(), again.partition, again.offset),
            ("orders", 2, 41)
        );
        assert_eq!(again.headers, h, "only the original headers");
        assert_eq!(again.value, dl.original.value);

        let mut bad = as_read.clone();
        bad.headers.set(retry::TIER, "x");
        assert_eq!(Retried::read(&bad), Err(NotARetry::Header(retry::TIER)));
    }
}
