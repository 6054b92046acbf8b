//! Idempotency keys, remembered in Kafka: the first answer to a key is written to a compacted
//! topic (Avro, `schemas/weft.ingest.IdempotencyRecord.avsc`) and every ingest instance reads
//! that topic from the start and then follows it, so a repeated key gets the original answer
//! after a restart and from any instance.
//!
//! Within one instance, requests with the same key wait for each other (striped locks). A key
//! this instance does not know makes it catch up with the topic first (read to the end offsets
//! of that moment), so a repeat sent to another instance after the first answer finds it. Two
//! instances receiving the same key at the same moment, both before either answered, can both
//! produce; event ids derived from the key let consumers drop such a duplicate.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use tokio::sync::{watch, Mutex};
use tokio_util::sync::CancellationToken;
use weft_kafka::{KafkaConfig, OutRecord, Producer, Role};
use weft_schema::codec::Value;
use weft_schema::{RegistryClient, SchemaCache};

use crate::config::IdempotencyConfig;

/// The schema of the records, registered by every instance at start-up.
pub const SCHEMA: &str = include_str!("../../../schemas/weft.ingest.IdempotencyRecord.avsc");

const STRIPES: usize = 256;

/// A remembered answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub request_sha256: String,
    pub status: u16,
    pub body: Bytes,
    pub expires_at_ms: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum IdempotencyError {
    #[error("idempotency store: {0}")]
    Store(String),
}

