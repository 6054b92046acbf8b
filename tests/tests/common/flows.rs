#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]
//! A copy of the repository's flows, topics and schemas in a temporary folder, with every
//! topic the example flow names given a unique prefix, the topics created on the broker, and
//! a `weft.toml` that runs the flows against a test registry.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;
use weft_kafka::admin::TopicSpec;
use weft_schema::codec::{Codec, JsonOptions};
use weft_schema::{RegistryClientConfig, SchemaCache};
use weft_testkit::process::WeftProcess;
use weft_testkit::proxy::free_port;
use weft_testkit::registry::TestRegistry;
use weft_testkit::wait::wait_for;
use weft_testkit::{repo_root, unique, TestKafka};

/// The topics of `flows/shop-orders.toml`: input, destinations, dead letters.
pub const SHOP_TOPICS: &[&str] = &[
    "demo.orders",
    "orders.eu",
    "orders.us",
    "orders.high-value",
    "orders.other",
    "weft.dlq",
];

pub struct FlowWorkspace {
    pub dir: tempfile::TempDir,
    pub prefix: String,
}

impl FlowWorkspace {
    /// Copies `flows/` (flow files, fixtures, tables) and `schemas/`, renames the example's
    /// topics to `<prefix>.<name>` and writes topic files for them; creates the topics.
    pub async fn new(kafka: &TestKafka, partitions: i32) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let prefix = unique("flow");
        let root = repo_root();
        copy_dir(&root.join("schemas"), &dir.path().join("schemas"))?;
        copy_dir(&root.join("flows"), &dir.path().join("flows"))?;
        let ws = Self { dir, prefix };
        for file in [
            ws.flows().join("shop-orders.toml"),
            ws.flows().join("fixtures").join("shop-orders.toml"),
        ] {
            let mut text = std::fs::read_to_string(&file)?;
            for t in SHOP_TOPICS {
                text = text.replace(&format!("\"{t}\""), &format!("\"{}\"", ws.topic(t)));
            }
            if file.ends_with("shop-orders.toml") && !file.to_string_lossy().contains("fixtures") {
                // A group and transactional id of this test's own (stable across restarts).
                text = text.replacen(
                    "mode = ",
                    &format!(
                        "group = \"{p}.shop-orders\"\ntransactional_id = \"{p}.shop-orders.tx\"\nmode = ",
                        p = ws.prefix
                    ),
                    1,
                );
            }
            std::fs::write(&file, text)?;
        }
        let topics = ws.dir.path().join("topics");
        std::fs::create_dir_all(&topics)?;
        let admin = kafka.admin()?;
        for t in SHOP_TOPICS {
            let name = ws.topic(t);
            let schema = match *t {
                "demo.orders" => "\n[value]\nschema = \"demo.shop.Order\"\n",
                "weft.dlq" => "",
                _ => "\n[value]\nschema = \"demo.canonical.Order\"\n",
            };
            std::fs::write(
                topics.join(format!("{name}.toml")),
                format!(
                    "name = \"{name}\"\ndescription = \"test\"\nowner = \"tests\"\npartitions = {partitions}\n{schema}"
                ),
            )?;
            admin
                .create_topics(&[TopicSpec::new(name.clone(), partitions)])
                .await?;
        }
        Ok(ws)
    }

    pub fn topic(&self, name: &str) -> String {
        format!("{}.{name}", self.prefix)
    }

    pub fn flows(&self) -> PathBuf {
        self.dir.path().join("flows")
    }

    /// `weft.toml` for `weft run transform` against `registry_url`.
    pub fn config(&self, kafka: &TestKafka, registry_url: &str, extra: &str) -> String {
        let d = self.dir.path();
        format!(
            r#"
[kafka]
bootstrap_servers = "{}"
[admin]
enabled = false
[log]
format = "json"
level = "info"
[shutdown]
drain_timeout = "10s"
[registry]
enabled = false
[schema_registry]
url = "{registry_url}"
[flows]
dir = "{}"
topics = "{}"
schemas = "{}"
{extra}
"#,
            kafka.config.bootstrap_servers,
            d.join("flows").display(),
            d.join("topics").display(),
            d.join("schemas").display(),
        )
    }

    /// As [`Self::config`], with the admin server on a free port: the config and its
    /// `/ready` URL.
    pub async fn config_with_admin(
        &self,
        kafka: &TestKafka,
        registry_url: &str,
    ) -> (String, String) {
        let port = free_port().await.unwrap();
        let config = self.config(kafka, registry_url, "").replace(
            "[admin]\nenabled = false",
            &format!("[admin]\nlisten = \"127.0.0.1:{port}\""),
        );
        assert!(config.contains(&format!("127.0.0.1:{port}")));
        (config, format!("http://127.0.0.1:{port}/ready"))
    }

    /// Changes the flow file (e.g. the delivery mode) with a text replacement.
    pub fn edit_flow(&self, from: &str, to: &str) -> anyhow::Result<()> {
        let file = self.flows().join("shop-orders.toml");
        let text = std::fs::read_to_string(&file)?;
        anyhow::ensure!(text.contains(from), "{from:?} not in the flow file");
        std::fs::write(&file, text.replace(from, to))?;
        Ok(())
    }
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(entry.file_name()))?;
        } else {
            std::fs::copy(&path, to.join(entry.file_name()))?;
        }
    }
    Ok(())
}

