//! The Kafka side of `bench/ingest.sh`: `produce-copies`, the raw rdkafka producer that the event
//! API is compared with (it sends copies of one record ingest produced — the same key, Avro
//! bytes and headers — as fast as it can), `end-offsets` (the checker's record count) and
//! `create-topic`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, OwnedHeaders};
use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};
use rdkafka::{Message, Offset, TopicPartitionList};
use serde::{Deserialize, Serialize};
use weft_kafka::admin::{Admin, TopicSpec};
use weft_kafka::{KafkaConfig, Role};

use crate::common::{producer_config, send_or_wait, AckContext, Acks};
use crate::results::cpu_seconds;

#[derive(Debug, Args)]
pub struct ProduceCopiesArgs {
    /// The topic to read the model record from and to write the copies to
    #[arg(long)]
    pub topic: String,
    /// Partition of the model record
    #[arg(long, required_unless_present = "model_file")]
    pub like_partition: Option<i32>,
    /// Offset of the model record
    #[arg(long, required_unless_present = "model_file")]
    pub like_offset: Option<i64>,
    /// Where the model is kept between runs (JSON): read from there when the file exists,
    /// otherwise read from the topic and saved there (retention may delete it from the topic)
    #[arg(long)]
    pub model_file: Option<std::path::PathBuf>,
    /// Fail unless the model's value is Confluent-framed with this schema id
    #[arg(long)]
    pub expect_schema_id: Option<u32>,
    /// Records to send
    #[arg(long, default_value_t = 2_000_000)]
    pub count: u64,
    /// Send the value (and key) only, without the model's headers
    #[arg(long)]
    pub no_headers: bool,
    /// The broker's pid, to report its CPU during the run (same machine only)
    #[arg(long)]
    pub broker_pid: Option<String>,
    /// Give up after this many seconds
    #[arg(long, default_value_t = 300)]
    pub timeout_s: u64,
}

/// `produce-copies`' JSON line.
#[derive(Debug, Serialize)]
struct CopiesResult {
    topic: String,
    events: u64,
    /// From the first send to the last acknowledgement.
    seconds: f64,
    events_per_s: f64,
    /// CPU (user + system) of this process over the same window, flush included.
    cpu_s: f64,
    cpu_s_per_million: f64,
    broker_cpu_s: Option<f64>,
    key_bytes: usize,
    value_bytes: usize,
    headers: usize,
    header_names: Vec<String>,
    header_bytes: usize,
    schema_id: u32,
    producer: Vec<(String, String)>,
}

/// The record copied: key, value, headers (in order).
#[derive(Debug, Serialize, Deserialize)]
struct Model {
    key: Option<Vec<u8>>,
    value: Vec<u8>,
    headers: Vec<(String, Option<Vec<u8>>)>,
}

impl Model {
    fn owned_headers(&self) -> Option<OwnedHeaders> {
        if self.headers.is_empty() {
            return None;
        }
        let mut owned = OwnedHeaders::new_with_capacity(self.headers.len());
        for (key, value) in &self.headers {
            owned = owned.insert(rdkafka::message::Header {
                key,
                value: value.as_deref(),
            });
        }
        Some(owned)
    }

    fn header_bytes(&self) -> usize {
        self.headers
            .iter()
            .map(|(k, v)| k.len() + v.as_ref().map_or(0, Vec::len))
            .sum()
    }
}

