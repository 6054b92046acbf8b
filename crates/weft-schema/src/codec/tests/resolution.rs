use std::sync::Arc;

use apache_avro::types::Value as Avro;

use super::{codec, schema};
use crate::codec::{CodecError, DecodeErrorKind, ResolvingCodec, Value};

fn resolver(writer: &str, reader: &str) -> ResolvingCodec {
    ResolvingCodec::new(Arc::new(codec(writer)), Arc::new(codec(reader)))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn refused(writer: &str, reader: &str) -> String {
    ResolvingCodec::from_schemas(&schema(writer), &schema(reader))
        .unwrap_err()
        .to_string()
}

/// Writes `v` with the writer schema, reads it with the reader schema, and checks the result
/// against `expected` and against apache-avro's own resolution.
fn reads_as(writer: &str, reader: &str, v: Value, expected: Value) {
    let got = reads_as_spec(writer, reader, v.clone(), expected);
    let body = codec(writer).encode_to_vec(&v).unwrap();
    let theirs =
        apache_avro::from_avro_datum(&schema(writer), &mut &body[..], Some(&schema(reader)))
            .unwrap();
    assert_eq!(
        codec(reader).to_avro(&got).unwrap(),
        theirs,
        "apache-avro agrees"
    );
}

/// Like `reads_as`, for the cases apache-avro 0.22 does not resolve although the Avro
/// specification allows them (reader field aliases, promotions out of a logical type).
fn reads_as_spec(writer: &str, reader: &str, v: Value, expected: Value) -> Value {
    let r = resolver(writer, reader);
    let body = codec(writer).encode_to_vec(&v).unwrap();
    let got = r.decode(&body).unwrap();
    assert_eq!(got, expected);
    // What was read encodes with the reader schema.
    let mut out = Vec::new();
    r.encode(&got, &mut out).unwrap();
    assert_eq!(r.reader().decode(&out).unwrap(), got);
    got
}

const V1: &str = r#"{"type":"record","name":"Order","namespace":"a","fields":[
    {"name":"id","type":"string"},
    {"name":"legacy","type":{"type":"array","items":{"type":"map","values":"string"}}},
    {"name":"qty","type":"int"},
    {"name":"status","type":{"type":"enum","name":"S","symbols":["NEW","OLD","GONE"]}}]}"#;

const V2: &str = r#"{"type":"record","name":"Order","namespace":"b","fields":[
    {"name":"status","type":{"type":"enum","name":"S","symbols":["NEW","OLD","UNKNOWN"],"default":"UNKNOWN"}},
    {"name":"qty","type":"double"},
    {"name":"ident","aliases":["id"],"type":"string"},
    {"name":"currency","type":"string","default":"EUR"},
    {"name":"note","type":["null","string"],"default":null}]}"#;

