//! Ingest validation end to end, against the real broker and Weft's registry in-process:
//! raw records produced to a unique `ingest.*` topic by a plain rdkafka producer are checked by
//! `weft_ingest::validate::run`; the valid ones arrive on the validated topic byte for byte
//! with the `weft.*` headers, each invalid one is on the dead-letter topic with its original
//! bytes and its error code, and the input is committed to its end — in both delivery modes.
//! A registry that cannot be reached stops the route without dead-lettering anything.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::FutureRecord;
use tokio_util::sync::CancellationToken;
use weft_core::headers;
use weft_ingest::validate::{self, ValidateConfig, ValidateRoute};
use weft_kafka::admin::TopicSpec;
use weft_kafka::DeliveryMode;
use weft_schema::client::SubjectVersion;
use weft_schema::codec::Value;
use weft_schema::{RegistryClient, RegistryClientConfig, SchemaCache, SchemaError};
use weft_testkit::registry::TestRegistry;
use weft_testkit::{ensure_kafka, unique, wait_for, TestKafka};

const ORDER: &str = r#"{"type":"record","name":"Order","namespace":"weft.test","fields":[
    {"name":"id","type":"long"},{"name":"customer","type":"string"},
    {"name":"amount","type":"double"}]}"#;
const OTHER: &str = r#"{"type":"record","name":"Shipment","namespace":"weft.test","fields":[
    {"name":"parcel","type":"string"}]}"#;
const VALID: usize = 50;
const TRACE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const PRESET_ID: &str = "0190b6c4-5c3e-7a1b-8f2d-3c4e5f607182";

/// One input record and what should become of it.
struct Input {
    key: String,
    value: Vec<u8>,
    /// `None`: forwarded; `Some(code)`: dead-lettered with this code.
    expect: Option<&'static str>,
    headers: Vec<(&'static str, &'static str)>,
}

fn order(cache_codec: &weft_schema::Codec, id: u32, n: i64) -> Vec<u8> {
    let v = Value::Record(vec![
        Value::Long(n),
        Value::String(format!("customer-{n}")),
        Value::Double(n as f64 * 1.5),
    ]);
    cache_codec.encode_framed(id, &v).unwrap()
}

/// 50 valid records with 4 invalid ones among them (after the 10th, 20th, 30th, 40th).
fn inputs(codec: &weft_schema::Codec, order_id: u32, other_id: u32, other: &[u8]) -> Vec<Input> {
    let mut out = Vec::new();
    for n in 0..VALID {
        let mut headers = vec![("custom", "kept")];
        if n == 0 {
            headers.push((headers::TRACEPARENT, TRACE));
            headers.push((headers::EVENT_ID, PRESET_ID));
        }
        out.push(Input {
            key: format!("k{}", n % 5),
            value: order(codec, order_id, n as i64),
            expect: None,
            headers,
        });
        let bad = match n {
            9 => Some((b"{\"id\":1}".to_vec(), "bad_magic_byte")),
            19 => Some((order(codec, 999_999, 1), "unknown_schema_id")),
            29 => {
                let mut v = weft_core::wire::frame(other_id, &[]);
                v.extend_from_slice(other);
                Some((v, "schema_not_allowed"))
            }
            39 => {
                let mut v = order(codec, order_id, 123_456);
                v.truncate(v.len() - 4);
                Some((v, "decode_failed"))
            }
            _ => None,
        };
        if let Some((value, code)) = bad {
            out.push(Input {
                key: format!("bad-{n}"),
                value,
                expect: Some(code),
                headers: vec![("custom", "kept")],
            });
        }
    }
    out
}

async fn produce(kafka: &TestKafka, topic: &str, inputs: &[Input]) {
    let producer = kafka.producer().unwrap();
    for i in inputs {
        let mut h = OwnedHeaders::new();
        for (k, v) in &i.headers {
            h = h.insert(Header {
                key: k,
                value: Some(v.as_bytes()),
            });
        }
        producer
            .send(
                FutureRecord::to(topic)
                    .key(&i.key)
                    .payload(&i.value)
                    .headers(h),
                Duration::from_secs(10),
            )
            .await
            .map_err(|(e, _)| e)
            .unwrap();
    }
}

fn registry_cfg(url: &str) -> RegistryClientConfig {
    RegistryClientConfig {
        url: url.into(),
        timeout: Duration::from_secs(2),
        ..RegistryClientConfig::default()
    }
}

/// Starts `validate::run` in the background; the token stops it.
fn start(
    kafka: &TestKafka,
    cfg: ValidateConfig,
    registry: RegistryClientConfig,
) -> (
    CancellationToken,
    tokio::task::JoinHandle<Result<(), weft_kafka::Error>>,
) {
    let stop = CancellationToken::new();
    let (k, s) = (kafka.config.clone(), stop.clone());
    let task = tokio::spawn(async move {
        validate::run(
            &k,
            &cfg,
            &registry,
            "test",
            Duration::from_secs(10),
            None,
            s,
        )
        .await
    });
    (stop, task)
}

