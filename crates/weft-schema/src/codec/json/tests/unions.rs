//! JSON ↔ Avro of unions, nesting limits, and the errors' codes and classes.

use super::*;

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
    let before = super::super::seed::FALLBACKS.with(|n| n.get());
    for (c, j) in [(&order, &json), (&timestamps, &t)] {
        let raw = serde_json::value::to_raw_value(j).unwrap();
        let fast = c.from_json_raw(&raw, &JsonOptions::default()).unwrap();
        assert_eq!(fast, c.from_json(j, &JsonOptions::default()).unwrap());
    }
    assert_eq!(super::super::seed::FALLBACKS.with(|n| n.get()), before);
    let raw = serde_json::value::to_raw_value(&json!({"id": 5})).unwrap();
    let e = order
        .from_json_raw(&raw, &JsonOptions::default())
        .unwrap_err();
    assert_eq!(e.to_string(), "id: expected a string, got 5");
    assert_eq!(super::super::seed::FALLBACKS.with(|n| n.get()), before + 1);
}