#[test]
fn fields_reorder_skip_default_promote_and_alias() {
    let v1 = Value::Record(vec![
        Value::String("o1".into()),
        Value::Array(vec![Value::Map(vec![(
            "k".into(),
            Value::String("v".into()),
        )])]),
        Value::Int(3),
        Value::Enum(2), // GONE: not in the reader, takes its default
    ]);
    // apache-avro 0.22 ignores reader field aliases: compare with it without the alias.
    let v2_without_alias = V2.replace(r#"{"name":"ident","aliases":["id"],"#, r#"{"name":"id","#);
    reads_as(
        V1,
        &v2_without_alias,
        v1.clone(),
        Value::Record(vec![
            Value::Enum(2),
            Value::Double(3.0),
            Value::String("o1".into()),
            Value::String("EUR".into()),
            Value::Union(0, Box::new(Value::Null)),
        ]),
    );
    reads_as_spec(
        V1,
        V2,
        v1,
        Value::Record(vec![
            Value::Enum(2),
            Value::Double(3.0),
            Value::String("o1".into()),
            Value::String("EUR".into()),
            Value::Union(0, Box::new(Value::Null)),
        ]),
    );
}

#[test]
fn every_promotion() {
    let cases = [
        (r#""int""#, r#""long""#, Value::Int(-7), Value::Long(-7)),
        (r#""int""#, r#""float""#, Value::Int(3), Value::Float(3.0)),
        (r#""int""#, r#""double""#, Value::Int(3), Value::Double(3.0)),
        (r#""long""#, r#""float""#, Value::Long(5), Value::Float(5.0)),
        (
            r#""long""#,
            r#""double""#,
            Value::Long(5),
            Value::Double(5.0),
        ),
        (
            r#""float""#,
            r#""double""#,
            Value::Float(0.5),
            Value::Double(0.5),
        ),
        (
            r#""string""#,
            r#""bytes""#,
            Value::String("hi".into()),
            Value::Bytes(b"hi".to_vec()),
        ),
        (
            r#""bytes""#,
            r#""string""#,
            Value::Bytes(b"hi".to_vec()),
            Value::String("hi".into()),
        ),
    ];
    for (w, r, v, expected) in cases {
        reads_as(w, r, v, expected);
    }
    let e = refused(r#""long""#, r#""int""#);
    assert!(
        e.contains("the writer's a long cannot be read as an int"),
        "{e}"
    );
}

#[test]
fn unions_on_either_side() {
    // Writer union, reader not: each branch resolves on its own.
    reads_as(
        r#"["int","string"]"#,
        r#""long""#,
        Value::Union(0, Box::new(Value::Int(4))),
        Value::Long(4),
    );
    // Not a union into a union: the exact branch wins over a promotable one.
    reads_as(
        r#""long""#,
        r#"["null","double","long"]"#,
        Value::Long(4),
        Value::Union(2, Box::new(Value::Long(4))),
    );
    reads_as(
        r#""int""#,
        r#"["null","double"]"#,
        Value::Int(4),
        Value::Union(1, Box::new(Value::Double(4.0))),
    );
    // Union to union with branches reordered.
    reads_as(
        r#"["null","string","long"]"#,
        r#"["long","string","null"]"#,
        Value::Union(1, Box::new(Value::String("s".into()))),
        Value::Union(1, Box::new(Value::String("s".into()))),
    );
    // A writer branch the reader lacks fails only when data uses it.
    let r = resolver(r#"["null","string","boolean"]"#, r#"["null","string"]"#);
    assert_eq!(
        r.decode(&[2, 2, b'x']).unwrap(),
        Value::Union(1, Box::new(Value::String("x".into())))
    );
    let e = r.decode(&[4, 1]).unwrap_err();
    assert!(
        matches!(
            e.kind(),
            DecodeErrorKind::UnresolvedBranch { branch: 2, .. }
        ),
        "{e}"
    );
}

#[test]
fn enums_map_by_symbol() {
    let w = r#"{"type":"enum","name":"E","symbols":["A","B","C"]}"#;
    let r = r#"{"type":"enum","name":"E","symbols":["C","A"]}"#;
    reads_as(w, r, Value::Enum(0), Value::Enum(1));
    reads_as(w, r, Value::Enum(2), Value::Enum(0));
    let res = resolver(w, r);
    let e = res.decode(&[2]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "at the top level (byte 0): enum symbol \"B\" is not in the reader's enum, which has no default"
    );
}

#[test]
fn nested_and_recursive_records_resolve() {
    let w = r#"{"type":"record","name":"N","fields":[
        {"name":"v","type":"int"},{"name":"next","type":["null","N"]}]}"#;
    let r = r#"{"type":"record","name":"N","fields":[
        {"name":"next","type":["null","N"]},{"name":"v","type":"long"},
        {"name":"tag","type":"string","default":"t"}]}"#;
    let inner = Value::Record(vec![Value::Int(2), Value::Union(0, Box::new(Value::Null))]);
    let list = Value::Record(vec![Value::Int(1), Value::Union(1, Box::new(inner))]);
    let expected_inner = Value::Record(vec![
        Value::Union(0, Box::new(Value::Null)),
        Value::Long(2),
        Value::String("t".into()),
    ]);
    reads_as(
        w,
        r,
        list,
        Value::Record(vec![
            Value::Union(1, Box::new(expected_inner)),
            Value::Long(1),
            Value::String("t".into()),
        ]),
    );
}

#[test]
fn unresolvable_schemas_are_refused_with_the_field() {
    let e = refused(
        r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}"#,
        r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"string"}]}"#,
    );
    assert_eq!(
        e,
        "at b: the writer schema cannot be read with the reader schema: the reader's field is not in the writer's schema and has no default"
    );
    let e = refused(
        r#"{"type":"record","name":"R","fields":[{"name":"inner","type":{"type":"record","name":"I","fields":[{"name":"x","type":"string"}]}}]}"#,
        r#"{"type":"record","name":"R","fields":[{"name":"inner","type":{"type":"record","name":"I","fields":[{"name":"x","type":"int"}]}}]}"#,
    );
    assert!(e.starts_with("at inner.x: "), "{e}");
    let e = ResolvingCodec::from_schemas(
        &schema(r#"{"type":"record","name":"A","fields":[]}"#),
        &schema(r#"{"type":"record","name":"B","fields":[]}"#),
    )
    .unwrap_err();
    assert!(matches!(e, CodecError::Incompatible { .. }), "{e}");
    // A reader alias accepts the writer's old name.
    resolver(
        r#"{"type":"record","name":"A","fields":[]}"#,
        r#"{"type":"record","name":"B","aliases":["A"],"fields":[]}"#,
    );
}

#[test]
fn fixed_and_arrays_and_maps_resolve_their_items() {
    reads_as(
        r#"{"type":"map","values":{"type":"array","items":"int"}}"#,
        r#"{"type":"map","values":{"type":"array","items":"long"}}"#,
        Value::Map(vec![(
            "k".into(),
            Value::Array(vec![Value::Int(1), Value::Int(2)]),
        )]),
        Value::Map(vec![(
            "k".into(),
            Value::Array(vec![Value::Long(1), Value::Long(2)]),
        )]),
    );
    reads_as(
        r#"{"type":"fixed","name":"F","size":2}"#,
        r#"{"type":"fixed","name":"F","size":2}"#,
        Value::Fixed(vec![1, 2]),
        Value::Fixed(vec![1, 2]),
    );
    let e = refused(
        r#"{"type":"fixed","name":"F","size":2}"#,
        r#"{"type":"fixed","name":"F","size":3}"#,
    );
    assert!(e.contains("fixed F of 2 bytes"), "{e}");
}

#[test]
fn logical_types_resolve_by_their_physical_type() {
    reads_as_spec(
        r#"{"type":"int","logicalType":"date"}"#,
        r#""long""#,
        Value::Int(19000),
        Value::Long(19000),
    );
    reads_as(
        r#""long""#,
        r#"{"type":"long","logicalType":"timestamp-millis"}"#,
        Value::Long(5),
        Value::Long(5),
    );
    // apache-avro reads the same data as a timestamp.
    let body = codec(r#""long""#).encode_to_vec(&Value::Long(5)).unwrap();
    let theirs = apache_avro::from_avro_datum(
        &schema(r#""long""#),
        &mut &body[..],
        Some(&schema(
            r#"{"type":"long","logicalType":"timestamp-millis"}"#,
        )),
    )
    .unwrap();
    assert_eq!(theirs, Avro::TimestampMillis(5));
}