/// The map every instance keeps, and how to add to it.
pub struct Idempotency {
    answers: Arc<RwLock<HashMap<String, Answer>>>,
    /// The next offset the reader will apply, per partition.
    applied: watch::Receiver<HashMap<i32, i64>>,
    consumer: Arc<BaseConsumer>,
    partitions: Vec<i32>,
    stripes: Vec<Mutex<()>>,
    producer: Producer,
    cache: Arc<SchemaCache<RegistryClient>>,
    schema_id: u32,
    cfg: IdempotencyConfig,
    reader: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Idempotency {
    /// Registers the schema, reads the topic to its end, and keeps following it.
    pub async fn open(
        kafka: &KafkaConfig,
        cfg: &IdempotencyConfig,
        cache: Arc<SchemaCache<RegistryClient>>,
        producer: Producer,
        shutdown: CancellationToken,
    ) -> Result<Self, IdempotencyError> {
        let err = |e: &dyn std::fmt::Display| IdempotencyError::Store(e.to_string());
        // In `weft up` the registry may still be starting: wait for it (bounded).
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let schema_id = loop {
            match cache.register(&cfg.subject, SCHEMA).await {
                Ok(id) => break id,
                Err(e)
                    if weft_core::Classify::class(&e) == weft_core::ErrorClass::Transient
                        && std::time::Instant::now() < deadline
                        && !shutdown.is_cancelled() =>
                {
                    tracing::info!(error = %e, "Waiting for the schema registry");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => return Err(err(&format!("registering {}: {e}", cfg.subject))),
            }
        };
        let mut c = kafka.client_config(Role::Consumer, "ingest-idempotency");
        c.set("group.id", "weft-ingest-idempotency-reader")
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("fetch.wait.max.ms", "50");
        let consumer: BaseConsumer = c.create().map_err(|e| err(&e))?;
        let meta = consumer
            .fetch_metadata(Some(&cfg.topic), Duration::from_secs(10))
            .map_err(|e| err(&format!("reading {}: {e}", cfg.topic)))?;
        let partitions: Vec<i32> = meta
            .topics()
            .iter()
            .flat_map(|t| t.partitions().iter().map(|p| p.id()))
            .collect();
        if partitions.is_empty() {
            return Err(err(&format!(
                "topic {} does not exist (weft topics apply creates it)",
                cfg.topic
            )));
        }
        let mut tpl = TopicPartitionList::new();
        let mut ends = HashMap::new();
        for p in &partitions {
            tpl.add_partition_offset(&cfg.topic, *p, Offset::Beginning)
                .map_err(|e| err(&e))?;
            let (_, high) = consumer
                .fetch_watermarks(&cfg.topic, *p, Duration::from_secs(10))
                .map_err(|e| err(&e))?;
            ends.insert(*p, high);
        }
        consumer.assign(&tpl).map_err(|e| err(&e))?;
        let consumer = Arc::new(consumer);

        let answers: Arc<RwLock<HashMap<String, Answer>>> = Arc::default();
        let (applied_tx, applied) = watch::channel(HashMap::new());
        let handle = tokio::runtime::Handle::current();
        let reader = {
            let (answers, cache, topic) = (answers.clone(), cache.clone(), cfg.topic.clone());
            let consumer = consumer.clone();
            std::thread::Builder::new()
                .name("ingest-idempotency".into())
                .spawn(move || {
                    follow(
                        &consumer,
                        &topic,
                        &answers,
                        &cache,
                        &handle,
                        &applied_tx,
                        &shutdown,
                    );
                })
                .map_err(|e| err(&e))?
        };
        wait_applied(applied.clone(), &ends, Duration::from_secs(120))
            .await
            .map_err(|e| err(&format!("loading {}: {e}", cfg.topic)))?;
        let count = answers.read().map(|m| m.len()).unwrap_or(0);
        tracing::info!(topic = %cfg.topic, keys = count, "Idempotency keys loaded");
        Ok(Self {
            answers,
            applied,
            consumer,
            partitions,
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
            producer,
            cache,
            schema_id,
            cfg: cfg.clone(),
            reader: std::sync::Mutex::new(Some(reader)),
        })
    }

    /// The answer remembered for `key`, if it has not expired.
    pub fn get(&self, key: &str, now_ms: i64) -> Option<Answer> {
        let map = self.answers.read().unwrap_or_else(|p| p.into_inner());
        map.get(key).filter(|a| a.expires_at_ms > now_ms).cloned()
    }

    /// The answer remembered for `key`, catching up with the topic first when this instance
    /// does not know it (another instance may have answered it a moment ago).
    pub async fn find(&self, key: &str) -> Option<Answer> {
        if let Some(a) = self.get(key, weft_core::time::now_millis()) {
            return Some(a);
        }
        if let Err(e) = self.sync(Duration::from_secs(2)).await {
            tracing::warn!(error = %e, "Idempotency keys may lag behind other instances");
        }
        self.get(key, weft_core::time::now_millis())
    }

    /// Catches up with the topic: waits (at most `timeout`) until every answer written before
    /// this call, by any instance, is applied. Called when a key is not known, so a repeat
    /// sent to another instance right after the first answer still finds it.
    pub async fn sync(&self, timeout: Duration) -> Result<(), String> {
        let (consumer, topic, partitions) = (
            self.consumer.clone(),
            self.cfg.topic.clone(),
            self.partitions.clone(),
        );
        let ends = tokio::task::spawn_blocking(move || {
            let mut ends = HashMap::new();
            for p in partitions {
                let (_, high) = consumer
                    .fetch_watermarks(&topic, p, Duration::from_secs(2))
                    .map_err(|e| e.to_string())?;
                ends.insert(p, high);
            }
            Ok::<_, String>(ends)
        })
        .await
        .map_err(|e| e.to_string())??;
        wait_applied(self.applied.clone(), &ends, timeout).await
    }

    /// Serialises requests with the same key in this process.
    pub async fn lock(&self, key: &str) -> tokio::sync::MutexGuard<'_, ()> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut h);
        let i = usize::try_from(h.finish() % STRIPES as u64).unwrap_or(0);
        self.stripes[i].lock().await
    }

    /// Remembers the answer to `key`: written to the topic (and acknowledged) before it
    /// returns, and kept in memory at once.
    pub async fn remember(
        &self,
        key: &str,
        idempotency_key: &str,
        route: &str,
        tenant: Option<&str>,
        answer: Answer,
        now_ms: i64,
    ) -> Result<(), IdempotencyError> {
        let value = Value::Record(vec![
            Value::String(idempotency_key.into()),
            Value::String(route.into()),
            match tenant {
                Some(t) => Value::Union(1, Box::new(Value::String(t.into()))),
                None => Value::Union(0, Box::new(Value::Null)),
            },
            Value::String(answer.request_sha256.clone()),
            Value::Long(now_ms),
            Value::Long(answer.expires_at_ms),
            Value::Int(i32::from(answer.status)),
            Value::String(String::from_utf8_lossy(&answer.body).into_owned()),
        ]);
        let framed = self
            .cache
            .encode(self.schema_id, &value)
            .await
            .map_err(|e| IdempotencyError::Store(e.to_string()))?;
        let rec = OutRecord::new(self.cfg.topic.as_str())
            .key(Bytes::copy_from_slice(key.as_bytes()))
            .value(framed);
        let pending = self
            .producer
            .send(&rec)
            .await
            .map_err(|e| IdempotencyError::Store(e.to_string()))?;
        pending
            .wait()
            .await
            .map_err(|e| IdempotencyError::Store(e.to_string()))?;
        self.answers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key.to_string(), answer);
        Ok(())
    }

