//! The codec against apache-avro, the reference: many generated values over several schemas
//! encode to the same bytes and decode to the same values; truncated, mutated and random
//! bodies fail cleanly (never a panic) and `validate` agrees with `decode`.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(deprecated)] // apache-avro's to_avro_datum/from_avro_datum are the reference here

use std::sync::Arc;

use apache_avro::types::Value as Avro;
use apache_avro::Schema;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use weft_schema::codec::{Codec, Kind, Logical, NodeRef, ResolvingCodec, Value};

const ORDER: &str = include_str!("../benches/order_v1.avsc");
const ORDER_V2: &str = include_str!("../benches/order_v2.avsc");

const ALL_TYPES: &str = r#"{"type":"record","name":"All","namespace":"t","fields":[
  {"name":"n","type":"null"},
  {"name":"b","type":"boolean"},
  {"name":"i","type":"int"},
  {"name":"l","type":"long"},
  {"name":"f","type":"float"},
  {"name":"d","type":"double"},
  {"name":"by","type":"bytes"},
  {"name":"s","type":"string"},
  {"name":"fx","type":{"type":"fixed","name":"F4","size":4}},
  {"name":"e","type":{"type":"enum","name":"Color","symbols":["RED","GREEN","BLUE"]}},
  {"name":"date","type":{"type":"int","logicalType":"date"}},
  {"name":"tmillis","type":{"type":"int","logicalType":"time-millis"}},
  {"name":"tmicros","type":{"type":"long","logicalType":"time-micros"}},
  {"name":"tsmillis","type":{"type":"long","logicalType":"timestamp-millis"}},
  {"name":"tsmicros","type":{"type":"long","logicalType":"timestamp-micros"}},
  {"name":"tsnanos","type":{"type":"long","logicalType":"timestamp-nanos"}},
  {"name":"lts","type":{"type":"long","logicalType":"local-timestamp-millis"}},
  {"name":"dec","type":{"type":"bytes","logicalType":"decimal","precision":12,"scale":3}},
  {"name":"decfx","type":{"type":"fixed","name":"D8","size":8,"logicalType":"decimal","precision":18,"scale":2}},
  {"name":"bigdec","type":{"type":"bytes","logicalType":"big-decimal"}},
  {"name":"uuid","type":{"type":"string","logicalType":"uuid"}},
  {"name":"uuidfx","type":{"type":"fixed","name":"U16","size":16,"logicalType":"uuid"}},
  {"name":"dur","type":{"type":"fixed","name":"Dur","size":12,"logicalType":"duration"}},
  {"name":"arr","type":{"type":"array","items":{"type":"record","name":"Item","fields":[
      {"name":"k","type":"string"},{"name":"v","type":["null","long","Color"]}]}}},
  {"name":"m","type":{"type":"map","values":["null","double",{"type":"array","items":"F4"}]}},
  {"name":"u","type":["null","int","string","bytes","Item","Color",{"type":"map","values":"int"}]},
  {"name":"nested","type":{"type":"record","name":"Outer","fields":[
      {"name":"inner","type":{"type":"record","name":"Inner","fields":[
          {"name":"x","type":"float"},{"name":"tags","type":{"type":"array","items":"string"}}]}},
      {"name":"opt","type":["null","Inner"]}]}}
]}"#;

const TREE: &str = r#"{"type":"record","name":"Tree","fields":[
  {"name":"label","type":"string"},
  {"name":"children","type":{"type":"array","items":"Tree"}},
  {"name":"parent","type":["null","Tree"]}]}"#;

const TOP_UNION: &str =
    r#"["null","string",{"type":"array","items":{"type":"map","values":"long"}}]"#;

fn schemas() -> Vec<(&'static str, &'static str)> {
    vec![
        ("order", ORDER),
        ("all types", ALL_TYPES),
        ("tree", TREE),
        ("top-level union", TOP_UNION),
    ]
}

struct Gen {
    rng: StdRng,
    big_decimal: Codec,
}

