//! A flow whose schema registry becomes unreachable waits: records with a schema id it has
//! not seen yet stay where they are — nothing is dead-lettered because the registry was away
//! — and go through once the registry answers again. Both delivery modes, the registry behind
//! a loopback proxy that the test closes and reopens; and a flow started before its registry
//! waits for it.

#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "common/flows.rs"]
mod flows_ws;

use std::time::Duration;

use flows_ws::{canonical_json, order_v1, FlowWorkspace};
use serde_json::json;
use weft_schema::codec::{Codec, JsonOptions};
use weft_schema::{RegistryClientConfig, SchemaCache};
use weft_testkit::proxy::free_port;
use weft_testkit::registry::TestRegistry;
use weft_testkit::{ensure_kafka, process, repo_root};

fn order(codec: &Codec, id: u32, n: u32, extra: serde_json::Value) -> (String, Vec<u8>) {
    let mut v = json!({
        "order_id": format!("o-{n}"),
        "customer": format!("c-{n}"),
        "amount_cents": 1_000 + i64::from(n),
        "currency": "EUR",
        "note": null,
        "created_at": 1_763_800_000_000_i64,
    });
    if let (Some(v), Some(extra)) = (v.as_object_mut(), extra.as_object()) {
        v.extend(extra.clone());
    }
    let value = codec.from_json(&v, &JsonOptions::default()).unwrap();
    (format!("c-{n}"), codec.encode_framed(id, &value).unwrap())
}

