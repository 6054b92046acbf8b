//! The audit record of a replay (`weft.replay.ReplayAudit`, Avro, key = replay id): written
//! when a run starts (`RUNNING`) and when it ends (`COMPLETED`, `INTERRUPTED`, `FAILED`), and
//! read back by `weft replay history`.

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Value as Json};
use weft_core::time::{format_millis, parse_millis};
use weft_schema::codec::{Codec, JsonOptions};

use super::checkpoint::Counts;

/// The schema, as `schemas/` holds it; registered under `<audit topic>-value`.
pub const SCHEMA: &str = include_str!("../../../../schemas/weft.replay.ReplayAudit.avsc");

/// How a run of a replay ended (or that it is running).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Running,
    Completed,
    Interrupted,
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "RUNNING",
            Self::Completed => "COMPLETED",
            Self::Interrupted => "INTERRUPTED",
            Self::Failed => "FAILED",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [
            Self::Running,
            Self::Completed,
            Self::Interrupted,
            Self::Failed,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
}

/// One audit record.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub replay_id: String,
    pub operator: String,
    pub host: String,
    pub started_ms: i64,
    pub finished_ms: Option<i64>,
    /// The dead-letter topic read.
    pub source_topic: String,
    pub filters: BTreeMap<String, String>,
    /// `--to`; `None`: each record's origin topic.
    pub destination: Option<String>,
    pub dry_run: bool,
    pub rate_per_second: Option<f64>,
    pub selected: i64,
    pub replayed: i64,
    /// Already replayed by this id, or quarantined (over the replay limit).
    pub skipped: i64,
    /// Selected but not re-published for want of a destination (no origin topic).
    pub failed: i64,
    pub outcome: Outcome,
}