impl Gen {
    fn new(seed: u64) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
            big_decimal: Codec::new(&Schema::BigDecimal).unwrap(),
        }
    }

    fn string(&mut self) -> String {
        let n = self.rng.random_range(0..12);
        (0..n).map(|_| self.rng.random::<char>()).collect()
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.rng.random()).collect()
    }

    fn long(&mut self) -> i64 {
        match self.rng.random_range(0..3) {
            0 => self.rng.random_range(-100..100),
            1 => self.rng.random::<i32>().into(),
            _ => self.rng.random(),
        }
    }

    fn value(&mut self, node: NodeRef<'_>, depth: usize) -> Value {
        let deep = depth > 4;
        match (node.kind(), node.logical()) {
            (Kind::Null, _) => Value::Null,
            (Kind::Boolean, _) => Value::Boolean(self.rng.random()),
            (Kind::Int, _) => Value::Int(self.rng.random()),
            (Kind::Long, _) => Value::Long(self.long()),
            (Kind::Float, _) => Value::Float(self.rng.random_range(-1e6f32..1e6)),
            (Kind::Double, _) => Value::Double(self.rng.random_range(-1e300..1e300)),
            (Kind::Bytes, Some(Logical::Decimal { .. })) => {
                let n = self.rng.random_range(1..9);
                Value::Bytes(self.bytes(n))
            }
            (Kind::Bytes, Some(Logical::BigDecimal)) => {
                let text = format!(
                    "{}.{}",
                    self.rng.random_range(-1_000_000i64..1_000_000),
                    self.rng.random_range(0u32..1000)
                );
                let big: apache_avro::BigDecimal = text.parse().unwrap();
                self.big_decimal.from_avro(&Avro::BigDecimal(big)).unwrap()
            }
            (Kind::Bytes, _) => {
                let n = self.rng.random_range(0..10);
                Value::Bytes(self.bytes(n))
            }
            (Kind::String, Some(Logical::Uuid)) => {
                let b: [u8; 16] = self.rng.random();
                Value::String(apache_avro::Uuid::from_bytes(b).to_string())
            }
            (Kind::String, _) => Value::String(self.string()),
            (Kind::Fixed { size }, _) => Value::Fixed(self.bytes(*size)),
            (Kind::Enum(e), _) => Value::Enum(self.rng.random_range(0..e.symbols.len() as u32)),
            (Kind::Union(_), _) => {
                let branches = node.branches();
                let b = match branches.iter().position(|b| matches!(b.kind(), Kind::Null)) {
                    Some(null) if deep => null,
                    _ => self.rng.random_range(0..branches.len()),
                };
                Value::Union(b as u32, Box::new(self.value(branches[b], depth + 1)))
            }
            (Kind::Array(_), _) => {
                let n = if deep { 0 } else { self.rng.random_range(0..4) };
                let item = node.items().unwrap();
                Value::Array((0..n).map(|_| self.value(item, depth + 1)).collect())
            }
            (Kind::Map(_), _) => {
                let n = if deep { 0 } else { self.rng.random_range(0..4) };
                let item = node.items().unwrap();
                // Distinct keys: apache-avro holds maps in a HashMap.
                Value::Map(
                    (0..n)
                        .map(|i| (format!("{}{i}", self.string()), self.value(item, depth + 1)))
                        .collect(),
                )
            }
            (Kind::Record(_), _) => Value::Record(
                (0..node.fields().len())
                    .map(|i| self.value(node.field(i).unwrap(), depth + 1))
                    .collect(),
            ),
        }
    }
}

fn has_multi_entry_map(v: &Value) -> bool {
    match v {
        Value::Map(entries) => {
            entries.len() > 1 || entries.iter().any(|(_, v)| has_multi_entry_map(v))
        }
        Value::Array(items) | Value::Record(items) => items.iter().any(has_multi_entry_map),
        Value::Union(_, inner) => has_multi_entry_map(inner),
        _ => false,
    }
}

