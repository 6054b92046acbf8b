//! `weft replay`: re-publish selected dead letters exactly once per replay id, resumable, with
//! a progress bar and an audit record; `weft replay history` lists the replays.

use std::io::{IsTerminal as _, Write as _};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use weft_dead_letter::replay::{
    self, dry_run::dry_run_json, dry_run::dry_run_line, Outcome, Progress, ReplayOptions, Report,
};
use weft_kafka::KafkaConfig;
use weft_schema::{RegistryClientConfig, SchemaCache};

use crate::dlq_cmd::{FilterArgs, Output};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ReplayArgs {
    #[command(subcommand)]
    command: Option<ReplayCommand>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum ReplayCommand {
    /// The latest audit record of each replay, newest first
    History {
        #[arg(long = "audit-topic", default_value = replay::DEFAULT_AUDIT_TOPIC)]
        audit_topic: String,
        /// Show at most this many replays
        #[arg(long)]
        limit: Option<usize>,
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
}

#[derive(Debug, Args)]
struct RunArgs {
    #[command(flatten)]
    filter: FilterArgs,
    /// Re-publish every record to this topic (default: each record's origin topic)
    #[arg(long)]
    to: Option<String>,
    /// Records re-published per second at most (N or N/s)
    #[arg(long, value_parser = parse_rate)]
    rate: Option<f64>,
    /// Print what would be re-published and where; produce nothing
    #[arg(long = "dry-run")]
    dry_run: bool,
    /// Resume the replay with this id (or start one with it); the same filters are required
    #[arg(long, value_parser = parse_id)]
    id: Option<String>,
    /// Quarantine a dead letter already replayed this many times instead of replaying it
    #[arg(long = "max-replays", default_value_t = replay::DEFAULT_MAX_REPLAYS)]
    max_replays: u32,
    #[arg(long = "quarantine-topic", default_value = replay::DEFAULT_QUARANTINE_TOPIC)]
    quarantine_topic: String,
    #[arg(long = "audit-topic", default_value = replay::DEFAULT_AUDIT_TOPIC)]
    audit_topic: String,
    /// Who runs the replay, for the audit record (default: $USER)
    #[arg(long)]
    operator: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    output: Output,
}

fn parse_rate(s: &str) -> Result<f64, String> {
    let n = s.trim().trim_end_matches("/s");
    match n.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err(format!(
            "{s:?} is not a positive number of records a second (e.g. 500 or 500/s)"
        )),
    }
}

fn parse_id(s: &str) -> Result<String, String> {
    uuid::Uuid::parse_str(s.trim())
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| format!("{s:?} is not a replay id (a UUID, as weft replay prints it)"))
}

pub async fn run(
    kafka: &KafkaConfig,
    registry: &RegistryClientConfig,
    args: ReplayArgs,
) -> anyhow::Result<ExitCode> {
    match args.command {
        Some(ReplayCommand::History {
            audit_topic,
            limit,
            output,
        }) => history(kafka, registry, &audit_topic, limit, output).await,
        None => replay_run(kafka, registry, args.run).await,
    }
}

async fn history(
    kafka: &KafkaConfig,
    registry: &RegistryClientConfig,
    audit_topic: &str,
    limit: Option<usize>,
    output: Output,
) -> anyhow::Result<ExitCode> {
    let schemas = SchemaCache::from_config(registry)?;
    let h = replay::history(kafka, &schemas, audit_topic, limit).await?;
    let mut out = std::io::stdout().lock();
    for r in &h.replays {
        match output {
            Output::Text => writeln!(out, "{}", r.history_line())?,
            Output::Json => writeln!(out, "{}", r.to_json())?,
        }
    }
    eprintln!("{} replays", h.replays.len());
    if h.unreadable > 0 {
        eprintln!(
            "{} records of {audit_topic} are not replay audit records",
            h.unreadable
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn options(a: &RunArgs) -> anyhow::Result<ReplayOptions> {
    let id =
        a.id.clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().hyphenated().to_string());
    let mut o = ReplayOptions::new(id, a.filter.topic.clone());
    o.filter = a.filter.filter()?;
    o.to = a.to.clone();
    o.rate = a.rate;
    o.max_replays = a.max_replays;
    o.quarantine_topic = a.quarantine_topic.clone();
    o.audit_topic = a.audit_topic.clone();
    o.operator = a
        .operator
        .clone()
        .or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
        .unwrap_or_else(|| "unknown".into());
    o.host = host_name();
    Ok(o)
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

async fn replay_run(
    kafka: &KafkaConfig,
    registry: &RegistryClientConfig,
    a: RunArgs,
) -> anyhow::Result<ExitCode> {
    let opts = options(&a)?;
    if a.dry_run {
        return dry_run(kafka, opts, a.output).await;
    }
    eprintln!("replay {} (resume it with --id {})", opts.id, opts.id);
    let schemas = SchemaCache::from_config(registry)?;
    let stop = Arc::new(AtomicBool::new(false));
    let token = CancellationToken::new();
    weft_runtime::shutdown::install_signal_handlers(token.clone())?;
    let s = stop.clone();
    tokio::spawn(async move {
        token.cancelled().await;
        s.store(true, Ordering::Relaxed);
    });
    let bar = progress_bar();
    let b = bar.clone();
    let mut last_line = Instant::now();
    let terminal = std::io::stderr().is_terminal();
    let progress = move |p: &Progress| {
        if terminal {
            b.set_length(p.to_read.max(1));
            b.set_position(p.read);
            b.set_message(p.line());
        } else if last_line.elapsed() >= Duration::from_secs(10) {
            last_line = Instant::now();
            eprintln!("{}", p.line());
        }
    };
    let id = opts.id.clone();
    let result = replay::replay(kafka, &schemas, opts, stop.clone(), progress).await;
    bar.finish_and_clear();
    let report = result?;
    print_report(&report, a.output)?;
    if report.outcome == Outcome::Interrupted {
        let args: Vec<String> = std::env::args().collect();
        eprintln!(
            "weft: replay {id} interrupted after {} of {} selected records so far; resume it with: {}",
            report.counts.replayed + report.counts.quarantined + report.counts.skipped
                + report.counts.no_origin,
            report.counts.selected,
            resume_command(&args, &id)
        );
        return Ok(ExitCode::from(130));
    }
    Ok(ExitCode::SUCCESS)
}

fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(1), ProgressDrawTarget::stderr_with_hz(4));
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {percent:>3}% {msg}") {
        bar.set_style(style);
    }
    bar
}

