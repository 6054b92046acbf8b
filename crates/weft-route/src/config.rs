//! `[flows]` in `weft.toml`: where the flow files and the contracts they are checked against
//! live.

use std::path::PathBuf;

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
}

impl Default for FlowsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            dir: PathBuf::from("flows"),
            topics: PathBuf::from("topics"),
            schemas: PathBuf::from("schemas"),
        }
    }
}

impl FlowsConfig {
    /// Whether there is anything to run: enabled and the folder exists.
    pub fn is_configured(&self) -> bool {
        self.enabled && self.dir.is_dir()
    }
}
