//! The topic contract: one TOML file per topic under `topics/`.
//!
//! ```toml
//! name = "orders"
//! description = "Orders accepted by the shop, one record per order"
//! owner = "team-shop"
//! partitions = 3
//! replication_factor = 3          # optional: the cluster's default when absent
//! cleanup_policy = "delete"       # delete | compact | "compact,delete"; optional
//! retention = "7d"                # humantime, or "forever"; optional
//! min_insync_replicas = 2         # optional
//!
//! [config]                        # any other topic config, by its Kafka name
//! "segment.bytes" = "104857600"
//!
//! [key]
//! schema = "com.acme.OrderKey"    # schemas/com.acme.OrderKey.avsc
//! [value]
//! schema = "com.acme.Order"
//! subject = "orders-value"        # optional; or strategy = "record_name" (default: topic_name)
//! ```
//!
//! Parsing is strict: unknown keys, wrong types and impossible values are refused, and
//! [`load_dir`] lists every problem of every file at once, each naming the file and the key.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod parse;

#[cfg(test)]
pub use parse::parse;
pub use parse::parse_with;

/// The Kafka configs the typed keys of a topic file set.
pub const CLEANUP_POLICY: &str = "cleanup.policy";
pub const RETENTION_MS: &str = "retention.ms";
pub const MIN_INSYNC_REPLICAS: &str = "min.insync.replicas";

const TOP_KEYS: &[&str] = &[
    "name",
    "description",
    "owner",
    "partitions",
    "replication_factor",
    "cleanup_policy",
    "retention",
    "min_insync_replicas",
    "config",
    "key",
    "value",
];
const SCHEMA_KEYS: &[&str] = &["schema", "subject", "strategy"];

/// `cleanup.policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CleanupPolicy {
    Delete,
    Compact,
    CompactDelete,
}

impl CleanupPolicy {
    /// The value Kafka stores.
    pub fn as_kafka(self) -> &'static str {
        match self {
            Self::Delete => "delete",
            Self::Compact => "compact",
            Self::CompactDelete => "compact,delete",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        let mut parts: Vec<&str> = s.split(',').map(str::trim).collect();
        parts.sort_unstable();
        match parts.as_slice() {
            ["delete"] => Some(Self::Delete),
            ["compact"] => Some(Self::Compact),
            ["compact", "delete"] => Some(Self::CompactDelete),
            _ => None,
        }
    }
}

/// How long records are kept (`retention.ms`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retention {
    Forever,
    For(Duration),
}

impl Retention {
    /// `retention.ms`: milliseconds, `-1` for forever.
    pub fn as_millis(self) -> i64 {
        match self {
            Self::Forever => -1,
            Self::For(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        }
    }

    fn parse(s: &str) -> Result<Self, String> {
        if s.trim() == "forever" {
            return Ok(Self::Forever);
        }
        let d = humantime::parse_duration(s.trim())
            .map_err(|e| format!("{s:?} is not a duration like \"7d\" or \"forever\" ({e})"))?;
        if d.as_millis() == 0 {
            return Err("must be at least 1ms (or \"forever\")".into());
        }
        if i64::try_from(d.as_millis()).is_err() {
            return Err(format!("{s:?} is too long (use \"forever\")"));
        }
        Ok(Self::For(d))
    }
}

/// The schema of a topic's key or value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaRef {
    /// The record's full name; its file is `schemas/<schema>.avsc`.
    pub schema: String,
    /// The registry subject (given, or by the naming strategy; `<topic>-key|value` by default).
    pub subject: String,
}

/// `<schemas>/<full name>.avsc`.
pub fn schema_file(schemas: &Path, full_name: &str) -> PathBuf {
    schemas.join(format!("{full_name}.avsc"))
}

/// One topic file, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicFile {
    /// Where it was read from (as the folder was named).
    pub file: PathBuf,
    pub name: String,
    pub description: String,
    pub owner: String,
    pub partitions: i32,
    /// `None`: the cluster's `default.replication.factor`.
    pub replication_factor: Option<i32>,
    pub cleanup_policy: Option<CleanupPolicy>,
    pub retention: Option<Retention>,
    pub min_insync_replicas: Option<i32>,
    /// Other topic configs, by Kafka name.
    pub config: BTreeMap<String, String>,
    pub key: Option<SchemaRef>,
    pub value: Option<SchemaRef>,
}

