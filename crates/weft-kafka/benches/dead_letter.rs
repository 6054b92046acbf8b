//! What a dead letter costs the consumer loop on its own thread, one record per iteration:
//!
//! - `a_forward`: the loop's forward of a bare record (`OutRecord::forward`, no headers);
//! - `b_build`: the dead letter of that record as the loop builds it — the failure, the
//!   original, `DeadLetter::to_kafka` (the `weft.dlq.*` headers) — then dropped;
//! - `c_build_native`: `b_build` plus the librdkafka headers object the producer hands over
//!   (`to_owned_headers`: one `rd_kafka_header_add` per header), then destroyed.
//!
//! The loop's end-to-end cost of dead letters (producer batches, broker) is `bench/dlq.sh`'s.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::sync::Arc;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use weft_core::{DeadLetter, ErrorCode, Failure, Headers, StageError};
use weft_kafka::record::to_owned_headers;
use weft_kafka::{OutRecord, Record};

/// The `weft` binary runs on mimalloc; measure with the same allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn record() -> Record {
    let mut value = vec![0u8; 512];
    value[0] = 0; // Confluent magic byte, schema id 42
    value[1..5].copy_from_slice(&42u32.to_be_bytes());
    Record {
        topic: Arc::from("orders.ingest"),
        partition: 3,
        offset: 1_234_567,
        timestamp_ms: Some(1_795_314_600_123),
        key: Some(Bytes::from_static(b"customer-88412")),
        value: Some(Bytes::from(value)),
        headers: Headers::new(),
    }
}

/// The loop's dead letter of `record` (consumer/tiers.rs `failure_of` + lane.rs).
fn dead_letter(record: &Record, error: &StageError) -> DeadLetter {
    let mut failure = Failure::from_error("weft-transform", "transform", error, 1);
    failure.group = Some("weft.transform.orders".to_string());
    failure.schema_id = record.value.as_deref().and_then(weft_core::wire::schema_id);
    DeadLetter {
        original: record.to_original(),
        failure,
    }
}

fn bench(c: &mut Criterion) {
    let record = record();
    let error = StageError::new(
        ErrorCode::TransformFailed,
        "refused by the benchmark (every tenth record)",
    );
    let out: Arc<str> = Arc::from("orders.canonical");
    let mut g = c.benchmark_group("dead_letter");
    g.bench_function("a_forward", |b| {
        b.iter(|| {
            let o = OutRecord::forward(black_box(&record), Arc::clone(&out));
            black_box(to_owned_headers(&o.headers));
        });
    });
    g.bench_function("b_build", |b| {
        b.iter(|| {
            let dl = dead_letter(black_box(&record), &error);
            black_box(dl.to_kafka());
        });
    });
    g.bench_function("c_build_native", |b| {
        b.iter(|| {
            let dl = dead_letter(black_box(&record), &error);
            let (_, _, headers) = dl.to_kafka();
            black_box(to_owned_headers(&headers));
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
