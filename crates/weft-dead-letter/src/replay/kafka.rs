//! The Kafka clients of a replay and what it asks the cluster: topics that must exist (never
//! created by asking), the partitions to read and where each run starts, and sending.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DefaultProducerContext, Producer as _};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use weft_core::time::now_millis;
use weft_core::Headers;
use weft_kafka::{KafkaConfig, Role};

use super::checkpoint::{Checkpoint, Counts};

pub(super) const TIMEOUT: Duration = Duration::from_secs(30);

/// Polled by the replay's own thread: [`serve`] every few dozen records sent, [`drain`] before
/// every commit, and [`send`] while the queue is full.
pub(super) type TxProducer = BaseProducer<DefaultProducerContext>;

/// A topic the replay needs is missing: it creates none.
#[derive(Debug, thiserror::Error)]
#[error("the {role} topic {topic} does not exist{context} (weft replay creates no topics: create it, e.g. with weft topics create, or choose another)")]
pub struct MissingTopic {
    pub role: &'static str,
    pub topic: String,
    pub context: String,
}

/// A resumed replay given another selection than it was started with.
#[derive(Debug, thiserror::Error)]
#[error("replay {id} was started with another selection (filters other than --since/--until, --topic, --to, --max-replays or --quarantine-topic differ): give the same flags to resume it, or start a new replay without --id")]
pub struct SelectionChanged {
    pub id: String,
}

fn quiet(mut c: ClientConfig) -> ClientConfig {
    // Nobody reads the statistics of these clients.
    c.set("statistics.interval.ms", "0");
    c
}

/// The reading consumer: assigned partitions, offsets of `group` committed only through the
/// producer's transactions, committed data only. It reports reaching the end of a partition
/// (`PartitionEOF`), so a run ends as soon as the last partition is read.
pub(super) fn consumer(kafka: &KafkaConfig, group: &str) -> Result<BaseConsumer> {
    quiet(kafka.client_config(Role::Consumer, "replay"))
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("isolation.level", "read_committed")
        .set("allow.auto.create.topics", "false")
        .set("enable.partition.eof", "true")
        .create()
        .context("creating the replay consumer")
}

fn producer_config(kafka: &KafkaConfig) -> ClientConfig {
    let mut c = quiet(kafka.client_config(Role::Producer, "replay"));
    for (k, v) in [
        ("acks", "all"),
        ("enable.idempotence", "true"),
        ("linger.ms", "10"),
        ("queue.buffering.max.messages", "200000"),
    ] {
        if c.get(k).is_none() {
            c.set(k, v);
        }
    }
    c
}

/// The producer of replay `id`: `transactional.id = weft.replay.<id>`, so a new run fences
/// (and aborts the open transaction of) an earlier one that was killed.
pub(super) fn transactional_producer(kafka: &KafkaConfig, id: &str) -> Result<TxProducer> {
    producer_config(kafka)
        .set("transactional.id", format!("weft.replay.{id}"))
        .set("transaction.timeout.ms", "60000")
        .create()
        .context("creating the replay producer")
}

/// A plain producer, for the audit record of a failed run (its transactional producer may be
/// unusable by then).
pub(super) fn plain_producer(kafka: &KafkaConfig) -> Result<TxProducer> {
    producer_config(kafka)
        .create()
        .context("creating the audit producer")
}

/// Partition counts of topics, asked once each with a client that never creates topics.
#[derive(Debug, Default)]
pub(super) struct Topics {
    known: HashMap<String, Option<i32>>,
}

impl Topics {
    /// The partition count of `topic`; `None` when it does not exist.
    pub fn partitions(&mut self, c: &BaseConsumer, topic: &str) -> Result<Option<i32>> {
        if let Some(n) = self.known.get(topic) {
            return Ok(*n);
        }
        let md = c
            .fetch_metadata(Some(topic), TIMEOUT)
            .with_context(|| format!("reading the metadata of {topic}"))?;
        let n = match md.topics().first() {
            None => None,
            Some(t) => match t.error().map(RDKafkaErrorCode::from) {
                Some(RDKafkaErrorCode::UnknownTopicOrPartition) => None,
                Some(e) => bail!("reading the metadata of {topic}: {e}"),
                None if t.partitions().is_empty() => None,
                None => Some(i32::try_from(t.partitions().len()).unwrap_or(i32::MAX)),
            },
        };
        self.known.insert(topic.to_string(), n);
        Ok(n)
    }

    /// The partition count of `topic`, which must exist.
    pub fn require(
        &mut self,
        c: &BaseConsumer,
        topic: &str,
        role: &'static str,
        context: impl FnOnce() -> String,
    ) -> Result<i32> {
        match self.partitions(c, topic)? {
            Some(n) => Ok(n),
            None => Err(MissingTopic {
                role,
                topic: topic.to_string(),
                context: context(),
            }
            .into()),
        }
    }
}

/// One dead-letter partition in this run.
#[derive(Debug, Clone)]
pub(super) struct Part {
    pub partition: i32,
    /// Where this run started and where the replay ends (exclusive).
    pub start: i64,
    pub end: i64,
    /// The next offset to read: what the next commit records.
    pub next: i64,
    /// Every run included; committed with the offset.
    pub counts: Counts,
    pub done: bool,
}

/// The partitions to read, and what the first run fixed for every later one.
#[derive(Debug, Clone)]
pub(super) struct Plan {
    pub parts: Vec<Part>,
    pub resumed: bool,
    pub started_ms: i64,
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
}

