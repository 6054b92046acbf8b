//! `weft.toml`: every section of every service, layered by `weft_runtime::config`.

use serde::Deserialize;
use weft_ingest::IngestConfig;
use weft_kafka::KafkaConfig;
use weft_pipe::PipeConfig;
use weft_registry::RegistryConfig;
use weft_route::FlowsConfig;
use weft_runtime::{AdminConfig, LogConfig, ShutdownConfig, Validate};
use weft_schema::RegistryClientConfig;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WeftConfig {
    /// Names this process among others of the same service (transactional ids). Defaults to
    /// the host name.
    pub instance_id: Option<String>,
    pub kafka: KafkaConfig,
    pub admin: AdminConfig,
    pub log: LogConfig,
    pub shutdown: ShutdownConfig,
    pub pipes: Vec<PipeConfig>,
    /// The schema registry service (`weft run registry`).
    pub registry: RegistryConfig,
    /// The ingest service (`weft run ingest`): the event API, webhooks.
    pub ingest: IngestConfig,
    /// How services and operator commands reach the schema registry (Weft's or Confluent's).
    pub schema_registry: RegistryClientConfig,
    /// Flows (`weft run transform|route`, `weft flows ...`): where the flow files are.
    pub flows: FlowsConfig,
    /// Retry tiers (`weft run dead-letter`) and whether stages use them.
    pub retry: weft_dead_letter::retry::RetryConfig,
    /// How stages write dead letters besides Weft's own headers.
    pub dead_letter: weft_dead_letter::config::DeadLetterConfig,
    /// Scheduled replays (`weft run replay`).
    pub replay: weft_dead_letter::replay::schedule::ReplayServiceConfig,
}

impl Validate for WeftConfig {
    fn validate(&self) -> Vec<String> {
        let mut e = self.kafka.validate();
        e.extend(self.registry.validate());
        e.extend(self.ingest.validate());
        e.extend(self.retry.validate());
        e.extend(self.replay.validate());
        let mut names = std::collections::HashSet::new();
        for (i, p) in self.pipes.iter().enumerate() {
            e.extend(p.validate(i));
            if !names.insert(p.name.as_str()) {
                e.push(format!(
                    "pipes.{i}.name: {:?} is used by another pipe",
                    p.name
                ));
            }
        }
        if self.shutdown.drain_timeout.is_zero() {
            e.push("shutdown.drain_timeout: must be more than zero".into());
        }
        e
    }
}

impl WeftConfig {
    /// What every stage does with failures: `[retry]` and `[dead_letter]`.
    pub fn dead_letter_options(&self) -> weft_kafka::DeadLetterOptions {
        self.dead_letter.options(&self.retry)
    }

    pub fn instance_id(&self) -> String {
        self.instance_id.clone().unwrap_or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_string())
                .ok()
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| "0".into())
        })
    }
}
