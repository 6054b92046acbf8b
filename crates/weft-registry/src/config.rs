//! `[registry]` in `weft.toml`.

use std::time::Duration;

use serde::Deserialize;
use weft_schema::compat::CompatibilityLevel;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegistryConfig {
    /// Whether `weft up` runs the registry (turn off when a Confluent registry serves the
    /// schemas instead).
    pub enabled: bool,
    /// Where the REST API listens.
    pub listen: String,
    /// The log topic: one partition, compacted. Not Confluent's `_schemas` format, so a
    /// Confluent registry on the same cluster needs another topic name.
    pub topic: String,
    /// Replication factor when the registry creates the topic (absent: the cluster's default).
    pub replication_factor: Option<i32>,
    /// How long a request waits for the log (append and read back).
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// The global compatibility level until `PUT /config` sets one
    /// (Confluent's `schema.compatibility.level`).
    pub default_compatibility: CompatibilityLevel,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: "127.0.0.1:8081".into(),
            topic: "_schemas".into(),
            replication_factor: None,
            timeout: Duration::from_secs(10),
            default_compatibility: CompatibilityLevel::Backward,
        }
    }
}

impl RegistryConfig {
    /// Every problem, each naming its key.
    pub fn validate(&self) -> Vec<String> {
        let mut e = Vec::new();
        if self.listen.parse::<std::net::SocketAddr>().is_err() {
            e.push(format!(
                "registry.listen: {:?} is not an address like 127.0.0.1:8081",
                self.listen
            ));
        }
        if self.topic.trim().is_empty() {
            e.push("registry.topic: must not be empty".into());
        }
        if matches!(self.replication_factor, Some(r) if r < 1) {
            e.push("registry.replication_factor: must be at least 1".into());
        }
        if self.timeout.is_zero() {
            e.push("registry.timeout: must be more than zero".into());
        }
        e
    }
}
