//! The local Kafka broker and helpers around it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use bytes::Bytes;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use weft_kafka::admin::{Admin, TopicSpec};
use weft_kafka::KafkaConfig;

static STARTED: Mutex<bool> = Mutex::new(false);

/// The repository root (where `deploy/` is).
pub fn repo_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .find(|p| p.join("deploy/local/kafka").exists())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| here.to_path_buf())
}

/// A unique name for a topic or group: `<prefix>-<random>`.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

/// The bootstrap address tests use: `WEFT_TEST_BOOTSTRAP`, else the local broker's default.
fn bootstrap() -> String {
    std::env::var("WEFT_TEST_BOOTSTRAP").unwrap_or_else(|_| {
        let port = std::env::var("WEFT_KAFKA_PORT").unwrap_or_else(|_| "9092".into());
        format!("127.0.0.1:{port}")
    })
}

fn reachable(cfg: &KafkaConfig) -> bool {
    Admin::new(cfg)
        .and_then(|a| a.brokers(Duration::from_secs(3)))
        .is_ok_and(|b| !b.is_empty())
}

/// A running local Kafka and its connection settings.
#[derive(Clone)]
pub struct TestKafka {
    pub config: KafkaConfig,
}

/// Makes sure the local Kafka answers, starting it with `deploy/local/kafka start` if not.
pub fn ensure_kafka() -> anyhow::Result<TestKafka> {
    let mut config = KafkaConfig {
        bootstrap_servers: bootstrap(),
        ..KafkaConfig::default()
    };
    config.statistics_interval = Duration::from_secs(1);
    let mut started = STARTED.lock().unwrap_or_else(|p| p.into_inner());
    if !reachable(&config) {
        if *started {
            bail!(
                "the local Kafka at {} stopped answering",
                config.bootstrap_servers
            );
        }
        let script = repo_root().join("deploy/local/kafka");
        let status = Command::new(&script)
            .arg("start")
            .status()
            .with_context(|| format!("running {}", script.display()))?;
        if !status.success() {
            bail!("{} start failed ({status})", script.display());
        }
        if !reachable(&config) {
            bail!(
                "Kafka at {} does not answer after start",
                config.bootstrap_servers
            );
        }
    }
    *started = true;
    Ok(TestKafka { config })
}

static WEFT_BINARY: OnceLock<Result<PathBuf, String>> = OnceLock::new();

/// The `weft` binary of this build. The first call in a test process runs
/// `cargo build -p weft-cli` (a no-op when it is up to date), so tests never drive a stale one.
pub fn weft_binary() -> anyhow::Result<PathBuf> {
    let found = WEFT_BINARY.get_or_init(|| {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        // target/<profile>/deps/<test> -> target/<profile>/weft
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .ok_or("cannot locate the target directory")?;
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["build", "--quiet", "-p", "weft-cli"])
            .current_dir(repo_root());
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        let status = cmd
            .status()
            .map_err(|e| format!("running cargo build: {e}"))?;
        let bin = profile_dir.join("weft");
        if !status.success() || !bin.exists() {
            return Err(format!(
                "could not build the weft binary at {}",
                bin.display()
            ));
        }
        Ok(bin)
    });
    found.clone().map_err(anyhow::Error::msg)
}

/// A consumed record, reduced to what tests compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    pub headers: HashMap<String, String>,
    /// The record's Kafka timestamp.
    pub timestamp_ms: Option<i64>,
}

impl TestKafka {
    pub fn admin(&self) -> anyhow::Result<Admin> {
        Ok(Admin::new(&self.config)?)
    }

