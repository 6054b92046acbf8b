//! The flows benchmark (`bench/flows.sh`): Avro orders in the Confluent wire format through
//! `weft_route::FlowProcessor` on the `weft-kafka` loop — decode + encode only, the 12-field
//! transform, and the transform with a 3-route fan-out — from the flow files of `bench/flows/`.
//!
//! Every run works out, before it starts, how many records each destination must receive (the
//! generated orders run through the flow's own engine, `Flow::decide`), and ends only when the
//! producer has delivered exactly that many to each; a run that dead-letters anything fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};
use serde::Serialize;
use serde_json::json;
use tokio_util::sync::CancellationToken;
use weft_kafka::wait::{TransientWait, WaitOnTransient};
use weft_kafka::{DeliveryMode, KafkaConfig, KafkaMetrics};
use weft_route::engine::Decision;
use weft_route::spec::FlowSpec;
use weft_route::{Catalog, Flow, FlowMetrics, FlowProcessor};
use weft_schema::codec::{Codec, JsonOptions, Value};
use weft_schema::{RegistryClientConfig, SchemaCache};

use crate::common::{
    create_topic, delete_topics, peak_rss_mib, producer_config, send_or_wait, unique, AckContext,
    Acks,
};
use crate::results::{client_cpu_between, client_thread_cpu, cpu_seconds};
use crate::weft::Counting;

/// The input schema's full name (a file under `bench/flows/schemas/`).
pub const INPUT_SCHEMA: &str = "io.weft.bench.Order";
/// The header carrying a record's send time (ns since the epoch) in latency runs.
pub const SENT_HEADER: &str = "x-sent-ns";

const CITIES: [&str; 10] = [
    "Berlin", "Paris", "Madrid", "Rome", "Vienna", "New York", "Chicago", "Denver", "Tokyo",
    "Sydney",
];
const CHANNELS: [&str; 4] = ["web", "app", "api", "store"];
const STATUSES: [&str; 4] = ["NEW", "PAID", "SHIPPED", "CANCELLED"];

/// Order number `i` of a run: deterministic, varied so that the routes split (half to EU
/// cities, 30 % US, 20 % elsewhere, 10 % high value).
pub fn order_json(i: u64) -> serde_json::Value {
    let city = CITIES[(i % 10) as usize];
    json!({
        "order_id": format!("ord-{i:010}"),
        "customer_id": format!("cust-{:06}", (i * 2_654_435_761) % 100_000),
        "sku": format!("SKU-{:05}", (i * 7) % 50_000),
        "channel": CHANNELS[(i % 4) as usize],
        "quantity": 1 + (i % 9) as i64,
        "unit_price_cents": ((i / 10) * 7_919 % 100_000) as i64,
        "sequence": i as i64,
        "status": STATUSES[((i / 3) % 4) as usize],
        "created_at": 1_763_800_000_000_i64 + i as i64,
        "ship_to": {"street": format!("{} Main Street", i % 997), "city": city, "postcode": format!("{:05}", i % 99_999)},
        "version": 1,
        "note": if i.is_multiple_of(5) { json!({"string": "leave at the door"}) } else { serde_json::Value::Null },
    })
}

/// The record key of order `i`: its customer.
pub fn order_key(i: u64) -> String {
    format!("cust-{:06}", (i * 2_654_435_761) % 100_000)
}

/// The flow files and schemas (`bench/flows/`).
pub fn flows_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("flows")
}

pub fn schema_text(name: &str) -> Result<String> {
    let path = flows_dir().join("schemas").join(format!("{name}.avsc"));
    std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
}

/// Loads `bench/flows/<name>.toml` with `@IN@`/`@OUT@` replaced by the run's topics.
pub fn load_flow(name: &str, input: &str, out: &str) -> Result<Flow> {
    let file = flows_dir().join(format!("{name}.toml"));
    let text = std::fs::read_to_string(&file)
        .with_context(|| format!("reading {}", file.display()))?
        .replace("@IN@", input)
        .replace("@OUT@", out);
    let spec: FlowSpec =
        toml::from_str(&text).with_context(|| format!("parsing {}", file.display()))?;
    // Every schema of bench/flows/schemas/, by full name (the file name); no topic contracts.
    let mut catalog = Catalog::default();
    let dir = flows_dir().join("schemas");
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".avsc"))
        {
            catalog.schemas.insert(name.to_string(), schema_text(name)?);
        }
    }
    weft_route::flow::compile(&file, &text, spec, name, &catalog)
        .map_err(|e| anyhow::anyhow!("{}: {}", file.display(), e.join("; ")))
}

