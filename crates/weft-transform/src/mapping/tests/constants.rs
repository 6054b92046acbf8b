//! Constants and defaults converted to the output field's type.

use super::*;

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
