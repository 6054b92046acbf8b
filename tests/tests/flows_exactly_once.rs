//! Exactly-once fan-out: 200,000 orders through the example flow (`flows/shop-orders.toml`,
//! field mappings + VRL program + 4 routes with fan-out) while `weft run transform` is killed
//! with SIGKILL twice at random points and restarted with the same transactional id.
//! `read_committed` readers of every destination find each expected output exactly once.

#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "common/flows.rs"]
mod flows_ws;

use std::collections::HashMap;
use std::time::Duration;

use flows_ws::FlowWorkspace;
use rand::Rng;
use weft_schema::codec::{Codec, Value};
use weft_schema::{RegistryClientConfig, SchemaCache};
use weft_testkit::registry::TestRegistry;
use weft_testkit::{ensure_kafka, process, repo_root};

const RECORDS: usize = 200_000;
const COUNTRIES: &[&str] = &["DE", "US", "JP", "FR", "US", "IT"];

/// The destinations of order `i` by the flow's rules (region EU / country US / default;
/// high-value from 1000.00 on, fanned out; the default only when no route matched).
fn destinations(i: usize) -> Vec<&'static str> {
    let country = COUNTRIES[i % COUNTRIES.len()];
    let mut d = Vec::new();
    if amount_cents(i) >= 100_000 {
        d.push("orders.high-value");
    }
    match country {
        "DE" | "FR" | "IT" => d.push("orders.eu"),
        "US" => d.push("orders.us"),
        // The default route takes only what no route matched.
        _ if d.is_empty() => d.push("orders.other"),
        _ => {}
    }
    d
}

fn amount_cents(i: usize) -> i64 {
    // Every 7th order is a large one.
    if i.is_multiple_of(7) {
        150_000 + i as i64
    } else {
        100 + (i % 5000) as i64
    }
}

fn order(i: usize) -> Value {
    // demo.shop.Order: order_id, customer, amount_cents, currency, note, created_at, country, email
    Value::Record(vec![
        Value::String(format!("o-{i}")),
        Value::String(format!("c-{}", i % 997)),
        Value::Long(amount_cents(i)),
        Value::String("EUR".into()),
        Value::Union(0, Box::new(Value::Null)),
        Value::Long(1_793_000_000_000 + i as i64),
        Value::Union(
            1,
            Box::new(Value::String(COUNTRIES[i % COUNTRIES.len()].into())),
        ),
        Value::Union(1, Box::new(Value::String(format!("buyer{i}@example.com")))),
    ])
}

#[tokio::test(flavor = "multi_thread")]
async fn fan_out_survives_two_sigkills_exactly_once() {
    let kafka = ensure_kafka().unwrap();
    let registry = TestRegistry::start().await.unwrap();
    let ws = FlowWorkspace::new(&kafka, 6).await.unwrap();
    let cache = SchemaCache::from_config(&RegistryClientConfig {
        url: registry.url.clone(),
        ..RegistryClientConfig::default()
    })
    .unwrap();
    let input = ws.topic("demo.orders");
    let text = std::fs::read_to_string(repo_root().join("schemas/demo.shop.Order.avsc")).unwrap();
    let id = cache
        .register(&format!("{input}-value"), &text)
        .await
        .unwrap();
    let codec = Codec::parse(&text, &[]).unwrap();
    let records: Vec<(String, Vec<u8>)> = (0..RECORDS)
        .map(|i| {
            (
                format!("c-{}", i % 997),
                codec.encode_framed(id, &order(i)).unwrap(),
            )
        })
        .collect();
    kafka.produce(&input, &records).await.unwrap();
    drop(records);

    let mut expected: HashMap<&str, usize> = HashMap::new();
    for i in 0..RECORDS {
        for d in destinations(i) {
            *expected.entry(d).or_default() += 1;
        }
    }
    let config = ws.config(
        &kafka,
        &registry.url,
        "", // instance_id below keeps the transactional id across restarts
    );
    let config = format!("instance_id = \"eos-test\"\n{config}");
    let eu = ws.topic("orders.eu");
    let total_eu = expected["orders.eu"];
    let mut rng = rand::rng();
    for round in 0..2 {
        let mut weft = process::spawn(&config, &["run", "transform"], &[]).unwrap();
        // Kill at a random point of the run: once a random share of orders.eu is committed.
        let share = rng.random_range(0.15..0.35) + 0.3 * f64::from(round);
        let threshold = (total_eu as f64 * share) as usize;
        kafka
            .read_until_async(&eu, true, Duration::from_secs(180), move |s| {
                s.len() >= threshold
            })
            .await
            .unwrap_or_else(|e| panic!("round {round}: {e}\n{}", weft.stderr()));
        weft.signal("KILL").unwrap();
        weft.wait_exit(Duration::from_secs(10)).await.unwrap();
    }
    let mut weft = process::spawn(&config, &["run", "transform"], &[]).unwrap();

    let canonical = flows_ws::canonical();
    for (t, n) in &expected {
        let topic = ws.topic(t);
        let n = *n;
        kafka
            .read_until_async(&topic, true, Duration::from_secs(240), move |s| {
                s.len() >= n
            })
            .await
            .unwrap_or_else(|e| panic!("{t}: {e}\n{}", weft.stderr()));
        let all = kafka
            .read_all_async(
                &topic,
                true,
                Duration::from_secs(3),
                Duration::from_secs(120),
            )
            .await
            .unwrap();
        assert_eq!(
            all.len(),
            n,
            "{t}: {} records, expected {n} (duplicates or losses)",
            all.len()
        );
        let mut ids = std::collections::HashSet::new();
        for s in &all {
            let body = weft_core::wire::parse(s.value.as_deref().unwrap())
                .unwrap()
                .body;
            let v = canonical.decode(body).unwrap();
            let id = canonical
                .lookup(&v, "id")
                .and_then(Value::as_str)
                .unwrap()
                .to_string();
            let i: usize = id.trim_start_matches("o-").parse().unwrap();
            assert!(destinations(i).contains(t), "{id} is not meant for {t}");
            assert!(ids.insert(id.clone()), "{t}: {id} twice");
        }
    }
    // Nothing was dead-lettered, nothing went elsewhere.
    let dlq = kafka
        .read_all_async(
            &ws.topic("weft.dlq"),
            true,
            Duration::from_secs(2),
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    assert!(dlq.is_empty(), "dead letters: {:?}", dlq.first());
    weft.signal("TERM").unwrap();
    let (status, _) = weft.wait_exit(Duration::from_secs(30)).await.unwrap();
    assert!(status.success(), "{}", weft.stderr());
    registry.stop().await.unwrap();
}
