//! A flow on Kafka: the processor the consumer loop runs per record (decode, decide, encode,
//! emit) and the start-up checks that need the registry.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio_util::sync::CancellationToken;
use weft_core::{Classify, ErrorClass, ErrorCode, StageError};
use weft_kafka::{Emitter, OutRecord, Processor, Record};
use weft_schema::{ReaderSchema, SchemaCache, SchemaError, SchemaSource};

use crate::engine::Decision;
use crate::events::{FlowCounters, FlowMetrics};
use crate::flow::Flow;
use crate::logic::{header_value, output_headers, render_subject};

/// One flow's processor.
pub struct FlowProcessor<S = weft_schema::RegistryClient> {
    flow: Arc<Flow>,
    schemas: Arc<SchemaCache<S>>,
    reader: ReaderSchema,
    /// The output schema's id under each destination's subject, and its header value.
    output_ids: HashMap<Arc<str>, (u32, Bytes)>,
    /// The flow's input topics as header values (`weft.origin.topic`).
    input_topics: HashMap<String, Bytes>,
    counters: Option<FlowCounters>,
}

impl<S: SchemaSource + 'static> FlowProcessor<S> {
    /// Registers (or finds) the flow's output schema under every destination's subject, as
    /// Confluent's serializers do by default, and plans reading with the flow's input schema.
    pub async fn prepare(
        flow: Arc<Flow>,
        schemas: Arc<SchemaCache<S>>,
        metrics: Option<FlowMetrics>,
    ) -> Result<Self, String> {
        Self::prepare_waiting(
            flow,
            schemas,
            metrics,
            Duration::ZERO,
            &CancellationToken::new(),
        )
        .await
    }

    /// [`Self::prepare`], waiting up to `wait` (or until `shutdown`) for a registry that cannot
    /// be reached yet — in `weft up` the registry starts beside the flows.
    pub async fn prepare_waiting(
        flow: Arc<Flow>,
        schemas: Arc<SchemaCache<S>>,
        metrics: Option<FlowMetrics>,
        wait: Duration,
        shutdown: &CancellationToken,
    ) -> Result<Self, String> {
        let deadline = Instant::now() + wait;
        let mut output_ids = HashMap::new();
        if let (Some(output), Some(spec)) = (&flow.output, &flow.spec.output) {
            for topic in flow.destinations().iter().cloned() {
                let subject = render_subject(&spec.subject, &topic);
                let id = loop {
                    match schemas.register(&subject, &output.text).await {
                        Ok(id) => break id,
                        Err(e)
                            if e.class() == ErrorClass::Transient
                                && Instant::now() < deadline
                                && !shutdown.is_cancelled() =>
                        {
                            tracing::info!(flow = %flow.name, error = %e, "Waiting for the schema registry");
                            tokio::select! {
                                () = shutdown.cancelled() => {}
                                () = tokio::time::sleep(Duration::from_millis(500)) => {}
                            }
                        }
                        Err(e) => {
                            return Err(format!(
                                "flow {}: registering {} under subject {subject} (destination {topic}): {e}",
                                flow.name, output.name
                            ))
                        }
                    }
                };
                output_ids.insert(topic, (id, header_value(&id.to_string())));
            }
        }
        let reader = ReaderSchema::new(flow.input.codec.clone());
        let counters = metrics.map(|m| FlowCounters::new(&m, &flow));
        Ok(Self {
            input_topics: input_topics(&flow),
            flow,
            schemas,
            reader,
            output_ids,
            counters,
        })
    }

    /// A processor that only decodes and decides (`weft flows dry-run`): nothing is
    /// registered, and [`Processor::process`] would fail for lack of output schema ids.
    pub fn for_dry_run(flow: Arc<Flow>, schemas: Arc<SchemaCache<S>>) -> Self {
        let reader = ReaderSchema::new(flow.input.codec.clone());
        Self {
            input_topics: input_topics(&flow),
            flow,
            schemas,
            reader,
            output_ids: HashMap::new(),
            counters: None,
        }
    }

    pub fn flow(&self) -> &Arc<Flow> {
        &self.flow
    }

    /// The input topic of `record` as a header value.
    fn origin_topic(&self, record: &Record) -> Bytes {
        match self.input_topics.get(record.topic.as_ref()) {
            Some(t) => t.clone(),
            None => header_value(&record.topic),
        }
    }

    fn count(&self, outcome: impl Fn(&FlowCounters) -> &prometheus::IntCounter) {
        if let Some(c) = &self.counters {
            outcome(c).inc();
        }
    }

    /// Decodes and decides one record (no output yet): what `flows dry-run` shows.
    pub async fn decide(&self, record: &Record) -> Result<Option<Decision>, StageError> {
        let Some(value) = record.value.as_deref() else {
            return Ok(None);
        };
        let (_, input) = self
            .schemas
            .decode_as(value, &self.reader)
            .await
            .map_err(|e| {
                // The flow reads its input as the topic's value schema (TopicNameStrategy).
                schema_error(&e, &self.flow.input.name).expecting(format!("{}-value", record.topic))
            })?;
        let metadata = if self.flow.uses_metadata {
            weft_transform::program::kafka_metadata(
                &record.topic,
                record.partition,
                record.offset,
                record.timestamp_ms,
                record.key.as_deref(),
                &record.headers,
            )
        } else {
            vrl::value::Value::Null
        };
        self.flow.decide(input, &metadata).map(Some)
    }
}

