//! The open transaction of a replay run: what one dead letter puts into it, and committing it
//! with every partition's offset and checkpoint (the audit records go in it too).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use rdkafka::consumer::{BaseConsumer, ConsumerGroupMetadata};
use rdkafka::producer::Producer as _;
use rdkafka::{Offset, TopicPartitionList};
use weft_core::time::now_millis;
use weft_core::Headers;
use weft_kafka::{KafkaConfig, Record};
use weft_schema::Codec;

use super::audit::{AuditRecord, Outcome};
use super::checkpoint::{Checkpoint, Counts};
use super::decide::{decide, Action, Rules};
use super::kafka::{self, Plan, Topics, TxProducer, TIMEOUT};
use super::lineage::{replay_headers, Lineage};
use super::rate::TokenBucket;
use super::run::total;
use super::ReplayOptions;
use crate::entry::Entry;
use crate::filter::Filter;

/// How audit records are encoded: the schema registered under `<audit topic>-value`.
pub(super) struct AuditCodec {
    pub codec: Arc<Codec>,
    pub schema_id: u32,
}

/// A replay run under way: its clients, partitions and the open transaction.
pub(super) struct Run<'a> {
    pub(super) opts: &'a ReplayOptions,
    pub(super) filter: Filter,
    pub(super) rules: Rules,
    pub(super) consumer: BaseConsumer,
    pub(super) producer: TxProducer,
    pub(super) group: ConsumerGroupMetadata,
    pub(super) topics: Topics,
    pub(super) plan: Plan,
    pub(super) audit: AuditCodec,
    pub(super) dlq: Arc<str>,
    /// [`selection_fingerprint`] of this replay, written in every checkpoint.
    pub(super) selection: String,
    /// Totals as of the last committed transaction (what a failure reports).
    pub(super) committed: Counts,
    /// Records produced in the open transaction, and when it began.
    pub(super) in_txn: usize,
    pub(super) txn_began: Instant,
    pub(super) dirty: bool,
}

pub(super) enum Step {
    Go,
    Stop,
}

