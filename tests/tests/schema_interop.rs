//! Interop with Confluent's own client, both ways, through the real broker and Weft's registry:
//!
//! * Python's `confluent-kafka` (`SchemaRegistryClient` + `AvroSerializer`, default settings: the
//!   schema is auto-registered under `<topic>-value`) produces 100 records; Weft reads them through
//!   `weft-schema`'s `SchemaCache` (the writer schema fetched once by id with
//!   `schema_registry_converter`, decoded by the compiled codec) and checks every record field by
//!   field against apache-avro's view of the expected values.
//! * Weft registers the schema through the same cache, encodes 100 records with the codec in the
//!   Confluent framing and produces them; `confluent-kafka`'s `AvroDeserializer` decodes all 100
//!   identically.
//!
//! The registry is `weft run registry` (crates/weft-registry) as a process on a free port,
//! configured with `WEFT__REGISTRY__LISTEN` and `WEFT__REGISTRY__TOPIC`.
//!
//! Also needs the Python client: `deploy/local/python path` installs it into `.local/python` from
//! PyPI on first use (pinned in deploy/local/python-requirements.txt), then answers at once. The
//! scripts are tests/python/sr_produce.py and sr_consume.py; their JSON convention is in
//! tests/python/avro_json.py.
//!
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use apache_avro::types::Value;
use apache_avro::Schema;
use serde_json::json;
use weft_schema::{RegistryClientConfig, SchemaCache};
use weft_testkit::process::{spawn, WeftProcess};
use weft_testkit::proxy::free_port;
use weft_testkit::python;
use weft_testkit::{ensure_kafka, unique, wait_for, TestKafka};

const RECORDS: usize = 100;

/// Strings, longs, a nested record, an enum, an optional field, a timestamp, and the other shapes
/// Weft's events use.
const ORDER_SCHEMA: &str = r#"{
  "type": "record", "name": "Order", "namespace": "weft.interop",
  "fields": [
    {"name": "id", "type": "long"},
    {"name": "customer", "type": "string"},
    {"name": "amount", "type": "double"},
    {"name": "quantity", "type": "int"},
    {"name": "paid", "type": "boolean"},
    {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID", "SHIPPED", "CANCELLED"]}},
    {"name": "note", "type": ["null", "string"], "default": null},
    {"name": "created", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "shipping", "type": {"type": "record", "name": "Address", "fields": [
      {"name": "street", "type": "string"},
      {"name": "zip", "type": "int"}
    ]}},
    {"name": "tags", "type": {"type": "array", "items": "string"}},
    {"name": "attributes", "type": {"type": "map", "values": "long"}},
    {"name": "digest", "type": "bytes"},
    {"name": "reference", "type": {"type": "string", "logicalType": "uuid"}},
    {"name": "day", "type": {"type": "int", "logicalType": "date"}}
  ]
}"#;

const STATUS: [&str; 4] = ["NEW", "PAID", "SHIPPED", "CANCELLED"];

/// One test record, in plain Rust types.
#[derive(Debug, Clone, PartialEq)]
struct Order {
    id: i64,
    customer: String,
    amount: f64,
    quantity: i32,
    paid: bool,
    status: usize,
    note: Option<String>,
    created_ms: i64,
    street: String,
    zip: i32,
    tags: Vec<String>,
    attributes: BTreeMap<String, i64>,
    digest: Vec<u8>,
    reference: uuid::Uuid,
    day: i32,
}