#[test]
fn generated_values_agree_with_apache_avro() {
    let mut g = Gen::new(7);
    let mut scratch = Value::Null;
    for (name, json) in schemas() {
        let schema = Schema::parse_str(json).unwrap();
        let codec = Codec::new(&schema).unwrap();
        let mut identical = 0;
        for i in 0..400 {
            let v = g.value(codec.root(), 0);
            let ours = codec.encode_to_vec(&v).unwrap();
            let avro = codec.to_avro(&v).unwrap();
            let theirs = apache_avro::to_avro_datum(&schema, avro.clone())
                .unwrap_or_else(|e| panic!("{name} #{i}: apache-avro refuses {avro:?}: {e}"));
            // apache-avro reads our bytes as the same value...
            let read_by_them = apache_avro::from_avro_datum(&schema, &mut &ours[..], None).unwrap();
            assert_eq!(read_by_them, avro, "{name} #{i}");
            // ...we read theirs as the same value and write them back byte for byte...
            let read_by_us = codec.decode(&theirs).unwrap();
            assert_eq!(
                codec.encode_to_vec(&read_by_us).unwrap(),
                theirs,
                "{name} #{i}"
            );
            assert_eq!(codec.to_avro(&read_by_us).unwrap(), avro, "{name} #{i}");
            assert_eq!(codec.from_avro(&avro).unwrap(), read_by_us, "{name} #{i}");
            // ...and unless a map's order differs (theirs is a HashMap), the bytes are equal.
            if !has_multi_entry_map(&v) {
                assert_eq!(ours, theirs, "{name} #{i}: bytes");
                assert_eq!(read_by_us, v, "{name} #{i}");
                identical += 1;
            }
            assert_eq!(codec.decode(&ours).unwrap(), v, "{name} #{i}");
            codec.validate(&ours).unwrap();
            // Decoding into a scratch value that held the previous record (of another shape,
            // across schemas) gives the same value.
            codec.decode_into(&ours, &mut scratch).unwrap();
            assert_eq!(scratch, v, "{name} #{i}: decode_into");
        }
        assert!(
            identical > 100,
            "{name}: only {identical} byte-for-byte comparisons"
        );
    }
}

#[test]
fn resolving_generated_values_agrees_with_apache_avro() {
    let (w, r) = (
        Schema::parse_str(ORDER).unwrap(),
        Schema::parse_str(ORDER_V2).unwrap(),
    );
    let writer = Arc::new(Codec::new(&w).unwrap());
    let reader = Arc::new(Codec::new(&r).unwrap());
    let resolving = ResolvingCodec::new(writer.clone(), reader.clone()).unwrap();
    let mut g = Gen::new(11);
    for i in 0..300 {
        let v = g.value(writer.root(), 0);
        let body = writer.encode_to_vec(&v).unwrap();
        let ours = resolving.decode(&body).unwrap();
        let theirs = apache_avro::from_avro_datum(&w, &mut &body[..], Some(&r)).unwrap();
        assert_eq!(reader.to_avro(&ours).unwrap(), theirs, "#{i}");
    }
}

fn check_no_panic_and_agreement(codec: &Codec, body: &[u8]) -> bool {
    let decoded = codec.decode(body);
    let validated = codec.validate(body);
    let mut scratch = Value::Record(vec![Value::String("stale".into())]);
    assert_eq!(
        codec.decode_into(body, &mut scratch).err(),
        decoded.as_ref().err().cloned(),
        "decode_into and decode disagree on {body:?}"
    );
    assert_eq!(
        decoded.as_ref().err(),
        validated.as_ref().err(),
        "decode and validate disagree on {body:?}"
    );
    if let Err(e) = &decoded {
        assert!(e.offset() <= body.len(), "{e} for {} bytes", body.len());
    }
    decoded.is_ok()
}

#[test]
fn truncated_mutated_and_random_bodies_fail_cleanly() {
    let mut g = Gen::new(3);
    let mut rng = StdRng::seed_from_u64(5);
    for (name, json) in schemas() {
        let codec = Codec::new(&Schema::parse_str(json).unwrap()).unwrap();
        for _ in 0..40 {
            let v = g.value(codec.root(), 0);
            let body = codec.encode_to_vec(&v).unwrap();
            // Avro bodies are prefix-free: every strict prefix must fail.
            for cut in 0..body.len() {
                assert!(
                    !check_no_panic_and_agreement(&codec, &body[..cut]),
                    "{name}: a {cut}-byte prefix of a {}-byte body decoded",
                    body.len()
                );
            }
            for _ in 0..20 {
                let mut mutated = body.clone();
                if mutated.is_empty() {
                    break;
                }
                let at = rng.random_range(0..mutated.len());
                mutated[at] = rng.random();
                check_no_panic_and_agreement(&codec, &mutated);
            }
        }
        for _ in 0..3000 {
            let n = rng.random_range(0..64);
            let junk: Vec<u8> = (0..n).map(|_| rng.random()).collect();
            check_no_panic_and_agreement(&codec, &junk);
        }
    }
    // The resolving decoder too.
    let resolving = ResolvingCodec::from_schemas(
        &Schema::parse_str(ORDER).unwrap(),
        &Schema::parse_str(ORDER_V2).unwrap(),
    )
    .unwrap();
    for _ in 0..3000 {
        let n = rng.random_range(0..96);
        let junk: Vec<u8> = (0..n).map(|_| rng.random()).collect();
        let _ = resolving.decode(&junk);
    }
}
