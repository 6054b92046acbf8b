//! `weft-bench`: pass-through benchmark of Weft's Kafka layer against a real broker.
//! See `docs/benchmarks.md` and `bench/run.sh`, which runs every subcommand in turn.

/// mimalloc, for Rust's allocations and librdkafka's alike (see `weft_alloc`).
#[global_allocator]
static GLOBAL: weft_alloc::MiMalloc = weft_alloc::MiMalloc;

mod common;
mod dlq;
mod flow_cpu;
mod flow_latency;
mod flows;
mod ingest;
mod latency;
mod pipeline;
mod prepare;
mod raw;
mod report;
mod results;
mod throughput;
mod weft;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(
    name = "weft-bench",
    about = "Pass-through benchmark: raw rdkafka vs weft-kafka"
)]
struct Cli {
    /// Kafka bootstrap servers
    #[arg(
        long,
        global = true,
        env = "WEFT_BENCH_BOOTSTRAP",
        default_value = "127.0.0.1:9092"
    )]
    bootstrap: String,
    /// Extra librdkafka property (key=value) for every client; repeatable
    #[arg(long = "property", global = true, value_name = "KEY=VALUE")]
    properties: Vec<String>,
    /// Extra librdkafka property for consumers only; repeatable
    #[arg(long = "consumer-property", global = true, value_name = "KEY=VALUE")]
    consumer_properties: Vec<String>,
    /// Extra librdkafka property for producers only; repeatable
    #[arg(long = "producer-property", global = true, value_name = "KEY=VALUE")]
    producer_properties: Vec<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a topic and fill it with fixed-size keyed records
    Prepare(prepare::PrepareArgs),
    /// Forward every record of a prepared topic with one variant; print one JSON line
    Run(throughput::RunArgs),
    /// End-to-end latency of one variant under a paced load; print one JSON line
    Latency(latency::LatencyArgs),
    /// Write the Markdown report of a `bench/run.sh` run
    Report(report::ReportArgs),
    /// Delete topics
    DeleteTopics { topics: Vec<String> },
    /// Send copies of one record (key, value, headers) as fast as a plain producer can; print
    /// one JSON line (the baseline of `bench/ingest.sh`)
    ProduceCopies(ingest::ProduceCopiesArgs),
    /// Print a topic's record count and end offsets (sums over its partitions) as JSON
    EndOffsets(ingest::EndOffsetsArgs),
    /// Create one topic, with topic configs
    CreateTopic(ingest::CreateTopicArgs),
    /// Register the flows benchmark's input schema and fill a topic with Avro orders
    FlowPrepare(flows::FlowPrepareArgs),
    /// Run a flow of bench/flows/ over every order of a prepared topic; print one JSON line
    FlowRun(flows::FlowRunArgs),
    /// End-to-end latency of a flow (or the raw loop) over Avro orders; print one JSON line
    FlowLatency(flow_latency::FlowLatencyArgs),
    /// Fill a dead-letter topic with Weft dead letters as fast as a plain producer can (the
    /// replay benchmark's baseline); print one JSON line
    DlqPrepare(dlq::DlqPrepareArgs),
    /// A flow's own CPU per record without Kafka (the processor over orders in memory)
    FlowCpu(flow_cpu::FlowCpuArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    weft_alloc::configure();
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let kafka = match common::kafka_config(
        &cli.bootstrap,
        &cli.properties,
        &cli.consumer_properties,
        &cli.producer_properties,
    ) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("weft-bench: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::Prepare(a) => prepare::run(&kafka, a).await,
        Command::Run(a) => throughput::run(&kafka, a).await,
        Command::Latency(a) => latency::run(&kafka, a).await,
        Command::Report(a) => report::run(a),
        Command::DeleteTopics { topics } => common::delete_topics(&kafka, &topics).await,
        Command::ProduceCopies(a) => ingest::produce_copies(&kafka, a).await,
        Command::EndOffsets(a) => ingest::end_offsets(&kafka, a).await,
        Command::CreateTopic(a) => ingest::create_topic(&kafka, a).await,
        Command::FlowPrepare(a) => flows::prepare(&kafka, a).await,
        Command::FlowRun(a) => flows::run(&kafka, a).await,
        Command::FlowLatency(a) => flow_latency::run(&kafka, a).await,
        Command::FlowCpu(a) => flow_cpu::run(a).await,
        Command::DlqPrepare(a) => dlq::run(&kafka, a).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("weft-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}
