//! The benchmarked shape: a realistic twelve-field shop order mapped to the canonical order.

use super::*;

#[test]
fn realistic_twelve_field_record() {
    let m = compile(ORDER_MAPPING, SHOP_ORDER, ORDER).unwrap();
    let out = m.apply(&shop_order()).unwrap();
    assert_eq!(
        out,
        rec(vec![
            s("o-1001"),
            s("c-42"),
            Value::Double(12_550.0),
            Value::Long(3),
            some(1, s("ada@example.com")),
            s("************1234"),
            Value::Long(1_795_341_600_000),
            Value::Enum(1),
            s("SKU-9"),
            Value::Double(19.5),
            s("api"),
            Value::Int(2),
        ])
    );
    // The output encodes with the output schema.
    codec(ORDER).encode_to_vec(&out).unwrap();

    let names: Vec<&str> = m.explicit().iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "id",
            "customer_id",
            "amount",
            "card_number",
            "created_at",
            "sku_code",
            "channel",
            "schema_version"
        ]
    );
    let out_codec = codec(ORDER);
    for (i, e) in m.explicit().iter().enumerate() {
        assert_eq!(out_codec.root().fields()[e.index].name, e.name);
        assert_eq!(out_codec.root().fields()[e.index].node, e.node);
        assert_eq!(
            m.eval_field(i, &shop_order()).unwrap(),
            out.field(e.index).unwrap().clone()
        );
    }
    assert_eq!(m.dropped(), ["note"]);

    // A null email copies as null; a bad timestamp fails with the input path.
    let mut input = shop_order();
    input.as_record_mut().unwrap()[4] = null(0);
    input.as_record_mut().unwrap()[7] = s("yesterday");
    let err = m.apply(&input).unwrap_err();
    assert_eq!(err.code(), "cast_failed");
    assert_eq!(err.field, "created_at");
    assert_eq!(
        err.to_string(),
        r#"created_at: "yesterday" is not an RFC 3339 timestamp like 2026-11-22T10:00:00Z"#
    );
    input.as_record_mut().unwrap()[7] = s("2026-11-22T10:00:00Z");
    assert_eq!(m.apply(&input).unwrap().field(4), Some(&null(0)));
}
