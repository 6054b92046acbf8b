//! `flow-cpu`: a flow's own CPU per record, without Kafka — the processor the consumer loop
//! runs (`FlowProcessor`, with its metrics), over orders held in memory, on one thread,
//! beside a plain decode + encode of the same records in the same run. Used to see where a
//! flow's time goes between full `bench/flows.sh` runs; the figures of the report come from
//! that script.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Context, Result};
use bytes::Bytes;
use clap::Args;
use weft_core::Headers;
use weft_kafka::{Emitter, Processor, Record};
use weft_route::{FlowMetrics, FlowProcessor};
use weft_schema::{FetchedSchema, SchemaCache, SchemaError, SchemaSource};

use crate::flows::{load_flow, order_bytes};

#[derive(Debug, Args)]
pub struct FlowCpuArgs {
    /// Flows of bench/flows/ to run (codec, transform, fanout)
    #[arg(long, value_delimiter = ',', default_value = "codec,transform,fanout")]
    pub flows: Vec<String>,
    #[arg(long, default_value_t = 200_000)]
    pub records: u64,
    /// Passes over the records; the fastest is reported
    #[arg(long, default_value_t = 3)]
    pub passes: u32,
}

/// Schemas held in memory: ids in registration order.
#[derive(Default)]
struct Memory {
    schemas: Mutex<Vec<String>>,
}

impl SchemaSource for Memory {
    async fn schema_by_id(&self, id: u32) -> Result<FetchedSchema, SchemaError> {
        let schemas = self
            .schemas
            .lock()
            .map_err(|_| SchemaError::RegistryUnavailable {
                message: "lock poisoned".into(),
            })?;
        match schemas.get(id as usize - 1) {
            Some(s) => Ok(FetchedSchema {
                id,
                schema: s.clone(),
                references: vec![],
            }),
            None => Err(SchemaError::UnknownSchemaId {
                id,
                message: "not registered".into(),
            }),
        }
    }

    async fn latest_schema(&self, subject: &str) -> Result<FetchedSchema, SchemaError> {
        Err(SchemaError::UnknownSubject {
            subject: subject.to_string(),
            message: "subjects are not kept".into(),
        })
    }

    async fn register_schema(&self, _subject: &str, schema: &str) -> Result<u32, SchemaError> {
        let mut schemas = self
            .schemas
            .lock()
            .map_err(|_| SchemaError::RegistryUnavailable {
                message: "lock poisoned".into(),
            })?;
        let id = match schemas.iter().position(|s| s == schema) {
            Some(i) => i + 1,
            None => {
                schemas.push(schema.to_string());
                schemas.len()
            }
        };
        u32::try_from(id).context("too many schemas").map_err(|e| {
            SchemaError::RegistryUnavailable {
                message: e.to_string(),
            }
        })
    }
}

pub async fn run(args: FlowCpuArgs) -> Result<()> {
    for name in &args.flows {
        let flow = Arc::new(load_flow(name, "bench.in", "bench.out")?);
        let source = Memory::default();
        let input_id = source
            .register_schema("bench.in-value", &flow.input.text)
            .await?;
        let schemas = Arc::new(SchemaCache::new(source));
        let processor =
            FlowProcessor::prepare(flow.clone(), schemas, Some(FlowMetrics::unregistered()?))
                .await
                .map_err(anyhow::Error::msg)?;
        let topic: Arc<str> = Arc::from("bench.in");
        let mut records = Vec::with_capacity(args.records as usize);
        for i in 0..args.records {
            records.push(Record {
                topic: topic.clone(),
                partition: (i % 6) as i32,
                offset: i as i64,
                timestamp_ms: Some(1_700_000_000_000),
                key: Some(Bytes::from(crate::flows::order_key(i))),
                value: Some(Bytes::from(order_bytes(&flow.input.codec, input_id, i)?)),
                headers: Headers::new(),
            });
        }
        let mut best = f64::MAX;
        let mut outputs = 0;
        let mut by_topic: HashMap<String, u64> = HashMap::new();
        for pass in 0..args.passes {
            let start = Instant::now();
            let mut n = 0;
            for r in &records {
                let mut out = Emitter::default();
                processor
                    .process(r, &mut out)
                    .await
                    .map_err(|e| anyhow::anyhow!("record {}: {e}", r.offset))?;
                n += out.len();
                if pass == 0 {
                    for o in out.records() {
                        *by_topic.entry(o.topic.to_string()).or_default() += 1;
                    }
                }
            }
            best = best.min(start.elapsed().as_secs_f64());
            outputs = n;
        }
        // The codec alone on the same bytes: decode with the input schema, encode again.
        let codec = &flow.input.codec;
        let mut codec_best = f64::MAX;
        for _ in 0..args.passes {
            let start = Instant::now();
            for r in &records {
                let bytes = r.value.as_deref().unwrap_or_default();
                let v = codec.decode(&bytes[5..])?;
                std::hint::black_box(codec.encode_framed(input_id, &v)?);
            }
            codec_best = codec_best.min(start.elapsed().as_secs_f64());
        }
        let per = |s: f64| s * 1e9 / args.records as f64;
        println!(
            "{}",
            serde_json::json!({
                "flow": name,
                "records": args.records,
                "outputs": outputs,
                "by_topic": by_topic,
                "process_ns_per_record": per(best),
                "decode_encode_ns_per_record": per(codec_best),
            })
        );
    }
    Ok(())
}
