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

#[test]
fn timestamps_take_rfc3339_text_or_epoch_units() {
    both_ways(
        TS_MILLIS,
        json!("2026-11-22T10:00:00Z"),
        Value::Long(T0),
        json!("2026-11-22T10:00:00.000Z"),
    );
    // Offsets are normalised to UTC; fractions kept to the unit.
    assert_eq!(
        read(TS_MILLIS, json!("2026-11-22T11:30:00.123+01:30")),
        Value::Long(T0 + 123)
    );
    assert_eq!(
        read(TS_MILLIS, json!("2026-11-22T05:00:00.5-05:00")),
        Value::Long(T0 + 500)
    );
    // Digits below the unit are dropped, towards the past.
    assert_eq!(
        read(TS_MILLIS, json!("2026-11-22T10:00:00.123999Z")),
        Value::Long(T0 + 123)
    );
    assert_eq!(
        read(TS_MILLIS, json!("1969-12-31T23:59:59.9995Z")),
        Value::Long(-1)
    );
    assert_eq!(read(TS_MILLIS, json!(T0)), Value::Long(T0));
    both_ways(
        TS_MICROS,
        json!("2026-11-22T10:00:00.123456Z"),
        Value::Long(T0 * 1000 + 123_456),
        json!("2026-11-22T10:00:00.123456Z"),
    );
    both_ways(
        TS_NANOS,
        json!("2026-11-22T10:00:00.000000001Z"),
        Value::Long(T0 * 1_000_000 + 1),
        json!("2026-11-22T10:00:00.000000001Z"),
    );
    assert_eq!(
        refused(TS_NANOS, json!("9999-12-31T23:59:59Z")),
        (
            "out_of_range",
            "the top level: \"9999-12-31T23:59:59Z\" is out of range for a timestamp in \
             nanoseconds (a long)"
                .into()
        )
    );
    // Outside the years text can show, the number.
    assert_eq!(write(TS_MILLIS, &Value::Long(i64::MAX)), json!(i64::MAX));
    assert_eq!(
        write(TS_MILLIS, &Value::Long(-62_167_219_200_000)),
        json!("0000-01-01T00:00:00.000Z")
    );
    assert_eq!(
        write(TS_MILLIS, &Value::Long(-62_167_219_200_001)),
        json!(-62_167_219_200_001i64)
    );
    let (code, message) = refused(TS_MILLIS, json!("2026-11-22T10:00:00"));
    assert_eq!(code, "bad_format");
    assert!(
        message.starts_with(
            "the top level: \"2026-11-22T10:00:00\" is not an RFC 3339 timestamp like \
             2026-11-22T10:00:00Z ("
        ),
        "{message}"
    );
    assert_eq!(refused(TS_MILLIS, json!("2026-11-22")).0, "bad_format");
    assert_eq!(refused(TS_MILLIS, json!("yesterday")).0, "bad_format");
    assert_eq!(
        refused(TS_MILLIS, json!(true)).1,
        "the top level: expected a timestamp (RFC 3339 text or milliseconds since the epoch), \
         got true"
    );
}

#[test]
fn local_timestamps_have_no_offset() {
    both_ways(
        LOCAL_MILLIS,
        json!("2026-11-22T10:00:00.5"),
        Value::Long(T0 + 500),
        json!("2026-11-22T10:00:00.500"),
    );
    assert_eq!(
        read(LOCAL_MILLIS, json!("2026-11-22T10:00:00")),
        Value::Long(T0)
    );
    assert_eq!(
        read(LOCAL_MICROS, json!("2026-11-22T12:00:00+02:00")),
        Value::Long(T0 * 1000)
    );
    assert_eq!(
        write(LOCAL_MICROS, &Value::Long(T0 * 1000 + 7)),
        json!("2026-11-22T10:00:00.000007")
    );
    assert_eq!(refused(LOCAL_MILLIS, json!("10:00")).0, "bad_format");
}

