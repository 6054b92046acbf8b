//! Topic administration and cluster checks.
//!
//! `mod.rs` creates, deletes and describes topics; [`configs`] reads and changes topic configs
//! and partition counts (what `weft topics apply` needs).

pub mod configs;

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::producer::{BaseProducer, Producer as _};

use crate::config::{KafkaConfig, Role};
use crate::error::{Error, Result};

/// A topic to create.
#[derive(Debug, Clone)]
pub struct TopicSpec {
    pub name: String,
    pub partitions: i32,
    /// `-1` asks for the cluster's `default.replication.factor`.
    pub replication_factor: i32,
    /// Topic configs (`cleanup.policy`, `retention.ms`, `min.insync.replicas`, ...).
    pub configs: Vec<(String, String)>,
}

impl TopicSpec {
    pub fn new(name: impl Into<String>, partitions: i32) -> Self {
        Self {
            name: name.into(),
            partitions,
            replication_factor: 1,
            configs: Vec::new(),
        }
    }

    pub fn config(mut self, key: &str, value: &str) -> Self {
        self.configs.push((key.into(), value.into()));
        self
    }
}

/// What the cluster says about one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicInfo {
    pub name: String,
    pub partitions: i32,
    /// Replicas of the first partition (Kafka gives every partition of a topic the same
    /// count unless someone reassigned them by hand); 0 when the topic has no partitions.
    pub replication_factor: i32,
}

/// Admin operations against the cluster.
pub struct Admin {
    admin: AdminClient<DefaultClientContext>,
    /// Metadata requests go through a plain client (the admin client has no metadata call).
    meta: BaseProducer,
}

impl Admin {
    pub fn new(cfg: &KafkaConfig) -> Result<Self> {
        let c = cfg.client_config(Role::Admin, "admin");
        // A producer's metadata request for one topic would otherwise create it on a broker
        // with `auto.create.topics.enable` (Kafka's default): describing must not create.
        let mut meta = c.clone();
        meta.set("allow.auto.create.topics", "false");
        Ok(Self {
            admin: c
                .create()
                .map_err(|e| Error::kafka("creating the admin client", e))?,
            meta: meta
                .create()
                .map_err(|e| Error::kafka("creating the metadata client", e))?,
        })
    }

    /// Creates topics; topics that already exist are left as they are (returned as `false`).
    pub async fn create_topics(&self, specs: &[TopicSpec]) -> Result<Vec<(String, bool)>> {
        self.create_topics_with(specs, false).await
    }

    /// Creates topics, or with `validate_only` asks the broker whether it would (partitions,
    /// replication factor and every config are checked; nothing is created). Topics that
    /// already exist are returned as `false`.
    pub async fn create_topics_with(
        &self,
        specs: &[TopicSpec],
        validate_only: bool,
    ) -> Result<Vec<(String, bool)>> {
        let new: Vec<NewTopic<'_>> = specs
            .iter()
            .map(|s| {
                let mut t = NewTopic::new(
                    &s.name,
                    s.partitions,
                    TopicReplication::Fixed(s.replication_factor),
                );
                for (k, v) in &s.configs {
                    t = t.set(k, v);
                }
                t
            })
            .collect();
        let opts = admin_options().validate_only(validate_only);
        let results = self
            .admin
            .create_topics(&new, &opts)
            .await
            .map_err(|e| Error::kafka("creating topics", e))?;
        let mut out = Vec::with_capacity(results.len());
        for r in results {
            match r {
                Ok(name) => out.push((name, true)),
                Err((name, RDKafkaErrorCode::TopicAlreadyExists)) => out.push((name, false)),
                Err((name, code)) => {
                    return Err(Error::kafka(
                        format!("creating topic {name}"),
                        rdkafka::error::KafkaError::AdminOp(code),
                    ))
                }
            }
        }
        Ok(out)
    }

    /// Deletes topics; a topic that does not exist counts as deleted. Every topic's result is
    /// checked: the first refusal is the error (the other topics of the call may be deleted by
    /// then; Kafka has no transaction for this).
    pub async fn delete_topics(&self, names: &[&str]) -> Result<()> {
        let results = self
            .admin
            .delete_topics(names, &admin_options())
            .await
            .map_err(|e| Error::kafka("deleting topics", e))?;
        for r in results {
            if let Err((name, code)) = r {
                if code == RDKafkaErrorCode::UnknownTopicOrPartition {
                    continue;
                }
                return Err(Error::kafka(
                    format!("deleting topic {name}"),
                    rdkafka::error::KafkaError::AdminOp(code),
                ));
            }
        }
        Ok(())
    }

    /// Describes the topics the cluster has (one, or all when `topic` is `None`).
    pub fn describe(&self, topic: Option<&str>, timeout: Duration) -> Result<Vec<TopicInfo>> {
        let md = self
            .meta
            .client()
            .fetch_metadata(topic, timeout)
            .map_err(|e| Error::kafka("fetching metadata", e))?;
        Ok(md
            .topics()
            .iter()
            .filter(|t| t.error().is_none())
            .map(|t| TopicInfo {
                name: t.name().to_string(),
                partitions: i32::try_from(t.partitions().len()).unwrap_or(i32::MAX),
                replication_factor: t
                    .partitions()
                    .first()
                    .map_or(0, |p| i32::try_from(p.replicas().len()).unwrap_or(i32::MAX)),
            })
            .collect())
    }

    /// The brokers that answer a metadata request: the readiness check of a Kafka connection.
    pub fn brokers(&self, timeout: Duration) -> Result<Vec<String>> {
        let md = self
            .meta
            .client()
            .fetch_metadata(None, timeout)
            .map_err(|e| Error::kafka("fetching metadata", e))?;
        Ok(md
            .brokers()
            .iter()
            .map(|b| format!("{}:{} (id {})", b.host(), b.port(), b.id()))
            .collect())
    }
}

/// Admin requests wait up to 30 s for the controller to finish the operation.
fn admin_options() -> AdminOptions {
    AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)))
}
