#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::{TimeZone as _, Utc};
use sha2::Digest as _;
use vrl::value;
use vrl::value::Value as VrlValue;
use weft_core::Headers;
use weft_schema::codec::{Codec, JsonOptions, Value};

use super::*;

fn field<'a>(v: &'a VrlValue, name: &str) -> Option<&'a VrlValue> {
    v.as_object().and_then(|o| o.get(name))
}
use crate::vrl_value::{record_from_vrl, record_to_vrl};

const INPUT: &str = r#"{
  "type": "record", "name": "Order",
  "fields": [
    {"name": "id", "type": "string"},
    {"name": "country", "type": "string"},
    {"name": "amount_cents", "type": "long"},
    {"name": "qty", "type": "int"},
    {"name": "email", "type": ["null", "string"], "default": null},
    {"name": "created_at", "type": {"type": "long", "logicalType": "timestamp-millis"}}
  ]
}"#;

const OUTPUT: &str = r#"{
  "type": "record", "name": "CanonicalOrder",
  "fields": [
    {"name": "order_id", "type": "string"},
    {"name": "amount", "type": "double"},
    {"name": "day", "type": "string"},
    {"name": "channel", "type": "string", "default": "web"},
    {"name": "email_hash", "type": ["null", "string"], "default": null}
  ]
}"#;

fn codec(schema: &str) -> Codec {
    Codec::parse(schema, &[]).unwrap()
}

fn input_event(c: &Codec) -> VrlValue {
    let v = c
        .from_json(
            &serde_json::json!({
                "id": "o-1", "country": "US", "amount_cents": 150000, "qty": 2,
                "email": "Ann@Example.com", "created_at": "2026-01-01T03:00:00Z"
            }),
            &JsonOptions::default(),
        )
        .unwrap();
    record_to_vrl(c, &v)
}

fn metadata() -> VrlValue {
    let mut headers = Headers::new();
    headers.push("trace", Some(vrl::prelude::Bytes::from_static(b"abc")));
    headers.push("empty", None);
    kafka_metadata(
        "orders.raw",
        3,
        42,
        Some(1_767_236_400_000),
        Some(b"o-1"),
        &headers,
    )
}

fn compile(source: &str) -> Result<Program, Vec<Diagnostic>> {
    let c = codec(INPUT);
    Program::compile(source, Some((&c, c.root().id())), &ProgramEnv::default())
}

fn run(source: &str) -> Result<Outcome, ProgramError> {
    let c = codec(INPUT);
    let program = Program::compile(source, Some((&c, c.root().id())), &ProgramEnv::default())
        .unwrap_or_else(|d| panic!("{source}: {d:?}"));
    program.run(input_event(&c), metadata())
}

fn event(source: &str) -> VrlValue {
    match run(source).unwrap() {
        Outcome::Event(v) => v,
        Outcome::Dropped => panic!("dropped"),
    }
}

#[test]
fn a_program_maps_one_schema_to_another() {
    let input = codec(INPUT);
    let output = codec(OUTPUT);
    let program = Program::compile(
        r#"
        .order_id = del(.id)
        .amount = .amount_cents / 100
        .day = format_timestamp!(.created_at, "%Y-%m-%d", timezone: "America/New_York")
        if .email != null { .email_hash = sha2(downcase!(.email)) }
        "#,
        Some((&input, input.root().id())),
        &ProgramEnv::default(),
    )
    .unwrap();
    assert!(
        program.output_problems(&output).is_empty(),
        "{:?}",
        program.output_problems(&output)
    );
    let Outcome::Event(out) = program.run(input_event(&input), metadata()).unwrap() else {
        panic!("dropped")
    };
    let hash = hex::encode(sha2::Sha512_256::digest(b"ann@example.com"));
    assert_eq!(
        record_from_vrl(&output, &out).unwrap(),
        Value::Record(vec![
            Value::String("o-1".into()),
            Value::Double(1500.0),
            Value::String("2025-12-31".into()),
            Value::String("web".into()),
            Value::Union(1, Box::new(Value::String(hash))),
        ])
    );
}

