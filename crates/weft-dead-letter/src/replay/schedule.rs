//! Scheduled replays (`weft run replay`, `[[replay.schedules]]`): every `every`, a replay of
//! the dead letters of the window since the schedule's last run up to `min_age` ago that match
//! the schedule's filters. The windows follow each other without overlap, so a dead letter is
//! replayed by at most one scheduled run; where the last window ended is read back from the
//! audit topic (the `until` filter of the schedule's latest replay), so a restarted service
//! carries on. A run that did not complete (killed, or stopped by shutdown) is resumed under
//! its own replay id before the next window starts: each record once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;
use weft_core::time::{now_millis, parse_millis};
use weft_kafka::KafkaConfig;
use weft_schema::SchemaCache;

use super::{history, replay, Outcome, ReplayOptions};
use crate::filter::Filter;

/// How far in the past a window ends at least, whatever `min_age` says.
pub const MIN_LAG: Duration = Duration::from_secs(5);

/// `[replay]`: the topics scheduled replays use, and the schedules.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReplayServiceConfig {
    pub topic: String,
    pub audit_topic: String,
    pub quarantine_topic: String,
    pub schedules: Vec<Schedule>,
}

impl Default for ReplayServiceConfig {
    fn default() -> Self {
        Self {
            topic: super::DEFAULT_DLQ_TOPIC.into(),
            audit_topic: super::DEFAULT_AUDIT_TOPIC.into(),
            quarantine_topic: super::DEFAULT_QUARANTINE_TOPIC.into(),
            schedules: Vec::new(),
        }
    }
}

/// One scheduled replay.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// Names the schedule in the audit records (operator `schedule:<name>`).
    pub name: String,
    /// How often it runs.
    #[serde(with = "humantime_serde")]
    pub every: Duration,
    /// Only dead letters at least this old (their cause may not be gone yet); at least
    /// [`MIN_LAG`].
    #[serde(with = "humantime_serde", default)]
    pub min_age: Duration,
    #[serde(default)]
    pub error_codes: Vec<String>,
    #[serde(default)]
    pub source_topic: Option<String>,
    #[serde(default)]
    pub fingerprint: Option<String>,
    /// One destination instead of each record's origin topic.
    #[serde(default)]
    pub to: Option<String>,
    /// Records per second at most.
    #[serde(default)]
    pub rate: Option<f64>,
    #[serde(default = "default_max_replays")]
    pub max_replays: u32,
}

fn default_max_replays() -> u32 {
    super::DEFAULT_MAX_REPLAYS
}

impl ReplayServiceConfig {
    pub fn validate(&self) -> Vec<String> {
        let mut e = Vec::new();
        let mut names = std::collections::HashSet::new();
        for (i, s) in self.schedules.iter().enumerate() {
            let at = format!("replay.schedules[{i}]");
            if s.name.trim().is_empty() {
                e.push(format!("{at}.name: must not be empty"));
            } else if !names.insert(s.name.as_str()) {
                e.push(format!(
                    "{at}.name: {:?} is used by another schedule",
                    s.name
                ));
            }
            if s.every < Duration::from_secs(1) {
                e.push(format!("{at}.every: at least 1s"));
            }
            if s.rate.is_some_and(|r| r.is_nan() || r <= 0.0) {
                e.push(format!("{at}.rate: must be above zero"));
            }
            if s.max_replays == 0 {
                e.push(format!("{at}.max_replays: at least 1"));
            }
        }
        e
    }
}

impl Schedule {
    fn operator(&self) -> String {
        format!("schedule:{}", self.name)
    }

