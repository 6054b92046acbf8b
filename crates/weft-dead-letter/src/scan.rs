//! Reading a dead-letter topic from its start (or from a time) to the end it had when the scan
//! began, with an assigned consumer: no consumer group, nothing committed. Blocking (run it
//! with `spawn_blocking`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::{Message, Offset, TopicPartitionList};
use weft_kafka::{KafkaConfig, Record, Role};

/// A record's place in a topic: `partition:offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub partition: i32,
    pub offset: i64,
}

impl std::str::FromStr for Position {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not partition:offset (for example 0:1234)");
        let (p, o) = s.split_once(':').ok_or_else(bad)?;
        let partition = p.trim().parse().map_err(|_| bad())?;
        let offset = o.trim().parse().map_err(|_| bad())?;
        if partition < 0 || offset < 0 {
            return Err(bad());
        }
        Ok(Self { partition, offset })
    }
}

/// How far a scan is: records read and the offsets to read in all (an upper bound: markers of
/// transactions take offsets too).
#[derive(Debug, Clone, Copy, Default)]
pub struct ScanProgress {
    pub read: u64,
    pub total: u64,
}

/// One partition's range: from `start` to `end` (exclusive), the end seen when the scan began.
struct Range {
    partition: i32,
    start: i64,
    end: i64,
}

/// `partition_eof`: report reaching the end of a partition (`PartitionEOF`).
fn consumer(kafka: &KafkaConfig, name: &str, partition_eof: bool) -> Result<BaseConsumer> {
    kafka
        .client_config(Role::Consumer, name)
        .set("group.id", format!("weft.{name}"))
        .set("enable.partition.eof", partition_eof.to_string())
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("isolation.level", "read_committed")
        .set("statistics.interval.ms", "0")
        .create()
        .context("creating the consumer")
}

fn ranges(c: &BaseConsumer, topic: &str, since_ms: Option<i64>) -> Result<Vec<Range>> {
    let timeout = Duration::from_secs(10);
    let md = c
        .fetch_metadata(Some(topic), timeout)
        .with_context(|| format!("reading the metadata of {topic}"))?;
    let count = md.topics().first().map_or(0, |t| t.partitions().len());
    if count == 0 {
        bail!("topic {topic} does not exist");
    }
    let mut out = Vec::new();
    for p in 0..i32::try_from(count).unwrap_or(i32::MAX) {
        let (low, high) = c
            .fetch_watermarks(topic, p, timeout)
            .with_context(|| format!("reading the offsets of {topic}-{p}"))?;
        out.push(Range {
            partition: p,
            start: low,
            end: high,
        });
    }
    if let Some(t) = since_ms {
        // The first offset at or after the time; a partition with none has nothing to read.
        let mut tpl = TopicPartitionList::new();
        for r in &out {
            tpl.add_partition_offset(topic, r.partition, Offset::Offset(t))?;
        }
        let found = c
            .offsets_for_times(tpl, timeout)
            .with_context(|| format!("finding the offsets of {topic} at a time"))?;
        for e in found.elements() {
            if let Some(r) = out.iter_mut().find(|r| r.partition == e.partition()) {
                match e.offset() {
                    Offset::Offset(o) => r.start = r.start.max(o),
                    _ => r.start = r.end,
                }
            }
        }
    }
    out.retain(|r| r.end > r.start);
    Ok(out)
}

