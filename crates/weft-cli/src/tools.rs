//! Operator tools: produce, consume (topics are in `topics.rs`).

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use base64::Engine as _;
use bytes::Bytes;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use weft_core::headers::{EventMeta, CONTENT_TYPE};
use weft_core::{EventId, Headers, TraceParent};
use weft_kafka::{KafkaConfig, OutRecord, Producer, ProducerOptions, Role};

#[derive(Debug, clap::Args)]
pub struct ProduceArgs {
    /// Destination topic.
    #[arg(long, short)]
    pub topic: String,
    /// Files whose whole content is one record value each; without files, every line of
    /// standard input is one record.
    #[arg(long = "file", short = 'f', num_args = 1..)]
    pub files: Vec<PathBuf>,
    /// A fixed record key.
    #[arg(long, conflicts_with = "key_field")]
    pub key: Option<String>,
    /// Take the key from this field of a JSON value (dotted path, e.g. `repository.full_name`).
    #[arg(long)]
    pub key_field: Option<String>,
    /// `weft.event.type` of every record.
    #[arg(long = "type")]
    pub event_type: Option<String>,
    /// `weft.source` of every record.
    #[arg(long, default_value = "weft-cli")]
    pub source: String,
    /// Extra headers, `name=value` (repeatable).
    #[arg(long = "header", short = 'H')]
    pub headers: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct ConsumeArgs {
    /// Topic to read.
    #[arg(long, short)]
    pub topic: String,
    /// Stop after this many records.
    #[arg(long, short = 'n')]
    pub max: Option<usize>,
    /// Stop when no record arrived for this long (e.g. `5s`).
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    pub idle: Duration,
    /// Read from the end instead of the beginning.
    #[arg(long)]
    pub latest: bool,
    /// Decode Avro values in the Confluent wire format with their writer schema from the
    /// registry (`schema_registry.url`) and print them as JSON.
    #[arg(long)]
    pub decode: bool,
}

/// Produces records and prints where each landed.
pub async fn produce(kafka: &KafkaConfig, args: ProduceArgs) -> anyhow::Result<()> {
    let producer = Producer::new(kafka, "cli", &ProducerOptions::default(), None)?;
    let extra: Vec<(String, String)> = args
        .headers
        .iter()
        .map(|h| {
            h.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .with_context(|| format!("--header {h:?}: expected name=value"))
        })
        .collect::<anyhow::Result<_>>()?;
    let mut values: Vec<(String, Vec<u8>)> = Vec::new();
    if args.files.is_empty() {
        for (i, line) in std::io::stdin().lock().lines().enumerate() {
            let line = line.context("reading standard input")?;
            if !line.trim().is_empty() {
                values.push((format!("stdin line {}", i + 1), line.into_bytes()));
            }
        }
    } else {
        for f in &args.files {
            let bytes = std::fs::read(f).with_context(|| format!("reading {}", f.display()))?;
            values.push((f.display().to_string(), bytes));
        }
    }
    let mut pending = Vec::with_capacity(values.len());
    for (origin, value) in values {
        let key = match (&args.key, &args.key_field) {
            (Some(k), _) => Some(Bytes::from(k.clone())),
            (None, Some(path)) => Some(Bytes::from(
                json_field(&value, path).with_context(|| format!("{origin}: key field {path}"))?,
            )),
            (None, None) => None,
        };
        let mut h = Headers::new();
        let meta = EventMeta {
            event_id: Some(EventId::new()),
            event_type: args.event_type.clone(),
            source: Some(args.source.clone()),
            content_type: Some("application/json".into()),
            time_ms: Some(weft_core::time::now_millis()),
            traceparent: Some(TraceParent::new_root()),
            ..EventMeta::default()
        };
        meta.write_to(&mut h);
        if serde_json::from_slice::<serde_json::Value>(&value).is_err() {
            h.set(CONTENT_TYPE, "application/octet-stream");
        }
        for (k, v) in &extra {
            h.set(k.clone(), v.clone());
        }
        let rec = OutRecord {
            topic: args.topic.as_str().into(),
            key,
            value: Some(Bytes::from(value)),
            headers: h,
            ..OutRecord::default()
        };
        pending.push((origin, producer.send(&rec).await?));
    }
    let mut out = std::io::stdout().lock();
    for (origin, p) in pending {
        let d = p
            .wait()
            .await
            .with_context(|| format!("producing {origin}"))?;
        writeln!(
            out,
            "{origin} -> {}-{}@{}",
            args.topic, d.partition, d.offset
        )?;
    }
    Ok(())
}

fn json_field(value: &[u8], path: &str) -> anyhow::Result<String> {
    let v: serde_json::Value = serde_json::from_slice(value).context("value is not JSON")?;
    let mut cur = &v;
    for part in path.split('.') {
        cur = cur
            .get(part)
            .with_context(|| format!("no field {part:?}"))?;
    }
    Ok(match cur {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// Prints records of a topic as JSON lines, from the beginning (or the end), without a group.
pub fn consume(
    kafka: &KafkaConfig,
    registry: &weft_schema::RegistryClientConfig,
    args: ConsumeArgs,
) -> anyhow::Result<usize> {
    let decoder = if args.decode {
        Some((
            weft_schema::SchemaCache::from_config(registry)?,
            tokio::runtime::Handle::current(),
        ))
    } else {
        None
    };
    let consumer: BaseConsumer = kafka
        .client_config(Role::Consumer, "cli")
        .set("enable.auto.commit", "false")
        .set("group.id", "weft-cli-unused")
        .create()
        .context("creating the consumer")?;
    let md = consumer
        .fetch_metadata(Some(&args.topic), Duration::from_secs(10))
        .context("fetching topic metadata")?;
    let Some(t) = md
        .topics()
        .iter()
        .find(|t| t.name() == args.topic && t.error().is_none())
    else {
        bail!("topic {} does not exist", args.topic);
    };
    let mut tpl = TopicPartitionList::new();
    let start = if args.latest {
        Offset::End
    } else {
        Offset::Beginning
    };
    for p in t.partitions() {
        tpl.add_partition_offset(&args.topic, p.id(), start)?;
    }
    consumer.assign(&tpl).context("assigning partitions")?;
    let mut out = std::io::stdout().lock();
    let mut count = 0;
    let mut last = Instant::now();
    while args.max.is_none_or(|m| count < m) && last.elapsed() < args.idle {
        let Some(r) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let m = r.context("consuming")?;
        last = Instant::now();
        count += 1;
        let mut json = record_json(&m);
        if let (Some((cache, rt)), Some(v)) = (&decoder, m.payload()) {
            // Decoded where it decodes; anything else stays as the bytes were printed.
            if let Ok((_, schema, value)) = rt.block_on(cache.decode(v)) {
                if let Ok(j) = schema.codec.to_json(&value) {
                    json["value"] = j;
                }
            }
        }
        writeln!(out, "{json}")?;
    }
    Ok(count)
}

fn bytes_json(b: Option<&[u8]>) -> serde_json::Value {
    match b {
        None => serde_json::Value::Null,
        Some(b) => match std::str::from_utf8(b) {
            Ok(s) => serde_json::Value::String(s.to_string()),
            Err(_) => {
                serde_json::json!({ "base64": base64::engine::general_purpose::STANDARD.encode(b) })
            }
        },
    }
}

fn record_json(m: &rdkafka::message::BorrowedMessage<'_>) -> serde_json::Value {
    let mut headers = serde_json::Map::new();
    for h in weft_kafka::native_headers::read(m) {
        headers.insert(h.name.into_owned(), bytes_json(h.value));
    }
    let value = match m.payload().map(serde_json::from_slice::<serde_json::Value>) {
        Some(Ok(v)) => v,
        _ => bytes_json(m.payload()),
    };
    serde_json::json!({
        "topic": m.topic(),
        "partition": m.partition(),
        "offset": m.offset(),
        "timestamp": m.timestamp().to_millis().map(weft_core::time::format_millis),
        "key": bytes_json(m.key()),
        "headers": headers,
        "value": value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_field_follows_dotted_paths() {
        let v = br#"{"repository":{"full_name":"octo/hello","id":7}}"#;
        assert_eq!(
            json_field(v, "repository.full_name").ok().as_deref(),
            Some("octo/hello")
        );
        assert_eq!(json_field(v, "repository.id").ok().as_deref(), Some("7"));
        let e = json_field(v, "repository.owner").expect_err("missing");
        assert!(e.to_string().contains("owner"));
        assert!(json_field(b"not json", "a").is_err());
    }

    #[test]
    fn binary_values_are_base64() {
        assert_eq!(bytes_json(Some(b"hi")), serde_json::json!("hi"));
        assert_eq!(
            bytes_json(Some(&[0xff])),
            serde_json::json!({"base64": "/w=="})
        );
        assert_eq!(bytes_json(None), serde_json::Value::Null);
    }
}