/// The model from `--model-file` when it exists, else from the topic (then saved there).
fn load_model(kafka: &KafkaConfig, args: &ProduceCopiesArgs) -> Result<Model> {
    if let Some(path) = &args.model_file {
        if path.exists() {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            return serde_json::from_str(&text)
                .with_context(|| format!("{} is not a saved model", path.display()));
        }
    }
    let (Some(partition), Some(offset)) = (args.like_partition, args.like_offset) else {
        bail!("--like-partition and --like-offset are needed to read the model from the topic");
    };
    let model = read_model(kafka, &args.topic, partition, offset)?;
    if let Some(path) = &args.model_file {
        std::fs::write(path, serde_json::to_string(&model)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(model)
}

fn read_model(kafka: &KafkaConfig, topic: &str, partition: i32, offset: i64) -> Result<Model> {
    let mut c = kafka.client_config(Role::Consumer, "copies-model");
    c.set("group.id", "weft-bench-copies-model")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false");
    let consumer: BaseConsumer = c.create().context("creating the model reader")?;
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, partition, Offset::Offset(offset))
        .with_context(|| format!("assigning {topic}/{partition}@{offset}"))?;
    consumer
        .assign(&tpl)
        .with_context(|| format!("assigning {topic}/{partition}"))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let Some(m) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let m = m.with_context(|| format!("reading {topic}/{partition}@{offset}"))?;
        if m.offset() != offset {
            bail!(
                "asked for {topic}/{partition}@{offset}, the broker gave offset {}",
                m.offset()
            );
        }
        let value = m
            .payload()
            .with_context(|| format!("{topic}/{partition}@{offset} has no value"))?
            .to_vec();
        let headers = m.headers().map_or_else(Vec::new, |h| {
            h.iter()
                .map(|x| (x.key.to_string(), x.value.map(<[u8]>::to_vec)))
                .collect()
        });
        return Ok(Model {
            key: m.key().map(<[u8]>::to_vec),
            value,
            headers,
        });
    }
    bail!("{topic}/{partition}@{offset} could not be read within 30 s")
}

/// The schema id of a Confluent-framed value (magic byte 0, then the id, big-endian).
fn framed_schema_id(value: &[u8]) -> Result<u32> {
    match value {
        [0, a, b, c, d, ..] => Ok(u32::from_be_bytes([*a, *b, *c, *d])),
        _ => bail!("the model value is not in the Confluent wire format (magic byte 0 + id)"),
    }
}

pub async fn produce_copies(kafka: &KafkaConfig, args: ProduceCopiesArgs) -> Result<()> {
    let kafka = kafka.clone();
    let line = tokio::task::spawn_blocking(move || copies(&kafka, &args))
        .await
        .context("the producer task failed")??;
    println!("{line}");
    Ok(())
}

