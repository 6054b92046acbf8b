//! `report`: turns the JSON lines of one `bench/run.sh` run into the `pipeline` section of
//! `docs/benchmarks.md` (`bench/run.sh` puts it between the section's markers with
//! `bench/section.py`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use serde::de::DeserializeOwned;

use crate::pipeline::{ProcessorKind, Variant};
use crate::results::{LatencyResult, PrepareResult, RunResult};

/// Targets of the benchmark issue.
const TARGET_LOOP_RATIO: f64 = 0.9;
const TARGET_TXN_RATIO: f64 = 0.7;
const TARGET_LOOP_RSS_MIB: f64 = 150.0;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// `prepare`'s JSON line
    #[arg(long)]
    pub prepare: PathBuf,
    /// `run` JSON lines, each with its `round`
    #[arg(long)]
    pub runs: PathBuf,
    /// `latency` JSON lines
    #[arg(long)]
    pub latency: PathBuf,
    /// The command that produced the figures, as it was typed
    #[arg(long)]
    pub command: String,
    /// A line about the machine or the run ("Label: value"); repeatable
    #[arg(long = "fact")]
    pub facts: Vec<String>,
    /// Where to write the Markdown section (headings from level 2 down)
    #[arg(long)]
    pub out: PathBuf,
    /// Markdown appended as it is (observations that a rerun does not regenerate)
    #[arg(long)]
    pub notes: Option<PathBuf>,
}

fn read_lines<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .filter(|l| l.trim_start().starts_with('{'))
        .map(|l| {
            serde_json::from_str(l)
                .with_context(|| format!("{}: unreadable line {l:?}", path.display()))
        })
        .collect()
}

/// What distinguishes the rows of the tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Config {
    order: u8,
    concurrency: usize,
    pipe: bool,
}

impl Config {
    fn of(variant: Variant, concurrency: Option<usize>, processor: Option<ProcessorKind>) -> Self {
        Self {
            order: match variant {
                Variant::Raw => 0,
                Variant::Loop => 1,
                Variant::Txn => 2,
            },
            concurrency: concurrency.unwrap_or(0),
            pipe: processor == Some(ProcessorKind::Pipe),
        }
    }

    fn label(&self) -> String {
        let what = match self.order {
            0 => return "(a) raw rdkafka loop".into(),
            1 => "(b) weft loop, at-least-once",
            _ => "(c) weft loop, exactly-once",
        };
        let pipe = if self.pipe { ", PipeProcessor" } else { "" };
        format!("{what}, concurrency {}{pipe}", self.concurrency)
    }

    /// The configurations the targets are about: (b) and (c) at concurrency 16, forwarding.
    fn is_primary(&self) -> bool {
        self.order == 0 || (self.concurrency == 16 && !self.pipe)
    }
}

/// The median (the mean of the two middle values for an even count).
fn median(xs: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = xs.collect();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn status(met: bool) -> &'static str {
    if met {
        "**met**"
    } else {
        "**not met**"
    }
}

