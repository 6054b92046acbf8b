use super::codec;
use crate::codec::{DecodeErrorKind as K, EncodeErrorKind, Value, MAX_DEPTH};

const ORDER: &str = r#"{"type":"record","name":"Order","fields":[
    {"name":"id","type":"string"},
    {"name":"customer","type":{"type":"record","name":"Customer","fields":[
        {"name":"email","type":"string"}]}},
    {"name":"lines","type":{"type":"array","items":{"type":"record","name":"Line","fields":[
        {"name":"sku","type":"string"},{"name":"qty","type":"int"}]}}},
    {"name":"tags","type":{"type":"map","values":{"type":"enum","name":"T","symbols":["A","B"]}}},
    {"name":"paid","type":"boolean"}]}"#;

fn order_prefix() -> Vec<u8> {
    // id: 16 × 'a', so the customer's email starts at byte 17.
    let mut b = vec![32];
    b.extend_from_slice(&[b'a'; 16]);
    b
}

/// Both decode and validate fail the same way; returns decode's message.
fn fails(body: &[u8]) -> String {
    let c = codec(ORDER);
    let d = c.decode(body).unwrap_err();
    let v = c.validate(body).unwrap_err();
    assert_eq!(d, v, "decode and validate disagree");
    d.to_string()
}

#[test]
fn a_negative_string_length_names_the_field_and_byte() {
    let mut b = order_prefix();
    b.push(5); // zigzag -3
    assert_eq!(
        fails(&b),
        "at customer.email (byte 17): string length -3 is negative"
    );
}

#[test]
fn truncation_says_how_much_was_missing() {
    let mut b = order_prefix();
    b.extend_from_slice(&[20, b'x', b'y']); // a 10-byte string with 2 bytes left
    assert_eq!(
        fails(&b),
        "at customer.email (byte 17): string needs 10 bytes but only 2 remain"
    );
    let b = order_prefix();
    assert_eq!(
        fails(&b),
        "at customer.email (byte 17): a variable-length integer runs past the end of the data"
    );
}

#[test]
fn errors_inside_arrays_and_maps_name_the_item() {
    let mut b = order_prefix();
    b.extend_from_slice(&[2, b'e']); // email "e"
                                     // lines: 2 items; the second has a qty out of the int range
    b.extend_from_slice(&[4, 2, b's', 2, 2, b't']);
    b.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x10]); // 2^31 zigzagged
    assert!(
        fails(&b).starts_with(
            "at lines[1].qty (byte 25): int value 2147483648 is out of the 32-bit range"
        ),
        "{}",
        fails(&b)
    );
    let mut b = order_prefix();
    b.extend_from_slice(&[2, b'e', 0]); // email, no lines
    b.extend_from_slice(&[2, 2, b'k', 4]); // tags: {"k": symbol 2 of 2}
    assert_eq!(
        fails(&b),
        "at tags[\"k\"] (byte 23): enum index 2 is out of range: the enum has 2 symbols"
    );
}

#[test]
fn every_kind_of_bad_byte_is_named() {
    let mut ok = order_prefix();
    ok.extend_from_slice(&[2, b'e', 0, 0]);
    let mut b = ok.clone();
    b.push(2);
    assert_eq!(
        fails(&b),
        "at paid (byte 21): boolean byte is 0x02, not 0 or 1"
    );
    let mut b = ok.clone();
    b.extend_from_slice(&[1, 9, 9]);
    assert_eq!(
        fails(&b),
        "at the top level (byte 22): the value ends 2 bytes before the end of the body"
    );
    let mut b = vec![4, 0xc3, 0x28];
    b.push(0);
    assert_eq!(
        fails(&b),
        "at id (byte 0): string is not valid UTF-8 (first bad byte at string offset 0)"
    );
    let b = [0xff; 11];
    assert_eq!(
        fails(&b),
        "at id (byte 0): a variable-length integer is longer than 10 bytes or overflows 64 bits"
    );
    let mut b = order_prefix();
    b.extend_from_slice(&[2, b'e', 0xd0, 0x0f, 1]); // 1000 lines in 1 byte
    assert_eq!(
        fails(&b),
        "at lines (byte 19): array block claims 1000 items; at least 2000 bytes would be needed but only 1 remain"
    );
}