/// How many records each destination receives from orders `0..records`, by the flow's own
/// engine; fails if any order would be dead-lettered or filtered.
pub fn expected_outputs(flow: &Flow, records: u64) -> Result<BTreeMap<String, u64>> {
    let codec = &flow.input.codec;
    let mut out: BTreeMap<String, u64> = flow
        .destinations()
        .iter()
        .map(|t| (t.to_string(), 0))
        .collect();
    for i in 0..records {
        let v = codec.from_json(&order_json(i), &JsonOptions::default())?;
        match flow.decide(v, &vrl::value::Value::Null) {
            Ok(Decision::Routed { outputs, .. }) => {
                for o in outputs {
                    *out.entry(o.topic.to_string()).or_default() += 1;
                }
            }
            Ok(Decision::Filtered { by }) => bail!("order {i} would be filtered by the {by}"),
            Err(e) => bail!("order {i} would be dead-lettered: {e}"),
        }
    }
    Ok(out)
}

pub fn registry(url: &str) -> Result<Arc<SchemaCache>> {
    Ok(Arc::new(SchemaCache::from_config(&RegistryClientConfig {
        url: url.into(),
        ..RegistryClientConfig::default()
    })?))
}

/// Registers the input schema under `<topic>-value`: its codec and id.
pub async fn input_schema(registry_url: &str, topic: &str) -> Result<(Codec, u32)> {
    let text = schema_text(INPUT_SCHEMA)?;
    let id = registry(registry_url)?
        .register(&format!("{topic}-value"), &text)
        .await
        .context("registering the input schema")?;
    Ok((Codec::parse(&text, &[])?, id))
}

/// Order `i` in the Confluent wire format.
pub fn order_bytes(codec: &Codec, id: u32, i: u64) -> Result<Vec<u8>> {
    let v: Value = codec.from_json(&order_json(i), &JsonOptions::default())?;
    Ok(codec.encode_framed(id, &v)?)
}

#[derive(Debug, Args)]
pub struct FlowPrepareArgs {
    /// The topic to create and fill
    #[arg(long)]
    pub topic: String,
    #[arg(long, default_value_t = 1_000_000)]
    pub records: u64,
    #[arg(long, default_value_t = 6)]
    pub partitions: i32,
    /// The schema registry the input schema is registered with
    #[arg(long)]
    pub registry: String,
}

/// `flow-prepare`: registers the input schema and writes `records` orders.
pub async fn prepare(kafka: &KafkaConfig, args: FlowPrepareArgs) -> Result<()> {
    if !create_topic(kafka, &args.topic, args.partitions).await? {
        bail!("topic {} already exists", args.topic);
    }
    let (codec, id) = input_schema(&args.registry, &args.topic).await?;
    let kafka = kafka.clone();
    let started = Instant::now();
    let (topic, count) = (args.topic.clone(), args.records);
    let (records, bytes) = tokio::task::spawn_blocking(move || -> Result<(u64, u64)> {
        let acks = Arc::new(Acks::new(None));
        let producer: ThreadedProducer<AckContext> = producer_config(&kafka, "flow-prepare")
            .create_with_context(AckContext(acks.clone()))?;
        let mut bytes = 0u64;
        for i in 0..count {
            let value = order_bytes(&codec, id, i)?;
            bytes += value.len() as u64;
            let key = order_key(i);
            send_or_wait(
                &producer,
                BaseRecord::<str, [u8]>::to(&topic)
                    .key(key.as_str())
                    .payload(&value[..]),
            )?;
        }
        producer.flush(Duration::from_secs(60))?;
        if let Some(f) = acks.failure() {
            bail!("prepare: {f}");
        }
        Ok((acks.acked(), bytes))
    })
    .await??;
    println!(
        "{}",
        json!({"topic": args.topic, "records": records, "bytes": bytes,
               "mean_size": bytes as f64 / records.max(1) as f64,
               "partitions": args.partitions, "seconds": started.elapsed().as_secs_f64(),
               "schema_id": id})
    );
    Ok(())
}