pub fn run(args: ReportArgs) -> Result<()> {
    let prepare: Vec<PrepareResult> = read_lines(&args.prepare)?;
    let prepare = prepare.first().context("no prepare result")?;
    let runs: Vec<RunResult> = read_lines(&args.runs)?;
    let latency: Vec<LatencyResult> = read_lines(&args.latency)?;
    if runs.is_empty() {
        bail!("no run results in {}", args.runs.display());
    }
    let mut by_config: BTreeMap<Config, Vec<&RunResult>> = BTreeMap::new();
    for r in &runs {
        by_config
            .entry(Config::of(r.variant, r.concurrency, r.processor))
            .or_default()
            .push(r);
    }
    let lat_of = |c: &Config| {
        latency
            .iter()
            .find(|l| !c.pipe && Config::of(l.variant, l.concurrency, None) == *c)
    };
    let rate_of = |c: &Config| {
        by_config
            .get(c)
            .map(|rs| median(rs.iter().map(|r| r.records_per_s)))
    };
    let raw = Config::of(Variant::Raw, None, None);
    let lp = Config::of(Variant::Loop, Some(16), Some(ProcessorKind::Forward));
    let txn = Config::of(Variant::Txn, Some(16), Some(ProcessorKind::Forward));
    let raw_rate = rate_of(&raw).context("no raw run")?;
    let lp_ratio = rate_of(&lp).map(|r| r / raw_rate);
    let txn_ratio = rate_of(&txn).map(|r| r / raw_rate);
    let lp_rss = by_config
        .get(&lp)
        .map(|rs| rs.iter().map(|r| r.peak_rss_mib).fold(0.0, f64::max));
    let rounds = runs.iter().filter_map(|r| r.round).max().unwrap_or(1);

    let mut md = String::new();
    let w = &mut md;
    writeln!(w, "## Pipeline: pass-through of Weft's Kafka layer\n")?;
    writeln!(
        w,
        "Pass-through benchmark of Weft's Kafka layer against a real broker: every record of a \
         prepared topic is consumed and produced unchanged to another topic by (a) the simplest \
         fast rdkafka loop (the baseline), (b) the `weft-kafka` consumer loop with its producer \
         (at-least-once), and (c) the same loop in exactly-once mode (Kafka transactions). \
         *Generated by `bench/run.sh`; do not edit inside the markers: rerun it.*\n"
    )?;
    writeln!(w, "### Command\n\n```sh\n{}\n```\n", args.command)?;
    writeln!(w, "### Machine and workload\n")?;
    for f in &args.facts {
        writeln!(w, "- {f}")?;
    }
    writeln!(
        w,
        "- Input: {} records of {} B values (keys over 10,000 distinct keys), {} partitions, \
         written by `prepare` in {:.1} s; every output topic has {} partitions too",
        prepare.records, prepare.size, prepare.partitions, prepare.seconds, prepare.partitions
    )?;
    writeln!(
        w,
        "- Rounds: {rounds}, each running every configuration once, interleaved; figures below \
         are the median of the rounds, and the ratios compare medians of the same run\n"
    )?;

    writeln!(w, "### Targets\n")?;
    writeln!(w, "| Target | Goal | Measured | Status |")?;
    writeln!(w, "| --- | --- | --- | --- |")?;
    let ratio_row = |w: &mut String, name: &str, goal: f64, got: Option<f64>| -> Result<()> {
        match got {
            Some(x) => writeln!(
                w,
                "| {name} records/s | ≥ {goal:.2} | {x:.2} | {} |",
                status(x >= goal)
            )?,
            None => writeln!(w, "| {name} records/s | ≥ {goal:.2} | not run | — |")?,
        }
        Ok(())
    };
    ratio_row(
        w,
        "(b)/(a), commit interval 100 ms,",
        TARGET_LOOP_RATIO,
        lp_ratio,
    )?;
    ratio_row(
        w,
        "(c)/(a), commit interval 100 ms,",
        TARGET_TXN_RATIO,
        txn_ratio,
    )?;
    match lp_rss {
        Some(x) => writeln!(
            w,
            "| Peak RSS of (b) (highest round) | < {TARGET_LOOP_RSS_MIB:.0} MiB | {x:.1} MiB | {} |",
            status(x < TARGET_LOOP_RSS_MIB)
        )?,
        None => writeln!(w, "| Peak RSS of (b) | < {TARGET_LOOP_RSS_MIB:.0} MiB | not run | — |")?,
    }
    writeln!(w)?;

    writeln!(w, "### Results (median of {rounds} round(s))\n")?;
    writeln!(
        w,
        "| Variant | records/s | MB/s | p50 ms | p99 ms | peak RSS MiB | client CPU µs/record | broker CPU s | vs (a) |"
    )?;
    writeln!(
        w,
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    )?;
    for (c, rs) in &by_config {
        let rate = median(rs.iter().map(|r| r.records_per_s));
        let (p50, p99) = match lat_of(c) {
            Some(l) => (format!("{:.1}", l.p50_ms), format!("{:.1}", l.p99_ms)),
            None => ("—".into(), "—".into()),
        };
        let broker = rs.iter().filter_map(|r| r.broker_cpu_s);
        let broker = if rs.iter().all(|r| r.broker_cpu_s.is_some()) {
            format!("{:.1}", median(broker))
        } else {
            "—".into()
        };
        let label = if c.is_primary() {
            format!("**{}**", c.label())
        } else {
            c.label()
        };
        writeln!(
            w,
            "| {label} | {:.0} | {:.1} | {p50} | {p99} | {:.1} | {:.2} | {broker} | {:.2} |",
            rate,
            median(rs.iter().map(|r| r.mb_per_s)),
            rs.iter().map(|r| r.peak_rss_mib).fold(0.0, f64::max),
            median(rs.iter().map(|r| r.cpu_s * 1e6 / r.records as f64)),
            rate / raw_rate
        )?;
    }
    writeln!(
        w,
        "\nMB = 10^6 bytes of record values. Latency (p50/p99) comes from the separate paced \
         runs below; peak RSS is the highest of the rounds.\n"
    )?;

    writeln!(w, "#### Each round\n")?;
    writeln!(
        w,
        "| Round | Variant | records/s | MB/s | seconds | peak RSS MiB | client CPU s | vs (a) of the round |"
    )?;
    writeln!(
        w,
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    )?;
    for round in 1..=rounds {
        let in_round: Vec<&RunResult> = runs
            .iter()
            .filter(|r| r.round.unwrap_or(1) == round)
            .collect();
        let raw_here = in_round
            .iter()
            .find(|r| r.variant == Variant::Raw)
            .map(|r| r.records_per_s);
        for r in in_round {
            let c = Config::of(r.variant, r.concurrency, r.processor);
            let vs = raw_here.map_or("—".into(), |a| format!("{:.2}", r.records_per_s / a));
            writeln!(
                w,
                "| {round} | {} | {:.0} | {:.1} | {:.2} | {:.1} | {:.1} | {vs} |",
                c.label(),
                r.records_per_s,
                r.mb_per_s,
                r.seconds,
                r.peak_rss_mib,
                r.cpu_s
            )?;
        }
    }
    writeln!(w)?;

    writeln!(w, "#### End-to-end latency under a paced load\n")?;
    writeln!(
        w,
        "| Variant | target rate/s | achieved rate/s | received | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms |"
    )?;
    writeln!(
        w,
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    )?;
    for l in &latency {
        let c = Config::of(l.variant, l.concurrency, None);
        writeln!(
            w,
            "| {} | {} | {:.0} | {} of {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
            c.label(),
            l.rate,
            l.achieved_rate,
            l.received,
            l.sent,
            l.p50_ms,
            l.p90_ms,
            l.p99_ms,
            l.p999_ms,
            l.max_ms
        )?;
    }
    writeln!(w)?;
    w.push_str(HOW);
    if let Some(notes) = &args.notes {
        let text = std::fs::read_to_string(notes)
            .with_context(|| format!("reading {}", notes.display()))?;
        writeln!(w, "\n{}", text.trim_end())?;
    }
    std::fs::write(&args.out, md).with_context(|| format!("writing {}", args.out.display()))?;
    Ok(())
}

