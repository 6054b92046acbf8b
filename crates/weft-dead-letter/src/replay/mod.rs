//! Replay (`weft replay`): re-publish selected dead letters, exactly once per replay id.
//!
//! - **Selection**: the dead letters of a topic, up to the end it had when the replay started,
//!   that match a [`Filter`].
//! - **Destination**: `--to`, else the record's origin topic (Weft's headers, or Kafka
//!   Connect's, Kafka Streams' or Spring's), to its origin partition when known.
//! - **Record**: original key and value bytes; headers less every dead-letter family, plus the
//!   lineage `weft.replay.*` ([`lineage`]).
//! - **Exactly once**: a transactional producer (`transactional.id = weft.replay.<id>`); each
//!   transaction holds a batch of re-published records and commits the dead-letter offsets of
//!   group `weft.replay.<id>` with a [`checkpoint`] per partition. A killed run leaves an open
//!   transaction that the next run (`--id`) aborts; it resumes at the committed offsets.
//! - **Loop protection**: a dead letter replayed `max_replays` times already is copied
//!   unchanged to the quarantine topic instead (in the same transaction).
//! - **Audit**: a `weft.replay.ReplayAudit` record at the start and at the end of every run
//!   ([`audit`]), the end one in the last transaction.
//!
//! Pure decisions ([`decide`], [`lineage`], [`rate`], [`progress`], [`checkpoint`], [`audit`])
//! are kept apart from the Kafka I/O (`kafka`, `run`, [`dry_run`], [`history`]).

pub mod audit;
pub mod checkpoint;
pub mod decide;
pub mod dry_run;
pub mod history;
mod kafka;
pub mod lineage;
pub mod progress;
pub mod rate;
mod run;
pub mod schedule;
mod txn;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use weft_kafka::KafkaConfig;
use weft_schema::SchemaCache;

pub use audit::{AuditRecord, Outcome};
pub use checkpoint::Counts;
pub use decide::{Action, Rules};
pub use dry_run::{dry_run, DryRunSummary};
pub use history::{history, History};
pub use kafka::{MissingTopic, SelectionChanged};
pub use progress::Progress;

use crate::filter::Filter;

pub const DEFAULT_DLQ_TOPIC: &str = "weft.dlq";
pub const DEFAULT_QUARANTINE_TOPIC: &str = "weft.dlq.quarantine";
pub const DEFAULT_AUDIT_TOPIC: &str = "weft.replay.audit";
pub const DEFAULT_MAX_REPLAYS: u32 = 3;

/// One replay: what to select, where it goes, and who asks.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// The replay id (a UUID): the transactional id, consumer group and audit key derive
    /// from it. The same id resumes the replay.
    pub id: String,
    pub dlq_topic: String,
    pub filter: Filter,
    /// One destination for every record instead of each one's origin topic.
    pub to: Option<String>,
    /// Records re-published per second at most.
    pub rate: Option<f64>,
    pub max_replays: u32,
    pub quarantine_topic: String,
    pub audit_topic: String,
    pub operator: String,
    pub host: String,
    /// A transaction is committed after this many records produced…
    pub batch_max: usize,
    /// …or this long after it began, whichever comes first.
    pub batch_interval: Duration,
}

impl ReplayOptions {
    /// A replay of everything in `dlq_topic` with the default topics and limits.
    pub fn new(id: impl Into<String>, dlq_topic: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            dlq_topic: dlq_topic.into(),
            filter: Filter::default(),
            to: None,
            rate: None,
            max_replays: DEFAULT_MAX_REPLAYS,
            quarantine_topic: DEFAULT_QUARANTINE_TOPIC.into(),
            audit_topic: DEFAULT_AUDIT_TOPIC.into(),
            operator: "unknown".into(),
            host: "unknown".into(),
            batch_max: 100_000,
            batch_interval: Duration::from_millis(500),
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct Report {
    pub id: String,
    /// `Completed` or `Interrupted` (a failed run returns the error).
    pub outcome: Outcome,
    /// Every run of the replay included, as committed.
    pub counts: Counts,
    /// This run only.
    pub this_run: Counts,
    /// Whether this run resumed an earlier one.
    pub resumed: bool,
    pub elapsed: Duration,
}

/// Runs (or resumes) a replay until it has read the selection or `stop` is set; `progress`
/// is called a few times a second from the replay's thread. Fails before reading anything
/// when a topic it needs does not exist ([`MissingTopic`]) or a resumed replay is given
/// another selection ([`SelectionChanged`]); a failure after that is recorded as a `FAILED`
/// audit record, and what was committed before it stays committed (resume with the same id).
pub async fn replay(
    kafka: &KafkaConfig,
    schemas: &SchemaCache,
    opts: ReplayOptions,
    stop: Arc<AtomicBool>,
    mut progress: impl FnMut(&Progress) + Send + 'static,
) -> Result<Report> {
    let (k, o) = (kafka.clone(), opts.clone());
    tokio::task::spawn_blocking(move || -> Result<i32> {
        let c = kafka::consumer(&k, &format!("weft.replay.{}", o.id))?;
        run::check_topics(&c, &mut kafka::Topics::default(), &o)
    })
    .await
    .context("checking the topics")??;
    let subject = format!("{}-value", opts.audit_topic);
    let schema_id = schemas
        .register(&subject, audit::SCHEMA)
        .await
        .with_context(|| format!("registering the audit schema under {subject}"))?;
    let codec = schemas
        .schema(schema_id)
        .await
        .with_context(|| format!("reading the audit schema (id {schema_id})"))?
        .codec
        .clone();
    let k = kafka.clone();
    tokio::task::spawn_blocking(move || {
        run::run(
            &k,
            &opts,
            txn::AuditCodec { codec, schema_id },
            &stop,
            &mut progress,
        )
    })
    .await
    .context("the replay task failed")?
}
