//! Validation of records produced straight to raw ingest topics (`ingest.*`) by any Kafka
//! client: each record is checked and forwarded to its validated topic, or dead-lettered with
//! its original bytes and the reason.
//!
//! Per record, in order:
//! 1. the value is in the Confluent wire format (`bad_magic_byte`; a null value passes as a
//!    tombstone when the record has a key);
//! 2. its schema id is the schema of a live version of the route's subject (`<to>-value` by
//!    default) — the subject's ids are read from the registry once and kept
//!    ([`allowed::AllowedIds`]); an id the registry does not know is `unknown_schema_id`, a
//!    known one of another subject `schema_not_allowed`;
//! 3. the body decodes with that schema (`decode_failed`), checked without building values.
//!
//! Valid records go to the route's `to` topic with key, value bytes and headers unchanged,
//! plus the `weft.*` headers that are missing ([`logic::forward`]). Invalid ones are returned
//! to the consumer loop as permanent errors, which dead-letters them.
//!
//! An unreachable registry is never a reason to dead-letter ([`weft_kafka::wait`]):
//! at-least-once, the record waits in place (`registry_wait`) and then the route stops with a
//! fatal error, leaving the record uncommitted; exactly-once, it waits at most a quarter of
//! the drain timeout and then the loop aborts the transaction and re-reads (and stops after
//! repeated aborts).

pub mod allowed;
pub mod config;
pub mod logic;

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use weft_core::StageError;
use weft_kafka::wait::{TransientWait, WaitOnTransient};
use weft_kafka::{Emitter, KafkaConfig, KafkaMetrics, OutRecord, Processor, Record};
use weft_schema::{RegistryClient, RegistryClientConfig, SchemaCache, SchemaSource};

pub use allowed::{AllowedIds, SubjectSource};
pub use config::{ValidateConfig, ValidateRoute};
use logic::Target;

/// The target of an input topic, or why it has none (rendered once per topic).
type TargetOf = Result<Arc<Target>, StageError>;

/// The validation of one route.
pub struct ValidateProcessor<S = RegistryClient> {
    to: String,
    subject: String,
    schemas: Arc<SchemaCache<S>>,
    allowed: Arc<AllowedIds>,
    targets: RwLock<HashMap<Arc<str>, TargetOf>>,
}

impl<S: SchemaSource + SubjectSource + 'static> ValidateProcessor<S> {
    pub fn new(
        route: &ValidateRoute,
        schemas: Arc<SchemaCache<S>>,
        allowed: Arc<AllowedIds>,
    ) -> Self {
        Self {
            to: route.to.clone(),
            subject: route.subject_template().to_string(),
            schemas,
            allowed,
            targets: RwLock::new(HashMap::new()),
        }
    }

    /// Destination and subject of an input topic (rendered once per topic).
    fn target(&self, input: &Arc<str>) -> Result<Arc<Target>, StageError> {
        if let Some(t) = self
            .targets
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(input)
        {
            return t.clone();
        }
        let t = Target::resolve(&self.to, &self.subject, input).map(Arc::new);
        self.targets
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(input.clone(), t.clone());
        t
    }

    /// Checks one record once: the record to forward, or why not.
    pub async fn check(&self, record: &Record) -> Result<OutRecord, StageError> {
        let target = self.target(&record.topic)?;
        let now = weft_core::time::now_millis();
        let Some(value) = record.value.as_deref() else {
            logic::null_value(record)?;
            return Ok(logic::forward(record, target.topic.clone(), None, now));
        };
        let expecting = |e: StageError| e.expecting(target.subject.to_string());
        let framed = weft_core::wire::parse(value)
            .map_err(|e| expecting(StageError::from_classified(&e)))?;
        let id = framed.schema_id;
        let verdict = self
            .allowed
            .check_written_at(
                self.schemas.source(),
                &target.subject,
                id,
                record.timestamp_ms,
            )
            .await
            .map_err(|e| logic::subject_lookup_error(&target.subject, &e))?;
        if let allowed::Verdict::NotAllowed(list) = verdict {
            // Unknown to the registry, or the schema of another subject?
            self.schemas
                .schema(id)
                .await
                .map_err(|e| expecting(logic::schema_error(&e)))?;
            return Err(expecting(logic::not_allowed(
                id,
                &target.subject,
                &list.ids,
            )));
        }
        self.schemas
            .validate(value)
            .await
            .map_err(|e| expecting(logic::schema_error(&e)))?;
        Ok(logic::forward(record, target.topic.clone(), Some(id), now))
    }
}

