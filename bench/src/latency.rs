//! `latency`: end-to-end latency under a paced load below saturation. A paced producer writes
//! records stamped with their send time; the variant forwards them; a separate reader
//! (`read_committed`) on the output topic records `now - send time`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use hdrhistogram::Histogram;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};
use rdkafka::Message;
use tokio_util::sync::CancellationToken;
use weft_kafka::{KafkaConfig, Role};

use crate::common::{
    create_topic, delete_topics, keys, now_ns, payload_buffer, producer_config, send_or_wait,
    unique, AckContext, Acks, KEYS,
};
use crate::pipeline::{self, Variant, WeftSettings};
use crate::results::LatencyResult;

/// How long the pipeline may take to carry its first (probe) record.
const WARM_UP: Duration = Duration::from_secs(60);
/// How long the reader may lag behind the end of the paced load.
const TAIL: Duration = Duration::from_secs(60);

#[derive(Debug, Args)]
pub struct LatencyArgs {
    #[arg(long, value_enum)]
    pub variant: Variant,
    /// Records per second written to the input
    #[arg(long, default_value_t = 20_000)]
    pub rate: u64,
    /// Length of the paced load
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    /// Value size in bytes
    #[arg(long, default_value_t = 512)]
    pub size: usize,
    /// Partitions of the input and output topics
    #[arg(long, default_value_t = 6)]
    pub partitions: i32,
    /// Keep the two topics afterwards
    #[arg(long)]
    pub keep_topics: bool,
    #[command(flatten)]
    pub weft: WeftSettings,
}

pub async fn run(kafka: &KafkaConfig, args: LatencyArgs) -> Result<()> {
    let input = unique("weft-bench-lat-in");
    let output = unique("weft-bench-lat-out");
    create_topic(kafka, &input, args.partitions).await?;
    create_topic(kafka, &output, args.partitions).await?;
    let result = measure(kafka, &args, &input, &output).await;
    if !args.keep_topics {
        delete_topics(kafka, &[input, output]).await?;
    }
    println!("{}", serde_json::to_string(&result?)?);
    Ok(())
}

async fn measure(
    kafka: &KafkaConfig,
    args: &LatencyArgs,
    input: &str,
    output: &str,
) -> Result<LatencyResult> {
    let stop_pipeline = CancellationToken::new();
    let pipe = pipeline::spawn(
        args.variant,
        kafka,
        &args.weft,
        input,
        output,
        None,
        stop_pipeline.clone(),
    );
    let expected = args.rate * args.seconds;
    let probe_seen = Arc::new(AtomicBool::new(false));
    let stop_reader = CancellationToken::new();
    let mut reader = {
        let (kafka, output) = (kafka.clone(), output.to_string());
        let (seen, stop) = (probe_seen.clone(), stop_reader.clone());
        tokio::task::spawn_blocking(move || read(&kafka, &output, expected, &seen, &stop))
    };
    let paced = {
        let (kafka, input) = (kafka.clone(), input.to_string());
        let (rate, seconds, size) = (args.rate, args.seconds, args.size);
        let seen = probe_seen.clone();
        tokio::task::spawn_blocking(move || pace(&kafka, &input, rate, seconds, size, &seen))
    };
    let paced = paced.await.context("the paced producer task failed");
    let reading = match &paced {
        Ok(Ok(_)) => {
            tokio::select! {
                r = &mut reader => r,
                _ = tokio::time::sleep(TAIL) => {
                    stop_reader.cancel();
                    reader.await
                }
            }
        }
        _ => {
            stop_reader.cancel();
            reader.await
        }
    };
    stop_pipeline.cancel();
    pipe.await.context("the pipeline task failed")??;
    let (sent, send_seconds) = paced??;
    let hist = reading.context("the reader task failed")??;
    let received = hist.len();
    if received == 0 {
        bail!("{:?}: no record reached the output", args.variant);
    }
    let ms = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
    Ok(LatencyResult {
        variant: args.variant,
        concurrency: (args.variant != Variant::Raw).then_some(args.weft.concurrency),
        rate: args.rate,
        achieved_rate: sent as f64 / send_seconds,
        sent,
        received,
        p50_ms: ms(0.5),
        p90_ms: ms(0.9),
        p99_ms: ms(0.99),
        p999_ms: ms(0.999),
        max_ms: hist.max() as f64 / 1000.0,
    })
}

