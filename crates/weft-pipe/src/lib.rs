//! The pipe service: copies records from input topics to a destination topic, at-least-once
//! or exactly-once, keeping key, value bytes and headers. The simplest Weft stage: a bridge
//! between topics (like a one-cluster MirrorMaker), and the reference pass-through for
//! benchmarks.

pub mod config;
pub mod logic;

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use weft_core::StageError;
use weft_kafka::{Emitter, KafkaConfig, KafkaMetrics, Processor, Record};

pub use config::PipeConfig;

/// The service name in metrics, client ids and dead-letter headers.
pub const SERVICE: &str = "pipe";

/// Forwards each record to the pipe's destination.
pub struct PipeProcessor {
    to: logic::Destination,
}

impl PipeProcessor {
    pub fn new(to: &str) -> Self {
        Self {
            to: logic::Destination::new(to),
        }
    }
}

impl Processor for PipeProcessor {
    async fn process(&self, record: &Record, out: &mut Emitter) -> Result<(), StageError> {
        out.emit(logic::forward(record, &self.to));
        Ok(())
    }
}

/// Runs every pipe until `shutdown`; the first pipe to fail stops the others.
pub async fn run(
    kafka: &KafkaConfig,
    pipes: &[PipeConfig],
    instance_id: &str,
    drain_timeout: Duration,
    metrics: Option<KafkaMetrics>,
    shutdown: CancellationToken,
) -> Result<(), weft_kafka::Error> {
    let mut tasks = tokio::task::JoinSet::new();
    for pipe in pipes {
        let opts = pipe.consumer_options(SERVICE, instance_id, drain_timeout);
        if let Some(t) = &opts.dead_letters.retry_tiers {
            weft_kafka::retry_tiers::check_topics(kafka, t)?;
        }
        let processor = Arc::new(PipeProcessor::new(&pipe.to));
        let (kafka, metrics, shutdown) = (kafka.clone(), metrics.clone(), shutdown.clone());
        let name = pipe.name.clone();
        tasks.spawn(async move {
            let r = weft_kafka::consumer::run(&kafka, opts, processor, metrics, shutdown).await;
            (name, r)
        });
    }
    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((_, Ok(()))) => {}
            Ok((name, Err(e))) => {
                tracing::error!(pipe = %name, error = %e, "Pipe stopped");
                shutdown.cancel();
                first_error.get_or_insert(weft_kafka::Error::Internal(format!("pipe {name}: {e}")));
            }
            Err(e) => {
                shutdown.cancel();
                first_error.get_or_insert(weft_kafka::Error::Internal(format!("pipe task: {e}")));
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}
