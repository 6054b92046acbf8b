//! Poison records at every stage, counted end to end on a real broker with Weft's registry.
//!
//! Two stages in a row, as in production: ingest validation (`weft_ingest::validate::run`)
//! of a raw `ingest.*` topic into the example flow's input topic, then the example flow
//! (`weft run transform`, `flows/shop-orders.toml` copied into a workspace, with one line
//! added to its program) into `orders.*`; both share one dead-letter topic and the retry tiers
//! (`[retry]`, `weft run dead-letter`). A plain rdkafka producer writes many valid orders and,
//! among them, records that fail at each stage:
//!
//! - ingest: a value whose first byte is not 0 (`bad_magic_byte`), a schema id the registry
//!   does not know (`unknown_schema_id`), the id of another subject's schema
//!   (`schema_not_allowed`), a body cut short (`decode_failed`);
//! - the flow, from records that pass ingest: an order the VRL program refuses (negative
//!   amount: `transform_failed`) and one whose program output does not fit the output schema
//!   (`schema_mismatch`: the added line sets `amount` to a string for currency `XXX`, which
//!   the start-up check lets through because `amount` may also be a float);
//! - the flow, from records written straight to its input topic by another producer: bad
//!   magic byte, unknown schema id, a body cut short, and a writer schema that cannot be read
//!   as the flow's input schema (`schema_mismatch`);
//! - a transient failure at both stages: each stage reaches the registry through its own
//!   loopback proxy; with both closed, a record written with a schema version registered
//!   meanwhile fails `registry_unavailable` at ingest (and another one at the flow) for all
//!   its in-place attempts, goes to the first retry tier, the proxy reopens, the record is
//!   handed back when due and delivered once. Valid records behind it are delivered while
//!   the registry is still away.
//!
//! Every produced record carries an `x-input` header; at the end every one is found exactly
//! once: in the destination its country routes it to (read_committed, decoded, its
//! `weft.origin.*` pointing at where it was produced) or in the dead-letter topic with its
//! original key and value bytes, the right `weft.dlq.error.code`, stage, service, group and
//! `weft.dlq.origin.*` — delivered + dead-lettered = produced, nothing else anywhere.

#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "common/flows.rs"]
mod flows_ws;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use flows_ws::{canonical_json, schema_text, FlowWorkspace};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use weft_core::{DeadLetter, ErrorClass, Headers};
use weft_ingest::validate::{self, ValidateConfig, ValidateRoute};
use weft_kafka::admin::TopicSpec;
use weft_kafka::{DeliveryMode, RetryTiers, Tier};
use weft_schema::codec::{Codec, JsonOptions};
use weft_schema::{RegistryClientConfig, SchemaCache};
use weft_testkit::kafka::Seen;
use weft_testkit::proxy::free_port;
use weft_testkit::registry::TestRegistry;
use weft_testkit::{ensure_kafka, process, unique};

/// The destinations of the example flow (short names; the workspace prefixes them).
const DESTINATIONS: [&str; 4] = [
    "orders.eu",
    "orders.us",
    "orders.high-value",
    "orders.other",
];
/// Valid orders before the registry goes away, and behind the transient failure.
const VALID: usize = 300;
const VALID_BEHIND: usize = 100;
const DIRECT_VALID: usize = 20;
/// The tier delay (s): long enough to reopen the registry before a record is handed back.
const TIER_DELAY: u64 = 4;
/// `errors.retry` / `ValidateRoute::retry` default: attempts in place before a tier.
const IN_PLACE_ATTEMPTS: &str = "3";

