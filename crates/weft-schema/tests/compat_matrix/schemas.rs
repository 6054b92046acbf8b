//! The schemas of the compatibility matrix: `com.acme.Order` and the fields its versions add,
//! change or drop.

/// `com.acme.Order` with `id` and the given extra fields.
pub fn order(fields: &[&str]) -> String {
    named_order("Order", "", fields)
}

pub fn named_order(name: &str, aliases: &str, fields: &[&str]) -> String {
    let mut all = vec![r#"{"name":"id","type":"string"}"#];
    all.extend_from_slice(fields);
    format!(
        r#"{{"type":"record","name":"{name}","namespace":"com.acme"{aliases},"fields":[{}]}}"#,
        all.join(",")
    )
}

pub const NOTE: &str = r#"{"name":"note","type":"string"}"#;
pub const NOTE_DEFAULT: &str = r#"{"name":"note","type":"string","default":""}"#;
pub const QTY_INT: &str = r#"{"name":"qty","type":"int"}"#;
pub const QTY_LONG: &str = r#"{"name":"qty","type":"long"}"#;
pub const QUANTITY_ALIAS_QTY: &str = r#"{"name":"quantity","aliases":["qty"],"type":"int"}"#;
pub const QUANTITY: &str = r#"{"name":"quantity","type":"int"}"#;
pub const BODY_STRING: &str = r#"{"name":"body","type":"string"}"#;
pub const BODY_BYTES: &str = r#"{"name":"body","type":"bytes"}"#;
pub const COUPON_OPTIONAL: &str = r#"{"name":"coupon","type":["null","string"],"default":null}"#;
pub const COUPON_NULLABLE_NO_DEFAULT: &str = r#"{"name":"coupon","type":["null","string"]}"#;
pub const CONTACT_2: &str = r#"{"name":"contact","type":["null","string"],"default":null}"#;
pub const CONTACT_3: &str = r#"{"name":"contact","type":["null","string","long"],"default":null}"#;
pub const TAGS_INT: &str = r#"{"name":"tags","type":{"type":"array","items":"int"}}"#;
pub const TAGS_LONG: &str = r#"{"name":"tags","type":{"type":"array","items":"long"}}"#;
pub const ATTRS_STRING: &str = r#"{"name":"attributes","type":{"type":"map","values":"string"}}"#;
pub const ATTRS_INT: &str = r#"{"name":"attributes","type":{"type":"map","values":"int"}}"#;
pub const ATTRS_LONG: &str = r#"{"name":"attributes","type":{"type":"map","values":"long"}}"#;
pub const HASH_16: &str = r#"{"name":"hash","type":{"type":"fixed","name":"Hash","size":16}}"#;
pub const HASH_32: &str = r#"{"name":"hash","type":{"type":"fixed","name":"Hash","size":32}}"#;
pub const PLACED_MILLIS: &str =
    r#"{"name":"placed","type":{"type":"long","logicalType":"timestamp-millis"}}"#;
pub const PLACED_MICROS: &str =
    r#"{"name":"placed","type":{"type":"long","logicalType":"timestamp-micros"}}"#;
pub const PLACED_STRING: &str = r#"{"name":"placed","type":"string"}"#;

pub fn status(symbols: &str, default: Option<&str>) -> String {
    let default = default
        .map(|d| format!(r#","default":"{d}""#))
        .unwrap_or_default();
    format!(
        r#"{{"name":"status","type":{{"type":"enum","name":"Status","symbols":[{symbols}]{default}}}}}"#
    )
}

pub fn customer(fields: &str) -> String {
    format!(
        r#"{{"name":"customer","type":{{"type":"record","name":"Customer","fields":[
            {{"name":"name","type":"string"}}{fields}]}}}}"#
    )
}

/// A recursive linked list `com.acme.Node`.
pub fn node(value: &str, extra: &str) -> String {
    format!(
        r#"{{"type":"record","name":"Node","namespace":"com.acme","fields":[
            {{"name":"value","type":"{value}"}},
            {{"name":"next","type":["null","Node"],"default":null}}{extra}]}}"#
    )
}
