//! The three variants behind one entry point, and their flags.

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use weft_kafka::KafkaConfig;

use crate::common::Outcome;
use crate::{raw, weft};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Variant {
    /// (a) plain rdkafka consumer -> producer loop, the baseline
    Raw,
    /// (b) weft-kafka consumer loop + producer, at-least-once
    Loop,
    /// (c) weft-kafka consumer loop, exactly-once (Kafka transactions)
    Txn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProcessorKind {
    /// Emits each record unchanged (key, value, headers)
    Forward,
    /// weft_pipe::PipeProcessor (adds origin and traceparent headers)
    Pipe,
    /// Forward, except every tenth record of a partition (offset % 10 == 0) fails with a
    /// Permanent error and is dead-lettered to `<output>.dlq`
    FailTenth,
}

/// The dead-letter topic of a run with `processor` (only `fail-tenth` has one).
pub fn dead_letter_topic(processor: ProcessorKind, output: &str) -> Option<String> {
    (processor == ProcessorKind::FailTenth).then(|| format!("{output}.dlq"))
}

/// Settings of the weft variants (ignored by `raw`).
#[derive(Debug, Clone, Args)]
pub struct WeftSettings {
    /// Lanes of the weft loop
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Records consumed but not yet acknowledged, at most
    #[arg(long, default_value_t = 10_000)]
    pub max_in_flight: usize,
    /// Offset commit (or transaction commit) interval
    #[arg(long, default_value_t = 100)]
    pub commit_interval_ms: u64,
    /// The processor plugged into the loop
    #[arg(long, value_enum, default_value_t = ProcessorKind::Forward)]
    pub processor: ProcessorKind,
    /// Print the weft metrics (Prometheus text, librdkafka statistics included) to stderr at
    /// the end, for diagnosis
    #[arg(long)]
    pub dump_metrics: bool,
}

/// Starts `variant` forwarding `input` to `output`; it ends once `target` records are
/// acknowledged, or when `stop` is cancelled.
pub fn spawn(
    variant: Variant,
    kafka: &KafkaConfig,
    settings: &WeftSettings,
    input: &str,
    output: &str,
    target: Option<u64>,
    stop: CancellationToken,
) -> JoinHandle<Result<Outcome>> {
    let (kafka, settings) = (kafka.clone(), settings.clone());
    let (input, output) = (input.to_string(), output.to_string());
    match variant {
        Variant::Raw => tokio::task::spawn_blocking(move || {
            raw::run(&kafka, &input, &output, target, &stop).context("raw variant")
        }),
        Variant::Loop | Variant::Txn => tokio::spawn(async move {
            let eos = variant == Variant::Txn;
            weft::run(&kafka, &input, &output, &settings, eos, target, stop).await
        }),
    }
}