/// Record `i`: every field varies with `i`, including negative numbers, non-ASCII text, empty
/// collections, a null optional field and a non-zero millisecond part.
fn order(i: usize) -> Order {
    let n = i as i64;
    Order {
        id: if i % 3 == 1 {
            -n * 1_000_000_007
        } else {
            n * 1_000_000_007
        },
        customer: if i.is_multiple_of(7) {
            format!("customer-{i}-Zoë-✓")
        } else {
            format!("customer-{i}")
        },
        amount: n as f64 * 1.25 - 10.0,
        quantity: (i as i32) * 37 - 1_000,
        paid: i.is_multiple_of(2),
        status: i % STATUS.len(),
        note: (!i.is_multiple_of(4)).then(|| format!("note {i}")),
        created_ms: 1_700_000_000_000 + n * 1_001,
        street: format!("{i} Avro Street"),
        zip: 10_000 + i as i32,
        tags: (0..i % 3).map(|k| format!("tag-{k}")).collect(),
        attributes: (0..i % 4)
            .map(|k| (format!("a{k}"), n * 10 + k as i64 - 5))
            .collect(),
        digest: (0..(i % 5) as u8)
            .map(|k| (i as u8).wrapping_mul(7) ^ k)
            .collect(),
        reference: uuid::Uuid::from_u128(0x5eed_0000_0000_4000_8000_0000_0000_0000 + i as u128),
        day: 19_700 + i as i32,
    }
}

impl Order {
    /// The Avro value, fields in schema order.
    fn avro(&self) -> Value {
        Value::Record(vec![
            ("id".into(), Value::Long(self.id)),
            ("customer".into(), Value::String(self.customer.clone())),
            ("amount".into(), Value::Double(self.amount)),
            ("quantity".into(), Value::Int(self.quantity)),
            ("paid".into(), Value::Boolean(self.paid)),
            (
                "status".into(),
                Value::Enum(self.status as u32, STATUS[self.status].into()),
            ),
            (
                "note".into(),
                match &self.note {
                    None => Value::Union(0, Box::new(Value::Null)),
                    Some(s) => Value::Union(1, Box::new(Value::String(s.clone()))),
                },
            ),
            ("created".into(), Value::TimestampMillis(self.created_ms)),
            (
                "shipping".into(),
                Value::Record(vec![
                    ("street".into(), Value::String(self.street.clone())),
                    ("zip".into(), Value::Int(self.zip)),
                ]),
            ),
            (
                "tags".into(),
                Value::Array(self.tags.iter().cloned().map(Value::String).collect()),
            ),
            (
                "attributes".into(),
                Value::Map(
                    self.attributes
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::Long(*v)))
                        .collect(),
                ),
            ),
            ("digest".into(), Value::Bytes(self.digest.clone())),
            ("reference".into(), Value::Uuid(self.reference)),
            ("day".into(), Value::Date(self.day)),
        ])
    }

    /// A JSON line for `sr_produce.py --records` (raw numbers for the logical types).
    fn input_json(&self) -> serde_json::Value {
        json!({
            "id": self.id,
            "customer": self.customer,
            "amount": self.amount,
            "quantity": self.quantity,
            "paid": self.paid,
            "status": STATUS[self.status],
            "note": self.note,
            "created": self.created_ms,
            "shipping": {"street": self.street, "zip": self.zip},
            "tags": self.tags,
            "attributes": self.attributes,
            "digest": hex(&self.digest),
            "reference": self.reference.to_string(),
            "day": self.day,
        })
    }

    /// What `sr_consume.py` prints for this record (fastavro's logical types, see avro_json.py).
    fn python_json(&self) -> serde_json::Value {
        let mut v = self.input_json();
        v["created"] = json!(python_isoformat_millis(self.created_ms));
        v["day"] = json!(python_date(self.day));
        v
    }

    /// Reads a decoded value back, failing on any type the schema does not promise.
    fn from_avro(v: &Value) -> Result<Order, String> {
        let Value::Record(fields) = v else {
            return Err(format!("not a record: {v:?}"));
        };
        let f: BTreeMap<&str, &Value> = fields.iter().map(|(k, v)| (k.as_str(), v)).collect();
        let get = |name: &str| f.get(name).copied().ok_or(format!("no field {name}"));
        let bad = |name: &str, v: &Value| format!("field {name}: unexpected {v:?}");
        let string = |name: &str| match get(name)? {
            Value::String(s) => Ok(s.clone()),
            other => Err(bad(name, other)),
        };
        let Value::Record(shipping) = get("shipping")? else {
            return Err(bad("shipping", get("shipping")?));
        };
        let (street, zip) = match shipping.as_slice() {
            [(s, Value::String(street)), (z, Value::Int(zip))] if s == "street" && z == "zip" => {
                (street.clone(), *zip)
            }
            other => return Err(format!("field shipping: unexpected {other:?}")),
        };
        Ok(Order {
            id: match get("id")? {
                Value::Long(x) => *x,
                o => return Err(bad("id", o)),
            },
            customer: string("customer")?,
            amount: match get("amount")? {
                Value::Double(x) => *x,
                o => return Err(bad("amount", o)),
            },
            quantity: match get("quantity")? {
                Value::Int(x) => *x,
                o => return Err(bad("quantity", o)),
            },
            paid: match get("paid")? {
                Value::Boolean(x) => *x,
                o => return Err(bad("paid", o)),
            },
            status: match get("status")? {
                Value::Enum(i, s) if STATUS.get(*i as usize) == Some(&s.as_str()) => *i as usize,
                o => return Err(bad("status", o)),
            },
            note: match get("note")? {
                Value::Union(0, n) if **n == Value::Null => None,
                Value::Union(1, s) => match &**s {
                    Value::String(s) => Some(s.clone()),
                    o => return Err(bad("note", o)),
                },
                o => return Err(bad("note", o)),
            },
            created_ms: match get("created")? {
                Value::TimestampMillis(x) => *x,
                o => return Err(bad("created", o)),
            },
            street,
            zip,
            tags: match get("tags")? {
                Value::Array(items) => items
                    .iter()
                    .map(|t| match t {
                        Value::String(s) => Ok(s.clone()),
                        o => Err(bad("tags[]", o)),
                    })
                    .collect::<Result<_, _>>()?,
                o => return Err(bad("tags", o)),
            },
            attributes: match get("attributes")? {
                Value::Map(m) => m
                    .iter()
                    .map(|(k, v)| match v {
                        Value::Long(x) => Ok((k.clone(), *x)),
                        o => Err(bad("attributes{}", o)),
                    })
                    .collect::<Result<_, _>>()?,
                o => return Err(bad("attributes", o)),
            },
            digest: match get("digest")? {
                Value::Bytes(b) => b.clone(),
                o => return Err(bad("digest", o)),
            },
            reference: match get("reference")? {
                Value::Uuid(u) => *u,
                o => return Err(bad("reference", o)),
            },
            day: match get("day")? {
                Value::Date(d) => *d,
                o => return Err(bad("day", o)),
            },
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Python's `datetime.isoformat()` of an aware UTC datetime: no fraction when it is zero, else
/// six digits, then `+00:00`.
fn python_isoformat_millis(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap();
    let base = t
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]"
        ))
        .unwrap();
    match t.microsecond() {
        0 => format!("{base}+00:00"),
        us => format!("{base}.{us:06}+00:00"),
    }
}

