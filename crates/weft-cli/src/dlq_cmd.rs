//! `weft dlq stats|list|show`: what is in a dead-letter topic, grouped, filtered and decoded.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;
use weft_core::time::format_millis;
use weft_dead_letter::filter::{parse_header, parse_time};
use weft_dead_letter::scan::read_one;
use weft_dead_letter::{scan, Entry, Filter, Position, ScanProgress, Stats};
use weft_kafka::KafkaConfig;
use weft_schema::{RegistryClientConfig, SchemaCache};

#[derive(Debug, Clone, Copy, Default, ValueEnum)]
pub enum Output {
    #[default]
    Text,
    Json,
}

/// The selection, as flags.
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// The dead-letter topic
    #[arg(long, default_value = "weft.dlq")]
    pub topic: String,
    /// Written at or after: RFC 3339, ms since the epoch, or a duration before now (2h, 7d)
    #[arg(long)]
    pub since: Option<String>,
    /// Written before (same forms as --since)
    #[arg(long)]
    pub until: Option<String>,
    /// The topic the records came from
    #[arg(long = "source-topic")]
    pub source_topic: Option<String>,
    /// Error code (a foreign dead letter's exception class); repeatable, any of them
    #[arg(long = "error-code")]
    pub error_codes: Vec<String>,
    #[arg(long)]
    pub fingerprint: Option<String>,
    /// The record key (UTF-8)
    #[arg(long)]
    pub key: Option<String>,
    /// A header that must have this value, name=value; repeatable, all of them
    #[arg(long = "header")]
    pub headers: Vec<String>,
    /// The value's writer schema id
    #[arg(long = "schema-id")]
    pub schema_id: Option<u32>,
}

impl FilterArgs {
    pub fn filter(&self) -> anyhow::Result<Filter> {
        Ok(Filter {
            since_ms: self
                .since
                .as_deref()
                .map(|t| parse_time("--since", t))
                .transpose()?,
            until_ms: self
                .until
                .as_deref()
                .map(|t| parse_time("--until", t))
                .transpose()?,
            source_topic: self.source_topic.clone(),
            error_codes: self.error_codes.clone(),
            fingerprint: self.fingerprint.clone(),
            key: self.key.clone(),
            headers: self
                .headers
                .iter()
                .map(|h| parse_header(h))
                .collect::<Result<_, _>>()?,
            schema_id: self.schema_id,
        })
    }
}

