//! The registry's store: a reader thread folding `_schemas` into [`State`], and a producer
//! appending requests. The only file that talks to Kafka.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use tokio::sync::{oneshot, watch};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use weft_kafka::admin::{Admin, TopicSpec};
use weft_kafka::{KafkaConfig, KafkaMetrics, OutRecord, Producer, ProducerOptions, Role};
use weft_schema::compat::CompatibilityLevel;

use crate::log::{ConfigValue, LogKey, Request};
use crate::state::{Outcome, State};

/// Store failures: the API answers them with Confluent's 500xx codes.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the schema log is unavailable: {0}")]
    Unavailable(String),
    #[error("timed out after {0:?} waiting for the schema log")]
    Timeout(Duration),
    #[error("the schema log topic {topic} is not usable: {why}")]
    BadTopic { topic: String, why: String },
}

/// How the store reaches Kafka.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub topic: String,
    /// `None`: the cluster's default.
    pub replication_factor: Option<i32>,
    pub timeout: Duration,
    /// The global compatibility level while none is set.
    pub default_level: CompatibilityLevel,
}

type Waiters = Arc<Mutex<HashMap<Uuid, oneshot::Sender<Outcome>>>>;

/// Shared by every HTTP handler.
pub struct Store {
    state: Arc<RwLock<State>>,
    /// The next offset the reader will apply.
    applied: watch::Receiver<i64>,
    consumer: Arc<BaseConsumer>,
    producer: Producer,
    waiters: Waiters,
    opts: StoreOptions,
    reader: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Store {
    /// Creates the log topic if needed, starts the reader and waits until the whole log is
    /// applied.
    pub async fn open(
        kafka: &KafkaConfig,
        opts: StoreOptions,
        metrics: Option<KafkaMetrics>,
        shutdown: CancellationToken,
    ) -> Result<Arc<Self>, StoreError> {
        ensure_topic(kafka, &opts).await?;
        let mut c = kafka.client_config(Role::Consumer, "registry");
        c.set("group.id", "weft-registry-reader")
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("enable.partition.eof", "false")
            .set("fetch.wait.max.ms", "50")
            .set("fetch.queue.backoff.ms", "1");
        let consumer: BaseConsumer = c
            .create()
            .map_err(|e| StoreError::Unavailable(format!("creating the log reader: {e}")))?;
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&opts.topic, 0, Offset::Beginning)
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        consumer
            .assign(&tpl)
            .map_err(|e| StoreError::Unavailable(format!("assigning the log: {e}")))?;
        let consumer = Arc::new(consumer);
        let producer = Producer::new(
            kafka,
            "registry",
            &ProducerOptions {
                linger: Duration::ZERO,
                ..ProducerOptions::default()
            },
            metrics,
        )
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;

        let state = Arc::new(RwLock::new(State::with_default_level(opts.default_level)));
        let (tx, applied) = watch::channel(0);
        let waiters: Waiters = Arc::default();
        let reader = {
            let (consumer, state, waiters) = (consumer.clone(), state.clone(), waiters.clone());
            let topic = opts.topic.clone();
            std::thread::Builder::new()
                .name("registry-log".into())
                .spawn(move || read_log(&consumer, &topic, &state, &waiters, &tx, &shutdown))
                .map_err(|e| StoreError::Unavailable(format!("starting the log reader: {e}")))?
        };
        let store = Arc::new(Self {
            state,
            applied,
            consumer,
            producer,
            waiters,
            opts,
            reader: Mutex::new(Some(reader)),
        });
        store.sync().await?;
        Ok(store)
    }

