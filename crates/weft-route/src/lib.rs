//! Flows: declarative transform and content-based routing between topics, exactly once.
//!
//! A flow is a file under `flows/` ([`spec`]): input topics and the flow's reader schema, an
//! optional transform (field mappings and/or a VRL program, see `weft-transform`) to an
//! output schema, ordered routes (VRL conditions → destination topics, fan-out with
//! `continue`), a required default route and an error policy. Files are checked against the
//! repository's topic and schema contracts at start-up, every problem listed ([`flow::load`]).
//!
//! One flow is one consumer loop: every output of an input record — to each destination and
//! to the dead-letter topic — is produced in the transaction that commits the record's offset
//! (exactly-once mode, the default), so `read_committed` readers never see a partial fan-out.
//! `weft run transform` runs the flows that have a transform, `weft run route` those that
//! only route, `weft up` all of them.

pub mod catalog;
pub mod config;
pub mod engine;
pub mod events;
pub mod fixtures;
pub mod flow;
pub mod logic;
pub mod options;
pub mod pipeline;
pub mod spec;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use weft_kafka::wait::{TransientWait, WaitOnTransient};
use weft_kafka::{KafkaConfig, KafkaMetrics};
use weft_schema::{RegistryClientConfig, SchemaCache};

pub use catalog::Catalog;
pub use config::FlowsConfig;
pub use events::FlowMetrics;
pub use flow::{Flow, Transform};
pub use pipeline::FlowProcessor;

/// The service name in metrics, client ids and dead-letter headers.
pub const SERVICE: &str = "flow";

/// Which flows a service runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    All,
    /// Flows with a transform (`weft run transform`).
    Transforming,
    /// Flows that only route (`weft run route`).
    RoutingOnly,
}

impl Selection {
    pub fn includes(self, flow: &Flow) -> bool {
        let transforms = !matches!(flow.transform, Transform::None) || flow.output.is_some();
        match self {
            Self::All => true,
            Self::Transforming => transforms,
            Self::RoutingOnly => !transforms,
        }
    }
}

/// Loads and compiles every `*.toml` file of `dir` (sorted by name). Every problem of every
/// file is listed; flow names must be distinct.
pub fn load_dir(dir: &Path, catalog: &Catalog) -> Result<Vec<Flow>, Vec<String>> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        vec![format!(
            "{}: cannot read the flows folder: {e}",
            dir.display()
        )]
    })?;
    let mut paths: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    let mut flows: Vec<Flow> = Vec::new();
    let mut problems = Vec::new();
    for p in paths {
        match flow::load(&p, catalog) {
            Ok(f) => {
                if let Some(other) = flows.iter().find(|o| o.name == f.name) {
                    problems.push(format!(
                        "{}: flow name {:?} is also the name of {}",
                        p.display(),
                        f.name,
                        other.file.display()
                    ));
                } else {
                    flows.push(f);
                }
            }
            Err(e) => problems.extend(e),
        }
    }
    if problems.is_empty() {
        Ok(flows)
    } else {
        Err(problems)
    }
}

/// Checks that the flow's topics exist on the cluster (a missing destination would otherwise
/// fail at the first record, or be created with broker defaults).
pub fn check_topics(kafka: &KafkaConfig, flow: &Flow) -> Result<(), weft_kafka::Error> {
    let admin = weft_kafka::admin::Admin::new(kafka)?;
    let existing: std::collections::HashSet<String> = admin
        .describe(None, Duration::from_secs(10))?
        .into_iter()
        .map(|t| t.name)
        .collect();
    let mut missing: Vec<String> = flow
        .spec
        .from
        .iter()
        .cloned()
        .chain(flow.destinations().iter().map(|t| t.to_string()))
        .chain(
            (flow.spec.errors.policy == spec::ErrorPolicy::DeadLetter)
                .then(|| flow.spec.errors.topic.clone()),
        )
        .filter(|t| !existing.contains(t))
        .collect();
    missing.dedup();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(weft_kafka::Error::Config(format!(
            "flow {} ({}): topics missing on the cluster: {} (create them with `weft topics apply`)",
            flow.name,
            flow.file.display(),
            missing.join(", ")
        )))
    }
}

/// Runs one flow until `shutdown`, or until a fatal error (returned). Records wait in place
/// for an unreachable registry (`registry_wait`, see [`weft_kafka::wait`]) rather than being
/// dead-lettered.
#[allow(clippy::too_many_arguments)]
pub async fn run_flow(
    kafka: &KafkaConfig,
    flow: Arc<Flow>,
    registry: &RegistryClientConfig,
    registry_wait: Duration,
    instance_id: &str,
    drain_timeout: Duration,
    dead_letters: weft_kafka::DeadLetterOptions,
    metrics: Option<KafkaMetrics>,
    flow_metrics: Option<FlowMetrics>,
    shutdown: CancellationToken,
) -> Result<(), weft_kafka::Error> {
    check_topics(kafka, &flow)?;
    if let Some(t) = &dead_letters.retry_tiers {
        weft_kafka::retry_tiers::check_topics(kafka, t)?;
    }
    let schemas = Arc::new(
        SchemaCache::from_config(registry)
            .map_err(|e| weft_kafka::Error::Config(format!("schema_registry: {e}")))?,
    );
    let processor = FlowProcessor::prepare_waiting(
        flow.clone(),
        schemas,
        flow_metrics,
        registry_wait,
        &shutdown,
    )
    .await
    .map_err(weft_kafka::Error::Config)?;
    let mut opts = options::consumer_options(&flow.name, &flow.spec, instance_id, drain_timeout);
    opts.dead_letters = dead_letters;
    let wait = TransientWait::for_mode(flow.spec.mode, registry_wait, drain_timeout);
    let processor = WaitOnTransient::new(processor, wait, "the schema registry", shutdown.clone());
    tracing::info!(
        flow = %flow.name, file = %flow.file.display(), from = ?flow.spec.from,
        destinations = ?flow.destinations(), mode = ?flow.spec.mode, "Running a flow"
    );
    weft_kafka::consumer::run(kafka, opts, Arc::new(processor), metrics, shutdown).await
}