    /// The replay of the window `[since, until)`.
    fn options(
        &self,
        cfg: &ReplayServiceConfig,
        id: String,
        since_ms: Option<i64>,
        until_ms: i64,
        host: &str,
    ) -> ReplayOptions {
        let mut o = ReplayOptions::new(id, cfg.topic.clone());
        o.filter = Filter {
            since_ms,
            until_ms: Some(until_ms),
            source_topic: self.source_topic.clone(),
            error_codes: self.error_codes.clone(),
            fingerprint: self.fingerprint.clone(),
            ..Filter::default()
        };
        o.to = self.to.clone();
        o.rate = self.rate;
        o.max_replays = self.max_replays;
        o.quarantine_topic = cfg.quarantine_topic.clone();
        o.audit_topic = cfg.audit_topic.clone();
        o.operator = self.operator();
        o.host = host.to_string();
        o
    }
}

/// Where a schedule stands, from its latest audit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Standing {
    /// Never ran: the first window starts at the beginning of the topic.
    New,
    /// The last run completed; the next window starts where it ended.
    After { until_ms: i64 },
    /// The last run did not complete: resume it (same id, same window).
    Resume {
        id: String,
        since_ms: Option<i64>,
        until_ms: i64,
    },
}

pub(crate) fn standing(latest: Option<&super::AuditRecord>) -> Standing {
    let Some(r) = latest else {
        return Standing::New;
    };
    let time = |k: &str| r.filters.get(k).and_then(|t| parse_millis(t));
    let Some(until_ms) = time("until") else {
        return Standing::New;
    };
    match r.outcome {
        Outcome::Completed => Standing::After { until_ms },
        _ => Standing::Resume {
            id: r.replay_id.clone(),
            since_ms: time("since"),
            until_ms,
        },
    }
}

/// Runs every schedule until `shutdown`.
pub async fn run(
    kafka: &KafkaConfig,
    schemas: Arc<SchemaCache>,
    cfg: &ReplayServiceConfig,
    host: &str,
    shutdown: CancellationToken,
) -> Result<()> {
    let mut tasks = tokio::task::JoinSet::new();
    for s in cfg.schedules.clone() {
        let (k, sc, c, h, t) = (
            kafka.clone(),
            schemas.clone(),
            cfg.clone(),
            host.to_string(),
            shutdown.clone(),
        );
        tasks.spawn(async move { run_schedule(&k, &sc, &c, &s, &h, t).await });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(())
}

async fn run_schedule(
    kafka: &KafkaConfig,
    schemas: &SchemaCache,
    cfg: &ReplayServiceConfig,
    s: &Schedule,
    host: &str,
    shutdown: CancellationToken,
) -> Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    {
        let (stop, t) = (stop.clone(), shutdown.clone());
        tokio::spawn(async move {
            t.cancelled().await;
            stop.store(true, Ordering::SeqCst);
        });
    }
    loop {
        if let Err(e) = once(kafka, schemas, cfg, s, host, &stop).await {
            // The next turn tries again (a resumed run refuses nothing it did).
            tracing::error!(schedule = %s.name, error = %format!("{e:#}"), "Scheduled replay failed");
        }
        tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            () = tokio::time::sleep(s.every) => {}
        }
    }
}

