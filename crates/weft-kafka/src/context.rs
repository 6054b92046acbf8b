//! librdkafka client contexts: logs through `tracing`, statistics into Prometheus, and the
//! consumer's rebalance hooks. Nothing here may panic: it runs inside librdkafka callbacks.

use std::sync::Arc;

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError;
use rdkafka::Statistics;

use crate::metrics::KafkaMetrics;

/// What a consumer loop does around a rebalance. Runs on the consumer's poll thread.
pub trait RebalanceHook: Send + Sync + 'static {
    fn pre_rebalance(&self, consumer: &BaseConsumer<WeftContext>, rebalance: &Rebalance<'_>);
    fn post_rebalance(&self, consumer: &BaseConsumer<WeftContext>, rebalance: &Rebalance<'_>);
}

/// The context of every Weft Kafka client.
#[derive(Clone)]
pub struct WeftContext {
    pub(crate) metrics: Option<KafkaMetrics>,
    pub(crate) hook: Option<Arc<dyn RebalanceHook>>,
}

impl WeftContext {
    pub fn new(metrics: Option<KafkaMetrics>) -> Self {
        Self {
            metrics,
            hook: None,
        }
    }

    pub fn with_hook(mut self, hook: Arc<dyn RebalanceHook>) -> Self {
        self.hook = Some(hook);
        self
    }
}

impl ClientContext for WeftContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error => {
                tracing::error!(target: "librdkafka", facility = fac, "{message}")
            }
            RDKafkaLogLevel::Warning => {
                tracing::warn!(target: "librdkafka", facility = fac, "{message}")
            }
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
                tracing::info!(target: "librdkafka", facility = fac, "{message}")
            }
            RDKafkaLogLevel::Debug => {
                tracing::debug!(target: "librdkafka", facility = fac, "{message}")
            }
        }
    }

    fn stats(&self, statistics: Statistics) {
        if let Some(m) = &self.metrics {
            m.record_statistics(&statistics);
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        tracing::warn!(target: "librdkafka", error = %error, "Kafka client error: {reason}");
    }
}

impl ConsumerContext for WeftContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Some(h) = &self.hook {
            h.pre_rebalance(consumer, rebalance);
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Some(h) = &self.hook {
            h.post_rebalance(consumer, rebalance);
        }
    }
}