#[test]
fn dates_and_times_of_day() {
    const DATE: &str = r#"{"type":"int","logicalType":"date"}"#;
    const TIME_MILLIS: &str = r#"{"type":"int","logicalType":"time-millis"}"#;
    const TIME_MICROS: &str = r#"{"type":"long","logicalType":"time-micros"}"#;
    both_ways(
        DATE,
        json!("2026-11-22"),
        Value::Int(20_779),
        json!("2026-11-22"),
    );
    both_ways(DATE, json!(-1), Value::Int(-1), json!("1969-12-31"));
    assert_eq!(write(DATE, &Value::Int(i32::MAX)), json!(i32::MAX));
    let (code, message) = refused(DATE, json!("2026-02-30"));
    assert_eq!(code, "bad_format");
    assert!(
        message.starts_with("the top level: \"2026-02-30\" is not a date like 2026-11-22 ("),
        "{message}"
    );
    assert_eq!(refused(DATE, json!("22/11/2026")).0, "bad_format");
    both_ways(
        TIME_MILLIS,
        json!("10:00:00.25"),
        Value::Int(36_000_250),
        json!("10:00:00.250"),
    );
    assert_eq!(read(TIME_MILLIS, json!("10:00:00")), Value::Int(36_000_000));
    assert_eq!(write(TIME_MILLIS, &Value::Int(-1)), json!(-1));
    assert_eq!(
        write(TIME_MILLIS, &Value::Int(86_400_000)),
        json!(86_400_000)
    );
    let (code, message) = refused(TIME_MILLIS, json!("25:00:00"));
    assert_eq!(code, "bad_format");
    assert!(
        message.starts_with(
            "the top level: \"25:00:00\" is not a time of day like 10:00:00 or 10:00:00.250 ("
        ),
        "{message}"
    );
    both_ways(
        TIME_MICROS,
        json!("23:59:59.999999"),
        Value::Long(86_399_999_999),
        json!("23:59:59.999999"),
    );
}

#[test]
fn uuids_are_canonical_text() {
    const UUID_STR: &str = r#"{"type":"string","logicalType":"uuid"}"#;
    const UUID_FIXED: &str = r#"{"type":"fixed","name":"U","size":16,"logicalType":"uuid"}"#;
    const UUID_BYTES: &str = r#"{"type":"bytes","logicalType":"uuid"}"#;
    let text = "123e4567-e89b-12d3-a456-426614174000";
    both_ways(
        UUID_STR,
        json!("123E4567-E89B-12D3-A456-426614174000"),
        Value::String(text.into()),
        json!(text),
    );
    let bytes = vec![
        0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3, 0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40,
        0x00,
    ];
    both_ways(
        UUID_FIXED,
        json!(text),
        Value::Fixed(bytes.clone()),
        json!(text),
    );
    both_ways(UUID_BYTES, json!(text), Value::Bytes(bytes), json!(text));
    for bad in [
        "123e4567e89b12d3a456426614174000",
        "{123e4567-e89b-12d3-a456-426614174000}",
        "123e4567-e89b-12d3-a456-42661417400g",
        "123e4567-e89b-12d3-a456_426614174000",
    ] {
        assert_eq!(
            refused(UUID_STR, json!(bad)),
            (
                "bad_format",
                format!(
                    "the top level: \"{bad}\" is not a UUID like \
                     123e4567-e89b-12d3-a456-426614174000"
                )
            ),
        );
        assert_eq!(refused(UUID_FIXED, json!(bad)).0, "bad_format");
    }
    assert_eq!(
        refused(UUID_STR, json!(7)).1,
        "the top level: expected a UUID string, got 7"
    );
}

const DEC: &str = r#"{"type":"bytes","logicalType":"decimal","precision":6,"scale":2}"#;
const DEC_FIXED: &str =
    r#"{"type":"fixed","name":"D4","size":4,"logicalType":"decimal","precision":9,"scale":2}"#;

