//! Compile-time checks against both schemas: every problem named, all of them listed.

use super::*;

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