impl<S: SchemaSource + SubjectSource + 'static> Processor for ValidateProcessor<S> {
    async fn process(&self, record: &Record, out: &mut Emitter) -> Result<(), StageError> {
        out.emit(self.check(record).await?);
        Ok(())
    }
}

/// The processor of one route: an unreachable registry makes records wait in place (see the
/// module documentation), never go to the dead-letter topic.
pub fn route_processor<S: SchemaSource + SubjectSource + 'static>(
    route: &ValidateRoute,
    schemas: Arc<SchemaCache<S>>,
    allowed: Arc<AllowedIds>,
    wait: TransientWait,
    shutdown: CancellationToken,
) -> WaitOnTransient<ValidateProcessor<S>> {
    WaitOnTransient::new(
        ValidateProcessor::new(route, schemas, allowed),
        wait,
        "the schema registry",
        shutdown,
    )
}

/// Runs every route until `shutdown`; the first route to fail stops the others.
pub async fn run(
    kafka: &KafkaConfig,
    cfg: &ValidateConfig,
    registry: &RegistryClientConfig,
    instance_id: &str,
    drain_timeout: Duration,
    metrics: Option<KafkaMetrics>,
    shutdown: CancellationToken,
) -> Result<(), weft_kafka::Error> {
    let problems = cfg.validate();
    if !problems.is_empty() {
        return Err(weft_kafka::Error::Config(problems.join("; ")));
    }
    let schemas = Arc::new(
        SchemaCache::from_config(registry)
            .map_err(|e| weft_kafka::Error::Config(format!("schema_registry: {e}")))?,
    );
    let allowed = Arc::new(AllowedIds::new(cfg.refresh_interval));
    // A failed route stops its siblings, not whatever else shares the caller's token.
    let shutdown = shutdown.child_token();
    let mut tasks = tokio::task::JoinSet::new();
    for route in &cfg.routes {
        let mut opts = route.consumer_options(crate::SERVICE, instance_id, drain_timeout);
        opts.dead_letters = cfg.dead_letters.clone();
        if let Some(t) = &opts.dead_letters.retry_tiers {
            weft_kafka::retry_tiers::check_topics(kafka, t)?;
        }
        let wait = TransientWait::for_mode(route.mode, cfg.registry_wait, drain_timeout);
        let processor = Arc::new(route_processor(
            route,
            schemas.clone(),
            allowed.clone(),
            wait,
            shutdown.clone(),
        ));
        let (kafka, metrics, shutdown) = (kafka.clone(), metrics.clone(), shutdown.clone());
        let name = route.name();
        tracing::info!(route = %name, from = ?route.from, to = %route.to, subject = %route.subject_template(), "Validating an ingest route");
        tasks.spawn(async move {
            let r = weft_kafka::consumer::run(&kafka, opts, processor, metrics, shutdown).await;
            (name, r)
        });
    }
    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((_, Ok(()))) => {}
            Ok((name, Err(e))) => {
                tracing::error!(route = %name, error = %e, "Ingest validation route stopped");
                shutdown.cancel();
                first_error.get_or_insert(weft_kafka::Error::Internal(format!(
                    "ingest validation route {name}: {e}"
                )));
            }
            Err(e) => {
                shutdown.cancel();
                first_error.get_or_insert(weft_kafka::Error::Internal(format!(
                    "ingest validation task: {e}"
                )));
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests;
