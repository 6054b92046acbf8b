//! Ingest around the requests: signed webhooks and redeliveries, callers over their rate,
//! idempotency keys known to every instance, and a topic the broker's ACLs refuse — against
//! the real broker and Weft's registry.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "common/ingest.rs"]
mod ingest;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ingest::{hmac_hex, order, setup, start, start_with, API_KEY, GITHUB_SECRET, STRIPE_SECRET};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use weft_testkit::unique;
use weft_testkit::wait::wait_for;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_webhooks_are_produced_and_redeliveries_are_not() {
    let s = setup().await;
    let ingest = start(&s).await;
    let http = Client::new();
    let body = br#"{"id":"delivery-body","type":"push","ref":"refs/heads/main"}"#;
    let send = || {
        http.post(format!("{}/v1/webhooks/github", ingest.url))
            .header(
                "x-hub-signature-256",
                format!("sha256={}", hmac_hex(GITHUB_SECRET, body)),
            )
            .header("x-github-event", "push")
            .header("x-github-delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
            .body(body.to_vec())
            .send()
    };
    let r = send().await.unwrap();
    let status = r.status();
    let first: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{first}");
    // GitHub redelivers with the same delivery id: same answer, nothing new.
    let r = send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap(), first);

    // Stripe, fresh timestamp.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let sbody = r#"{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{}}}"#;
    let sig = format!(
        "t={now},v1={}",
        hmac_hex(STRIPE_SECRET, format!("{now}.{sbody}").as_bytes())
    );
    let r = http
        .post(format!("{}/v1/webhooks/stripe", ingest.url))
        .header("stripe-signature", sig)
        .body(sbody)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    let records = s
        .kafka
        .read_until_async(&s.hooks, true, Duration::from_secs(30), |r| r.len() >= 2)
        .await
        .unwrap();
    let all = s
        .kafka
        .read_all_async(
            &s.hooks,
            true,
            Duration::from_secs(2),
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 2, "one record per delivery");
    assert_eq!(records.len(), 2);
    let types: Vec<String> = all
        .iter()
        .map(|r| {
            r.headers
                .get("weft.event.type")
                .cloned()
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(
        types,
        vec![
            "github.push".to_string(),
            "stripe.payment_intent.succeeded".to_string()
        ]
    );
    ingest.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_over_their_rate_get_429_and_refused_events_are_audited() {
    let s = setup().await;
    let rejects = s.kafka.topic("ingest-rejects", 1).await.unwrap();
    let r2 = rejects.clone();
    let ingest = start_with(&s, move |c| {
        c.limits.rate_per_second = Some(1);
        c.limits.burst = 3;
        c.rejects_topic = Some(r2);
    })
    .await;
    let http = Client::new();
    let url = format!("{}/v1/topics/{}/events", ingest.url, s.orders);
    let mut bad = order(7);
    bad["status"] = json!("LOST");
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let r = http
            .post(&url)
            .header("x-api-key", API_KEY)
            .json(&bad)
            .send()
            .await
            .unwrap();
        let retry_after = r
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_string());
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(body["error"]["code"], "rate_limited", "{body}");
            assert!(retry_after.is_some_and(|s| s.parse::<u64>().unwrap() >= 1));
        }
        statuses.push(status);
    }
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNPROCESSABLE_ENTITY)
        .count();
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(refused >= 3 && limited >= 1, "{statuses:?}");

    // Each refused event (not the rate-limited requests) is in the rejects topic: the raw
    // event and the reason.
    let audited = s
        .kafka
        .read_all_async(
            &rejects,
            true,
            Duration::from_secs(2),
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    assert_eq!(audited.len(), refused);
    let first = &audited[0];
    let value: Value = serde_json::from_slice(first.value.as_deref().unwrap()).unwrap();
    assert_eq!(value, bad);
    assert_eq!(
        first.headers.get("weft.dlq.error.code").map(String::as_str),
        Some("invalid_input")
    );
    assert_eq!(
        first
            .headers
            .get("weft.dlq.error.field")
            .map(String::as_str),
        Some("status")
    );
    assert!(first.headers["weft.dlq.error.message"].starts_with("bad_enum_symbol: "));
    assert_eq!(first.headers.get("weft.dlq.origin.topic"), Some(&s.orders));
    ingest.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_is_known_to_every_instance() {
    let s = setup().await;
    let (a, b) = (start(&s).await, start(&s).await);
    let http = Client::new();
    let body = serde_json::to_vec(&order(500)).unwrap();
    let post = |base: &str| {
        http.post(format!("{base}/v1/topics/{}/events", s.orders))
            .header("x-api-key", API_KEY)
            .header("idempotency-key", "shared-key")
            .body(body.clone())
            .send()
    };
    let first = post(&a.url).await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let first: Value = first.json().await.unwrap();
    // At once to the other instance: the same answer, nothing new.
    let second = post(&b.url).await.unwrap();
    assert_eq!(
        second
            .headers()
            .get("idempotent-replayed")
            .map(|v| v.to_str().unwrap()),
        Some("true")
    );
    assert_eq!(second.json::<Value>().await.unwrap(), first);
    let all = s
        .kafka
        .read_all_async(
            &s.orders,
            true,
            Duration::from_secs(2),
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 1, "one record for one key");
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_the_broker_refuses_gets_500_not_a_retry_and_other_topics_go_on() {
    let s = setup().await;
    let ingest = start(&s).await;
    let http = Client::new();
    let post_order = |i: usize| {
        http.post(format!("{}/v1/topics/{}/events", ingest.url, s.orders))
            .header("x-api-key", API_KEY)
            .json(&order(i))
            .send()
    };
    assert_eq!(post_order(0).await.unwrap().status(), StatusCode::OK);

    // The broker's ACLs stop Weft writing the orders topic: retrying cannot help, so the
    // answer is 500 without Retry-After, naming the topic.
    s.kafka.deny_writes(&s.orders, true).unwrap();
    let r = post_order(1).await.unwrap();
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(r.headers().get("retry-after").is_none());
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "kafka_not_authorized", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains(&s.orders), "{message}");

    // Another topic of the same ingest goes on.
    let delivery = json!({"id": "d-1", "type": "push"}).to_string();
    let r = http
        .post(format!("{}/v1/webhooks/github", ingest.url))
        .header(
            "x-hub-signature-256",
            format!("sha256={}", hmac_hex(GITHUB_SECRET, delivery.as_bytes())),
        )
        .header("x-github-event", "push")
        .header("x-github-delivery", unique("delivery"))
        .header("content-type", "application/json")
        .body(delivery)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());

    // Only the order from before the refusal is on the topic.
    let seen = s
        .kafka
        .read_all_async(
            &s.orders,
            false,
            Duration::from_secs(2),
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    assert_eq!(seen.len(), 1);

    // Once the right is given back, the same ingest takes orders again, no restart needed.
    s.kafka.deny_writes(&s.orders, false).unwrap();
    wait_for(
        "orders to be accepted again",
        Duration::from_secs(120),
        Duration::from_millis(500),
        || async { (post_order(2).await.ok()?.status() == StatusCode::OK).then_some(()) },
    )
    .await
    .unwrap();
    ingest.stop().await;
}