/// One turn: resume an unfinished run, else replay the next window.
async fn once(
    kafka: &KafkaConfig,
    schemas: &SchemaCache,
    cfg: &ReplayServiceConfig,
    s: &Schedule,
    host: &str,
    stop: &Arc<AtomicBool>,
) -> Result<()> {
    let operator = s.operator();
    let past = history(kafka, schemas, &cfg.audit_topic, None).await;
    let latest = match &past {
        Ok(h) => h.replays.iter().find(|r| r.operator == operator),
        // An empty audit topic reads as "no record decodes": no run yet.
        Err(_) => None,
    };
    let opts = match standing(latest) {
        Standing::Resume {
            id,
            since_ms,
            until_ms,
        } => {
            tracing::info!(schedule = %s.name, replay = %id, "Resuming an unfinished scheduled replay");
            s.options(cfg, id, since_ms, until_ms, host)
        }
        st => {
            let since_ms = match st {
                Standing::After { until_ms } => Some(until_ms),
                _ => None,
            };
            // A window closes a little in the past: a dead letter stamped before its end but
            // still on its way to the broker when the window is read must not fall between
            // two windows.
            let lag = s.min_age.max(MIN_LAG);
            let until_ms = now_millis() - i64::try_from(lag.as_millis()).unwrap_or(0);
            if since_ms.is_some_and(|since| since >= until_ms) {
                return Ok(());
            }
            let id = uuid::Uuid::new_v4().hyphenated().to_string();
            s.options(cfg, id, since_ms, until_ms, host)
        }
    };
    let report = match replay(kafka, schemas, opts.clone(), stop.clone(), |_| {}).await {
        Err(e) if e.downcast_ref::<super::SelectionChanged>().is_some() => {
            // The schedule's filters changed since the unfinished run: a new replay of that
            // window with the new filters (records the old one re-published may go again).
            tracing::warn!(schedule = %s.name, replay = %opts.id, "The schedule changed; replaying the unfinished window under a new id");
            let mut fresh = opts;
            fresh.id = uuid::Uuid::new_v4().hyphenated().to_string();
            replay(kafka, schemas, fresh, stop.clone(), |_| {}).await?
        }
        other => other?,
    };
    tracing::info!(
        schedule = %s.name, replay = %report.id, outcome = report.outcome.as_str(),
        selected = report.counts.selected, replayed = report.counts.replayed,
        quarantined = report.counts.quarantined, "Scheduled replay"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::BTreeMap;

    use super::super::AuditRecord;
    use super::*;

    fn record(outcome: Outcome, filters: &[(&str, &str)]) -> AuditRecord {
        AuditRecord {
            replay_id: "r-1".into(),
            operator: "schedule:s".into(),
            host: "h".into(),
            started_ms: 0,
            finished_ms: None,
            source_topic: "weft.dlq".into(),
            filters: filters
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
            destination: None,
            dry_run: false,
            rate_per_second: None,
            selected: 0,
            replayed: 0,
            skipped: 0,
            failed: 0,
            outcome,
        }
    }

    #[test]
    fn windows_follow_each_other_and_unfinished_runs_resume() {
        assert_eq!(standing(None), Standing::New);
        let done = record(Outcome::Completed, &[("until", "1970-01-01T00:00:10Z")]);
        assert_eq!(standing(Some(&done)), Standing::After { until_ms: 10_000 });
        let cut = record(
            Outcome::Interrupted,
            &[
                ("since", "1970-01-01T00:00:10Z"),
                ("until", "1970-01-01T00:00:20Z"),
            ],
        );
        assert_eq!(
            standing(Some(&cut)),
            Standing::Resume {
                id: "r-1".into(),
                since_ms: Some(10_000),
                until_ms: 20_000
            }
        );
        let running = record(Outcome::Running, &[("until", "1970-01-01T00:00:20Z")]);
        assert!(matches!(
            standing(Some(&running)),
            Standing::Resume { since_ms: None, .. }
        ));
    }

    #[test]
    fn schedules_are_checked() {
        let cfg = ReplayServiceConfig {
            schedules: vec![
                Schedule {
                    name: "a".into(),
                    every: Duration::from_millis(10),
                    min_age: Duration::ZERO,
                    error_codes: vec![],
                    source_topic: None,
                    fingerprint: None,
                    to: None,
                    rate: Some(0.0),
                    max_replays: 0,
                },
                Schedule {
                    name: "a".into(),
                    every: Duration::from_secs(60),
                    min_age: Duration::ZERO,
                    error_codes: vec![],
                    source_topic: None,
                    fingerprint: None,
                    to: None,
                    rate: None,
                    max_replays: 3,
                },
            ],
            ..ReplayServiceConfig::default()
        };
        let e = cfg.validate();
        assert_eq!(e.len(), 4, "{e:?}");
        assert!(e[0].starts_with("replay.schedules[0].every"), "{e:?}");
        assert!(e[3].contains("used by another schedule"), "{e:?}");
    }
}
