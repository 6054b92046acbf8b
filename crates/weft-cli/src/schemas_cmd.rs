//! `weft schemas list|diff|check|register`: the schemas under `schemas/`, bound to subjects by
//! the files under `topics/`, against the schema registry.

use std::path::PathBuf;

use anyhow::{bail, Context};
use apache_avro::Schema;
use weft_schema::RegistryClientConfig;

use crate::contracts::schemas::{self, Contract};
use crate::contracts::topics;
use crate::registry_rest::{Rest, Version};

#[derive(Debug, clap::Args)]
pub struct Folders {
    /// The topic files (they bind schemas to subjects).
    #[arg(long, default_value = "topics")]
    pub topics: PathBuf,
    /// The `.avsc` files.
    #[arg(long, default_value = "schemas")]
    pub schemas: PathBuf,
    /// The registry (default: `schema_registry.url` of the configuration).
    #[arg(long)]
    pub registry: Option<String>,
}

#[derive(Debug, clap::Subcommand)]
pub enum SchemasCommand {
    /// Every subject the repository defines and where the registry stands.
    List(Folders),
    /// What changed between each subject's latest registered schema and its file.
    Diff {
        #[command(flatten)]
        folders: Folders,
        /// Only this subject.
        subject: Option<String>,
    },
    /// Checks every changed schema against the registry's compatibility rules; fails with the
    /// reasons when one is refused (for CI).
    Check(Folders),
    /// Registers every changed schema (after the same check).
    Register {
        #[command(flatten)]
        folders: Folders,
        /// Only say what would be registered.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Where a subject stands in the registry compared with its file.
enum Standing {
    /// The subject does not exist yet.
    New,
    /// The file's schema is registered: as the latest version or an older one.
    Registered {
        at: Version,
        latest: Option<Version>,
    },
    /// The file's schema is not registered; the latest is.
    Changed { latest: Version },
}

async fn standing(rest: &Rest, c: &Contract) -> anyhow::Result<Standing> {
    let latest = rest.latest(&c.subject).await?;
    match rest.lookup(&c.subject, &c.text).await? {
        Some(at) => Ok(Standing::Registered { at, latest }),
        None => Ok(match latest {
            None => Standing::New,
            Some(latest) => Standing::Changed { latest },
        }),
    }
}

fn load(f: &Folders) -> anyhow::Result<Vec<Contract>> {
    let topic_files = topics::load_dir(&f.topics, &f.schemas)?;
    schemas::load(&topic_files, &f.schemas).map_err(|problems| {
        anyhow::anyhow!(
            "invalid schema contracts ({} problems):\n  {}",
            problems.len(),
            problems.join("\n  ")
        )
    })
}

fn client(cfg: &RegistryClientConfig, f: &Folders) -> anyhow::Result<Rest> {
    let mut cfg = cfg.clone();
    if let Some(url) = &f.registry {
        cfg.url = url.clone();
    }
    Rest::new(&cfg)
}

pub async fn run(cfg: &RegistryClientConfig, cmd: SchemasCommand) -> anyhow::Result<()> {
    match cmd {
        SchemasCommand::List(f) => list(cfg, &f).await,
        SchemasCommand::Diff { folders, subject } => diff(cfg, &folders, subject.as_deref()).await,
        SchemasCommand::Check(f) => check(cfg, &f).await.map(|_| ()),
        SchemasCommand::Register { folders, dry_run } => register(cfg, &folders, dry_run).await,
    }
}

async fn list(cfg: &RegistryClientConfig, f: &Folders) -> anyhow::Result<()> {
    let contracts = load(f)?;
    let rest = client(cfg, f)?;
    println!("{:<40} {:<36} REGISTRY", "SUBJECT", "SCHEMA");
    for c in &contracts {
        let state = match standing(&rest, c).await? {
            Standing::New => "not registered".to_string(),
            Standing::Registered { at, latest } => match latest {
                Some(l) if l.version != at.version => format!(
                    "registered as version {} (id {}); the latest is version {}",
                    at.version, at.id, l.version
                ),
                _ => format!("version {} (id {}), latest", at.version, at.id),
            },
            Standing::Changed { latest } => {
                format!(
                    "changed since version {} (id {})",
                    latest.version, latest.id
                )
            }
        };
        println!("{:<40} {:<36} {state}", c.subject, c.name);
    }
    let unbound: Vec<String> = rest
        .subjects()
        .await?
        .into_iter()
        .filter(|s| !contracts.iter().any(|c| &c.subject == s))
        .collect();
    for s in &unbound {
        println!("{s:<40} {:<36} registered, but no topic file binds it", "-");
    }
    eprintln!(
        "{} subjects in {}, {} more in the registry at {}",
        contracts.len(),
        f.topics.display(),
        unbound.len(),
        rest.url()
    );
    Ok(())
}

async fn diff(cfg: &RegistryClientConfig, f: &Folders, only: Option<&str>) -> anyhow::Result<()> {
    let contracts = load(f)?;
    let rest = client(cfg, f)?;
    let mut shown = 0;
    for c in contracts
        .iter()
        .filter(|c| only.is_none_or(|s| s == c.subject))
    {
        shown += 1;
        match standing(&rest, c).await? {
            Standing::New => println!("{}: new subject ({})", c.subject, c.file.display()),
            Standing::Registered { at, .. } => {
                println!("{}: unchanged (version {})", c.subject, at.version);
            }
            Standing::Changed { latest } => {
                let old = Schema::parse_str(&latest.schema).with_context(|| {
                    format!(
                        "{}: the registered version {} does not parse",
                        c.subject, latest.version
                    )
                })?;
                println!(
                    "{}: version {} -> {}",
                    c.subject,
                    latest.version,
                    c.file.display()
                );
                let changes = weft_schema::diff::diff(&old, &c.schema);
                if changes.is_empty() {
                    println!(
                        "  (only formatting differs from version {})",
                        latest.version
                    );
                }
                for ch in changes {
                    println!("  {ch}");
                }
            }
        }
    }
    if let (Some(s), 0) = (only, shown) {
        bail!("no topic file binds the subject {s:?}");
    }
    Ok(())
}

/// Checks every changed subject; the contracts that would be registered.
async fn check(cfg: &RegistryClientConfig, f: &Folders) -> anyhow::Result<Vec<Contract>> {
    let contracts = load(f)?;
    let rest = client(cfg, f)?;
    let mut refused = Vec::new();
    let mut pending = Vec::new();
    for c in contracts {
        match standing(&rest, &c).await? {
            Standing::Registered { at, .. } => {
                println!(
                    "ok        {} (unchanged, version {})",
                    c.subject, at.version
                );
            }
            Standing::New => {
                println!("new       {} ({})", c.subject, c.file.display());
                pending.push(c);
            }
            Standing::Changed { latest } => {
                let (ok, reasons) = rest.compatible(&c.subject, &c.text).await?;
                if ok {
                    println!(
                        "ok        {} (changed since version {}, compatible)",
                        c.subject, latest.version
                    );
                    pending.push(c);
                } else {
                    println!("REFUSED   {} ({})", c.subject, c.file.display());
                    for r in &reasons {
                        println!("          {r}");
                    }
                    refused.push(c.subject.clone());
                }
            }
        }
    }
    if !refused.is_empty() {
        bail!(
            "{} schema change(s) would break compatibility: {}",
            refused.len(),
            refused.join(", ")
        );
    }
    Ok(pending)
}

async fn register(cfg: &RegistryClientConfig, f: &Folders, dry_run: bool) -> anyhow::Result<()> {
    let pending = check(cfg, f).await?;
    if pending.is_empty() {
        println!("no changes: every schema is registered");
        return Ok(());
    }
    let rest = client(cfg, f)?;
    for c in &pending {
        if dry_run {
            println!("would register {} ({})", c.subject, c.file.display());
            continue;
        }
        match rest.register(&c.subject, &c.text).await? {
            Ok(id) => println!("registered {} as id {id}", c.subject),
            Err(e) => bail!(
                "registering {}: {} ({})",
                c.subject,
                e.message,
                e.error_code
            ),
        }
    }
    Ok(())
}
