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

use weft_schema::SubjectNameStrategy;

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

pub use weft_core::topic::check_name as check_topic_name;

/// An Avro full name: dot-separated names, each `[A-Za-z_][A-Za-z0-9_]*`.
fn check_full_name(name: &str) -> Result<(), String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
name = "orders"
description = "Orders accepted by the shop"
owner = "team-shop"
partitions = 3
replication_factor = 3
cleanup_policy = "compact,delete"
retention = "7d"
min_insync_replicas = 2

[config]
"segment.bytes" = "104857600"
max.message.bytes = 2097152
unclean.leader.election.enable = false

[key]
schema = "com.acme.OrderKey"
strategy = "record_name"

[value]
schema = "com.acme.Order"
"#;

    fn file() -> &'static Path {
        Path::new("topics/orders.toml")
    }

    fn problems(text: &str) -> Vec<String> {
        parse(file(), text).expect_err("must be refused")
    }

    #[test]
    fn a_full_file_is_read() {
        let t = parse(file(), FULL).unwrap();
        assert_eq!(t.name, "orders");
        assert_eq!(t.partitions, 3);
        assert_eq!(t.replication_factor, Some(3));
        assert_eq!(t.cleanup_policy, Some(CleanupPolicy::CompactDelete));
        assert_eq!(
            t.retention,
            Some(Retention::For(Duration::from_secs(7 * 86_400)))
        );
        assert_eq!(
            t.key,
            Some(SchemaRef {
                schema: "com.acme.OrderKey".into(),
                subject: "com.acme.OrderKey".into()
            })
        );
        assert_eq!(
            t.value.as_ref().map(|v| v.subject.as_str()),
            Some("orders-value")
        );
        let c = t.configs();
        let expect: BTreeMap<String, String> = [
            ("cleanup.policy", "compact,delete"),
            ("max.message.bytes", "2097152"),
            ("min.insync.replicas", "2"),
            ("retention.ms", "604800000"),
            ("segment.bytes", "104857600"),
            ("unclean.leader.election.enable", "false"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect();
        assert_eq!(c, expect);
    }

    #[test]
    fn optional_keys_may_be_left_out() {
        let t = parse(
            file(),
            "name = \"a\"\ndescription = \"d\"\nowner = \"o\"\npartitions = 1\nretention = \"forever\"\n",
        )
        .unwrap();
        assert_eq!(t.replication_factor, None);
        assert_eq!(t.cleanup_policy, None);
        assert_eq!(t.key, None);
        assert_eq!(
            t.configs().get("retention.ms").map(String::as_str),
            Some("-1")
        );
    }

    #[test]
    fn every_problem_of_a_file_is_listed_with_its_key() {
        let p = problems(
            r#"
name = "bad name"
owner = 7
partitions = 0
replicas = 3
cleanup_policy = "sometimes"
retention = "a while"
[config]
"retention.ms" = "5"
"segment.bytes" = 1.5
[value]
shema = "x"
"#,
        );
        let expect = [
            "topics/orders.toml: name: \"bad name\" has ' '",
            "topics/orders.toml: description: required value is missing",
            "topics/orders.toml: owner: expected a string, found integer",
            "topics/orders.toml: partitions: must be at least 1 (found 0)",
            "topics/orders.toml: replicas: unknown key (expected one of: name,",
            "topics/orders.toml: cleanup_policy: \"sometimes\" is not one of",
            "topics/orders.toml: retention: \"a while\" is not a duration",
            "topics/orders.toml: config.retention.ms: set it with the `retention` key instead",
            "topics/orders.toml: config.segment.bytes: expected a string, found float",
            "topics/orders.toml: value.schema: required value is missing",
            "topics/orders.toml: value.shema: unknown key (expected one of: schema, subject, strategy)",
        ];
        for e in expect {
            assert!(
                p.iter().any(|l| l.starts_with(e)),
                "missing {e:?} in {p:#?}"
            );
        }
        assert_eq!(p.len(), expect.len(), "{p:#?}");
    }

    #[test]
    fn impossible_combinations_are_refused() {
        let p = problems(
            "name = \"a\"\ndescription = \"d\"\nowner = \"o\"\npartitions = 1\nreplication_factor = 1\nmin_insync_replicas = 2\ncleanup_policy = \"compact\"\nretention = \"1d\"\n[key]\nschema = \"a.B\"\nsubject = \"s\"\nstrategy = \"topic_name\"\n",
        );
        assert_eq!(p.len(), 3, "{p:#?}");
        for e in [
            "min_insync_replicas: 2 is more than replication_factor 1",
            "retention: has no effect with cleanup_policy = \"compact\"",
            "key.subject: give a subject or a strategy, not both",
        ] {
            assert!(p.iter().any(|l| l.contains(e)), "missing {e:?} in {p:#?}");
        }
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let p = problems("name = \"a\"\npartitions = \n");
        assert_eq!(p.len(), 1);
        assert!(
            p[0].starts_with("topics/orders.toml: line 2, column"),
            "{p:?}"
        );
        assert!(!p[0].contains('\n'));
    }

    #[test]
    fn topic_and_schema_names_are_checked() {
        assert!(check_topic_name("weft.retry.10s").is_ok());
        assert!(check_topic_name("_schemas").is_ok());
        assert!(check_topic_name("..").is_err());
        assert!(check_topic_name(&"x".repeat(250)).is_err());
        assert!(check_full_name("weft.DeadLetter").is_ok());
        assert!(check_full_name("weft.9lives").is_err());
        assert!(check_full_name("a..b").is_err());
    }

    #[test]
    fn retention_and_cleanup_policy_values() {
        assert_eq!(
            Retention::parse("14d").map(Retention::as_millis),
            Ok(1_209_600_000)
        );
        assert_eq!(
            Retention::parse("10s").map(Retention::as_millis),
            Ok(10_000)
        );
        assert_eq!(
            Retention::parse("forever").map(Retention::as_millis),
            Ok(-1)
        );
        assert!(Retention::parse("0s").is_err());
        assert_eq!(
            CleanupPolicy::parse("delete, compact"),
            Some(CleanupPolicy::CompactDelete)
        );
        assert_eq!(CleanupPolicy::parse("compact,compact"), None);
    }

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    #[test]
    fn a_folder_lists_the_problems_of_every_file_and_across_files() {
        let root = tempfile::tempdir().unwrap();
        let topics = root.path().join("topics");
        let schemas = root.path().join("schemas");
        std::fs::create_dir_all(&topics).unwrap();
        std::fs::create_dir_all(&schemas).unwrap();
        let base = "description = \"d\"\nowner = \"o\"\npartitions = 1\n";
        write(
            &topics,
            "a.toml",
            &format!("name = \"a.b\"\n{base}[value]\nschema = \"x.Y\"\n"),
        );
        write(&topics, "b.toml", &format!("name = \"a.b\"\n{base}"));
        write(&topics, "c.toml", &format!("name = \"a_b\"\n{base}"));
        write(&topics, "d.toml", "name = \"d\"\npartitions = -1\n");
        write(
            &topics,
            "e.toml",
            &format!("name = \"e\"\n{base}[value]\nschema = \"x.Z\"\n"),
        );
        write(&topics, "README.md", "not a topic");
        write(
            &schemas,
            "x.Z.avsc",
            r#"{"type":"record","name":"Other","namespace":"x","fields":[]}"#,
        );
        let e = load_dir(&topics, &schemas).expect_err("invalid");
        let t = topics.display().to_string();
        let s = schemas.display().to_string();
        let expect = [
            format!("{t}/a.toml: value.schema: no schema file {s}/x.Y.avsc for \"x.Y\""),
            format!("{t}/d.toml: description: required value is missing"),
            format!("{t}/d.toml: owner: required value is missing"),
            format!("{t}/d.toml: partitions: must be at least 1 (found -1)"),
            format!("{t}/e.toml: value.schema: {s}/x.Z.avsc declares \"x.Other\", not \"x.Z\""),
            format!("{t}/b.toml: name: topic \"a.b\" is also defined in {t}/a.toml"),
            format!("{t}/c.toml: name: \"a_b\" collides with \"a.b\" in {t}/a.toml"),
        ];
        for x in &expect {
            assert!(
                e.problems.iter().any(|p| p.starts_with(x.as_str())),
                "missing {x:?} in {:#?}",
                e.problems
            );
        }
        assert_eq!(e.problems.len(), expect.len(), "{:#?}", e.problems);
        assert!(e
            .to_string()
            .starts_with("invalid topic files (7 problems):"));
    }

    #[test]
    fn an_empty_or_missing_folder_is_an_error() {
        let root = tempfile::tempdir().unwrap();
        let e = load_dir(root.path(), root.path()).expect_err("empty");
        assert!(e.to_string().contains("no topic files"), "{e}");
        let e = load_dir(&root.path().join("nope"), root.path()).expect_err("missing");
        assert!(e.to_string().contains("cannot read the folder"), "{e}");
    }

    #[test]
    fn the_example_of_the_topics_readme_is_valid() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let readme = std::fs::read_to_string(root.join("topics/README.md")).unwrap();
        let example = readme
            .split("```toml\n")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .expect("a toml block");
        let t = parse(Path::new("README.md"), example).unwrap_or_else(|p| panic!("{p:#?}"));
        assert_eq!(t.name, "orders");
        assert_eq!(t.value.map(|v| v.subject).as_deref(), Some("orders-value"));
    }

    #[test]
    fn the_repositorys_own_topics_are_valid() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let topics =
            load_dir(&root.join("topics"), &root.join("schemas")).unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<&str> = topics.iter().map(|t| t.name.as_str()).collect();
        for n in [
            "weft.dlq",
            "_schemas",
            "ingest.github",
            "demo.github.events",
        ] {
            assert!(names.contains(&n), "{n} missing from {names:?}");
        }
    }
}