#[test]
fn decimals_are_scaled_exactly() {
    both_ways(
        DEC,
        json!("12.34"),
        Value::Bytes(vec![0x04, 0xd2]),
        json!("12.34"),
    );
    assert_eq!(read(DEC, json!(12.34)), Value::Bytes(vec![0x04, 0xd2]));
    assert_eq!(read(DEC, json!(12)), Value::Bytes(vec![0x04, 0xb0]));
    assert_eq!(read(DEC, json!("12.340")), Value::Bytes(vec![0x04, 0xd2]));
    assert_eq!(read(DEC, json!("+1.5e1")), Value::Bytes(vec![0x05, 0xdc]));
    assert_eq!(read(DEC, json!(".5")), Value::Bytes(vec![0x32]));
    both_ways(
        DEC,
        json!("-0.05"),
        Value::Bytes(vec![0xfb]),
        json!("-0.05"),
    );
    both_ways(
        DEC,
        json!("1.28"),
        Value::Bytes(vec![0x00, 0x80]),
        json!("1.28"),
    );
    both_ways(
        DEC,
        json!("-1.28"),
        Value::Bytes(vec![0x80]),
        json!("-1.28"),
    );
    both_ways(
        DEC,
        json!("-1.29"),
        Value::Bytes(vec![0xff, 0x7f]),
        json!("-1.29"),
    );
    both_ways(DEC, json!("-0"), Value::Bytes(vec![0]), json!("0.00"));
    both_ways(
        DEC,
        json!("9999.99"),
        Value::Bytes(vec![0x0f, 0x42, 0x3f]),
        json!("9999.99"),
    );
    assert_eq!(write(DEC, &Value::Bytes(vec![])), json!("0.00"));
    assert_eq!(
        refused(DEC, json!("12.345")),
        (
            "out_of_range",
            "the top level: \"12.345\" has more fractional digits than the scale 2 allows".into()
        )
    );
    assert_eq!(
        refused(DEC, json!(12.345)).1,
        "the top level: 12.345 has more fractional digits than the scale 2 allows"
    );
    assert_eq!(
        refused(DEC, json!("12345.6")),
        (
            "out_of_range",
            "the top level: \"12345.6\" has 7 significant digits at scale 2, more than the \
             precision 6"
                .into()
        )
    );
    assert_eq!(refused(DEC, json!("1e999999999999999")).0, "out_of_range");
    for bad in [
        "abc", "1.2.3", "", "-", ".", "1e", "1,5", " 1", "0x10", "NaN",
    ] {
        assert_eq!(
            refused(DEC, json!(bad)),
            (
                "bad_format",
                format!(
                    "the top level: {} is not a decimal number like 12.34",
                    json!(bad)
                )
            )
        );
    }
    both_ways(
        DEC_FIXED,
        json!("-1"),
        Value::Fixed(vec![0xff, 0xff, 0xff, 0x9c]),
        json!("-1.00"),
    );
    both_ways(
        DEC_FIXED,
        json!("9999999.99"),
        Value::Fixed(vec![0x3b, 0x9a, 0xc9, 0xff]),
        json!("9999999.99"),
    );
    assert_eq!(
        refused(DEC_FIXED, json!(true)).1,
        "the top level: expected a decimal (a string or number; precision 9, scale 2), got true"
    );
}

