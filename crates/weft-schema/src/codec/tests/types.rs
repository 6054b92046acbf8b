use std::collections::HashMap;

use apache_avro::types::Value as Avro;
use apache_avro::{Days, Decimal, Duration, Millis, Months, Uuid};

use super::{agree, avro_decode, avro_encode, codec};
use crate::codec::{Codec, Kind, Logical, Value};

#[test]
fn primitives_match_apache_avro_bytes() {
    agree(r#""null""#, Value::Null, Avro::Null);
    agree(r#""boolean""#, Value::Boolean(true), Avro::Boolean(true));
    agree(r#""boolean""#, Value::Boolean(false), Avro::Boolean(false));
    for i in [0, 1, -1, 63, -64, 64, i32::MAX, i32::MIN] {
        agree(r#""int""#, Value::Int(i), Avro::Int(i));
    }
    for l in [0, 1, -1, 1 << 40, i64::MAX, i64::MIN] {
        agree(r#""long""#, Value::Long(l), Avro::Long(l));
    }
    agree(r#""float""#, Value::Float(1.5), Avro::Float(1.5));
    agree(
        r#""double""#,
        Value::Double(-2.25e300),
        Avro::Double(-2.25e300),
    );
    agree(
        r#""bytes""#,
        Value::Bytes(vec![0, 255, 7]),
        Avro::Bytes(vec![0, 255, 7]),
    );
    agree(r#""bytes""#, Value::Bytes(vec![]), Avro::Bytes(vec![]));
    agree(
        r#""string""#,
        Value::String("héllo ✓".into()),
        Avro::String("héllo ✓".into()),
    );
}

#[test]
fn known_encodings() {
    let c = codec(r#""long""#);
    for (v, bytes) in [
        (0i64, vec![0u8]),
        (-1, vec![1]),
        (1, vec![2]),
        (-64, vec![0x7f]),
        (64, vec![0x80, 0x01]),
    ] {
        assert_eq!(c.encode_to_vec(&Value::Long(v)).unwrap(), bytes);
        assert_eq!(c.decode(&bytes).unwrap(), Value::Long(v));
    }
    let framed = c.encode_framed(258, &Value::Long(1)).unwrap();
    assert_eq!(framed, [0, 0, 0, 1, 2, 2]);
}

#[test]
fn complex_types_match_apache_avro_bytes() {
    agree(
        r#"{"type":"fixed","name":"F","size":3}"#,
        Value::Fixed(vec![1, 2, 3]),
        Avro::Fixed(3, vec![1, 2, 3]),
    );
    agree(
        r#"{"type":"enum","name":"E","symbols":["A","B","C"]}"#,
        Value::Enum(2),
        Avro::Enum(2, "C".into()),
    );
    agree(
        r#"["null","string","long"]"#,
        Value::Union(2, Box::new(Value::Long(5))),
        Avro::Union(2, Box::new(Avro::Long(5))),
    );
    agree(
        r#"{"type":"array","items":"int"}"#,
        Value::Array(vec![Value::Int(1), Value::Int(-2)]),
        Avro::Array(vec![Avro::Int(1), Avro::Int(-2)]),
    );
    agree(
        r#"{"type":"array","items":"int"}"#,
        Value::Array(vec![]),
        Avro::Array(vec![]),
    );
    agree(
        r#"{"type":"map","values":"string"}"#,
        Value::Map(vec![("k".into(), Value::String("v".into()))]),
        Avro::Map(HashMap::from([("k".to_string(), Avro::String("v".into()))])),
    );
    agree(
        r#"{"type":"record","name":"R","fields":[
            {"name":"a","type":"long"},
            {"name":"inner","type":{"type":"record","name":"I","fields":[{"name":"s","type":"string"}]}},
            {"name":"opt","type":["null","I"]}]}"#,
        Value::Record(vec![
            Value::Long(3),
            Value::Record(vec![Value::String("x".into())]),
            Value::Union(1, Box::new(Value::Record(vec![Value::String("y".into())]))),
        ]),
        Avro::Record(vec![
            ("a".into(), Avro::Long(3)),
            (
                "inner".into(),
                Avro::Record(vec![("s".into(), Avro::String("x".into()))]),
            ),
            (
                "opt".into(),
                Avro::Union(
                    1,
                    Box::new(Avro::Record(vec![("s".into(), Avro::String("y".into()))])),
                ),
            ),
        ]),
    );
}

#[test]
fn maps_keep_their_wire_order() {
    let json = r#"{"type":"map","values":"long"}"#;
    let entries: HashMap<String, Avro> =
        (0..20).map(|i| (format!("k{i}"), Avro::Long(i))).collect();
    let body = avro_encode(json, Avro::Map(entries));
    let c = codec(json);
    let v = c.decode(&body).unwrap();
    assert_eq!(
        c.encode_to_vec(&v).unwrap(),
        body,
        "re-encoded in the same order"
    );
    assert_eq!(c.to_avro(&v).unwrap(), avro_decode(json, &body));
}

#[test]
fn negative_block_counts_with_byte_sizes_decode() {
    // Two blocks: -2 items (with a byte size), then 1 item, then the end.
    let c = codec(r#"{"type":"array","items":"long"}"#);
    let body = [3, 4, 2, 4, 2, 6, 0];
    let v = c.decode(&body).unwrap();
    assert_eq!(
        v,
        Value::Array(vec![Value::Long(1), Value::Long(2), Value::Long(3)])
    );
    c.validate(&body).unwrap();
}

#[test]
fn recursive_types_compile_once_and_nest() {
    let json = r#"{"type":"record","name":"Node","fields":[
        {"name":"v","type":"int"},{"name":"next","type":["null","Node"]}]}"#;
    let c = codec(json);
    let list = Value::Record(vec![
        Value::Int(1),
        Value::Union(
            1,
            Box::new(Value::Record(vec![
                Value::Int(2),
                Value::Union(0, Box::new(Value::Null)),
            ])),
        ),
    ]);
    let body = c.encode_to_vec(&list).unwrap();
    assert_eq!(c.decode(&body).unwrap(), list);
    let avro = c.to_avro(&list).unwrap();
    assert_eq!(avro_encode(json, avro), body);
    let next = c.root().field_named("next").unwrap().1;
    assert_eq!(
        next.branches()[1].id(),
        c.root().id(),
        "the cycle is one node"
    );
}

#[test]
fn date_and_time_logical_types() {
    let cases: Vec<(&str, Value, Avro)> = vec![
        (
            r#"{"type":"int","logicalType":"date"}"#,
            Value::Int(19000),
            Avro::Date(19000),
        ),
        (
            r#"{"type":"int","logicalType":"time-millis"}"#,
            Value::Int(3_600_000),
            Avro::TimeMillis(3_600_000),
        ),
        (
            r#"{"type":"long","logicalType":"time-micros"}"#,
            Value::Long(3_600_000_000),
            Avro::TimeMicros(3_600_000_000),
        ),
        (
            r#"{"type":"long","logicalType":"timestamp-millis"}"#,
            Value::Long(1_700_000_000_000),
            Avro::TimestampMillis(1_700_000_000_000),
        ),
        (
            r#"{"type":"long","logicalType":"timestamp-micros"}"#,
            Value::Long(-1),
            Avro::TimestampMicros(-1),
        ),
        (
            r#"{"type":"long","logicalType":"timestamp-nanos"}"#,
            Value::Long(1),
            Avro::TimestampNanos(1),
        ),
        (
            r#"{"type":"long","logicalType":"local-timestamp-millis"}"#,
            Value::Long(2),
            Avro::LocalTimestampMillis(2),
        ),
        (
            r#"{"type":"long","logicalType":"local-timestamp-micros"}"#,
            Value::Long(3),
            Avro::LocalTimestampMicros(3),
        ),
        (
            r#"{"type":"long","logicalType":"local-timestamp-nanos"}"#,
            Value::Long(4),
            Avro::LocalTimestampNanos(4),
        ),
    ];
    for (json, v, avro) in cases {
        agree(json, v, avro);
    }
    let c = codec(r#"{"type":"long","logicalType":"timestamp-millis"}"#);
    assert!(matches!(c.root().kind(), Kind::Long));
    assert_eq!(c.root().logical(), Some(Logical::TimestampMillis));
}

#[test]
fn decimal_uuid_duration_logical_types() {
    let bytes_decimal = r#"{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}"#;
    agree(
        bytes_decimal,
        Value::Bytes(vec![0xff, 0x38]),
        Avro::Decimal(Decimal::from(vec![0xff, 0x38])),
    );
    assert_eq!(
        codec(bytes_decimal).root().logical(),
        Some(Logical::Decimal {
            precision: 9,
            scale: 2
        })
    );
    agree(
        r#"{"type":"fixed","name":"Money","size":4,"logicalType":"decimal","precision":8,"scale":2}"#,
        Value::Fixed(vec![0, 0, 0x30, 0x39]),
        Avro::Decimal(Decimal::from(vec![0, 0, 0x30, 0x39])),
    );
    let id = "550e8400-e29b-41d4-a716-446655440000";
    let uuid = Uuid::parse_str(id).unwrap();
    agree(
        r#"{"type":"string","logicalType":"uuid"}"#,
        Value::String(id.into()),
        Avro::Uuid(uuid),
    );
    agree(
        r#"{"type":"fixed","name":"U","size":16,"logicalType":"uuid"}"#,
        Value::Fixed(uuid.as_bytes().to_vec()),
        Avro::Uuid(uuid),
    );
    let d = Duration::new(Months::new(1), Days::new(2), Millis::new(3));
    let raw: [u8; 12] = d.into();
    agree(
        r#"{"type":"fixed","name":"D","size":12,"logicalType":"duration"}"#,
        Value::Fixed(raw.to_vec()),
        Avro::Duration(d),
    );
}

#[test]
fn big_decimal_keeps_its_bytes_and_converts() {
    let json = r#"{"type":"bytes","logicalType":"big-decimal"}"#;
    let big: apache_avro::BigDecimal = "-12.345".parse().unwrap();
    let body = avro_encode(json, Avro::BigDecimal(big.clone()));
    let c = codec(json);
    let v = c.decode(&body).unwrap();
    assert!(matches!(v, Value::Bytes(_)));
    assert_eq!(c.encode_to_vec(&v).unwrap(), body);
    assert_eq!(c.to_avro(&v).unwrap(), Avro::BigDecimal(big.clone()));
    assert_eq!(c.from_avro(&Avro::BigDecimal(big)).unwrap(), v);
}

#[test]
fn a_uuid_string_is_kept_as_written() {
    let c = codec(r#"{"type":"string","logicalType":"uuid"}"#);
    // Not a UUID: the codec keeps the underlying string; only the conversion checks it.
    let v = Value::String("not-a-uuid".into());
    let body = c.encode_to_vec(&v).unwrap();
    assert_eq!(c.decode(&body).unwrap(), v);
    assert!(c.to_avro(&v).unwrap_err().to_string().contains("uuid"));
}

#[test]
fn defaults_compile_for_every_type() {
    let c = codec(
        r#"{"type":"record","name":"D","fields":[
        {"name":"n","type":"null","default":null},
        {"name":"b","type":"boolean","default":true},
        {"name":"i","type":"int","default":-3},
        {"name":"l","type":"long","default":9000000000},
        {"name":"f","type":"float","default":1.5},
        {"name":"d","type":"double","default":"NaN"},
        {"name":"by","type":"bytes","default":"\u00ffA"},
        {"name":"s","type":"string","default":"x"},
        {"name":"fx","type":{"type":"fixed","name":"F2","size":2},"default":"ab"},
        {"name":"e","type":{"type":"enum","name":"E","symbols":["X","Y"]},"default":"Y"},
        {"name":"a","type":{"type":"array","items":"int"},"default":[1,2]},
        {"name":"m","type":{"type":"map","values":"long"},"default":{"k":1}},
        {"name":"u","type":["null","string"],"default":null},
        {"name":"r","type":{"type":"record","name":"In","fields":[
            {"name":"x","type":"int"},{"name":"y","type":"string","default":"dy"}]},
         "default":{"x":5}}]}"#,
    );
    let root = c.root();
    let d = |name: &str| {
        c.field_default(root.id(), root.field_index(name).unwrap())
            .cloned()
    };
    assert_eq!(d("n"), Some(Value::Null));
    assert_eq!(d("b"), Some(Value::Boolean(true)));
    assert_eq!(d("i"), Some(Value::Int(-3)));
    assert_eq!(d("l"), Some(Value::Long(9_000_000_000)));
    assert_eq!(d("f"), Some(Value::Float(1.5)));
    assert!(matches!(d("d"), Some(Value::Double(x)) if x.is_nan()));
    assert_eq!(d("by"), Some(Value::Bytes(vec![0xff, b'A'])));
    assert_eq!(d("s"), Some(Value::String("x".into())));
    assert_eq!(d("fx"), Some(Value::Fixed(b"ab".to_vec())));
    assert_eq!(d("e"), Some(Value::Enum(1)));
    assert_eq!(
        d("a"),
        Some(Value::Array(vec![Value::Int(1), Value::Int(2)]))
    );
    assert_eq!(d("m"), Some(Value::Map(vec![("k".into(), Value::Long(1))])));
    assert_eq!(d("u"), Some(Value::Union(0, Box::new(Value::Null))));
    assert_eq!(
        d("r"),
        Some(Value::Record(vec![
            Value::Int(5),
            Value::String("dy".into())
        ]))
    );
}

#[test]
fn names_and_paths_are_looked_up_in_the_schema() {
    let c = codec(
        r#"{"type":"record","name":"Order","namespace":"com.acme","fields":[
        {"name":"id","type":"string"},
        {"name":"customer","type":["null",{"type":"record","name":"Customer","fields":[
            {"name":"email","type":"string"}]}]},
        {"name":"status","type":{"type":"enum","name":"Status","symbols":["NEW","PAID"]}}]}"#,
    );
    let root = c.root();
    assert_eq!(root.name(), Some("com.acme.Order"));
    assert_eq!(root.field_index("status"), Some(2));
    let (_, status) = root.field_named("status").unwrap();
    assert_eq!(status.symbol_index("PAID"), Some(1));
    assert_eq!(status.name(), Some("com.acme.Status"));
    let v = Value::Record(vec![
        Value::String("o1".into()),
        Value::Union(
            1,
            Box::new(Value::Record(vec![Value::String("a@b.c".into())])),
        ),
        Value::Enum(1),
    ]);
    assert_eq!(
        c.lookup(&v, "customer.email").and_then(Value::as_str),
        Some("a@b.c")
    );
    assert_eq!(c.lookup(&v, "id").and_then(Value::as_str), Some("o1"));
    assert_eq!(c.lookup(&v, "nope"), None);
}

#[test]
fn referenced_schemas_resolve_by_full_name() {
    let address = r#"{"type":"record","name":"Address","namespace":"com.acme",
        "fields":[{"name":"city","type":"string"}]}"#;
    let order = r#"{"type":"record","name":"Order","namespace":"com.acme",
        "fields":[{"name":"ship_to","type":"Address"},{"name":"bill_to","type":"com.acme.Address"}]}"#;
    let c = Codec::parse(order, &[address]).unwrap();
    let v = Value::Record(vec![
        Value::Record(vec![Value::String("Lyon".into())]),
        Value::Record(vec![Value::String("Oslo".into())]),
    ]);
    let body = c.encode_to_vec(&v).unwrap();
    assert_eq!(c.decode(&body).unwrap(), v);
    let e = Codec::parse(order, &[]).unwrap_err();
    assert!(e.to_string().contains("Address"), "{e}");
}

#[test]
fn bare_values_go_to_the_first_fitting_union_branch() {
    let c = codec(r#"["null","string"]"#);
    let body = c.encode_to_vec(&Value::String("x".into())).unwrap();
    assert_eq!(
        c.decode(&body).unwrap(),
        Value::Union(1, Box::new(Value::String("x".into())))
    );
    assert_eq!(c.encode_to_vec(&Value::Null).unwrap(), [0]);
}
