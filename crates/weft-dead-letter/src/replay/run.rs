//! The replay itself: read the dead-letter partitions, re-publish or quarantine what is
//! selected, and commit every batch with the partitions' offsets and checkpoints in one Kafka
//! transaction. Blocking (the caller runs it with `spawn_blocking`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::Producer as _;
use rdkafka::{Message, Offset, TopicPartitionList};
use weft_kafka::{KafkaConfig, Record};

use super::audit::Outcome;
use super::checkpoint::{selection_fingerprint, Counts};
use super::decide::Rules;
use super::kafka::{self, Part, Topics, TIMEOUT};
use super::progress::{eta, Meter, Progress, Throttle};
use super::rate::TokenBucket;
use super::txn::{AuditCodec, Run, Step};
use super::{ReplayOptions, Report};
use crate::filter::Filter;

pub(super) fn run(
    kafka: &KafkaConfig,
    opts: &ReplayOptions,
    audit: AuditCodec,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Report> {
    let started = Instant::now();
    let consumer = kafka::consumer(kafka, &format!("weft.replay.{}", opts.id))?;
    let mut topics = Topics::default();
    let partitions = check_topics(&consumer, &mut topics, opts)?;
    let selection = selection_fingerprint(
        &opts.dlq_topic,
        &opts.filter.to_map(),
        opts.to.as_deref(),
        opts.max_replays,
        &opts.quarantine_topic,
    );
    let window = (opts.filter.since_ms, opts.filter.until_ms);
    let plan = kafka::plan(
        &consumer,
        &opts.dlq_topic,
        partitions,
        window,
        &selection,
        &opts.id,
    )?;
    let filter = Filter {
        since_ms: plan.since_ms,
        until_ms: plan.until_ms,
        ..opts.filter.clone()
    };
    let producer = kafka::transactional_producer(kafka, &opts.id)?;
    producer
        .init_transactions(TIMEOUT)
        .context("initialising the replay's transactions")?;
    let group = consumer
        .group_metadata()
        .ok_or_else(|| anyhow!("the replay consumer has no group metadata"))?;
    let committed = total(&plan.parts);
    let mut run = Run {
        opts,
        filter,
        rules: Rules {
            replay_id: opts.id.clone(),
            to: opts.to.clone(),
            max_replays: opts.max_replays,
        },
        consumer,
        producer,
        group,
        topics,
        plan,
        audit,
        dlq: Arc::from(opts.dlq_topic.as_str()),
        selection,
        committed,
        in_txn: 0,
        txn_began: Instant::now(),
        dirty: false,
    };
    let before = run.committed;
    match run.drive(stop, progress) {
        Ok(outcome) => {
            let counts = run.committed;
            Ok(Report {
                id: opts.id.clone(),
                outcome,
                counts,
                this_run: counts.since(&before),
                resumed: run.plan.resumed,
                elapsed: started.elapsed(),
            })
        }
        Err(e) => {
            // Nothing of the open transaction stays; the audit says how far it got.
            let _ = run.producer.abort_transaction(TIMEOUT);
            if let Err(audit) = run.write_failed(kafka) {
                return Err(e.context(format!(
                    "and the FAILED audit record was not written: {audit:#}"
                )));
            }
            Err(e)
        }
    }
}

/// The topics that must exist before anything is read or written; returns the dead-letter
/// topic's partition count.
pub(super) fn check_topics(
    c: &BaseConsumer,
    topics: &mut Topics,
    opts: &ReplayOptions,
) -> Result<i32> {
    let n = topics.require(c, &opts.dlq_topic, "dead-letter", String::new)?;
    topics.require(c, &opts.audit_topic, "audit", String::new)?;
    topics.require(c, &opts.quarantine_topic, "quarantine", String::new)?;
    if let Some(to) = &opts.to {
        topics.require(c, to, "destination", String::new)?;
    }
    Ok(n)
}

pub(super) fn total(parts: &[Part]) -> Counts {
    let mut c = Counts::default();
    for p in parts {
        c.add(&p.counts);
    }
    c
}

impl Run<'_> {
    fn drive(&mut self, stop: &AtomicBool, progress: &mut dyn FnMut(&Progress)) -> Result<Outcome> {
        let to_read: u64 = self
            .plan
            .parts
            .iter()
            .map(|p| u64::try_from(p.end - p.start).unwrap_or(0))
            .sum();
        if to_read > 0 {
            // Start: the RUNNING record and every partition's checkpoint, in one transaction.
            self.begin()?;
            self.send_audit(Outcome::Running)?;
            self.dirty = true;
            self.commit(true)?;
            let mut tpl = TopicPartitionList::new();
            for p in self.plan.parts.iter().filter(|p| !p.done) {
                tpl.add_partition_offset(
                    &self.opts.dlq_topic,
                    p.partition,
                    Offset::Offset(p.start),
                )?;
            }
            self.consumer
                .assign(&tpl)
                .context("assigning the dead-letter partitions")?;
        } else {
            self.begin()?;
        }
        let mut bucket = self.opts.rate.map(|r| TokenBucket::new(r, Instant::now()));
        let mut meter = Meter::new(Duration::from_secs(5), Instant::now());
        let mut throttle = Throttle::new(Duration::from_millis(200));
        let mut read = 0u64;
        let mut idle_since = Instant::now();
        let outcome = loop {
            if stop.load(Ordering::Relaxed) {
                break Outcome::Interrupted;
            }
            if self.plan.parts.iter().all(|p| p.done) {
                break Outcome::Completed;
            }
            let polled = self.consumer.poll(Duration::from_millis(100));
            let got = polled.is_some();
            // One clock read per turn.
            let now = Instant::now();
            match polled {
                Some(Ok(m)) => {
                    idle_since = now;
                    let Some(i) = self.index(m.partition()) else {
                        continue;
                    };
                    if m.offset() >= self.plan.parts[i].end {
                        self.finish_part(i);
                        continue;
                    }
                    let record = Record::from_borrowed(&m, self.dlq.clone());
                    if let Step::Stop = self.handle(i, record, bucket.as_mut(), stop)? {
                        break Outcome::Interrupted;
                    }
                    read += 1;
                }
                // The end of a partition: whether it is this run's end, the position says
                // (markers of transactions take offsets but are never delivered).
                Some(Err(KafkaError::PartitionEOF(_))) => self.check_positions(),
                Some(Err(e)) => {
                    return Err(e).with_context(|| format!("reading {}", self.opts.dlq_topic))
                }
                None if now.duration_since(idle_since) > Duration::from_secs(60) => {
                    return Err(anyhow!(
                        "reading {}: no record for 60 s before reaching the end",
                        self.opts.dlq_topic
                    ));
                }
                None => {}
            }
            if !got {
                self.check_positions();
            }
            if self.in_txn >= self.opts.batch_max
                || (self.dirty && now.duration_since(self.txn_began) >= self.opts.batch_interval)
            {
                self.commit(true)?;
            }
            if throttle.due(now) {
                let counts = total(&self.plan.parts);
                let (read_rate, replay_rate) = meter.sample(now, read, counts.replayed);
                progress(&Progress {
                    counts,
                    read,
                    to_read,
                    read_rate,
                    replay_rate,
                    eta: eta(to_read.saturating_sub(read), read_rate),
                });
            }
        };
        self.send_audit(outcome)?;
        self.dirty = true;
        self.commit(false)?;
        let counts = self.committed;
        progress(&Progress {
            counts,
            read,
            to_read,
            ..Progress::default()
        });
        Ok(outcome)
    }

    fn index(&self, partition: i32) -> Option<usize> {
        usize::try_from(partition).ok().filter(|i| {
            self.plan
                .parts
                .get(*i)
                .is_some_and(|p| p.partition == partition)
        })
    }

    fn finish_part(&mut self, i: usize) {
        let p = &mut self.plan.parts[i];
        if !p.done {
            p.done = true;
            p.next = p.end;
            self.dirty = true;
        }
    }

    /// A partition is read when the consumer's position reaches its end (markers of
    /// transactions take offsets but are never delivered).
    fn check_positions(&mut self) {
        let at_end = crate::scan::positions_at_end(&self.consumer, |partition| {
            let i = self.index(partition)?;
            Some((i, self.plan.parts[i].end))
        });
        for i in at_end {
            self.finish_part(i);
        }
    }
}
