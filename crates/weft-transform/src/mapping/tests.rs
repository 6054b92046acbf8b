#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use weft_core::{Classify, ErrorClass, ErrorCode};
use weft_schema::codec::{Codec, Value};

use super::compile::{closest, edit_distance};
use super::*;

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

// ---------------------------------------------------------------- the benchmarked shape

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

#[test]
fn realistic_twelve_field_record() {
    let m = compile(ORDER_MAPPING, SHOP_ORDER, ORDER).unwrap();
    let out = m.apply(&shop_order()).unwrap();
    assert_eq!(
        out,
        rec(vec![
            s("o-1001"),
            s("c-42"),
            Value::Double(12_550.0),
            Value::Long(3),
            some(1, s("ada@example.com")),
            s("************1234"),
            Value::Long(1_795_341_600_000),
            Value::Enum(1),
            s("SKU-9"),
            Value::Double(19.5),
            s("api"),
            Value::Int(2),
        ])
    );
    // The output encodes with the output schema.
    codec(ORDER).encode_to_vec(&out).unwrap();

    let names: Vec<&str> = m.explicit().iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "id",
            "customer_id",
            "amount",
            "card_number",
            "created_at",
            "sku_code",
            "channel",
            "schema_version"
        ]
    );
    let out_codec = codec(ORDER);
    for (i, e) in m.explicit().iter().enumerate() {
        assert_eq!(out_codec.root().fields()[e.index].name, e.name);
        assert_eq!(out_codec.root().fields()[e.index].node, e.node);
        assert_eq!(
            m.eval_field(i, &shop_order()).unwrap(),
            out.field(e.index).unwrap().clone()
        );
    }
    assert_eq!(m.dropped(), ["note"]);

    // A null email copies as null; a bad timestamp fails with the input path.
    let mut input = shop_order();
    input.as_record_mut().unwrap()[4] = null(0);
    input.as_record_mut().unwrap()[7] = s("yesterday");
    let err = m.apply(&input).unwrap_err();
    assert_eq!(err.code(), "cast_failed");
    assert_eq!(err.field, "created_at");
    assert_eq!(
        err.to_string(),
        r#"created_at: "yesterday" is not an RFC 3339 timestamp like 2026-11-22T10:00:00Z"#
    );
    input.as_record_mut().unwrap()[7] = s("2026-11-22T10:00:00Z");
    assert_eq!(m.apply(&input).unwrap().field(4), Some(&null(0)));
}

// ---------------------------------------------------------------- the spec