fn print_report(r: &Report, output: Output) -> anyhow::Result<()> {
    let c = &r.counts;
    match output {
        Output::Json => println!(
            "{}",
            json!({
                "replay_id": r.id,
                "outcome": r.outcome.as_str(),
                "resumed": r.resumed,
                "elapsed_ms": u64::try_from(r.elapsed.as_millis()).unwrap_or(u64::MAX),
                "counts": c,
                "this_run": r.this_run,
            })
        ),
        Output::Text => println!(
            "replay {} {} in {:.1} s: selected {}, replayed {}, quarantined {}, skipped {}, no origin {} \
             (read {} dead letters{})",
            r.id,
            r.outcome.as_str().to_lowercase(),
            r.elapsed.as_secs_f64(),
            c.selected,
            c.replayed,
            c.quarantined,
            c.skipped,
            c.no_origin,
            c.read,
            if r.resumed {
                format!("; this run replayed {}", r.this_run.replayed)
            } else {
                String::new()
            }
        ),
    }
    Ok(())
}

async fn dry_run(
    kafka: &KafkaConfig,
    opts: ReplayOptions,
    output: Output,
) -> anyhow::Result<ExitCode> {
    eprintln!("dry run: nothing is produced, no offset is committed, no audit record is written");
    let k = kafka.clone();
    let summary = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let mut out = std::io::stdout().lock();
        let mut failed: Option<std::io::Error> = None;
        let q = opts.quarantine_topic.clone();
        let summary = replay::dry_run(&k, &opts, |e, action| {
            let line = match output {
                Output::Text => dry_run_line(e, action, &q),
                Output::Json => dry_run_json(e, action, &q).to_string(),
            };
            if failed.is_none() {
                if let Err(err) = writeln!(out, "{line}") {
                    failed = Some(err);
                }
            }
        })?;
        match failed {
            Some(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
            _ => Ok(summary),
        }
    })
    .await??;
    let c = &summary.counts;
    match output {
        Output::Json => println!("{}", serde_json::to_string(&summary)?),
        Output::Text => {
            println!(
                "dry run of {}: {} selected of {} read: {} would be replayed, {} quarantined, {} \
                 skipped, {} have no origin",
                summary.dlq_topic,
                c.selected,
                c.read,
                c.replayed,
                c.quarantined,
                c.skipped,
                c.no_origin
            );
            for (t, n) in &summary.destinations {
                println!("  {n:>10}  -> {t}");
            }
        }
    }
    if !summary.missing_topics.is_empty() {
        eprintln!(
            "weft: these topics do not exist and the replay would stop on them: {}",
            summary.missing_topics.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The command line that resumes: the same arguments with `--id <id>` (replacing any).
fn resume_command(args: &[String], id: &str) -> String {
    let mut out: Vec<String> = vec!["weft".into()];
    let mut it = args.iter().skip(1).peekable();
    let mut placed = false;
    while let Some(a) = it.next() {
        if a == "--id" {
            it.next();
            continue;
        }
        if a.starts_with("--id=") {
            continue;
        }
        out.push(quote(a));
        if a == "replay" && !placed {
            out.push("--id".into());
            out.push(id.into());
            placed = true;
        }
    }
    if !placed {
        out.push("--id".into());
        out.push(id.into());
    }
    out.join(" ")
}

fn quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._/:=@,+-%".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_resume_command_repeats_the_flags_with_the_id() {
        let a = args(&[
            "/usr/bin/weft",
            "-c",
            "w.toml",
            "replay",
            "--error-code",
            "decode_failed",
            "--header",
            "tenant=a b",
            "--rate",
            "500/s",
        ]);
        assert_eq!(
            resume_command(&a, "abc"),
            "weft -c w.toml replay --id abc --error-code decode_failed --header 'tenant=a b' --rate 500/s"
        );
        let again = args(&["weft", "replay", "--id", "old", "--to", "x", "--id=old2"]);
        assert_eq!(resume_command(&again, "new"), "weft replay --id new --to x");
    }

    #[test]
    fn rates_and_ids_read_or_say_why_not() {
        assert_eq!(parse_rate("500"), Ok(500.0));
        assert_eq!(parse_rate("2.5/s"), Ok(2.5));
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("fast").is_err());
        assert_eq!(
            parse_id("0190B6C4-0000-4000-8000-000000000000"),
            Ok("0190b6c4-0000-4000-8000-000000000000".into())
        );
        assert!(parse_id("42").unwrap_err().contains("is not a replay id"));
    }
}
