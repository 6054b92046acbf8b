//! `weft flows list|check|test|dry-run`: the flow files of `flows/`, checked against the
//! repository's contracts, their fixture cases, and what they would do to real records.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use weft_kafka::{KafkaConfig, Record, Role};
use weft_route::engine::Decision;
use weft_route::{fixtures, Catalog, Flow, FlowProcessor, FlowsConfig};
use weft_schema::{RegistryClientConfig, SchemaCache};

use crate::contracts::topics;

#[derive(Debug, Args)]
pub struct Dirs {
    /// The flows folder (default: `flows.dir` of weft.toml, `flows`).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// The topic files flows are checked against.
    #[arg(long)]
    pub topics: Option<PathBuf>,
    /// The schema files.
    #[arg(long)]
    pub schemas: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum FlowsCommand {
    /// Lists the flows: inputs, transform, destinations.
    List(Dirs),
    /// Checks every flow file against topics/ and schemas/; exit 1 with every problem.
    Check(Dirs),
    /// Runs the fixture cases (`flows/fixtures/<flow>.toml`) without Kafka; exit 1 on a
    /// mismatch, with the differences.
    Test {
        /// One flow (default: every flow).
        flow: Option<String>,
        #[command(flatten)]
        dirs: Dirs,
    },
    /// Reads the last N records of the flow's input topics from the broker and prints what
    /// each would become and where it would go. Produces nothing, commits nothing.
    DryRun {
        flow: String,
        /// Records to read (the newest, over all input partitions).
        #[arg(long, default_value_t = 10)]
        limit: usize,
        #[command(flatten)]
        dirs: Dirs,
    },
}

struct Folders {
    flows: PathBuf,
    topics: PathBuf,
    schemas: PathBuf,
}

fn folders(cfg: &FlowsConfig, d: &Dirs) -> Folders {
    Folders {
        flows: d.dir.clone().unwrap_or_else(|| cfg.dir.clone()),
        topics: d.topics.clone().unwrap_or_else(|| cfg.topics.clone()),
        schemas: d.schemas.clone().unwrap_or_else(|| cfg.schemas.clone()),
    }
}

/// The contracts flows are checked against: every topic file and every `.avsc` file.
pub fn catalog(topics_dir: &Path, schemas_dir: &Path) -> anyhow::Result<Catalog> {
    let mut c = Catalog::default();
    if topics_dir.is_dir() {
        let files = topics::load_dir(topics_dir, schemas_dir)?;
        for t in files {
            c.topics.insert(t.name, t.value.map(|v| v.schema));
        }
    }
    if schemas_dir.is_dir() {
        for entry in std::fs::read_dir(schemas_dir)
            .with_context(|| format!("reading {}", schemas_dir.display()))?
        {
            let path = entry?.path();
            if path.extension().is_some_and(|x| x == "avsc") {
                let name = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?;
                c.schemas.insert(name, text);
            }
        }
    }
    Ok(c)
}

/// Loads every flow of the configured folders; an error lists every problem.
pub fn load_flows(cfg: &FlowsConfig, d: Option<&Dirs>) -> anyhow::Result<Vec<Flow>> {
    let empty = Dirs {
        dir: None,
        topics: None,
        schemas: None,
    };
    let f = folders(cfg, d.unwrap_or(&empty));
    let catalog = catalog(&f.topics, &f.schemas)?;
    weft_route::load_dir(&f.flows, &catalog).map_err(|problems| {
        anyhow::anyhow!(
            "invalid flows ({} problem{}):\n  {}",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" },
            problems.join("\n  ")
        )
    })
}

pub async fn run(
    cfg: &FlowsConfig,
    kafka: &KafkaConfig,
    registry: &RegistryClientConfig,
    cmd: FlowsCommand,
) -> anyhow::Result<ExitCode> {
    match cmd {
        FlowsCommand::List(d) => {
            for f in load_flows(cfg, Some(&d))? {
                let kind = match &f.transform {
                    weft_route::Transform::None if f.output.is_some() => "schema conversion",
                    weft_route::Transform::None => "route only",
                    weft_route::Transform::Direct(_) => "field mappings",
                    weft_route::Transform::Program { .. } => "program",
                };
                let to: Vec<String> = f.destinations().iter().map(|t| t.to_string()).collect();
                println!(
                    "{}\t{} -> {} [{kind}, {} routes]\t{}",
                    f.name,
                    f.spec.from.join(","),
                    to.join(","),
                    f.routes.len(),
                    f.file.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        FlowsCommand::Check(d) => {
            let flows = load_flows(cfg, Some(&d))?;
            println!("{} flows OK", flows.len());
            Ok(ExitCode::SUCCESS)
        }
        FlowsCommand::Test { flow, dirs } => test(cfg, flow.as_deref(), &dirs),
        FlowsCommand::DryRun { flow, limit, dirs } => {
            dry_run(cfg, kafka, registry, &flow, limit, &dirs).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn test(cfg: &FlowsConfig, only: Option<&str>, d: &Dirs) -> anyhow::Result<ExitCode> {
    let flows = load_flows(cfg, Some(d))?;
    let dir = folders(cfg, d).flows;
    let selected: Vec<&Flow> = flows
        .iter()
        .filter(|f| only.is_none_or(|o| o == f.name))
        .collect();
    if let (Some(o), true) = (only, selected.is_empty()) {
        let names: Vec<&str> = flows.iter().map(|f| f.name.as_str()).collect();
        bail!("no flow named {o:?} (flows: {})", names.join(", "));
    }
    let (mut passed, mut failed, mut missing) = (0, 0, Vec::new());
    for f in selected {
        let file = fixtures::fixture_file(&dir, &f.name);
        if !file.exists() {
            missing.push(format!("{} (no {})", f.name, file.display()));
            continue;
        }
        let cases = fixtures::read(&file).map_err(anyhow::Error::msg)?;
        for r in fixtures::run(f, &cases) {
            if r.passed() {
                passed += 1;
                println!("ok    {}: {}", f.name, r.name);
            } else {
                failed += 1;
                println!("FAIL  {}: {}", f.name, r.name);
                for p in &r.problems {
                    println!("        {p}");
                }
            }
        }
    }
    for m in &missing {
        println!("none  {m}");
    }
    println!(
        "{passed} passed, {failed} failed, {} flows without fixtures",
        missing.len()
    );
    // A flow asked for by name must have cases; every flow needs them when all are tested.
    Ok(if failed > 0 || !missing.is_empty() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

async fn dry_run(
    cfg: &FlowsConfig,
    kafka: &KafkaConfig,
    registry: &RegistryClientConfig,
    name: &str,
    limit: usize,
    d: &Dirs,
) -> anyhow::Result<()> {
    let flows = load_flows(cfg, Some(d))?;
    let Some(flow) = flows.into_iter().find(|f| f.name == name) else {
        bail!("no flow named {name:?}");
    };
    let flow = Arc::new(flow);
    let schemas = Arc::new(SchemaCache::from_config(registry)?);
    // Decoding only: output schema ids are not needed, so nothing is registered.
    let processor = FlowProcessor::for_dry_run(flow.clone(), schemas);
    let kafka = kafka.clone();
    let topics = flow.spec.from.clone();
    let records =
        tokio::task::spawn_blocking(move || last_records(&kafka, &topics, limit)).await??;
    eprintln!(
        "{} records read from {}",
        records.len(),
        flow.spec.from.join(", ")
    );
    for r in &records {
        let at = format!("{}-{}@{}", r.topic, r.partition, r.offset);
        let line = match processor.decide(r).await {
            Ok(None) => "tombstone -> every destination".to_string(),
            Ok(Some(Decision::Filtered { by })) => format!("filtered by the {by}"),
            Ok(Some(Decision::Routed { event, outputs, .. })) => {
                let to: Vec<String> = outputs
                    .iter()
                    .map(|o| format!("{} (route {})", o.topic, o.route))
                    .collect();
                let json = flow
                    .event_schema()
                    .codec
                    .to_json(&event)
                    .map_or_else(|e| format!("<{e}>"), |j| j.to_string());
                format!("-> {}  {json}", to.join(", "))
            }
            Err(e) => format!("-> dead letter ({}): {}", e.code, e.message),
        };
        println!("{at}  {line}");
    }
    Ok(())
}

/// The newest `limit` records over every partition of `topics`, oldest first.
fn last_records(
    kafka: &KafkaConfig,
    topics: &[String],
    limit: usize,
) -> anyhow::Result<Vec<Record>> {
    let consumer: BaseConsumer = kafka
        .client_config(Role::Consumer, "flows-dry-run")
        .set("group.id", "weft.flows.dry-run")
        .set("enable.auto.commit", "false")
        .set("isolation.level", "read_committed")
        .create()
        .context("creating the consumer")?;
    let timeout = Duration::from_secs(10);
    let mut parts = Vec::new();
    for t in topics {
        let md = consumer
            .fetch_metadata(Some(t), timeout)
            .with_context(|| format!("reading the metadata of {t}"))?;
        let count = md
            .topics()
            .first()
            .map(|m| m.partitions().len())
            .unwrap_or(0);
        if count == 0 {
            bail!("topic {t} does not exist");
        }
        for p in 0..i32::try_from(count).unwrap_or(i32::MAX) {
            let (low, high) = consumer
                .fetch_watermarks(t, p, timeout)
                .with_context(|| format!("reading the offsets of {t}-{p}"))?;
            if high > low {
                parts.push(Span {
                    topic: t.clone(),
                    partition: p,
                    low,
                    high,
                    start: low,
                });
            }
        }
    }
    // Offsets are not records: transaction markers and aborted records take offsets too. A
    // partition that gave fewer than `limit` records is read again from further back.
    let want = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut window = vec![want; parts.len()];
    let mut out = Vec::new();
    for _ in 0..10 {
        for (s, w) in parts.iter_mut().zip(&window) {
            s.start = s.high.saturating_sub(*w).max(s.low);
        }
        out = read_spans(&consumer, topics, &parts)?;
        let mut again = false;
        for (i, s) in parts.iter().enumerate() {
            let got = out
                .iter()
                .filter(|r| r.partition == s.partition && r.topic.as_ref() == s.topic)
                .count();
            if got < limit && s.start > s.low {
                window[i] = window[i].saturating_mul(4);
                again = true;
            }
        }
        if !again {
            break;
        }
    }
    out.sort_by_key(|r| (r.timestamp_ms.unwrap_or(0), r.partition, r.offset));
    let skip = out.len().saturating_sub(limit);
    Ok(out.split_off(skip))
}

/// The offsets of one partition: its watermarks, and where reading starts.
struct Span {
    topic: String,
    partition: i32,
    low: i64,
    high: i64,
    start: i64,
}

/// Every committed record of each span from its start to the end offset seen before.
fn read_spans(
    consumer: &BaseConsumer,
    topics: &[String],
    spans: &[Span],
) -> anyhow::Result<Vec<Record>> {
    let mut tpl = TopicPartitionList::new();
    for s in spans {
        tpl.add_partition_offset(&s.topic, s.partition, Offset::Offset(s.start))?;
    }
    let mut out = Vec::new();
    if spans.is_empty() {
        return Ok(out);
    }
    consumer.assign(&tpl)?;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let names: Vec<Arc<str>> = topics.iter().map(|t| Arc::from(t.as_str())).collect();
    let mut done = vec![false; spans.len()];
    while !done.iter().all(|d| *d) {
        if std::time::Instant::now() >= deadline {
            eprintln!(
                "only {} of {} partitions were read to their end within 30 s; showing what was read",
                done.iter().filter(|d| **d).count(),
                spans.len()
            );
            break;
        }
        if let Some(m) = consumer.poll(Duration::from_millis(200)) {
            let m = m.context("reading")?;
            use rdkafka::Message as _;
            let name = names
                .iter()
                .find(|t| t.as_ref() == m.topic())
                .cloned()
                .unwrap_or_else(|| Arc::from(m.topic()));
            let r = Record::from_borrowed(&m, name);
            let inside = spans
                .iter()
                .any(|s| s.partition == r.partition && s.topic == m.topic() && r.offset < s.high);
            if inside {
                out.push(r);
            }
        }
        // A partition is read to its end when the consumer's position reaches the end offset
        // seen at the start: the last offsets of a transactionally written partition are
        // commit markers no reader is given, so a record's offset alone cannot tell.
        let positions = consumer.position().context("reading the positions")?;
        for (s, d) in spans.iter().zip(done.iter_mut()) {
            let at = positions
                .find_partition(&s.topic, s.partition)
                .map(|e| e.offset());
            if let Some(Offset::Offset(at)) = at {
                *d = *d || at >= s.high;
            }
        }
    }
    consumer.unassign()?;
    Ok(out)
}
