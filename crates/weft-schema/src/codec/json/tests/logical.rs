//! JSON ↔ Avro of logical types: timestamps, dates and times, UUIDs, decimals, durations.

use super::*;

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
