//! What `weft topics apply` would change: the topic files (desired) against the cluster
//! (actual), as a list of actions and refusals. Pure: no Kafka here.
//!
//! - A topic in the files and not on the cluster is created.
//! - More partitions in the file than on the cluster: partitions are added. Fewer: refused,
//!   always (Kafka cannot remove partitions).
//! - A config the file sets with another value on the cluster is altered. Configs the file does
//!   not name are not touched (nor reported as changes).
//! - A different replication factor is refused: changing it needs a partition reassignment.
//! - A topic on the cluster and not in the files is reported; it is deleted only with
//!   `delete_unmanaged`, and internal topics (`__*`, `_schemas`) never.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use weft_kafka::admin::configs::TopicConfigs;

use super::topics::{TopicFile, CLEANUP_POLICY};

/// What the files ask for, for one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    pub name: String,
    pub partitions: i32,
    /// `None`: the cluster's default.
    pub replication_factor: Option<i32>,
    pub configs: BTreeMap<String, String>,
}

impl From<&TopicFile> for Desired {
    fn from(t: &TopicFile) -> Self {
        Self {
            name: t.name.clone(),
            partitions: t.partitions,
            replication_factor: t.replication_factor,
            configs: t.configs(),
        }
    }
}

/// What the cluster has, for one topic. `configs` may be empty for topics the plan does not
/// manage (they are only listed or deleted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actual {
    pub name: String,
    pub partitions: i32,
    pub replication_factor: i32,
    pub configs: TopicConfigs,
}

/// How the plan is made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Delete topics that are on the cluster and not in the files (never internal ones).
    pub delete_unmanaged: bool,
    /// Only topics whose names start with this are planned: other files are skipped, other
    /// cluster topics are neither reported nor deleted.
    pub scope: Option<String>,
}

/// A config's value before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigChange {
    pub key: String,
    /// `None`: the cluster does not report this config (unknown to it, or hidden).
    pub from: Option<String>,
    /// The current value is the default (not set on the topic).
    pub from_default: bool,
    pub to: String,
}

/// One change to the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Create {
        topic: String,
        partitions: i32,
        replication_factor: Option<i32>,
        configs: BTreeMap<String, String>,
    },
    AddPartitions {
        topic: String,
        from: i32,
        to: i32,
    },
    AlterConfigs {
        topic: String,
        changes: Vec<ConfigChange>,
    },
    Delete {
        topic: String,
        partitions: i32,
    },
}

impl Action {
    pub fn topic(&self) -> &str {
        match self {
            Self::Create { topic, .. }
            | Self::AddPartitions { topic, .. }
            | Self::AlterConfigs { topic, .. }
            | Self::Delete { topic, .. } => topic,
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Self::Create { .. } => 0,
            Self::AddPartitions { .. } => 1,
            Self::AlterConfigs { .. } => 2,
            Self::Delete { .. } => 3,
        }
    }
}

/// A difference `apply` will not resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The file asks for fewer partitions than the topic has.
    Shrink {
        topic: String,
        file: i32,
        cluster: i32,
    },
    /// The file asks for another replication factor.
    ReplicationFactor {
        topic: String,
        file: i32,
        cluster: i32,
    },
}

/// The difference between the files and the cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// In order: creations, partitions, configs, deletions; by topic name within each.
    pub actions: Vec<Action>,
    pub refusals: Vec<Refusal>,
    /// Topics on the cluster that no file names and that are kept.
    pub unmanaged: Vec<String>,
    /// Files outside the scope, not planned.
    pub skipped: Vec<String>,
}

/// Internal topics: never deleted, never reported as unmanaged.
pub fn is_internal(topic: &str) -> bool {
    topic.starts_with("__") || topic == "_schemas"
}

/// Plans the changes that make the cluster match `desired`.
pub fn plan(desired: &[Desired], actual: &[Actual], opts: &Options) -> Plan {
    let in_scope = |name: &str| opts.scope.as_deref().is_none_or(|p| name.starts_with(p));
    let on_cluster: HashMap<&str, &Actual> = actual
        .iter()
        .filter(|a| in_scope(&a.name))
        .map(|a| (a.name.as_str(), a))
        .collect();
    let mut plan = Plan::default();
    for d in desired {
        if !in_scope(&d.name) {
            plan.skipped.push(d.name.clone());
            continue;
        }
        let Some(a) = on_cluster.get(d.name.as_str()) else {
            plan.actions.push(Action::Create {
                topic: d.name.clone(),
                partitions: d.partitions,
                replication_factor: d.replication_factor,
                configs: d.configs.clone(),
            });
            continue;
        };
        if d.partitions < a.partitions {
            plan.refusals.push(Refusal::Shrink {
                topic: d.name.clone(),
                file: d.partitions,
                cluster: a.partitions,
            });
        } else if d.partitions > a.partitions {
            plan.actions.push(Action::AddPartitions {
                topic: d.name.clone(),
                from: a.partitions,
                to: d.partitions,
            });
        }
        if let Some(rf) = d.replication_factor {
            if rf != a.replication_factor {
                plan.refusals.push(Refusal::ReplicationFactor {
                    topic: d.name.clone(),
                    file: rf,
                    cluster: a.replication_factor,
                });
            }
        }
        let changes: Vec<ConfigChange> = d
            .configs
            .iter()
            .filter_map(|(key, to)| {
                let current = a.configs.get(key);
                let from = current.and_then(|c| c.value.clone());
                if from.as_deref().is_some_and(|f| same_value(key, f, to)) {
                    return None;
                }
                Some(ConfigChange {
                    key: key.clone(),
                    from,
                    from_default: current.is_some_and(|c| c.is_default),
                    to: to.clone(),
                })
            })
            .collect();
        if !changes.is_empty() {
            plan.actions.push(Action::AlterConfigs {
                topic: d.name.clone(),
                changes,
            });
        }
    }
    let named: std::collections::HashSet<&str> = desired.iter().map(|d| d.name.as_str()).collect();
    let mut extra: Vec<&Actual> = on_cluster
        .values()
        .filter(|a| !named.contains(a.name.as_str()) && !is_internal(&a.name))
        .copied()
        .collect();
    extra.sort_by(|a, b| a.name.cmp(&b.name));
    for a in extra {
        if opts.delete_unmanaged {
            plan.actions.push(Action::Delete {
                topic: a.name.clone(),
                partitions: a.partitions,
            });
        } else {
            plan.unmanaged.push(a.name.clone());
        }
    }
    plan.actions
        .sort_by(|a, b| (a.rank(), a.topic()).cmp(&(b.rank(), b.topic())));
    plan
}

