//! The retry-tier service (`weft run dead-letter`): reads the tier topics, keeps each
//! partition paused until the record at its head is due, and hands due records back on the
//! ready topic, where the loop of the group that failed them picks them up. A tier holds
//! records in the order they were written with one delay, so due times grow along a
//! partition and the head is always the next one due: nothing sleeps per record.
//!
//! At-least-once: a record's offset is stored only after the broker acknowledged its copy on
//! the ready topic (a crash may hand a record back twice; never loses one).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;
use weft_core::time::now_millis;
use weft_kafka::retry_tiers::due_ms;
use weft_kafka::{KafkaConfig, Record, RetryTiers, Role};

/// `[retry]`: the tiers stages use and the service moves records along.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryConfig {
    /// Whether stages send records that failed transiently after their in-place attempts to
    /// the tiers (otherwise they are dead-lettered, or an exactly-once transaction aborts).
    pub enabled: bool,
    /// The consumer group of the service.
    pub group: String,
    /// The tier topics with their delays, in order.
    pub tiers: Vec<weft_kafka::Tier>,
    /// Where due records are handed back (every stage's loop with tiers reads it).
    pub ready_topic: String,
    /// Ordering-aware parking: later records of a key wait behind one in a tier.
    pub park_keys: bool,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            group: "weft.dead-letter".into(),
            tiers: [
                ("weft.retry.10s", 10),
                ("weft.retry.1m", 60),
                ("weft.retry.10m", 600),
            ]
            .into_iter()
            .map(|(t, s)| weft_kafka::Tier {
                topic: t.into(),
                delay: Duration::from_secs(s),
            })
            .collect(),
            ready_topic: "weft.retry.ready".into(),
            park_keys: false,
        }
    }
}

impl RetryConfig {
    /// The tiers a stage's loop gets: `None` unless enabled.
    pub fn for_stages(&self) -> Option<RetryTiers> {
        self.enabled.then(|| RetryTiers {
            tiers: self.tiers.clone(),
            ready_topic: self.ready_topic.clone(),
            park_keys: self.park_keys,
        })
    }

    pub fn validate(&self) -> Vec<String> {
        let mut e = Vec::new();
        if self.group.trim().is_empty() {
            e.push("retry.group: must not be empty".into());
        }
        if self.tiers.is_empty() {
            e.push("retry.tiers: at least one tier".into());
        }
        for (i, t) in self.tiers.iter().enumerate() {
            if t.topic.trim().is_empty() || t.delay.is_zero() {
                e.push(format!(
                    "retry.tiers[{i}]: needs a topic and a delay above zero"
                ));
            }
        }
        if self.ready_topic.trim().is_empty() {
            e.push("retry.ready_topic: must not be empty".into());
        }
        e
    }
}

/// Where a paused partition waits: the offset of its first record not yet due, and when it
/// is due.
#[derive(Debug, Clone, Copy)]
struct Waiting {
    offset: i64,
    due_ms: i64,
}

/// Runs until `shutdown`; returns after storing what was handed back.
pub async fn run(
    kafka: &KafkaConfig,
    cfg: &RetryConfig,
    shutdown: CancellationToken,
) -> Result<()> {
    weft_kafka::retry_tiers::check_topics(
        kafka,
        &RetryTiers {
            tiers: cfg.tiers.clone(),
            ready_topic: cfg.ready_topic.clone(),
            park_keys: cfg.park_keys,
        },
    )?;
    let consumer: StreamConsumer = kafka
        .client_config(Role::Consumer, "dead-letter")
        .set("group.id", &cfg.group)
        .set("enable.auto.commit", "true")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("fetch.wait.max.ms", "100")
        // No statistics: this client has no context to turn them into metrics.
        .set("statistics.interval.ms", "0")
        .create()
        .context("creating the retry-tier consumer")?;
    let producer: FutureProducer = kafka
        .client_config(Role::Producer, "dead-letter")
        .set("enable.idempotence", "true")
        .set("statistics.interval.ms", "0")
        .create()
        .context("creating the retry-tier producer")?;
    let topics: Vec<&str> = cfg.tiers.iter().map(|t| t.topic.as_str()).collect();
    consumer
        .subscribe(&topics)
        .with_context(|| format!("subscribing to {topics:?}"))?;
    tracing::info!(?topics, ready = %cfg.ready_topic, "Retry tiers started");
    let mut waiting: HashMap<(Arc<str>, i32), Waiting> = HashMap::new();
    let mut names: HashMap<String, Arc<str>> = HashMap::new();
    loop {
        let next_due = waiting.values().map(|w| w.due_ms).min();
        let sleep = next_due.map_or(Duration::from_secs(3600), |d| {
            Duration::from_millis(u64::try_from(d - now_millis()).unwrap_or(0))
        });
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(sleep), if next_due.is_some() => {
                let now = now_millis();
                let due: Vec<_> = waiting
                    .iter()
                    .filter(|(_, w)| w.due_ms <= now)
                    .map(|(k, _)| k.clone())
                    .collect();
                for (topic, partition) in due {
                    waiting.remove(&(topic.clone(), partition));
                    let mut tpl = TopicPartitionList::new();
                    tpl.add_partition(&topic, partition);
                    // Not assigned any more (a rebalance): nothing to resume.
                    let _ = consumer.resume(&tpl);
                }
            }
            m = consumer.recv() => {
                let m = m.context("reading the retry tiers")?;
                let topic = names
                    .entry(m.topic().to_string())
                    .or_insert_with(|| Arc::from(m.topic()))
                    .clone();
                let key = (topic.clone(), m.partition());
                if let Some(w) = waiting.get(&key) {
                    // Fetched before the pause: read again from the waiting one after resuming.
                    if m.offset() > w.offset {
                        continue;
                    }
                }
                let record = Record::from_borrowed(&m, topic.clone());
                drop(m);
                // A record without a readable due time is due now: the stage's loop
                // dead-letters what it cannot read.
                let due = due_ms(&record).unwrap_or(0);
                if due > now_millis() {
                    let mut tpl = TopicPartitionList::new();
                    tpl.add_partition(&topic, record.partition);
                    consumer.pause(&tpl).context("pausing a retry tier")?;
                    consumer
                        .seek(&topic, record.partition, Offset::Offset(record.offset), Duration::from_secs(10))
                        .context("rewinding a paused retry tier")?;
                    waiting.insert(key, Waiting { offset: record.offset, due_ms: due });
                    continue;
                }
                waiting.remove(&key);
                hand_back(&producer, &cfg.ready_topic, &record).await?;
                consumer
                    .store_offset(&topic, record.partition, record.offset + 1)
                    .context("storing a retry tier's offset")?;
            }
        }
    }
    // Auto-commit commits the stored offsets; commit them once more before leaving.
    let _ = consumer.commit_consumer_state(rdkafka::consumer::CommitMode::Sync);
    tracing::info!("Retry tiers stopped");
    Ok(())
}

async fn hand_back(producer: &FutureProducer, ready: &str, r: &Record) -> Result<()> {
    let mut rec: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(ready);
    if let Some(k) = r.key.as_deref() {
        rec = rec.key(k);
    }
    if let Some(v) = r.value.as_deref() {
        rec = rec.payload(v);
    }
    let headers = weft_kafka::record::to_owned_headers(&r.headers);
    if let Some(h) = headers {
        rec = rec.headers(h);
    }
    // The copy's timestamp is when it was handed back (the original's is in the headers).
    producer
        .send(rec, Duration::from_secs(30))
        .await
        .map_err(|(e, _)| e)
        .with_context(|| format!("handing a record back on {ready}"))?;
    Ok(())
}