#[test]
fn union_branch_and_empty_items_are_bounded() {
    let c = codec(r#"["null","long"]"#);
    assert_eq!(
        c.decode(&[4]).unwrap_err().to_string(),
        "at the top level (byte 0): union branch 2 is out of range: the union has 2 branches"
    );
    let nulls = codec(r#"{"type":"array","items":"null"}"#);
    assert_eq!(
        nulls.decode(&[6, 0]).unwrap(),
        Value::Array(vec![Value::Null; 3])
    );
    // 2^21 nulls claimed in 4 bytes.
    let e = nulls.decode(&[0x80, 0x80, 0x80, 0x02, 0]).unwrap_err();
    assert!(matches!(e.kind(), K::TooManyEmptyItems(2_097_152)), "{e}");
    assert!(nulls.validate(&[0x80, 0x80, 0x80, 0x02, 0]).is_err());
}

#[test]
fn hostile_nesting_stops_at_the_depth_limit() {
    let c = codec(r#"{"type":"record","name":"N","fields":[{"name":"next","type":["null","N"]}]}"#);
    let mut deep = vec![2u8; 10_000];
    deep.push(0);
    let e = c.decode(&deep).unwrap_err();
    assert!(matches!(e.kind(), K::TooDeep(MAX_DEPTH)), "{e}");
    assert!(c.validate(&deep).is_err());
    let mut shallow = vec![2u8; 50];
    shallow.push(0);
    c.decode(&shallow).unwrap();
}

#[test]
fn encode_errors_name_the_field_and_what_was_expected() {
    let c = codec(ORDER);
    let good = || {
        Value::Record(vec![
            Value::String("o".into()),
            Value::Record(vec![Value::String("e".into())]),
            Value::Array(vec![Value::Record(vec![
                Value::String("s".into()),
                Value::Int(1),
            ])]),
            Value::Map(vec![("k".into(), Value::Enum(1))]),
            Value::Boolean(true),
        ])
    };
    c.encode_to_vec(&good()).unwrap();

    let mut v = good();
    v.as_record_mut().unwrap()[1] = Value::Record(vec![Value::Long(3)]);
    assert_eq!(
        c.encode_to_vec(&v).unwrap_err().to_string(),
        "at customer.email: expected a string, found a long"
    );
    let mut v = good();
    v.as_record_mut().unwrap()[3] = Value::Map(vec![("k".into(), Value::Enum(7))]);
    assert_eq!(
        c.encode_to_vec(&v).unwrap_err().to_string(),
        "at tags[\"k\"]: enum index 7 is out of range: T has 2 symbols"
    );
    let mut v = good();
    v.as_record_mut().unwrap()[2] = Value::Array(vec![Value::Record(vec![])]);
    let e = c.encode_to_vec(&v).unwrap_err();
    assert!(matches!(
        e.kind(),
        EncodeErrorKind::RecordArity {
            expected: 2,
            found: 0,
            ..
        }
    ));
    assert_eq!(e.path().to_string(), "lines[0]");
    let mut v = good();
    v.as_record_mut().unwrap().pop();
    assert_eq!(
        c.encode_to_vec(&v).unwrap_err().to_string(),
        "at the top level: expected 5 fields for record Order, found 4"
    );

    let f = codec(r#"{"type":"fixed","name":"F","size":2}"#);
    assert_eq!(
        f.encode_to_vec(&Value::Fixed(vec![1]))
            .unwrap_err()
            .to_string(),
        "at the top level: expected 2 bytes for fixed F, found 1"
    );
    let u = codec(r#"["null","string"]"#);
    assert_eq!(
        u.encode_to_vec(&Value::Union(2, Box::new(Value::Null)))
            .unwrap_err()
            .to_string(),
        "at the top level: union branch 2 is out of range: the union has 2 branches"
    );
    assert_eq!(
        u.encode_to_vec(&Value::Long(1)).unwrap_err().to_string(),
        "at the top level: no branch of the union a union [null, string] takes a long"
    );
    let ts = codec(r#"{"type":"long","logicalType":"timestamp-millis"}"#);
    assert_eq!(
        ts.encode_to_vec(&Value::String("now".into()))
            .unwrap_err()
            .to_string(),
        "at the top level: expected a long (timestamp-millis), found a string"
    );
}
