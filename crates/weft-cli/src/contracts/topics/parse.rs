//! One topic file: its TOML walked key by key, every problem kept.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use weft_core::topic::check_name as check_topic_name;
use weft_schema::SubjectNameStrategy;

use super::{
    CleanupPolicy, Retention, SchemaRef, TopicFile, CLEANUP_POLICY, MIN_INSYNC_REPLICAS,
    RETENTION_MS, SCHEMA_KEYS, TOP_KEYS,
};

/// [`parse_with`] without looking for the schema files (tests).
#[cfg(test)]
pub fn parse(file: &Path, text: &str) -> Result<TopicFile, Vec<String>> {
    parse_with(file, text, &|_| Ok(()))
}

/// Parses and checks one topic file; `check_schema` judges each schema named, by its full
/// name (`Err` says what is wrong). `Err` lists every problem, each as
/// `<file>: <key>: <what is wrong>`.
pub fn parse_with(
    file: &Path,
    text: &str,
    check_schema: &dyn Fn(&str) -> Result<(), String>,
) -> Result<TopicFile, Vec<String>> {
    let label = file.display().to_string();
    let mut cx = Cx {
        file: &label,
        problems: Vec::new(),
        check_schema,
    };
    let mut table: toml::Table = match toml::from_str(text) {
        Ok(t) => t,
        Err(e) => {
            let at = e
                .span()
                .map(|s| {
                    let before = &text[..s.start.min(text.len())];
                    let line = before.matches('\n').count() + 1;
                    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                    format!("line {line}, column {col}: ")
                })
                .unwrap_or_default();
            return Err(vec![format!("{label}: {at}{}", one_line(e.message()))]);
        }
    };
    let name = cx.string(&mut table, "name", true);
    let description = cx.string(&mut table, "description", true);
    let owner = cx.string(&mut table, "owner", true);
    let partitions = cx.count(&mut table, "partitions", true, i32::MAX.into());
    let replication_factor = cx.count(&mut table, "replication_factor", false, i16::MAX.into());
    let cleanup_policy = cx
        .string(&mut table, "cleanup_policy", false)
        .and_then(|s| {
            CleanupPolicy::parse(&s).or_else(|| {
                cx.err(
                    "cleanup_policy",
                    format!("{s:?} is not one of \"delete\", \"compact\", \"compact,delete\""),
                );
                None
            })
        });
    let retention = cx.string(&mut table, "retention", false).and_then(|s| {
        Retention::parse(&s)
            .map_err(|e| cx.err("retention", e))
            .ok()
    });
    let min_insync_replicas = cx.count(&mut table, "min_insync_replicas", false, i16::MAX.into());
    let config = match table.remove("config") {
        None => BTreeMap::new(),
        Some(toml::Value::Table(t)) => {
            let mut out = BTreeMap::new();
            cx.flatten_config("", t, &mut out);
            out
        }
        Some(other) => {
            cx.err(
                "config",
                format!("expected a table, found {}", other.type_str()),
            );
            BTreeMap::new()
        }
    };
    let key = cx.schema_ref(&mut table, "key", name.as_deref());
    let value = cx.schema_ref(&mut table, "value", name.as_deref());
    for k in table.keys() {
        cx.err(k, unknown_key(TOP_KEYS));
    }

    if let Some(n) = &name {
        if let Err(e) = check_topic_name(n) {
            cx.err("name", e);
        }
    }
    if let (Some(m), Some(r)) = (min_insync_replicas, replication_factor) {
        if m > r {
            cx.err(
                "min_insync_replicas",
                format!(
                    "{m} is more than replication_factor {r}: producers with acks=all could \
                     never write"
                ),
            );
        }
    }
    if retention.is_some() && cleanup_policy == Some(CleanupPolicy::Compact) {
        cx.err(
            "retention",
            "has no effect with cleanup_policy = \"compact\" (a compacted topic keeps the last \
             record of every key); use \"compact,delete\" to also expire old records",
        );
    }

    let Cx { problems, .. } = cx;
    match (name, description, owner, partitions) {
        (Some(name), Some(description), Some(owner), Some(partitions)) if problems.is_empty() => {
            Ok(TopicFile {
                file: file.to_path_buf(),
                name,
                description,
                owner,
                partitions,
                replication_factor,
                cleanup_policy,
                retention,
                min_insync_replicas,
                config,
                key,
                value,
            })
        }
        _ => Err(problems),
    }
}

/// An Avro full name: dot-separated names, each `[A-Za-z_][A-Za-z0-9_]*`.
pub(super) fn check_full_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.split('.').all(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not an Avro full name (like \"com.acme.Order\")"
        ))
    }
}

fn unknown_key(expected: &[&str]) -> String {
    format!("unknown key (expected one of: {})", expected.join(", "))
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Collects problems while a file is read.
struct Cx<'a> {
    file: &'a str,
    problems: Vec<String>,
    check_schema: &'a dyn Fn(&str) -> Result<(), String>,
}

