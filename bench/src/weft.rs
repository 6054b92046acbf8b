//! Variants (b) and (c): `weft_kafka::consumer::run` with a forwarding processor, at-least-once
//! or exactly-once. Completion is seen on the `produced` counter of `KafkaMetrics`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tokio_util::sync::CancellationToken;
use weft_core::StageError;
use weft_kafka::{
    ConsumerOptions, DeliveryMode, Emitter, KafkaConfig, KafkaMetrics, OutRecord, Processor, Record,
};
use weft_pipe::PipeProcessor;

use crate::common::{unique, Outcome};
use crate::pipeline::{ProcessorKind, WeftSettings};

/// The service label of the benchmark's metrics and clients.
const SERVICE: &str = "bench";

/// Emits each record unchanged (key, value, headers, timestamp) to one topic.
pub struct Forward {
    to: String,
}

impl Processor for Forward {
    async fn process(&self, record: &Record, out: &mut Emitter) -> Result<(), StageError> {
        out.emit(OutRecord::forward(record, self.to.as_str()));
        Ok(())
    }
}

/// [`Forward`], failing every tenth record of a partition permanently (dead-lettered).
pub struct FailTenth {
    to: String,
}

impl Processor for FailTenth {
    async fn process(&self, record: &Record, out: &mut Emitter) -> Result<(), StageError> {
        if record.offset % 10 == 0 {
            return Err(StageError::new(
                weft_core::ErrorCode::TransformFailed,
                "refused by the benchmark (every tenth record)",
            ));
        }
        out.emit(OutRecord::forward(record, self.to.as_str()));
        Ok(())
    }
}

/// Wraps a processor to note the first record's arrival and count value bytes.
pub struct Counting<P> {
    inner: P,
    pub first: OnceLock<Instant>,
    pub bytes: AtomicU64,
}

impl<P> Counting<P> {
    pub fn new(inner: P) -> Self {
        Self {
            inner,
            first: OnceLock::new(),
            bytes: AtomicU64::new(0),
        }
    }
}

impl<P: Processor> Processor for Counting<P> {
    async fn process(&self, record: &Record, out: &mut Emitter) -> Result<(), StageError> {
        self.first.get_or_init(Instant::now);
        let len = record.value.as_ref().map_or(0, |v| v.len() as u64);
        self.bytes.fetch_add(len, Ordering::Relaxed);
        self.inner.process(record, out).await
    }
}

/// Runs the weft loop from `input` to `output` until `target` records are acknowledged (or
/// `stop`), then shuts it down cleanly (drain and final commit, outside the measured window).
pub async fn run(
    kafka: &KafkaConfig,
    input: &str,
    output: &str,
    settings: &WeftSettings,
    exactly_once: bool,
    target: Option<u64>,
    stop: CancellationToken,
) -> Result<Outcome> {
    match settings.processor {
        ProcessorKind::Forward => {
            let p = Forward { to: output.into() };
            run_with(
                kafka,
                input,
                output,
                settings,
                exactly_once,
                target,
                stop,
                p,
            )
            .await
        }
        ProcessorKind::FailTenth => {
            let p = FailTenth { to: output.into() };
            run_with(
                kafka,
                input,
                output,
                settings,
                exactly_once,
                target,
                stop,
                p,
            )
            .await
        }
        ProcessorKind::Pipe => {
            let p = PipeProcessor::new(output);
            run_with(
                kafka,
                input,
                output,
                settings,
                exactly_once,
                target,
                stop,
                p,
            )
            .await
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn run_with<P: Processor>(
    kafka: &KafkaConfig,
    input: &str,
    output: &str,
    settings: &WeftSettings,
    exactly_once: bool,
    target: Option<u64>,
    stop: CancellationToken,
    inner: P,
) -> Result<Outcome> {
    let registry = prometheus::Registry::new();
    let metrics = KafkaMetrics::register(&registry).context("registering metrics")?;
    let produced = metrics
        .produced
        .get_metric_with_label_values(&[SERVICE, output])
        .context("the produced counter")?;
    // Dead letters count as handled records too.
    let dead_letter_topic = crate::pipeline::dead_letter_topic(settings.processor, output);
    let dead = match &dead_letter_topic {
        Some(t) => Some(
            metrics
                .produced
                .get_metric_with_label_values(&[SERVICE, t])
                .context("the dead-letter counter")?,
        ),
        None => None,
    };
    let handled = move || produced.get() + dead.as_ref().map_or(0, |d| d.get());
    let kind = if exactly_once { "txn" } else { "loop" };
    let mut opts = ConsumerOptions::new(
        SERVICE,
        kind,
        &unique(&format!("weft-bench-{kind}")),
        vec![input.to_string()],
    );
    opts.concurrency = settings.concurrency;
    opts.max_in_flight = settings.max_in_flight;
    opts.commit_interval = Duration::from_millis(settings.commit_interval_ms);
    opts.dead_letter_topic = dead_letter_topic;
    if exactly_once {
        opts.mode = DeliveryMode::ExactlyOnce;
        opts.transactional_id = Some(unique("weft-bench-txn"));
    }
    let processor = Arc::new(Counting {
        inner,
        first: OnceLock::new(),
        bytes: AtomicU64::new(0),
    });
    let shutdown = CancellationToken::new();
    let mut handle = {
        let (kafka, processor, shutdown) = (kafka.clone(), processor.clone(), shutdown.clone());
        tokio::spawn(async move {
            weft_kafka::consumer::run(&kafka, opts, processor, Some(metrics), shutdown).await
        })
    };

    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let limit = target.unwrap_or(u64::MAX);
    let mut last = None;
    let mut ended = None;
    loop {
        tokio::select! {
            joined = &mut handle => {
                ended = Some(joined);
                break;
            }
            _ = stop.cancelled() => break,
            _ = tick.tick() => {
                if handled() >= limit {
                    last = Some(Instant::now());
                    break;
                }
            }
        }
    }
    shutdown.cancel();
    let loop_ended_first = ended.is_some();
    let joined = match ended {
        Some(j) => j,
        None => handle.await,
    };
    match joined {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(e).context(format!("the {kind} consumer loop failed")),
        Err(e) => return Err(e).context(format!("the {kind} consumer loop task failed")),
    }
    if settings.dump_metrics {
        let text = prometheus::TextEncoder::new()
            .encode_to_string(&registry.gather())
            .context("encoding metrics")?;
        eprintln!("{text}");
    }
    if loop_ended_first && last.is_none() && !stop.is_cancelled() {
        anyhow::bail!("the {kind} consumer loop stopped before the run was complete");
    }
    Ok(Outcome {
        records: handled(),
        bytes: processor.bytes.load(Ordering::Relaxed),
        first: processor.first.get().copied(),
        last,
    })
}
