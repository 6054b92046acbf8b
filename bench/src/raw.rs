//! Variant (a), the baseline: the simplest fast rdkafka pass-through. One thread polls a
//! `BaseConsumer` and hands each borrowed message to a `ThreadedProducer` without waiting;
//! delivery reports are counted in the producer's context. Offsets are auto-stored on poll
//! and auto-committed (not at-least-once: that is what the weft loop adds).

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};
use rdkafka::Message;
use tokio_util::sync::CancellationToken;
use weft_kafka::{KafkaConfig, Role};

use crate::common::{producer_config, send_or_wait, unique, AckContext, Acks, Outcome};

/// Forwards `input` to `output` until `target` records are acknowledged (or `stop`).
pub fn run(
    kafka: &KafkaConfig,
    input: &str,
    output: &str,
    target: Option<u64>,
    stop: &CancellationToken,
) -> Result<Outcome> {
    let mut cc = kafka.client_config(Role::Consumer, "raw");
    cc.set("group.id", unique("weft-bench-raw"));
    cc.set("auto.offset.reset", "earliest");
    cc.set("enable.auto.commit", "true");
    cc.set("enable.partition.eof", "false");
    // The prefetch settings the weft loop uses (see weft_kafka's poller): with librdkafka's
    // defaults a consumer of small records stalls for `fetch.queue.backoff.ms` (1 s) whenever
    // its queue holds `queued.min.messages`, and the baseline would measure that, not rdkafka.
    for (k, v) in [
        ("fetch.queue.backoff.ms", "10"),
        ("queued.max.messages.kbytes", "16384"),
    ] {
        if cc.get(k).is_none() {
            cc.set(k, v);
        }
    }
    let consumer: BaseConsumer = cc.create().context("creating the raw consumer")?;
    consumer
        .subscribe(&[input])
        .with_context(|| format!("subscribing to {input}"))?;
    let acks = Arc::new(Acks::new(target));
    let producer: ThreadedProducer<AckContext> = producer_config(kafka, "raw")
        .create_with_context(AckContext(acks.clone()))
        .context("creating the raw producer")?;

    let limit = target.unwrap_or(u64::MAX);
    let mut out = Outcome::default();
    let mut consumed = 0u64;
    while consumed < limit && !stop.is_cancelled() {
        let Some(polled) = consumer.poll(Duration::from_millis(100)) else {
            continue;
        };
        let m = match polled {
            Ok(m) => m,
            Err(e) => {
                eprintln!("raw: consumer error: {e}");
                continue;
            }
        };
        if out.first.is_none() {
            out.first = Some(std::time::Instant::now());
        }
        let mut rec = BaseRecord::<[u8], [u8]>::to(output);
        if let Some(k) = m.key() {
            rec = rec.key(k);
        }
        if let Some(p) = m.payload() {
            rec = rec.payload(p);
        }
        if let Some(h) = m.headers() {
            rec = rec.headers(h.detach());
        }
        send_or_wait(&producer, rec)?;
        consumed += 1;
        out.bytes += m.payload_len() as u64;
        if consumed.is_multiple_of(10_000) {
            if let Some(f) = acks.failure() {
                anyhow::bail!("raw: {f}");
            }
        }
    }
    producer
        .flush(Duration::from_secs(60))
        .context("flushing the raw producer")?;
    if let Some(f) = acks.failure() {
        anyhow::bail!("raw: {f}");
    }
    out.records = acks.acked();
    out.last = acks.reached();
    Ok(out)
}