impl Run<'_> {
    /// One dead letter: decide, wait for the rate, send; `Stop` when interrupted while waiting
    /// (the record is then left for the next run).
    pub(super) fn handle(
        &mut self,
        i: usize,
        record: Record,
        bucket: Option<&mut TokenBucket>,
        stop: &AtomicBool,
    ) -> Result<Step> {
        let e = Entry::from_record(record);
        let action = self.filter.matches(&e).then(|| decide(&e, &self.rules));
        if let (Some(Action::Replay { .. }), Some(b)) = (&action, bucket) {
            if let Some(wait) = b.take(Instant::now()) {
                // A slow rate must not keep a transaction open past its timeout: commit what
                // is there before a long wait (the next one starts with the next record).
                if wait >= self.opts.batch_interval && self.dirty {
                    self.commit(true)?;
                }
                if !sleep_unless(stop, wait) {
                    return Ok(Step::Stop);
                }
            }
        }
        let r = &e.record;
        let (key, value) = (r.key.as_deref(), r.value.as_deref());
        let mut c = Counts {
            read: 1,
            ..Counts::default()
        };
        c.selected = u64::from(action.is_some());
        match action {
            None => {}
            Some(Action::AlreadyReplayed) => c.skipped = 1,
            Some(Action::NoOrigin) => c.no_origin = 1,
            Some(Action::Quarantine { .. }) => {
                let q = &self.opts.quarantine_topic;
                kafka::send(&self.producer, q, None, key, value, e.headers())?;
                c.quarantined = 1;
            }
            Some(Action::Replay { topic, partition }) => {
                let n = self
                    .topics
                    .require(&self.consumer, &topic, "destination", || {
                        format!(
                            " (the origin topic of dead letter {}-{}@{}; replay it elsewhere with \
                         --to, or leave it out with the filters)",
                            r.topic, r.partition, r.offset
                        )
                    })?;
                let headers = replay_headers(&e, &Lineage::of(&e, &self.opts.id));
                let partition = partition.filter(|p| *p < n);
                kafka::send(&self.producer, &topic, partition, key, value, &headers)?;
                c.replayed = 1;
            }
        }
        if c.replayed + c.quarantined > 0 {
            self.in_txn += 1;
            // Delivery reports are served in batches: one poll per record cost 7 % of the run.
            if self.in_txn.is_multiple_of(64) {
                kafka::serve(&self.producer);
            }
        }
        let p = &mut self.plan.parts[i];
        p.counts.add(&c);
        p.next = r.offset + 1;
        // Its last record: the partition is read (no need to wait for the consumer's position).
        p.done |= p.next >= p.end;
        self.dirty = true;
        Ok(Step::Go)
    }

    pub(super) fn begin(&mut self) -> Result<()> {
        self.producer
            .begin_transaction()
            .context("beginning a transaction")?;
        self.in_txn = 0;
        self.txn_began = Instant::now();
        Ok(())
    }

    /// Commits the open transaction with every partition's offset and checkpoint; opens the
    /// next one when `again`.
    pub(super) fn commit(&mut self, again: bool) -> Result<()> {
        kafka::drain(&self.producer, TIMEOUT).context("waiting for the transaction's records")?;
        let mut tpl = TopicPartitionList::new();
        for p in &self.plan.parts {
            let cp = Checkpoint {
                end: p.end,
                started_ms: self.plan.started_ms,
                selection: self.selection.clone(),
                since_ms: self.plan.since_ms,
                until_ms: self.plan.until_ms,
                counts: p.counts,
            };
            let mut e = tpl.add_partition(&self.opts.dlq_topic, p.partition);
            e.set_offset(Offset::Offset(p.next))?;
            e.set_metadata(cp.encode());
        }
        self.producer
            .send_offsets_to_transaction(&tpl, &self.group, TIMEOUT)
            .context("adding the dead-letter offsets to the transaction")?;
        self.producer
            .commit_transaction(TIMEOUT)
            .context("committing the transaction")?;
        self.committed = total(&self.plan.parts);
        self.dirty = false;
        if again {
            self.begin()?;
        }
        Ok(())
    }

    fn audit_record(&self, outcome: Outcome, counts: &Counts) -> AuditRecord {
        let o = self.opts;
        let mut r = AuditRecord {
            replay_id: o.id.clone(),
            operator: o.operator.clone(),
            host: o.host.clone(),
            started_ms: self.plan.started_ms,
            finished_ms: (outcome != Outcome::Running).then(now_millis),
            source_topic: o.dlq_topic.clone(),
            filters: self.filter.to_map(),
            destination: o.to.clone(),
            dry_run: false,
            rate_per_second: o.rate,
            selected: 0,
            replayed: 0,
            skipped: 0,
            failed: 0,
            outcome,
        };
        r.set_counts(counts);
        r
    }

    pub(super) fn send_audit(&mut self, outcome: Outcome) -> Result<()> {
        let value = self
            .audit_record(outcome, &total(&self.plan.parts))
            .encode(&self.audit.codec, self.audit.schema_id)
            .map_err(|e| anyhow!(e))?;
        let (topic, id) = (&self.opts.audit_topic, self.opts.id.as_bytes());
        kafka::send(
            &self.producer,
            topic,
            None,
            Some(id),
            Some(&value),
            &Headers::new(),
        )
    }

    pub(super) fn write_failed(&self, kafka_cfg: &KafkaConfig) -> Result<()> {
        let value = self
            .audit_record(Outcome::Failed, &self.committed)
            .encode(&self.audit.codec, self.audit.schema_id)
            .map_err(|e| anyhow!(e))?;
        let p = kafka::plain_producer(kafka_cfg)?;
        let (topic, id) = (&self.opts.audit_topic, self.opts.id.as_bytes());
        kafka::send(&p, topic, None, Some(id), Some(&value), &Headers::new())?;
        kafka::drain(&p, TIMEOUT).context("writing the FAILED audit record")
    }
}

/// Sleeps `d` in short slices; `false` when `stop` was set meanwhile.
fn sleep_unless(stop: &AtomicBool, d: Duration) -> bool {
    let until = Instant::now() + d;
    loop {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}