const HOW: &str = "### How it is measured

- `bench/run.sh` starts the local broker if needed (`deploy/local/kafka start`), builds
  `weft-bench` in release mode, runs `weft-bench prepare` once, then `weft-bench run` for each
  configuration in turn, round after round, then `weft-bench latency` for (a), (b) and (c), and
  finally `weft-bench report`, which wrote this section. `RECORDS`, `ROUNDS`, `RATE`,
  `LATENCY_SECONDS`, `SIZE` and `PARTITIONS` can be overridden in the environment for a quick run.
- **Every throughput run is its own process**, so its peak RSS (`VmHWM` from
  `/proc/self/status`, read at the end) belongs to that variant alone. Each run reads the whole
  input with a fresh consumer group (`auto.offset.reset=earliest`) and writes to a new output
  topic, deleted afterwards.
- **records/s** = records / seconds, where seconds run from the first record consumed to the
  last output acknowledged by the broker. Start-up (group join) and shutdown (drain, final
  commit, close) are outside the window. **client CPU** is the user + system time of the whole
  process, start-up and shutdown included; **broker CPU** that of the broker process (on the
  same machine) during the run.
- **(a) raw**: one thread polls an rdkafka `BaseConsumer` and sends each borrowed message with a
  `ThreadedProducer` (no wait per record); delivery reports are counted in the producer context.
  `enable.auto.commit=true` with the default offset store (offsets stored on poll, so not
  at-least-once). Producer settings as weft's `Producer`: `acks=all`,
  `enable.idempotence=true`, `linger.ms=5`, `queue.buffering.max.messages=200000`.
- **(b) loop**: `weft_kafka::consumer::run` with a processor that emits each record unchanged
  (key, value, headers), `AtLeastOnce`, concurrency 16 (also 64), `max_in_flight` 10,000,
  `commit_interval` 100 ms. The row with `PipeProcessor` uses `weft_pipe::PipeProcessor`, which
  also adds origin and `traceparent` headers. Completion is seen by polling the
  `weft_produced_records_total` counter every millisecond; then the loop is cancelled and awaited.
- **(c) txn**: the same loop with `DeliveryMode::ExactlyOnce`, a unique `transactional.id` and a
  100 ms commit interval.
- **Latency**: `weft-bench latency` creates fresh input and output topics, starts the variant
  in-process, and a separate paced producer writes records at the target rate, each value
  starting with its send time (ns since the epoch, big-endian), the rest filler up to the value
  size. A separate reader (`read_committed`, its own clients) on the output topic records
  now − send time in an HdrHistogram (µs, 3 significant digits). Probe records are sent first
  until one comes out, so group joins are not measured.
- All clients run on the same machine as the single broker, so client and broker compete for the
  same cores; figures from other machines are not comparable.
";
