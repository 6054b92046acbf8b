//! Simple conditions give exactly what VRL gives, on every value they decide.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use vrl::value::Value as VrlValue;
use weft_schema::codec::{Codec, Value};

use super::{Condition, ProgramEnv};
use crate::vrl_value::record_to_vrl;

const SCHEMA: &str = r#"{
  "type": "record", "name": "E",
  "fields": [
    {"name": "s", "type": "string"},
    {"name": "k", "type": {"type": "enum", "name": "K", "symbols": ["A", "B", "C"]}},
    {"name": "i", "type": "int"},
    {"name": "l", "type": "long"},
    {"name": "d", "type": "double"},
    {"name": "f", "type": "float"},
    {"name": "ns", "type": ["null", "string"], "default": null},
    {"name": "nl", "type": ["null", "long"], "default": null},
    {"name": "addr", "type": ["null", {"type": "record", "name": "Addr", "fields": [
      {"name": "city", "type": "string"}]}], "default": null},
    {"name": "multi", "type": ["null", "string", "long"], "default": null},
    {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}}
  ]
}"#;

/// Forms recognised as simple.
const SIMPLE: &[&str] = &[
    r#".s == "x""#,
    r#".s != "x""#,
    r#".k == "B""#,
    r#".k != "C""#,
    r#".k == "Z""#,
    ".i >= 3",
    ".i < -1",
    ".l > 90000",
    ".l <= 0",
    ".l == 7",
    ".d >= 1.5",
    ".d == 0.0",
    ".f < 2.5",
    r#".ns == "x""#,
    r#".ns != "x""#,
    ".nl == 5",
    r#".addr.city == "Paris""#,
    r#"includes(["Paris", "Rome"], .addr.city)"#,
    r#"includes(["x", "é"], .s)"#,
    r#"includes(["A", "C"], .k)"#,
    "includes([1, 7, 90000], .l)",
    "includes([], .s)",
    r#".s == "x" && .l > 5"#,
    r#".s == "x" || .l > 5 || .k == "A""#,
    r#".ns == "x" || .i >= 0"#,
];

/// Forms left to VRL.
const NOT_SIMPLE: &[&str] = &[
    ".d >= 1",
    ".l >= 1.5",
    r#".s > "a""#,
    r#".s == "a\"b""#,
    r#".s == "{x}""#,
    ".ts > 5",
    r#".multi == "x""#,
    r#".s == "x" && .l > 5 || .i == 1"#,
    r#"!includes(["x"], .s)"#,
    r#"(.s == "x")"#,
    ".l >= 1_000",
    r#"upcase(.s) == "X""#,
    r#"."s" == "x""#,
];

fn events() -> Vec<Value> {
    let strings = ["x", "é", "", "Paris"];
    let mut out = Vec::new();
    for n in 0..48u32 {
        let s = strings[n as usize % strings.len()].to_string();
        let long = [0i64, 5, 7, 90000, 90001, -3, i64::MAX, i64::MIN][n as usize % 8];
        let int = [0i32, 3, -1, -2, i32::MAX, i32::MIN][n as usize % 6];
        let d = [0.0f64, -0.0, 1.5, 1.4999, f64::NAN, f64::INFINITY][n as usize % 6];
        let f = [2.5f32, 2.4, -0.0, f32::NAN][n as usize % 4];
        let null_or = |v: Value, on: bool| {
            if on {
                Value::Union(1, Box::new(v))
            } else {
                Value::Union(0, Box::new(Value::Null))
            }
        };
        out.push(Value::Record(vec![
            Value::String(s.clone()),
            Value::Enum(n % 4), // 3 has no symbol
            Value::Int(int),
            Value::Long(long),
            Value::Double(d),
            Value::Float(f),
            null_or(Value::String(s.clone()), n % 3 != 0),
            null_or(Value::Long(i64::from(n % 7)), n % 2 == 0),
            null_or(
                Value::Record(vec![Value::String(
                    ["Paris", "Rome", "Berlin"][n as usize % 3].into(),
                )]),
                n % 5 != 0,
            ),
            Value::Union(0, Box::new(Value::Null)),
            Value::Long(1_700_000_000_000),
        ]));
    }
    out
}

#[test]
fn simple_conditions_agree_with_vrl() {
    let codec = Codec::parse(SCHEMA, &[]).unwrap();
    let env = ProgramEnv::default();
    let input = Some((&codec, codec.root().id()));
    let meta = VrlValue::Null;
    let mut decided = 0;
    for expr in SIMPLE {
        let c = Condition::compile(expr, input, &env).unwrap_or_else(|d| panic!("{expr}: {d:?}"));
        assert!(c.is_simple(), "{expr} should be simple");
        let mut hits = [0; 2];
        for e in events() {
            let vrl = c.matches(&record_to_vrl(&codec, &e), &meta);
            // `None`: VRL decides, nothing to compare.
            if let Some(b) = c.matches_value(&e) {
                decided += 1;
                hits[usize::from(b)] += 1;
                assert_eq!(vrl.as_ref().ok(), Some(&b), "{expr} on {e:?}");
            }
        }
        // Every condition was decided both ways by the simple form at least once, except the
        // ones that cannot be (an unknown symbol, an empty list).
        if !expr.contains("\"Z\"") && !expr.contains("[]") {
            assert!(hits[0] > 0 && hits[1] > 0, "{expr}: {hits:?}");
        }
    }
    assert!(decided > 800, "{decided}");
    for expr in NOT_SIMPLE {
        if let Ok(c) = Condition::compile(expr, input, &env) {
            assert!(!c.is_simple(), "{expr} should be left to VRL");
        }
    }
    // Without a schema nothing is simple.
    let c = Condition::compile(r#".s == "x""#, None, &env).unwrap();
    assert!(!c.is_simple());
}

#[test]
fn values_of_another_kind_are_left_to_vrl() {
    let codec = Codec::parse(SCHEMA, &[]).unwrap();
    let env = ProgramEnv::default();
    let input = Some((&codec, codec.root().id()));
    let e = &events()[0];
    let nan = {
        let Value::Record(mut f) = e.clone() else {
            unreachable!()
        };
        f[4] = Value::Double(f64::NAN);
        f[1] = Value::Enum(3);
        Value::Record(f)
    };
    let d = Condition::compile(".d >= 1.5", input, &env).unwrap();
    assert_eq!(d.matches_value(&nan), None);
    let k = Condition::compile(r#".k == "A""#, input, &env).unwrap();
    assert_eq!(k.matches_value(&nan), None);
    // A null on the path or at the field.
    let city = Condition::compile(r#".addr.city == "Paris""#, input, &env).unwrap();
    let no_addr = events()[0].clone(); // n = 0: addr is null
    assert_eq!(city.matches_value(&no_addr), None);
    assert_eq!(
        city.matches(&record_to_vrl(&codec, &no_addr), &VrlValue::Null),
        Ok(false)
    );
}