#[test]
fn compile_errors_have_line_and_column() {
    let source = ".a = 1\n.b = upcase(.amount_cents)\n";
    let errors = compile(source).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!((errors[0].line, errors[0].column), (2, 13), "{}", errors[0]);
    assert_eq!(
        errors[0].message,
        r#"invalid argument type: this expression resolves to the exact type integer; but the parameter "value" expects the exact type string"#
    );
    assert!(errors[0].to_string().starts_with("line 2, column 13: "));
    assert!(!errors[0].message.contains('\n'));

    let errors = compile(".a = 1\n\n  .b = nope(.id)").unwrap_err();
    assert_eq!((errors[0].line, errors[0].column), (3, 8), "{}", errors[0]);
    assert!(
        errors[0].message.contains("undefined function"),
        "{}",
        errors[0]
    );

    let errors = compile(".a = \"ü\" +\n.b = (").unwrap_err();
    assert_eq!(errors[0].line, 2, "{}", errors[0]);

    // A fallible call without `!` or handling.
    let errors = compile(".t = parse_timestamp(.id, \"%+\")").unwrap_err();
    assert!(errors[0].message.contains("unhandled"), "{}", errors[0]);

    // Without the input schema `.amount_cents` is `any`: upcase needs handling, not a type.
    let untyped = Program::compile(
        ".b = upcase(.amount_cents) ?? \"\"",
        None,
        &ProgramEnv::default(),
    );
    assert!(untyped.is_ok());
}

#[test]
fn abort_drops_and_errors_are_program_errors() {
    assert_eq!(
        run("if .amount_cents > 100 { abort }").unwrap(),
        Outcome::Dropped
    );
    assert!(matches!(
        run("if .amount_cents < 0 { abort }").unwrap(),
        Outcome::Event(_)
    ));
    let e = run(r#"assert!(.qty > 5, "qty too small")"#).unwrap_err();
    assert_eq!(e.code, "program_error");
    assert!(e.message.contains("qty too small"), "{e}");
    let e = run(".a = 1\n.n = to_int!(.country)").unwrap_err();
    assert_eq!(
        e.message,
        r#"function call error for "to_int" at line 2, column 6: Invalid integer "US": invalid digit found in string"#
    );
    assert!(!e.message.contains('\n'));
    // `return` ends the program keeping the event.
    let v = event(".a = 1\nreturn true\n");
    assert_eq!(field(&v, "a"), Some(&value!(1)));
}

#[test]
fn metadata_is_readable() {
    let v = event(
        r#"
        .topic = %kafka.topic
        .partition = %kafka.partition
        .offset = %kafka.offset
        .key = %kafka.key
        .trace = %kafka.headers.trace
        .empty = %kafka.headers.empty
        .ts = %kafka.timestamp
        "#,
    );
    assert_eq!(field(&v, "topic"), Some(&value!("orders.raw")));
    assert_eq!(field(&v, "partition"), Some(&value!(3)));
    assert_eq!(field(&v, "offset"), Some(&value!(42)));
    assert_eq!(field(&v, "key"), Some(&value!("o-1")));
    assert_eq!(field(&v, "trace"), Some(&value!("abc")));
    assert_eq!(field(&v, "empty"), Some(&value!(null)));
    assert_eq!(
        field(&v, "ts"),
        Some(&VrlValue::Timestamp(
            Utc.with_ymd_and_hms(2026, 1, 1, 3, 0, 0).unwrap()
        ))
    );
    assert!(compile(".t = %kafka.topic").unwrap().uses_metadata());
    assert!(compile("%seen = true").unwrap().uses_metadata());
    assert!(compile(".t = exists(%kafka.key)").unwrap().uses_metadata());
    assert!(!compile(".t = .id").unwrap().uses_metadata());
    let env = ProgramEnv::default();
    assert!(Condition::compile("%kafka.partition == 1", None, &env)
        .unwrap()
        .uses_metadata());
    assert!(!Condition::compile(".a == 1", None, &env)
        .unwrap()
        .uses_metadata());
    // The metadata's type is known: the partition is an integer.
    assert!(compile(".x = upcase(%kafka.partition)").is_err());
    assert!(compile(".x = %kafka.partition + 1").is_ok());
}

#[test]
fn time_zones() {
    let v = event(
        r#".d = format_timestamp!(.created_at, "%Y-%m-%d %H:%M", timezone: "America/New_York")"#,
    );
    assert_eq!(field(&v, "d"), Some(&value!("2025-12-31 22:00")));
    // The default time zone applies to parsing without an offset.
    let env = ProgramEnv::new(Arc::new(Tables::empty()), Some("Europe/Berlin")).unwrap();
    assert_eq!(env.timezone(), "Europe/Berlin");
    let p = Program::compile(
        r#".t = parse_timestamp!("2026-01-01 00:00:00", "%Y-%m-%d %H:%M:%S")"#,
        None,
        &env,
    )
    .unwrap();
    let Outcome::Event(v) = p.run(value!({}), value!({})).unwrap() else {
        panic!()
    };
    assert_eq!(
        field(&v, "t"),
        Some(&VrlValue::Timestamp(
            Utc.with_ymd_and_hms(2025, 12, 31, 23, 0, 0).unwrap()
        ))
    );
    // UTC by default.
    let p = Program::compile(
        r#".t = parse_timestamp!("2026-01-01 00:00:00", "%Y-%m-%d %H:%M:%S")"#,
        None,
        &ProgramEnv::default(),
    )
    .unwrap();
    let Outcome::Event(v) = p.run(value!({}), value!({})).unwrap() else {
        panic!()
    };
    assert_eq!(
        field(&v, "t"),
        Some(&VrlValue::Timestamp(
            Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
        ))
    );
    let e = ProgramEnv::new(Arc::new(Tables::empty()), Some("Mars/Olympus")).unwrap_err();
    assert!(e.contains("Mars/Olympus"), "{e}");
    assert!(ProgramEnv::new(Arc::new(Tables::empty()), Some("local")).is_err());
}

#[test]
fn hashing_with_vrl_functions() {
    let v = event(
        r#"
        .h = sha2(.id)
        .h256 = sha2(.id, variant: "SHA-256")
        .mac = encode_base16(hmac(.id, "secret", algorithm: "SHA-256"))
        "#,
    );
    assert_eq!(
        field(&v, "h"),
        Some(&value!(hex::encode(sha2::Sha512_256::digest(b"o-1"))))
    );
    assert_eq!(
        field(&v, "h256"),
        Some(&value!(hex::encode(sha2::Sha256::digest(b"o-1"))))
    );
    use hmac::Mac as _;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"secret").unwrap();
    mac.update(b"o-1");
    assert_eq!(
        field(&v, "mac"),
        Some(&value!(hex::encode(mac.finalize().into_bytes())))
    );
}

