//! JSON ↔ Avro through the compiled codec: generated values of every type come back from
//! their JSON unchanged, the JSON never panics the reader, and real webhook payloads written
//! by others (GitHub push deliveries, a Stripe payment_intent; see `fixtures/README.md`)
//! convert to Avro that apache-avro reads.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(deprecated)] // apache-avro's from_avro_datum, the reference reader here

use apache_avro::types::Value as Avro;
use apache_avro::Schema;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value as Json};
use weft_schema::codec::{Codec, JsonOptions, Kind, Logical, NodeRef, Value};

const ORDER: &str = include_str!("../benches/order_v1.avsc");

/// Every type and logical type, and unions whose bare JSON would be ambiguous.
const JSON_TYPES: &str = r#"{"type":"record","name":"J","namespace":"t","fields":[
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
  {"name":"ltsu","type":{"type":"long","logicalType":"local-timestamp-micros"}},
  {"name":"dec","type":{"type":"bytes","logicalType":"decimal","precision":12,"scale":3}},
  {"name":"decfx","type":{"type":"fixed","name":"D8","size":8,"logicalType":"decimal","precision":18,"scale":2}},
  {"name":"dec0","type":{"type":"bytes","logicalType":"decimal","precision":4,"scale":0}},
  {"name":"bigdec","type":{"type":"bytes","logicalType":"big-decimal"}},
  {"name":"uuid","type":{"type":"string","logicalType":"uuid"}},
  {"name":"uuidfx","type":{"type":"fixed","name":"U16","size":16,"logicalType":"uuid"}},
  {"name":"dur","type":{"type":"fixed","name":"Dur","size":12,"logicalType":"duration"}},
  {"name":"arr","type":{"type":"array","items":{"type":"record","name":"Item","fields":[
      {"name":"k","type":"string"},{"name":"v","type":["null","long","Color"]}]}}},
  {"name":"m","type":{"type":"map","values":["null","double",{"type":"array","items":"F4"}]}},
  {"name":"u","type":["null","int","string","bytes","Item","Color",{"type":"map","values":"int"}]},
  {"name":"nums","type":["int","long","float","double"]},
  {"name":"recs","type":[
      {"type":"record","name":"A","fields":[{"name":"x","type":"int"}]},
      {"type":"record","name":"B","fields":[{"name":"x","type":"int"},{"name":"y","type":["null","string"],"default":null}]}]},
  {"name":"texts","type":["string",{"type":"long","logicalType":"timestamp-millis"},{"type":"fixed","name":"F2","size":2},
      {"type":"bytes","logicalType":"decimal","precision":5,"scale":1}]},
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

/// Milliseconds of 0000-01-01T00:00:00Z and of 9999-12-31T23:59:59.999Z.
const TEXT_MILLIS: (i64, i64) = (-62_167_219_200_000, 253_402_300_799_999);