fn input_topics(flow: &Flow) -> HashMap<String, Bytes> {
    flow.spec
        .from
        .iter()
        .map(|t| (t.clone(), header_value(t)))
        .collect()
}

/// A registry or decoding failure, classified: an unknown id, bytes that do not decode and a
/// writer schema that cannot be read as the flow's input are the record's fault (dead letter);
/// an unreachable registry is not (retried).
fn schema_error(e: &SchemaError, input: &str) -> StageError {
    let mut s = StageError::from_classified(e);
    if matches!(e, SchemaError::Incompatible { .. }) {
        s.message = format!("cannot be read as the flow's input schema {input}: {e}");
    }
    s
}

impl<S: SchemaSource + 'static> Processor for FlowProcessor<S> {
    async fn process(&self, record: &Record, out: &mut Emitter) -> Result<(), StageError> {
        let decision = match self.decide(record).await? {
            Some(d) => d,
            None => {
                // A tombstone: every destination hears of the deletion (compacted views).
                if record.key.is_none() {
                    return Err(StageError::new(
                        ErrorCode::BadMagicByte,
                        "the value is null and the record has no key (not a tombstone)",
                    ));
                }
                let origin = self.origin_topic(record);
                for topic in self.flow.destinations() {
                    let mut o = OutRecord::forward(record, topic.clone());
                    o.headers = output_headers(
                        &record.headers,
                        &origin,
                        record.partition,
                        record.offset,
                        None,
                    );
                    out.emit(o);
                }
                self.count(|c| &c.tombstone);
                return Ok(());
            }
        };
        let (event, reencode, outputs) = match decision {
            Decision::Filtered { by } => {
                if by == "program" {
                    self.count(|c| &c.filtered_by_program);
                } else {
                    self.count(|c| &c.filtered_by_default);
                }
                return Ok(());
            }
            Decision::Routed {
                event,
                reencode,
                outputs,
            } => (event, reencode, outputs),
        };
        // Encoded once per schema id (destinations usually share one).
        let mut encoded: Vec<(u32, Bytes)> = Vec::with_capacity(1);
        // The outputs' headers, built once per schema id: one trace span for the record's
        // processing, whatever number of destinations it goes to.
        let mut bases: Vec<(Option<u32>, weft_core::Headers)> = Vec::with_capacity(1);
        let origin = self.origin_topic(record);
        let codec = &self.flow.event_schema().codec;
        let count = outputs.len();
        for (i, o) in outputs.into_iter().enumerate() {
            let (value, schema_id) = if reencode {
                let (id, id_text) = self.output_ids.get(&o.topic).ok_or_else(|| {
                    StageError::new(
                        ErrorCode::Internal,
                        format!("no output schema id for destination {}", o.topic),
                    )
                })?;
                let id = *id;
                let bytes = match encoded.iter().find(|(i, _)| *i == id) {
                    Some((_, b)) => b.clone(),
                    None => {
                        let b = Bytes::from(codec.encode_framed(id, &event).map_err(|e| {
                            StageError::new(
                                ErrorCode::SchemaMismatch,
                                format!(
                                    "the output does not fit {}: {e}",
                                    self.flow.event_schema().name
                                ),
                            )
                        })?);
                        encoded.push((id, b.clone()));
                        b
                    }
                };
                (Some(bytes), Some((id, id_text)))
            } else {
                (record.value.clone(), None)
            };
            let last = i + 1 == count;
            let schema_id_value = schema_id.map(|(_, text)| text);
            let schema_id = schema_id.map(|(id, _)| id);
            let mut headers = match bases.iter_mut().find(|(id, _)| *id == schema_id) {
                Some((_, h)) if last => std::mem::take(h),
                Some((_, h)) => h.clone(),
                None => {
                    let h = output_headers(
                        &record.headers,
                        &origin,
                        record.partition,
                        record.offset,
                        schema_id_value,
                    );
                    if !last {
                        bases.push((schema_id, h.clone()));
                    }
                    h
                }
            };
            for (k, v) in o.headers {
                headers.set(k, v);
            }
            if let Some(c) = &self.counters {
                c.output(&o.route, &o.topic);
            }
            out.emit(OutRecord {
                topic: o.topic,
                partition: None,
                key: match o.key {
                    None => record.key.clone(),
                    Some(k) => k.map(Bytes::from),
                },
                value,
                headers,
                timestamp_ms: record.timestamp_ms,
            });
        }
        self.count(|c| &c.routed);
        Ok(())
    }
}
