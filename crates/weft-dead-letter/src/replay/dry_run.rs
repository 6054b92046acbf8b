//! `--dry-run`: what a replay would do with each selected dead letter, producing nothing — no
//! transaction, no offsets, no audit record. Blocking.

use std::collections::BTreeMap;

use anyhow::Result;
use serde::Serialize;
use weft_kafka::KafkaConfig;

use super::checkpoint::Counts;
use super::decide::{decide, Action, Rules};
use super::kafka::{self, Topics};
use super::ReplayOptions;
use crate::entry::Entry;
use crate::scan::scan;

/// What a replay would do, in sum.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DryRunSummary {
    pub dry_run: bool,
    pub replay_id: String,
    pub dlq_topic: String,
    /// `replayed`, `quarantined`, …: what would be.
    pub counts: Counts,
    /// Records that would be re-published, by destination topic.
    pub destinations: BTreeMap<String, u64>,
    /// Topics the replay needs that do not exist (the real run would stop on them).
    pub missing_topics: Vec<String>,
}

/// Reads the selection and calls `each` with every selected dead letter and what a replay
/// would do with it; then checks that the topics it would write to exist.
pub fn dry_run(
    kafka: &KafkaConfig,
    opts: &ReplayOptions,
    mut each: impl FnMut(&Entry, &Action),
) -> Result<DryRunSummary> {
    let rules = Rules {
        replay_id: opts.id.clone(),
        to: opts.to.clone(),
        max_replays: opts.max_replays,
    };
    let mut s = DryRunSummary {
        dry_run: true,
        replay_id: opts.id.clone(),
        dlq_topic: opts.dlq_topic.clone(),
        ..DryRunSummary::default()
    };
    let f = &opts.filter;
    scan(
        kafka,
        &opts.dlq_topic,
        f.since_ms,
        |r| {
            s.counts.read += 1;
            let e = Entry::from_record(r);
            if !f.matches(&e) {
                return true;
            }
            s.counts.selected += 1;
            let action = decide(&e, &rules);
            match &action {
                Action::Replay { topic, .. } => {
                    s.counts.replayed += 1;
                    *s.destinations.entry(topic.clone()).or_default() += 1;
                }
                Action::Quarantine { .. } => s.counts.quarantined += 1,
                Action::NoOrigin => s.counts.no_origin += 1,
                Action::AlreadyReplayed => s.counts.skipped += 1,
            }
            each(&e, &action);
            true
        },
        |_| {},
    )?;
    let c = kafka::consumer(kafka, &format!("weft.replay.{}", opts.id))?;
    let mut topics = Topics::default();
    let mut needed: Vec<&str> = vec![opts.audit_topic.as_str(), opts.quarantine_topic.as_str()];
    needed.extend(opts.to.as_deref());
    needed.extend(s.destinations.keys().map(String::as_str));
    let mut missing = Vec::new();
    for t in needed {
        if topics.partitions(&c, t)?.is_none() && !missing.iter().any(|m: &String| m == t) {
            missing.push(t.to_string());
        }
    }
    s.missing_topics = missing;
    Ok(s)
}

/// One line of a dry run: `0:15  o-1  schema_mismatch  -> orders (partition 2)`.
pub fn dry_run_line(e: &Entry, action: &Action, quarantine_topic: &str) -> String {
    let what = match action {
        Action::Replay {
            topic,
            partition: Some(p),
        } => format!("-> {topic} (partition {p})"),
        Action::Replay { topic, .. } => format!("-> {topic}"),
        Action::Quarantine { count } => {
            format!("-> quarantine {quarantine_topic} (replayed {count} times)")
        }
        Action::NoOrigin => "-> nowhere: no origin topic (use --to)".to_string(),
        Action::AlreadyReplayed => "-> skipped: already replayed by this replay".to_string(),
    };
    format!(
        "{}  {}  {}  {what}",
        e.position(),
        e.key_text().unwrap_or("-"),
        e.error_code().unwrap_or("-")
    )
}

/// The JSON line of a dry run.
pub fn dry_run_json(e: &Entry, action: &Action, quarantine_topic: &str) -> serde_json::Value {
    let (destination, partition) = match action {
        Action::Replay { topic, partition } => (Some(topic.as_str()), *partition),
        Action::Quarantine { .. } => (Some(quarantine_topic), None),
        _ => (None, None),
    };
    serde_json::json!({
        "position": e.position(),
        "key": e.key_text(),
        "error_code": e.error_code(),
        "source_topic": e.source_topic(),
        "action": action.as_str(),
        "destination": destination,
        "partition": partition,
        "previous_replays": super::decide::previous_replays(e.headers()),
    })
}