/// Generates valid values in their canonical form (what `from_json` produces): minimal
/// decimals within their precision, lower-case UUID text, map entries in key order.
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
        let n = self.rng.random_range(0..10);
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

    /// Mostly within the years text can show, sometimes anything.
    fn epoch(&mut self, per_milli: i64) -> i64 {
        if self.rng.random_range(0..4) == 0 {
            return self.rng.random();
        }
        let ms = self.rng.random_range(TEXT_MILLIS.0..=TEXT_MILLIS.1);
        ms.saturating_mul(per_milli) + self.rng.random_range(0..per_milli)
    }

    /// A minimal two's-complement unscaled value of at most `precision` (≤ 18) digits.
    fn unscaled(&mut self, precision: usize) -> Vec<u8> {
        let digits = self.rng.random_range(1..=precision.min(18)) as u32;
        let max = 10i64.pow(digits) - 1;
        let v = self.rng.random_range(-max..=max);
        let be = v.to_be_bytes();
        let mut start = 0;
        while start < 7 {
            let (b, next) = (be[start], be[start + 1]);
            if (b == 0 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0) {
                start += 1;
            } else {
                break;
            }
        }
        be[start..].to_vec()
    }

    fn value(&mut self, node: NodeRef<'_>, depth: usize) -> Value {
        let deep = depth > 4;
        match (node.kind(), node.logical()) {
            (Kind::Null, _) => Value::Null,
            (Kind::Boolean, _) => Value::Boolean(self.rng.random()),
            (Kind::Int, Some(Logical::Date)) => Value::Int(if self.rng.random() {
                self.rng.random_range(-719_528..2_932_897)
            } else {
                self.rng.random()
            }),
            (Kind::Int, Some(Logical::TimeMillis)) => Value::Int(if self.rng.random() {
                self.rng.random_range(0..86_400_000)
            } else {
                self.rng.random()
            }),
            (Kind::Int, _) => Value::Int(self.rng.random()),
            (Kind::Long, Some(Logical::TimeMicros)) => Value::Long(if self.rng.random() {
                self.rng.random_range(0..86_400_000_000)
            } else {
                self.long()
            }),
            (Kind::Long, Some(Logical::TimestampMillis | Logical::LocalTimestampMillis)) => {
                Value::Long(self.epoch(1))
            }
            (Kind::Long, Some(Logical::TimestampMicros | Logical::LocalTimestampMicros)) => {
                Value::Long(self.epoch(1000))
            }
            (Kind::Long, _) => Value::Long(self.long()),
            (Kind::Float, _) => Value::Float(match self.rng.random_range(0..20) {
                0 => f32::INFINITY,
                1 => f32::from_bits(self.rng.random_range(0..0x7f80_0000)),
                2 => 5.0,
                _ => self.rng.random_range(-1e6f32..1e6),
            }),
            (Kind::Double, _) => Value::Double(match self.rng.random_range(0..20) {
                0 => f64::NEG_INFINITY,
                1 => f64::from_bits(self.rng.random_range(0..0x7ff0_0000_0000_0000)),
                2 => -5.0,
                _ => self.rng.random_range(-1e300..1e300),
            }),
            (Kind::Bytes, Some(Logical::Decimal { precision, .. })) => {
                Value::Bytes(self.unscaled(precision))
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
            (Kind::Bytes, Some(Logical::Uuid)) => Value::Bytes(self.bytes(16)),
            (Kind::Bytes, _) => {
                let n = self.rng.random_range(0..10);
                Value::Bytes(self.bytes(n))
            }
            (Kind::String, Some(Logical::Uuid)) => {
                let b: [u8; 16] = self.rng.random();
                Value::String(apache_avro::Uuid::from_bytes(b).to_string())
            }
            (Kind::String, _) => Value::String(self.string()),
            (Kind::Fixed { size }, Some(Logical::Decimal { precision, .. })) => {
                let b = self.unscaled(precision);
                let pad = if b[0] & 0x80 != 0 { 0xff } else { 0 };
                let mut out = vec![pad; size - b.len()];
                out.extend_from_slice(&b);
                Value::Fixed(out)
            }
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
                let mut entries: Vec<(String, Value)> = (0..n)
                    .map(|i| (format!("{}{i}", self.string()), self.value(item, depth + 1)))
                    .collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                Value::Map(entries)
            }
            (Kind::Record(_), _) => Value::Record(
                (0..node.fields().len())
                    .map(|i| self.value(node.field(i).unwrap(), depth + 1))
                    .collect(),
            ),
        }
    }
}

/// [`Codec::from_json_raw`] on the JSON's text gives what [`Codec::from_json`] gives on the
/// text parsed into a tree: the same value, or an error with the same code and message.
/// Returns whether it was an error.
fn same_from_text(codec: &Codec, json: &Json, opts: &JsonOptions) -> bool {
    let text = serde_json::to_string(json).unwrap();
    let raw: Box<serde_json::value::RawValue> = serde_json::from_str(&text).unwrap();
    let Ok(tree) = serde_json::from_str::<Json>(&text) else {
        // Deeper than serde_json builds trees: refused as too deep.
        let e = codec.from_json_raw(&raw, opts).unwrap_err();
        assert_eq!(e.kind().code(), "too_deep", "{e}");
        return Default::default();
    };
    match (
        codec.from_json(&tree, opts),
        codec.from_json_raw(&raw, opts),
    ) {
        (Ok(a), Ok(b)) => {
            // Debug, so NaN equals NaN.
            assert_eq!(format!("{a:?}"), format!("{b:?}"), "{text}");
            false
        }
        (Err(a), Err(b)) => {
            assert_eq!(a.kind().code(), b.kind().code(), "{text}");
            assert_eq!(a.to_string(), b.to_string(), "{text}");
            true
        }
        (a, b) => panic!("{text}: from_json {a:?}, from_json_raw {b:?}"),
    }
}

