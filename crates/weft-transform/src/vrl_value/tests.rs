#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeZone as _, Utc};
use vrl::value;
use vrl::value::{Kind as VrlKind, Value as VrlValue};
use weft_schema::codec::{Codec, JsonOptions, Value};

use super::*;

fn fl(x: f64) -> VrlValue {
    VrlValue::from_f64_or_zero(x)
}

fn codec(schema: &str) -> Codec {
    Codec::parse(schema, &[]).unwrap()
}

/// A record value built from JSON through the codec's own JSON conversion.
fn record(c: &Codec, json: serde_json::Value) -> Value {
    c.from_json(&json, &JsonOptions::default()).unwrap()
}

const ORDER: &str = r#"{
  "type": "record", "name": "Order", "namespace": "shop",
  "fields": [
    {"name": "id", "type": "string"},
    {"name": "qty", "type": "int"},
    {"name": "amount_cents", "type": "long"},
    {"name": "ratio", "type": "float"},
    {"name": "price", "type": "double"},
    {"name": "paid", "type": "boolean"},
    {"name": "blob", "type": "bytes"},
    {"name": "code", "type": {"type": "fixed", "name": "Code", "size": 2}},
    {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID"]}},
    {"name": "note", "type": ["null", "string"], "default": null},
    {"name": "choice", "type": ["null", "long", "string"], "default": null},
    {"name": "tags", "type": {"type": "array", "items": "string"}},
    {"name": "attrs", "type": {"type": "map", "values": "long"}},
    {"name": "customer", "type": {"type": "record", "name": "Customer", "fields": [
        {"name": "email", "type": "string"},
        {"name": "address", "type": ["null", {"type": "record", "name": "Address", "fields": [
            {"name": "country", "type": "string"}]}], "default": null}]}},
    {"name": "created_at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "created_us", "type": {"type": "long", "logicalType": "timestamp-micros"}},
    {"name": "created_ns", "type": {"type": "long", "logicalType": "timestamp-nanos"}},
    {"name": "local_ms", "type": {"type": "long", "logicalType": "local-timestamp-millis"}},
    {"name": "day", "type": {"type": "int", "logicalType": "date"}},
    {"name": "at_ms", "type": {"type": "int", "logicalType": "time-millis"}},
    {"name": "at_us", "type": {"type": "long", "logicalType": "time-micros"}},
    {"name": "total", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}},
    {"name": "total_fixed", "type": {"type": "fixed", "name": "Dec", "size": 4, "logicalType": "decimal", "precision": 9, "scale": 3}},
    {"name": "uid", "type": {"type": "string", "logicalType": "uuid"}},
    {"name": "uid_fixed", "type": {"type": "fixed", "name": "U16", "size": 16, "logicalType": "uuid"}},
    {"name": "span", "type": {"type": "fixed", "name": "Dur", "size": 12, "logicalType": "duration"}}
  ]
}"#;

fn order_json() -> serde_json::Value {
    serde_json::json!({
        "id": "o-1", "qty": 3, "amount_cents": 12345, "ratio": 0.5, "price": 19.99,
        "paid": true, "blob": "AAEC", "code": "AQI=", "status": "PAID", "note": "hi",
        "choice": 42,
        "tags": ["a", "b"], "attrs": {"x": 1},
        "customer": {"email": "a@b.c", "address": {"country": "DE"}},
        "created_at": "2026-01-31T12:00:00.123Z",
        "created_us": "2026-01-31T12:00:00.123456Z",
        "created_ns": "2026-01-31T12:00:00.123456789Z",
        "local_ms": "2026-01-31T12:00:00.123Z",
        "day": "2026-01-31",
        "at_ms": "12:00:00.123",
        "at_us": "12:00:00.123456",
        "total": "-12.34",
        "total_fixed": "123456.789",
        "uid": "0f8fad5b-d9cb-469f-a165-70867728950e",
        "uid_fixed": "0f8fad5b-d9cb-469f-a165-70867728950e",
        "span": {"months": 1, "days": 2, "milliseconds": 3}
    })
}

