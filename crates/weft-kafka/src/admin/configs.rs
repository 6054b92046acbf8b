//! Topic configs and partition counts: read them, change them, grow a topic.
//!
//! Kafka has two requests to change configs. rust-rdkafka 0.39 wraps only the legacy
//! `AlterConfigs`, which *replaces* the whole set of a topic's dynamic configs: a key left out
//! of the request goes back to its default. (`IncrementalAlterConfigs` exists in librdkafka but
//! rust-rdkafka 0.39 has no safe wrapper for it, and the workspace forbids `unsafe`.) So
//! [`Admin::alter_topic_configs`] first reads the topic's current overrides and sends them
//! along with the changes: a key the caller does not name keeps its value. A change another
//! client makes between that read and the write can still be lost; the window is one round
//! trip.

use std::collections::BTreeMap;

use rdkafka::admin::{AlterConfig, ConfigSource, NewPartitions, ResourceSpecifier};
use rdkafka::error::KafkaError;

use super::{admin_options, Admin};
use crate::error::{Error, Result};

/// Where a topic config's current value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigOrigin {
    /// Set on this topic (a dynamic topic config): what `AlterConfigs` replaces.
    Topic,
    /// Inherited from the broker's configuration (static or dynamic).
    Broker,
    /// Kafka's built-in default.
    Default,
    /// The broker did not say.
    Unknown,
}

/// One config of a topic as the cluster reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigValue {
    /// `None` when the value is sensitive (the broker hides it) or unset.
    pub value: Option<String>,
    /// Whether this is the default value (not set on the topic).
    pub is_default: bool,
    pub origin: ConfigOrigin,
    pub read_only: bool,
    pub sensitive: bool,
}

/// Every config of one topic, by name.
pub type TopicConfigs = BTreeMap<String, ConfigValue>;

impl Admin {
    /// The configs of each named topic (every key the broker knows, defaults included).
    pub async fn describe_topic_configs(
        &self,
        topics: &[&str],
    ) -> Result<BTreeMap<String, TopicConfigs>> {
        if topics.is_empty() {
            return Ok(BTreeMap::new());
        }
        let resources: Vec<ResourceSpecifier<'_>> =
            topics.iter().map(|t| ResourceSpecifier::Topic(t)).collect();
        let results = self
            .admin
            .describe_configs(&resources, &admin_options())
            .await
            .map_err(|e| Error::kafka("describing topic configs", e))?;
        let mut out = BTreeMap::new();
        for (topic, result) in topics.iter().zip(results) {
            let resource = result.map_err(|code| {
                Error::kafka(
                    format!("describing the configs of topic {topic}"),
                    KafkaError::AdminOp(code),
                )
            })?;
            let configs = resource
                .entries
                .into_iter()
                .map(|e| {
                    let origin = match e.source {
                        ConfigSource::DynamicTopic => ConfigOrigin::Topic,
                        ConfigSource::DynamicBroker
                        | ConfigSource::DynamicDefaultBroker
                        | ConfigSource::StaticBroker => ConfigOrigin::Broker,
                        ConfigSource::Default => ConfigOrigin::Default,
                        ConfigSource::Unknown => ConfigOrigin::Unknown,
                    };
                    let value = ConfigValue {
                        value: e.value,
                        is_default: e.is_default,
                        origin,
                        read_only: e.is_read_only,
                        sensitive: e.is_sensitive,
                    };
                    (e.name, value)
                })
                .collect();
            out.insert((*topic).to_string(), configs);
        }
        Ok(out)
    }

