//! `weft replay history`: the latest audit record of every replay, read from the audit topic.

use anyhow::{Context, Result};
use weft_kafka::KafkaConfig;
use weft_schema::SchemaCache;

use super::audit::{latest_per_replay, AuditRecord};
use crate::scan::scan;

/// What the audit topic holds.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// The latest record of each replay, newest replay first.
    pub replays: Vec<AuditRecord>,
    /// Records that did not decode as audit records (counted, not shown).
    pub unreadable: u64,
}

/// Reads the whole audit topic (committed records only) and keeps the latest record of each
/// replay; at most `limit` replays.
pub async fn history(
    kafka: &KafkaConfig,
    schemas: &SchemaCache,
    audit_topic: &str,
    limit: Option<usize>,
) -> Result<History> {
    let (k, t) = (kafka.clone(), audit_topic.to_string());
    let values = tokio::task::spawn_blocking(move || -> Result<Vec<Option<bytes::Bytes>>> {
        let mut out = Vec::new();
        scan(
            &k,
            &t,
            None,
            |r| {
                out.push(r.value);
                true
            },
            |_| {},
        )?;
        Ok(out)
    })
    .await
    .context("reading the audit topic")??;
    let mut records = Vec::with_capacity(values.len());
    let mut unreadable = 0;
    let mut first_error = None;
    for v in values.iter().flatten() {
        let decoded = match schemas.decode(v).await {
            Ok((_, schema, value)) => schema
                .codec
                .to_json(&value)
                .map_err(|e| e.to_string())
                .and_then(|j| AuditRecord::from_json(&j)),
            Err(e) => Err(e.to_string()),
        };
        match decoded {
            Ok(r) => records.push(r),
            Err(e) => {
                unreadable += 1;
                first_error.get_or_insert(e);
            }
        }
    }
    if let (true, Some(e)) = (records.is_empty(), first_error) {
        anyhow::bail!("no record of {audit_topic} reads as a replay audit record: {e}");
    }
    let mut replays = latest_per_replay(records);
    if let Some(n) = limit {
        replays.truncate(n);
    }
    Ok(History {
        replays,
        unreadable,
    })
}