/// The text of a schema file of the repository (`schemas/<name>.avsc`).
pub fn schema_text(name: &str) -> String {
    std::fs::read_to_string(repo_root().join("schemas").join(format!("{name}.avsc"))).unwrap()
}

/// demo.shop.Order as first registered: before `country` and `email` were added.
pub fn order_v1() -> String {
    let mut json: serde_json::Value =
        serde_json::from_str(&schema_text("demo.shop.Order")).unwrap();
    let fields = json["fields"].as_array_mut().unwrap();
    fields.retain(|f| f["name"] != "country" && f["name"] != "email");
    json.to_string()
}

/// The codec of the flow's output, demo.canonical.Order.
pub fn canonical() -> Codec {
    Codec::parse(&schema_text("demo.canonical.Order"), &[]).unwrap()
}

/// The canonical orders of framed record values, as JSON.
pub fn canonical_json<'a>(
    values: impl IntoIterator<Item = Option<&'a [u8]>>,
) -> Vec<serde_json::Value> {
    let codec = canonical();
    values
        .into_iter()
        .map(|v| {
            let framed = weft_core::wire::parse(v.unwrap()).unwrap();
            codec.to_json(&codec.decode(framed.body).unwrap()).unwrap()
        })
        .collect()
}

/// An order of demo.shop.Order version 2, framed with `id`.
pub fn order(
    codec: &Codec,
    id: u32,
    n: u32,
    country: &str,
    amount_cents: i64,
) -> (String, Vec<u8>) {
    let value = codec
        .from_json(
            &json!({
                "order_id": format!("o-{n}"),
                "customer": format!("c-{n}"),
                "amount_cents": amount_cents,
                "currency": "EUR",
                "note": null,
                "created_at": 1_763_800_000_000_i64 + i64::from(n),
                "country": country,
                "email": null,
            }),
            &JsonOptions::default(),
        )
        .unwrap();
    (format!("c-{n}"), codec.encode_framed(id, &value).unwrap())
}

/// Registers demo.shop.Order under the input topic's subject: its codec and id.
pub async fn input_schema(ws: &FlowWorkspace, registry: &TestRegistry) -> (Codec, u32) {
    let cache = SchemaCache::from_config(&RegistryClientConfig {
        url: registry.url.clone(),
        ..RegistryClientConfig::default()
    })
    .unwrap();
    let text = std::fs::read_to_string(repo_root().join("schemas/demo.shop.Order.avsc")).unwrap();
    let id = cache
        .register(&format!("{}-value", ws.topic("demo.orders")), &text)
        .await
        .unwrap();
    (Codec::parse(&text, &[]).unwrap(), id)
}

/// GET `url`: its status and body, `None` when it does not answer.
pub async fn get(url: &str) -> Option<(u16, String)> {
    let r = reqwest::get(url).await.ok()?;
    let status = r.status().as_u16();
    Some((status, r.text().await.ok()?))
}

/// The ids of the first `n` canonical orders on `topic`, sorted (lanes keep the order of a
/// key, not across keys).
pub async fn ids(kafka: &TestKafka, topic: &str, n: usize) -> Vec<String> {
    let seen = kafka
        .read_until_async(topic, true, Duration::from_secs(60), move |s| s.len() >= n)
        .await
        .unwrap();
    let mut ids: Vec<String> = canonical_json(seen.iter().map(|r| r.value.as_deref()))
        .iter()
        .map(|j| j["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

/// Waits until `/ready` answers 503 naming `flow:<flow>` as stopped: its body.
pub async fn wait_flow_stopped(ready: &str, flow: &str, weft: &WeftProcess) -> String {
    let condition = format!("flow:{flow}");
    let body = wait_for(
        "/ready to name the stopped flow",
        Duration::from_secs(90),
        Duration::from_millis(200),
        || {
            let (url, condition) = (ready.to_string(), condition.clone());
            async move {
                let (status, body) = get(&url).await?;
                (status == 503 && body.contains(&condition)).then_some(body)
            }
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", weft.stderr()));
    assert!(body.contains("stopped"), "{body}");
    body
}