#[derive(Debug, Args)]
pub struct FlowRunArgs {
    /// A flow of bench/flows/ (file name without .toml): codec, transform or fanout
    #[arg(long)]
    pub flow: String,
    /// A topic filled by `flow-prepare`
    #[arg(long)]
    pub input: String,
    /// Orders in the input
    #[arg(long)]
    pub records: u64,
    #[arg(long)]
    pub registry: String,
    /// Exactly-once (transactions); at-least-once otherwise
    #[arg(long)]
    pub eos: bool,
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    #[arg(long, default_value_t = 100)]
    pub commit_interval_ms: u64,
    #[arg(long, default_value_t = 6)]
    pub partitions: i32,
    #[arg(long)]
    pub broker_pid: Option<String>,
    #[arg(long, default_value_t = 600)]
    pub timeout_s: u64,
}

/// One `flow-run`.
#[derive(Debug, Serialize)]
pub struct FlowRunResult {
    pub flow: String,
    pub mode: &'static str,
    pub records: u64,
    pub outputs: u64,
    /// Records delivered to each destination (the topic without the run's prefix), each
    /// checked against what the flow's engine says it must be.
    pub destinations: BTreeMap<String, u64>,
    pub bytes: u64,
    pub seconds: f64,
    pub records_per_s: f64,
    pub mb_per_s: f64,
    pub peak_rss_mib: f64,
    /// CPU of this process from just before the loop started to its clean stop.
    pub cpu_s: f64,
    pub cpu_us_per_record: f64,
    /// Of `cpu_s`, what librdkafka's own threads used until the last output was delivered.
    pub client_cpu_s: f64,
    /// `cpu_s` less `client_cpu_s`, per input record: the threads running Weft's code
    /// (librdkafka's produce and poll calls made from them included).
    pub weft_cpu_us_per_record: f64,
    pub broker_cpu_s: Option<f64>,
}

/// The processor `weft_route::run_flow` runs: a [`FlowProcessor`] (output schemas registered
/// under every destination's subject) with the flow metrics, waiting in place on a registry
/// that is away.
pub async fn flow_processor(
    flow: Arc<Flow>,
    registry_url: &str,
    eos: bool,
    metrics: Option<FlowMetrics>,
    shutdown: &CancellationToken,
) -> Result<WaitOnTransient<FlowProcessor>> {
    let processor = FlowProcessor::prepare(flow, registry(registry_url)?, metrics)
        .await
        .map_err(anyhow::Error::msg)?;
    let mode = if eos {
        DeliveryMode::ExactlyOnce
    } else {
        DeliveryMode::AtLeastOnce
    };
    let wait = TransientWait::for_mode(mode, Duration::from_secs(60), Duration::from_secs(30));
    Ok(WaitOnTransient::new(
        processor,
        wait,
        "the schema registry",
        shutdown.clone(),
    ))
}

/// The loop options of a benchmark flow: the file's, with the run's mode and settings.
pub fn loop_options(
    flow: &Flow,
    eos: bool,
    concurrency: usize,
    commit_interval_ms: u64,
) -> weft_kafka::ConsumerOptions {
    let mut o = weft_route::options::consumer_options(
        &flow.name,
        &flow.spec,
        "bench",
        Duration::from_secs(30),
    );
    o.group_id = unique("weft-bench-flow");
    o.concurrency = concurrency;
    o.max_in_flight = 10_000;
    o.commit_interval = Duration::from_millis(commit_interval_ms);
    o.auto_offset_reset = "earliest".into();
    if eos {
        o.mode = DeliveryMode::ExactlyOnce;
        o.transactional_id = Some(unique("weft-bench-flow-tx"));
    } else {
        o.mode = DeliveryMode::AtLeastOnce;
    }
    o
}

/// `flow-run`: the flow over every order of the input; prints one JSON line.
pub async fn run(kafka: &KafkaConfig, args: FlowRunArgs) -> Result<()> {
    let out = unique("weft-bench-flow-out");
    let flow = Arc::new(load_flow(&args.flow, &args.input, &out)?);
    let expected = expected_outputs(&flow, args.records)?;
    let dlq = flow.spec.errors.topic.clone();
    let mut topics: Vec<String> = expected.keys().cloned().collect();
    topics.push(dlq.clone());
    for t in &topics {
        create_topic(kafka, t, args.partitions).await?;
    }
    let prefix = format!("{out}.");
    let result = measure(kafka, &args, flow, &expected, &dlq, &prefix).await;
    delete_topics(kafka, &topics).await?;
    println!("{}", serde_json::to_string(&result?)?);
    Ok(())
}