#[path = "poison_e2e/inputs.rs"]
mod inputs;
use inputs::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn poison_records_at_every_stage_are_delivered_once_or_dead_lettered_once() {
    weft_testkit::init_logging();
    let kafka = ensure_kafka().unwrap();
    let registry = TestRegistry::start().await.unwrap();
    let ws = FlowWorkspace::new(&kafka, 2).await.unwrap();
    let p = ws.prefix.clone();
    let input = ws.topic("demo.orders");
    let raw = format!("ingest.{input}");
    let dlq = ws.topic("weft.dlq");
    let (tier0, tier1, ready) = (
        format!("{p}.retry.t0"),
        format!("{p}.retry.t1"),
        format!("{p}.retry.ready"),
    );
    let admin = kafka.admin().unwrap();
    for t in [&raw, &tier0, &tier1, &ready] {
        admin
            .create_topics(&[TopicSpec::new(t.as_str(), 2)])
            .await
            .unwrap();
    }

    // A flow file of our own: the example plus one line whose output does not fit the output
    // schema for currency XXX (amount becomes a string) — typed `float or string`, which the
    // start-up check accepts since it may be right.
    ws.edit_flow(
        ".amount = to_float(.amount_cents) / 100.0\n",
        ".amount = to_float(.amount_cents) / 100.0\nif .currency == \"XXX\" { .amount = \"not a number\" }\n",
    )
    .unwrap();

    // Schemas: the input topic's subject has demo.shop.Order; another subject a shipment; a
    // third an order whose order_id is an int (cannot be read as the flow's input).
    let cache = SchemaCache::from_config(&RegistryClientConfig {
        url: registry.url.clone(),
        ..RegistryClientConfig::default()
    })
    .unwrap();
    let subject = format!("{input}-value");
    let v2_text = schema_text("demo.shop.Order");
    let v2_id = cache.register(&subject, &v2_text).await.unwrap();
    let v2 = Codec::parse(&v2_text, &[]).unwrap();
    let shipment_text = r#"{"type":"record","name":"Shipment","namespace":"weft.test","fields":[{"name":"parcel","type":"string"}]}"#;
    let shipment_id = cache
        .register(&format!("{p}.shipments-value"), shipment_text)
        .await
        .unwrap();
    let shipment = Codec::parse(shipment_text, &[]).unwrap();
    let legacy_text = r#"{"type":"record","name":"Order","namespace":"demo.shop","fields":[
        {"name":"order_id","type":"int"},{"name":"customer","type":"string"},
        {"name":"amount_cents","type":"long"},{"name":"created_at","type":"long"}]}"#;
    let legacy_id = cache
        .register(&format!("{p}.legacy-value"), legacy_text)
        .await
        .unwrap();
    let legacy = Codec::parse(legacy_text, &[]).unwrap();
    // The version registered while the registry is away from the stages: v2 plus a coupon.
    let mut v3_json: serde_json::Value = serde_json::from_str(&v2_text).unwrap();
    v3_json["fields"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "coupon", "type": ["null", "string"], "default": null}));
    let v3_text = v3_json.to_string();
    let v3 = Codec::parse(&v3_text, &[]).unwrap();
    let unknown_id = 999_999;

    // Each stage reaches the registry through its own proxy.
    let (ingest_port, flow_port) = (free_port().await.unwrap(), free_port().await.unwrap());
    let ingest_open = registry.proxy_on(ingest_port).await.unwrap();
    let flow_open = registry.proxy_on(flow_port).await.unwrap();

    // Stage 1: ingest validation, in this process, with the retry tiers.
    let retry_group = format!("{p}.dead-letter");
    let tiers = RetryTiers {
        tiers: vec![
            Tier {
                topic: tier0.clone(),
                delay: Duration::from_secs(TIER_DELAY),
            },
            Tier {
                topic: tier1.clone(),
                delay: Duration::from_secs(TIER_DELAY),
            },
        ],
        ready_topic: ready.clone(),
        park_keys: false,
    };
    let ingest_group = unique("poison-ingest");
    let mut route = ValidateRoute::new(vec![raw.clone()], "{suffix}");
    route.mode = DeliveryMode::ExactlyOnce;
    route.dead_letter_topic = dlq.clone();
    route.group = Some(ingest_group.clone());
    route.transactional_id = Some(format!("{ingest_group}.tx"));
    let mut vc = ValidateConfig {
        routes: vec![route],
        ..ValidateConfig::default()
    };
    vc.dead_letters.retry_tiers = Some(tiers);
    let ingest_stop = CancellationToken::new();
    let ingest_task = {
        let (k, s) = (kafka.config.clone(), ingest_stop.clone());
        let rc = RegistryClientConfig {
            url: format!("http://127.0.0.1:{ingest_port}"),
            timeout: Duration::from_secs(2),
            ..RegistryClientConfig::default()
        };
        tokio::spawn(async move {
            validate::run(&k, &vc, &rc, "test", Duration::from_secs(10), None, s).await
        })
    };

    // Stage 2: the flow, and the retry-tier service, as `weft` processes.
    let retry = format!(
        r#"
[retry]
enabled = true
group = "{retry_group}"
ready_topic = "{ready}"
tiers = [{{ topic = "{tier0}", delay = "{TIER_DELAY}s" }}, {{ topic = "{tier1}", delay = "{TIER_DELAY}s" }}]
"#
    );
    let config = ws.config(&kafka, &format!("http://127.0.0.1:{flow_port}"), &retry);
    let mut weft = process::spawn(&config, &["run", "transform"], &[]).unwrap();
    let mut tiers_service = process::spawn(&config, &["run", "dead-letter"], &[]).unwrap();
    let flow_group = format!("{p}.shop-orders");

    // 1. Many valid orders with poison among them, on the raw topic and straight on the
    // flow's input topic.
    let mut inputs: Vec<Input> = Vec::new();
    for n in 0..VALID {
        inputs.push(valid(&raw, &v2, v2_id, "o", n));
        let ingest_dead = |code| Fate::Dead(Stage::Ingest, code);
        let flow_dead = |code| Fate::Dead(Stage::Flow, code);
        let body = |n: usize| {
            let mut v = encode(
                &v2,
                v2_id,
                &order_json(&format!("x-{n}"), n, Some("DE"), "EUR", 1_000),
            );
            v.drain(..5);
            v
        };
        let bad = match n {
            20 | 160 => Some((
                format!(r#"{{"order_id":"bad-{n}"}}"#).into_bytes(),
                ingest_dead("bad_magic_byte"),
            )),
            40 | 180 => Some((
                weft_core::wire::frame(unknown_id, &body(n)),
                ingest_dead("unknown_schema_id"),
            )),
            60 | 200 => {
                let v = shipment
                    .from_json(
                        &json!({"parcel": format!("p-{n}")}),
                        &JsonOptions::default(),
                    )
                    .unwrap();
                Some((
                    shipment.encode_framed(shipment_id, &v).unwrap(),
                    ingest_dead("schema_not_allowed"),
                ))
            }
            80 | 220 => {
                let mut v = weft_core::wire::frame(v2_id, &body(n));
                v.truncate(v.len() - 6);
                Some((v, ingest_dead("decode_failed")))
            }
            100 | 240 => Some((
                encode(
                    &v2,
                    v2_id,
                    &order_json(&format!("neg-{n}"), n, Some("DE"), "EUR", -500),
                ),
                flow_dead("transform_failed"),
            )),
            120 | 260 => Some((
                encode(
                    &v2,
                    v2_id,
                    &order_json(&format!("xxx-{n}"), n, Some("US"), "XXX", 4_200),
                ),
                flow_dead("schema_mismatch"),
            )),
            _ => None,
        };
        if let Some((value, fate)) = bad {
            inputs.push(poison(&raw, &format!("raw-poison-{n}"), value, fate));
        }
    }
    for n in 0..DIRECT_VALID {
        inputs.push(valid(&input, &v2, v2_id, "d", n));
        let flow_dead = |code| Fate::Dead(Stage::Flow, code);
        let bad = match n {
            3 => Some((b"not avro at all".to_vec(), flow_dead("bad_magic_byte"))),
            6 => {
                let mut v = encode(&v2, v2_id, &order_json("u-6", n, Some("DE"), "EUR", 1_000));
                v[1..5].copy_from_slice(&unknown_id.to_be_bytes());
                Some((v, flow_dead("unknown_schema_id")))
            }
            9 => {
                let mut v = encode(
                    &v2,
                    v2_id,
                    &order_json("cut-9", n, Some("DE"), "EUR", 1_000),
                );
                v.truncate(v.len() - 6);
                Some((v, flow_dead("decode_failed")))
            }
            12 => {
                let l = json!({"order_id": 12, "customer": "c-12", "amount_cents": 1_000,
                    "created_at": 1_763_800_000_000_i64});
                Some((encode(&legacy, legacy_id, &l), flow_dead("schema_mismatch")))
            }
            _ => None,
        };
        if let Some((value, fate)) = bad {
            inputs.push(poison(&input, &format!("direct-poison-{n}"), value, fate));
        }
    }
    let producer = kafka.producer().unwrap();
    produce(&producer, &mut inputs).await;
    wait_landed(&kafka, &ws, &inputs, &weft).await;

    // 2. The registry goes away from both stages; a version is registered meanwhile and a
    // record of it is written to each stage's input; valid records follow behind.
    ingest_open.cancel();
    flow_open.cancel();
    let v3_id = cache.register(&subject, &v3_text).await.unwrap();
    assert!(![v2_id, shipment_id, legacy_id].contains(&v3_id));
    let transient = |topic: &str, order_id: &str, n: usize, country: &str| {
        let mut j = order_json(order_id, n, Some(country), "EUR", 2_500);
        j["coupon"] = json!("WELCOME");
        Input {
            id: order_id.to_string(),
            topic: topic.to_string(),
            key: format!("key-{order_id}"),
            value: encode(&v3, v3_id, &j),
            fate: Fate::Delivered(destination(Some(country))),
            order_id: Some(order_id.to_string()),
            partition: -1,
            offset: -1,
        }
    };
    let mut second = vec![
        transient(&raw, "t-ingest", 1, "DE"),
        transient(&input, "t-flow", 2, "US"),
    ];
    for n in 0..VALID_BEHIND {
        second.push(valid(&raw, &v2, v2_id, "b", n));
    }
    let outage = Instant::now();
    produce(&producer, &mut second).await;

    // The flow's record fails in place, then waits in the first tier; its registry comes back.
    let flow_tiered = wait_tier(&kafka, &tier0, &flow_group, &weft).await;
    eprintln!("the flow's record in the tier after {:?}", outage.elapsed());
    let flow_open = registry.proxy_on(flow_port).await.unwrap();
    // The valid records behind ingest's go through although ingest still cannot reach the
    // registry, and its failing record reaches the first tier. (Exactly-once: they become
    // visible only with it, since a transaction commits once nothing is in flight — measured
    // here, not asserted.)
    let behind = second.iter().skip(2);
    assert!(
        behind.clone().any(|i| i.partition == second[0].partition),
        "valid records behind it on its partition"
    );
    let landed: Vec<Input> = inputs.iter().chain(behind).cloned().collect();
    wait_landed(&kafka, &ws, &landed, &weft).await;
    eprintln!("the records behind delivered after {:?}", outage.elapsed());
    let ingest_tiered = wait_tier(&kafka, &tier0, &ingest_group, &weft).await;
    eprintln!("ingest's record in the tier after {:?}", outage.elapsed());
    let ingest_open = registry.proxy_on(ingest_port).await.unwrap();

    for (t, group, input_topic, stage) in [
        (&flow_tiered, &flow_group, &input, "shop-orders"),
        (&ingest_tiered, &ingest_group, &raw, raw.as_str()),
    ] {
        let h = &t.headers;
        assert_eq!(&h["weft.retry.group"], group);
        assert_eq!(h["weft.retry.tier"], "0");
        assert_eq!(h["weft.dlq.error.code"], "registry_unavailable", "{h:?}");
        assert_eq!(h["weft.dlq.error.class"], "transient");
        assert_eq!(h["weft.dlq.attempt"], IN_PLACE_ATTEMPTS, "{h:?}");
        assert_eq!(&h["weft.dlq.origin.topic"], input_topic);
        assert_eq!(h["weft.dlq.stage"], stage);
    }
    let t_ingest = &second[0];
    assert_eq!(flow_tiered.headers["x-input"], "t-flow");
    assert_eq!(
        flow_tiered.value.as_deref(),
        Some(&second[1].value[..]),
        "original bytes in the tier"
    );
    assert_eq!(ingest_tiered.headers["x-input"], "t-ingest");
    assert_eq!(
        ingest_tiered.headers["weft.dlq.origin.offset"],
        t_ingest.offset.to_string()
    );
    assert_eq!(ingest_tiered.value.as_deref(), Some(&t_ingest.value[..]));

    inputs.extend(second);
    // 3. Everything lands: each record handed back is delivered.
    wait_landed(&kafka, &ws, &inputs, &weft).await;

    // 4. Count end to end, once writers are quiet.
    let read = |topic: String| {
        let k = kafka.clone();
        async move {
            let seen = k
                .read_all_async(
                    &topic,
                    true,
                    Duration::from_secs(3),
                    Duration::from_secs(60),
                )
                .await
                .unwrap();
            (topic, seen)
        }
    };
    let mut topics: Vec<String> = DESTINATIONS.iter().map(|d| ws.topic(d)).collect();
    topics.extend([
        dlq.clone(),
        input.clone(),
        tier0.clone(),
        tier1.clone(),
        ready.clone(),
    ]);
    let all: HashMap<String, Vec<Seen>> = futures::future::join_all(topics.into_iter().map(read))
        .await
        .into_iter()
        .collect();
    let by_id: HashMap<&str, &Input> = inputs.iter().map(|i| (i.id.as_str(), i)).collect();
    assert_eq!(by_id.len(), inputs.len(), "x-input ids are distinct");
    let mut found: HashMap<&str, usize> = HashMap::new();
    let id_of = |s: &Seen, topic: &str| -> String {
        s.headers
            .get("x-input")
            .unwrap_or_else(|| panic!("{topic}: a record that was not produced: {s:?}"))
            .clone()
    };

    // Where each input reached the flow's input topic (ingest forwards bytes unchanged).
    let mut at_flow_input: HashMap<String, (i32, i64)> = HashMap::new();
    for s in &all[&input] {
        let id = id_of(s, &input);
        let i = by_id[id.as_str()];
        assert_eq!(s.value.as_deref(), Some(&i.value[..]), "{id}: bytes kept");
        assert!(
            at_flow_input
                .insert(id.clone(), (s.partition, s.offset))
                .is_none(),
            "{id} forwarded twice"
        );
    }
    let want_at_flow_input = inputs
        .iter()
        .filter(|i| i.topic == input || !matches!(i.fate, Fate::Dead(Stage::Ingest, _)))
        .count();
    assert_eq!(at_flow_input.len(), want_at_flow_input);

    // Delivered: in the right destination, decoded, with its first hop's coordinates.
    let mut delivered = 0;
    for short in DESTINATIONS {
        let topic = ws.topic(short);
        for s in &all[&topic] {
            let id = id_of(s, &topic);
            let i = by_id[id.as_str()];
            assert_eq!(i.fate, Fate::Delivered(short), "{id} in {short}");
            let order = &canonical_json([s.value.as_deref()])[0];
            assert_eq!(order["id"].as_str(), i.order_id.as_deref(), "{id}");
            assert_eq!(s.headers["weft.origin.topic"], i.topic, "{id}");
            assert_eq!(s.headers["weft.origin.partition"], i.partition.to_string());
            assert_eq!(s.headers["weft.origin.offset"], i.offset.to_string());
            assert_eq!(s.key.as_deref(), Some(i.key.as_bytes()));
            *found.entry(i.id.as_str()).or_default() += 1;
            delivered += 1;
        }
    }

    // Dead-lettered: original key and bytes, the right code, stage and origin.
    let mut dead = 0;
    let mut codes: HashMap<(Stage, &str), usize> = HashMap::new();
    for s in &all[&dlq] {
        let id = id_of(s, &dlq);
        let i = by_id[id.as_str()];
        let Fate::Dead(stage, code) = i.fate else {
            panic!("{id} dead-lettered: {:?}", s.headers);
        };
        let h = &s.headers;
        assert_eq!(h["weft.dlq.error.code"], code, "{id}: {h:?}");
        let (service, stage_name, group, origin) = match stage {
            Stage::Ingest => (
                "ingest",
                raw.as_str(),
                &ingest_group,
                (&raw, i.partition, i.offset),
            ),
            Stage::Flow => {
                let (p, o) = at_flow_input[&id];
                ("flow", "shop-orders", &flow_group, (&input, p, o))
            }
        };
        assert_eq!(h["weft.dlq.stage"], stage_name, "{id}");
        assert_eq!(h["weft.dlq.service"], service, "{id}");
        assert_eq!(&h["weft.dlq.origin.topic"], origin.0, "{id}");
        assert_eq!(h["weft.dlq.origin.partition"], origin.1.to_string(), "{id}");
        assert_eq!(h["weft.dlq.origin.offset"], origin.2.to_string(), "{id}");
        assert!(h.keys().all(|k| !k.starts_with("weft.retry.")), "{h:?}");
        let mut headers = Headers::new();
        for (k, v) in h {
            headers.set(k.clone(), v.clone());
        }
        let dl = DeadLetter::from_kafka(s.key.clone(), s.value.clone(), &headers)
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(dl.failure.class, ErrorClass::Permanent, "{id}");
        assert_eq!(dl.failure.attempt, 1, "{id}");
        assert_eq!(dl.failure.group.as_ref(), Some(group), "{id}");
        assert_eq!(dl.failure.replay_count, 0);
        assert!(!dl.failure.message.is_empty(), "{id}");
        assert_eq!(
            dl.original.value,
            Some(Bytes::from(i.value.clone())),
            "{id}: original bytes"
        );
        assert_eq!(dl.original.key, Some(Bytes::from(i.key.clone())), "{id}");
        if code == "transform_failed" {
            assert!(dl
                .failure
                .message
                .contains("amount_cents must not be negative"));
        }
        if matches!(id.as_str(), "raw-poison-120" | "raw-poison-260") {
            assert!(
                dl.failure.message.contains("does not fit"),
                "{id}: {}",
                dl.failure.message
            );
        }
        if id == "direct-poison-12" {
            assert!(
                dl.failure
                    .message
                    .contains("cannot be read as the flow's input"),
                "{}",
                dl.failure.message
            );
        }
        eprintln!("{stage:?} {code}: {}", dl.failure.message);
        *codes.entry((stage, code)).or_default() += 1;
        *found.entry(i.id.as_str()).or_default() += 1;
        dead += 1;
    }

    // Every input exactly once, nothing else anywhere.
    for i in &inputs {
        assert_eq!(
            found.get(i.id.as_str()).copied().unwrap_or(0),
            1,
            "{} ({:?}) seen {:?} times",
            i.id,
            i.fate,
            found.get(i.id.as_str())
        );
    }
    assert_eq!(
        delivered + dead,
        inputs.len(),
        "delivered + dead-lettered = produced"
    );
    let want_dead = inputs
        .iter()
        .filter(|i| matches!(i.fate, Fate::Dead(..)))
        .count();
    assert_eq!(dead, want_dead);
    eprintln!(
        "produced {}, delivered {delivered}, dead-lettered {dead}: {codes:?}",
        inputs.len()
    );
    for (stage, code, n) in [
        (Stage::Ingest, "bad_magic_byte", 2),
        (Stage::Ingest, "unknown_schema_id", 2),
        (Stage::Ingest, "schema_not_allowed", 2),
        (Stage::Ingest, "decode_failed", 2),
        (Stage::Flow, "transform_failed", 2),
        (Stage::Flow, "schema_mismatch", 3),
        (Stage::Flow, "bad_magic_byte", 1),
        (Stage::Flow, "unknown_schema_id", 1),
        (Stage::Flow, "decode_failed", 1),
    ] {
        assert_eq!(codes.get(&(stage, code)), Some(&n), "{stage:?} {code}");
    }

    // The tiers held the two transient records once, handed back once each.
    let t0 = &all[&tier0];
    assert_eq!(t0.len(), 2, "{t0:?}");
    assert!(all[&tier1].is_empty(), "no second tier: {:?}", all[&tier1]);
    let handed = &all[&ready];
    assert_eq!(handed.len(), 2, "{handed:?}");
    for h in handed {
        let due = weft_core::time::parse_millis(&h.headers["weft.retry.due"]).unwrap();
        assert!(h.timestamp_ms.unwrap() >= due, "handed back before due");
    }

    // Stop everything cleanly.
    for w in [&mut weft, &mut tiers_service] {
        w.signal("TERM").unwrap();
        let (status, _) = w.wait_exit(Duration::from_secs(30)).await.unwrap();
        assert!(status.success(), "{}", w.stderr());
    }
    ingest_stop.cancel();
    ingest_task
        .await
        .unwrap()
        .expect("ingest validation stops cleanly");
    flow_open.cancel();
    ingest_open.cancel();
    registry.stop().await.unwrap();
}
