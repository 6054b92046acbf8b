//! The broker goes away while requests arrive: clients get 503 (never a 2xx for an event that
//! is not on Kafka), and when the broker is back ingestion resumes without restarting Weft.
//!
//! The test runs its own broker (`deploy/local/kafka` on free ports) so that stopping it does
//! not disturb other tests; the registry stays on the shared one.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::HashSet;
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use weft_ingest::IngestConfig;
use weft_kafka::admin::{Admin, TopicSpec};
use weft_kafka::KafkaConfig;
use weft_testkit::proxy::free_port;
use weft_testkit::registry::TestRegistry;
use weft_testkit::{repo_root, unique, TestKafka};

#[path = "common/ingest.rs"]
mod ingest;
use ingest::start_on;

/// A broker of this test's own, stopped (and its data removed) on drop.
struct OwnBroker {
    env: Vec<(String, String)>,
    config: KafkaConfig,
}

impl OwnBroker {
    async fn start() -> Self {
        let (port, cport) = (free_port().await.unwrap(), free_port().await.unwrap());
        let env = vec![
            ("WEFT_KAFKA_PORT".to_string(), port.to_string()),
            ("WEFT_KAFKA_CONTROLLER_PORT".to_string(), cport.to_string()),
        ];
        let b = Self {
            env,
            config: KafkaConfig {
                bootstrap_servers: format!("127.0.0.1:{port}"),
                ..KafkaConfig::default()
            },
        };
        b.script("start");
        b
    }

    fn script(&self, verb: &str) {
        let status = Command::new(repo_root().join("deploy/local/kafka"))
            .arg(verb)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .status()
            .unwrap();
        assert!(status.success(), "deploy/local/kafka {verb} failed");
    }
}

impl Drop for OwnBroker {
    fn drop(&mut self) {
        let _ = Command::new(repo_root().join("deploy/local/kafka"))
            .arg("stop")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .status();
        // Its data and files live beside the shared broker's, named by port.
        if let Some((_, port)) = self.env.iter().find(|(k, _)| k == "WEFT_KAFKA_PORT") {
            let state = repo_root().join(".local/kafka");
            let _ = std::fs::remove_dir_all(state.join(format!("data-{port}")));
            for f in ["server", "kafka"] {
                for ext in ["properties", "pid", "log", "lock"] {
                    let _ = std::fs::remove_file(state.join(format!("{f}-{port}.{ext}")));
                }
            }
        }
    }
}

const SCHEMA: &str = r#"{"type":"record","name":"Ping","namespace":"weft.test","fields":[
  {"name":"n","type":"long"},{"name":"note","type":"string"}]}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_outage_gives_503_and_ingestion_resumes() {
    let registry = TestRegistry::start().await.unwrap();
    let broker = OwnBroker::start().await;
    let admin = Admin::new(&broker.config).unwrap();
    let topic = unique("outage");
    let idem = unique("outage-idem");
    admin
        .create_topics(&[
            TopicSpec::new(&topic, 1),
            TopicSpec::new(&idem, 1).config("cleanup.policy", "compact"),
        ])
        .await
        .unwrap();
    Client::new()
        .post(format!("{}/subjects/{topic}-value/versions", registry.url))
        .header("Content-Type", "application/vnd.schemaregistry.v1+json")
        .body(json!({ "schema": SCHEMA }).to_string())
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let cfg: IngestConfig = toml::from_str(&format!(
        r#"
listen = "127.0.0.1:0"
[limits]
request_timeout = "3s"
[idempotency]
topic = "{idem}"
subject = "{idem}-value"
[topics."{topic}"]
"#
    ))
    .unwrap();
    let ingest = start_on(&cfg, &broker.config, &registry.url).await;
    let url = format!("{}/v1/topics/{topic}/events", ingest.url);
    let http = Client::new();
    let mut n = 0i64;
    let mut accepted: HashSet<String> = HashSet::new();
    let mut refused = 0usize;
    let send = |n: i64| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let r = http
                .post(&url)
                .json(&json!({"n": n, "note": "outage test"}))
                .send()
                .await
                .unwrap();
            let status = r.status();
            let body: Value = r.json().await.unwrap();
            (status, body)
        }
    };

    // Up: accepted.
    for _ in 0..10 {
        n += 1;
        let (status, body) = send(n).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        accepted.insert(body["id"].as_str().unwrap().to_string());
    }

    // Down: every answer is 503 with Retry-After, or a 2xx whose event must be on Kafka.
    broker.script("stop");
    let down_until = Instant::now() + Duration::from_secs(8);
    while Instant::now() < down_until {
        n += 1;
        let (status, body) = send(n).await;
        match status {
            StatusCode::OK => {
                accepted.insert(body["id"].as_str().unwrap().to_string());
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                refused += 1;
                let code = body["error"]["code"].as_str().unwrap_or("");
                assert!(code.starts_with("kafka_"), "{body}");
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(
        refused >= 3,
        "only {refused} requests were refused while the broker was down"
    );

    // Back: accepted again, same process.
    broker.script("start");
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut resumed = 0;
    while resumed < 10 {
        assert!(Instant::now() < deadline, "ingestion did not resume");
        n += 1;
        let (status, body) = send(n).await;
        if status == StatusCode::OK {
            accepted.insert(body["id"].as_str().unwrap().to_string());
            resumed += 1;
        } else {
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    // Every acknowledged event is on the topic.
    let kafka = TestKafka {
        config: broker.config.clone(),
    };
    let seen = kafka
        .read_all_async(
            &topic,
            true,
            Duration::from_secs(3),
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    let on_topic: HashSet<String> = seen
        .iter()
        .filter_map(|r| r.headers.get("weft.event.id").cloned())
        .collect();
    let missing: Vec<&String> = accepted.difference(&on_topic).collect();
    assert!(
        missing.is_empty(),
        "acknowledged but not on Kafka: {missing:?}"
    );
    ingest.stop().await;
    registry.stop().await.unwrap();
}