/// Reads the checkpoints of the replay's group: a resumed replay starts each partition at its
/// committed offset and ends where the first run's end was; a new one reads from the start
/// (or `since_ms`) to the end the topic has now.
pub(super) fn plan(
    c: &BaseConsumer,
    topic: &str,
    partitions: i32,
    window: (Option<i64>, Option<i64>),
    selection: &str,
    id: &str,
) -> Result<Plan> {
    let mut marks = Vec::new();
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        let (low, high) = c
            .fetch_watermarks(topic, p, TIMEOUT)
            .with_context(|| format!("reading the offsets of {topic}-{p}"))?;
        marks.push((low, high));
        tpl.add_partition(topic, p);
    }
    let committed = c
        .committed_offsets(tpl, TIMEOUT)
        .with_context(|| format!("reading the committed offsets of replay {id}"))?;
    let mut checkpoints: HashMap<i32, (Offset, Checkpoint)> = HashMap::new();
    for e in committed.elements() {
        if let Some(cp) = Checkpoint::decode(e.metadata()) {
            checkpoints.insert(e.partition(), (e.offset(), cp));
        }
    }
    if let Some((_, first)) = checkpoints.values().next() {
        if checkpoints
            .values()
            .any(|(_, cp)| cp.selection != selection)
        {
            return Err(SelectionChanged { id: id.into() }.into());
        }
        let (started_ms, since_ms, until_ms) = (first.started_ms, first.since_ms, first.until_ms);
        let parts = (0..partitions)
            .zip(&marks)
            .map(|(p, &(low, _))| match checkpoints.get(&p) {
                Some((off, cp)) => {
                    let at = match off {
                        Offset::Offset(o) => *o,
                        _ => low,
                    };
                    let start = at.max(low).min(cp.end.max(low));
                    part(p, start, cp.end.max(start), cp.counts)
                }
                // A partition added since the replay started: not part of it.
                None => part(p, low, low, Counts::default()),
            })
            .collect();
        return Ok(Plan {
            parts,
            resumed: true,
            started_ms,
            since_ms,
            until_ms,
        });
    }
    let mut parts: Vec<Part> = (0..partitions)
        .zip(&marks)
        .map(|(p, &(low, high))| part(p, low, high, Counts::default()))
        .collect();
    if let Some(t) = window.0 {
        // The first offset at or after the time; a partition with none has nothing to read.
        let mut tpl = TopicPartitionList::new();
        for p in &parts {
            tpl.add_partition_offset(topic, p.partition, Offset::Offset(t))?;
        }
        let found = c
            .offsets_for_times(tpl, TIMEOUT)
            .with_context(|| format!("finding the offsets of {topic} at a time"))?;
        for e in found.elements() {
            if let Some(p) = parts.iter_mut().find(|p| p.partition == e.partition()) {
                p.start = match e.offset() {
                    Offset::Offset(o) => o.clamp(p.start, p.end),
                    _ => p.end,
                };
                p.next = p.start;
                p.done = p.start >= p.end;
            }
        }
    }
    Ok(Plan {
        parts,
        resumed: false,
        started_ms: now_millis(),
        since_ms: window.0,
        until_ms: window.1,
    })
}

fn part(partition: i32, start: i64, end: i64, counts: Counts) -> Part {
    Part {
        partition,
        start,
        end,
        next: start,
        counts,
        done: start >= end,
    }
}

fn owned(h: &Headers) -> Option<OwnedHeaders> {
    if h.is_empty() {
        return None;
    }
    let mut out = OwnedHeaders::new_with_capacity(h.len());
    for x in h.iter() {
        out = out.insert(Header {
            key: &x.key,
            value: x.value.as_deref(),
        });
    }
    Some(out)
}

/// Enqueues one record, waiting (up to 60 s) while the producer's queue is full. It does not
/// serve delivery reports: the caller does, with [`serve`], every few dozen records.
pub(super) fn send(
    p: &TxProducer,
    topic: &str,
    partition: Option<i32>,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &Headers,
) -> Result<()> {
    let mut rec: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(topic);
    if let Some(k) = key {
        rec = rec.key(k);
    }
    if let Some(v) = value {
        rec = rec.payload(v);
    }
    if let Some(h) = owned(headers) {
        rec = rec.headers(h);
    }
    if let Some(n) = partition {
        rec = rec.partition(n);
    }
    let started = Instant::now();
    loop {
        match p.send(rec) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back))
                if started.elapsed() < Duration::from_secs(60) =>
            {
                rec = back;
                p.poll(Duration::from_millis(5));
            }
            Err((e, _)) => return Err(e).with_context(|| format!("producing to {topic}")),
        }
    }
}

/// Serves the delivery reports that have arrived, without waiting (they hold queue slots until
/// served).
pub(super) fn serve(p: &TxProducer) {
    p.poll(Duration::ZERO);
}

/// Waits until every record sent is acknowledged, serving delivery reports in 1 ms polls.
/// Called before `commit_transaction`, whose own flush (rust-rdkafka's) polls 100 ms at a time
/// and would add 100 ms to every transaction.
pub(super) fn drain(p: &TxProducer, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    while p.in_flight_count() > 0 {
        if Instant::now() >= deadline {
            bail!(
                "{} records still unacknowledged after {timeout:?}",
                p.in_flight_count()
            );
        }
        p.poll(Duration::from_millis(1));
    }
    Ok(())
}
