//! What every subcommand shares: the connection, topics, names, payloads, the acknowledgement
//! counter of the plain rdkafka producers, and the peak RSS.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use rdkafka::client::ClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{DeliveryResult, ToBytes};
use rdkafka::producer::{BaseRecord, ProducerContext, ThreadedProducer};
use rdkafka::ClientConfig;
use weft_kafka::admin::{Admin, TopicSpec};
use weft_kafka::{KafkaConfig, Role};

/// Records are keyed over this many distinct keys.
pub const KEYS: u64 = 10_000;

/// The connection every client of the benchmark uses (weft's defaults otherwise), with extra
/// librdkafka properties (`key=value`) for every client, consumers only, or producers only.
pub fn kafka_config(
    bootstrap: &str,
    all: &[String],
    consumer: &[String],
    producer: &[String],
) -> Result<KafkaConfig> {
    let mut cfg = KafkaConfig {
        bootstrap_servers: bootstrap.into(),
        client_id: "weft-bench".into(),
        ..KafkaConfig::default()
    };
    for (list, map) in [
        (all, &mut cfg.properties),
        (consumer, &mut cfg.consumer_properties),
        (producer, &mut cfg.producer_properties),
    ] {
        for kv in list {
            let (k, v) = kv
                .split_once('=')
                .with_context(|| format!("property {kv:?} is not key=value"))?;
            map.insert(k.trim().to_string(), v.trim().to_string());
        }
    }
    Ok(cfg)
}

/// A plain rdkafka producer config with the defaults of weft's `Producer`: `acks=all`,
/// idempotence, `linger.ms=5`, a 200,000-record queue (explicit properties win, as in weft).
pub fn producer_config(kafka: &KafkaConfig, name: &str) -> ClientConfig {
    let mut c = kafka.client_config(Role::Producer, name);
    for (k, v) in [
        ("acks", "all"),
        ("enable.idempotence", "true"),
        ("linger.ms", "5"),
        ("queue.buffering.max.messages", "200000"),
    ] {
        if c.get(k).is_none() {
            c.set(k, v);
        }
    }
    c
}

/// Creates `name` with `partitions` partitions; `false` when it already existed.
pub async fn create_topic(kafka: &KafkaConfig, name: &str, partitions: i32) -> Result<bool> {
    let admin = Admin::new(kafka).context("connecting the admin client")?;
    let created = admin
        .create_topics(&[TopicSpec::new(name, partitions)])
        .await
        .with_context(|| format!("creating topic {name}"))?;
    Ok(created.first().is_some_and(|(_, new)| *new))
}

pub async fn delete_topics(kafka: &KafkaConfig, names: &[String]) -> Result<()> {
    if names.is_empty() {
        return Ok(());
    }
    let admin = Admin::new(kafka).context("connecting the admin client")?;
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    admin
        .delete_topics(&names)
        .await
        .with_context(|| format!("deleting topics {names:?}"))
}

/// A name no earlier run used: `<prefix>-<pid>-<ms since epoch>`.
pub fn unique(prefix: &str) -> String {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("{prefix}-{}-{ms}", std::process::id())
}

/// Nanoseconds since the Unix epoch.
pub fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// The `KEYS` record keys, built once.
pub fn keys() -> Vec<String> {
    (0..KEYS).map(|k| format!("key-{k:05}")).collect()
}

/// A payload buffer of `size` bytes (at least 8): the first 8 are overwritten per record.
pub fn payload_buffer(size: usize) -> Result<Vec<u8>> {
    if size < 8 {
        bail!("--size must be at least 8 bytes (the sequence number), not {size}");
    }
    // Filler that is not one repeated byte (there is no compression anywhere, but be honest).
    let mut x: u32 = 0x9e37_79b9;
    Ok((0..size)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x.to_le_bytes()[0]
        })
        .collect())
}

/// The process's peak resident set size (`VmHWM`), in MiB.
pub fn peak_rss_mib() -> Result<f64> {
    let status =
        std::fs::read_to_string("/proc/self/status").context("reading /proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .context("/proc/self/status has no VmHWM line")?;
    let kib: f64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .with_context(|| format!("unreadable VmHWM line {line:?}"))?;
    Ok(kib / 1024.0)
}

/// What a pipeline did: records forwarded (acknowledged), their value bytes, and the window
/// from the first record consumed to the last output acknowledged.
#[derive(Debug, Default)]
pub struct Outcome {
    pub records: u64,
    pub bytes: u64,
    pub first: Option<Instant>,
    pub last: Option<Instant>,
}

/// Delivery reports of a plain rdkafka producer, counted. Never panics (librdkafka callback).
pub struct Acks {
    acked: AtomicU64,
    failed: AtomicU64,
    /// The acknowledgement count whose arrival time is kept (`u64::MAX`: none).
    target: u64,
    reached: OnceLock<Instant>,
    first_error: Mutex<Option<String>>,
}

impl Acks {
    pub fn new(target: Option<u64>) -> Self {
        Self {
            acked: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            target: target.unwrap_or(u64::MAX),
            reached: OnceLock::new(),
            first_error: Mutex::new(None),
        }
    }

    pub fn acked(&self) -> u64 {
        self.acked.load(Ordering::Acquire)
    }

    /// When the target count of acknowledgements was reached.
    pub fn reached(&self) -> Option<Instant> {
        self.reached.get().copied()
    }

    /// The first delivery failure, if any record failed.
    pub fn failure(&self) -> Option<String> {
        if self.failed.load(Ordering::Acquire) == 0 {
            return None;
        }
        let first = self
            .first_error
            .lock()
            .map(|g| g.clone())
            .unwrap_or_else(|p| p.into_inner().clone());
        Some(format!(
            "{} deliveries failed, the first with: {}",
            self.failed.load(Ordering::Acquire),
            first.unwrap_or_default()
        ))
    }
}

/// The context of the plain producers: counts delivery reports.
pub struct AckContext(pub std::sync::Arc<Acks>);

impl ClientContext for AckContext {}

impl ProducerContext for AckContext {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        let acks = &self.0;
        match result {
            Ok(_) => {
                let n = acks.acked.fetch_add(1, Ordering::AcqRel) + 1;
                if n == acks.target {
                    let _ = acks.reached.set(Instant::now());
                }
            }
            Err((e, _)) => {
                acks.failed.fetch_add(1, Ordering::AcqRel);
                let mut first = acks.first_error.lock().unwrap_or_else(|p| p.into_inner());
                first.get_or_insert_with(|| e.to_string());
            }
        }
    }
}

/// Enqueues a record on a plain producer, waiting while librdkafka's queue is full.
pub fn send_or_wait<K, P>(
    producer: &ThreadedProducer<AckContext>,
    mut rec: BaseRecord<'_, K, P>,
) -> Result<()>
where
    K: ToBytes + ?Sized,
    P: ToBytes + ?Sized,
{
    loop {
        match producer.send(rec) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                rec = back;
                std::thread::sleep(Duration::from_millis(1));
            }
            Err((e, back)) => {
                return Err(e).with_context(|| format!("producing to {}", back.topic));
            }
        }
    }
}