#[test]
fn decimals_agree_with_apache_avro_big_integers() {
    // apache-avro's big-decimal holds num-bigint's two's complement of the unscaled value:
    // the reference for ours, at any size.
    let big = codec(r#"{"type":"bytes","logicalType":"big-decimal"}"#);
    let mut texts: Vec<String> = [
        "0",
        "1",
        "-1",
        "127",
        "128",
        "-128",
        "-129",
        "255",
        "256",
        "-256",
        "12.340",
        "-0.001",
        "65535",
        "-65536",
        "4294967295",
        "4294967296",
        "-4294967297",
        "18446744073709551616",
        "-340282366920938463463374607431768211456",
        "123456789012345678901234567890.123456789",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    texts.push(format!("-{}", "9".repeat(200)));
    texts.push(format!("1{}.5", "0".repeat(300)));
    for text in texts {
        let theirs: apache_avro::BigDecimal = text.parse().unwrap();
        let expected = big.from_avro(&Avro::BigDecimal(theirs.clone())).unwrap();
        let ours = big
            .from_json(&json!(text), &JsonOptions::default())
            .unwrap();
        assert_eq!(ours, expected, "{text}");
        let back = big.to_json(&ours).unwrap();
        assert_eq!(back, json!(text), "{text}");
        let parsed: apache_avro::BigDecimal = back.as_str().unwrap().parse().unwrap();
        assert_eq!(parsed, theirs, "{text}");
    }
    // Scales outside 0..=4096 are written with an exponent.
    let v = big
        .from_json(&json!("123e5"), &JsonOptions::default())
        .unwrap();
    assert_eq!(big.to_json(&v).unwrap(), json!("123e5"));
    let v = big
        .from_json(&json!("-4.5e-5000"), &JsonOptions::default())
        .unwrap();
    assert_eq!(big.to_json(&v).unwrap(), json!("-45e-5001"));
    assert_eq!(
        big.from_json(&big.to_json(&v).unwrap(), &JsonOptions::default())
            .unwrap(),
        v
    );
    // A fixed-scale decimal's bytes are the same two's complement.
    let dec = codec(r#"{"type":"bytes","logicalType":"decimal","precision":40,"scale":3}"#);
    let v = dec
        .from_json(
            &json!("-1234567890123456789012345.678"),
            &JsonOptions::default(),
        )
        .unwrap();
    let Avro::Decimal(d) = dec.to_avro(&v).unwrap() else {
        panic!("not a decimal")
    };
    let theirs: apache_avro::BigDecimal = "-1234567890123456789012345678".parse().unwrap();
    let Value::Bytes(their_bytes) = big.from_avro(&Avro::BigDecimal(theirs)).unwrap() else {
        panic!("not bytes")
    };
    // Their content is: length, unscaled bytes, scale 0.
    let unscaled = &their_bytes[1..their_bytes.len() - 1];
    assert_eq!(Vec::<u8>::try_from(&d).unwrap(), unscaled);
}

#[test]
fn durations_are_objects() {
    const DUR: &str = r#"{"type":"fixed","name":"Dur","size":12,"logicalType":"duration"}"#;
    both_ways(
        DUR,
        json!({"months": 1, "days": 2, "milliseconds": 3}),
        Value::Fixed(vec![1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0]),
        json!({"months": 1, "days": 2, "milliseconds": 3}),
    );
    assert_eq!(
        refused(DUR, json!({"months": 1, "milliseconds": 3})),
        (
            "missing_field",
            "the top level: missing required field \"days\"".into()
        )
    );
    assert_eq!(
        refused(DUR, json!({"months": -1, "days": 2, "milliseconds": 3})),
        (
            "out_of_range",
            "months: -1 is out of range for a duration part (0 to 4294967295)".into()
        )
    );
    assert_eq!(
        refused(DUR, json!({"months": 1, "days": "2", "milliseconds": 3})).1,
        "days: expected an unsigned 32-bit integer, got \"2\""
    );
    assert_eq!(
        refused(
            DUR,
            json!({"months": 1, "days": 2, "milliseconds": 3, "weeks": 1})
        )
        .1,
        "weeks: unknown field (the schema has no such field)"
    );
    assert_eq!(
        refused(DUR, json!("AAAAAAAAAAAAAAAA")).1,
        "the top level: expected a duration object {\"months\", \"days\", \"milliseconds\"}, \
         got \"AAAAAAAAAAAAAAAA\""
    );
}

#[test]
fn unions_take_the_first_branch_that_fits() {
    const NS: &str = r#"["null","string"]"#;
    const NLS: &str = r#"["null","long","string"]"#;
    assert_eq!(read(NS, json!("x")), union(1, Value::String("x".into())));
    assert_eq!(read(NS, Json::Null), union(0, Value::Null));
    assert_eq!(read(NLS, json!(5)), union(1, Value::Long(5)));
    assert_eq!(read(NLS, json!("5")), union(2, Value::String("5".into())));
    assert_eq!(
        refused(NLS, json!(5.5)),
        (
            "no_union_branch",
            "the top level: no branch of the union [null, long, string] takes 5.5".into()
        )
    );
    assert_eq!(
        refused(NLS, json!({"a": 1})).1,
        "the top level: no branch of the union [null, long, string] takes an object"
    );
    assert_eq!(
        refused(r#"["long","string"]"#, Json::Null).1,
        "the top level: no branch of the union [long, string] takes null"
    );
    // Past a branch whose range is too small.
    assert_eq!(
        read(r#"["int","long"]"#, json!(5_000_000_000i64)),
        union(1, Value::Long(5_000_000_000))
    );
    assert_eq!(
        read(r#"["long","double"]"#, json!(1.5)),
        union(1, Value::Double(1.5))
    );
    // The only branch of the JSON's kind says what is wrong inside it.
    assert_eq!(
        refused(r#"["null","int"]"#, json!(5_000_000_000i64)).1,
        "the top level: 5000000000 is out of range for an int (-2147483648 to 2147483647)"
    );
    let mut j = order_json();
    j["customer"]["email"] = json!(5);
    let schema = format!(r#"["null",{ORDER}]"#);
    assert_eq!(
        refused(&schema, j).1,
        "customer.email: expected a string, got 5"
    );
    assert_eq!(
        refused(&schema, json!({"id": "o-1"})).1,
        "the top level: missing required field \"customer\""
    );
    // Logical types are labelled in the list.
    assert_eq!(
        refused(&format!(r#"["null",{TS_MILLIS}]"#), json!(true)).1,
        "the top level: no branch of the union [null, long (timestamp-millis)] takes true"
    );
}

#[test]
fn unions_accept_avro_json_wrappers() {
    const NLS: &str = r#"["null","long","string"]"#;
    assert_eq!(read(NLS, json!({"long": 5})), union(1, Value::Long(5)));
    assert_eq!(
        read(NLS, json!({"string": "x"})),
        union(2, Value::String("x".into()))
    );
    let schema = format!(r#"["null",{ORDER}]"#);
    let v = read(&schema, order_json());
    assert_eq!(read(&schema, json!({"shop.Order": order_json()})), v);
    assert_eq!(read(&schema, json!({"Order": order_json()})), v);
    // A wrapper whose value does not fit its branch: the wrapper's error...
    assert_eq!(
        refused(r#"["null","long"]"#, json!({"long": "x"})).1,
        "the top level: expected a long, got \"x\""
    );
    // ...unless the object fits another branch as a plain value.
    assert_eq!(
        read(
            r#"["null","long",{"type":"map","values":"string"}]"#,
            json!({"long": "x"})
        ),
        union(
            2,
            Value::Map(vec![("long".into(), Value::String("x".into()))])
        )
    );
}

#[test]
fn union_values_are_written_bare_unless_that_reads_as_another_branch() {
    const NSB: &str = r#"["null","string","bytes"]"#;
    both_ways(
        NSB,
        json!("x"),
        union(1, Value::String("x".into())),
        json!("x"),
    );
    both_ways(
        NSB,
        json!({"bytes": "AAE="}),
        union(2, Value::Bytes(vec![0, 1])),
        json!({"bytes": "AAE="}),
    );
    const SE: &str =
        r#"["string",{"type":"enum","name":"Color","namespace":"t","symbols":["RED"]}]"#;
    both_ways(
        SE,
        json!({"Color": "RED"}),
        union(1, Value::Enum(0)),
        json!({"t.Color": "RED"}),
    );
    const ILD: &str = r#"["int","long","double"]"#;
    assert_eq!(write(ILD, &union(1, Value::Long(5))), json!({"long": 5}));
    assert_eq!(
        write(ILD, &union(2, Value::Double(5.0))),
        json!({"double": 5.0})
    );
    assert_eq!(write(ILD, &union(2, Value::Double(5.5))), json!(5.5));
    // A map that looks like a wrapper is wrapped itself.
    const NSM: &str = r#"["null","string",{"type":"map","values":"string"}]"#;
    let m = union(
        2,
        Value::Map(vec![("string".into(), Value::String("x".into()))]),
    );
    both_ways(
        NSM,
        json!({"map": {"string": "x"}}),
        m,
        json!({"map": {"string": "x"}}),
    );
    // Records: the first that takes the object (unknown fields are refused by default).
    const AB: &str = r#"[
        {"type":"record","name":"A","fields":[{"name":"x","type":"int"}]},
        {"type":"record","name":"B","fields":[{"name":"x","type":"int"},{"name":"y","type":"int","default":0}]}]"#;
    let b = union(1, Value::Record(vec![Value::Int(1), Value::Int(2)]));
    both_ways(AB, json!({"x": 1, "y": 2}), b, json!({"x": 1, "y": 2}));
    let b0 = union(1, Value::Record(vec![Value::Int(1), Value::Int(0)]));
    both_ways(AB, json!({"B": {"x": 1}}), b0, json!({"x": 1, "y": 0}));
    // A bare value given for a union is placed by shape.
    assert_eq!(
        write(NSB, &Value::Bytes(vec![0, 1])),
        json!({"bytes": "AAE="})
    );
}

#[test]
fn nesting_is_bounded() {
    const LIST: &str =
        r#"{"type":"record","name":"L","fields":[{"name":"next","type":["null","L"]}]}"#;
    let mut j = json!({"next": null});
    for _ in 0..90 {
        j = json!({ "next": j });
    }
    let v = read(LIST, j.clone());
    assert_eq!(write(LIST, &v), j);
    let mut deep = j;
    for _ in 0..100 {
        deep = json!({ "next": deep });
    }
    let (code, message) = refused(LIST, deep);
    assert_eq!(code, "too_deep");
    assert!(
        message.starts_with("next.next.")
            && message.ends_with(": values nest more than 192 levels deep"),
        "{message}"
    );
    let mut v = Value::Record(vec![union(0, Value::Null)]);
    for _ in 0..250 {
        v = Value::Record(vec![union(1, v)]);
    }
    let e = codec(LIST).to_json(&v).unwrap_err();
    assert!(
        e.to_string()
            .ends_with("values nest more than 192 levels deep"),
        "{e}"
    );
}

#[test]
fn to_json_names_values_that_do_not_fit() {
    let e = codec(ORDER)
        .to_json(&Value::Record(vec![Value::Int(1)]))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "at the top level: expected 6 fields for record shop.Order, found 1"
    );
    let mut v = read(ORDER, order_json());
    v.as_record_mut().unwrap()[1] = Value::Enum(9);
    assert_eq!(
        codec(ORDER).to_json(&v).unwrap_err().to_string(),
        "at status: enum index 9 is out of range: shop.Status has 3 symbols"
    );
    let mut v = read(ORDER, order_json());
    v.as_record_mut().unwrap()[0] = Value::Long(1);
    assert_eq!(
        codec(ORDER).to_json(&v).unwrap_err().to_string(),
        "at id: expected a string, found a long"
    );
    let uuid = codec(r#"{"type":"bytes","logicalType":"uuid"}"#);
    assert_eq!(
        uuid.to_json(&Value::Bytes(vec![1, 2]))
            .unwrap_err()
            .to_string(),
        "at the top level: a uuid needs 16 bytes, found 2"
    );
}

#[test]
fn error_codes_and_class() {
    let kinds = [
        JsonErrorKind::WrongType {
            expected: "a string".into(),
            got: "42".into(),
        },
        JsonErrorKind::MissingField {
            field: "email".into(),
        },
        JsonErrorKind::UnknownField,
        JsonErrorKind::BadEnumSymbol {
            symbol: "LOST".into(),
            symbols: vec!["NEW".into()],
        },
        JsonErrorKind::OutOfRange("x".into()),
        JsonErrorKind::BadFormat("x".into()),
        JsonErrorKind::NoUnionBranch {
            branches: vec!["null".into()],
            got: "1".into(),
        },
        JsonErrorKind::TooDeep(192),
    ];
    let codes: Vec<&str> = kinds.iter().map(JsonErrorKind::code).collect();
    assert_eq!(codes, JsonErrorKind::CODES);
    let e = codec(r#""string""#)
        .from_json(&json!(1), &JsonOptions::default())
        .unwrap_err();
    assert_eq!(e.class(), ErrorClass::Permanent);
    assert_eq!(e.code(), ErrorCode::InvalidInput);
    assert!(e.path().is_empty());
    assert_eq!(e.kind().code(), "wrong_type");
}

#[test]
fn valid_json_text_takes_the_fast_path() {
    let order = codec(ORDER);
    let json = json!({"id": "o-1", "status": "PAID", "note": "x",
        "customer": {"email": "a@b.c"}, "items": [{"sku": "s", "qty": 2}, {"sku": "t"}],
        "tags": {"b": "2", "a": "1"}});
    let timestamps = codec(
        r#"{"type":"record","name":"T","fields":[
        {"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}},
        {"name":"day","type":{"type":"int","logicalType":"date"}},
        {"name":"d","type":"double"},{"name":"f","type":"float"},
        {"name":"u","type":{"type":"string","logicalType":"uuid"}}]}"#,
    );
    let t = json!({"at": "2026-11-22T11:00:00+01:00", "day": "2026-11-22", "d": 1.5, "f": 2,
        "u": "123E4567-E89B-12D3-A456-426614174000"});
    let before = super::seed::FALLBACKS.with(|n| n.get());
    for (c, j) in [(&order, &json), (&timestamps, &t)] {
        let raw = serde_json::value::to_raw_value(j).unwrap();
        let fast = c.from_json_raw(&raw, &JsonOptions::default()).unwrap();
        assert_eq!(fast, c.from_json(j, &JsonOptions::default()).unwrap());
    }
    assert_eq!(super::seed::FALLBACKS.with(|n| n.get()), before);
    let raw = serde_json::value::to_raw_value(&json!({"id": 5})).unwrap();
    let e = order
        .from_json_raw(&raw, &JsonOptions::default())
        .unwrap_err();
    assert_eq!(e.to_string(), "id: expected a string, got 5");
    assert_eq!(super::seed::FALLBACKS.with(|n| n.get()), before + 1);
}