#[test]
fn output_problems_are_certain_mismatches_only() {
    let input = codec(INPUT);
    let output = codec(OUTPUT);
    let problems = |source: &str| {
        Program::compile(
            source,
            Some((&input, input.root().id())),
            &ProgramEnv::default(),
        )
        .unwrap()
        .output_problems(&output)
    };
    // amount is a string, order_id and day are never set.
    let p = problems(r#".amount = "x""#);
    assert_eq!(
        p,
        vec![
            "field order_id: the program never sets it and the output schema has no default for it (it wants a string)",
            "field amount: the program sets a string, the output schema wants a double",
            "field day: the program never sets it and the output schema has no default for it (it wants a string)",
        ]
    );
    // Integers are fine for a double; channel has a default; email_hash takes null.
    assert!(problems(".order_id = .id\n.amount = .amount_cents\n.day = \"d\"").is_empty());
    // A type that could be right is not reported.
    assert!(problems(
        ".order_id = .id\n.amount = if .qty > 1 { \"x\" } else { 1.5 }\n.day = \"d\""
    )
    .is_empty());
    // A field the program may set to the wrong type on one path only is not certain either,
    // but one it always sets wrongly is.
    let p = problems(".order_id = .id\n.amount = 1.0\n.day = now()\n.channel = 5");
    assert_eq!(
        p,
        vec![
            "field day: the program sets a timestamp, the output schema wants a string",
            "field channel: the program sets an integer, the output schema wants a string",
        ]
    );
    // Without the input schema nothing is known, so nothing is reported.
    let untyped = Program::compile(".x = 1", None, &ProgramEnv::default()).unwrap();
    assert!(untyped.output_problems(&output).is_empty());
}

#[test]
fn nested_output_records_are_checked() {
    let output = codec(
        r#"{"type":"record","name":"O","fields":[
            {"name":"customer","type":{"type":"record","name":"C","fields":[
                {"name":"email","type":"string"}]}}]}"#,
    );
    let p = Program::compile(".customer = {\"email\": 5}", None, &ProgramEnv::default()).unwrap();
    assert_eq!(
        p.output_problems(&output),
        vec!["field customer.email: the program sets an integer, the output schema wants a string"]
    );
}

