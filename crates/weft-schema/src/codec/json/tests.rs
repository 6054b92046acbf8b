//! Unit tests of JSON ↔ Avro: each rule, each error kind with its exact message.

use apache_avro::types::Value as Avro;
use serde_json::{json, Value as Json};
use weft_core::{Classify, ErrorClass, ErrorCode};

use super::super::{Codec, Value};
use super::{JsonErrorKind, JsonOptions};

fn codec(schema: &str) -> Codec {
    Codec::parse(schema, &[]).unwrap_or_else(|e| panic!("schema {schema}: {e}"))
}

/// [`Codec::from_json_raw`] on the JSON's text gives what [`Codec::from_json`] gives on the
/// text parsed into a tree: the same value, or an error with the same code and message.
fn same_from_text(codec: &Codec, json: &Json, opts: &JsonOptions) {
    let text = serde_json::to_string(json).unwrap();
    let raw: Box<serde_json::value::RawValue> = serde_json::from_str(&text).unwrap();
    let Ok(tree) = serde_json::from_str::<Json>(&text) else {
        // Deeper than serde_json builds trees: refused as too deep.
        let e = codec.from_json_raw(&raw, opts).unwrap_err();
        assert_eq!(e.kind().code(), "too_deep", "{e}");
        return Default::default();
    };
    match (
        codec.from_json(&tree, opts),
        codec.from_json_raw(&raw, opts),
    ) {
        (Ok(a), Ok(b)) => assert_eq!(format!("{a:?}"), format!("{b:?}"), "{text}"),
        (Err(a), Err(b)) => {
            assert_eq!(a.kind().code(), b.kind().code(), "{text}");
            assert_eq!(a.to_string(), b.to_string(), "{text}");
        }
        (a, b) => panic!("{text}: from_json {a:?}, from_json_raw {b:?}"),
    }
}

fn read(schema: &str, json: Json) -> Value {
    same_from_text(&codec(schema), &json, &JsonOptions::default());
    codec(schema)
        .from_json(&json, &JsonOptions::default())
        .unwrap_or_else(|e| panic!("{json} as {schema}: {e}"))
}

/// The error's code and message.
fn refused_with(schema: &str, json: Json, opts: JsonOptions) -> (&'static str, String) {
    same_from_text(&codec(schema), &json, &opts);
    match codec(schema).from_json(&json, &opts) {
        Ok(v) => panic!("{json} as {schema} was taken as {v:?}"),
        Err(e) => (e.kind().code(), e.to_string()),
    }
}

fn refused(schema: &str, json: Json) -> (&'static str, String) {
    refused_with(schema, json, JsonOptions::default())
}

fn write(schema: &str, v: &Value) -> Json {
    codec(schema)
        .to_json(v)
        .unwrap_or_else(|e| panic!("{v:?} as {schema}: {e}"))
}

/// `json` reads as `v`, and `v` writes as `written` and reads back as `v`.
fn both_ways(schema: &str, json: Json, v: Value, written: Json) {
    assert_eq!(read(schema, json.clone()), v, "{json} as {schema}");
    assert_eq!(write(schema, &v), written, "{v:?} as {schema}");
    assert_eq!(read(schema, written), v, "{schema}: round trip");
}

fn union(b: u32, v: Value) -> Value {
    Value::Union(b, Box::new(v))
}

const ORDER: &str = r#"{"type":"record","name":"Order","namespace":"shop","fields":[
  {"name":"id","type":"string"},
  {"name":"status","type":{"type":"enum","name":"Status","symbols":["NEW","PAID","SHIPPED"]},"default":"NEW"},
  {"name":"note","type":["null","string"],"default":null},
  {"name":"customer","type":{"type":"record","name":"Customer","fields":[
      {"name":"email","type":"string"},{"name":"vip","type":"boolean","default":false}]}},
  {"name":"items","type":{"type":"array","items":{"type":"record","name":"Item","fields":[
      {"name":"sku","type":"string"},{"name":"qty","type":"int","default":1}]}},"default":[]},
  {"name":"tags","type":{"type":"map","values":"string"},"default":{}}]}"#;

fn order_json() -> Json {
    json!({
        "id": "o-1", "status": "PAID", "note": "ring twice",
        "customer": {"email": "a@b.c", "vip": true},
        "items": [{"sku": "A", "qty": 2}],
        "tags": {"env": "prod"}
    })
}

fn customer(email: &str, vip: bool) -> Value {
    Value::Record(vec![Value::String(email.into()), Value::Boolean(vip)])
}

#[test]
fn records_read_every_field_and_write_back() {
    let v = Value::Record(vec![
        Value::String("o-1".into()),
        Value::Enum(1),
        union(1, Value::String("ring twice".into())),
        customer("a@b.c", true),
        Value::Array(vec![Value::Record(vec![
            Value::String("A".into()),
            Value::Int(2),
        ])]),
        Value::Map(vec![("env".into(), Value::String("prod".into()))]),
    ]);
    both_ways(ORDER, order_json(), v, order_json());
}

