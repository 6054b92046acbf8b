#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]
//! Ingest on a real broker and Weft's registry, for the ingest test files: a topic for orders
//! and one for webhook deliveries with their schemas, API keys, a JWT secret, webhook secrets,
//! an idempotency topic, and the service started in-process.

use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use reqwest::Client;
use serde_json::{json, Value};
use sha2::Sha256;
use tokio_util::sync::CancellationToken;
use weft_ingest::{IngestConfig, IngestMetrics};
use weft_kafka::admin::TopicSpec;
use weft_kafka::KafkaConfig;
use weft_schema::RegistryClientConfig;
use weft_testkit::registry::TestRegistry;
use weft_testkit::{ensure_kafka, unique, TestKafka};

pub const API_KEY: &str = "test-key-0123456789";
pub const JWT_SECRET: &str = "a-shared-secret-of-at-least-32-bytes!!";
pub const GITHUB_SECRET: &str = "gh-webhook-secret";
pub const STRIPE_SECRET: &str = "whsec_test_secret";

pub const ORDER: &str = r#"{"type":"record","name":"Order","namespace":"weft.test","fields":[
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

pub const DELIVERY: &str = r#"{"type":"record","name":"Delivery","namespace":"weft.test","fields":[
  {"name":"id","type":"string"},{"name":"type","type":"string"}]}"#;

pub fn order(i: usize) -> Value {
    json!({
        "id": format!("o-{i}"), "sku": "sku-1", "quantity": 2, "amount_cents": 1999,
        "status": "NEW", "created_at": "2026-11-22T10:00:00Z",
        "customer": {"id": format!("c-{}", i % 3), "email": "a@example.com", "country": "DE"}
    })
}

pub struct Ingest {
    pub url: String,
    pub stop: CancellationToken,
    pub task: tokio::task::JoinHandle<Result<(), weft_ingest::Error>>,
}

pub struct Setup {
    pub kafka: TestKafka,
    pub registry: TestRegistry,
    pub orders: String,
    pub hooks: String,
    pub idem_topic: String,
    pub config: String,
}

pub fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    hex::encode(Sha256::digest(s.as_bytes()))
}

pub async fn setup() -> Setup {
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

pub async fn start(s: &Setup) -> Ingest {
    start_with(s, |_| {}).await
}

pub async fn start_with(s: &Setup, change: impl FnOnce(&mut IngestConfig)) -> Ingest {
    let mut cfg: IngestConfig = toml::from_str(&s.config).unwrap();
    change(&mut cfg);
    start_on(&cfg, &s.kafka.config, &s.registry.url).await
}

/// Ingest started in-process with `cfg`, on the broker of `kafka` and the registry at
/// `registry_url`.
pub async fn start_on(cfg: &IngestConfig, kafka: &KafkaConfig, registry_url: &str) -> Ingest {
    let stop = CancellationToken::new();
    let running = weft_ingest::start(
        cfg,
        kafka,
        &RegistryClientConfig {
            url: registry_url.to_string(),
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
    pub async fn stop(self) {
        self.stop.cancel();
        self.task.await.unwrap().unwrap();
    }
}

pub fn jwt(exp_offset_s: i64, topics: &[&str]) -> String {
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

pub fn hmac_hex(secret: &str, data: &[u8]) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    m.update(data);
    hex::encode(m.finalize().into_bytes())
}