async fn scenario(mode: DeliveryMode) {
    weft_testkit::init_logging();
    let kafka = ensure_kafka().expect("local Kafka");
    let registry = TestRegistry::start().await.expect("registry");
    let input = kafka.topic("ingest.validate", 1).await.unwrap();
    let to = input.strip_prefix("ingest.").unwrap().to_string();
    let dlq = kafka.topic("dlq.validate", 1).await.unwrap();
    kafka
        .admin()
        .unwrap()
        .create_topics(&[TopicSpec::new(&to, 1)])
        .await
        .unwrap();

    // The allowed schema under `<to>-value`, another one under another subject.
    let rcfg = registry_cfg(&registry.url);
    let cache = SchemaCache::from_config(&rcfg).unwrap();
    let subject = format!("{to}-value");
    let order_id = cache.register(&subject, ORDER).await.unwrap();
    let other_id = cache
        .register(&format!("{}-value", unique("shipments")), OTHER)
        .await
        .unwrap();
    assert_ne!(order_id, other_id);
    let codec = cache.schema(order_id).await.unwrap().codec.clone();
    let other_codec = cache.schema(other_id).await.unwrap().codec.clone();
    let other_body = other_codec
        .encode_to_vec(&Value::Record(vec![Value::String("p-1".into())]))
        .unwrap();

    // The registry call the validation adds, as the client sees it.
    let client = RegistryClient::new(&rcfg).unwrap();
    assert_eq!(
        client.subject_versions(&subject).await.unwrap(),
        vec![SubjectVersion {
            version: 1,
            id: order_id
        }]
    );
    assert!(matches!(
        client.subject_versions(&unique("nobody")).await,
        Err(SchemaError::UnknownSubject { .. })
    ));

    let inputs = inputs(&codec, order_id, other_id, &other_body);
    let total = inputs.len();
    produce(&kafka, &input, &inputs).await;

    let mut route = ValidateRoute::new(vec![input.clone()], "{suffix}");
    route.mode = mode;
    route.dead_letter_topic = dlq.clone();
    let group = unique("validate-group");
    route.group = Some(group.clone());
    let cfg = ValidateConfig {
        routes: vec![route],
        ..ValidateConfig::default()
    };
    let (stop, task) = start(&kafka, cfg, rcfg.clone());

    // Every input offset is committed, then the stage stops cleanly.
    let k = kafka.clone();
    let (g, t) = (group.clone(), input.clone());
    wait_for(
        "the input committed to its end",
        Duration::from_secs(90),
        Duration::from_millis(200),
        || {
            let (k, g, t) = (k.clone(), g.clone(), t.clone());
            async move {
                let c = tokio::task::spawn_blocking(move || k.committed(&g, &t, 1))
                    .await
                    .ok()?
                    .ok()?;
                (c.get(&0) == Some(&(total as i64))).then_some(())
            }
        },
    )
    .await
    .unwrap();
    stop.cancel();
    task.await.unwrap().expect("the stage stops cleanly");

    let quiet = Duration::from_secs(2);
    let out = kafka
        .read_all_async(&to, true, quiet, Duration::from_secs(30))
        .await
        .unwrap();
    let mut dead = kafka
        .read_all_async(&dlq, true, quiet, Duration::from_secs(30))
        .await
        .unwrap();
    // Different keys go through different lanes: order the dead letters by origin offset.
    dead.sort_by_key(|d| d.headers["weft.dlq.origin.offset"].parse::<i64>().unwrap());

    // Exactly the valid records, bytes unchanged, in order (one partition, concurrency 16:
    // order is kept per key, and here per key the inputs are in offset order).
    let valid: Vec<&Input> = inputs.iter().filter(|i| i.expect.is_none()).collect();
    assert_eq!(out.len(), VALID, "exactly the valid records are forwarded");
    let mut by_key: HashMap<&[u8], Vec<&[u8]>> = HashMap::new();
    for s in &out {
        by_key
            .entry(s.key.as_deref().unwrap())
            .or_default()
            .push(s.value.as_deref().unwrap());
    }
    for (key, got) in &by_key {
        let want: Vec<&[u8]> = valid
            .iter()
            .filter(|i| i.key.as_bytes() == *key)
            .map(|i| i.value.as_slice())
            .collect();
        assert_eq!(got, &want, "key {}", String::from_utf8_lossy(key));
    }
    assert_eq!(by_key.values().map(Vec::len).sum::<usize>(), VALID);
    for s in &out {
        let h = &s.headers;
        assert_eq!(h.get("custom").map(String::as_str), Some("kept"));
        let id: uuid::Uuid = h[headers::EVENT_ID].parse().unwrap();
        assert!(id.get_version_num() == 7 || id.to_string() == PRESET_ID);
        assert!(weft_core::time::parse_millis(&h[headers::TIME]).is_some());
        assert_eq!(h[headers::SOURCE], input);
        assert_eq!(h[headers::SCHEMA_ID], order_id.to_string());
        assert_eq!(h[headers::CONTENT_TYPE], headers::CONTENT_TYPE_AVRO);
        assert_eq!(h[headers::ORIGIN_TOPIC], input);
        assert!(h[headers::TRACEPARENT]
            .parse::<weft_core::TraceParent>()
            .is_ok());
    }
    let first = out
        .iter()
        .find(|s| s.value.as_deref() == Some(valid[0].value.as_slice()))
        .unwrap();
    assert_eq!(
        first.headers[headers::EVENT_ID],
        PRESET_ID,
        "a present id is kept"
    );
    assert!(first.headers[headers::TRACEPARENT].starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
    assert_eq!(first.headers[headers::ORIGIN_OFFSET], "0");

    // Exactly the four invalid ones, original bytes, each with its code.
    assert_eq!(
        dead.len(),
        4,
        "exactly the invalid records are dead-lettered"
    );
    let bad: Vec<&Input> = inputs.iter().filter(|i| i.expect.is_some()).collect();
    let offsets: HashMap<&[u8], usize> = inputs
        .iter()
        .enumerate()
        .map(|(o, i)| (i.key.as_bytes(), o))
        .filter(|(k, _)| k.starts_with(b"bad-"))
        .collect();
    for (d, want) in dead.iter().zip(&bad) {
        let h = &d.headers;
        assert_eq!(d.key, Some(Bytes::copy_from_slice(want.key.as_bytes())));
        assert_eq!(
            d.value.as_deref(),
            Some(want.value.as_slice()),
            "original bytes"
        );
        assert_eq!(h["weft.dlq.error.code"], want.expect.unwrap());
        assert_eq!(h["weft.dlq.error.class"], "permanent");
        assert_eq!(h["weft.dlq.origin.topic"], input);
        assert_eq!(
            h["weft.dlq.origin.offset"],
            offsets[want.key.as_bytes()].to_string()
        );
        assert_eq!(h["weft.dlq.service"], "ingest");
        // The subject the value was expected in, for `weft dlq show`'s schema diff.
        assert_eq!(h["weft.dlq.expected.subject"], subject);
        assert_eq!(h.get("custom").map(String::as_str), Some("kept"));
        assert!(
            !h.contains_key(headers::EVENT_ID),
            "dead letters are not stamped"
        );
        eprintln!(
            "{}: {}",
            h["weft.dlq.error.code"], h["weft.dlq.error.message"]
        );
    }
    let not_allowed = &dead[2].headers["weft.dlq.error.message"];
    assert_eq!(
        not_allowed,
        &format!(
            "schema id {other_id} is not a version of subject {subject} (allowed: {order_id})"
        )
    );
    registry.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exactly_once_forwards_the_valid_and_dead_letters_the_rest() {
    scenario(DeliveryMode::ExactlyOnce).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn at_least_once_forwards_the_valid_and_dead_letters_the_rest() {
    scenario(DeliveryMode::AtLeastOnce).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unreachable_registry_stops_the_route_and_dead_letters_nothing() {
    weft_testkit::init_logging();
    let kafka = ensure_kafka().expect("local Kafka");
    let input = kafka.topic("ingest.noreg", 1).await.unwrap();
    let dlq = kafka.topic("dlq.noreg", 1).await.unwrap();
    let codec = weft_schema::Codec::parse(ORDER, &[]).unwrap();
    let records = vec![(String::from("k"), order(&codec, 1, 1))];
    kafka.produce(&input, &records).await.unwrap();

    // Nothing listens on this port.
    let port = weft_testkit::proxy::free_port().await.unwrap();
    let mut route = ValidateRoute::new(vec![input.clone()], "{suffix}");
    route.mode = DeliveryMode::AtLeastOnce;
    route.dead_letter_topic = dlq.clone();
    let group = unique("validate-noreg");
    route.group = Some(group.clone());
    let cfg = ValidateConfig {
        routes: vec![route],
        registry_wait: Duration::from_secs(2),
        ..ValidateConfig::default()
    };
    let (_stop, task) = start(
        &kafka,
        cfg,
        registry_cfg(&format!("http://127.0.0.1:{port}")),
    );
    let e = tokio::time::timeout(Duration::from_secs(60), task)
        .await
        .expect("the route stops by itself")
        .unwrap()
        .expect_err("an unreachable registry is fatal after registry_wait");
    assert!(e.to_string().contains("registry_unavailable"), "{e}");
    let dead = kafka
        .read_all_async(&dlq, false, Duration::from_secs(2), Duration::from_secs(10))
        .await
        .unwrap();
    assert!(dead.is_empty(), "nothing is dead-lettered: {dead:?}");
    let committed = kafka.committed(&group, &input, 1).unwrap();
    assert!(committed.get(&0).is_none_or(|o| *o == 0), "{committed:?}");
}
