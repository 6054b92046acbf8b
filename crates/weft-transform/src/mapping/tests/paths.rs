//! Nested input paths (moves out of records and unions).

use super::*;

#[test]
fn nested_paths_with_null_parents() {
    let input = r#"{"name":"customer","type":["null",{"type":"record","name":"C","fields":[
        {"name":"address","type":["null",{"type":"record","name":"A","fields":[
            {"name":"country","type":["null","string"]},
            {"name":"zip","type":"int"}]}]}]}]}"#;
    let m = compile(
        r#"[transform.fields]
        country = { from = "customer.address.country", default = "ZZ" }
        zip = "customer.address.zip"
        "#,
        input,
        r#"{"name":"country","type":"string"},{"name":"zip","type":["null","long"]}"#,
    )
    .unwrap();
    let address =
        |country: Value, zip| some(1, rec(vec![some(1, rec(vec![country, Value::Int(zip)]))]));
    assert_eq!(
        m.apply(&rec(vec![address(some(1, s("FR")), 69001)]))
            .unwrap(),
        rec(vec![s("FR"), some(1, Value::Long(69001))])
    );
    assert_eq!(
        m.apply(&rec(vec![address(null(0), 75001)])).unwrap(),
        rec(vec![s("ZZ"), some(1, Value::Long(75001))])
    );
    // A null address, and a null customer.
    assert_eq!(
        m.apply(&rec(vec![some(1, rec(vec![null(0)]))])).unwrap(),
        rec(vec![s("ZZ"), null(0)])
    );
    assert_eq!(
        m.apply(&rec(vec![null(0)])).unwrap(),
        rec(vec![s("ZZ"), null(0)])
    );
}

#[test]
fn input_that_does_not_fit_the_schema_never_panics() {
    let m = compile(ORDER_MAPPING, SHOP_ORDER, ORDER).unwrap();
    let err = m.apply(&Value::Long(1)).unwrap_err();
    assert_eq!(err.code(), "input_mismatch");
    assert_eq!(
        err.message,
        "the input is a long, not a record of the input schema"
    );
    let err = m.apply(&rec(vec![])).unwrap_err();
    assert_eq!(err.code(), "input_mismatch");
    let mut input = shop_order();
    input.as_record_mut().unwrap()[2] = s("not a long");
    let err = m.apply(&input).unwrap_err();
    assert_eq!(err.code(), "input_mismatch");
    assert_eq!(err.field, "amount");
    assert_eq!(
        err.message,
        "amount_cents: expected a number, got a string (the value does not fit the input schema)"
    );
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert_eq!(Classify::code(&err), ErrorCode::TransformFailed);
    assert!(m.eval_field(99, &shop_order()).is_err());
    assert!(m.eval_field(0, &Value::Null).is_err());
}

#[test]
fn null_error_message() {
    // Compilation refuses the cases that could reach it; the run-time message is still
    // defined for input that breaks the schema.
    let slot = Slot {
        name: "email_hash".into(),
        source: Source::Read(Box::new(Read {
            steps: Box::new([0]),
            body: Body::Conv(Conv::Clone),
            on_null: None,
            check_null: true,
            path: "email".into(),
        })),
    };
    let err = *slot.push(&[Value::Null], &mut Vec::new()).unwrap_err();
    assert_eq!(err.code(), "null_not_allowed");
    assert_eq!(err.input.as_deref(), Some("email"));
    assert_eq!(
        err.to_string(),
        "email: null, and output field email_hash has no default"
    );
}
