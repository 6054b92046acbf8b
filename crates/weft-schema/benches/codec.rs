//! Decode + encode of a 12-field record (strings, longs, a nested record, an enum, an optional
//! string, a timestamp-millis), one record per iteration:
//!
//! - `a_copy`: the floor — copy the body bytes into a reused `Vec`;
//! - `b_apache_avro`: apache-avro's generic path, `from_avro_datum` + `to_avro_datum`;
//! - `b2_apache_avro_prebuilt`: the same with the datum reader/writer built once;
//! - `c_weft`: `Codec::decode` + `Codec::encode` into a reused `Vec`;
//! - `c2_weft_reuse`: `Codec::decode_into` a reused scratch value + `Codec::encode`;
//! - `d_weft_resolving`: `ResolvingCodec::decode` (writer v1 → reader v2 with one added
//!   defaulted field) + encode with v2;
//! - `e_validate`: `Codec::validate` only.
//! - `f_from_json_tree`: the record's JSON text parsed into a `serde_json::Value`, then
//!   `Codec::from_json` (ingest's path per event);
//! - `g_from_json_raw`: the same text through `Codec::from_json_raw` (no tree).
//!
//! `bench/codec.sh` runs this and turns criterion's estimates into a report.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(deprecated)] // apache-avro's from_avro_datum/to_avro_datum are the reference

use std::hint::black_box;
use std::sync::Arc;

use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::writer::datum::GenericDatumWriter;
use apache_avro::Schema;
use criterion::{criterion_group, Criterion, Throughput};
use weft_schema::codec::{Codec, JsonOptions, ResolvingCodec, Value};

/// The `weft` binary runs every stage on mimalloc; measure with the same allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const V1: &str = include_str!("order_v1.avsc");
const V2: &str = include_str!("order_v2.avsc");

fn sample() -> Value {
    let s = |x: &str| Value::String(x.to_string());
    Value::Record(vec![
        s("ord-2024-000123456"),
        s("cust-88412"),
        s("SKU-RED-SHOE-42"),
        Value::Long(2),
        Value::Long(12_990),
        Value::Long(1_234_567),
        Value::Enum(1),
        Value::Union(1, Box::new(s("leave at the door"))),
        Value::Long(1_718_000_000_123),
        Value::Record(vec![s("12 Rue des Lilas"), s("Lyon"), s("69003")]),
        s("web"),
        Value::Long(3),
    ])
}