#[test]
fn spec_forms() {
    let sp = spec(
        r#"
        [transform]
        drop = ["note"]
        [transform.fields]
        id = "order_id"
        amount = { from = "amount_cents", cast = "double", default = 0.5 }
        channel = { value = "api" }
        card = { from = "card_number", mask = "keep_last_4" }
        at = { value = 2026-11-22T10:00:00Z }
        day = { value = 2026-11-22 }
        tags = { value = ["a", 1, true] }
        addr = { value = { city = "Lyon", zip = 69001 } }
        "#,
    );
    assert_eq!(sp.drop, ["note"]);
    assert_eq!(sp.fields["id"], FieldSource::path("order_id"));
    assert_eq!(
        sp.fields["amount"],
        FieldSource {
            from: Some("amount_cents".into()),
            cast: Some("double".into()),
            default: Some(Constant::Float(0.5)),
            ..FieldSource::default()
        }
    );
    assert_eq!(
        sp.fields["channel"],
        FieldSource::constant(Constant::String("api".into()))
    );
    assert_eq!(sp.fields["card"].mask.as_deref(), Some("keep_last_4"));
    assert_eq!(
        sp.fields["at"].value,
        Some(Constant::String("2026-11-22T10:00:00Z".into()))
    );
    assert_eq!(
        sp.fields["day"].value,
        Some(Constant::String("2026-11-22".into()))
    );
    assert_eq!(
        sp.fields["tags"].value,
        Some(Constant::Array(vec![
            Constant::String("a".into()),
            Constant::Integer(1),
            Constant::Boolean(true)
        ]))
    );
    let mut addr = BTreeMap::new();
    addr.insert("city".to_string(), Constant::String("Lyon".into()));
    addr.insert("zip".to_string(), Constant::Integer(69001));
    assert_eq!(sp.fields["addr"].value, Some(Constant::Table(addr)));
    assert_eq!(
        Constant::Array(vec![Constant::String("a".into()), Constant::Float(1.0)]).to_string(),
        r#"["a", 1.0]"#
    );

    // Empty table, and JSON works too (with null).
    assert_eq!(spec("[transform]"), MappingSpec::default());
    let j: MappingSpec = serde_json::from_str(r#"{"fields":{"x":{"value":[null, 1.5]}}}"#).unwrap();
    assert_eq!(
        j.fields["x"].value,
        Some(Constant::Array(vec![Constant::Null, Constant::Float(1.5)]))
    );
}

#[test]
fn spec_refuses_unknown_keys_and_bad_shapes() {
    let err = toml::from_str::<Flow>("[transform.fields]\nx = { fromm = \"y\" }")
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown field `fromm`"), "{err}");
    let err = toml::from_str::<Flow>("[transform]\nfeilds = {}")
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown field `feilds`"), "{err}");
    let err = toml::from_str::<Flow>("[transform.fields]\nx = 5")
        .unwrap_err()
        .to_string();
    assert!(err.contains("an input field path"), "{err}");
}

// ---------------------------------------------------------------- compile checks

#[test]
fn unknown_output_field() {
    assert_eq!(
        errors(
            "[transform.fields]\namout = \"a\"\nzzzzzz = \"a\"",
            r#"{"name":"a","type":"long"}"#,
            r#"{"name":"amount","type":"long","default":0}"#
        ),
        [
            "transform.fields.amout: the output schema has no field amout (did you mean amount?)",
            "transform.fields.zzzzzz: the output schema has no field zzzzzz",
        ]
    );
}

#[test]
fn unknown_input_paths() {
    let input = r#"{"name":"amount","type":"long"},
        {"name":"address","type":["null",{"type":"record","name":"A","fields":[
            {"name":"country","type":"string"}]}]}"#;
    let output = r#"{"name":"a","type":["null","string"]},{"name":"b","type":["null","string"]},
        {"name":"c","type":["null","string"]},{"name":"d","type":["null","string"]}"#;
    assert_eq!(
        errors(
            r#"[transform.fields]
            a = "amout"
            b = "address.cuntry"
            c = "amount.value"
            d = "address..country"
            "#,
            input,
            output
        ),
        [
            "transform.fields.a: input field amout does not exist (did you mean amount?)",
            "transform.fields.b: input field address.cuntry does not exist (did you mean address.country?)",
            "transform.fields.c: input field amount is a long, not a record, so it has no field value",
            r#"transform.fields.d: from = "address..country" is not an input field path like address.country"#,
        ]
    );
}

#[test]
fn from_and_value() {
    assert_eq!(
        errors(
            "[transform.fields]\nx = { from = \"a\", value = 1 }\ny = { cast = \"long\" }\nz = { value = 1, cast = \"long\", mask = \"redact\" }",
            r#"{"name":"a","type":"long"}"#,
            r#"{"name":"x","type":"long"},{"name":"y","type":"long"},{"name":"z","type":"long"}"#
        ),
        [
            "transform.fields.x: give either from (an input field) or value (a constant), not both",
            "transform.fields.y: give from (an input field) or value (a constant)",
            "transform.fields.z: value is a constant and takes no cast, mask",
        ]
    );
}

#[test]
fn values_and_defaults_that_do_not_fit() {
    assert_eq!(
        errors(
            r#"[transform.fields]
            channel = { value = "api" }
            at = { value = "yesterday" }
            n = { value = 3000000000 }
            country = { from = "c", default = 5 }
            st = { value = "LOST" }
            "#,
            r#"{"name":"c","type":["null","string"]}"#,
            &format!(
                r#"{{"name":"channel","type":"long"}},{{"name":"at","type":{TS}}},
                {{"name":"n","type":"int"}},{{"name":"country","type":"string"}},
                {{"name":"st","type":{STATUS}}}"#
            )
        ),
        [
            r#"transform.fields.at: value "yesterday" does not fit output field at (a long (timestamp-millis)): "yesterday" is not an RFC 3339 timestamp like 2026-11-22T10:00:00Z"#,
            r#"transform.fields.channel: value "api" does not fit output field channel (a long)"#,
            "transform.fields.country: default 5 does not fit output field country (a string)",
            "transform.fields.n: value 3000000000 does not fit output field n (an int): 3000000000 is out of range for an int",
            r#"transform.fields.st: value "LOST" does not fit output field st (enum t.Status (one of 3 symbols)): "LOST" is not one of NEW, PAID, SHIPPED"#,
        ]
    );
}

#[test]
fn types_that_do_not_convert_without_cast() {
    assert_eq!(
        errors(
            r#"[transform.fields]
            amount = "amount_cents"
            flag = "on"
            st = "status"
            addr = "address"
            "#,
            &format!(
                r#"{{"name":"amount_cents","type":"long"}},{{"name":"on","type":"boolean"}},
                {{"name":"status","type":{STATUS}}},
                {{"name":"address","type":{{"type":"record","name":"A","fields":[{{"name":"zip","type":"string"}}]}}}}"#
            ),
            r#"{"name":"amount","type":"int"},{"name":"flag","type":"long"},
               {"name":"st","type":"string"},
               {"name":"addr","type":{"type":"record","name":"B","fields":[{"name":"zip","type":"long"}]}}"#
        ),
        [
            "transform.fields.addr: input field address (record t.A) does not convert to output field addr (record t.B) without a cast: zip: a string does not convert to a long",
            r#"transform.fields.amount: input field amount_cents (a long) does not convert to output field amount (an int) without a cast: add cast = "int""#,
            "transform.fields.flag: input field on (a boolean) does not convert to output field flag (a long) without a cast",
            r#"transform.fields.st: input field status (enum t.Status (one of 3 symbols)) does not convert to output field st (a string) without a cast: add cast = "string""#,
        ]
    );
    // A plain long does not copy into a timestamp without saying so.
    assert_eq!(
        errors(
            "[transform.fields]\nat = \"ms\"",
            r#"{"name":"ms","type":"long"}"#,
            &format!(r#"{{"name":"at","type":{TS}}}"#)
        ),
        [
            r#"transform.fields.at: input field ms (a long) does not convert to output field at (a long (timestamp-millis)) without a cast: add cast = "timestamp-millis""#
        ]
    );
}

#[test]
fn nullable_input_into_non_nullable_output() {
    let input = r#"{"name":"email","type":["null","string"]},
        {"name":"address","type":["null",{"type":"record","name":"A","fields":[
            {"name":"country","type":"string"}]}]}"#;
    assert_eq!(
        errors(
            r#"[transform.fields]
            email_hash = { from = "email", mask = "sha256" }
            country = "address.country"
            "#,
            input,
            r#"{"name":"email_hash","type":"string"},{"name":"country","type":"string"}"#
        ),
        [
            "transform.fields.country: input field address.country may be null but output field country is not nullable: add a default",
            "transform.fields.email_hash: input field email may be null but output field email_hash is not nullable: add a default",
        ]
    );
    // With defaults, or into nullable outputs, they compile.
    compile(
        r#"[transform.fields]
        email_hash = { from = "email", mask = "sha256", default = "none" }
        country = { from = "address.country", default = "ZZ" }
        "#,
        input,
        r#"{"name":"email_hash","type":"string"},{"name":"country","type":"string"}"#,
    )
    .unwrap();
    compile(
        r#"[transform.fields]
        email_hash = { from = "email", mask = "sha256" }
        country = "address.country"
        "#,
        input,
        r#"{"name":"email_hash","type":["null","string"]},{"name":"country","type":["string","null"]}"#,
    )
    .unwrap();
}

#[test]
fn cast_names() {
    assert_eq!(
        errors(
            r#"[transform.fields]
            a = { from = "x", cast = "integer" }
            b = { from = "x", cast = "long" }
            c = { from = "flag", cast = "long" }
            d = { from = "x", cast = "string" }
            e = { from = "x", cast = "long" }
            "#,
            r#"{"name":"x","type":"long"},{"name":"flag","type":"boolean"}"#,
            r#"{"name":"a","type":"double"},{"name":"b","type":["null","double","string"]},
               {"name":"c","type":"long"},
               {"name":"d","type":{"type":"array","items":"string"}},
               {"name":"e","type":{"type":"fixed","name":"F","size":4}}"#
        ),
        [
            r#"transform.fields.a: cast = "integer" is not a type (one of string, bytes, int, long, float, double, boolean, enum, date, timestamp-millis, timestamp-micros, timestamp-nanos, local-timestamp-millis, local-timestamp-micros, local-timestamp-nanos, uuid)"#,
            r#"transform.fields.b: cast = "long" does not name the type of output field b (a union [null, double, string]): use cast = "double" or cast = "string""#,
            "transform.fields.c: cannot cast input field flag (a boolean) to a long",
            r#"transform.fields.d: cast = "string" does not name the type of output field d (an array), and no cast produces that type"#,
            r#"transform.fields.e: cast = "long" does not name the type of output field e (fixed t.F of 4 bytes), and no cast produces that type"#,
        ]
    );
    // A cast into one branch of a union, and into an enum by its name.
    assert_eq!(
        cast(
            r#""long""#,
            r#"["null","double","string"]"#,
            "string",
            Value::Long(5)
        )
        .unwrap(),
        some(2, s("5"))
    );
    assert_eq!(
        cast(r#""string""#, STATUS, "Status", s("PAID")).unwrap(),
        Value::Enum(1)
    );
    assert_eq!(
        cast(r#""string""#, STATUS, "t.Status", s("PAID")).unwrap(),
        Value::Enum(1)
    );
    // Casting from a union of several types is refused.
    assert_eq!(
        errors(
            r#"[transform.fields]
            b = { from = "a", cast = "string" }"#,
            r#"{"name":"a","type":["null","long","double"]}"#,
            r#"{"name":"b","type":["null","string"]}"#
        ),
        [
            "transform.fields.b: input field a is a union [null, long, double]: only a single type, or it and null, can be cast"
        ]
    );
}

#[test]
fn mask_checks() {
    assert_eq!(
        errors(
            r#"[transform.fields]
            a = { from = "text", mask = "hide" }
            b = { from = "num", mask = "sha256" }
            c = { from = "text", mask = "redact", cast = "long" }
            d = { from = "text", mask = "sha256" }
            e = { from = "text", mask = "keep_last_" }
            f = { from = "id", mask = "redact" }
            "#,
            &format!(
                r#"{{"name":"text","type":"string"}},{{"name":"num","type":"long"}},
                {{"name":"id","type":{UUID}}}"#
            ),
            &format!(
                r#"{{"name":"a","type":"string"}},{{"name":"b","type":"string"}},
                {{"name":"c","type":"long"}},{{"name":"d","type":"long"}},
                {{"name":"e","type":"string"}},{{"name":"f","type":{UUID}}}"#
            )
        ),
        [
            r#"transform.fields.a: mask = "hide" is not a mask (sha256, redact or keep_last_N)"#,
            r#"transform.fields.b: mask needs a string input, and input field num is a long: add cast = "string""#,
            "transform.fields.c: mask needs a string output field, and output field c is a long",
            "transform.fields.d: mask needs a string output field, and output field d is a long",
            r#"transform.fields.e: mask = "keep_last_" is not a mask (sha256, redact or keep_last_N)"#,
            "transform.fields.f: mask needs a string output field, and output field f is a string (uuid)",
        ]
    );
}

#[test]
fn implicit_copies_that_do_not_fit() {
    assert_eq!(
        errors(
            "[transform]",
            r#"{"name":"x","type":"string"},{"name":"n","type":["null","long"]},
               {"name":"r","type":{"type":"record","name":"A","fields":[{"name":"z","type":"string"}]}}"#,
            r#"{"name":"x","type":"long"},{"name":"n","type":"long"},{"name":"y","type":"string"},
               {"name":"r","type":{"type":"record","name":"B","fields":[{"name":"z","type":"long"}]}}"#
        ),
        [
            "output field x (a long) has no mapping and input field x is a string: map it with cast, or drop it",
            "output field n (a long) has no mapping and input field n may be null: map it with a default, or drop it",
            "output field y (a string) has no mapping, no input field of that name and no default",
            "output field r (record t.B) has no mapping and input field r is record t.A (z: a string does not convert to a long): map it with cast, or drop it",
        ]
    );
    // A program that follows may set them: no errors, and apply reports the missing field.
    let m = compile_with(
        "[transform]",
        &codec(r#"{"name":"x","type":"string"},{"name":"n","type":["null","long"]}"#),
        &codec(
            r#"{"name":"x","type":"long"},{"name":"n","type":"long"},{"name":"y","type":"string"}"#,
        ),
        CompileOptions {
            program_follows: true,
        },
    )
    .unwrap();
    assert!(m.explicit().is_empty());
    let err = m.apply(&rec(vec![s("1"), null(0)])).unwrap_err();
    assert_eq!(err.code(), "missing_field");
    assert_eq!(err.field, "x");
    assert_eq!(
        err.message,
        "output field x has no mapping, no input field and no default, and the program did not set it"
    );
    // A nullable input takes the output's default when it has one.
    let m = compile(
        "[transform]",
        r#"{"name":"n","type":["null","long"]}"#,
        r#"{"name":"n","type":"long","default":7}"#,
    )
    .unwrap();
    assert_eq!(
        m.apply(&rec(vec![null(0)])).unwrap(),
        rec(vec![Value::Long(7)])
    );
    assert_eq!(
        m.apply(&rec(vec![some(1, Value::Long(3))])).unwrap(),
        rec(vec![Value::Long(3)])
    );
}

#[test]
fn drop_checks() {
    assert_eq!(
        errors(
            "[transform]\ndrop = [\"notee\", \"nothing_like_it\", \"x\"]",
            r#"{"name":"note","type":"string"},{"name":"x","type":"string"}"#,
            r#"{"name":"x","type":"string"}"#
        ),
        [
            "transform.drop: the input schema has no field notee (did you mean note?)",
            "transform.drop: the input schema has no field nothing_like_it",
            "output field x (a string) has no mapping, input field x is dropped and the output field has no default",
        ]
    );
    // Dropped and used as a source: the explicit mapping wins; dropped with an output default
    // takes the default.
    let m = compile(
        "[transform]\ndrop = [\"note\", \"x\"]\n[transform.fields]\ny = \"note\"",
        r#"{"name":"note","type":"string"},{"name":"x","type":"string"}"#,
        r#"{"name":"y","type":"string"},{"name":"x","type":"string","default":"d"}"#,
    )
    .unwrap();
    assert_eq!(
        m.apply(&rec(vec![s("n"), s("x")])).unwrap(),
        rec(vec![s("n"), s("d")])
    );
    assert_eq!(m.dropped(), ["note", "x"]);
}

#[test]
fn every_problem_is_listed() {
    let errs = errors(
        r#"[transform]
        drop = ["nope"]
        [transform.fields]
        a = { from = "missing", default = "x", mask = "bad" }
        b = { value = "x" }
        "#,
        r#"{"name":"c","type":"string"}"#,
        r#"{"name":"a","type":"long"},{"name":"b","type":"long"},{"name":"c","type":"long"}"#,
    );
    assert_eq!(
        errs,
        [
            "transform.drop: the input schema has no field nope",
            r#"transform.fields.a: default "x" does not fit output field a (a long)"#,
            r#"transform.fields.a: mask = "bad" is not a mask (sha256, redact or keep_last_N)"#,
            "transform.fields.a: input field missing does not exist",
            r#"transform.fields.b: value "x" does not fit output field b (a long)"#,
            "output field c (a long) has no mapping and input field c is a string: map it with cast, or drop it",
        ]
    );
}

#[test]
fn roots_must_be_records() {
    let rec_codec = codec(r#"{"name":"a","type":"long"}"#);
    let string = Codec::parse(r#""string""#, &[]).unwrap();
    let errs = DirectMapping::compile(
        &MappingSpec::default(),
        &string,
        &rec_codec,
        CompileOptions::default(),
    )
    .unwrap_err();
    assert_eq!(
        errs[0].message,
        "the input schema is not a record (it is a string)"
    );
    let errs = DirectMapping::compile(
        &MappingSpec::default(),
        &rec_codec,
        &string,
        CompileOptions::default(),
    )
    .unwrap_err();
    assert_eq!(
        errs[0].message,
        "the output schema is not a record (it is a string)"
    );
    assert_eq!(errs[0].class(), ErrorClass::Fatal);
    assert_eq!(Classify::code(&errs[0]), ErrorCode::ConfigInvalid);
}

// ---------------------------------------------------------------- casts

#[test]
fn numbers_to_numbers() {
    let (int, long, float, double) = (r#""int""#, r#""long""#, r#""float""#, r#""double""#);
    assert_eq!(
        cast(int, long, "long", Value::Int(-5)).unwrap(),
        Value::Long(-5)
    );
    assert_eq!(
        cast(long, int, "int", Value::Long(-5)).unwrap(),
        Value::Int(-5)
    );
    assert_eq!(
        cast_err(long, int, "int", Value::Long(3_000_000_000)),
        "a: 3000000000 is out of range for an int"
    );
    assert_eq!(
        cast(int, double, "double", Value::Int(7)).unwrap(),
        Value::Double(7.0)
    );
    assert_eq!(
        cast(double, int, "int", Value::Double(7.0)).unwrap(),
        Value::Int(7)
    );
    assert_eq!(
        cast_err(double, long, "long", Value::Double(1.5)),
        "a: 1.5 has a fraction and cannot be a long"
    );
    assert_eq!(
        cast_err(double, long, "long", Value::Double(f64::NAN)),
        "a: NaN cannot be a long"
    );
    assert_eq!(
        cast_err(double, long, "long", Value::Double(1e19)),
        "a: 10000000000000000000 is out of range for a long"
    );
    assert_eq!(
        cast(
            double,
            long,
            "long",
            Value::Double(-9.223_372_036_854_776e18)
        )
        .unwrap(),
        Value::Long(i64::MIN)
    );
    assert_eq!(
        cast_err(double, int, "int", Value::Double(2_147_483_648.0)),
        "a: 2147483648 is out of range for an int"
    );
    assert_eq!(
        cast(long, float, "float", Value::Long(3)).unwrap(),
        Value::Float(3.0)
    );
    assert_eq!(
        cast(float, double, "double", Value::Float(0.5)).unwrap(),
        Value::Double(0.5)
    );
    assert_eq!(
        cast(double, float, "float", Value::Double(0.5)).unwrap(),
        Value::Float(0.5)
    );
    assert_eq!(
        cast_err(double, float, "float", Value::Double(1e300)),
        "a: 1e300 is out of range for a float"
    );
    assert_eq!(
        cast(double, float, "float", Value::Double(f64::INFINITY)).unwrap(),
        Value::Float(f32::INFINITY)
    );
    assert_eq!(
        cast(float, long, "long", Value::Float(4.0)).unwrap(),
        Value::Long(4)
    );
    assert_eq!(
        cast(long, long, "long", Value::Long(4)).unwrap(),
        Value::Long(4)
    );
}

#[test]
fn numbers_and_booleans_to_strings_and_back() {
    let st = r#""string""#;
    assert_eq!(
        cast(r#""int""#, st, "string", Value::Int(-12)).unwrap(),
        s("-12")
    );
    assert_eq!(
        cast(r#""long""#, st, "string", Value::Long(12_550)).unwrap(),
        s("12550")
    );
    assert_eq!(
        cast(r#""float""#, st, "string", Value::Float(0.1)).unwrap(),
        s("0.1")
    );
    assert_eq!(
        cast(r#""double""#, st, "string", Value::Double(1.5)).unwrap(),
        s("1.5")
    );
    assert_eq!(
        cast(r#""double""#, st, "string", Value::Double(2.0)).unwrap(),
        s("2")
    );
    assert_eq!(
        cast(r#""double""#, st, "string", Value::Double(f64::NAN)).unwrap(),
        s("NaN")
    );
    assert_eq!(
        cast(
            r#""double""#,
            st,
            "string",
            Value::Double(f64::NEG_INFINITY)
        )
        .unwrap(),
        s("-Infinity")
    );
    assert_eq!(
        cast(r#""boolean""#, st, "string", Value::Boolean(true)).unwrap(),
        s("true")
    );
    assert_eq!(
        cast(r#""boolean""#, st, "string", Value::Boolean(false)).unwrap(),
        s("false")
    );

    assert_eq!(
        cast(st, r#""int""#, "int", s("-12")).unwrap(),
        Value::Int(-12)
    );
    assert_eq!(
        cast(st, r#""long""#, "long", s("12550")).unwrap(),
        Value::Long(12_550)
    );
    assert_eq!(
        cast(st, r#""float""#, "float", s("0.25")).unwrap(),
        Value::Float(0.25)
    );
    assert_eq!(
        cast(st, r#""double""#, "double", s("1.5e3")).unwrap(),
        Value::Double(1500.0)
    );
    assert_eq!(
        cast(st, r#""double""#, "double", s("-Infinity")).unwrap(),
        Value::Double(f64::NEG_INFINITY)
    );
    assert_eq!(
        cast(st, r#""boolean""#, "boolean", s("true")).unwrap(),
        Value::Boolean(true)
    );
    assert_eq!(
        cast(st, r#""boolean""#, "boolean", s("false")).unwrap(),
        Value::Boolean(false)
    );

    assert_eq!(
        cast_err(st, r#""long""#, "long", s("12x")),
        r#"a: "12x" is not a long"#
    );
    assert_eq!(
        cast_err(st, r#""long""#, "long", s(" 12")),
        r#"a: " 12" is not a long"#
    );
    assert_eq!(
        cast_err(st, r#""int""#, "int", s("3000000000")),
        r#"a: "3000000000" is not an int"#
    );
    assert_eq!(
        cast_err(st, r#""double""#, "double", s("1,5")),
        r#"a: "1,5" is not a double"#
    );
    assert_eq!(
        cast_err(st, r#""double""#, "double", s("1e400")),
        r#"a: "1e400" is not a double"#
    );
    assert_eq!(
        cast_err(st, r#""float""#, "float", s("abc")),
        r#"a: "abc" is not a float"#
    );
    assert_eq!(
        cast_err(st, r#""boolean""#, "boolean", s("yes")),
        r#"a: "yes" is not a boolean (true or false)"#
    );
}

#[test]
fn strings_and_bytes() {
    assert_eq!(
        cast(r#""string""#, r#""bytes""#, "bytes", s("hé")).unwrap(),
        Value::Bytes("hé".as_bytes().to_vec())
    );
    assert_eq!(
        cast(
            r#""bytes""#,
            r#""string""#,
            "string",
            Value::Bytes(b"ok".to_vec())
        )
        .unwrap(),
        s("ok")
    );
    assert_eq!(
        cast_err(
            r#""bytes""#,
            r#""string""#,
            "string",
            Value::Bytes(vec![0xff, 0xfe])
        ),
        "a: 2 bytes are not UTF-8 text"
    );
}

#[test]
fn strings_and_enums() {
    let st = r#""string""#;
    assert_eq!(
        cast(st, STATUS, "enum", s("SHIPPED")).unwrap(),
        Value::Enum(2)
    );
    assert_eq!(
        cast_err(st, STATUS, "enum", s("LOST")),
        r#"a: "LOST" is not one of NEW, PAID, SHIPPED"#
    );
    // An unknown symbol takes the enum's default.
    assert_eq!(
        cast(st, STATUS_DEFAULT, "enum", s("LOST")).unwrap(),
        Value::Enum(0)
    );
    assert_eq!(
        cast(STATUS, st, "string", Value::Enum(1)).unwrap(),
        s("PAID")
    );
    // Enum to enum by symbol name, with the default for unknown symbols.
    assert_eq!(
        cast(STATUS, STATUS_DEFAULT, "enum", Value::Enum(1)).unwrap(),
        Value::Enum(2)
    );
    assert_eq!(
        cast(STATUS, STATUS_DEFAULT, "enum", Value::Enum(2)).unwrap(),
        Value::Enum(0)
    );
    assert_eq!(
        cast_err(STATUS_DEFAULT, STATUS, "enum", Value::Enum(0)),
        "a: symbol UNKNOWN is not in the output enum, which has no default"
    );
}

#[test]
fn timestamps() {
    let st = r#""string""#;
    assert_eq!(
        cast(
            st,
            TS,
            "timestamp-millis",
            s("2026-11-22T11:00:00.1239+01:00")
        )
        .unwrap(),
        Value::Long(1_795_341_600_123)
    );
    assert_eq!(
        cast(
            st,
            TS_MICROS,
            "timestamp-micros",
            s("1969-12-31T23:59:59.9999995Z")
        )
        .unwrap(),
        Value::Long(-1)
    );
    assert_eq!(
        cast(TS, st, "string", Value::Long(1_795_341_600_123)).unwrap(),
        s("2026-11-22T10:00:00.123Z")
    );
    assert_eq!(
        cast(TS_MICROS, st, "string", Value::Long(-1)).unwrap(),
        s("1969-12-31T23:59:59.999999Z")
    );
    assert_eq!(
        cast_err(st, TS, "timestamp-millis", s("22/11/2026")),
        r#"a: "22/11/2026" is not an RFC 3339 timestamp like 2026-11-22T10:00:00Z"#
    );
    assert_eq!(
        cast_err(TS, st, "string", Value::Long(i64::MAX)),
        "a: timestamp 9223372036854775807 is outside the years 0000 to 9999 and has no text form"
    );
    // Local timestamps take text without an offset and write none.
    assert_eq!(
        cast(
            st,
            LOCAL_TS,
            "local-timestamp-millis",
            s("2026-11-22T10:00:00")
        )
        .unwrap(),
        Value::Long(1_795_341_600_000)
    );
    assert_eq!(
        cast(LOCAL_TS, st, "string", Value::Long(1_795_341_600_000)).unwrap(),
        s("2026-11-22T10:00:00.000")
    );
    assert_eq!(
        cast_err(st, LOCAL_TS, "local-timestamp-millis", s("soon")),
        r#"a: "soon" is not a local timestamp like 2026-11-22T10:00:00 or an RFC 3339 timestamp"#
    );
    // Epoch numbers in the unit, both ways.
    assert_eq!(
        cast(r#""long""#, TS, "timestamp-millis", Value::Long(5)).unwrap(),
        Value::Long(5)
    );
    assert_eq!(
        cast(r#""int""#, TS, "timestamp-millis", Value::Int(5)).unwrap(),
        Value::Long(5)
    );
    assert_eq!(
        cast(TS, r#""long""#, "long", Value::Long(5)).unwrap(),
        Value::Long(5)
    );
    assert_eq!(
        cast_err(TS, r#""int""#, "int", Value::Long(1_795_341_600_000)),
        "a: 1795341600000 is out of range for an int"
    );
    // Between units: finer to coarser rounds towards the past.
    assert_eq!(
        cast(TS, TS_MICROS, "timestamp-micros", Value::Long(1_500)).unwrap(),
        Value::Long(1_500_000)
    );
    assert_eq!(
        cast(TS_MICROS, TS, "timestamp-millis", Value::Long(-1)).unwrap(),
        Value::Long(-1)
    );
    assert_eq!(
        cast_err(TS, TS_MICROS, "timestamp-micros", Value::Long(i64::MAX)),
        "a: timestamp 9223372036854775807 is out of range in microseconds"
    );
    assert_eq!(
        cast(TS, LOCAL_TS, "local-timestamp-millis", Value::Long(9)).unwrap(),
        Value::Long(9)
    );
    // The same timestamp type copies without a cast; a timestamp copies into a plain long.
    assert_eq!(
        one(TS, TS, r#"from = "a""#, Value::Long(9)).unwrap(),
        Value::Long(9)
    );
    assert_eq!(
        one(TS, r#""long""#, r#"from = "a""#, Value::Long(9)).unwrap(),
        Value::Long(9)
    );
}

#[test]
fn dates() {
    let st = r#""string""#;
    assert_eq!(
        cast(st, DATE, "date", s("2026-11-22")).unwrap(),
        Value::Int(20_779)
    );
    assert_eq!(
        cast(st, DATE, "date", s("1969-12-31")).unwrap(),
        Value::Int(-1)
    );
    assert_eq!(
        cast(DATE, st, "string", Value::Int(20_779)).unwrap(),
        s("2026-11-22")
    );
    assert_eq!(
        cast_err(st, DATE, "date", s("2026-13-01")),
        r#"a: "2026-13-01" is not a date like 2026-11-22"#
    );
    assert_eq!(
        cast_err(DATE, st, "string", Value::Int(i32::MAX)),
        "a: date 2147483647 is outside the years 0000 to 9999 and has no text form"
    );
    assert_eq!(
        cast(r#""int""#, DATE, "date", Value::Int(3)).unwrap(),
        Value::Int(3)
    );
    assert_eq!(
        cast(DATE, r#""int""#, "int", Value::Int(3)).unwrap(),
        Value::Int(3)
    );
    assert_eq!(
        cast(r#""long""#, DATE, "date", Value::Long(3)).unwrap(),
        Value::Int(3)
    );
    assert_eq!(
        cast(DATE, r#""long""#, "long", Value::Int(3)).unwrap(),
        Value::Long(3)
    );
    assert_eq!(
        cast_err(r#""long""#, DATE, "date", Value::Long(1 << 40)),
        "a: 1099511627776 is out of range for an int"
    );
}

#[test]
fn uuids() {
    let st = r#""string""#;
    assert_eq!(
        cast(st, UUID, "uuid", s("123E4567-E89B-12D3-A456-426614174000")).unwrap(),
        s("123e4567-e89b-12d3-a456-426614174000")
    );
    assert_eq!(
        cast_err(st, UUID, "uuid", s("123e4567")),
        r#"a: "123e4567" is not a UUID like 123e4567-e89b-12d3-a456-426614174000"#
    );
    assert_eq!(
        cast(
            UUID,
            st,
            "string",
            s("123e4567-e89b-12d3-a456-426614174000")
        )
        .unwrap(),
        s("123e4567-e89b-12d3-a456-426614174000")
    );
    // A uuid copies into a plain string without a cast.
    assert_eq!(one(UUID, st, r#"from = "a""#, s("x")).unwrap(), s("x"));
}

#[test]
fn casts_keep_nulls_and_wrap_unions() {
    // Nullable in and out: null stays null, values are cast and wrapped.
    let r = |v| cast(r#"["null","string"]"#, r#"["null","long"]"#, "long", v);
    assert_eq!(r(null(0)).unwrap(), null(0));
    assert_eq!(r(some(1, s("7"))).unwrap(), some(1, Value::Long(7)));
    // Null branch second in the output.
    assert_eq!(
        cast(
            r#"["null","string"]"#,
            r#"["long","null"]"#,
            "long",
            null(0)
        )
        .unwrap(),
        null(1)
    );
    // With a default, null takes it.
    assert_eq!(
        one(
            r#"["null","string"]"#,
            r#""long""#,
            r#"from = "a", cast = "long", default = -1"#,
            null(0)
        )
        .unwrap(),
        Value::Long(-1)
    );
}

// ---------------------------------------------------------------- promotions

#[test]
fn promotions() {
    let p = |a: &str, b: &str, v| one(a, b, r#"from = "a""#, v).unwrap();
    assert_eq!(p(r#""int""#, r#""long""#, Value::Int(3)), Value::Long(3));
    assert_eq!(
        p(r#""int""#, r#""float""#, Value::Int(3)),
        Value::Float(3.0)
    );
    assert_eq!(
        p(r#""int""#, r#""double""#, Value::Int(3)),
        Value::Double(3.0)
    );
    assert_eq!(
        p(r#""long""#, r#""float""#, Value::Long(3)),
        Value::Float(3.0)
    );
    assert_eq!(
        p(r#""long""#, r#""double""#, Value::Long(3)),
        Value::Double(3.0)
    );
    assert_eq!(
        p(r#""float""#, r#""double""#, Value::Float(0.5)),
        Value::Double(0.5)
    );
    assert_eq!(
        p(r#""string""#, r#""bytes""#, s("x")),
        Value::Bytes(b"x".to_vec())
    );
    assert_eq!(
        p(r#""bytes""#, r#""string""#, Value::Bytes(b"x".to_vec())),
        s("x")
    );
    assert_eq!(
        one(
            r#""bytes""#,
            r#""string""#,
            r#"from = "a""#,
            Value::Bytes(vec![0xff])
        )
        .unwrap_err()
        .message,
        "a: 1 bytes are not UTF-8 text"
    );
    // Into nullable outputs, and between nullable types.
    assert_eq!(
        p(r#""int""#, r#"["null","long"]"#, Value::Int(3)),
        some(1, Value::Long(3))
    );
    assert_eq!(
        p(
            r#"["null","int"]"#,
            r#"["null","long"]"#,
            some(1, Value::Int(3))
        ),
        some(1, Value::Long(3))
    );
    assert_eq!(
        p(r#"["null","int"]"#, r#"["null","long"]"#, null(0)),
        null(0)
    );
    assert_eq!(
        p(r#"["null","int"]"#, r#"["long","null"]"#, null(0)),
        null(1)
    );
    // Not promotions: narrowing, and long → int.
    assert_eq!(
        errors(
            "[transform.fields]\nb = \"a\"",
            r#"{"name":"a","type":"double"}"#,
            r#"{"name":"b","type":"float"}"#
        ),
        [
            r#"transform.fields.b: input field a (a double) does not convert to output field b (a float) without a cast: add cast = "float""#
        ]
    );
}

#[test]
fn nested_promotions() {
    let a = r#"{"type":"record","name":"A","fields":[
        {"name":"zip","type":"int"},{"name":"extra","type":"string"},
        {"name":"tags","type":{"type":"array","items":"int"}},
        {"name":"m","type":{"type":"map","values":"float"}},
        {"name":"st","type":{"type":"enum","name":"S","symbols":["X","Y","Z"]}}]}"#;
    let b = r#"{"type":"record","name":"B","fields":[
        {"name":"st","type":{"type":"enum","name":"S2","symbols":["Z","Y","OTHER"],"default":"OTHER"}},
        {"name":"zip","type":"long"},
        {"name":"tags","type":{"type":"array","items":"long"}},
        {"name":"m","type":{"type":"map","values":"double"}},
        {"name":"country","type":"string","default":"FR"}]}"#;
    let m = compile(
        "[transform]",
        &format!(r#"{{"name":"r","type":{a}}}"#),
        &format!(r#"{{"name":"r","type":{b}}}"#),
    )
    .unwrap();
    let input = rec(vec![rec(vec![
        Value::Int(69001),
        s("dropped"),
        Value::Array(vec![Value::Int(1), Value::Int(2)]),
        Value::Map(vec![("k".into(), Value::Float(0.5))]),
        Value::Enum(0),
    ])]);
    assert_eq!(
        m.apply(&input).unwrap(),
        rec(vec![rec(vec![
            Value::Enum(2),
            Value::Long(69001),
            Value::Array(vec![Value::Long(1), Value::Long(2)]),
            Value::Map(vec![("k".into(), Value::Double(0.5))]),
            s("FR"),
        ])])
    );
    // An enum symbol the output lacks, without a default, fails when it is met.
    let m = compile(
        "[transform]",
        r#"{"name":"st","type":{"type":"enum","name":"S","symbols":["X","Y"]}}"#,
        r#"{"name":"st","type":{"type":"enum","name":"S","symbols":["Y"]}}"#,
    )
    .unwrap();
    assert_eq!(
        m.apply(&rec(vec![Value::Enum(1)])).unwrap(),
        rec(vec![Value::Enum(0)])
    );
    let err = m.apply(&rec(vec![Value::Enum(0)])).unwrap_err();
    assert_eq!(err.code(), "cast_failed");
    assert_eq!(
        err.message,
        "st: symbol X is not in the output enum, which has no default"
    );
    // Identical nested shapes are cloned, whatever the type names.
    let m = compile(
        "[transform.fields]\nx = \"r\"",
        &format!(r#"{{"name":"r","type":{a}}}"#),
        &format!(
            r#"{{"name":"x","type":{}}}"#,
            a.replace("\"A\"", "\"Other\"")
        ),
    )
    .unwrap();
    assert_eq!(m.apply(&input).unwrap(), input);
}

// ---------------------------------------------------------------- masks

#[test]
fn masks() {
    let st = r#""string""#;
    let mask =
        |m: &str, v: &str| one(st, st, &format!(r#"from = "a", mask = "{m}""#), s(v)).unwrap();
    assert_eq!(
        mask("sha256", "abc"),
        s("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
    assert_eq!(
        mask("keep_last_4", "4111111111111234"),
        s("************1234")
    );
    assert_eq!(mask("keep_last_2", "héllo"), s("***lo"));
    assert_eq!(mask("keep_last_4", "123"), s("123"));
    assert_eq!(mask("keep_last_0", "abc"), s("***"));
    assert_eq!(mask("redact", "secret"), s("[redacted]"));
    // After a cast to string.
    assert_eq!(
        one(
            r#""long""#,
            st,
            r#"from = "a", cast = "string", mask = "keep_last_2""#,
            Value::Long(123_456)
        )
        .unwrap(),
        s("****56")
    );
    // Nullable: null stays null (or takes the default, unmasked); values are masked and wrapped.
    let nullable = r#"["null","string"]"#;
    assert_eq!(
        one(
            nullable,
            nullable,
            r#"from = "a", mask = "redact""#,
            null(0)
        )
        .unwrap(),
        null(0)
    );
    assert_eq!(
        one(
            nullable,
            nullable,
            r#"from = "a", mask = "redact""#,
            some(1, s("x"))
        )
        .unwrap(),
        some(1, s("[redacted]"))
    );
    assert_eq!(
        one(
            nullable,
            st,
            r#"from = "a", mask = "sha256", default = "none""#,
            null(0)
        )
        .unwrap(),
        s("none")
    );
    assert_eq!(Mask::parse("keep_last_12"), Some(Mask::KeepLast(12)));
    assert_eq!(Mask::parse("keep_last_x"), None);
    assert_eq!(Mask::parse("keep_last_+1"), None);
    assert_eq!(Mask::parse("SHA256"), None);
}

// ---------------------------------------------------------------- nested paths

#[test]
fn nested_paths_with_null_parents() {
    let input = r#"{"name":"customer","type":["null",{"type":"record","name":"C","fields":[
        {"name":"address","type":["null",{"type":"record","name":"A","fields":[
            {"name":"country","type":["null","string"]},
            {"name":"zip","type":"int"}]}]}]}]}"#;
    let m = compile(
        r#"[transform.fields]
        country = { from = "customer.address.country", default = "ZZ" }
        zip = "customer.address.zip"
        "#,
        input,
        r#"{"name":"country","type":"string"},{"name":"zip","type":["null","long"]}"#,
    )
    .unwrap();
    let address =
        |country: Value, zip| some(1, rec(vec![some(1, rec(vec![country, Value::Int(zip)]))]));
    assert_eq!(
        m.apply(&rec(vec![address(some(1, s("FR")), 69001)]))
            .unwrap(),
        rec(vec![s("FR"), some(1, Value::Long(69001))])
    );
    assert_eq!(
        m.apply(&rec(vec![address(null(0), 75001)])).unwrap(),
        rec(vec![s("ZZ"), some(1, Value::Long(75001))])
    );
    // A null address, and a null customer.
    assert_eq!(
        m.apply(&rec(vec![some(1, rec(vec![null(0)]))])).unwrap(),
        rec(vec![s("ZZ"), null(0)])
    );
    assert_eq!(
        m.apply(&rec(vec![null(0)])).unwrap(),
        rec(vec![s("ZZ"), null(0)])
    );
}

#[test]
fn input_that_does_not_fit_the_schema_never_panics() {
    let m = compile(ORDER_MAPPING, SHOP_ORDER, ORDER).unwrap();
    let err = m.apply(&Value::Long(1)).unwrap_err();
    assert_eq!(err.code(), "input_mismatch");
    assert_eq!(
        err.message,
        "the input is a long, not a record of the input schema"
    );
    let err = m.apply(&rec(vec![])).unwrap_err();
    assert_eq!(err.code(), "input_mismatch");
    let mut input = shop_order();
    input.as_record_mut().unwrap()[2] = s("not a long");
    let err = m.apply(&input).unwrap_err();
    assert_eq!(err.code(), "input_mismatch");
    assert_eq!(err.field, "amount");
    assert_eq!(
        err.message,
        "amount_cents: expected a number, got a string (the value does not fit the input schema)"
    );
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert_eq!(Classify::code(&err), ErrorCode::TransformFailed);
    assert!(m.eval_field(99, &shop_order()).is_err());
    assert!(m.eval_field(0, &Value::Null).is_err());
}

#[test]
fn null_error_message() {
    // Compilation refuses the cases that could reach it; the run-time message is still
    // defined for input that breaks the schema.
    let slot = Slot {
        name: "email_hash".into(),
        source: Source::Read(Box::new(Read {
            steps: Box::new([0]),
            body: Body::Conv(Conv::Clone),
            on_null: None,
            check_null: true,
            path: "email".into(),
        })),
    };
    let err = *slot.push(&[Value::Null], &mut Vec::new()).unwrap_err();
    assert_eq!(err.code(), "null_not_allowed");
    assert_eq!(err.input.as_deref(), Some("email"));
    assert_eq!(
        err.to_string(),
        "email: null, and output field email_hash has no default"
    );
}

// ---------------------------------------------------------------- constants and defaults

#[test]
fn constants_of_each_type() {
    assert_eq!(
        constant(r#""boolean""#, "true").unwrap(),
        Value::Boolean(true)
    );
    assert_eq!(constant(r#""int""#, "-3").unwrap(), Value::Int(-3));
    assert_eq!(
        constant(r#""long""#, "9000000000").unwrap(),
        Value::Long(9_000_000_000)
    );
    assert_eq!(constant(r#""float""#, "0.5").unwrap(), Value::Float(0.5));
    assert_eq!(constant(r#""float""#, "2").unwrap(), Value::Float(2.0));
    assert_eq!(
        constant(r#""double""#, "1.25").unwrap(),
        Value::Double(1.25)
    );
    assert_eq!(constant(r#""string""#, r#""api""#).unwrap(), s("api"));
    assert_eq!(
        constant(r#""bytes""#, r#""ab""#).unwrap(),
        Value::Bytes(b"ab".to_vec())
    );
    assert_eq!(constant(STATUS, r#""PAID""#).unwrap(), Value::Enum(1));
    assert_eq!(
        constant(DATE, r#""2026-11-22""#).unwrap(),
        Value::Int(20_779)
    );
    assert_eq!(constant(DATE, "2026-11-22").unwrap(), Value::Int(20_779));
    assert_eq!(constant(DATE, "3").unwrap(), Value::Int(3));
    assert_eq!(
        constant(TS, r#""2026-11-22T10:00:00Z""#).unwrap(),
        Value::Long(1_795_341_600_000)
    );
    assert_eq!(
        constant(TS, "2026-11-22T11:00:00+01:00").unwrap(),
        Value::Long(1_795_341_600_000)
    );
    assert_eq!(constant(TS, "12").unwrap(), Value::Long(12));
    assert_eq!(
        constant(UUID, r#""123e4567-e89b-12d3-a456-426614174000""#).unwrap(),
        s("123e4567-e89b-12d3-a456-426614174000")
    );
    assert_eq!(
        constant(r#"{"type":"array","items":"long"}"#, "[1, 2]").unwrap(),
        Value::Array(vec![Value::Long(1), Value::Long(2)])
    );
    assert_eq!(
        constant(
            r#"{"type":"map","values":"string"}"#,
            r#"{ b = "2", a = "1" }"#
        )
        .unwrap(),
        Value::Map(vec![("a".into(), s("1")), ("b".into(), s("2"))])
    );
    let record = r#"{"type":"record","name":"A","fields":[
        {"name":"city","type":"string"},{"name":"zip","type":"int","default":0}]}"#;
    assert_eq!(
        constant(record, r#"{ city = "Lyon" }"#).unwrap(),
        rec(vec![s("Lyon"), Value::Int(0)])
    );
    // Unions take the first branch the constant fits.
    assert_eq!(
        constant(r#"["null","long","string"]"#, r#""5""#).unwrap(),
        some(2, s("5"))
    );
    assert_eq!(
        constant(r#"["null","string","long"]"#, "5").unwrap(),
        some(2, Value::Long(5))
    );

    // What does not fit.
    let bad = |ty: &str, v: &str| constant(ty, v).unwrap_err();
    assert_eq!(
        bad(r#""int""#, "1.5"),
        ["transform.fields.b: value 1.5 does not fit output field b (an int)"]
    );
    assert_eq!(
        bad(r#""long""#, r#""5""#),
        [r#"transform.fields.b: value "5" does not fit output field b (a long)"#]
    );
    assert_eq!(
        bad(r#""boolean""#, "1"),
        ["transform.fields.b: value 1 does not fit output field b (a boolean)"]
    );
    assert_eq!(
        bad(r#"{"type":"array","items":"long"}"#, r#"[1, "x"]"#),
        [
            r#"transform.fields.b: value [1, "x"] does not fit output field b (an array): [1]: "x" does not fit"#
        ]
    );
    assert_eq!(
        bad(record, r#"{ town = "Lyon" }"#),
        [
            r#"transform.fields.b: value { town = "Lyon" } does not fit output field b (record t.A): record t.A has no field town"#
        ]
    );
    assert_eq!(
        bad(record, r#"{ zip = 1 }"#),
        [
            r#"transform.fields.b: value { zip = 1 } does not fit output field b (record t.A): field city is missing and has no default"#
        ]
    );
    assert_eq!(
        bad(r#"{"type":"fixed","name":"F","size":2}"#, r#""ab""#),
        [r#"transform.fields.b: value "ab" does not fit output field b (fixed t.F of 2 bytes)"#]
    );
    assert_eq!(
        bad(r#"["null","int"]"#, "3000000000"),
        [
            r#"transform.fields.b: value 3000000000 does not fit output field b (a union [null, int]): 3000000000 is out of range for an int"#
        ]
    );
}

#[test]
fn defaults_of_each_type() {
    let d = |ty: &str, default: &str| {
        one(
            &format!(r#"["null",{ty}]"#),
            ty,
            &format!(r#"from = "a", default = {default}"#),
            null(0),
        )
        .unwrap()
    };
    assert_eq!(d(r#""boolean""#, "false"), Value::Boolean(false));
    assert_eq!(d(r#""int""#, "7"), Value::Int(7));
    assert_eq!(d(r#""long""#, "7"), Value::Long(7));
    assert_eq!(d(r#""float""#, "0.5"), Value::Float(0.5));
    assert_eq!(d(r#""double""#, "0.5"), Value::Double(0.5));
    assert_eq!(d(r#""string""#, r#""ZZ""#), s("ZZ"));
    assert_eq!(d(r#""bytes""#, r#""ZZ""#), Value::Bytes(b"ZZ".to_vec()));
    assert_eq!(d(STATUS, r#""NEW""#), Value::Enum(0));
    assert_eq!(d(DATE, "1970-01-02"), Value::Int(1));
    assert_eq!(d(TS, "1970-01-01T00:00:01Z"), Value::Long(1_000));
    assert_eq!(
        d(r#"{"type":"array","items":"string"}"#, r#"["x"]"#),
        Value::Array(vec![s("x")])
    );
    // A default on a nullable output wins over null.
    assert_eq!(
        one(
            r#"["null","string"]"#,
            r#"["null","string"]"#,
            r#"from = "a", default = "ZZ""#,
            null(0)
        )
        .unwrap(),
        some(1, s("ZZ"))
    );
    // A non-null value ignores the default.
    assert_eq!(
        one(
            r#"["null","string"]"#,
            r#""string""#,
            r#"from = "a", default = "ZZ""#,
            some(1, s("FR"))
        )
        .unwrap(),
        s("FR")
    );
}

#[test]
fn output_defaults_fill_unmapped_fields() {
    let m = compile(
        "[transform.fields]\nb = \"a\"",
        r#"{"name":"a","type":"string"}"#,
        r#"{"name":"b","type":"string"},{"name":"c","type":["null","string"],"default":null},
           {"name":"d","type":"long","default":42}"#,
    )
    .unwrap();
    assert_eq!(
        m.apply(&rec(vec![s("x")])).unwrap(),
        rec(vec![s("x"), null(0), Value::Long(42)])
    );
}

#[test]
fn suggestions() {
    assert_eq!(closest("amout", &["amount", "id"]), Some("amount"));
    assert_eq!(closest("id", &["ix", "amount"]), Some("ix"));
    assert_eq!(closest("xyz", &["amount"]), None);
    assert_eq!(edit_distance("kitten", "sitting"), 3);
    assert_eq!(edit_distance("", "ab"), 2);
}

#[test]
fn float_text_uses_exponents_only_for_extreme_magnitudes() {
    let st = r#""string""#;
    let text = |ty: &str, v| cast(ty, st, "string", v).unwrap();
    assert_eq!(
        text(r#""double""#, Value::Double(1e20)),
        s("100000000000000000000")
    );
    assert_eq!(text(r#""double""#, Value::Double(1e21)), s("1e21"));
    assert_eq!(text(r#""double""#, Value::Double(-2.5e-7)), s("-2.5e-7"));
    assert_eq!(text(r#""double""#, Value::Double(0.0)), s("0"));
    assert_eq!(text(r#""float""#, Value::Float(1e30)), s("1e30"));
}
