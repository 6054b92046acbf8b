//! Ingest's HTTP API against the real broker and Weft's registry: a table of bad inputs with
//! their exact status and error body, accepted events found on the topic (decoded by
//! Confluent's Python deserializer, with key and headers), idempotency keys across a restart,
//! and webhooks with signatures.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;
use tokio_util::sync::CancellationToken;
use weft_ingest::{IngestConfig, IngestMetrics};
use weft_kafka::admin::TopicSpec;
use weft_schema::RegistryClientConfig;
use weft_testkit::registry::TestRegistry;
use weft_testkit::wait::wait_for;
use weft_testkit::{ensure_kafka, repo_root, unique, TestKafka};

const API_KEY: &str = "test-key-0123456789";
const JWT_SECRET: &str = "a-shared-secret-of-at-least-32-bytes!!";
const GITHUB_SECRET: &str = "gh-webhook-secret";
const STRIPE_SECRET: &str = "whsec_test_secret";

const ORDER: &str = r#"{"type":"record","name":"Order","namespace":"weft.test","fields":[
  {"name":"id","type":"string"},
  {"name":"sku","type":"string"},
  {"name":"quantity","type":"int"},
  {"name":"amount_cents","type":"long"},
  {"name":"currency","type":"string","default":"EUR"},
  {"name":"status","type":{"type":"enum","name":"Status","symbols":["NEW","PAID","SHIPPED"]}},
  {"name":"note","type":["null","string"],"default":null},
  {"name":"created_at","type":{"type":"long","logicalType":"timestamp-millis"}},
  {"name":"customer","type":{"type":"record","name":"Customer","fields":[
    {"name":"id","type":"string"},{"name":"email","type":"string"},{"name":"country","type":"string"}]}},
  {"name":"tags","type":{"type":"array","items":"string"},"default":[]},
  {"name":"paid","type":"boolean","default":false},
  {"name":"version","type":"long","default":1}
]}"#;

const DELIVERY: &str = r#"{"type":"record","name":"Delivery","namespace":"weft.test","fields":[
  {"name":"id","type":"string"},{"name":"type","type":"string"}]}"#;

fn order(i: usize) -> Value {
    json!({
        "id": format!("o-{i}"), "sku": "sku-1", "quantity": 2, "amount_cents": 1999,
        "status": "NEW", "created_at": "2026-11-22T10:00:00Z",
        "customer": {"id": format!("c-{}", i % 3), "email": "a@example.com", "country": "DE"}
    })
}

struct Ingest {
    url: String,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), weft_ingest::Error>>,
}

struct Setup {
    kafka: TestKafka,
    registry: TestRegistry,
    orders: String,
    hooks: String,
    idem_topic: String,
    config: String,
}

fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    hex::encode(Sha256::digest(s.as_bytes()))
}

async fn setup() -> Setup {
    let kafka = ensure_kafka().unwrap();
    let registry = TestRegistry::start().await.unwrap();
    let orders = kafka.topic("ingest-orders", 3).await.unwrap();
    let hooks = kafka.topic("ingest-hooks", 1).await.unwrap();
    let idem_topic = unique("idempotency");
    kafka
        .admin()
        .unwrap()
        .create_topics(&[TopicSpec::new(&idem_topic, 3).config("cleanup.policy", "compact")])
        .await
        .unwrap();
    let http = Client::new();
    for (subject, schema) in [
        (format!("{orders}-value"), ORDER),
        (format!("{hooks}-value"), DELIVERY),
    ] {
        let r = http
            .post(format!("{}/subjects/{subject}/versions", registry.url))
            .header("Content-Type", "application/vnd.schemaregistry.v1+json")
            .body(json!({ "schema": schema }).to_string())
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
    let config = format!(
        r#"
listen = "127.0.0.1:0"
[limits]
max_body_bytes = 65536
max_events = 100
request_timeout = "5s"
[idempotency]
topic = "{idem_topic}"
window = "1h"
subject = "{idem_topic}-value"
[topics."{orders}"]
key_field = "customer.id"
allowed_headers = ["x-request-id"]
event_type = "order.created"
[topics."{hooks}"]
allow_unknown_fields = true
[auth]
enabled = true
[[auth.api_keys]]
id = "tests"
sha256 = "{key_hash}"
tenant = "acme"
topics = ["*"]
[[auth.api_keys]]
id = "other"
sha256 = "{other_hash}"
tenant = "other"
topics = ["elsewhere.*"]
[auth.jwt]
issuer = "https://issuer.test/"
audience = "weft-ingest"
hs256_secret = "{JWT_SECRET}"
[[webhooks]]
source = "github"
scheme = "github"
secrets = ["{GITHUB_SECRET}"]
topic = "{hooks}"
[[webhooks]]
source = "stripe"
scheme = "stripe"
secrets = ["{STRIPE_SECRET}"]
topic = "{hooks}"
tolerance = "5m"
"#,
        key_hash = sha256_hex(API_KEY),
        other_hash = sha256_hex("other-key"),
    );
    Setup {
        kafka,
        registry,
        orders,
        hooks,
        idem_topic,
        config,
    }
}

async fn start(s: &Setup) -> Ingest {
    start_with(s, |_| {}).await
}

async fn start_with(s: &Setup, change: impl FnOnce(&mut IngestConfig)) -> Ingest {
    let mut cfg: IngestConfig = toml::from_str(&s.config).unwrap();
    change(&mut cfg);
    let stop = CancellationToken::new();
    let running = weft_ingest::start(
        &cfg,
        &s.kafka.config,
        &RegistryClientConfig {
            url: s.registry.url.clone(),
            ..RegistryClientConfig::default()
        },
        None,
        IngestMetrics::unregistered().unwrap(),
        stop.clone(),
    )
    .await
    .unwrap();
    let url = format!("http://{}", running.addr);
    let task = tokio::spawn(running.serve());
    Ingest { url, stop, task }
}

impl Ingest {
    async fn stop(self) {
        self.stop.cancel();
        self.task.await.unwrap().unwrap();
    }
}

fn jwt(exp_offset_s: i64, topics: &[&str]) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let claims = json!({
        "iss": "https://issuer.test/", "aud": "weft-ingest", "sub": "svc",
        "exp": now + exp_offset_s, "iat": now - 10, "tenant": "acme", "weft_topics": topics,
    });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap()
}

fn hmac_hex(secret: &str, data: &[u8]) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    m.update(data);
    hex::encode(m.finalize().into_bytes())
}

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
    let python = python_path().await;
    let out = tokio::process::Command::new(python)
        .arg(repo_root().join("tests/python/sr_consume.py"))
        .args(["--bootstrap-servers", &s.kafka.config.bootstrap_servers])
        .args(["--registry", &s.registry.url, "--topic", &s.orders])
        .args([
            "--count",
            &expected.to_string(),
            "--timeout",
            "60",
            "--meta",
        ])
        .output()
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

async fn python_path() -> std::path::PathBuf {
    let out = tokio::process::Command::new(repo_root().join("deploy/local/python"))
        .arg("path")
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().into()
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