fn copies(kafka: &KafkaConfig, args: &ProduceCopiesArgs) -> Result<String> {
    let model = load_model(kafka, args)?;
    let schema_id = framed_schema_id(&model.value)?;
    if let Some(want) = args.expect_schema_id {
        if want != schema_id {
            bail!("the model value is framed with schema id {schema_id}, not {want}");
        }
    }
    let config = producer_config(kafka, "copies");
    let mut shown: Vec<(String, String)> = ["acks", "enable.idempotence", "linger.ms"]
        .iter()
        .filter_map(|k| config.get(k).map(|v| ((*k).to_string(), v.to_string())))
        .collect();
    shown.extend(
        kafka
            .producer_properties
            .iter()
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    let acks = Arc::new(Acks::new(Some(args.count)));
    let producer: ThreadedProducer<AckContext> = config
        .create_with_context(AckContext(acks.clone()))
        .context("creating the raw producer")?;
    // Connect and learn the partitions before the clock starts.
    producer
        .client()
        .fetch_metadata(Some(&args.topic), Duration::from_secs(10))
        .with_context(|| format!("reading the metadata of {}", args.topic))?;

    let broker_before = args.broker_pid.as_deref().map(cpu_seconds).transpose()?;
    let cpu_before = cpu_seconds("self")?;
    let started = Instant::now();
    let headers = if args.no_headers {
        None
    } else {
        model.owned_headers()
    };
    for _ in 0..args.count {
        let mut rec = BaseRecord::<[u8], [u8]>::to(&args.topic).payload(&model.value[..]);
        if let Some(k) = &model.key {
            rec = rec.key(&k[..]);
        }
        if let Some(h) = &headers {
            rec = rec.headers(h.clone());
        }
        send_or_wait(&producer, rec)?;
        if let Some(f) = acks.failure() {
            bail!("raw producer: {f}");
        }
        if started.elapsed().as_secs() > args.timeout_s {
            bail!("raw producer: gave up after {} s", args.timeout_s);
        }
    }
    producer
        .flush(Duration::from_secs(args.timeout_s))
        .context("flushing the raw producer")?;
    let cpu_s = cpu_seconds("self")? - cpu_before;
    let broker_cpu_s = match (&args.broker_pid, broker_before) {
        (Some(pid), Some(before)) => Some(cpu_seconds(pid)? - before),
        _ => None,
    };
    if let Some(f) = acks.failure() {
        bail!("raw producer: {f}");
    }
    let Some(done) = acks.reached() else {
        bail!(
            "raw producer: {} of {} records acknowledged",
            acks.acked(),
            args.count
        );
    };
    let seconds = done.duration_since(started).as_secs_f64();
    let (header_names, header_bytes) = if args.no_headers {
        (Vec::new(), 0)
    } else {
        (
            model.headers.iter().map(|(k, _)| k.clone()).collect(),
            model.header_bytes(),
        )
    };
    let events = acks.acked();
    Ok(serde_json::to_string(&CopiesResult {
        topic: args.topic.clone(),
        events,
        seconds,
        events_per_s: events as f64 / seconds,
        cpu_s,
        cpu_s_per_million: cpu_s * 1e6 / events.max(1) as f64,
        broker_cpu_s,
        key_bytes: model.key.as_ref().map_or(0, Vec::len),
        value_bytes: model.value.len(),
        headers: header_names.len(),
        header_names,
        header_bytes,
        schema_id,
        producer: shown,
    })?)
}

#[derive(Debug, Args)]
pub struct EndOffsetsArgs {
    #[arg(long)]
    pub topic: String,
}

/// Prints `{"topic":…,"partitions":n,"records":sum of (high - low) watermarks,"end":sum of high}`.
pub async fn end_offsets(kafka: &KafkaConfig, args: EndOffsetsArgs) -> Result<()> {
    let kafka = kafka.clone();
    let line = tokio::task::spawn_blocking(move || -> Result<String> {
        let c = kafka.client_config(Role::Consumer, "end-offsets");
        let consumer: BaseConsumer = c.create().context("creating the offsets reader")?;
        let meta = consumer
            .fetch_metadata(Some(&args.topic), Duration::from_secs(10))
            .with_context(|| format!("reading the metadata of {}", args.topic))?;
        let partitions: Vec<i32> = meta
            .topics()
            .iter()
            .flat_map(|t| t.partitions().iter().map(|p| p.id()))
            .collect();
        if partitions.is_empty() {
            bail!("topic {} has no partitions (does it exist?)", args.topic);
        }
        let (mut records, mut end) = (0i64, 0i64);
        for p in &partitions {
            let (low, high) = consumer
                .fetch_watermarks(&args.topic, *p, Duration::from_secs(10))
                .with_context(|| format!("reading the offsets of {}/{p}", args.topic))?;
            records += high - low;
            end += high;
        }
        Ok(serde_json::json!({
            "topic": args.topic, "partitions": partitions.len(), "records": records, "end": end
        })
        .to_string())
    })
    .await
    .context("the offsets task failed")??;
    println!("{line}");
    Ok(())
}

#[derive(Debug, Args)]
pub struct CreateTopicArgs {
    #[arg(long)]
    pub topic: String,
    #[arg(long, default_value_t = 6)]
    pub partitions: i32,
    /// Topic config (key=value); repeatable
    #[arg(long = "config", value_name = "KEY=VALUE")]
    pub configs: Vec<String>,
}

/// Creates a topic; fails when it exists already.
pub async fn create_topic(kafka: &KafkaConfig, args: CreateTopicArgs) -> Result<()> {
    let mut spec = TopicSpec::new(&args.topic, args.partitions);
    for kv in &args.configs {
        let (k, v) = kv
            .split_once('=')
            .with_context(|| format!("--config {kv:?} is not key=value"))?;
        spec = spec.config(k.trim(), v.trim());
    }
    let admin = Admin::new(kafka).context("connecting the admin client")?;
    let created = admin
        .create_topics(&[spec])
        .await
        .with_context(|| format!("creating topic {}", args.topic))?;
    if !created.first().is_some_and(|(_, new)| *new) {
        bail!("topic {} exists already", args.topic);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_ids_of_framed_values() {
        assert_eq!(framed_schema_id(&[0, 0, 0, 1, 2, 9]).ok(), Some(258));
        assert!(framed_schema_id(&[1, 0, 0, 0, 1]).is_err());
        assert!(framed_schema_id(&[0, 0, 1]).is_err());
    }
}
