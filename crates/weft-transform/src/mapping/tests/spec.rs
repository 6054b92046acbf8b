//! The `[transform.fields]` forms serde accepts and the ones it refuses.

use super::*;

#[test]
fn spec_forms() {
    let sp = spec(
        r#"
        [transform]
        drop = ["note"]
        [transform.fields]
        id = "order_id"
        amount = { from = "amount_cents", cast = "double", default = 0.5 }
        channel = { value = "api" }
        card = { from = "card_number", mask = "keep_last_4" }
        at = { value = 2026-11-22T10:00:00Z }
        day = { value = 2026-11-22 }
        tags = { value = ["a", 1, true] }
        addr = { value = { city = "Lyon", zip = 69001 } }
        "#,
    );
    assert_eq!(sp.drop, ["note"]);
    assert_eq!(sp.fields["id"], FieldSource::path("order_id"));
    assert_eq!(
        sp.fields["amount"],
        FieldSource {
            from: Some("amount_cents".into()),
            cast: Some("double".into()),
            default: Some(Constant::Float(0.5)),
            ..FieldSource::default()
        }
    );
    assert_eq!(
        sp.fields["channel"],
        FieldSource::constant(Constant::String("api".into()))
    );
    assert_eq!(sp.fields["card"].mask.as_deref(), Some("keep_last_4"));
    assert_eq!(
        sp.fields["at"].value,
        Some(Constant::String("2026-11-22T10:00:00Z".into()))
    );
    assert_eq!(
        sp.fields["day"].value,
        Some(Constant::String("2026-11-22".into()))
    );
    assert_eq!(
        sp.fields["tags"].value,
        Some(Constant::Array(vec![
            Constant::String("a".into()),
            Constant::Integer(1),
            Constant::Boolean(true)
        ]))
    );
    let mut addr = BTreeMap::new();
    addr.insert("city".to_string(), Constant::String("Lyon".into()));
    addr.insert("zip".to_string(), Constant::Integer(69001));
    assert_eq!(sp.fields["addr"].value, Some(Constant::Table(addr)));
    assert_eq!(
        Constant::Array(vec![Constant::String("a".into()), Constant::Float(1.0)]).to_string(),
        r#"["a", 1.0]"#
    );

    // Empty table, and JSON works too (with null).
    assert_eq!(spec("[transform]"), MappingSpec::default());
    let j: MappingSpec = serde_json::from_str(r#"{"fields":{"x":{"value":[null, 1.5]}}}"#).unwrap();
    assert_eq!(
        j.fields["x"].value,
        Some(Constant::Array(vec![Constant::Null, Constant::Float(1.5)]))
    );
}

#[test]
fn spec_refuses_unknown_keys_and_bad_shapes() {
    let err = toml::from_str::<Flow>("[transform.fields]\nx = { fromm = \"y\" }")
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown field `fromm`"), "{err}");
    let err = toml::from_str::<Flow>("[transform]\nfeilds = {}")
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown field `feilds`"), "{err}");
    let err = toml::from_str::<Flow>("[transform.fields]\nx = 5")
        .unwrap_err()
        .to_string();
    assert!(err.contains("an input field path"), "{err}");
}