fn bench(c: &mut Criterion) {
    let v1 = Schema::parse_str(V1).unwrap();
    let v2 = Schema::parse_str(V2).unwrap();
    let codec = Arc::new(Codec::new(&v1).unwrap());
    let reader = Arc::new(Codec::new(&v2).unwrap());
    let resolving = ResolvingCodec::new(codec.clone(), reader).unwrap();
    let body = codec.encode_to_vec(&sample()).unwrap();
    assert_eq!(
        apache_avro::to_avro_datum(&v1, codec.to_avro(&sample()).unwrap()).unwrap(),
        body,
        "apache-avro writes the same bytes"
    );

    eprintln!("codec bench: the Avro body has {} bytes", body.len());

    let mut g = c.benchmark_group("codec");
    g.throughput(Throughput::Elements(1));

    let mut out = Vec::with_capacity(256);
    g.bench_function("a_copy", |b| {
        b.iter(|| {
            out.clear();
            out.extend_from_slice(black_box(&body));
            black_box(out.len())
        })
    });

    g.bench_function("b_apache_avro", |b| {
        b.iter(|| {
            let v = apache_avro::from_avro_datum(&v1, &mut black_box(&body[..]), None).unwrap();
            black_box(apache_avro::to_avro_datum(&v1, v).unwrap())
        })
    });

    let datum_reader = GenericDatumReader::builder(&v1).build().unwrap();
    let datum_writer = GenericDatumWriter::builder(&v1).build().unwrap();
    g.bench_function("b2_apache_avro_prebuilt", |b| {
        b.iter(|| {
            let v = datum_reader.read_value(&mut black_box(&body[..])).unwrap();
            out.clear();
            datum_writer.write_value_ref(&mut out, &v).unwrap();
            black_box(out.len())
        })
    });

    g.bench_function("c_weft", |b| {
        b.iter(|| {
            let v = codec.decode(black_box(&body)).unwrap();
            out.clear();
            codec.encode(&v, &mut out).unwrap();
            black_box(out.len())
        })
    });

    let mut scratch = Value::Null;
    g.bench_function("c2_weft_reuse", |b| {
        b.iter(|| {
            codec.decode_into(black_box(&body), &mut scratch).unwrap();
            out.clear();
            codec.encode(&scratch, &mut out).unwrap();
            black_box(out.len())
        })
    });

    g.bench_function("d_weft_resolving", |b| {
        b.iter(|| {
            let v = resolving.decode(black_box(&body)).unwrap();
            out.clear();
            resolving.encode(&v, &mut out).unwrap();
            black_box(out.len())
        })
    });

    g.bench_function("e_validate", |b| {
        b.iter(|| codec.validate(black_box(&body)).unwrap())
    });

    let text = serde_json::to_string(&codec.to_json(&sample()).unwrap()).unwrap();
    let raw: Box<serde_json::value::RawValue> = serde_json::from_str(&text).unwrap();
    let opts = JsonOptions::default();
    assert_eq!(codec.from_json_raw(&raw, &opts).unwrap(), sample());
    g.bench_function("f_from_json_tree", |b| {
        b.iter(|| {
            let tree: serde_json::Value = serde_json::from_str(black_box(&text)).unwrap();
            codec.from_json(&tree, &opts).unwrap()
        })
    });
    g.bench_function("g_from_json_raw", |b| {
        b.iter(|| codec.from_json_raw(black_box(&raw), &opts).unwrap())
    });

    g.finish();
}

criterion_group!(benches, bench);

/// `CODEC_LOOP=<path>:<n>` runs one path `n` times outside criterion, for `perf stat` /
/// `perf record` (cycles per record independent of other load on the machine).
fn profile_loop(spec: &str) {
    let (path, n) = spec.split_once(':').unwrap_or((spec, "1000000"));
    let n: u64 = n.parse().unwrap();
    let v1 = Schema::parse_str(V1).unwrap();
    let v2 = Schema::parse_str(V2).unwrap();
    let codec = Arc::new(Codec::new(&v1).unwrap());
    let resolving = ResolvingCodec::new(codec.clone(), Arc::new(Codec::new(&v2).unwrap())).unwrap();
    let body = codec.encode_to_vec(&sample()).unwrap();
    let mut out = Vec::with_capacity(256);
    let mut scratch = Value::Null;
    let start = std::time::Instant::now();
    for _ in 0..n {
        match path {
            "c_weft" => {
                let v = codec.decode(black_box(&body)).unwrap();
                out.clear();
                codec.encode(&v, &mut out).unwrap();
            }
            "c2_weft_reuse" => {
                codec.decode_into(black_box(&body), &mut scratch).unwrap();
                out.clear();
                codec.encode(&scratch, &mut out).unwrap();
            }
            "d_weft_resolving" => {
                let v = resolving.decode(black_box(&body)).unwrap();
                out.clear();
                resolving.encode(&v, &mut out).unwrap();
            }
            "e_validate" => codec.validate(black_box(&body)).unwrap(),
            "decode" => drop(black_box(codec.decode(black_box(&body)).unwrap())),
            other => panic!("unknown path {other}"),
        }
        black_box(&out);
    }
    let ns = start.elapsed().as_nanos() as f64 / n as f64;
    eprintln!("{path}: {n} iterations, {ns:.1} ns/iteration (wall clock)");
}

fn main() {
    if let Ok(spec) = std::env::var("CODEC_LOOP") {
        profile_loop(&spec);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