    /// How long keys are remembered.
    pub fn window(&self) -> Duration {
        self.cfg.window
    }

    /// Waits for the reader thread (it stops on the shutdown token).
    pub async fn close(&self) {
        let handle = self.reader.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(h) = handle {
            let _ = tokio::task::spawn_blocking(move || h.join()).await;
        }
    }
}

/// Waits until the reader has applied every partition up to `ends` (next offsets).
async fn wait_applied(
    mut applied: watch::Receiver<HashMap<i32, i64>>,
    ends: &HashMap<i32, i64>,
    timeout: Duration,
) -> Result<(), String> {
    let done = |m: &HashMap<i32, i64>| {
        ends.iter()
            .all(|(p, end)| *end <= 0 || m.get(p).is_some_and(|n| n >= end))
    };
    match tokio::time::timeout(timeout, applied.wait_for(done)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(_)) => Err("the idempotency reader stopped".into()),
        Err(_) => Err(format!("not caught up after {timeout:?}")),
    }
}

/// Applies every record of the topic until `shutdown`, publishing how far it got.
fn follow(
    consumer: &BaseConsumer,
    topic: &str,
    answers: &RwLock<HashMap<String, Answer>>,
    cache: &SchemaCache<RegistryClient>,
    rt: &tokio::runtime::Handle,
    applied: &watch::Sender<HashMap<i32, i64>>,
    shutdown: &CancellationToken,
) {
    while !shutdown.is_cancelled() {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                let key = m.key().map(|k| String::from_utf8_lossy(k).into_owned());
                match (key, m.payload()) {
                    (Some(k), None) => {
                        answers
                            .write()
                            .unwrap_or_else(|p| p.into_inner())
                            .remove(&k);
                    }
                    (Some(k), Some(v)) => match rt.block_on(decode(cache, v)) {
                        Ok(a) => {
                            answers
                                .write()
                                .unwrap_or_else(|p| p.into_inner())
                                .insert(k, a);
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, offset = m.offset(), "Skipping an idempotency record")
                        }
                    },
                    _ => {}
                }
                let (p, next) = (m.partition(), m.offset() + 1);
                applied.send_if_modified(|map| raise(map, p, next));
            }
            Some(Err(e)) => tracing::warn!(error = %e, topic, "Reading the idempotency topic"),
            None => {}
        }
        // The position also moves past what the client does not return, so waits finish.
        if let Ok(pos) = consumer.position() {
            let moved: Vec<(i32, i64)> = pos
                .elements_for_topic(topic)
                .iter()
                .filter_map(|e| match e.offset() {
                    Offset::Offset(o) => Some((e.partition(), o)),
                    _ => None,
                })
                .collect();
            applied.send_if_modified(|map| {
                moved
                    .iter()
                    .fold(false, |changed, (p, o)| raise(map, *p, *o) || changed)
            });
        }
    }
}

fn raise(map: &mut HashMap<i32, i64>, partition: i32, next: i64) -> bool {
    let e = map.entry(partition).or_insert(0);
    if *e < next {
        *e = next;
        true
    } else {
        false
    }
}

async fn decode(cache: &SchemaCache<RegistryClient>, framed: &[u8]) -> Result<Answer, String> {
    let (_, schema, value) = cache.decode(framed).await.map_err(|e| e.to_string())?;
    let codec = &schema.codec;
    let text = |name: &str| match codec.lookup(&value, name) {
        Some(Value::String(s)) => Ok(s.clone()),
        other => Err(format!("field {name}: {other:?}")),
    };
    let long = |name: &str| match codec.lookup(&value, name) {
        Some(Value::Long(n)) => Ok(*n),
        other => Err(format!("field {name}: {other:?}")),
    };
    let status = match codec.lookup(&value, "status") {
        Some(Value::Int(n)) => u16::try_from(*n).map_err(|e| e.to_string())?,
        other => return Err(format!("field status: {other:?}")),
    };
    Ok(Answer {
        request_sha256: text("request_sha256")?,
        status,
        body: Bytes::from(text("response")?),
        expires_at_ms: long("expires_at")?,
    })
}