#[test]
fn every_type_to_vrl_and_back() {
    let c = codec(ORDER);
    let v = record(&c, order_json());
    let out = record_to_vrl(&c, &v);
    let ts = Utc.with_ymd_and_hms(2026, 1, 31, 12, 0, 0).unwrap();
    let expected = value!({
        "id": "o-1", "qty": 3, "amount_cents": 12345, "ratio": (fl(0.5)), "price": (fl(19.99)),
        "paid": true, "blob": (vrl::prelude::Bytes::from_static(&[0, 1, 2])),
        "code": (vrl::prelude::Bytes::from_static(&[1, 2])), "status": "PAID", "note": "hi",
        "choice": 42,
        "tags": ["a", "b"], "attrs": {"x": 1},
        "customer": {"email": "a@b.c", "address": {"country": "DE"}},
        "created_at": (ts + chrono::Duration::milliseconds(123)),
        "created_us": (ts + chrono::Duration::microseconds(123_456)),
        "created_ns": (ts + chrono::Duration::nanoseconds(123_456_789)),
        "local_ms": (ts + chrono::Duration::milliseconds(123)),
        "day": (Utc.with_ymd_and_hms(2026, 1, 31, 0, 0, 0).unwrap()),
        "at_ms": 43_200_123,
        "at_us": 43_200_123_456_i64,
        "total": "-12.34",
        "total_fixed": "123456.789",
        "uid": "0f8fad5b-d9cb-469f-a165-70867728950e",
        "uid_fixed": "0f8fad5b-d9cb-469f-a165-70867728950e",
        "span": {"months": 1, "days": 2, "milliseconds": 3}
    });
    assert_eq!(out, expected);
    assert_eq!(record_from_vrl(&c, &out).unwrap(), v);
}

#[test]
fn kinds_follow_the_schema() {
    let c = codec(ORDER);
    let k = kind_of(&c, c.root().id());
    let field = |name: &str| {
        k.as_object()
            .unwrap()
            .known()
            .get(&Field::from(name))
            .unwrap()
            .clone()
    };
    assert_eq!(field("amount_cents"), VrlKind::integer());
    assert_eq!(field("price"), VrlKind::float());
    assert_eq!(field("id"), VrlKind::bytes());
    assert_eq!(field("status"), VrlKind::bytes());
    assert_eq!(field("created_at"), VrlKind::timestamp());
    assert_eq!(field("day"), VrlKind::timestamp());
    assert_eq!(field("at_ms"), VrlKind::integer());
    assert_eq!(field("total"), VrlKind::bytes());
    assert_eq!(field("note"), VrlKind::bytes().or_null());
    assert_eq!(field("choice"), VrlKind::integer().or_bytes().or_null());
    assert!(field("tags").is_array());
    let customer = field("customer");
    assert!(customer.is_exact() && customer.is_object());
    let address = customer
        .as_object()
        .unwrap()
        .known()
        .get(&Field::from("address"))
        .unwrap()
        .clone();
    assert!(address.contains_null() && address.contains_object());
    assert!(k.as_object().unwrap().unknown_kind().is_undefined());
}

#[test]
fn recursive_schemas_are_cut() {
    let c = codec(
        r#"{"type":"record","name":"Node","fields":[
            {"name":"value","type":"long"},
            {"name":"next","type":["null","Node"],"default":null}]}"#,
    );
    let k = kind_of(&c, c.root().id());
    let next = k
        .as_object()
        .unwrap()
        .known()
        .get(&Field::from("next"))
        .unwrap()
        .clone();
    assert!(next.is_any());
    let v = record(
        &c,
        serde_json::json!({"value": 1, "next": {"value": 2, "next": null}}),
    );
    let vrl = record_to_vrl(&c, &v);
    assert_eq!(
        vrl,
        value!({"value": 1, "next": {"value": 2, "next": null}})
    );
    assert_eq!(record_from_vrl(&c, &vrl).unwrap(), v);
}

#[test]
fn nan_and_infinity_become_null() {
    let c = codec(
        r#"{"type":"record","name":"F","fields":[{"name":"d","type":"double"},{"name":"f","type":"float"}]}"#,
    );
    let v = Value::Record(vec![Value::Double(f64::NAN), Value::Float(f32::INFINITY)]);
    assert_eq!(record_to_vrl(&c, &v), value!({"d": null, "f": null}));
    // And null is not a double on the way back.
    let e = record_from_vrl(&c, &value!({"d": null, "f": (fl(1.5))})).unwrap_err();
    assert_eq!(e.path(), "d");
    // Integers are accepted for floats; floats beyond f32 are not.
    assert_eq!(
        record_from_vrl(&c, &value!({"d": 2, "f": (fl(1.5))})).unwrap(),
        Value::Record(vec![Value::Double(2.0), Value::Float(1.5)])
    );
    let e = record_from_vrl(&c, &value!({"d": (fl(1.0)), "f": (fl(1e300))})).unwrap_err();
    assert!(e.message().contains("out of the float range"), "{e}");
}