#[test]
fn missing_fields_take_their_defaults_unless_told_not_to() {
    let v = read(ORDER, json!({"id": "o-1", "customer": {"email": "a@b.c"}}));
    assert_eq!(
        v,
        Value::Record(vec![
            Value::String("o-1".into()),
            Value::Enum(0),
            union(0, Value::Null),
            customer("a@b.c", false),
            Value::Array(vec![]),
            Value::Map(vec![]),
        ])
    );
    assert_eq!(
        refused(ORDER, json!({"id": "o-1", "customer": {}})),
        (
            "missing_field",
            "customer: missing required field \"email\"".into()
        )
    );
    assert_eq!(
        refused(ORDER, json!({"customer": {"email": "a@b.c"}})),
        (
            "missing_field",
            "the top level: missing required field \"id\"".into()
        )
    );
    let no_defaults = JsonOptions {
        fill_defaults: false,
        ..JsonOptions::default()
    };
    assert_eq!(
        refused_with(
            ORDER,
            json!({"id": "o-1", "customer": {"email": "a@b.c"}}),
            no_defaults
        ),
        (
            "missing_field",
            "the top level: missing required field \"status\"".into()
        )
    );
    codec(ORDER).from_json(&order_json(), &no_defaults).unwrap();
}

#[test]
fn unknown_fields_are_refused_unless_allowed() {
    let mut j = order_json();
    j["colour"] = json!("red");
    assert_eq!(
        refused(ORDER, j.clone()),
        (
            "unknown_field",
            "colour: unknown field (the schema has no such field)".into()
        )
    );
    j["customer"]["phone"] = json!("555");
    assert_eq!(
        refused(ORDER, j.clone()).1,
        "customer.phone: unknown field (the schema has no such field)"
    );
    let lenient = JsonOptions {
        allow_unknown_fields: true,
        ..JsonOptions::default()
    };
    assert_eq!(
        codec(ORDER).from_json(&j, &lenient).unwrap(),
        read(ORDER, order_json())
    );
}

#[test]
fn null_only_where_the_type_admits_it() {
    let mut j = order_json();
    j["note"] = Json::Null;
    assert_eq!(
        read(ORDER, j.clone()).field(2),
        Some(&union(0, Value::Null))
    );
    j["id"] = Json::Null;
    assert_eq!(
        refused(ORDER, j),
        ("wrong_type", "id: expected a string, got null".into())
    );
    // A field with a default still refuses an explicit null its type does not admit.
    let mut j = order_json();
    j["status"] = Json::Null;
    assert_eq!(
        refused(ORDER, j).1,
        "status: expected a symbol of enum shop.Status, got null"
    );
}

