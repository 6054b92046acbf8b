//! Readiness: Kafka reachable, and no service has stopped on a fatal error.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use weft_kafka::admin::Admin;
use weft_kafka::KafkaConfig;

/// Shared readiness state: a set of named conditions, ready when none is failing.
#[derive(Clone, Default)]
pub struct Readiness {
    inner: Arc<Mutex<BTreeMap<String, Option<String>>>>,
}

impl Readiness {
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares a condition, initially not ready with `why`.
    pub fn declare(&self, name: &str, why: &str) {
        self.lock().insert(name.into(), Some(why.into()));
    }

    pub fn set_ready(&self, name: &str) {
        self.lock().insert(name.into(), None);
    }

    pub fn set_not_ready(&self, name: &str, why: impl Into<String>) {
        self.lock().insert(name.into(), Some(why.into()));
    }

    /// Ready when every declared condition is met; otherwise the reasons, by condition.
    pub fn check(&self) -> Result<(), BTreeMap<String, String>> {
        let failing: BTreeMap<String, String> = self
            .lock()
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|why| (k.clone(), why.clone())))
            .collect();
        if failing.is_empty() {
            Ok(())
        } else {
            Err(failing)
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Option<String>>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Checks every `interval` that the Kafka cluster answers a metadata request listing at least
/// one broker, and keeps the `kafka` condition up to date until `shutdown`.
pub async fn watch_kafka(
    kafka: KafkaConfig,
    readiness: Readiness,
    interval: Duration,
    shutdown: CancellationToken,
) {
    readiness.declare("kafka", "not checked yet");
    let admin = match Admin::new(&kafka) {
        Ok(a) => Arc::new(a),
        Err(e) => {
            readiness.set_not_ready("kafka", e.to_string());
            return;
        }
    };
    loop {
        let a = admin.clone();
        let result = tokio::task::spawn_blocking(move || a.brokers(Duration::from_secs(5))).await;
        match result {
            Ok(Ok(brokers)) if !brokers.is_empty() => readiness.set_ready("kafka"),
            Ok(Ok(_)) => readiness.set_not_ready("kafka", "the cluster lists no brokers"),
            Ok(Err(e)) => readiness.set_not_ready("kafka", e.to_string()),
            Err(e) => readiness.set_not_ready("kafka", format!("check failed: {e}")),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_only_when_every_condition_is_met() {
        let r = Readiness::new();
        assert!(r.check().is_ok(), "nothing declared");
        r.declare("kafka", "not checked yet");
        r.declare("pipe", "starting");
        assert_eq!(r.check().err().map(|m| m.len()), Some(2));
        r.set_ready("kafka");
        r.set_ready("pipe");
        assert!(r.check().is_ok());
        r.set_not_ready("pipe", "stopped: fatal error");
        assert_eq!(
            r.check()
                .err()
                .and_then(|m| m.get("pipe").cloned())
                .as_deref(),
            Some("stopped: fatal error")
        );
    }
}
