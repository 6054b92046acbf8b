//! `[flows]` in `weft.toml`: where the flow files and the contracts they are checked against
//! live.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FlowsConfig {
    /// `weft up` runs flows only when this is true and `dir` exists.
    pub enabled: bool,
    /// One flow per `*.toml` file; fixtures under `<dir>/fixtures/`.
    pub dir: PathBuf,
    /// The topic files flows are checked against (inputs and destinations must be declared).
    pub topics: PathBuf,
    /// The `.avsc` files the flows' input and output schemas are read from.
    pub schemas: PathBuf,
    /// How long a record waits for an unreachable schema registry before the flow gives up
    /// on it — never by dead-lettering it. At-least-once: the flow then stops (the record
    /// stays uncommitted). Exactly-once: each attempt waits at most a quarter of the drain
    /// timeout, then the transaction is aborted and re-read (the flow stops after repeated
    /// aborts).
    #[serde(with = "humantime_serde")]
    pub registry_wait: Duration,
}

impl Default for FlowsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            dir: PathBuf::from("flows"),
            topics: PathBuf::from("topics"),
            schemas: PathBuf::from("schemas"),
            registry_wait: Duration::from_secs(60),
        }
    }
}

impl FlowsConfig {
    /// Whether there is anything to run: enabled and the folder exists.
    pub fn is_configured(&self) -> bool {
        self.enabled && self.dir.is_dir()
    }
}