#[test]
fn generated_values_come_back_from_their_json() {
    let mut g = Gen::new(23);
    let mut wrapped = 0;
    let mut through_text = 0;
    for (name, schema) in [
        ("json types", JSON_TYPES),
        ("order", ORDER),
        ("tree", TREE),
        ("top-level union", TOP_UNION),
    ] {
        let codec = Codec::parse(schema, &[]).unwrap();
        for i in 0..500 {
            let v = g.value(codec.root(), 0);
            // Only valid values: the codec encodes them.
            codec.encode_to_vec(&v).unwrap();
            let j = codec
                .to_json(&v)
                .unwrap_or_else(|e| panic!("{name} #{i}: {e}"));
            let back = codec
                .from_json(&j, &JsonOptions::default())
                .unwrap_or_else(|e| panic!("{name} #{i}: {e}\n{j}"));
            assert_eq!(back, v, "{name} #{i}: {j}");
            // Through JSON text too, as far as serde_json reads its own text back: without
            // its `float_roundtrip` feature a double may come back one ulp off.
            for opts in [JsonOptions::default(), lenient()] {
                assert!(!same_from_text(&codec, &j, &opts), "{name} #{i}: {j}");
            }
            let text = serde_json::to_string(&j).unwrap();
            let reparsed: Json = serde_json::from_str(&text).unwrap();
            if reparsed == j {
                let back = codec
                    .from_json(&reparsed, &JsonOptions::default())
                    .unwrap_or_else(|e| panic!("{name} #{i}: {e}\n{text}"));
                assert_eq!(back, v, "{name} #{i}: {text}");
                through_text += 1;
            }
            wrapped += [
                "{\"bytes\":",
                "{\"t.Color\":",
                "{\"long\":",
                "{\"float\":",
                "{\"double\":",
                "{\"t.F2\":",
            ]
            .iter()
            .filter(|w| text.contains(**w))
            .count();
        }
    }
    assert!(
        wrapped > 200,
        "only {wrapped} union values needed a wrapper"
    );
    assert!(
        through_text > 1500,
        "only {through_text} values through text"
    );
}

#[test]
fn json_types_are_written_in_their_documented_forms() {
    let codec = Codec::parse(JSON_TYPES, &[]).unwrap();
    let mut g = Gen::new(5);
    let v = g.value(codec.root(), 0);
    let j = codec.to_json(&v).unwrap();
    let obj = j.as_object().unwrap();
    assert_eq!(obj.len(), codec.root().fields().len());
    for (key, shape) in [
        ("dec", "string"),
        ("decfx", "string"),
        ("bigdec", "string"),
        ("uuid", "string"),
        ("uuidfx", "string"),
        ("by", "string"),
        ("dur", "object"),
    ] {
        let ok = match shape {
            "string" => obj[key].is_string(),
            _ => obj[key].is_object(),
        };
        assert!(ok, "{key}: {}", obj[key]);
    }
}

/// Mutations of valid JSON never panic the reader, and every refusal has a known code.
#[test]
fn mutated_json_is_refused_cleanly() {
    let codec = Codec::parse(JSON_TYPES, &[]).unwrap();
    let mut g = Gen::new(99);
    let replacements = [
        json!(null),
        json!(true),
        json!(-1),
        json!(1.5),
        json!(1e300),
        json!(u64::MAX),
        json!(""),
        json!("x"),
        json!("2026-11-22T10:00:00Z"),
        json!("12.5"),
        json!("AAAA"),
        json!([]),
        json!([1, "a"]),
        json!({}),
        json!({"string": 1}),
        json!({"k": "x", "v": null}),
    ];
    let mut refused = 0;
    for i in 0..300 {
        let v = g.value(codec.root(), 0);
        let mut j = codec.to_json(&v).unwrap();
        let keys: Vec<String> = j.as_object().unwrap().keys().cloned().collect();
        let key = &keys[i % keys.len()];
        j[key] = replacements[i % replacements.len()].clone();
        // Also a missing field and an unknown key, now and then.
        let mut j2 = j.clone();
        let obj = j2.as_object_mut().unwrap();
        if i % 3 == 0 {
            obj.remove(&keys[(i / 3) % keys.len()]);
        }
        if i % 5 == 0 {
            obj.insert("zz_unknown".into(), json!({"a": [1, 2, {"b": null}]}));
        }
        for opts in [
            JsonOptions::default(),
            lenient(),
            JsonOptions {
                allow_unknown_fields: false,
                fill_defaults: false,
            },
        ] {
            same_from_text(&codec, &j, &opts);
            same_from_text(&codec, &j2, &opts);
        }
        match codec.from_json(&j, &JsonOptions::default()) {
            Ok(v) => {
                codec.encode_to_vec(&v).unwrap();
            }
            Err(e) => {
                refused += 1;
                assert!(
                    weft_schema::codec::JsonErrorKind::CODES.contains(&e.kind().code()),
                    "{e}"
                );
                assert!(!e.path().is_empty(), "{e}");
            }
        }
    }
    assert!(refused > 100, "only {refused} refusals");
}

// ---- Real payloads written by others ----

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn lenient() -> JsonOptions {
    JsonOptions {
        allow_unknown_fields: true,
        ..JsonOptions::default()
    }
}

