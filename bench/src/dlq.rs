//! `dlq-prepare`: fills a dead-letter topic with Weft dead letters (the original record plus
//! `weft.dlq.*` headers) as fast as a tuned plain producer can. Its rate is the baseline of
//! the replay benchmark: raw produce of the very records the replay re-publishes.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use clap::Args;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};
use weft_core::{DeadLetter, ErrorClass, ErrorCode, Failure, Headers, OriginalRecord};
use weft_kafka::KafkaConfig;

use crate::common::{
    create_topic, keys, payload_buffer, producer_config, send_or_wait, AckContext, Acks, KEYS,
};

#[derive(Debug, Args)]
pub struct DlqPrepareArgs {
    /// The dead-letter topic to create and fill
    #[arg(long)]
    pub topic: String,
    /// The origin topic the dead letters name
    #[arg(long)]
    pub origin: String,
    #[arg(long, default_value_t = 200_000)]
    pub records: u64,
    /// Original value size in bytes
    #[arg(long, default_value_t = 512)]
    pub size: usize,
    #[arg(long, default_value_t = 6)]
    pub partitions: i32,
}

fn owned(h: &Headers) -> OwnedHeaders {
    let mut out = OwnedHeaders::new_with_capacity(h.len());
    for x in h.iter() {
        out = out.insert(Header {
            key: &x.key,
            value: x.value.as_deref(),
        });
    }
    out
}

pub async fn run(kafka: &KafkaConfig, args: DlqPrepareArgs) -> Result<()> {
    if !create_topic(kafka, &args.topic, args.partitions).await? {
        bail!(
            "topic {} already exists; dlq-prepare fills a new topic",
            args.topic
        );
    }
    let kafka = kafka.clone();
    let line = tokio::task::spawn_blocking(move || fill(&kafka, &args))
        .await
        .context("the dlq-prepare task failed")??;
    println!("{line}");
    Ok(())
}

fn fill(kafka: &KafkaConfig, args: &DlqPrepareArgs) -> Result<String> {
    let keys = keys();
    let mut buf = payload_buffer(args.size)?;
    // Built before timing: the baseline is the produce, not the building.
    let mut records = Vec::with_capacity(args.records as usize);
    let error =
        weft_core::StageError::new(ErrorCode::SchemaMismatch, "field amount: expected long");
    for seq in 0..args.records {
        buf[..8].copy_from_slice(&seq.to_be_bytes());
        let mut failure = Failure::from_error("bench", "dlq-bench", &error, 1);
        failure.class = ErrorClass::Permanent;
        failure.group = Some("weft.bench".into());
        let dl = DeadLetter {
            original: OriginalRecord {
                topic: args.origin.clone(),
                partition: (seq % 6) as i32,
                offset: seq as i64,
                timestamp_ms: Some(1_700_000_000_000),
                key: Some(Bytes::from(keys[(seq % KEYS) as usize].clone())),
                value: Some(Bytes::copy_from_slice(&buf)),
                headers: Headers::new(),
            },
            failure,
        };
        let (key, value, headers) = dl.to_kafka();
        records.push((key, value, owned(&headers)));
    }
    let mut c = producer_config(kafka, "dlq-prepare");
    c.set("linger.ms", "50");
    c.set("batch.size", "1000000");
    c.set("batch.num.messages", "100000");
    c.set("queue.buffering.max.messages", "1000000");
    c.set("queue.buffering.max.kbytes", "1048576");
    let acks = Arc::new(Acks::new(Some(args.records)));
    let producer: ThreadedProducer<AckContext> = c
        .create_with_context(AckContext(acks.clone()))
        .context("creating the dlq-prepare producer")?;
    let started = Instant::now();
    for (key, value, headers) in records {
        let mut rec = BaseRecord::<[u8], [u8]>::to(&args.topic).headers(headers);
        if let Some(k) = key.as_deref() {
            rec = rec.key(k);
        }
        if let Some(v) = value.as_deref() {
            rec = rec.payload(v);
        }
        send_or_wait(&producer, rec)?;
    }
    producer
        .flush(std::time::Duration::from_secs(120))
        .context("flushing the dlq-prepare producer")?;
    if let Some(f) = acks.failure() {
        bail!("dlq-prepare: {f}");
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(serde_json::json!({
        "topic": args.topic,
        "records": acks.acked(),
        "size": args.size,
        "seconds": seconds,
        "records_per_s": acks.acked() as f64 / seconds,
    })
    .to_string())
}
