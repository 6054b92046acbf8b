//! `weft topics list|create|plan|apply`: topics on the cluster, and the topic files of
//! `topics/` applied to it (the decisions are in `contracts::plan`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use weft_kafka::admin::{Admin, TopicSpec};
use weft_kafka::KafkaConfig;

use crate::contracts::plan::{self, Action, Actual, Desired, Plan};
use crate::contracts::topics::{self as files, RETENTION_MS};

const METADATA_TIMEOUT: Duration = Duration::from_secs(10);
/// How long `apply` waits for the cluster to show what it changed.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(15);
/// Unmanaged topics named in a plan before "and N more".
const UNMANAGED_SHOWN: usize = 10;

#[derive(Debug, clap::Subcommand)]
pub enum TopicsCommand {
    /// Lists the cluster's topics: partitions, replication factor, cleanup policy, retention.
    List,
    /// Creates one topic (an existing topic is left as it is).
    Create {
        name: String,
        #[arg(long, default_value_t = 1)]
        partitions: i32,
        #[arg(long, default_value_t = 1)]
        replication_factor: i32,
        /// Topic configs, `key=value` (repeatable).
        #[arg(long = "topic-config")]
        configs: Vec<String>,
    },
    /// Shows what `apply` would change so the cluster matches the topic files (the broker
    /// checks every change without making it). Exit 1 when a change is refused.
    Plan {
        #[command(flatten)]
        files: FilesArgs,
        /// Exit 2 when there are changes to apply (0 when none), like terraform.
        #[arg(long)]
        detailed_exitcode: bool,
    },
    /// Creates topics, adds partitions and alters configs so the cluster matches the topic
    /// files. Never removes partitions; deletes only with --delete-unmanaged.
    Apply {
        #[command(flatten)]
        files: FilesArgs,
    },
}

#[derive(Debug, clap::Args)]
pub struct FilesArgs {
    /// The folder of topic files (one `<topic>.toml` per topic).
    #[arg(long, default_value = "topics")]
    pub dir: PathBuf,
    /// The folder of the `.avsc` files the topic files name (default: `schemas` next to the
    /// topic folder).
    #[arg(long)]
    pub schemas: Option<PathBuf>,
    /// Also delete topics that are on the cluster and in no file (internal topics `__*` and
    /// `_schemas` never are).
    #[arg(long)]
    pub delete_unmanaged: bool,
    /// Plan only topics whose names start with this: other files are skipped, other topics on
    /// the cluster are neither reported nor deleted.
    #[arg(long)]
    pub scope: Option<String>,
}

impl FilesArgs {
    fn schemas_dir(&self) -> PathBuf {
        self.schemas.clone().unwrap_or_else(|| {
            self.dir
                .parent()
                .map_or_else(|| PathBuf::from("schemas"), |p| p.join("schemas"))
        })
    }

    fn options(&self) -> plan::Options {
        plan::Options {
            delete_unmanaged: self.delete_unmanaged,
            scope: self.scope.clone(),
        }
    }
}