/// Converts `payload` leniently, checks apache-avro reads the encoded value as the same
/// record, that the value comes back from its own JSON, and returns it.
fn convert(schema_text: &str, payload: &Json) -> (Codec, Value) {
    let schema = Schema::parse_str(schema_text).unwrap();
    let codec = Codec::new(&schema).unwrap();
    let v = codec
        .from_json(payload, &lenient())
        .unwrap_or_else(|e| panic!("{e}"));
    let body = codec.encode_to_vec(&v).unwrap();
    let theirs = apache_avro::from_avro_datum(&schema, &mut body.as_slice(), None).unwrap();
    assert_eq!(theirs, codec.to_avro(&v).unwrap());
    let j = codec.to_json(&v).unwrap();
    assert_eq!(codec.from_json(&j, &JsonOptions::default()).unwrap(), v);
    (codec, v)
}

#[test]
fn github_push_deliveries_convert() {
    let schema = fixture("github_push.avsc");
    for name in [
        "github_push.with-new-branch.json",
        "github_push.with-no-username-committer.json",
        "github_push.tag-deleted.json",
    ] {
        let payload: Json = serde_json::from_str(&fixture(name)).unwrap();
        let (codec, v) = convert(&schema, &payload);
        assert_eq!(
            codec.lookup(&v, "repository.full_name").unwrap().as_str(),
            Some("Codertocat/Hello-World"),
            "{name}"
        );
        // "2019-05-15T15:20:41Z"
        assert_eq!(
            codec.lookup(&v, "repository.updated_at").unwrap().as_long(),
            Some(1_557_933_641_000),
            "{name}"
        );
        // Strictly, the delivery has fields the slice leaves out; the first one met is named
        // (fields in schema order, nested ones first; serde_json's objects are sorted by key).
        let e = codec
            .from_json(&payload, &JsonOptions::default())
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "repository.owner.avatar_url: unknown field (the schema has no such field)",
            "{name}"
        );
        assert_eq!(e.kind().code(), "unknown_field");
    }
    let payload: Json =
        serde_json::from_str(&fixture("github_push.with-no-username-committer.json")).unwrap();
    let (codec, v) = convert(&schema, &payload);
    let j = codec.to_json(&v).unwrap();
    assert_eq!(
        j["head_commit"]["timestamp"],
        json!("2019-05-15T15:19:25.000Z")
    );
    assert_eq!(j["head_commit"]["committer"]["username"], Json::Null);
    assert_eq!(j["head_commit"]["author"]["username"], json!("Codertocat"));
    assert_eq!(j["repository"]["visibility"], json!("public"));
    assert_eq!(j["sender"]["type"], json!("User"));
    // A payload trimmed to the slice converts strictly too.
    assert_eq!(codec.from_json(&j, &JsonOptions::default()).unwrap(), v);
}

#[test]
fn stripe_payment_intent_converts() {
    let schema = fixture("stripe_payment_intent.avsc");
    let payload: Json = serde_json::from_str(&fixture("stripe_payment_intent.json")).unwrap();
    let (codec, v) = convert(&schema, &payload);
    assert_eq!(codec.lookup(&v, "amount").unwrap().as_long(), Some(1099));
    assert_eq!(
        codec.lookup(&v, "id").unwrap().as_str(),
        Some("pi_1PgafyB7WZ01zgkWSjxsAJo3")
    );
    let j = codec.to_json(&v).unwrap();
    assert_eq!(j["status"], json!("requires_payment_method"));
    assert_eq!(j["capture_method"], json!("automatic"));
    // `destination` is an id or the expanded account: the object goes to the record branch.
    assert_eq!(
        codec.lookup(&v, "transfer_data.destination"),
        Some(&Value::Union(
            1,
            Box::new(Value::Record(vec![
                Value::String("obj_123".into()),
                Value::String("account".into()),
            ]))
        ))
    );
    // `tip` is `{}`: its field takes its default.
    assert_eq!(j["amount_details"], json!({"tip": {"amount": null}}));
    assert_eq!(j["canceled_at"], json!(1_234_567_890));
    let e = codec
        .from_json(&payload, &JsonOptions::default())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "application: unknown field (the schema has no such field)"
    );
    // Wrong types in a real payload name their path.
    let mut bad = payload.clone();
    bad["status"] = json!("lost");
    assert_eq!(
        codec.from_json(&bad, &lenient()).unwrap_err().to_string(),
        "status: \"lost\" is not one of requires_payment_method, requires_confirmation, \
         requires_action, processing, requires_capture, canceled, succeeded"
    );
    let mut bad = payload;
    bad["transfer_data"]["destination"] = json!(7);
    assert_eq!(
        codec.from_json(&bad, &lenient()).unwrap_err().to_string(),
        "transfer_data.destination: no branch of the union [string, weft.fixtures.stripe.Account] \
         takes 7"
    );
}
