//! Two `weft run registry` processes on one log topic: concurrent registrations through both
//! never share an id, both answer every id identically, and a restart keeps every id.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use reqwest::Client;
use serde_json::{json, Value};
use weft_testkit::process::{spawn, WeftProcess};
use weft_testkit::proxy::free_port;
use weft_testkit::{ensure_kafka, unique, wait_for};

const CT: &str = "application/vnd.schemaregistry.v1+json";

async fn registry(bootstrap: &str, topic: &str) -> (WeftProcess, String) {
    let port = free_port().await.unwrap();
    let config = format!(
        r#"
[kafka]
bootstrap_servers = "{bootstrap}"
[admin]
enabled = false
[registry]
listen = "127.0.0.1:{port}"
topic = "{topic}"
timeout = "20s"
"#
    );
    let process = spawn(&config, &["run", "registry"], &[]).unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = Client::new();
    let probe = format!("{base}/subjects");
    wait_for(
        "the registry to answer",
        Duration::from_secs(60),
        Duration::from_millis(100),
        || async {
            http.get(&probe)
                .send()
                .await
                .ok()
                .filter(|r| r.status().is_success())
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}; stderr:\n{}", process.stderr()));
    (process, base)
}

async fn register(http: &Client, base: &str, subject: &str, schema: &str) -> i64 {
    let r = http
        .post(format!("{base}/subjects/{subject}/versions"))
        .header("Content-Type", CT)
        .body(json!({ "schema": schema }).to_string())
        .send()
        .await
        .unwrap();
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert!(status.is_success(), "{subject}: {status} {v}");
    v["id"].as_i64().unwrap()
}

async fn by_id(http: &Client, base: &str, id: i64) -> Value {
    http.get(format!("{base}/schemas/ids/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn two_processes_share_one_id_space() {
    let kafka = ensure_kafka().unwrap();
    let bootstrap = kafka.config.bootstrap_servers.clone();
    let topic = unique("schemas");
    let (mut a, base_a) = registry(&bootstrap, &topic).await;
    let (b, base_b) = registry(&bootstrap, &topic).await;
    let http = Client::new();

    // 20 distinct schemas at once, alternating between the processes. Half go to one shared
    // subject (each a compatible new version: a new optional field), so the two processes
    // also race for version numbers in the same subject.
    let shared = unique("shared-value");
    let mut tasks = Vec::new();
    for i in 0..20 {
        let base = if i % 2 == 0 {
            base_a.clone()
        } else {
            base_b.clone()
        };
        let (http, shared) = (http.clone(), shared.clone());
        tasks.push(tokio::spawn(async move {
            let (subject, schema) = if i < 10 {
                (
                    shared,
                    format!(
                        r#"{{"type":"record","name":"Shared","fields":[{{"name":"f{i}","type":["null","long"],"default":null}}]}}"#
                    ),
                )
            } else {
                (
                    unique("solo-value"),
                    format!(r#"{{"type":"record","name":"Solo{i}","fields":[{{"name":"x","type":"string"}}]}}"#),
                )
            };
            let id = register(&http, &base, &subject, &schema).await;
            (subject, schema, id)
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    let ids: HashSet<i64> = results.iter().map(|r| r.2).collect();
    assert_eq!(
        ids.len(),
        20,
        "20 distinct schemas must get 20 distinct ids: {results:?}"
    );

    // Both processes answer every id with the same schema.
    for (_, schema, id) in &results {
        let (x, y) = (
            by_id(&http, &base_a, *id).await,
            by_id(&http, &base_b, *id).await,
        );
        assert_eq!(x, y, "id {id}");
        assert_eq!(x["schema"].as_str(), Some(schema.as_str()), "id {id}");
    }
    // The shared subject has 10 versions, the same on both.
    let versions = |base: String| {
        let (http, shared) = (http.clone(), shared.clone());
        async move {
            let v: Value = http
                .get(format!("{base}/subjects/{shared}/versions"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v
        }
    };
    let va = versions(base_a.clone()).await;
    assert_eq!(va, json!((1..=10).collect::<Vec<_>>()));
    assert_eq!(va, versions(base_b.clone()).await);

    // Restart one process: it reads every id back from the log.
    a.signal("TERM").unwrap();
    let (status, _) = a.wait_exit(Duration::from_secs(20)).await.unwrap();
    assert!(status.success(), "stderr:\n{}", a.stderr());
    let (_a2, base_a2) = registry(&bootstrap, &topic).await;
    let mut seen = BTreeMap::new();
    for (_, schema, id) in &results {
        let x = by_id(&http, &base_a2, *id).await;
        assert_eq!(
            x["schema"].as_str(),
            Some(schema.as_str()),
            "id {id} after restart"
        );
        seen.insert(*id, ());
    }
    assert_eq!(seen.len(), 20);
    drop(b);
}
