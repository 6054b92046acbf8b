//! The JSON lines the subcommands print and `report` reads back.

use serde::{Deserialize, Serialize};

use crate::pipeline::{ProcessorKind, Variant};

/// `prepare`'s summary.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PrepareResult {
    pub topic: String,
    pub records: u64,
    pub size: usize,
    pub partitions: i32,
    pub seconds: f64,
}

/// One `run`: a variant forwarding every record of the input.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunResult {
    pub variant: Variant,
    pub concurrency: Option<usize>,
    pub processor: Option<ProcessorKind>,
    pub commit_interval_ms: Option<u64>,
    pub records: u64,
    /// Value bytes forwarded.
    pub bytes: u64,
    /// From the first record consumed to the last output acknowledged.
    pub seconds: f64,
    pub records_per_s: f64,
    /// Value bytes per second, in 10^6 bytes.
    pub mb_per_s: f64,
    /// `VmHWM` of the process at the end.
    pub peak_rss_mib: f64,
    /// User + system CPU of the whole process (start-up and shutdown included).
    pub cpu_s: f64,
    /// User + system CPU of the broker process over the whole run, when its pid was given.
    pub broker_cpu_s: Option<f64>,
    /// The orchestrator's round number, added by `bench/run.sh`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round: Option<u32>,
}

/// One `latency` run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LatencyResult {
    pub variant: Variant,
    pub concurrency: Option<usize>,
    pub rate: u64,
    pub achieved_rate: f64,
    pub sent: u64,
    pub received: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

/// CPU seconds (user + system) a process used so far, from `/proc/<pid>/stat`.
pub fn cpu_seconds(pid: &str) -> anyhow::Result<f64> {
    let path = format!("/proc/{pid}/stat");
    let stat =
        std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("reading {path}: {e}"))?;
    stat_cpu_seconds(&stat, &path)
}

/// CPU seconds of this process's librdkafka threads (named `rdk:*`) that are alive now, by
/// thread id. librdkafka's own threads (broker I/O, batching, the main thread); its produce
/// and poll calls run on the caller's threads and count as the caller's.
pub fn client_thread_cpu() -> anyhow::Result<std::collections::HashMap<u32, f64>> {
    let mut out = std::collections::HashMap::new();
    for entry in std::fs::read_dir("/proc/self/task")? {
        let entry = entry?;
        let Some(tid) = entry
            .file_name()
            .to_str()
            .and_then(|t| t.parse::<u32>().ok())
        else {
            continue;
        };
        let path = format!("/proc/self/task/{tid}/stat");
        // A thread may end between listing and reading.
        let Ok(stat) = std::fs::read_to_string(&path) else {
            continue;
        };
        let name = stat
            .split_once('(')
            .and_then(|(_, r)| r.rsplit_once(')'))
            .map_or("", |(n, _)| n);
        if name.starts_with("rdk:") {
            out.insert(tid, stat_cpu_seconds(&stat, &path)?);
        }
    }
    Ok(out)
}

/// The librdkafka threads' CPU between two [`client_thread_cpu`] snapshots (threads started
/// in between count from zero).
pub fn client_cpu_between(
    before: &std::collections::HashMap<u32, f64>,
    after: &std::collections::HashMap<u32, f64>,
) -> f64 {
    after
        .iter()
        .map(|(tid, s)| s - before.get(tid).copied().unwrap_or(0.0))
        .sum()
}

fn stat_cpu_seconds(stat: &str, path: &str) -> anyhow::Result<f64> {
    use anyhow::Context;
    // Fields after the command name (which may hold spaces) start at field 3.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .with_context(|| format!("unreadable {path}"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| -> anyhow::Result<f64> {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .with_context(|| format!("unreadable CPU times in {path}"))
    };
    // utime and stime are fields 14 and 15, i.e. 11 and 12 after the command; USER_HZ is 100.
    Ok((ticks(11)? + ticks(12)?) / 100.0)
}
