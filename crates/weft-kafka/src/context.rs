//! librdkafka client contexts: logs through `tracing`, statistics into Prometheus, and the
//! consumer's rebalance hooks. Nothing here may panic: it runs inside librdkafka callbacks.

use std::sync::{Arc, Mutex};

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
    /// Why the open transaction failed, as librdkafka said it (see [`TxnFailure`]).
    pub(crate) txn_failure: Arc<Mutex<Option<TxnFailure>>>,
}

/// Why librdkafka failed a transactional producer's open transaction. librdkafka tells it only
/// in a log line (`TXNERR`: "Current transaction failed in state S: <why> (<ERROR_NAME>)") and
/// then purges the transaction's messages, whose delivery reports say only "purged"; the loop
/// reads it here to tell an authorisation failure (stop) from a transient one (abort, retry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnFailure {
    /// librdkafka's reason, after "in state S: ", with the error name.
    pub reason: String,
    /// The Kafka error name it ends with, e.g. `TOPIC_AUTHORIZATION_FAILED`.
    pub error_name: String,
}

impl TxnFailure {
    /// Reads librdkafka's `TXNERR` log line; `None` for any other line.
    pub fn from_log(facility: &str, message: &str) -> Option<Self> {
        // librdkafka puts the thread first: "[thrd:main]: Current transaction failed ...".
        let start = message.find("Current transaction failed")?;
        let thread = message[..start].trim_end();
        let from_a_thread =
            thread.is_empty() || (thread.starts_with("[thrd:") && thread.ends_with("]:"));
        if facility != "TXNERR" || !from_a_thread {
            return None;
        }
        let open = message.rfind('(')?;
        let inside = message[open + 1..].trim_end().strip_suffix(')')?;
        let error_name = inside.split(',').next()?.trim();
        let well_formed = !error_name.is_empty()
            && error_name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        let sentence = &message[start..];
        let reason = sentence
            .split_once(": ")
            .map_or(sentence, |(_, reason)| reason);
        well_formed.then(|| Self {
            reason: reason.to_string(),
            error_name: error_name.to_string(),
        })
    }

    /// Whether the broker refused the producer a right (ACLs): retrying cannot help.
    pub fn is_authorization(&self) -> bool {
        self.error_name.ends_with("_AUTHORIZATION_FAILED")
    }
}

impl WeftContext {
    pub fn new(metrics: Option<KafkaMetrics>) -> Self {
        Self {
            metrics,
            hook: None,
            txn_failure: Arc::new(Mutex::new(None)),
        }
    }

    /// Takes the recorded failure of the open transaction, if librdkafka reported one.
    pub fn take_txn_failure(&self) -> Option<TxnFailure> {
        self.txn_failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }

    pub fn with_hook(mut self, hook: Arc<dyn RebalanceHook>) -> Self {
        self.hook = Some(hook);
        self
    }
}

impl ClientContext for WeftContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        if let Some(failure) = TxnFailure::from_log(fac, message) {
            *self.txn_failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(failure);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn librdkafkas_transaction_failure_line_is_read() {
        let f = TxnFailure::from_log(
            "TXNERR",
            "[thrd:main]: Current transaction failed in state InTransaction: Failed to add partition(s) to \
             transaction on broker TxnCoordinator/1: Broker: Topic authorization failed \
             (after 0 ms) (TOPIC_AUTHORIZATION_FAILED)",
        )
        .unwrap();
        assert_eq!(f.error_name, "TOPIC_AUTHORIZATION_FAILED");
        assert!(f.is_authorization());
        assert_eq!(
            f.reason,
            "Failed to add partition(s) to transaction on broker TxnCoordinator/1: Broker: \
             Topic authorization failed (after 0 ms) (TOPIC_AUTHORIZATION_FAILED)"
        );
        let bump = TxnFailure::from_log(
            "TXNERR",
            "Current transaction failed in state InTransaction: ProduceRequest failed: \
             Broker: Not enough in-sync replicas (NOT_ENOUGH_REPLICAS, requires epoch bump)",
        )
        .unwrap();
        assert_eq!(bump.error_name, "NOT_ENOUGH_REPLICAS");
        assert!(!bump.is_authorization());
    }

    #[test]
    fn other_lines_are_not_transaction_failures() {
        for (fac, msg) in [
            (
                "TXNERR",
                "Fatal transaction error: Failed to end transaction (INVALID_TXN_STATE)",
            ),
            (
                "ADDPARTS",
                "Current transaction failed in state X: y (TOPIC_AUTHORIZATION_FAILED)",
            ),
            (
                "TXNERR",
                "Current transaction failed in state X: no error name",
            ),
            (
                "TXNERR",
                "Current transaction failed in state X: y (not a name)",
            ),
            (
                "TXNERR",
                "Not propagating: Current transaction failed in state X: y (NAME)",
            ),
        ] {
            assert_eq!(TxnFailure::from_log(fac, msg), None, "{fac}: {msg}");
        }
    }

    #[test]
    fn the_context_keeps_the_failure_until_taken() {
        let ctx = WeftContext::new(None);
        ctx.log(
            RDKafkaLogLevel::Error,
            "TXNERR",
            "Current transaction failed in state InTransaction: x (TOPIC_AUTHORIZATION_FAILED)",
        );
        assert!(ctx
            .clone()
            .take_txn_failure()
            .is_some_and(|f| f.is_authorization()));
        assert_eq!(ctx.take_txn_failure(), None);
    }
}