#[test]
fn records_take_defaults_and_ignore_extra_keys() {
    let c = codec(
        r#"{"type":"record","name":"R","fields":[
            {"name":"a","type":"string"},
            {"name":"b","type":"long","default":7},
            {"name":"c","type":["null","string"]},
            {"name":"d","type":["null","string"],"default":null}]}"#,
    );
    let got = record_from_vrl(&c, &value!({"a": "x", "b": null, "extra": 1})).unwrap();
    assert_eq!(
        got,
        Value::Record(vec![
            Value::String("x".into()),
            Value::Long(7),
            Value::Union(0, Box::new(Value::Null)),
            Value::Union(0, Box::new(Value::Null)),
        ])
    );
    let e = record_from_vrl(&c, &value!({"b": 1})).unwrap_err();
    assert_eq!(e.path(), "a");
    assert_eq!(e.code(), "output_mismatch");
    assert_eq!(
        e.to_string(),
        "a: expected a string, got nothing (the field is missing), and the schema gives the field no default"
    );
    let e = record_from_vrl(&c, &value!({"a": null})).unwrap_err();
    assert!(e.message().contains("got null"), "{e}");
}

#[test]
fn strict_errors_name_the_path() {
    let c = codec(ORDER);
    let good = record_to_vrl(&c, &record(&c, order_json()));
    let with = |path: &str, v: VrlValue| {
        let mut out = good.clone();
        out.insert(&vrl::path::parse_value_path(path).unwrap(), v);
        out
    };
    let cases: Vec<(&str, VrlValue, &str, &str)> = vec![
        (
            "amount_cents",
            value!("12"),
            "amount_cents",
            r#"expected a long, got a string "12""#,
        ),
        (
            "qty",
            value!(3_000_000_000_i64),
            "qty",
            "out of the 32-bit range",
        ),
        ("price", value!("1.5"), "price", "expected a double"),
        (
            "paid",
            value!(1),
            "paid",
            "expected a boolean, got an integer 1",
        ),
        (
            "status",
            value!("SHIPPED"),
            "status",
            "not one of the symbols [NEW, PAID]",
        ),
        (
            "code",
            value!("abc"),
            "code",
            "a fixed of 2 bytes cannot hold 3 bytes",
        ),
        (
            "created_at",
            value!("abc"),
            "created_at",
            r#"expected a long (timestamp-millis), got a string "abc""#,
        ),
        ("day", value!("31.01.2026"), "day", "not a date"),
        ("total", value!("12345678901"), "total", "precision"),
        ("total", value!("abc"), "total", "not a decimal"),
        ("uid", value!("nope"), "uid", "not a UUID"),
        (
            "customer.address.country",
            value!(7),
            "customer.address.country",
            "expected a string, got an integer 7",
        ),
        (
            "tags[1]",
            value!(true),
            "tags[1]",
            "expected a string, got a boolean true",
        ),
        ("attrs.x", value!("1"), "attrs[\"x\"]", "expected a long"),
        (
            "choice",
            value!(true),
            "choice",
            "expected a union [null, long, string], got a boolean true",
        ),
        (
            "customer",
            value!("x"),
            "customer",
            "expected record shop.Customer, got a string \"x\"",
        ),
        (
            "span",
            value!({"months": (-1)}),
            "span",
            "months -1 is not between 0 and 4294967295",
        ),
    ];
    for (path, v, want_path, want) in cases {
        let e = record_from_vrl(&c, &with(path, v)).unwrap_err();
        assert_eq!(e.path(), want_path, "{path}: {e}");
        assert!(e.message().contains(want), "{path}: {e}");
    }
}