    /// Reads the state (after [`Store::sync`] when the caller needs others' latest writes).
    pub fn read<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        let guard = self.state.read().unwrap_or_else(|p| p.into_inner());
        f(&guard)
    }

    /// Waits until every record written to the log before this call is applied.
    pub async fn sync(&self) -> Result<(), StoreError> {
        let (consumer, topic, timeout) = (
            self.consumer.clone(),
            self.opts.topic.clone(),
            self.opts.timeout,
        );
        let high = tokio::task::spawn_blocking(move || {
            consumer
                .fetch_watermarks(&topic, 0, timeout)
                .map(|(_, h)| h)
        })
        .await
        .map_err(|e| StoreError::Unavailable(e.to_string()))?
        .map_err(|e| StoreError::Unavailable(format!("reading the log's end offset: {e}")))?;
        self.wait_applied(high).await
    }

    async fn wait_applied(&self, next: i64) -> Result<(), StoreError> {
        let mut rx = self.applied.clone();
        let wait = async move { rx.wait_for(|applied| *applied >= next).await.map(|_| ()) };
        match tokio::time::timeout(self.opts.timeout, wait).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(StoreError::Unavailable("the log reader stopped".into())),
            Err(_) => Err(StoreError::Timeout(self.opts.timeout)),
        }
    }

    /// Appends a request and returns the fold's answer to it.
    pub async fn submit(&self, request: &Request) -> Result<Outcome, StoreError> {
        let id = Uuid::now_v7();
        let (tx, rx) = oneshot::channel();
        self.lock_waiters().insert(id, tx);
        let result = self
            .append(&LogKey::Request { request: id }, Some(request))
            .await;
        let outcome = match result {
            Ok(()) => match tokio::time::timeout(self.opts.timeout, rx).await {
                Ok(Ok(o)) => Ok(o),
                Ok(Err(_)) => Err(StoreError::Unavailable("the log reader stopped".into())),
                Err(_) => Err(StoreError::Timeout(self.opts.timeout)),
            },
            Err(e) => Err(e),
        };
        self.lock_waiters().remove(&id);
        outcome
    }

    /// Sets (or with `None` removes) a compatibility level and waits until it is applied.
    pub async fn set_level(
        &self,
        subject: Option<&str>,
        level: Option<CompatibilityLevel>,
    ) -> Result<(), StoreError> {
        let key = LogKey::Config {
            subject: subject.map(str::to_string),
        };
        let value = level.map(|l| ConfigValue {
            compatibility_level: l.to_string(),
        });
        self.append(&key, value.as_ref()).await
    }

    /// Produces one record and waits until the reader has applied it.
    async fn append<V: serde::Serialize>(
        &self,
        key: &LogKey,
        value: Option<&V>,
    ) -> Result<(), StoreError> {
        let key = serde_json::to_vec(key).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let mut rec = OutRecord::new(self.opts.topic.as_str()).key(key);
        if let Some(v) = value {
            let v = serde_json::to_vec(v).map_err(|e| StoreError::Unavailable(e.to_string()))?;
            rec = rec.value(v);
        }
        let send = async {
            let pending = self
                .producer
                .send(&rec)
                .await
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            pending
                .wait()
                .await
                .map_err(|e| StoreError::Unavailable(e.to_string()))
        };
        let delivery = tokio::time::timeout(self.opts.timeout, send)
            .await
            .map_err(|_| StoreError::Timeout(self.opts.timeout))??;
        self.wait_applied(delivery.offset + 1).await
    }

    fn lock_waiters(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, oneshot::Sender<Outcome>>> {
        self.waiters.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Flushes the producer and waits for the reader thread (it stops on the shutdown token).
    pub async fn close(&self, timeout: Duration) {
        if let Err(e) = self.producer.flush(timeout).await {
            tracing::warn!(error = %e, "Flushing the registry producer");
        }
        let handle = self.reader.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(h) = handle {
            let _ = tokio::task::spawn_blocking(move || h.join()).await;
        }
    }
}

/// Creates the log topic (one partition, compacted) or checks the existing one.
async fn ensure_topic(kafka: &KafkaConfig, opts: &StoreOptions) -> Result<(), StoreError> {
    let admin = Admin::new(kafka).map_err(|e| StoreError::Unavailable(e.to_string()))?;
    let mut spec = TopicSpec::new(&opts.topic, 1).config("cleanup.policy", "compact");
    spec.replication_factor = opts.replication_factor.unwrap_or(-1);
    admin
        .create_topics(&[spec])
        .await
        .map_err(|e| StoreError::Unavailable(format!("creating {}: {e}", opts.topic)))?;
    let info = admin
        .describe(Some(&opts.topic), opts.timeout)
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    match info.first() {
        Some(t) if t.partitions == 1 => Ok(()),
        Some(t) => Err(StoreError::BadTopic {
            topic: opts.topic.clone(),
            why: format!(
                "it has {} partitions; the registry needs exactly one (one total order)",
                t.partitions
            ),
        }),
        None => Err(StoreError::BadTopic {
            topic: opts.topic.clone(),
            why: "it does not exist after creation".into(),
        }),
    }
}

/// The reader thread: applies every record in log order until `shutdown`.
fn read_log(
    consumer: &BaseConsumer,
    topic: &str,
    state: &RwLock<State>,
    waiters: &Waiters,
    applied: &watch::Sender<i64>,
    shutdown: &CancellationToken,
) {
    let mut next = 0i64;
    while !shutdown.is_cancelled() {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                apply_record(m.key(), m.payload(), m.offset(), state, waiters);
                next = next.max(m.offset() + 1);
            }
            Some(Err(e)) => tracing::warn!(error = %e, topic, "Reading the schema log"),
            None => {}
        }
        // The position also moves past records the client does not return (transaction
        // markers), so waiting for the end offset always finishes.
        if let Ok(pos) = consumer.position() {
            if let Some(Offset::Offset(o)) = pos.find_partition(topic, 0).map(|p| p.offset()) {
                next = next.max(o);
            }
        }
        applied.send_if_modified(|v| {
            if *v < next {
                *v = next;
                true
            } else {
                false
            }
        });
    }
}

fn apply_record(
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    offset: i64,
    state: &RwLock<State>,
    waiters: &Waiters,
) {
    let Some(key) = key.and_then(|k| serde_json::from_slice::<LogKey>(k).ok()) else {
        tracing::warn!(offset, "Skipping a schema log record with an unknown key");
        return;
    };
    let mut st = state.write().unwrap_or_else(|p| p.into_inner());
    match key {
        LogKey::Request { request } => {
            let Some(req) = value.and_then(|v| serde_json::from_slice::<Request>(v).ok()) else {
                tracing::warn!(offset, "Skipping a schema log request that does not parse");
                return;
            };
            let outcome = st.apply(&req);
            drop(st);
            let waiter = waiters
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&request);
            if let Some(w) = waiter {
                let _ = w.send(outcome);
            }
        }
        LogKey::Config { subject } => {
            let level = match value {
                None => None,
                Some(v) => match serde_json::from_slice::<ConfigValue>(v)
                    .ok()
                    .and_then(|c| c.compatibility_level.parse::<CompatibilityLevel>().ok())
                {
                    Some(l) => Some(l),
                    None => {
                        tracing::warn!(offset, "Skipping a schema log config that does not parse");
                        return;
                    }
                },
            };
            st.set_level(subject.as_deref(), level);
        }
    }
}