impl TopicFile {
    /// Every topic config this file sets, by Kafka name (typed keys included).
    pub fn configs(&self) -> BTreeMap<String, String> {
        let mut c = self.config.clone();
        if let Some(p) = self.cleanup_policy {
            c.insert(CLEANUP_POLICY.into(), p.as_kafka().into());
        }
        if let Some(r) = self.retention {
            c.insert(RETENTION_MS.into(), r.as_millis().to_string());
        }
        if let Some(m) = self.min_insync_replicas {
            c.insert(MIN_INSYNC_REPLICAS.into(), m.to_string());
        }
        c
    }
}

/// Why a folder of topic files could not be loaded: one line per problem, each naming the
/// file and the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicFileErrors {
    pub problems: Vec<String>,
}

impl fmt::Display for TopicFileErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problems.as_slice() {
            [one] => write!(f, "invalid topic file: {one}"),
            many => write!(
                f,
                "invalid topic files ({} problems):\n  {}",
                many.len(),
                many.join("\n  ")
            ),
        }
    }
}

impl std::error::Error for TopicFileErrors {}

/// Reads every `*.toml` file of `dir` (other files are ignored) and checks each, the schemas
/// they name (`<schemas>/<full name>.avsc`), and the set (no topic twice). Sorted by name.
pub fn load_dir(dir: &Path, schemas: &Path) -> Result<Vec<TopicFile>, TopicFileErrors> {
    let fail = |p: String| TopicFileErrors { problems: vec![p] };
    let entries = std::fs::read_dir(dir)
        .map_err(|e| fail(format!("{}: cannot read the folder: {e}", dir.display())))?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| fail(format!("{}: {e}", dir.display())))?;
        let path = entry.path();
        if path.extension().is_some_and(|x| x == "toml") && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    if paths.is_empty() {
        return Err(fail(format!(
            "{}: no topic files (*.toml) in this folder",
            dir.display()
        )));
    }
    let mut problems = Vec::new();
    let mut topics = Vec::new();
    let mut names: Vec<(String, PathBuf)> = Vec::new();
    for path in paths {
        let label = path.display().to_string();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                problems.push(format!("{label}: {e}"));
                continue;
            }
        };
        match parse_with(&path, &text, &|s| check_schema_file(schemas, s)) {
            Ok(t) => {
                names.push((t.name.clone(), path));
                topics.push(t);
            }
            Err(mut p) => {
                problems.append(&mut p);
                // An invalid file still claims its topic name.
                let name = toml::from_str::<toml::Table>(&text)
                    .ok()
                    .and_then(|t| t.get("name")?.as_str().map(str::to_string));
                if let Some(n) = name {
                    names.push((n, path));
                }
            }
        }
    }
    problems.extend(check_set(&names));
    if problems.is_empty() {
        topics.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(topics)
    } else {
        Err(TopicFileErrors { problems })
    }
}

/// Problems across files (topic name, file): the same topic twice, or two names Kafka treats
/// as one.
fn check_set(names: &[(String, PathBuf)]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen: HashMap<&str, &Path> = HashMap::new();
    let mut folded: HashMap<String, (&str, &Path)> = HashMap::new();
    for (name, file) in names {
        if let Some(first) = seen.get(name.as_str()) {
            problems.push(format!(
                "{}: name: topic {name:?} is also defined in {}",
                file.display(),
                first.display()
            ));
            continue;
        }
        seen.insert(name, file);
        let key = name.replace('.', "_");
        if let Some((other, other_file)) = folded.get(&key) {
            problems.push(format!(
                "{}: name: {name:?} collides with {other:?} in {} (Kafka treats '.' and '_' \
                 alike in topic names and refuses the second)",
                file.display(),
                other_file.display()
            ));
        } else {
            folded.insert(key, (name, file));
        }
    }
    problems
}

/// `<schemas>/<full name>.avsc` exists and declares the type it is named after.
fn check_schema_file(schemas: &Path, full_name: &str) -> Result<(), String> {
    let file = schema_file(schemas, full_name);
    let text = std::fs::read_to_string(&file).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            format!("no schema file {} for {full_name:?}", file.display())
        } else {
            format!("{}: {e}", file.display())
        }
    })?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not valid JSON: {e}", file.display()))?;
    let name = json.get("name").and_then(|n| n.as_str());
    let namespace = json.get("namespace").and_then(|n| n.as_str());
    let full = match (name, namespace) {
        (Some(n), _) if n.contains('.') => n.to_string(),
        (Some(n), Some(ns)) if !ns.is_empty() => format!("{ns}.{n}"),
        (Some(n), _) => n.to_string(),
        (None, _) => {
            return Err(format!(
                "{} has no \"name\": expected the named type {:?}",
                file.display(),
                full_name
            ))
        }
    };
    if full != full_name {
        return Err(format!(
            "{} declares {full:?}, not {full_name:?} (a schema file is named after the full \
             name of its type)",
            file.display(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
