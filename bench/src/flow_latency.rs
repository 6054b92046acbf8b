//! `flow-latency`: end-to-end latency of a benchmark flow (or of the raw rdkafka loop over the
//! same Avro orders) under a paced load. Each order carries its send time in a header that the
//! flow copies to every output; a `read_committed` reader of every destination records
//! `now - send time`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use hdrhistogram::Histogram;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Headers as _;
use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};
use rdkafka::Message;
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use weft_kafka::{KafkaConfig, Role};
use weft_route::engine::Decision;
use weft_schema::codec::JsonOptions;

use crate::common::{
    create_topic, delete_topics, now_ns, producer_config, send_or_wait, unique, AckContext, Acks,
};
use crate::flows::{
    flow_processor, input_schema, load_flow, loop_options, order_bytes, order_json, order_key,
    sent_header, SENT_HEADER,
};

/// Distinct orders the paced producer cycles through.
const DISTINCT: u64 = 10_000;
const WARM_UP: Duration = Duration::from_secs(60);
const TAIL: Duration = Duration::from_secs(60);

#[derive(Debug, Args)]
pub struct FlowLatencyArgs {
    /// A flow of bench/flows/, or `raw` for the raw rdkafka loop
    #[arg(long)]
    pub flow: String,
    #[arg(long)]
    pub registry: String,
    #[arg(long)]
    pub rate: u64,
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    #[arg(long)]
    pub eos: bool,
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    #[arg(long, default_value_t = 100)]
    pub commit_interval_ms: u64,
    #[arg(long, default_value_t = 6)]
    pub partitions: i32,
}

