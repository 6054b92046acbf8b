//! Explicit casts between scalar types, temporal and UUID ones included.

use super::*;

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