async fn records_wait_for_the_registry(mode: &str) {
    let kafka = ensure_kafka().unwrap();
    let registry = TestRegistry::start().await.unwrap();
    let ws = FlowWorkspace::new(&kafka, 1).await.unwrap();
    ws.edit_flow("mode = \"exactly_once\"", &format!("mode = \"{mode}\""))
        .unwrap();
    let cache = SchemaCache::from_config(&RegistryClientConfig {
        url: registry.url.clone(),
        ..RegistryClientConfig::default()
    })
    .unwrap();
    let input = ws.topic("demo.orders");
    let v2_text =
        std::fs::read_to_string(repo_root().join("schemas/demo.shop.Order.avsc")).unwrap();
    let v2_id = cache
        .register(&format!("{input}-value"), &v2_text)
        .await
        .unwrap();
    // Version 1 under a subject of its own: an id the flow has not seen when the registry goes.
    let v1_text = order_v1();
    let v1_id = cache
        .register(&format!("{}.v1-value", ws.prefix), &v1_text)
        .await
        .unwrap();
    assert_ne!(v1_id, v2_id);
    let (v1, v2) = (
        Codec::parse(&v1_text, &[]).unwrap(),
        Codec::parse(&v2_text, &[]).unwrap(),
    );

    // The flow reaches the registry only through the proxy.
    let port = free_port().await.unwrap();
    let open = registry.proxy_on(port).await.unwrap();
    let config = ws.config(&kafka, &format!("http://127.0.0.1:{port}"), "");
    let mut weft = process::spawn(&config, &["run", "transform"], &[]).unwrap();
    kafka
        .produce(&input, &[order(&v2, v2_id, 0, json!({"country": "DE"}))])
        .await
        .unwrap();
    let eu = ws.topic("orders.eu");
    kafka
        .read_until_async(&eu, true, Duration::from_secs(60), |s| s.len() == 1)
        .await
        .unwrap_or_else(|e| panic!("the flow runs: {e}\n{}", weft.stderr()));

    // The registry goes away; two orders written with the schema the flow has not seen.
    open.cancel();
    let waiting = [
        order(&v1, v1_id, 1, json!({})),
        order(&v1, v1_id, 2, json!({})),
    ];
    kafka.produce(&input, &waiting).await.unwrap();
    let other = ws.topic("orders.other");
    let dlq = ws.topic("weft.dlq");
    let log = weft_testkit::wait::wait_for(
        "the flow to say the record waits",
        Duration::from_secs(30),
        Duration::from_millis(200),
        || {
            let log = weft.stderr();
            async move {
                log.contains("the schema registry is unreachable; the record waits")
                    .then_some(log)
            }
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", weft.stderr()));
    assert!(!log.contains("Flow stopped"), "{log}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    for t in [&other, &dlq] {
        let seen = kafka
            .read_all_async(t, true, Duration::from_secs(1), Duration::from_secs(10))
            .await
            .unwrap();
        assert!(
            seen.is_empty(),
            "{t}: {} records while the registry is away",
            seen.len()
        );
    }

    // The registry is back at the same address: the orders go through, none dead-lettered.
    let reopened = registry.proxy_on(port).await.unwrap();
    let seen = kafka
        .read_until_async(&other, true, Duration::from_secs(90), |s| s.len() >= 2)
        .await
        .unwrap_or_else(|e| panic!("after the registry came back: {e}\n{}", weft.stderr()));
    let mut ids: Vec<String> = canonical_json(seen.iter().map(|r| r.value.as_deref()))
        .into_iter()
        .map(|j| {
            assert_eq!(j["country"], "ZZ");
            j["id"].as_str().unwrap().to_string()
        })
        .collect();
    ids.sort();
    assert_eq!(ids, ["o-1", "o-2"]);
    let all = kafka
        .read_all_async(
            &other,
            true,
            Duration::from_secs(2),
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 2, "exactly once each");
    let dead = kafka
        .read_all_async(&dlq, false, Duration::from_secs(1), Duration::from_secs(10))
        .await
        .unwrap();
    assert!(dead.is_empty(), "{} dead letters", dead.len());

    weft.signal("TERM").unwrap();
    let (exit, _) = weft.wait_exit(Duration::from_secs(30)).await.unwrap();
    assert!(exit.success(), "{exit:?}\n{}", weft.stderr());
    reopened.cancel();
}

#[tokio::test(flavor = "multi_thread")]
async fn exactly_once_records_wait_for_an_unreachable_registry() {
    records_wait_for_the_registry("exactly_once").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn at_least_once_records_wait_for_an_unreachable_registry() {
    records_wait_for_the_registry("at_least_once").await;
}

/// In `weft up` the registry starts beside the flows: a flow that cannot reach it at start-up
/// waits (it registers its output schema first) instead of stopping.
#[tokio::test(flavor = "multi_thread")]
async fn a_flow_waits_for_the_registry_at_start_up() {
    let kafka = ensure_kafka().unwrap();
    let registry = TestRegistry::start().await.unwrap();
    let ws = FlowWorkspace::new(&kafka, 1).await.unwrap();
    let cache = SchemaCache::from_config(&RegistryClientConfig {
        url: registry.url.clone(),
        ..RegistryClientConfig::default()
    })
    .unwrap();
    let input = ws.topic("demo.orders");
    let v2_text =
        std::fs::read_to_string(repo_root().join("schemas/demo.shop.Order.avsc")).unwrap();
    let id = cache
        .register(&format!("{input}-value"), &v2_text)
        .await
        .unwrap();
    let v2 = Codec::parse(&v2_text, &[]).unwrap();

    // Nothing listens on the registry's port yet.
    let port = free_port().await.unwrap();
    let config = ws.config(&kafka, &format!("http://127.0.0.1:{port}"), "");
    let mut weft = process::spawn(&config, &["run", "transform"], &[]).unwrap();
    weft_testkit::wait::wait_for(
        "the flow to wait for the registry",
        Duration::from_secs(60),
        Duration::from_millis(200),
        || {
            let log = weft.stderr();
            async move {
                log.contains("Waiting for the schema registry")
                    .then_some(())
            }
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", weft.stderr()));
    assert!(!weft.stderr().contains("Flow stopped"), "{}", weft.stderr());

    // The registry appears at that address: the flow starts and routes.
    let open = registry.proxy_on(port).await.unwrap();
    kafka
        .produce(&input, &[order(&v2, id, 7, json!({"country": "DE"}))])
        .await
        .unwrap();
    let seen = kafka
        .read_until_async(&ws.topic("orders.eu"), true, Duration::from_secs(90), |s| {
            !s.is_empty()
        })
        .await
        .unwrap_or_else(|e| panic!("after the registry appeared: {e}\n{}", weft.stderr()));
    let ids: Vec<String> = canonical_json(seen.iter().map(|r| r.value.as_deref()))
        .iter()
        .map(|j| j["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["o-7"]);
    weft.signal("TERM").unwrap();
    let (exit, _) = weft.wait_exit(Duration::from_secs(30)).await.unwrap();
    assert!(exit.success(), "{exit:?}\n{}", weft.stderr());
    open.cancel();
}
