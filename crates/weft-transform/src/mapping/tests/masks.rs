//! Masks of PII fields: sha256, redact, keep_last_N.

use super::*;

#[test]
fn masks() {
    let st = r#""string""#;
    let mask =
        |m: &str, v: &str| one(st, st, &format!(r#"from = "a", mask = "{m}""#), s(v)).unwrap();
    assert_eq!(
        mask("sha256", "abc"),
        s("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
    assert_eq!(
        mask("keep_last_4", "4111111111111234"),
        s("************1234")
    );
    assert_eq!(mask("keep_last_2", "héllo"), s("***lo"));
    assert_eq!(mask("keep_last_4", "123"), s("123"));
    assert_eq!(mask("keep_last_0", "abc"), s("***"));
    assert_eq!(mask("redact", "secret"), s("[redacted]"));
    // After a cast to string.
    assert_eq!(
        one(
            r#""long""#,
            st,
            r#"from = "a", cast = "string", mask = "keep_last_2""#,
            Value::Long(123_456)
        )
        .unwrap(),
        s("****56")
    );
    // Nullable: null stays null (or takes the default, unmasked); values are masked and wrapped.
    let nullable = r#"["null","string"]"#;
    assert_eq!(
        one(
            nullable,
            nullable,
            r#"from = "a", mask = "redact""#,
            null(0)
        )
        .unwrap(),
        null(0)
    );
    assert_eq!(
        one(
            nullable,
            nullable,
            r#"from = "a", mask = "redact""#,
            some(1, s("x"))
        )
        .unwrap(),
        some(1, s("[redacted]"))
    );
    assert_eq!(
        one(
            nullable,
            st,
            r#"from = "a", mask = "sha256", default = "none""#,
            null(0)
        )
        .unwrap(),
        s("none")
    );
    assert_eq!(Mask::parse("keep_last_12"), Some(Mask::KeepLast(12)));
    assert_eq!(Mask::parse("keep_last_x"), None);
    assert_eq!(Mask::parse("keep_last_+1"), None);
    assert_eq!(Mask::parse("SHA256"), None);
}