#[derive(Debug, Serialize)]
pub struct FlowLatencyResult {
    pub flow: String,
    pub mode: &'static str,
    pub rate: u64,
    pub achieved_rate: f64,
    pub sent: u64,
    pub expected_outputs: u64,
    pub received: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

pub async fn run(kafka: &KafkaConfig, args: FlowLatencyArgs) -> Result<()> {
    let input = unique("weft-bench-flowlat-in");
    let out = unique("weft-bench-flowlat-out");
    create_topic(kafka, &input, args.partitions).await?;
    let mut topics = vec![input.clone()];
    let result = measure(kafka, &args, &input, &out, &mut topics).await;
    delete_topics(kafka, &topics).await?;
    println!("{}", serde_json::to_string(&result?)?);
    Ok(())
}

async fn measure(
    kafka: &KafkaConfig,
    args: &FlowLatencyArgs,
    input: &str,
    out: &str,
    topics: &mut Vec<String>,
) -> Result<FlowLatencyResult> {
    let (codec, id) = input_schema(&args.registry, input).await?;
    let values: Vec<Vec<u8>> = (0..DISTINCT)
        .map(|i| order_bytes(&codec, id, i))
        .collect::<Result<_>>()?;
    let stop = CancellationToken::new();
    // Outputs per distinct order, and the loop under test.
    let (per_order, destinations, pipeline) = if args.flow == "raw" {
        let output = format!("{out}.all");
        create_topic(kafka, &output, args.partitions).await?;
        topics.push(output.clone());
        let (kafka, input, o, s) = (
            kafka.clone(),
            input.to_string(),
            output.clone(),
            stop.clone(),
        );
        let h = tokio::task::spawn_blocking(move || {
            crate::raw::run(&kafka, &input, &o, None, &s).map(|_| ())
        });
        (vec![1u64; DISTINCT as usize], vec![output], h)
    } else {
        let flow = Arc::new(load_flow(&args.flow, input, out)?);
        let per_order = (0..DISTINCT)
            .map(|i| -> Result<u64> {
                let v = flow
                    .input
                    .codec
                    .from_json(&order_json(i), &JsonOptions::default())?;
                match flow.decide(v, &vrl::value::Value::Null) {
                    Ok(Decision::Routed { outputs, .. }) => Ok(outputs.len() as u64),
                    _ => bail!("order {i} is not routed"),
                }
            })
            .collect::<Result<Vec<_>>>()?;
        let destinations: Vec<String> = flow.destinations().iter().map(|t| t.to_string()).collect();
        for t in destinations.iter().chain([&flow.spec.errors.topic]) {
            create_topic(kafka, t, args.partitions).await?;
            topics.push(t.clone());
        }
        let processor = flow_processor(flow.clone(), &args.registry, args.eos, None, &stop).await?;
        let opts = loop_options(&flow, args.eos, args.concurrency, args.commit_interval_ms);
        let (kafka, s) = (kafka.clone(), stop.clone());
        let h = tokio::spawn(async move {
            weft_kafka::consumer::run(&kafka, opts, Arc::new(processor), None, s)
                .await
                .map_err(anyhow::Error::from)
        });
        (per_order, destinations, h)
    };
    let total = args.rate * args.seconds;
    let expected: u64 = (0..total).map(|i| per_order[(i % DISTINCT) as usize]).sum();
    let seen = Arc::new(AtomicBool::new(false));
    let stop_reader = CancellationToken::new();
    let mut reader = {
        let (kafka, seen, s) = (kafka.clone(), seen.clone(), stop_reader.clone());
        tokio::task::spawn_blocking(move || read(&kafka, &destinations, expected, &seen, &s))
    };
    let paced = {
        let (kafka, input, seen) = (kafka.clone(), input.to_string(), seen.clone());
        let (rate, seconds) = (args.rate, args.seconds);
        tokio::task::spawn_blocking(move || pace(&kafka, &input, &values, rate, seconds, &seen))
    };
    let paced = paced.await.context("the paced producer task failed");
    let hist = if matches!(paced, Ok(Ok(_))) {
        tokio::select! {
            r = &mut reader => r,
            _ = tokio::time::sleep(TAIL) => { stop_reader.cancel(); reader.await }
        }
    } else {
        stop_reader.cancel();
        reader.await
    };
    stop.cancel();
    pipeline.await.context("the loop task failed")??;
    let (sent, took) = paced??;
    let hist = hist.context("the reader task failed")??;
    if hist.len() < expected {
        bail!(
            "{}: {} of {expected} outputs arrived",
            args.flow,
            hist.len()
        );
    }
    let ms = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
    Ok(FlowLatencyResult {
        flow: args.flow.clone(),
        mode: if args.flow == "raw" {
            "raw"
        } else if args.eos {
            "exactly_once"
        } else {
            "at_least_once"
        },
        rate: args.rate,
        achieved_rate: sent as f64 / took,
        sent,
        expected_outputs: expected,
        received: hist.len(),
        p50_ms: ms(0.5),
        p90_ms: ms(0.9),
        p99_ms: ms(0.99),
        p999_ms: ms(0.999),
        max_ms: hist.max() as f64 / 1000.0,
    })
}

/// Probes (send time 0) until one comes through, then `rate` orders a second for `seconds`.
fn pace(
    kafka: &KafkaConfig,
    topic: &str,
    values: &[Vec<u8>],
    rate: u64,
    seconds: u64,
    seen: &AtomicBool,
) -> Result<(u64, f64)> {
    let acks = Arc::new(Acks::new(None));
    let producer: ThreadedProducer<AckContext> = producer_config(kafka, "flow-paced")
        .create_with_context(AckContext(acks.clone()))
        .context("creating the paced producer")?;
    let warm_up = Instant::now();
    while !seen.load(Ordering::Acquire) {
        if warm_up.elapsed() > WARM_UP {
            bail!("no probe came through within {} s", WARM_UP.as_secs());
        }
        send_or_wait(
            &producer,
            BaseRecord::<str, [u8]>::to(topic)
                .key("probe")
                .payload(&values[0][..])
                .headers(sent_header(0)),
        )?;
        std::thread::sleep(Duration::from_millis(100));
    }
    let total = rate * seconds;
    let started = Instant::now();
    let mut sent = 0u64;
    while sent < total {
        let due = ((started.elapsed().as_secs_f64() * rate as f64) as u64).min(total);
        while sent < due {
            let j = sent % DISTINCT;
            let key = order_key(j);
            send_or_wait(
                &producer,
                BaseRecord::<str, [u8]>::to(topic)
                    .key(key.as_str())
                    .payload(&values[j as usize][..])
                    .headers(sent_header(now_ns())),
            )?;
            sent += 1;
        }
        std::thread::sleep(Duration::from_micros(500));
    }
    let took = started.elapsed().as_secs_f64();
    producer.flush(Duration::from_secs(60))?;
    if let Some(f) = acks.failure() {
        bail!("paced producer: {f}");
    }
    Ok((sent, took))
}

/// Reads every destination until `expected` stamped outputs arrived (or `stop`).
fn read(
    kafka: &KafkaConfig,
    topics: &[String],
    expected: u64,
    seen: &AtomicBool,
    stop: &CancellationToken,
) -> Result<Histogram<u64>> {
    let mut c = kafka.client_config(Role::Consumer, "flow-reader");
    c.set("group.id", unique("weft-bench-flow-reader"));
    c.set("auto.offset.reset", "earliest");
    c.set("isolation.level", "read_committed");
    c.set("enable.auto.commit", "false");
    let consumer: BaseConsumer = c.create().context("creating the reader")?;
    let names: Vec<&str> = topics.iter().map(String::as_str).collect();
    consumer.subscribe(&names)?;
    let mut hist = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3)
        .map_err(|e| anyhow!("creating the histogram: {e:?}"))?;
    while hist.len() < expected && !stop.is_cancelled() {
        let Some(polled) = consumer.poll(Duration::from_millis(100)) else {
            continue;
        };
        let Ok(m) = polled else {
            continue;
        };
        let stamp = m.headers().and_then(|h| {
            h.iter()
                .find(|h| h.key == SENT_HEADER)
                .and_then(|h| h.value)
                .and_then(|v| v.first_chunk::<8>().copied())
        });
        let Some(stamp) = stamp else { continue };
        let sent = u64::from_be_bytes(stamp);
        if sent == 0 {
            seen.store(true, Ordering::Release);
            continue;
        }
        hist.saturating_record((now_ns().saturating_sub(sent) / 1000).max(1));
    }
    Ok(hist)
}