/// Sends probes (send time 0) until one comes out of the pipeline, then `rate` records a
/// second for `seconds`, each stamped with its send time. Returns (records, seconds taken).
fn pace(
    kafka: &KafkaConfig,
    topic: &str,
    rate: u64,
    seconds: u64,
    size: usize,
    probe_seen: &AtomicBool,
) -> Result<(u64, f64)> {
    let acks = Arc::new(Acks::new(None));
    let producer: ThreadedProducer<AckContext> = producer_config(kafka, "paced")
        .create_with_context(AckContext(acks.clone()))
        .context("creating the paced producer")?;
    let keys = keys();
    let mut buf = payload_buffer(size)?;
    buf[..8].fill(0);
    let warm_up = Instant::now();
    while !probe_seen.load(Ordering::Acquire) {
        if warm_up.elapsed() > WARM_UP {
            bail!(
                "no probe record came through the pipeline within {} s",
                WARM_UP.as_secs()
            );
        }
        send_or_wait(
            &producer,
            BaseRecord::<str, [u8]>::to(topic)
                .key("probe")
                .payload(&buf[..]),
        )?;
        std::thread::sleep(Duration::from_millis(100));
    }
    let total = rate * seconds;
    let started = Instant::now();
    let mut sent = 0u64;
    while sent < total {
        let due = ((started.elapsed().as_secs_f64() * rate as f64) as u64).min(total);
        while sent < due {
            buf[..8].copy_from_slice(&now_ns().to_be_bytes());
            let key = &keys[(sent % KEYS) as usize];
            send_or_wait(
                &producer,
                BaseRecord::<str, [u8]>::to(topic)
                    .key(key.as_str())
                    .payload(&buf[..]),
            )?;
            sent += 1;
        }
        std::thread::sleep(Duration::from_micros(500));
    }
    let took = started.elapsed().as_secs_f64();
    producer
        .flush(Duration::from_secs(60))
        .context("flushing the paced producer")?;
    if let Some(f) = acks.failure() {
        bail!("paced producer: {f}");
    }
    Ok((sent, took))
}

/// Reads the output until `expected` stamped records arrived (or `stop`); flags the first probe.
fn read(
    kafka: &KafkaConfig,
    topic: &str,
    expected: u64,
    probe_seen: &AtomicBool,
    stop: &CancellationToken,
) -> Result<Histogram<u64>> {
    let mut c = kafka.client_config(Role::Consumer, "reader");
    c.set("group.id", unique("weft-bench-reader"));
    c.set("auto.offset.reset", "earliest");
    c.set("isolation.level", "read_committed");
    c.set("enable.auto.commit", "false");
    c.set("enable.partition.eof", "false");
    let consumer: BaseConsumer = c.create().context("creating the reader")?;
    consumer
        .subscribe(&[topic])
        .with_context(|| format!("subscribing to {topic}"))?;
    // Microseconds, from 1 µs to one hour, 3 significant digits.
    let mut hist = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3)
        .map_err(|e| anyhow!("creating the histogram: {e:?}"))?;
    while hist.len() < expected && !stop.is_cancelled() {
        let Some(polled) = consumer.poll(Duration::from_millis(100)) else {
            continue;
        };
        let m = match polled {
            Ok(m) => m,
            Err(e) => {
                eprintln!("reader: consumer error: {e}");
                continue;
            }
        };
        let Some(stamp) = m.payload().and_then(|p| p.first_chunk::<8>()) else {
            continue;
        };
        let sent = u64::from_be_bytes(*stamp);
        if sent == 0 {
            probe_seen.store(true, Ordering::Release);
            continue;
        }
        hist.saturating_record((now_ns().saturating_sub(sent) / 1000).max(1));
    }
    Ok(hist)
}