async fn measure(
    kafka: &KafkaConfig,
    args: &FlowRunArgs,
    flow: Arc<Flow>,
    expected: &BTreeMap<String, u64>,
    dlq: &str,
    prefix: &str,
) -> Result<FlowRunResult> {
    let prom = prometheus::Registry::new();
    let metrics = KafkaMetrics::register(&prom)?;
    let flow_metrics = FlowMetrics::register(&prom)?;
    let routed = flow_metrics
        .events
        .get_metric_with_label_values(&[&flow.name, "routed"])?;
    let counters = expected
        .keys()
        .map(|t| {
            metrics
                .produced
                .get_metric_with_label_values(&[weft_route::SERVICE, t])
                .context("the produced counter")
        })
        .collect::<Result<Vec<_>>>()?;
    let dead = metrics
        .produced
        .get_metric_with_label_values(&[weft_route::SERVICE, dlq])?;
    let total: u64 = expected.values().sum();
    let shutdown = CancellationToken::new();
    let processor = flow_processor(
        flow.clone(),
        &args.registry,
        args.eos,
        Some(flow_metrics),
        &shutdown,
    )
    .await?;
    let processor = Arc::new(Counting::new(processor));
    let opts = loop_options(&flow, args.eos, args.concurrency, args.commit_interval_ms);
    let broker_before = args.broker_pid.as_deref().map(cpu_seconds).transpose()?;
    let cpu_before = cpu_seconds("self")?;
    let client_before = client_thread_cpu()?;
    let mut handle = {
        let (kafka, p, s) = (kafka.clone(), processor.clone(), shutdown.clone());
        tokio::spawn(
            async move { weft_kafka::consumer::run(&kafka, opts, p, Some(metrics), s).await },
        )
    };
    let deadline = Instant::now() + Duration::from_secs(args.timeout_s);
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    let mut last = None;
    let mut ended = None;
    while Instant::now() < deadline {
        tokio::select! {
            j = &mut handle => { ended = Some(j); break; }
            _ = tick.tick() => {
                if dead.get() > 0 {
                    break;
                }
                if counters.iter().map(|c| c.get()).sum::<u64>() >= total {
                    last = Some(Instant::now());
                    break;
                }
            }
        }
    }
    // Before the stop, while librdkafka's threads still exist.
    let client_cpu_s = client_cpu_between(&client_before, &client_thread_cpu()?);
    shutdown.cancel();
    let joined = match ended {
        Some(j) => j,
        None => handle.await,
    };
    joined.context("the flow loop task")??;
    let cpu_s = cpu_seconds("self")? - cpu_before;
    let broker_cpu_s = match (&args.broker_pid, broker_before) {
        (Some(pid), Some(b)) => Some(cpu_seconds(pid)? - b),
        _ => None,
    };
    if dead.get() > 0 {
        bail!("{}: {} records dead-lettered", args.flow, dead.get());
    }
    // Every input record went through the flow (an EOS run may process a record again after
    // an aborted transaction, never fewer times).
    if routed.get() < args.records {
        bail!(
            "{}: the flow routed {} of {} records",
            args.flow,
            routed.get(),
            args.records
        );
    }
    for ((topic, want), c) in expected.iter().zip(&counters) {
        if c.get() != *want {
            bail!(
                "{}: {topic} got {} records, expected {want}",
                args.flow,
                c.get()
            );
        }
    }
    let (Some(first), Some(last)) = (processor.first.get().copied(), last) else {
        bail!(
            "{}: the run did not complete within {} s",
            args.flow,
            args.timeout_s
        );
    };
    let seconds = last.duration_since(first).as_secs_f64();
    let bytes = processor.bytes.load(Ordering::Relaxed);
    Ok(FlowRunResult {
        flow: args.flow.clone(),
        mode: if args.eos {
            "exactly_once"
        } else {
            "at_least_once"
        },
        records: args.records,
        outputs: total,
        destinations: expected
            .iter()
            .map(|(t, n)| (t.strip_prefix(prefix).unwrap_or(t).to_string(), *n))
            .collect(),
        bytes,
        seconds,
        records_per_s: args.records as f64 / seconds,
        mb_per_s: bytes as f64 / 1e6 / seconds,
        peak_rss_mib: peak_rss_mib()?,
        cpu_s,
        cpu_us_per_record: cpu_s * 1e6 / args.records as f64,
        client_cpu_s,
        weft_cpu_us_per_record: (cpu_s - client_cpu_s) * 1e6 / args.records as f64,
        broker_cpu_s,
    })
}

/// Headers of a latency record: its send time.
pub fn sent_header(ns: u64) -> OwnedHeaders {
    OwnedHeaders::new().insert(Header {
        key: SENT_HEADER,
        value: Some(&ns.to_be_bytes()[..]),
    })
}
