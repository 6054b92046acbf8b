//! `prepare`: creates the input topic and fills it as fast as a tuned producer can.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};
use weft_kafka::KafkaConfig;

use crate::common::{
    create_topic, keys, payload_buffer, producer_config, send_or_wait, AckContext, Acks, KEYS,
};
use crate::results::PrepareResult;

#[derive(Debug, Args)]
pub struct PrepareArgs {
    /// Records to write
    #[arg(long, default_value_t = 1_000_000)]
    pub records: u64,
    /// Value size in bytes (an 8-byte big-endian sequence number, then filler)
    #[arg(long, default_value_t = 512)]
    pub size: usize,
    #[arg(long, default_value_t = 6)]
    pub partitions: i32,
    /// The topic to create; it must not exist yet
    #[arg(long)]
    pub topic: String,
    /// Give every record the headers Weft's ingest writes on an event (id, type, source,
    /// schema id, content type, time, traceparent), as records on an ingest topic carry them
    #[arg(long)]
    pub weft_headers: bool,
}

/// The headers `weft run ingest` writes on an accepted event.
fn ingest_headers(topic: &str) -> rdkafka::message::OwnedHeaders {
    let mut h = weft_core::Headers::with_capacity(8);
    weft_core::headers::EventMeta {
        event_id: Some(weft_core::EventId::new()),
        event_type: Some("bench.record".into()),
        source: Some(format!("http/{topic}")),
        schema_id: Some(1),
        content_type: Some(weft_core::headers::CONTENT_TYPE_AVRO.into()),
        time_ms: Some(weft_core::time::now_millis()),
        traceparent: Some(weft_core::TraceParent::new_root()),
        ..weft_core::headers::EventMeta::default()
    }
    .write_to(&mut h);
    weft_kafka::record::to_owned_headers(&h).unwrap_or_default()
}

pub async fn run(kafka: &KafkaConfig, args: PrepareArgs) -> Result<()> {
    if !create_topic(kafka, &args.topic, args.partitions).await? {
        bail!(
            "topic {} already exists; prepare fills a new topic",
            args.topic
        );
    }
    let kafka = kafka.clone();
    let summary = tokio::task::spawn_blocking(move || fill(&kafka, &args))
        .await
        .context("the prepare task failed")??;
    println!("{summary}");
    Ok(())
}

fn fill(kafka: &KafkaConfig, args: &PrepareArgs) -> Result<String> {
    let mut c = producer_config(kafka, "prepare");
    c.set("linger.ms", "50");
    c.set("batch.size", "1000000");
    c.set("batch.num.messages", "100000");
    c.set("queue.buffering.max.messages", "1000000");
    c.set("queue.buffering.max.kbytes", "1048576");
    let acks = Arc::new(Acks::new(Some(args.records)));
    let producer: ThreadedProducer<AckContext> = c
        .create_with_context(AckContext(acks.clone()))
        .context("creating the prepare producer")?;
    let keys = keys();
    let mut buf = payload_buffer(args.size)?;
    let started = Instant::now();
    for seq in 0..args.records {
        buf[..8].copy_from_slice(&seq.to_be_bytes());
        let key = &keys[(seq % KEYS) as usize];
        let mut rec = BaseRecord::<str, [u8]>::to(&args.topic)
            .key(key.as_str())
            .payload(&buf[..]);
        if args.weft_headers {
            rec = rec.headers(ingest_headers(&args.topic));
        }
        send_or_wait(&producer, rec)?;
        if (seq + 1) % 100_000 == 0 {
            eprintln!(
                "prepare: {} records enqueued, {} acknowledged, {:.1} s",
                seq + 1,
                acks.acked(),
                started.elapsed().as_secs_f64()
            );
            if let Some(f) = acks.failure() {
                bail!("prepare: {f}");
            }
        }
    }
    producer
        .flush(std::time::Duration::from_secs(120))
        .context("flushing the prepare producer")?;
    if let Some(f) = acks.failure() {
        bail!("prepare: {f}");
    }
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "prepare: {} records of {} B in {:.1} s ({:.0} records/s)",
        acks.acked(),
        args.size,
        seconds,
        acks.acked() as f64 / seconds
    );
    Ok(serde_json::to_string(&PrepareResult {
        topic: args.topic.clone(),
        records: acks.acked(),
        size: args.size,
        partitions: args.partitions,
        seconds,
    })?)
}
