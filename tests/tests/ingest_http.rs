//! Ingest's HTTP API against the real broker and Weft's registry: a table of bad inputs with
//! their exact status and error body, and accepted events found on the topic (decoded by
//! Confluent's Python deserializer, with key and headers). Webhooks, rate limits, idempotency
//! across instances and broker refusals: `ingest_operations.rs`.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "common/ingest.rs"]
mod ingest;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ingest::{hmac_hex, jwt, order, setup, start, API_KEY, STRIPE_SECRET};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

struct Req {
    name: &'static str,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    status: StatusCode,
    code: &'static str,
    path_in_error: Option<&'static str>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inputs_get_their_exact_status_and_nothing_is_produced() {
    let s = setup().await;
    let ingest = start(&s).await;
    let http = Client::new();
    let events = format!("/v1/topics/{}/events", s.orders);
    let key = || ("x-api-key", API_KEY.to_string());
    let with = |mut v: Value, field: &str, x: Value| {
        v[field] = x;
        serde_json::to_vec(&v).unwrap()
    };
    let without = |field: &str| {
        let mut v = order(0);
        v.as_object_mut().unwrap().remove(field);
        serde_json::to_vec(&v).unwrap()
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let stripe_body =
        br#"{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{}}}"#.to_vec();
    let stale = now - 3600;
    let stripe_sig = format!(
        "t={stale},v1={}",
        hmac_hex(
            STRIPE_SECRET,
            format!("{stale}.{}", String::from_utf8_lossy(&stripe_body)).as_bytes()
        )
    );
    let cases = vec![
        Req {
            name: "malformed JSON",
            path: events.clone(),
            headers: vec![key()],
            body: b"{\"id\": ".to_vec(),
            status: StatusCode::BAD_REQUEST,
            code: "malformed_json",
            path_in_error: None,
        },
        Req {
            name: "wrong type",
            path: events.clone(),
            headers: vec![key()],
            body: with(order(0), "quantity", json!("two")),
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "wrong_type",
            path_in_error: Some("quantity"),
        },
        Req {
            name: "missing required field",
            path: events.clone(),
            headers: vec![key()],
            body: without("sku"),
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "missing_field",
            path_in_error: Some("sku"),
        },
        Req {
            name: "unknown field",
            path: events.clone(),
            headers: vec![key()],
            body: with(order(0), "colour", json!("red")),
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "unknown_field",
            path_in_error: Some("colour"),
        },
        Req {
            name: "enum symbol not in schema",
            path: events.clone(),
            headers: vec![key()],
            body: with(order(0), "status", json!("LOST")),
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "bad_enum_symbol",
            path_in_error: Some("status"),
        },
        Req {
            name: "oversized body",
            path: events.clone(),
            headers: vec![key()],
            body: vec![b' '; 70_000],
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "body_too_large",
            path_in_error: None,
        },
        Req {
            name: "unknown topic",
            path: "/v1/topics/no-such-topic/events".into(),
            headers: vec![("x-api-key", API_KEY.into())],
            body: serde_json::to_vec(&order(0)).unwrap(),
            status: StatusCode::NOT_FOUND,
            code: "unknown_topic",
            path_in_error: None,
        },
        Req {
            name: "missing API key",
            path: events.clone(),
            headers: vec![],
            body: serde_json::to_vec(&order(0)).unwrap(),
            status: StatusCode::UNAUTHORIZED,
            code: "missing_credentials",
            path_in_error: None,
        },
        Req {
            name: "wrong API key",
            path: events.clone(),
            headers: vec![("x-api-key", "nope".into())],
            body: serde_json::to_vec(&order(0)).unwrap(),
            status: StatusCode::UNAUTHORIZED,
            code: "invalid_api_key",
            path_in_error: None,
        },
        Req {
            name: "key for other topics",
            path: events.clone(),
            headers: vec![("x-api-key", "other-key".into())],
            body: serde_json::to_vec(&order(0)).unwrap(),
            status: StatusCode::FORBIDDEN,
            code: "topic_not_allowed",
            path_in_error: None,
        },
        Req {
            name: "expired JWT",
            path: events.clone(),
            headers: vec![(
                "authorization",
                format!("Bearer {}", jwt(-3600, &[&s.orders])),
            )],
            body: serde_json::to_vec(&order(0)).unwrap(),
            status: StatusCode::UNAUTHORIZED,
            code: "token_expired",
            path_in_error: None,
        },
        Req {
            name: "bad webhook signature",
            path: "/v1/webhooks/github".into(),
            headers: vec![
                (
                    "x-hub-signature-256",
                    format!("sha256={}", hmac_hex("wrong", b"{}")),
                ),
                ("x-github-event", "push".into()),
                ("x-github-delivery", "d-1".into()),
            ],
            body: b"{}".to_vec(),
            status: StatusCode::UNAUTHORIZED,
            code: "bad_signature",
            path_in_error: None,
        },
        Req {
            name: "stale Stripe timestamp",
            path: "/v1/webhooks/stripe".into(),
            headers: vec![("stripe-signature", stripe_sig)],
            body: stripe_body,
            status: StatusCode::UNAUTHORIZED,
            code: "stale_timestamp",
            path_in_error: None,
        },
    ];
    for c in cases {
        let mut req = http
            .post(format!("{}{}", ingest.url, c.path))
            .header("content-type", "application/json")
            .body(c.body);
        for (k, v) in &c.headers {
            req = req.header(*k, v);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        assert_eq!(status, c.status, "{}: {body}", c.name);
        assert_eq!(body["error"]["code"], c.code, "{}: {body}", c.name);
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{}: {body}",
            c.name
        );
        if let Some(p) = c.path_in_error {
            assert_eq!(body["error"]["path"], p, "{}: {body}", c.name);
        }
    }
    // None of them produced anything.
    let on_topic = s
        .kafka
        .read_all_async(
            &s.orders,
            true,
            Duration::from_secs(2),
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    assert!(
        on_topic.is_empty(),
        "{} records were produced",
        on_topic.len()
    );
    ingest.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepted_events_are_on_the_topic_once_and_python_decodes_them() {
    let s = setup().await;
    let ingest = start(&s).await;
    let http = Client::new();
    let events = format!("{}/v1/topics/{}/events", ingest.url, s.orders);
    let post = |body: Vec<u8>, extra: Vec<(&'static str, String)>| {
        let mut req = http
            .post(&events)
            .header("x-api-key", API_KEY)
            .header("content-type", "application/json")
            .body(body);
        for (k, v) in extra {
            req = req.header(k, v);
        }
        req.send()
    };

    // One event, with a trace and an allowed header.
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let r = post(
        serde_json::to_vec(&order(0)).unwrap(),
        vec![
            ("traceparent", traceparent.into()),
            ("x-request-id", "req-1".into()),
            ("x-not-allowed", "no".into()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let single: Value = r.json().await.unwrap();
    assert_eq!(single["topic"], json!(s.orders));

    // A batch of 10 with one bad event: 207, 9 produced, the bad one named by index and path.
    let mut batch: Vec<Value> = (1..=10).map(order).collect();
    batch[4]["quantity"] = json!(1.5);
    let r = post(serde_json::to_vec(&batch).unwrap(), vec![])
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::MULTI_STATUS);
    let b: Value = r.json().await.unwrap();
    assert_eq!(
        (b["produced"].as_u64(), b["failed"].as_u64()),
        (Some(9), Some(1)),
        "{b}"
    );
    assert_eq!(b["results"][4]["error"]["path"], "quantity", "{b}");

    // Idempotency: the same key and body again (also after a restart) gives the same answer
    // and nothing new; the same key with another body is refused.
    let body = serde_json::to_vec(&order(100)).unwrap();
    let idem = || vec![("idempotency-key", "idem-1".to_string())];
    let first: Value = post(body.clone(), idem())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = post(body.clone(), idem()).await.unwrap();
    assert_eq!(
        r.headers()
            .get("idempotent-replayed")
            .map(|v| v.to_str().unwrap()),
        Some("true")
    );
    assert_eq!(r.json::<Value>().await.unwrap(), first);
    ingest.stop().await;
    let ingest = start(&s).await;
    let events = format!("{}/v1/topics/{}/events", ingest.url, s.orders);
    let again = http
        .post(&events)
        .header("x-api-key", API_KEY)
        .header("idempotency-key", "idem-1")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(
        again.json::<Value>().await.unwrap(),
        first,
        "the same answer after a restart"
    );
    let reused = http
        .post(&events)
        .header("x-api-key", API_KEY)
        .header("idempotency-key", "idem-1")
        .body(serde_json::to_vec(&order(101)).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(reused.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // On the topic: 1 + 9 + 1 records, no more.
    let expected = 11;
    let records = s
        .kafka
        .read_until_async(&s.orders, true, Duration::from_secs(30), move |r| {
            r.len() >= expected
        })
        .await
        .unwrap();
    let extra = s
        .kafka
        .read_all_async(
            &s.orders,
            true,
            Duration::from_secs(2),
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    assert_eq!(extra.len(), expected, "exactly the acknowledged events");
    assert_eq!(records.len(), expected);

    // Confluent's Python deserializer decodes each, with the key and headers ingest set.
    let count = expected.to_string();
    let out = weft_testkit::python::run(
        "sr_consume.py",
        &[
            "--bootstrap-servers",
            &s.kafka.config.bootstrap_servers,
            "--registry",
            &s.registry.url,
            "--topic",
            &s.orders,
            "--count",
            &count,
            "--timeout",
            "60",
            "--meta",
        ],
    )
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), expected);
    let first_record = lines
        .iter()
        .find(|l| l["value"]["id"] == "o-0")
        .expect("the single event");
    assert_eq!(first_record["key"], "c-0", "key from customer.id");
    let h = &first_record["headers"];
    assert_eq!(h["weft.event.id"], single["id"]);
    assert_eq!(h["weft.event.type"], "order.created");
    assert_eq!(h["weft.tenant"], "acme");
    assert_eq!(h["x-request-id"], "req-1");
    assert!(h.get("x-not-allowed").is_none());
    assert!(
        h["traceparent"]
            .as_str()
            .unwrap()
            .contains("4bf92f3577b34da6a3ce929d0e0e4736"),
        "trace continued: {h}"
    );
    assert_eq!(first_record["value"]["currency"], "EUR", "default filled");
    let ids: std::collections::HashSet<&str> = lines
        .iter()
        .map(|l| l["value"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), expected, "no duplicates");
    assert!(!ids.contains("o-5"), "the refused event is not there");
    ingest.stop().await;
    s.registry.stop().await.unwrap();
    let _ = s.idem_topic;
}