/// Whether two values of config `key` mean the same (`cleanup.policy` lists in any order,
/// booleans in any case, spaces around).
pub fn same_value(key: &str, a: &str, b: &str) -> bool {
    normalize(key, a) == normalize(key, b)
}

fn normalize(key: &str, v: &str) -> String {
    let v = v.trim();
    if key == CLEANUP_POLICY {
        let mut parts: Vec<&str> = v.split(',').map(str::trim).collect();
        parts.sort_unstable();
        return parts.join(",");
    }
    if v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("false") {
        return v.to_ascii_lowercase();
    }
    v.to_string()
}

impl Plan {
    /// No change to make (refusals and unmanaged topics aside).
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    fn count(&self, rank: u8) -> usize {
        self.actions.iter().filter(|a| a.rank() == rank).count()
    }

    /// `2 to create, 1 to alter, 0 to add partitions to, 0 to delete`.
    pub fn summary(&self) -> String {
        format!(
            "{} to create, {} to add partitions to, {} to alter, {} to delete",
            self.count(0),
            self.count(1),
            self.count(2),
            self.count(3)
        )
    }
}

/// A config value for people: `604800000 (7d)` for durations in ms, `-1 (forever)`.
pub fn show_value(key: &str, value: &str) -> String {
    if key.ends_with(".ms") {
        if let Some(h) = human_ms(value) {
            return format!("{value} ({h})");
        }
    }
    value.to_string()
}

/// Milliseconds as days, hours, minutes, seconds (`365d`, `1d 12h`, `10s`), `-1` as `forever`;
/// `None` for anything else.
pub fn human_ms(value: &str) -> Option<String> {
    let ms = value.trim().parse::<i64>().ok()?;
    if ms == -1 {
        return Some("forever".into());
    }
    if ms <= 0 {
        return None;
    }
    let mut rest = ms.unsigned_abs();
    let mut parts = Vec::new();
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ] {
        if rest >= size {
            parts.push(format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    Some(parts.join(" "))
}

/// `1 partition`, `3 partitions`.
pub fn count_partitions(n: i32) -> String {
    if n == 1 {
        "1 partition".into()
    } else {
        format!("{n} partitions")
    }
}

/// The plan lines of an action: `+` create, `~` change, `-` delete; one config change a line.
impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Create {
                topic,
                partitions,
                replication_factor,
                configs,
            } => {
                write!(f, "+ create {topic}: {}, ", count_partitions(*partitions))?;
                match replication_factor {
                    Some(rf) => write!(f, "replication factor {rf}")?,
                    None => write!(f, "the cluster's default replication factor")?,
                }
                for (k, v) in configs {
                    write!(f, "\n    {k} = {}", show_value(k, v))?;
                }
                Ok(())
            }
            Self::AddPartitions { topic, from, to } => {
                write!(f, "~ partitions {topic}: {from} -> {to}")
            }
            Self::AlterConfigs { topic, changes } => {
                for (i, c) in changes.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    let from = match &c.from {
                        Some(v) if c.from_default => {
                            match human_ms(v).filter(|_| c.key.ends_with(".ms")) {
                                Some(h) => format!("{v} ({h}, the default)"),
                                None => format!("{v} (the default)"),
                            }
                        }
                        Some(v) => show_value(&c.key, v),
                        None => "(not reported by the cluster)".into(),
                    };
                    write!(
                        f,
                        "~ config {topic} {}: {from} -> {}",
                        c.key,
                        show_value(&c.key, &c.to)
                    )?;
                }
                Ok(())
            }
            Self::Delete {
                topic,
                partitions: n,
            } => write!(
                f,
                "- delete {topic}: {} and every record in them",
                count_partitions(*n)
            ),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Shrink {
                topic,
                file,
                cluster,
            } => write!(
                f,
                "! refused {topic}: the file asks for {file} partitions, the cluster has \
                 {cluster}; Kafka cannot remove partitions (set partitions = {cluster}, or \
                 delete and recreate the topic, losing its records)"
            ),
            Self::ReplicationFactor {
                topic,
                file,
                cluster,
            } => write!(
                f,
                "! refused {topic}: the file asks for replication factor {file}, the cluster \
                 has {cluster}; apply does not change replication factors (that is a partition \
                 reassignment: kafka-reassign-partitions.sh)"
            ),
        }
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
