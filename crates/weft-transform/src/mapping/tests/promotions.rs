//! Implicit same-name copies with Avro's promotions.

use super::*;

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