#[test]
fn conditions() {
    let c = codec(INPUT);
    let env = ProgramEnv::default();
    let input = Some((&c, c.root().id()));
    let event = input_event(&c);
    let meta = metadata();
    let cond = |expr: &str| {
        Condition::compile(expr, input, &env).unwrap_or_else(|d| panic!("{expr}: {d:?}"))
    };
    assert!(cond(r#".country == "US" && .amount_cents >= 100000"#)
        .matches(&event, &meta)
        .unwrap());
    assert!(!cond(r#".country == "DE""#).matches(&event, &meta).unwrap());
    assert!(cond(r#"%kafka.topic == "orders.raw""#)
        .matches(&event, &meta)
        .unwrap());
    assert!(cond(r#"x = .qty * 2; x == 4"#)
        .matches(&event, &meta)
        .unwrap());
    // Not boolean: refused at compile time.
    let e = Condition::compile(".country", input, &env).unwrap_err();
    assert!(e[0].message.contains("boolean"), "{e:?}");
    assert!(e[0].message.contains("a string"), "{e:?}");
    // Changing the event: refused at compile time.
    let e = Condition::compile(".country = \"x\"; true", input, &env).unwrap_err();
    assert!(e[0].message.contains("read-only"), "{e:?}");
    let e = Condition::compile("del(.country) == \"x\"", input, &env).unwrap_err();
    assert!(!e.is_empty());
    // Type unknown at compile time and not boolean at run time: an error.
    let any = Condition::compile(".flag", None, &env).unwrap();
    let e = any.matches(&value!({"flag": "yes"}), &meta).unwrap_err();
    assert_eq!(
        e.message,
        r#"the route condition gave a string "yes", not a boolean"#
    );
    assert!(any.matches(&value!({"flag": true}), &meta).unwrap());
    // Runtime errors.
    let f = Condition::compile("to_int!(.flag) > 3", None, &env).unwrap();
    assert!(f.matches(&value!({"flag": "x"}), &meta).is_err());
    assert!(f.matches(&value!({"flag": "7"}), &meta).unwrap());
    // The event is unchanged and was not needed by value.
    assert_eq!(event, input_event(&c));
}

#[test]
fn compiled_things_can_be_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Program>();
    assert_send_sync::<Condition>();
    assert_send_sync::<ProgramEnv>();
    assert_send_sync::<Tables>();
    assert_send_sync::<ProgramError>();
    assert_send_sync::<crate::vrl_value::ConvertError>();
}

/// Rough per-record costs; run with
/// `cargo test --release -p weft-transform --lib -- --ignored --nocapture per_record_costs`.
#[test]
#[ignore = "timing, run by hand in release mode"]
fn per_record_costs() {
    let input = codec(INPUT);
    let output = codec(OUTPUT);
    let env = ProgramEnv::default();
    let value = input
        .from_json(
            &serde_json::json!({
                "id": "o-1", "country": "US", "amount_cents": 150000, "qty": 2,
                "email": "Ann@Example.com", "created_at": "2026-01-01T03:00:00Z"
            }),
            &JsonOptions::default(),
        )
        .unwrap();
    let program = Program::compile(
        ".order_id = del(.id)\n.amount = .amount_cents / 100\n.day = format_timestamp!(.created_at, \"%Y-%m-%d\")\n.email_hash = sha2(.email || \"\")",
        Some((&input, input.root().id())),
        &env,
    )
    .unwrap();
    let noop = Program::compile(".", Some((&input, input.root().id())), &env).unwrap();
    let cond = Condition::compile(
        r#".country == "US" && .amount_cents >= 100000"#,
        Some((&input, input.root().id())),
        &env,
    )
    .unwrap();
    let meta = metadata();
    let n = 200_000;
    let time = |name: &str, f: &mut dyn FnMut()| {
        let start = std::time::Instant::now();
        for _ in 0..n {
            f();
        }
        println!("{name}: {:?} per record", start.elapsed() / n);
    };
    time("to_vrl", &mut || {
        std::hint::black_box(record_to_vrl(&input, &value));
    });
    let event = record_to_vrl(&input, &value);
    time("condition", &mut || {
        std::hint::black_box(cond.matches(&event, &meta).unwrap());
    });
    time("metadata", &mut || {
        std::hint::black_box(metadata());
    });
    time("no-op program", &mut || {
        std::hint::black_box(noop.run(event.clone(), meta.clone()).unwrap());
    });
    time("program", &mut || {
        std::hint::black_box(program.run(event.clone(), meta.clone()).unwrap());
    });
    let Outcome::Event(out) = program.run(event.clone(), meta.clone()).unwrap() else {
        panic!()
    };
    time("from_vrl", &mut || {
        std::hint::black_box(record_from_vrl(&output, &out).unwrap());
    });
    time("clone event", &mut || {
        std::hint::black_box(event.clone());
    });
}
