#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]
//! A copy of the repository's flows, topics and schemas in a temporary folder, with every
//! topic the example flow names given a unique prefix, the topics created on the broker, and
//! a `weft.toml` that runs the flows against a test registry.

use std::path::{Path, PathBuf};

use weft_kafka::admin::TopicSpec;
use weft_schema::codec::Codec;
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