#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// Counts by source topic, stage, error code and fingerprint, oldest and newest
    Stats {
        #[command(flatten)]
        filter: FilterArgs,
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
    /// The selected dead letters, one per line (JSON lines with --output json)
    List {
        #[command(flatten)]
        filter: FilterArgs,
        /// Stop after this many
        #[arg(long)]
        limit: Option<u64>,
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
    /// One dead letter: headers, the failure, and the value decoded with its writer schema
    Show {
        /// partition:offset in the dead-letter topic (as `weft dlq list` shows them)
        at: Position,
        #[arg(long, default_value = "weft.dlq")]
        topic: String,
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
}

pub async fn run(
    kafka: &KafkaConfig,
    registry: &RegistryClientConfig,
    cmd: DlqCommand,
) -> anyhow::Result<ExitCode> {
    match cmd {
        DlqCommand::Stats { filter, output } => {
            let f = filter.filter()?;
            let (kafka, topic) = (kafka.clone(), filter.topic.clone());
            let stats = tokio::task::spawn_blocking(move || -> anyhow::Result<Stats> {
                let mut stats = Stats::default();
                scan(
                    &kafka,
                    &topic,
                    f.since_ms,
                    |r| {
                        let e = Entry::from_record(r);
                        if f.matches(&e) {
                            stats.add(&e);
                        }
                        true
                    },
                    show_progress,
                )?;
                Ok(stats)
            })
            .await??;
            clear_progress();
            match output {
                Output::Text => print!("{}", stats.to_text(&filter.topic)),
                Output::Json => println!("{}", serde_json::to_string_pretty(&stats)?),
            }
        }
        DlqCommand::List {
            filter,
            limit,
            output,
        } => {
            let f = filter.filter()?;
            let (kafka, topic) = (kafka.clone(), filter.topic.clone());
            let listed = tokio::task::spawn_blocking(move || -> anyhow::Result<u64> {
                let mut n = 0u64;
                let mut out = std::io::stdout().lock();
                let mut failed = None;
                scan(
                    &kafka,
                    &topic,
                    f.since_ms,
                    |r| {
                        let e = Entry::from_record(r);
                        if !f.matches(&e) {
                            return true;
                        }
                        let line = match output {
                            Output::Text => e.summary_line(),
                            Output::Json => e.summary_json().to_string(),
                        };
                        if let Err(err) = writeln!(out, "{line}") {
                            failed = Some(err);
                            return false;
                        }
                        n += 1;
                        limit.is_none_or(|l| n < l)
                    },
                    |_| {},
                )?;
                match failed {
                    // The reader went away (`weft dlq list | head`).
                    Some(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(n),
                    Some(e) => Err(e.into()),
                    None => Ok(n),
                }
            })
            .await??;
            eprintln!("{listed} dead letters");
        }
        DlqCommand::Show { at, topic, output } => {
            let (k, t) = (kafka.clone(), topic.clone());
            let Some(record) = tokio::task::spawn_blocking(move || read_one(&k, &t, at)).await??
            else {
                bail!("no record at {}:{} in {topic}", at.partition, at.offset);
            };
            let e = Entry::from_record(record);
            let schemas = SchemaCache::from_config(registry)?;
            let decoded = match e.record.value.as_deref() {
                None => json!({"tombstone": true}),
                Some(v) => match schemas.decode(v).await {
                    Ok((id, schema, value)) => json!({
                        "schema_id": id,
                        "writer_schema": serde_json::from_str::<serde_json::Value>(&schema.text)
                            .unwrap_or(serde_json::Value::String(schema.text.clone())),
                        "value": schema.codec.to_json(&value)
                            .context("showing the decoded value as JSON")?,
                    }),
                    Err(err) => json!({
                        "error": format!("the value does not decode with its writer schema: {err}"),
                        "bytes": v.len(),
                    }),
                },
            };
            let headers: Vec<serde_json::Value> = e
                .headers()
                .iter()
                .map(|h| {
                    let v = h.value.as_deref().map(|b| match printable(b) {
                        Some(s) => json!(s),
                        None => json!({ "hex": hex(b) }),
                    });
                    json!({"name": h.key, "value": v})
                })
                .collect();
            let expected = expected_diff(&schemas, &e).await;
            let doc = json!({
                "summary": e.summary_json(),
                "headers": headers,
                "decoded": decoded,
                "expected": expected,
            });
            match output {
                Output::Json => println!("{}", serde_json::to_string_pretty(&doc)?),
                Output::Text => print!("{}", show_text(&e, &doc)),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Where the failing stage named the subject it expected the value in: what differs between
/// the value's writer schema and that subject's latest schema.
async fn expected_diff(schemas: &SchemaCache, e: &Entry) -> serde_json::Value {
    let Some(subject) = e
        .headers()
        .get_str(weft_core::dead_letter::DLQ_EXPECTED_SUBJECT)
    else {
        return serde_json::Value::Null;
    };
    let writer = match e.schema_id() {
        Some(id) => schemas.schema(id).await.map_err(|err| err.to_string()),
        None => Err("the value has no schema id".to_string()),
    };
    let expected = match schemas.subject_id(subject).await {
        Ok(id) => schemas.schema(id).await.map_err(|err| err.to_string()),
        Err(err) => Err(err.to_string()),
    };
    match (writer, expected) {
        (Ok(w), Ok(x)) => {
            let changes: Vec<String> = weft_schema::diff::diff(&w.schema, &x.schema)
                .iter()
                .map(ToString::to_string)
                .collect();
            json!({"subject": subject, "writer_schema_id": w.id, "expected_schema_id": x.id,
                   "changes": changes})
        }
        (Err(err), _) => json!({"subject": subject, "error": format!("writer schema: {err}")}),
        (_, Err(err)) => json!({"subject": subject, "error": format!("expected schema: {err}")}),
    }
}

fn show_text(e: &Entry, doc: &serde_json::Value) -> String {
    let mut s = format!(
        "dead letter {} (written {})\n",
        e.position(),
        e.timestamp_ms().map(format_millis).unwrap_or_default()
    );
    s.push_str(&format!("  {}\n\nheaders:\n", e.summary_line()));
    for h in e.headers().iter() {
        let v = match h.value.as_deref() {
            None => "(null)".to_string(),
            Some(b) => printable(b).map_or_else(|| format!("0x{}", hex(b)), str::to_string),
        };
        s.push_str(&format!("  {}: {v}\n", h.key));
    }
    s.push_str("\nvalue:\n");
    s.push_str(&serde_json::to_string_pretty(&doc["decoded"]).unwrap_or_default());
    s.push('\n');
    let x = &doc["expected"];
    if let Some(subject) = x["subject"].as_str() {
        s.push_str(&format!(
            "\nwriter schema against the latest of {subject} (what the stage expected):\n"
        ));
        match x["changes"].as_array() {
            Some(changes) if changes.is_empty() => s.push_str("  (no difference)\n"),
            Some(changes) => {
                for c in changes {
                    s.push_str(&format!("  {}\n", c.as_str().unwrap_or_default()));
                }
            }
            None => s.push_str(&format!("  {}\n", x["error"].as_str().unwrap_or_default())),
        }
    }
    s
}

/// A header value as text when it is UTF-8 without control characters (Spring's numbers are
/// binary, and mostly valid UTF-8 of control characters).
fn printable(b: &[u8]) -> Option<&str> {
    std::str::from_utf8(b).ok().filter(|s| {
        !s.chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    })
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

static SHOWN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Progress of a long read, on a terminal only.
fn show_progress(p: ScanProgress) {
    use std::io::IsTerminal as _;
    if p.total >= 10_000 && std::io::stderr().is_terminal() {
        SHOWN.store(true, std::sync::atomic::Ordering::Relaxed);
        eprint!("\rread {} of ~{} records", p.read, p.total);
    }
}

fn clear_progress() {
    if SHOWN.load(std::sync::atomic::Ordering::Relaxed) {
        eprint!("\r\x1b[K");
    }
}