/// Python's `date.isoformat()` of `days` after 1970-01-01.
fn python_date(days: i32) -> String {
    let epoch = time::Date::from_calendar_date(1970, time::Month::January, 1).unwrap();
    (epoch + time::Duration::days(i64::from(days)))
        .format(time::macros::format_description!("[year]-[month]-[day]"))
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// The registry process

/// `weft run registry` on free ports with its own log topic.
struct Registry {
    process: WeftProcess,
    url: String,
}

async fn start_registry(kafka: &TestKafka) -> Registry {
    let port = free_port().await.unwrap();
    let admin_port = free_port().await.unwrap();
    let topic = format!("{}_schemas", unique("interop"));
    let config = format!(
        "[kafka]\nbootstrap_servers = \"{}\"\n[admin]\nlisten = \"127.0.0.1:{admin_port}\"\n",
        kafka.config.bootstrap_servers
    );
    let listen = format!("127.0.0.1:{port}");
    let process = spawn(
        &config,
        &["run", "registry"],
        &[
            ("WEFT__REGISTRY__LISTEN", listen.as_str()),
            ("WEFT__REGISTRY__TOPIC", topic.as_str()),
        ],
    )
    .expect("starting weft run registry");
    let url = format!("http://{listen}");
    let probe = format!("{url}/subjects");
    let answered = wait_for(
        "the registry to answer GET /subjects",
        Duration::from_secs(90),
        Duration::from_millis(100),
        || {
            let probe = probe.clone();
            async move {
                let r = reqwest::get(&probe).await.ok()?;
                r.status().is_success().then_some(())
            }
        },
    )
    .await;
    if let Err(e) = answered {
        panic!(
            "{e}. This suite needs `weft run registry` (crates/weft-registry). stderr of the process:\n{}",
            process.stderr()
        );
    }
    Registry { process, url }
}

impl Registry {
    /// `GET /schemas/ids/{id}`: the schema text.
    async fn schema(&self, id: u32) -> String {
        let r = reqwest::get(format!("{}/schemas/ids/{id}", self.url))
            .await
            .unwrap();
        let status = r.status();
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(
            status.is_success(),
            "GET /schemas/ids/{id} answered {status}: {body}"
        );
        assert!(
            body.get("schemaType").is_none_or(|t| t == "AVRO"),
            "schema {id} is not Avro: {body}"
        );
        body["schema"]
            .as_str()
            .unwrap_or_else(|| panic!("no schema in {body}"))
            .to_string()
    }

    async fn versions(&self, subject: &str) -> serde_json::Value {
        reqwest::get(format!("{}/subjects/{subject}/versions", self.url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

// ---------------------------------------------------------------------------------------------
// The tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confluent_python_producer_records_are_decoded_by_weft() {
    weft_testkit::init_logging();
    let kafka = ensure_kafka().expect("local Kafka");
    let topic = kafka.topic("sr-python-to-weft", 1).await.unwrap();
    let registry = start_registry(&kafka).await;

    let dir = tempfile::tempdir().unwrap();
    let schema_file = dir.path().join("order.avsc");
    std::fs::write(&schema_file, ORDER_SCHEMA).unwrap();
    let expected: Vec<Order> = (0..RECORDS).map(order).collect();
    let records_file = dir.path().join("records.jsonl");
    let lines: Vec<String> = expected
        .iter()
        .map(|o| o.input_json().to_string())
        .collect();
    std::fs::write(&records_file, lines.join("\n") + "\n").unwrap();

    let out = python::run(
        "sr_produce.py",
        &[
            "--bootstrap-servers",
            &kafka.config.bootstrap_servers,
            "--registry",
            &registry.url,
            "--topic",
            &topic,
            "--schema",
            schema_file.to_str().unwrap(),
            "--records",
            records_file.to_str().unwrap(),
            "--count",
            &RECORDS.to_string(),
        ],
    )
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "sr_produce.py failed ({}):\n{}\nregistry stderr:\n{}",
        out.status,
        text(&out.stderr),
        registry.process.stderr()
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("sr_produce.py printed {:?}: {e}", text(&out.stdout)));
    let subject = format!("{topic}-value");
    assert_eq!(summary["count"], json!(RECORDS), "{summary}");
    assert_eq!(summary["subject"], json!(subject), "{summary}");
    let id = summary["schema_id"]
        .as_u64()
        .and_then(|id| u32::try_from(id).ok())
        .unwrap_or_else(|| panic!("no schema id in {summary}"));
    assert_eq!(
        registry.versions(&subject).await,
        json!([1]),
        "the Python serializer registered the schema as version 1 of {subject}"
    );

    // Weft's side: weft-schema's cache (schema_registry_converter's client underneath) fetches
    // the writer schema once, by the id in the framing, and its compiled codec decodes.
    let cache = SchemaCache::from_config(&RegistryClientConfig {
        url: registry.url.clone(),
        ..RegistryClientConfig::default()
    })
    .unwrap();
    let writer =
        Schema::parse_str(&registry.schema(id).await).expect("the registry's schema parses");
    assert_eq!(
        writer.canonical_form(),
        Schema::parse_str(ORDER_SCHEMA).unwrap().canonical_form(),
        "the registry serves the schema Python registered"
    );
    let seen = kafka
        .read_until_async(&topic, true, Duration::from_secs(60), |s| {
            s.len() >= RECORDS
        })
        .await
        .unwrap();
    assert_eq!(seen.len(), RECORDS, "exactly the records produced");
    for (i, (record, want)) in seen.iter().zip(&expected).enumerate() {
        assert_eq!(record.offset, i as i64, "one partition, in order");
        assert_eq!(
            record.key.as_deref(),
            Some(i.to_string().as_bytes()),
            "key of record {i}"
        );
        let value = record.value.as_deref().expect("a value");
        let framed = weft_schema::wire::parse(value)
            .unwrap_or_else(|e| panic!("record {i} is not Confluent-framed: {e}"));
        assert_eq!(framed.schema_id, id, "record {i} carries the registered id");
        let (got_id, compiled, decoded) = cache
            .decode(value)
            .await
            .unwrap_or_else(|e| panic!("record {i} does not decode: {e}"));
        assert_eq!(got_id, id);
        let avro = compiled
            .codec
            .to_avro(&decoded)
            .unwrap_or_else(|e| panic!("record {i}: {e}"));
        let got = Order::from_avro(&avro).unwrap_or_else(|e| panic!("record {i}: {e}"));
        assert_fields_eq(i, &got, want);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weft_records_are_decoded_by_the_confluent_python_deserializer() {
    weft_testkit::init_logging();
    let kafka = ensure_kafka().expect("local Kafka");
    let topic = kafka.topic("sr-weft-to-python", 1).await.unwrap();
    let registry = start_registry(&kafka).await;

    // Weft registers through its cache and encodes with the compiled codec.
    let cache = SchemaCache::from_config(&RegistryClientConfig {
        url: registry.url.clone(),
        ..RegistryClientConfig::default()
    })
    .unwrap();
    let subject = format!("{topic}-value");
    let id = cache.register(&subject, ORDER_SCHEMA).await.unwrap();
    assert_eq!(registry.versions(&subject).await, json!([1]));
    let compiled = cache.schema(id).await.unwrap();
    let expected: Vec<Order> = (0..RECORDS).map(order).collect();
    let mut records: Vec<(String, Vec<u8>)> = Vec::with_capacity(RECORDS);
    for (i, o) in expected.iter().enumerate() {
        let value = compiled
            .codec
            .from_avro(&o.avro())
            .unwrap_or_else(|e| panic!("record {i} does not fit the schema: {e}"));
        let framed = cache
            .encode(id, &value)
            .await
            .unwrap_or_else(|e| panic!("record {i} does not encode: {e}"));
        records.push((i.to_string(), framed));
    }
    kafka.produce(&topic, &records).await.unwrap();

    let out = python::run(
        "sr_consume.py",
        &[
            "--bootstrap-servers",
            &kafka.config.bootstrap_servers,
            "--registry",
            &registry.url,
            "--topic",
            &topic,
            "--count",
            &RECORDS.to_string(),
            "--timeout",
            "90",
        ],
    )
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "sr_consume.py failed ({}):\n{}\nregistry stderr:\n{}",
        out.status,
        text(&out.stderr),
        registry.process.stderr()
    );
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 output");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), RECORDS, "one line per record:\n{stdout}");
    for (i, (line, want)) in lines.iter().zip(&expected).enumerate() {
        let got: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("line {i} is not JSON ({e}): {line}"));
        let want = want.python_json();
        let (Some(got_fields), Some(want_fields)) = (got.as_object(), want.as_object()) else {
            panic!("line {i} is not an object: {line}");
        };
        for (name, w) in want_fields {
            assert_eq!(
                got_fields.get(name),
                Some(w),
                "record {i}, field {name}: {line}"
            );
        }
        assert_eq!(
            got_fields.len(),
            want_fields.len(),
            "record {i}: unexpected fields in {line}"
        );
    }
}

/// Compares two records field by field, naming the first field that differs.
fn assert_fields_eq(i: usize, got: &Order, want: &Order) {
    macro_rules! same {
        ($($field:ident),*) => {$(
            assert_eq!(got.$field, want.$field, "record {i}, field {}", stringify!($field));
        )*};
    }
    same!(
        id, customer, amount, quantity, paid, status, note, created_ms, street, zip, tags,
        attributes, digest, reference, day
    );
}