#[test]
fn wrong_types_name_the_path_and_the_value() {
    let mut j = order_json();
    j["items"] = json!([{"sku": "A"}, {"sku": "B"}, {"sku": "C"}, {"sku": 42}]);
    assert_eq!(
        refused(ORDER, j),
        (
            "wrong_type",
            "items[3].sku: expected a string, got 42".into()
        )
    );
    let mut j = order_json();
    j["tags"] = json!({"env": 1});
    assert_eq!(
        refused(ORDER, j).1,
        "tags[\"env\"]: expected a string, got 1"
    );
    assert_eq!(
        refused(ORDER, json!([1])).1,
        "the top level: expected an object (record shop.Order), got an array"
    );
    let mut j = order_json();
    j["customer"] = json!("a@b.c");
    assert_eq!(
        refused(ORDER, j).1,
        "customer: expected an object (record shop.Customer), got \"a@b.c\""
    );
    let mut j = order_json();
    j["items"] = json!({"sku": "A"});
    assert_eq!(
        refused(ORDER, j).1,
        "items: expected an array, got an object"
    );
    assert_eq!(
        refused(r#""boolean""#, json!("true")).1,
        "the top level: expected a boolean, got \"true\""
    );
    // Long strings are cut in messages.
    let long = "x".repeat(100);
    assert_eq!(
        refused(r#""int""#, json!(long)).1,
        format!(
            "the top level: expected an int, got \"{}…\"",
            "x".repeat(64)
        )
    );
}

#[test]
fn enums_take_their_symbols() {
    let mut j = order_json();
    j["status"] = json!("LOST");
    assert_eq!(
        refused(ORDER, j),
        (
            "bad_enum_symbol",
            "status: \"LOST\" is not one of NEW, PAID, SHIPPED".into()
        )
    );
    let mut j = order_json();
    j["status"] = json!(1);
    assert_eq!(
        refused(ORDER, j).1,
        "status: expected a symbol of enum shop.Status, got 1"
    );
    let symbols: Vec<String> = (0..25).map(|i| format!("S{i}")).collect();
    let schema = json!({"type": "enum", "name": "Big", "symbols": symbols}).to_string();
    assert_eq!(
        refused(&schema, json!("X")).1,
        "the top level: \"X\" is not one of S0, S1, S2, S3, S4, S5, S6, S7, S8, S9, S10, S11, \
         S12, S13, S14, S15, S16, S17, S18, S19, … (5 more)"
    );
}

#[test]
fn ints_and_longs_take_integers_in_range() {
    assert_eq!(read(r#""int""#, json!(42)), Value::Int(42));
    assert_eq!(read(r#""int""#, json!(5.0)), Value::Int(5));
    assert_eq!(read(r#""long""#, json!(1e3)), Value::Long(1000));
    assert_eq!(read(r#""long""#, json!(i64::MIN)), Value::Long(i64::MIN));
    assert_eq!(
        refused(r#""int""#, json!(1.5)),
        (
            "wrong_type",
            "the top level: expected an int, got 1.5".into()
        )
    );
    assert_eq!(
        refused(r#""int""#, json!(2_147_483_648u64)),
        (
            "out_of_range",
            "the top level: 2147483648 is out of range for an int (-2147483648 to 2147483647)"
                .into()
        )
    );
    assert_eq!(
        refused(r#""long""#, json!(9_223_372_036_854_775_808u64)).1,
        "the top level: 9223372036854775808 is out of range for a long \
         (-9223372036854775808 to 9223372036854775807)"
    );
    assert_eq!(refused(r#""long""#, json!(1e300)).0, "out_of_range");
    assert_eq!(
        refused(r#""long""#, json!("5")).1,
        "the top level: expected a long, got \"5\""
    );
    assert_eq!(write(r#""long""#, &Value::Long(-7)), json!(-7));
}

#[test]
fn floats_and_doubles_take_any_number() {
    assert_eq!(read(r#""float""#, json!(1.5)), Value::Float(1.5));
    assert_eq!(read(r#""double""#, json!(3)), Value::Double(3.0));
    assert_eq!(read(r#""double""#, json!(-0.1)), Value::Double(-0.1));
    assert_eq!(
        refused(r#""float""#, json!(1e40)),
        (
            "out_of_range",
            "the top level: 1e+40 is out of range for a float".into()
        )
    );
    assert_eq!(
        refused(r#""double""#, json!("1.5")).1,
        "the top level: expected a double, got \"1.5\""
    );
    // Non-finite values travel as strings.
    assert!(matches!(read(r#""double""#, json!("NaN")), Value::Double(d) if d.is_nan()));
    both_ways(
        r#""float""#,
        json!("-Infinity"),
        Value::Float(f32::NEG_INFINITY),
        json!("-Infinity"),
    );
    // A float is written with its own shortest digits, not the double's.
    assert_eq!(write(r#""float""#, &Value::Float(0.1)), json!(0.1));
    assert_eq!(write(r#""double""#, &Value::Double(0.1)), json!(0.1));
}

#[test]
fn bytes_and_fixed_are_base64() {
    both_ways(
        r#""bytes""#,
        json!("AAEC/w=="),
        Value::Bytes(vec![0, 1, 2, 255]),
        json!("AAEC/w=="),
    );
    assert_eq!(
        read(r#""bytes""#, json!("AAEC/w")),
        Value::Bytes(vec![0, 1, 2, 255])
    );
    assert_eq!(read(r#""bytes""#, json!("")), Value::Bytes(vec![]));
    let (code, message) = refused(r#""bytes""#, json!("not base64!"));
    assert_eq!(code, "bad_format");
    assert!(
        message.starts_with("the top level: \"not base64!\" is not base64 ("),
        "{message}"
    );
    const F4: &str = r#"{"type":"fixed","name":"F4","namespace":"t","size":4}"#;
    both_ways(
        F4,
        json!("AAEC/w=="),
        Value::Fixed(vec![0, 1, 2, 255]),
        json!("AAEC/w=="),
    );
    assert_eq!(
        refused(F4, json!("AAEC")),
        (
            "bad_format",
            "the top level: \"AAEC\" is base64 for 3 bytes, but t.F4 has 4".into()
        )
    );
    assert_eq!(
        refused(F4, json!([0, 1, 2, 3])).1,
        "the top level: expected fixed t.F4 of 4 bytes (base64), got an array"
    );
}

const TS_MILLIS: &str = r#"{"type":"long","logicalType":"timestamp-millis"}"#;
const TS_MICROS: &str = r#"{"type":"long","logicalType":"timestamp-micros"}"#;
const TS_NANOS: &str = r#"{"type":"long","logicalType":"timestamp-nanos"}"#;
const LOCAL_MILLIS: &str = r#"{"type":"long","logicalType":"local-timestamp-millis"}"#;
const LOCAL_MICROS: &str = r#"{"type":"long","logicalType":"local-timestamp-micros"}"#;
/// 2026-11-22T10:00:00Z in milliseconds.
const T0: i64 = 1_795_341_600_000;

mod logical;
mod unions;
