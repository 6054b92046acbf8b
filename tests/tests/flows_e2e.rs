//! The example flow (`flows/shop-orders.toml`) on a real broker with Weft's registry: the
//! cases of `flows/fixtures/shop-orders.toml` are produced by a plain rdkafka producer in the
//! Confluent wire format, `weft run transform` maps and routes them, and `read_committed`
//! readers of every destination find exactly the expected records (decoded and compared
//! whole), the dead-letter topic the refused one with its original bytes. The input schema
//! gains its optional fields mid-stream, while the flow runs.

#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "common/flows.rs"]
mod flows_ws;

use std::collections::BTreeMap;
use std::time::Duration;

use flows_ws::{order_v1, FlowWorkspace};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::FutureRecord;
use weft_schema::codec::{Codec, JsonOptions};
use weft_schema::{RegistryClientConfig, SchemaCache};
use weft_testkit::registry::TestRegistry;
use weft_testkit::{ensure_kafka, process, repo_root};

#[tokio::test(flavor = "multi_thread")]
async fn fixture_cases_through_the_running_flow_with_schema_evolution() {
    let kafka = ensure_kafka().unwrap();
    let registry = TestRegistry::start().await.unwrap();
    let ws = FlowWorkspace::new(&kafka, 3).await.unwrap();
    let cache = SchemaCache::from_config(&RegistryClientConfig {
        url: registry.url.clone(),
        ..RegistryClientConfig::default()
    })
    .unwrap();
    let input = ws.topic("demo.orders");
    let subject = format!("{input}-value");
    let v1_text = order_v1();
    let v1_id = cache.register(&subject, &v1_text).await.unwrap();
    let v1 = Codec::parse(&v1_text, &[]).unwrap();
    let v2_text =
        std::fs::read_to_string(repo_root().join("schemas/demo.shop.Order.avsc")).unwrap();
    let v2 = Codec::parse(&v2_text, &[]).unwrap();

    let fixtures =
        weft_route::fixtures::read(&ws.flows().join("fixtures").join("shop-orders.toml")).unwrap();
    let cases = &fixtures.cases;
    // Cases whose input has neither `country` nor `email` can be written with version 1.
    let old = |c: &weft_route::fixtures::Case| {
        let t = c.input.as_table().unwrap();
        !t.contains_key("country") && !t.contains_key("email")
    };
    assert!(cases.iter().any(old), "the fixtures have a version-1 case");
    assert!(cases.iter().any(|c| !old(c)));

    let producer = kafka.producer().unwrap();
    let produce = |case: &weft_route::fixtures::Case, codec: &Codec, id: u32| {
        let json = weft_route::fixtures::to_json(&case.input);
        let value = codec.from_json(&json, &JsonOptions::default()).unwrap();
        let bytes = codec.encode_framed(id, &value).unwrap();
        let key = case.key.clone().unwrap_or_default();
        let mut h = OwnedHeaders::new();
        h = h.insert(Header {
            key: "x-case",
            value: Some(case.name.as_bytes()),
        });
        (key, bytes, h)
    };
    // 1. Version-1 records, before the flow runs.
    for c in cases.iter().filter(|c| old(c)) {
        let (key, bytes, h) = produce(c, &v1, v1_id);
        producer
            .send(
                FutureRecord::to(&input)
                    .key(&key)
                    .payload(&bytes)
                    .headers(h),
                Duration::from_secs(10),
            )
            .await
            .map_err(|(e, _)| e)
            .unwrap();
    }
    let mut weft = process::spawn(
        &ws.config(&kafka, &registry.url, ""),
        &["run", "transform"],
        &[],
    )
    .unwrap();
    let other = ws.topic("orders.other");
    kafka
        .read_until_async(&other, true, Duration::from_secs(60), |s| !s.is_empty())
        .await
        .unwrap_or_else(|e| {
            panic!(
                "the version-1 order on orders.other: {e}\n{}",
                weft.stderr()
            )
        });

    // 2. The schema gains its optional fields while the flow runs; the rest of the cases
    // are written with version 2.
    let v2_id = cache.register(&subject, &v2_text).await.unwrap();
    assert_ne!(v1_id, v2_id);
    for c in cases.iter().filter(|c| !old(c)) {
        let (key, bytes, h) = produce(c, &v2, v2_id);
        producer
            .send(
                FutureRecord::to(&input)
                    .key(&key)
                    .payload(&bytes)
                    .headers(h),
                Duration::from_secs(10),
            )
            .await
            .map_err(|(e, _)| e)
            .unwrap();
    }

    // 3. Every destination holds exactly the expected records.
    let canonical = flows_ws::canonical();
    let mut expected: BTreeMap<String, Vec<(String, &weft_route::fixtures::Expected)>> =
        BTreeMap::new();
    for c in cases {
        for e in &c.expect {
            expected
                .entry(e.topic.clone())
                .or_default()
                .push((c.name.clone(), e));
        }
    }
    for t in [
        "orders.eu",
        "orders.us",
        "orders.high-value",
        "orders.other",
    ] {
        let topic = ws.topic(t);
        let want = expected.get(&topic).map_or(&[][..], Vec::as_slice);
        let n = want.len();
        let seen = kafka
            .read_until_async(&topic, true, Duration::from_secs(60), move |s| s.len() >= n)
            .await
            .unwrap_or_else(|e| panic!("{t}: {e}\n{}", weft.stderr()));
        // Nothing more arrives.
        let all = kafka
            .read_all_async(
                &topic,
                true,
                Duration::from_secs(2),
                Duration::from_secs(20),
            )
            .await
            .unwrap();
        assert_eq!(all.len(), n, "{t}: {} records, expected {n}", all.len());
        assert_eq!(seen.len(), n);
        for (case, exp) in want {
            let got = all
                .iter()
                .find(|s| s.headers.get("x-case") == Some(case))
                .unwrap_or_else(|| panic!("{t}: no record for case {case:?}"));
            let framed = weft_core::wire::parse(got.value.as_deref().unwrap()).unwrap();
            let value = canonical.decode(framed.body).unwrap();
            let want_value = canonical
                .from_json(
                    &weft_route::fixtures::to_json(&exp.value),
                    &JsonOptions::default(),
                )
                .unwrap();
            assert_eq!(
                value,
                want_value,
                "{t}, case {case:?}: {:?}",
                weft_route::fixtures::value_diff(&canonical, &want_value, &value)
            );
            assert_eq!(got.headers["weft.schema.id"], framed.schema_id.to_string());
            assert_eq!(got.headers["weft.origin.topic"], input);
            if let Some(k) = &exp.key {
                assert_eq!(got.key.as_deref(), Some(k.as_bytes()), "{t}, case {case:?}");
            }
            for (h, v) in &exp.headers {
                assert_eq!(
                    got.headers.get(h),
                    Some(v),
                    "{t}, case {case:?}: header {h}"
                );
            }
        }
    }

    // 4. The refused case is on the dead-letter topic with its original bytes and reason.
    let dlq = ws.topic("weft.dlq");
    let refused: Vec<_> = cases.iter().filter(|c| c.dead_letter.is_some()).collect();
    let n = refused.len();
    let dead = kafka
        .read_until_async(&dlq, true, Duration::from_secs(30), move |s| s.len() >= n)
        .await
        .unwrap();
    let dead_all = kafka
        .read_all_async(&dlq, true, Duration::from_secs(2), Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(dead_all.len(), n, "dead letters: {dead_all:?}");
    assert_eq!(dead.len(), n);
    for c in refused {
        let d = dead_all
            .iter()
            .find(|s| s.headers.get("x-case") == Some(&c.name))
            .unwrap_or_else(|| panic!("no dead letter for {:?}", c.name));
        let (_, original, _) = produce(c, &v2, v2_id);
        assert_eq!(
            d.value.as_deref(),
            Some(&original[..]),
            "original bytes kept"
        );
        assert_eq!(
            Some(d.headers["weft.dlq.error.code"].as_str()),
            c.dead_letter.as_deref()
        );
        assert_eq!(d.headers["weft.dlq.origin.topic"], input);
        assert_eq!(d.headers["weft.dlq.service"], "flow");
        assert_eq!(d.headers["weft.dlq.stage"], "shop-orders");
        assert!(
            d.headers["weft.dlq.error.message"].contains("amount_cents must not be negative"),
            "{}",
            d.headers["weft.dlq.error.message"]
        );
    }

    weft.signal("TERM").unwrap();
    let (status, _) = weft.wait_exit(Duration::from_secs(30)).await.unwrap();
    assert!(status.success(), "{}", weft.stderr());
    registry.stop().await.unwrap();
}