    /// Runs one of Kafka's own command-line tools (a main class of the broker's jars, through
    /// `deploy/local/kafka tool`) against this broker: `--bootstrap-server` is added. Returns
    /// its standard output; fails with its standard error.
    pub fn tool(&self, class: &str, args: &[&str]) -> anyhow::Result<String> {
        let script = repo_root().join("deploy/local/kafka");
        let out = Command::new(&script)
            .arg("tool")
            .arg(class)
            .args(["--bootstrap-server", &self.config.bootstrap_servers])
            .args(args)
            .output()
            .with_context(|| format!("running {} tool {class}", script.display()))?;
        if !out.status.success() {
            bail!(
                "{class} {args:?} failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Takes away one right on `topic` (`"Write"`, `"Read"`) from every client here (they
    /// connect as `User:ANONYMOUS`), or gives it back (`denied = false`, which removes the
    /// topic's ACLs): an ACL that denies the operation, beside one that allows the other topic
    /// operations clients here use (Read, Write, Describe), since a topic with ACLs allows only
    /// what they allow. Needs the broker's authorizer, which `deploy/local/kafka` configures.
    pub fn deny(&self, topic: &str, operation: &str, denied: bool) -> anyhow::Result<()> {
        const ACLS: &str = "org.apache.kafka.tools.AclCommand";
        let who = "User:ANONYMOUS";
        if !denied {
            // Every ACL of the topic: with none left, everything is allowed again.
            self.tool(ACLS, &["--remove", "--force", "--topic", topic])?;
            return Ok(());
        }
        let mut allow = vec!["--add", "--allow-principal", who];
        for op in ["Read", "Write", "Describe"] {
            if !op.eq_ignore_ascii_case(operation) {
                allow.extend(["--operation", op]);
            }
        }
        allow.extend(["--topic", topic]);
        self.tool(ACLS, &allow)?;
        let deny = [
            "--add",
            "--deny-principal",
            who,
            "--operation",
            operation,
            "--topic",
            topic,
        ];
        self.tool(ACLS, &deny)?;
        Ok(())
    }

    /// [`Self::deny`] for Write.
    pub fn deny_writes(&self, topic: &str, denied: bool) -> anyhow::Result<()> {
        self.deny(topic, "Write", denied)
    }

    /// Creates a topic with a unique name and returns the name.
    pub async fn topic(&self, prefix: &str, partitions: i32) -> anyhow::Result<String> {
        let name = unique(prefix);
        self.admin()?
            .create_topics(&[TopicSpec::new(&name, partitions)])
            .await?;
        Ok(name)
    }

    /// A plain rdkafka producer (a "real client", not Weft's).
    pub fn producer(&self) -> anyhow::Result<FutureProducer> {
        Ok(ClientConfig::new()
            .set("bootstrap.servers", &self.config.bootstrap_servers)
            .set("linger.ms", "5")
            .set("enable.idempotence", "true")
            .set("queue.buffering.max.messages", "500000")
            .create()?)
    }

    /// Produces `(key, value)` pairs in order and waits for every acknowledgement.
    pub async fn produce(&self, topic: &str, records: &[(String, Vec<u8>)]) -> anyhow::Result<()> {
        produce_with(&self.producer()?, topic, records).await
    }

    /// Reads a topic from the beginning with a plain rdkafka consumer until `done` says the
    /// records seen are enough, or fails after `timeout`. `read_committed` hides aborted
    /// transactions; `read_uncommitted` shows them.
    pub fn read_until(
        &self,
        topic: &str,
        read_committed: bool,
        timeout: Duration,
        mut done: impl FnMut(&[Seen]) -> bool,
    ) -> anyhow::Result<Vec<Seen>> {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &self.config.bootstrap_servers)
            .set("group.id", unique("reader"))
            .set("enable.auto.commit", "false")
            .set(
                "isolation.level",
                if read_committed {
                    "read_committed"
                } else {
                    "read_uncommitted"
                },
            )
            .create()?;
        let md = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
        let partitions = md
            .topics()
            .first()
            .map(|t| t.partitions().len())
            .unwrap_or(0);
        let mut tpl = TopicPartitionList::new();
        for p in 0..partitions {
            tpl.add_partition_offset(topic, i32::try_from(p)?, Offset::Beginning)?;
        }
        consumer.assign(&tpl)?;
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        loop {
            if done(&seen) {
                return Ok(seen);
            }
            if Instant::now() >= deadline {
                bail!(
                    "timed out after {timeout:?} reading {topic}: {} records seen",
                    seen.len()
                );
            }
            // Drain what is there, then check again.
            while let Some(r) = consumer.poll(Duration::from_millis(100)) {
                let m = r?;
                // Read as Weft reads them (a header name that is not UTF-8 does not panic).
                let headers = weft_kafka::native_headers::read(&m)
                    .into_iter()
                    .filter_map(|h| {
                        Some((
                            h.name.into_owned(),
                            String::from_utf8(h.value?.to_vec()).ok()?,
                        ))
                    })
                    .collect();
                seen.push(Seen {
                    partition: m.partition(),
                    offset: m.offset(),
                    key: m.key().map(Bytes::copy_from_slice),
                    value: m.payload().map(Bytes::copy_from_slice),
                    headers,
                    timestamp_ms: m.timestamp().to_millis(),
                });
                if seen.len() % 10_000 == 0 && done(&seen) {
                    return Ok(seen);
                }
            }
        }
    }

    /// Reads a topic from the beginning until no new record arrived for `quiet` (at most
    /// `timeout` in all): every record there is, for exact counts once writers have stopped.
    pub fn read_all(
        &self,
        topic: &str,
        read_committed: bool,
        quiet: Duration,
        timeout: Duration,
    ) -> anyhow::Result<Vec<Seen>> {
        let mut last_len = 0;
        let mut last_change = Instant::now();
        self.read_until(topic, read_committed, timeout, |s| {
            if s.len() != last_len {
                last_len = s.len();
                last_change = Instant::now();
            }
            last_change.elapsed() >= quiet
        })
    }

    /// [`Self::read_until`] off the async runtime.
    pub async fn read_until_async(
        &self,
        topic: &str,
        read_committed: bool,
        timeout: Duration,
        done: impl FnMut(&[Seen]) -> bool + Send + 'static,
    ) -> anyhow::Result<Vec<Seen>> {
        let (k, t) = (self.clone(), topic.to_string());
        tokio::task::spawn_blocking(move || k.read_until(&t, read_committed, timeout, done)).await?
    }

    /// [`Self::read_all`] off the async runtime.
    pub async fn read_all_async(
        &self,
        topic: &str,
        read_committed: bool,
        quiet: Duration,
        timeout: Duration,
    ) -> anyhow::Result<Vec<Seen>> {
        let (k, t) = (self.clone(), topic.to_string());
        tokio::task::spawn_blocking(move || k.read_all(&t, read_committed, quiet, timeout)).await?
    }

    /// The committed offsets of `group` on `topic`, by partition.
    pub fn committed(
        &self,
        group: &str,
        topic: &str,
        partitions: i32,
    ) -> anyhow::Result<HashMap<i32, i64>> {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &self.config.bootstrap_servers)
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .create()?;
        let mut tpl = TopicPartitionList::new();
        for p in 0..partitions {
            tpl.add_partition(topic, p);
        }
        let c = consumer.committed_offsets(tpl, Duration::from_secs(10))?;
        Ok(c.elements()
            .iter()
            .filter_map(|e| match e.offset() {
                Offset::Offset(o) => Some((e.partition(), o)),
                _ => None,
            })
            .collect())
    }
}

/// Produces `(key, value)` pairs in order with `producer` and waits for every acknowledgement.
pub async fn produce_with(
    producer: &FutureProducer,
    topic: &str,
    records: &[(String, Vec<u8>)],
) -> anyhow::Result<()> {
    let mut pending = Vec::with_capacity(records.len());
    for (k, v) in records {
        loop {
            match producer.send_result(FutureRecord::to(topic).key(k).payload(v)) {
                Ok(f) => {
                    pending.push(f);
                    break;
                }
                Err((
                    rdkafka::error::KafkaError::MessageProduction(
                        rdkafka::types::RDKafkaErrorCode::QueueFull,
                    ),
                    _,
                )) => tokio::time::sleep(Duration::from_millis(5)).await,
                Err((e, _)) => return Err(e.into()),
            }
        }
    }
    for f in pending {
        f.await?.map_err(|(e, _)| e)?;
    }
    Ok(())
}