pub async fn run(kafka: &KafkaConfig, cmd: TopicsCommand) -> anyhow::Result<ExitCode> {
    let admin = Admin::new(kafka)?;
    match cmd {
        TopicsCommand::List => list(&admin).await?,
        TopicsCommand::Create {
            name,
            partitions,
            replication_factor,
            configs,
        } => {
            let mut spec = TopicSpec::new(&name, partitions);
            spec.replication_factor = replication_factor;
            for c in &configs {
                let (k, v) = c
                    .split_once('=')
                    .with_context(|| format!("--topic-config {c:?}: expected key=value"))?;
                spec = spec.config(k, v);
            }
            for (topic, created) in admin.create_topics(&[spec]).await? {
                println!(
                    "{topic}: {}",
                    if created { "created" } else { "already exists" }
                );
            }
        }
        TopicsCommand::Plan {
            files,
            detailed_exitcode,
        } => {
            let changes = plan_command(&admin, &files).await?;
            if detailed_exitcode && changes {
                return Ok(ExitCode::from(2));
            }
        }
        TopicsCommand::Apply { files } => apply_command(&admin, &files).await?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The topic files as the plan wants them.
fn load(args: &FilesArgs) -> anyhow::Result<Vec<Desired>> {
    let topics = files::load_dir(&args.dir, &args.schemas_dir())?;
    Ok(topics.iter().map(Desired::from).collect())
}

/// Every topic of the cluster; configs only for the topics the files name.
async fn read_cluster(admin: &Admin, desired: &[Desired]) -> anyhow::Result<Vec<Actual>> {
    let topics = admin.describe(None, METADATA_TIMEOUT)?;
    let managed: Vec<&str> = topics
        .iter()
        .map(|t| t.name.as_str())
        .filter(|n| desired.iter().any(|d| d.name == *n))
        .collect();
    let mut configs = admin.describe_topic_configs(&managed).await?;
    Ok(topics
        .iter()
        .map(|t| Actual {
            name: t.name.clone(),
            partitions: t.partitions,
            replication_factor: t.replication_factor,
            configs: configs.remove(&t.name).unwrap_or_default(),
        })
        .collect())
}

async fn make_plan(admin: &Admin, args: &FilesArgs) -> anyhow::Result<(Vec<Desired>, Plan)> {
    let desired = load(args)?;
    let actual = read_cluster(admin, &desired).await?;
    let p = plan::plan(&desired, &actual, &args.options());
    Ok((desired, p))
}

/// Makes (or with `validate_only`, has the broker check) one change.
async fn execute(admin: &Admin, action: &Action, validate_only: bool) -> anyhow::Result<()> {
    match action {
        Action::Create {
            topic,
            partitions,
            replication_factor,
            configs,
        } => {
            let spec = TopicSpec {
                name: topic.clone(),
                partitions: *partitions,
                replication_factor: replication_factor.unwrap_or(-1),
                configs: configs
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            };
            let created = admin.create_topics_with(&[spec], validate_only).await?;
            if created.iter().any(|(_, created)| !created) {
                bail!("topic {topic} already exists (created since the plan was made)");
            }
        }
        Action::AddPartitions { topic, to, .. } => {
            admin.create_partitions(topic, *to, validate_only).await?;
        }
        Action::AlterConfigs { topic, changes } => {
            let set: BTreeMap<String, String> = changes
                .iter()
                .map(|c| (c.key.clone(), c.to.clone()))
                .collect();
            admin
                .alter_topic_configs(topic, &set, validate_only)
                .await?;
        }
        Action::Delete { topic, .. } => {
            // Kafka has no validate-only deletion.
            if !validate_only {
                admin.delete_topics(&[topic]).await?;
            }
        }
    }
    Ok(())
}

/// Has the broker check every action; the failures, by action index.
async fn validate(admin: &Admin, p: &Plan) -> Vec<(usize, String)> {
    let mut failed = Vec::new();
    for (i, a) in p.actions.iter().enumerate() {
        if let Err(e) = execute(admin, a, true).await {
            failed.push((i, e.to_string()));
        }
    }
    failed
}

/// The topics the plan leaves alone, in one line each kind.
fn print_notes(p: &Plan, args: &FilesArgs) {
    let dir = args.dir.display();
    if !p.unmanaged.is_empty() {
        println!(
            "? unmanaged, kept (on the cluster, in no file of {dir}; --delete-unmanaged deletes \
             them): {}",
            some_names(&p.unmanaged)
        );
    }
    if !p.skipped.is_empty() {
        println!("? outside --scope, not planned: {}", some_names(&p.skipped));
    }
}

/// `a, b, c` or `a, b, … and 12 more`.
fn some_names(names: &[String]) -> String {
    let mut s = names
        .iter()
        .take(UNMANAGED_SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > UNMANAGED_SHOWN {
        let _ = write!(s, ", and {} more", names.len() - UNMANAGED_SHOWN);
    }
    s
}

/// Prints the plan; whether there are changes. Fails when a change is refused (by the plan or
/// by the broker's check).
async fn plan_command(admin: &Admin, args: &FilesArgs) -> anyhow::Result<bool> {
    let (_, p) = make_plan(admin, args).await?;
    let rejected = validate(admin, &p).await;
    for (i, a) in p.actions.iter().enumerate() {
        println!("{a}");
        if let Some((_, why)) = rejected.iter().find(|(j, _)| *j == i) {
            println!("  ! the broker refuses this: {why}");
        }
    }
    for r in &p.refusals {
        println!("{r}");
    }
    print_notes(&p, args);
    if p.is_empty() && p.refusals.is_empty() {
        println!("No changes: the cluster matches {}.", args.dir.display());
    } else {
        println!("Plan: {}.", p.summary());
    }
    refuse_if_any(&p, &rejected)?;
    Ok(!p.is_empty())
}

fn refuse_if_any(p: &Plan, rejected: &[(usize, String)]) -> anyhow::Result<()> {
    match (p.refusals.len(), rejected.len()) {
        (0, 0) => Ok(()),
        (0, n) => bail!("the broker refuses {}; nothing was changed", changes(n)),
        (n, 0) => bail!("{} refused; nothing was changed", changes(n)),
        (n, m) => bail!(
            "{} refused and the broker refuses {} more; nothing was changed",
            changes(n),
            changes(m)
        ),
    }
}

/// `1 change`, `2 changes`.
fn changes(n: usize) -> String {
    if n == 1 {
        "1 change".into()
    } else {
        format!("{n} changes")
    }
}

async fn apply_command(admin: &Admin, args: &FilesArgs) -> anyhow::Result<()> {
    let (desired, p) = make_plan(admin, args).await?;
    if !p.refusals.is_empty() {
        for r in &p.refusals {
            println!("{r}");
        }
        refuse_if_any(&p, &[])?;
    }
    let rejected = validate(admin, &p).await;
    if !rejected.is_empty() {
        for (i, why) in &rejected {
            if let Some(a) = p.actions.get(*i) {
                println!("{a}\n  ! the broker refuses this: {why}");
            }
        }
        refuse_if_any(&p, &rejected)?;
    }
    if p.is_empty() {
        print_notes(&p, args);
        println!("No changes: the cluster matches {}.", args.dir.display());
        return Ok(());
    }
    for (done, a) in p.actions.iter().enumerate() {
        if let Err(e) = execute(admin, a, false).await {
            let first = a.to_string();
            let first = first.lines().next().unwrap_or_default();
            bail!(
                "{first}: {e} ({done} of {} changes were made before this one)",
                p.actions.len()
            );
        }
        println!("{a}");
    }
    print_notes(&p, args);
    println!("Applied: {}.", p.summary());
    settle(admin, args, &desired).await
}

/// Waits until the cluster shows every change (a new plan is empty), at most
/// [`SETTLE_TIMEOUT`]: the next `plan` or `apply` then sees the new state.
async fn settle(admin: &Admin, args: &FilesArgs, desired: &[Desired]) -> anyhow::Result<()> {
    let start = Instant::now();
    loop {
        let actual = read_cluster(admin, desired).await?;
        let p = plan::plan(desired, &actual, &args.options());
        if p.is_empty() {
            return Ok(());
        }
        if start.elapsed() >= SETTLE_TIMEOUT {
            bail!(
                "the changes were made, but after {SETTLE_TIMEOUT:?} the cluster still shows a \
                 difference: {}",
                p.summary()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `weft topics list`: one aligned row per topic.
async fn list(admin: &Admin) -> anyhow::Result<()> {
    let mut topics = admin.describe(None, METADATA_TIMEOUT)?;
    topics.sort_by(|a, b| a.name.cmp(&b.name));
    let names: Vec<&str> = topics.iter().map(|t| t.name.as_str()).collect();
    let configs = admin.describe_topic_configs(&names).await?;
    let mut rows = vec![[
        "TOPIC".to_string(),
        "PARTITIONS".into(),
        "RF".into(),
        "CLEANUP".into(),
        "RETENTION".into(),
    ]];
    for t in &topics {
        let c = configs.get(&t.name);
        let get = |k: &str| {
            c.and_then(|c| c.get(k))
                .and_then(|v| v.value.clone())
                .unwrap_or_else(|| "?".into())
        };
        rows.push([
            t.name.clone(),
            t.partitions.to_string(),
            t.replication_factor.to_string(),
            get(files::CLEANUP_POLICY),
            show_retention(&get(RETENTION_MS)),
        ]);
    }
    print!("{}", table(&rows));
    Ok(())
}

fn show_retention(ms: &str) -> String {
    plan::human_ms(ms).unwrap_or_else(|| ms.to_string())
}

/// Left-aligned columns, two spaces apart.
fn table<const N: usize>(rows: &[[String; N]]) -> String {
    let mut widths = [0usize; N];
    for r in rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (i, (cell, w)) in r.iter().zip(widths).enumerate() {
            if i + 1 == N {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<w$}  ");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_and_retention_reads_well() {
        let rows = [
            ["a".to_string(), "1".into()],
            ["longer".to_string(), "22".into()],
        ];
        assert_eq!(table(&rows), "a       1\nlonger  22\n");
        assert_eq!(show_retention("-1"), "forever");
        assert_eq!(show_retention("1209600000"), "14d");
        assert_eq!(show_retention("?"), "?");
    }

    #[test]
    fn schemas_sit_next_to_the_topic_folder_by_default() {
        let mut a = FilesArgs {
            dir: PathBuf::from("topics"),
            schemas: None,
            delete_unmanaged: false,
            scope: None,
        };
        assert_eq!(a.schemas_dir(), PathBuf::from("schemas"));
        a.dir = PathBuf::from("/x/contracts/topics");
        assert_eq!(a.schemas_dir(), PathBuf::from("/x/contracts/schemas"));
        a.schemas = Some(PathBuf::from("/s"));
        assert_eq!(a.schemas_dir(), PathBuf::from("/s"));
    }
}