impl Cx<'_> {
    fn err(&mut self, key: &str, msg: impl fmt::Display) {
        self.problems.push(format!("{}: {key}: {msg}", self.file));
    }

    fn missing(&mut self, key: &str) {
        self.err(key, "required value is missing");
    }

    fn string_at(
        &mut self,
        t: &mut toml::Table,
        key: &str,
        path: &str,
        required: bool,
    ) -> Option<String> {
        match t.remove(key) {
            None => {
                if required {
                    self.missing(path);
                }
                None
            }
            Some(toml::Value::String(s)) if s.trim().is_empty() => {
                self.err(path, "must not be empty");
                None
            }
            Some(toml::Value::String(s)) => Some(s),
            Some(other) => {
                self.err(
                    path,
                    format!("expected a string, found {}", other.type_str()),
                );
                None
            }
        }
    }

    fn string(&mut self, t: &mut toml::Table, key: &str, required: bool) -> Option<String> {
        self.string_at(t, key, key, required)
    }

    /// A whole number from 1 to `max`.
    fn count(&mut self, t: &mut toml::Table, key: &str, required: bool, max: i64) -> Option<i32> {
        match t.remove(key) {
            None => {
                if required {
                    self.missing(key);
                }
                None
            }
            Some(toml::Value::Integer(n)) if n < 1 => {
                self.err(key, format!("must be at least 1 (found {n})"));
                None
            }
            Some(toml::Value::Integer(n)) if n > max => {
                self.err(key, format!("must be at most {max} (found {n})"));
                None
            }
            Some(toml::Value::Integer(n)) => i32::try_from(n).ok(),
            Some(other) => {
                self.err(
                    key,
                    format!("expected a whole number, found {}", other.type_str()),
                );
                None
            }
        }
    }

    /// `[config]`: nested tables (from dotted keys written without quotes) become dotted
    /// names; strings, whole numbers and booleans are accepted as values.
    fn flatten_config(&mut self, prefix: &str, t: toml::Table, out: &mut BTreeMap<String, String>) {
        for (k, v) in t {
            let name = if prefix.is_empty() {
                k
            } else {
                format!("{prefix}.{k}")
            };
            let path = format!("config.{name}");
            let value = match v {
                toml::Value::Table(inner) => {
                    self.flatten_config(&name, inner, out);
                    continue;
                }
                toml::Value::String(s) => s,
                toml::Value::Integer(n) => n.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                other => {
                    self.err(
                        &path,
                        format!("expected a string, found {}", other.type_str()),
                    );
                    continue;
                }
            };
            if !name.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_')
            }) {
                self.err(
                    &path,
                    "not a Kafka config name (lower case, digits, '.', '-', '_')",
                );
                continue;
            }
            let typed = match name.as_str() {
                CLEANUP_POLICY => Some("cleanup_policy"),
                RETENTION_MS => Some("retention"),
                MIN_INSYNC_REPLICAS => Some("min_insync_replicas"),
                _ => None,
            };
            if let Some(typed) = typed {
                self.err(&path, format!("set it with the `{typed}` key instead"));
                continue;
            }
            out.insert(name, value);
        }
    }

    /// `[key]` or `[value]`.
    fn schema_ref(
        &mut self,
        t: &mut toml::Table,
        part: &str,
        topic: Option<&str>,
    ) -> Option<SchemaRef> {
        let mut table = match t.remove(part)? {
            toml::Value::Table(table) => table,
            other => {
                self.err(
                    part,
                    format!("expected a table, found {}", other.type_str()),
                );
                return None;
            }
        };
        let schema = self.string_at(&mut table, "schema", &format!("{part}.schema"), true);
        let subject = self.string_at(&mut table, "subject", &format!("{part}.subject"), false);
        let strategy = match table.remove("strategy") {
            None => None,
            Some(v) => match v.try_into::<SubjectNameStrategy>() {
                Ok(s) => Some(s),
                Err(e) => {
                    self.err(&format!("{part}.strategy"), one_line(e.message()));
                    return None;
                }
            },
        };
        for k in table.keys() {
            self.err(&format!("{part}.{k}"), unknown_key(SCHEMA_KEYS));
        }
        let schema = schema?;
        if let Err(e) = check_full_name(&schema) {
            self.err(&format!("{part}.schema"), e);
            return None;
        }
        if let Err(e) = (self.check_schema)(&schema) {
            self.err(&format!("{part}.schema"), e);
        }
        let subject = match (subject, strategy) {
            (Some(_), Some(_)) => {
                self.err(
                    &format!("{part}.subject"),
                    "give a subject or a strategy, not both",
                );
                return None;
            }
            (Some(s), None) => s,
            (None, strategy) => {
                let topic = topic?;
                match strategy
                    .unwrap_or_default()
                    .subject(topic, part == "key", Some(&schema))
                {
                    Ok(s) => s,
                    Err(e) => {
                        self.err(&format!("{part}.strategy"), e);
                        return None;
                    }
                }
            }
        };
        Some(SchemaRef { schema, subject })
    }
}
