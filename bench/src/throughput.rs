//! `run`: one variant forwards every record of a prepared topic; prints one JSON line.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;
use tokio_util::sync::CancellationToken;
use weft_kafka::KafkaConfig;

use crate::common::{create_topic, delete_topics, peak_rss_mib, unique};
use crate::pipeline::{self, Variant, WeftSettings};
use crate::results::{cpu_seconds, RunResult};

#[derive(Debug, Args)]
pub struct RunArgs {
    #[arg(long, value_enum)]
    pub variant: Variant,
    /// A topic filled by `prepare`
    #[arg(long)]
    pub input: String,
    /// The output topic (created when missing); a new unique one by default
    #[arg(long)]
    pub output: Option<String>,
    /// Records to forward (all of the input)
    #[arg(long)]
    pub records: u64,
    /// Partitions of the output topic when it is created
    #[arg(long, default_value_t = 6)]
    pub partitions: i32,
    /// Give up after this many seconds
    #[arg(long, default_value_t = 600)]
    pub timeout_s: u64,
    /// Partitions of the dead-letter topic (`fail-tenth`): as `topics/weft.dlq.toml` ships it
    #[arg(long, default_value_t = 3)]
    pub dead_letter_partitions: i32,
    /// Delete the output topic afterwards
    #[arg(long)]
    pub delete_output: bool,
    /// The broker's pid, to report the broker CPU used during the run (same machine only)
    #[arg(long)]
    pub broker_pid: Option<String>,
    #[command(flatten)]
    pub weft: WeftSettings,
}

pub async fn run(kafka: &KafkaConfig, args: RunArgs) -> Result<()> {
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| unique("weft-bench-out"));
    create_topic(kafka, &output, args.partitions).await?;
    let dead_letters = crate::pipeline::dead_letter_topic(args.weft.processor, &output)
        .filter(|_| args.variant != Variant::Raw);
    if let Some(d) = &dead_letters {
        create_topic(kafka, d, args.dead_letter_partitions).await?;
    }
    let broker_before = match &args.broker_pid {
        Some(pid) => Some(cpu_seconds(pid)?),
        None => None,
    };
    let stop = CancellationToken::new();
    let timer = {
        let stop = stop.clone();
        let timeout = Duration::from_secs(args.timeout_s);
        tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            stop.cancel();
        })
    };
    let outcome = pipeline::spawn(
        args.variant,
        kafka,
        &args.weft,
        &args.input,
        &output,
        Some(args.records),
        stop,
    )
    .await
    .context("the pipeline task failed")??;
    timer.abort();
    let broker_cpu_s = match (&args.broker_pid, broker_before) {
        (Some(pid), Some(before)) => Some(cpu_seconds(pid)? - before),
        _ => None,
    };
    if args.delete_output {
        delete_topics(kafka, std::slice::from_ref(&output)).await?;
        if let Some(d) = &dead_letters {
            delete_topics(kafka, std::slice::from_ref(d)).await?;
        }
    }
    if outcome.records < args.records {
        bail!(
            "{:?}: only {} of {} records forwarded after {} s (is {} filled?)",
            args.variant,
            outcome.records,
            args.records,
            args.timeout_s,
            args.input
        );
    }
    let (Some(first), Some(last)) = (outcome.first, outcome.last) else {
        bail!("{:?}: no measurement window was recorded", args.variant);
    };
    let seconds = last.duration_since(first).as_secs_f64();
    let weft = args.variant != Variant::Raw;
    let result = RunResult {
        variant: args.variant,
        concurrency: weft.then_some(args.weft.concurrency),
        processor: weft.then_some(args.weft.processor),
        commit_interval_ms: weft.then_some(args.weft.commit_interval_ms),
        records: outcome.records,
        bytes: outcome.bytes,
        seconds,
        records_per_s: outcome.records as f64 / seconds,
        mb_per_s: outcome.bytes as f64 / 1e6 / seconds,
        peak_rss_mib: peak_rss_mib()?,
        cpu_s: cpu_seconds("self")?,
        broker_cpu_s,
        round: None,
    };
    println!("{}", serde_json::to_string(&result)?);
    Ok(())
}