#[test]
fn lenient_inputs_that_are_allowed() {
    let c = codec(ORDER);
    let good = record_to_vrl(&c, &record(&c, order_json()));
    let set = |name: &str, v: VrlValue| {
        let mut out = good.clone();
        out.as_object_mut().unwrap().insert(name.into(), v);
        record_from_vrl(&c, &out).unwrap()
    };
    let field = |v: &Value, name: &str| {
        let i = c.root().field_index(name).unwrap();
        v.field(i).unwrap().clone()
    };
    // Timestamps: epoch integers in the type's unit, and RFC 3339 text with an offset.
    assert_eq!(
        field(&set("created_at", value!(1_000)), "created_at"),
        Value::Long(1_000)
    );
    assert_eq!(
        field(
            &set("created_at", value!("1970-01-01T01:00:01+01:00")),
            "created_at"
        ),
        Value::Long(1_000)
    );
    assert_eq!(
        field(
            &set("created_us", value!("1970-01-01T00:00:01Z")),
            "created_us"
        ),
        Value::Long(1_000_000)
    );
    // Dates from a timestamp take its UTC date; before the epoch too.
    let ts = Utc.with_ymd_and_hms(1969, 12, 31, 23, 0, 0).unwrap();
    assert_eq!(
        field(&set("day", VrlValue::Timestamp(ts)), "day"),
        Value::Int(-1)
    );
    // Decimals from integers and floats, rounded to the scale.
    let dec = |v: VrlValue| match field(&set("total", v), "total") {
        Value::Bytes(b) => decimal::to_text(&b, 2).unwrap(),
        other => panic!("{other:?}"),
    };
    assert_eq!(dec(value!(5)), "5.00");
    assert_eq!(dec(fl(0.1)), "0.10");
    assert_eq!(dec(fl(2.675)), "2.68");
    assert_eq!(dec(value!("-0.005")), "-0.01");
    let fixed = match field(&set("total_fixed", value!("-1.5")), "total_fixed") {
        Value::Fixed(b) => b,
        other => panic!("{other:?}"),
    };
    assert_eq!(fixed.len(), 4);
    assert_eq!(decimal::to_text(&fixed, 3).unwrap(), "-1.500");
    // A union takes the first branch that accepts the value.
    assert_eq!(
        field(&set("choice", value!("x")), "choice"),
        Value::Union(2, Box::new(Value::String("x".into())))
    );
    assert_eq!(
        field(&set("choice", value!(5)), "choice"),
        Value::Union(1, Box::new(Value::Long(5)))
    );
    // Missing duration parts are zero.
    assert_eq!(
        field(&set("span", value!({"days": 1})), "span"),
        Value::Fixed(vec![0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    );
}

#[test]
fn union_of_records_picks_the_one_that_fits() {
    let c = codec(
        r#"{"type":"record","name":"R","fields":[{"name":"p","type":[
            {"type":"record","name":"Card","fields":[{"name":"last4","type":"string"}]},
            {"type":"record","name":"Iban","fields":[{"name":"iban","type":"string"}]}]}]}"#,
    );
    let v = record_from_vrl(&c, &value!({"p": {"iban": "DE00"}})).unwrap();
    assert_eq!(
        v,
        Value::Record(vec![Value::Union(
            1,
            Box::new(Value::Record(vec![Value::String("DE00".into())]))
        )])
    );
    // Neither fits: the first record branch's error is reported.
    let e = record_from_vrl(&c, &value!({"p": {"other": 1}})).unwrap_err();
    assert_eq!(e.path(), "p.last4");
}

#[test]
fn big_decimal_and_bytes_uuid() {
    let c = codec(
        r#"{"type":"record","name":"R","fields":[
            {"name":"b","type":{"type":"bytes","logicalType":"big-decimal"}},
            {"name":"u","type":{"type":"bytes","logicalType":"uuid"}}]}"#,
    );
    let v = record_from_vrl(
        &c,
        &value!({"b": "-3.1400", "u": "0F8FAD5B-D9CB-469F-A165-70867728950E"}),
    )
    .unwrap();
    assert_eq!(
        record_to_vrl(&c, &v),
        value!({"b": "-3.1400", "u": "0f8fad5b-d9cb-469f-a165-70867728950e"})
    );
}

#[test]
fn values_that_do_not_fit_their_node_are_converted_best_effort() {
    let c = codec(r#"{"type":"record","name":"R","fields":[{"name":"a","type":"long"}]}"#);
    // A string where the schema says long, a record with too few fields: no panic.
    let v = Value::Record(vec![Value::String("x".into())]);
    assert_eq!(record_to_vrl(&c, &v), value!({"a": "x"}));
    assert_eq!(record_to_vrl(&c, &Value::Record(vec![])), value!({}));
    assert_eq!(record_to_vrl(&c, &Value::Long(3)), value!(3));
    // A top-level value that is not an object.
    let e = record_from_vrl(&c, &value!([1])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the top level: expected record R, got an array"
    );
}

#[test]
fn accepted_kinds_for_output_checks() {
    let c = codec(ORDER);
    let kind = |name: &str| accepted_kind(&c, c.root().field_named(name).unwrap().1);
    assert!(kind("price").contains_integer() && kind("price").contains_float());
    assert!(!kind("price").contains_bytes());
    assert!(kind("created_at").contains_bytes() && kind("created_at").contains_timestamp());
    assert!(kind("note").contains_null() && kind("note").contains_bytes());
    assert!(kind("total").contains_float());
}

#[test]
fn kind_of_is_bounded_for_wide_shared_types() {
    // Each level uses the next named type twice: 2^30 expansions without a budget.
    let mut fields =
        String::from(r#"{"type":"record","name":"L0","fields":[{"name":"v","type":"long"}]}"#);
    for i in 1..30 {
        fields = format!(
            r#"{{"type":"record","name":"L{i}","fields":[{{"name":"a","type":{fields}}},{{"name":"b","type":"L{}"}}]}}"#,
            i - 1
        );
    }
    let c = codec(&fields);
    let k = kind_of(&c, c.root().id());
    assert!(k.is_object());
}