/// Calls `each` with every record of `topic` from its start (or the first offset at or after
/// `since_ms`) to the end it had when the scan began, partition by partition interleaved as
/// the broker serves them; `progress` now and then. `each` returns `false` to stop early.
pub fn scan(
    kafka: &KafkaConfig,
    topic: &str,
    since_ms: Option<i64>,
    mut each: impl FnMut(Record) -> bool,
    mut progress: impl FnMut(ScanProgress),
) -> Result<ScanProgress> {
    let c = consumer(kafka, "dlq-scan", true)?;
    let ranges = ranges(&c, topic, since_ms)?;
    let total: u64 = ranges.iter().map(|r| (r.end - r.start) as u64).sum();
    let mut p = ScanProgress { read: 0, total };
    if ranges.is_empty() {
        progress(p);
        return Ok(p);
    }
    let mut tpl = TopicPartitionList::new();
    for r in &ranges {
        tpl.add_partition_offset(topic, r.partition, Offset::Offset(r.start))?;
    }
    c.assign(&tpl).context("assigning the partitions")?;
    let name: Arc<str> = Arc::from(topic);
    let mut done = vec![false; ranges.len()];
    let mut last = Instant::now();
    let mut idle_since = Instant::now();
    while !done.iter().all(|d| *d) {
        let polled = c.poll(Duration::from_millis(100));
        let now = Instant::now();
        match polled {
            Some(Ok(m)) => {
                idle_since = now;
                let Some(i) = ranges.iter().position(|r| r.partition == m.partition()) else {
                    continue;
                };
                if m.offset() >= ranges[i].end {
                    done[i] = true;
                    continue;
                }
                // Its last record: the partition is read.
                done[i] |= m.offset() + 1 >= ranges[i].end;
                p.read += 1;
                if !each(Record::from_borrowed(&m, name.clone())) {
                    return Ok(p);
                }
            }
            // The end of a partition, or nothing for a while: whether a partition is read,
            // the consumer's position says (markers of transactions take offsets but are never
            // delivered).
            Some(Err(KafkaError::PartitionEOF(_))) => ends_reached(&c, &ranges, &mut done),
            Some(Err(e)) => return Err(e).with_context(|| format!("reading {topic}")),
            None => {
                if now.duration_since(idle_since) > Duration::from_secs(60) {
                    bail!("reading {topic}: no record for 60 s before reaching the end");
                }
                ends_reached(&c, &ranges, &mut done);
            }
        }
        if now.duration_since(last) >= Duration::from_millis(250) {
            progress(p);
            last = now;
        }
    }
    progress(p);
    Ok(p)
}

/// Marks the partitions whose end the consumer's position has reached.
fn ends_reached(c: &BaseConsumer, ranges: &[Range], done: &mut [bool]) {
    let ends = |partition| {
        let i = ranges.iter().position(|r| r.partition == partition)?;
        Some((i, ranges[i].end))
    };
    for i in positions_at_end(c, ends) {
        done[i] = true;
    }
}

/// Of the partitions the consumer reads, those whose position has reached their end: `ends`
/// gives a partition's index and end offset (`None` for one not to check). A position at the
/// end means the partition is read even when its last offsets were never delivered (markers
/// of transactions take offsets).
pub(crate) fn positions_at_end(
    c: &BaseConsumer,
    ends: impl Fn(i32) -> Option<(usize, i64)>,
) -> Vec<usize> {
    let Ok(pos) = c.position() else {
        return Vec::new();
    };
    pos.elements()
        .iter()
        .filter_map(|e| match (e.offset(), ends(e.partition())) {
            (Offset::Offset(o), Some((i, end))) if o >= end => Some(i),
            _ => None,
        })
        .collect()
}

/// The record at `at` of `topic`; `None` when there is none (past the end, or compacted or
/// deleted).
pub fn read_one(kafka: &KafkaConfig, topic: &str, at: Position) -> Result<Option<Record>> {
    let c = consumer(kafka, "dlq-show", false)?;
    let (low, high) = c
        .fetch_watermarks(topic, at.partition, Duration::from_secs(10))
        .with_context(|| format!("reading the offsets of {topic}-{}", at.partition))?;
    if at.offset < low || at.offset >= high {
        return Ok(None);
    }
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, at.partition, Offset::Offset(at.offset))?;
    c.assign(&tpl).context("assigning the partition")?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        match c.poll(Duration::from_millis(200)) {
            Some(Ok(m)) if m.offset() == at.offset => {
                return Ok(Some(Record::from_borrowed(&m, Arc::from(topic))));
            }
            // Skipped (an aborted or marker offset): the record is not there.
            Some(Ok(_)) => return Ok(None),
            Some(Err(e)) => return Err(e).with_context(|| format!("reading {topic}")),
            None => {
                if let Ok(pos) = c.position() {
                    if pos
                        .elements()
                        .iter()
                        .any(|e| matches!(e.offset(), Offset::Offset(o) if o > at.offset))
                    {
                        return Ok(None);
                    }
                }
            }
        }
    }
    bail!(
        "reading {topic}-{}@{}: nothing within 30 s",
        at.partition,
        at.offset
    )
}
