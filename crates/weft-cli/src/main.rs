//! The `weft` binary: parses flags, loads configuration, and hands over to the libraries.

/// mimalloc, for Rust's allocations and librdkafka's alike (see `weft_alloc`).
#[global_allocator]
static GLOBAL: weft_alloc::MiMalloc = weft_alloc::MiMalloc;

mod config;
mod contracts;
mod dlq_cmd;
mod flows_cmd;
mod registry_rest;
mod replay_cmd;
mod schemas_cmd;
mod serve;
mod tools;
mod topics;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::WeftConfig;
use crate::serve::Service;

/// Weft: an event-streaming integration bus on Apache Kafka.
#[derive(Debug, Parser)]
#[command(name = "weft", version, about, propagate_version = true)]
struct Cli {
    /// Configuration file (default: ./weft.toml when it exists). `WEFT__SECTION__KEY`
    /// environment variables override it.
    #[arg(long, short, global = true, env = "WEFT_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs one service until SIGTERM/SIGINT.
    Run {
        #[arg(value_enum)]
        service: Service,
    },
    /// Runs every configured service in one process.
    Up,
    /// Produces records (one per file, or one per line of standard input).
    Produce(tools::ProduceArgs),
    /// Prints the records of a topic as JSON lines.
    Consume(tools::ConsumeArgs),
    /// Topics: list or create them, or plan and apply the topic files of `topics/`.
    #[command(subcommand)]
    Topics(topics::TopicsCommand),
    /// Schemas: list, diff, check and register the `.avsc` files of `schemas/` bound to
    /// subjects by the topic files.
    #[command(subcommand)]
    Schemas(schemas_cmd::SchemasCommand),
    /// Flows: list and check the flow files of `flows/`, run their fixture cases without
    /// Kafka, or show what a flow would do to the newest records of its input.
    #[command(subcommand)]
    Flows(flows_cmd::FlowsCommand),
    /// Dead letters: counts, lists and single records of a dead-letter topic (Weft's own and
    /// those written by Kafka Connect, Kafka Streams and Spring).
    #[command(subcommand)]
    Dlq(dlq_cmd::DlqCommand),
    /// Replay: re-publishes selected dead letters to their origin topic (or --to), exactly
    /// once per replay id and resumable, with lineage headers and an audit record; `history`
    /// lists the replays.
    Replay(replay_cmd::ReplayArgs),
    /// Checks the configuration and prints it (secrets redacted).
    Config,
}

fn main() -> ExitCode {
    weft_alloc::configure();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("weft: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// One readable line: the error and its causes, each cause once. Many errors already show
/// their source in their own message (`"{context}: {source}"`), so a cause whose text the
/// line holds already is not repeated.
fn one_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let file = cli.config.or_else(weft_runtime::config::default_file);
    let cfg: WeftConfig = weft_runtime::load(file.as_deref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let done = match cli.command {
            Command::Run { service } => serve::run(cfg, &[service]).await,
            Command::Up => serve::run(cfg, <Service as clap::ValueEnum>::value_variants()).await,
            Command::Produce(args) => tools::produce(&cfg.kafka, args).await,
            Command::Consume(args) => {
                let (kafka, sr) = (cfg.kafka.clone(), cfg.schema_registry.clone());
                let n =
                    tokio::task::spawn_blocking(move || tools::consume(&kafka, &sr, args)).await?;
                match n {
                    Ok(n) => {
                        eprintln!("{n} records");
                        Ok(())
                    }
                    // The reader went away (`weft consume | head`): not an error.
                    Err(e) if is_broken_pipe(&e) => Ok(()),
                    Err(e) => Err(e),
                }
            }
            Command::Topics(cmd) => return topics::run(&cfg.kafka, cmd).await,
            Command::Schemas(cmd) => schemas_cmd::run(&cfg.schema_registry, cmd).await,
            Command::Flows(cmd) => {
                return flows_cmd::run(&cfg.flows, &cfg.kafka, &cfg.schema_registry, cmd).await
            }
            Command::Dlq(cmd) => return dlq_cmd::run(&cfg.kafka, &cfg.schema_registry, cmd).await,
            Command::Replay(args) => {
                return replay_cmd::run(&cfg.kafka, &cfg.schema_registry, args).await
            }
            Command::Config => {
                println!("{cfg:#?}");
                Ok(())
            }
        };
        done.map(|()| ExitCode::SUCCESS)
    })
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    /// Shows its source in its own message and returns it as `source()` too, as many
    /// library errors do.
    #[derive(Debug)]
    struct Wrapping(std::io::Error);

    impl std::fmt::Display for Wrapping {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "delivery failed: {}", self.0)
        }
    }

    impl std::error::Error for Wrapping {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn an_error_line_names_each_cause_once() {
        let io = std::io::Error::other("Topic authorization failed");
        let e = anyhow::Error::new(Wrapping(io)).context("producing stdin line 1");
        assert_eq!(
            one_line(&e),
            "producing stdin line 1: delivery failed: Topic authorization failed"
        );
        let plain = anyhow::anyhow!("disk full").context("writing the report");
        assert_eq!(one_line(&plain), "writing the report: disk full");
    }
}