    /// Sets `changes` on `topic` and keeps every other config already set on it (see the
    /// module documentation). With `validate_only` the broker checks the request and changes
    /// nothing.
    pub async fn alter_topic_configs(
        &self,
        topic: &str,
        changes: &BTreeMap<String, String>,
        validate_only: bool,
    ) -> Result<()> {
        let current = self.describe_topic_configs(&[topic]).await?;
        let current = current.get(topic).cloned().unwrap_or_default();
        let full = merged_overrides(&current, changes).map_err(|key| {
            Error::Config(format!(
                "topic {topic}: config {key} is set on the topic but the broker hides its value \
                 (sensitive); changing other configs would reset it, so nothing was changed"
            ))
        })?;
        let mut request = AlterConfig::new(ResourceSpecifier::Topic(topic));
        for (k, v) in &full {
            request = request.set(k, v);
        }
        let results = self
            .admin
            .alter_configs(&[request], &admin_options().validate_only(validate_only))
            .await
            .map_err(|e| Error::kafka(format!("altering the configs of topic {topic}"), e))?;
        for r in results {
            if let Err((_, code)) = r {
                return Err(Error::kafka(
                    format!("altering the configs of topic {topic}"),
                    KafkaError::AdminOp(code),
                ));
            }
        }
        Ok(())
    }

    /// Grows `topic` to `total` partitions (Kafka cannot remove partitions). With
    /// `validate_only` the broker checks the request and changes nothing.
    pub async fn create_partitions(
        &self,
        topic: &str,
        total: i32,
        validate_only: bool,
    ) -> Result<()> {
        let count = usize::try_from(total)
            .map_err(|_| Error::Config(format!("topic {topic}: {total} partitions")))?;
        let request = NewPartitions::new(topic, count);
        let results = self
            .admin
            .create_partitions(&[request], &admin_options().validate_only(validate_only))
            .await
            .map_err(|e| Error::kafka(format!("adding partitions to topic {topic}"), e))?;
        for r in results {
            if let Err((_, code)) = r {
                return Err(Error::kafka(
                    format!("adding partitions to topic {topic}"),
                    KafkaError::AdminOp(code),
                ));
            }
        }
        Ok(())
    }
}

/// The full set of dynamic configs to send with a legacy `AlterConfigs` request: the topic's
/// current overrides, then `changes` on top. `Err(key)` when an override's value is hidden
/// (sensitive) and not in `changes`, so it cannot be sent back unchanged.
pub fn merged_overrides(
    current: &TopicConfigs,
    changes: &BTreeMap<String, String>,
) -> std::result::Result<BTreeMap<String, String>, String> {
    let mut full = BTreeMap::new();
    for (key, c) in current {
        if c.origin != ConfigOrigin::Topic || changes.contains_key(key) {
            continue;
        }
        match &c.value {
            Some(v) => {
                full.insert(key.clone(), v.clone());
            }
            None => return Err(key.clone()),
        }
    }
    full.extend(changes.iter().map(|(k, v)| (k.clone(), v.clone())));
    Ok(full)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(v: Option<&str>, origin: ConfigOrigin) -> ConfigValue {
        ConfigValue {
            value: v.map(str::to_string),
            is_default: origin != ConfigOrigin::Topic,
            origin,
            read_only: false,
            sensitive: v.is_none(),
        }
    }

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    }

    #[test]
    fn overrides_not_named_are_sent_back_unchanged() {
        let mut current = TopicConfigs::new();
        current.insert(
            "retention.ms".into(),
            value(Some("1000"), ConfigOrigin::Topic),
        );
        current.insert(
            "segment.bytes".into(),
            value(Some("1048576"), ConfigOrigin::Topic),
        );
        current.insert(
            "cleanup.policy".into(),
            value(Some("delete"), ConfigOrigin::Default),
        );
        current.insert(
            "compression.type".into(),
            value(Some("producer"), ConfigOrigin::Broker),
        );
        let full = merged_overrides(&current, &map(&[("retention.ms", "2000")])).unwrap();
        assert_eq!(
            full,
            map(&[("retention.ms", "2000"), ("segment.bytes", "1048576")]),
            "defaults and broker-level values are not pinned on the topic"
        );
    }

    #[test]
    fn a_hidden_override_refuses_the_merge_unless_it_is_changed() {
        let mut current = TopicConfigs::new();
        current.insert("secret.thing".into(), value(None, ConfigOrigin::Topic));
        assert_eq!(
            merged_overrides(&current, &map(&[("retention.ms", "1")])),
            Err("secret.thing".to_string())
        );
        assert_eq!(
            merged_overrides(&current, &map(&[("secret.thing", "x")])),
            Ok(map(&[("secret.thing", "x")]))
        );
    }
}