fn long(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl AuditRecord {
    /// Sets the counts from a replay's [`Counts`] (the schema has four of them).
    pub fn set_counts(&mut self, c: &Counts) {
        self.selected = long(c.selected);
        self.replayed = long(c.replayed);
        self.skipped = long(c.skipped.saturating_add(c.quarantined));
        self.failed = long(c.no_origin);
    }

    /// The record as JSON with the schema's field names; timestamps as RFC 3339 (the form
    /// `weft replay history --output json` prints and [`Codec::from_json`] reads).
    pub fn to_json(&self) -> Json {
        json!({
            "replay_id": self.replay_id,
            "operator": self.operator,
            "host": self.host,
            "started_at": format_millis(self.started_ms),
            "finished_at": self.finished_ms.map(format_millis),
            "source_topic": self.source_topic,
            "filters": self.filters,
            "destination": self.destination,
            "dry_run": self.dry_run,
            "rate_per_second": self.rate_per_second,
            "selected": self.selected,
            "replayed": self.replayed,
            "skipped": self.skipped,
            "failed": self.failed,
            "outcome": self.outcome.as_str(),
        })
    }

    /// Reads the JSON [`to_json`](Self::to_json) or [`Codec::to_json`] writes.
    pub fn from_json(v: &Json) -> Result<Self, String> {
        let text = |k: &str| -> Result<String, String> {
            v.get(k)
                .and_then(Json::as_str)
                .map(str::to_string)
                .ok_or_else(|| format!("field {k}: missing or not a string"))
        };
        let time = |k: &str| -> Option<i64> {
            match v.get(k)? {
                Json::String(s) => parse_millis(s),
                n => n.as_i64(),
            }
        };
        let count = |k: &str| v.get(k).and_then(Json::as_i64).unwrap_or(0);
        let filters = v
            .get("filters")
            .and_then(Json::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, x)| Some((k.clone(), x.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        let outcome = text("outcome")?;
        Ok(Self {
            replay_id: text("replay_id")?,
            operator: text("operator").unwrap_or_default(),
            host: text("host").unwrap_or_default(),
            started_ms: time("started_at").ok_or("field started_at: missing or not a time")?,
            finished_ms: time("finished_at"),
            source_topic: text("source_topic").unwrap_or_default(),
            filters,
            destination: v
                .get("destination")
                .and_then(Json::as_str)
                .map(str::to_string),
            dry_run: v.get("dry_run").and_then(Json::as_bool).unwrap_or(false),
            rate_per_second: v.get("rate_per_second").and_then(Json::as_f64),
            selected: count("selected"),
            replayed: count("replayed"),
            skipped: count("skipped"),
            failed: count("failed"),
            outcome: Outcome::parse(&outcome)
                .ok_or_else(|| format!("field outcome: {outcome:?} is not an outcome"))?,
        })
    }

    /// The Avro value in the Confluent wire format, with the registered schema's id.
    pub fn encode(&self, codec: &Codec, schema_id: u32) -> Result<Vec<u8>, String> {
        let value = codec
            .from_json(&self.to_json(), &JsonOptions::default())
            .map_err(|e| format!("the audit record does not fit its schema: {e}"))?;
        codec
            .encode_framed(schema_id, &value)
            .map_err(|e| format!("encoding the audit record: {e}"))
    }

    /// One line of `weft replay history`.
    pub fn history_line(&self) -> String {
        let filters: Vec<String> = self
            .filters
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        format!(
            "{}  {:<11}  {}  {}@{}  selected {} replayed {} skipped {} failed {}  {} -> {}{}{}",
            self.replay_id,
            self.outcome.as_str(),
            format_millis(self.started_ms),
            self.operator,
            self.host,
            self.selected,
            self.replayed,
            self.skipped,
            self.failed,
            self.source_topic,
            self.destination.as_deref().unwrap_or("(origin topics)"),
            if filters.is_empty() { "" } else { "  " },
            filters.join(" ")
        )
    }
}

/// The latest record of each replay (in the order they were read: the audit topic's order),
/// newest replay first (by start time, then by which was written last).
pub fn latest_per_replay(records: Vec<AuditRecord>) -> Vec<AuditRecord> {
    let mut latest: HashMap<String, (usize, AuditRecord)> = HashMap::new();
    for (i, r) in records.into_iter().enumerate() {
        latest.insert(r.replay_id.clone(), (i, r));
    }
    let mut out: Vec<(usize, AuditRecord)> = latest.into_values().collect();
    out.sort_by(|a, b| b.1.started_ms.cmp(&a.1.started_ms).then(b.0.cmp(&a.0)));
    out.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn sample(id: &str, started: i64, outcome: Outcome) -> AuditRecord {
        AuditRecord {
            replay_id: id.into(),
            operator: "ops".into(),
            host: "box".into(),
            started_ms: started,
            finished_ms: (outcome != Outcome::Running).then_some(started + 1000),
            source_topic: "weft.dlq".into(),
            filters: BTreeMap::from([("error_code".into(), "decode_failed".into())]),
            destination: None,
            dry_run: false,
            rate_per_second: Some(250.0),
            selected: 10,
            replayed: 9,
            skipped: 1,
            failed: 0,
            outcome,
        }
    }

    #[test]
    fn a_record_encodes_with_the_schema_and_reads_back() {
        let codec = Codec::parse(SCHEMA, &[]).unwrap();
        let r = sample(
            "0190b6c4-0000-4000-8000-000000000000",
            1_795_341_600_000,
            Outcome::Completed,
        );
        let framed = r.encode(&codec, 42).unwrap();
        assert_eq!(&framed[..5], &[0, 0, 0, 0, 42]);
        let value = codec.decode(&framed[5..]).unwrap();
        let back = AuditRecord::from_json(&codec.to_json(&value).unwrap()).unwrap();
        assert_eq!(back, r);
        let running = sample("0190b6c4-0000-4000-8000-000000000001", 5, Outcome::Running);
        let value = codec
            .decode(&running.encode(&codec, 1).unwrap()[5..])
            .unwrap();
        assert_eq!(
            AuditRecord::from_json(&codec.to_json(&value).unwrap()).unwrap(),
            running
        );
    }

    #[test]
    fn counts_map_onto_the_schemas_four() {
        let mut r = sample("x", 0, Outcome::Running);
        r.set_counts(&Counts {
            read: 100,
            selected: 50,
            replayed: 40,
            quarantined: 6,
            skipped: 1,
            no_origin: 3,
        });
        assert_eq!(
            (r.selected, r.replayed, r.skipped, r.failed),
            (50, 40, 7, 3)
        );
    }

    #[test]
    fn history_keeps_the_latest_record_of_each_replay_newest_first() {
        let rows = latest_per_replay(vec![
            sample("a", 100, Outcome::Running),
            sample("b", 200, Outcome::Running),
            sample("a", 100, Outcome::Interrupted),
            sample("a", 100, Outcome::Running),
            sample("b", 200, Outcome::Completed),
            sample("a", 100, Outcome::Completed),
        ]);
        let got: Vec<(&str, Outcome)> = rows
            .iter()
            .map(|r| (r.replay_id.as_str(), r.outcome))
            .collect();
        assert_eq!(got, [("b", Outcome::Completed), ("a", Outcome::Completed)]);
        let line = rows[1].history_line();
        assert!(
            line.starts_with("a  COMPLETED    1970-01-01T00:00:00.1Z  ops@box  selected 10"),
            "{line}"
        );
        assert!(
            line.ends_with("weft.dlq -> (origin topics)  error_code=decode_failed"),
            "{line}"
        );
    }

    #[test]
    fn malformed_json_is_named() {
        let e =
            AuditRecord::from_json(&json!({"replay_id": "x", "outcome": "DONE", "started_at": 1}))
                .unwrap_err();
        assert_eq!(e, "field outcome: \"DONE\" is not an outcome");
        assert!(AuditRecord::from_json(&json!({"outcome": "RUNNING"})).is_err());
    }
}
