//! Unit tests of direct field mappings; helpers here, one file per concern.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use weft_core::{Classify, ErrorClass, ErrorCode};
use weft_schema::codec::{Codec, Value};

use super::suggest::{closest, edit_distance};
use super::*;

mod casts;
mod checks;
mod constants;
mod masks;
mod paths;
mod promotions;
mod shape;
mod spec;

// ---------------------------------------------------------------- helpers

/// A record schema `R` with the given field JSON.
fn codec(fields: &str) -> Codec {
    Codec::parse(
        &format!(r#"{{"type":"record","name":"R","namespace":"t","fields":[{fields}]}}"#),
        &[],
    )
    .unwrap()
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Flow {
    transform: MappingSpec,
}

fn spec(text: &str) -> MappingSpec {
    toml::from_str::<Flow>(text).unwrap().transform
}

fn compile_with(
    text: &str,
    input: &Codec,
    output: &Codec,
    opts: CompileOptions,
) -> Result<DirectMapping, Vec<String>> {
    DirectMapping::compile(&spec(text), input, output, opts).map_err(|errs| {
        for e in &errs {
            assert_eq!(e.code(), "mapping_invalid");
            assert_eq!(e.kind, MappingErrorKind::Invalid);
        }
        errs.into_iter().map(|e| e.message).collect()
    })
}

fn compile(text: &str, input: &str, output: &str) -> Result<DirectMapping, Vec<String>> {
    compile_with(
        text,
        &codec(input),
        &codec(output),
        CompileOptions::default(),
    )
}

fn errors(text: &str, input: &str, output: &str) -> Vec<String> {
    match compile(text, input, output) {
        Ok(_) => panic!("the mapping compiled"),
        Err(e) => e,
    }
}

fn s(x: &str) -> Value {
    Value::String(x.into())
}

fn some(branch: u32, v: Value) -> Value {
    Value::Union(branch, Box::new(v))
}

fn null(branch: u32) -> Value {
    Value::Union(branch, Box::new(Value::Null))
}

fn rec(fields: Vec<Value>) -> Value {
    Value::Record(fields)
}

/// Maps one input field `a` of type `in_ty` to output field `b` of type `out_ty` with the
/// given source table body (e.g. `from = "a", cast = "long"`).
fn one(in_ty: &str, out_ty: &str, source: &str, v: Value) -> Result<Value, MappingError> {
    let m = compile(
        &format!("[transform.fields]\nb = {{ {source} }}"),
        &format!(r#"{{"name":"a","type":{in_ty}}}"#),
        &format!(r#"{{"name":"b","type":{out_ty}}}"#),
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    let out = m.apply(&rec(vec![v]))?;
    match out {
        Value::Record(mut f) if f.len() == 1 => Ok(f.remove(0)),
        other => panic!("unexpected output {other:?}"),
    }
}

fn cast(in_ty: &str, out_ty: &str, to: &str, v: Value) -> Result<Value, MappingError> {
    one(in_ty, out_ty, &format!(r#"from = "a", cast = "{to}""#), v)
}

/// The message of a failed cast (checking its code).
fn cast_err(in_ty: &str, out_ty: &str, to: &str, v: Value) -> String {
    let e = cast(in_ty, out_ty, to, v).unwrap_err();
    assert_eq!(e.code(), "cast_failed", "{e}");
    assert_eq!(e.field, "b");
    assert_eq!(e.input.as_deref(), Some("a"));
    e.message
}

/// The single output field a constant `value` gives.
fn constant(out_ty: &str, value: &str) -> Result<Value, Vec<String>> {
    let m = compile(
        &format!("[transform.fields]\nb = {{ value = {value} }}"),
        r#"{"name":"a","type":"int"}"#,
        &format!(r#"{{"name":"b","type":{out_ty}}}"#),
    )?;
    match m.apply(&rec(vec![Value::Int(0)])).unwrap() {
        Value::Record(mut f) => Ok(f.remove(0)),
        other => panic!("unexpected output {other:?}"),
    }
}

const TS: &str = r#"{"type":"long","logicalType":"timestamp-millis"}"#;
const TS_MICROS: &str = r#"{"type":"long","logicalType":"timestamp-micros"}"#;
const LOCAL_TS: &str = r#"{"type":"long","logicalType":"local-timestamp-millis"}"#;
const DATE: &str = r#"{"type":"int","logicalType":"date"}"#;
const UUID: &str = r#"{"type":"string","logicalType":"uuid"}"#;
const STATUS: &str = r#"{"type":"enum","name":"Status","symbols":["NEW","PAID","SHIPPED"]}"#;
const STATUS_DEFAULT: &str =
    r#"{"type":"enum","name":"State","symbols":["UNKNOWN","NEW","PAID"],"default":"UNKNOWN"}"#;

// The benchmarked shape (tests in shape.rs, also used by paths.rs).

const SHOP_ORDER: &str = r#"
    {"name":"order_id","type":"string"},
    {"name":"customer","type":"string"},
    {"name":"amount_cents","type":"long"},
    {"name":"qty","type":"int"},
    {"name":"email","type":["null","string"],"default":null},
    {"name":"card_number","type":"string"},
    {"name":"address","type":["null",{"type":"record","name":"Address","fields":[
        {"name":"street","type":"string"},
        {"name":"country","type":["null","string"],"default":null}]}],"default":null},
    {"name":"created_at","type":"string"},
    {"name":"status","type":{"type":"enum","name":"Status","symbols":["NEW","PAID","SHIPPED"]}},
    {"name":"note","type":["null","string"],"default":null},
    {"name":"sku","type":"string"},
    {"name":"price","type":"float"}
"#;

const ORDER: &str = r#"
    {"name":"id","type":"string"},
    {"name":"customer_id","type":"string"},
    {"name":"amount","type":"double"},
    {"name":"qty","type":"long"},
    {"name":"email","type":["null","string"],"default":null},
    {"name":"card_number","type":"string"},
    {"name":"created_at","type":{"type":"long","logicalType":"timestamp-millis"}},
    {"name":"status","type":{"type":"enum","name":"OrderStatus","symbols":["NEW","PAID","SHIPPED"]}},
    {"name":"sku_code","type":"string"},
    {"name":"price","type":"double"},
    {"name":"channel","type":"string"},
    {"name":"schema_version","type":"int"}
"#;

/// The 12-field mapping the benchmark runs: rename 3, cast 2, mask 1, add 2 constants (the
/// other 4 fields are implicit copies, 2 of them promoted).
const ORDER_MAPPING: &str = r#"
[transform]
drop = ["note"]
[transform.fields]
id = "order_id"
customer_id = { from = "customer" }
sku_code = "sku"
amount = { from = "amount_cents", cast = "double" }
created_at = { from = "created_at", cast = "timestamp-millis" }
card_number = { from = "card_number", mask = "keep_last_4" }
channel = { value = "api" }
schema_version = { value = 2 }
"#;

fn shop_order() -> Value {
    rec(vec![
        s("o-1001"),
        s("c-42"),
        Value::Long(12_550),
        Value::Int(3),
        some(1, s("ada@example.com")),
        s("4111111111111234"),
        some(1, rec(vec![s("1 Main St"), some(1, s("FR"))])),
        s("2026-11-22T11:00:00+01:00"),
        Value::Enum(1),
        some(1, s("leave at the door")),
        s("SKU-9"),
        Value::Float(19.5),
    ])
}
