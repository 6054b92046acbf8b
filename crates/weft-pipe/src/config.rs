//! `[[pipes]]` in `weft.toml`: which topics to copy where, and how.

use std::time::Duration;
use weft_kafka::options::defaults;

use serde::Deserialize;
use weft_kafka::{ConsumerOptions, DeliveryMode, Ordering, RetryPolicy};

/// One pipe: copies every record of `from` to `to`, keeping key, value bytes and headers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipeConfig {
    pub name: String,
    /// Input topics.
    pub from: Vec<String>,
    /// Destination topic; `{topic}` is replaced by the input topic (`mirror.{topic}`).
    pub to: String,
    /// Consumer group; defaults to `weft.pipe.<name>`.
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub mode: DeliveryMode,
    #[serde(default)]
    pub ordering: Ordering,
    #[serde(default = "defaults::concurrency")]
    pub concurrency: usize,
    #[serde(default = "defaults::max_in_flight")]
    pub max_in_flight: usize,
    #[serde(default = "defaults::commit_interval", with = "humantime_serde")]
    pub commit_interval: Duration,
    /// Where records that cannot be copied go; without it such a record stops the pipe.
    #[serde(default)]
    pub dead_letter_topic: Option<String>,
    /// Exactly-once only; defaults to `weft.pipe.<name>.<instance id>`.
    #[serde(default)]
    pub transactional_id: Option<String>,
    #[serde(default = "defaults::auto_offset_reset")]
    pub auto_offset_reset: String,
    #[serde(default)]
    pub retry: RetryPolicy,
    /// Retry tiers and extra dead-letter headers, from `[retry]` and `[dead_letter]` (set by
    /// the caller, not read from `[[pipes]]`).
    #[serde(skip)]
    pub dead_letters: weft_kafka::DeadLetterOptions,
}

impl PipeConfig {
    /// A pipe with every default.
    pub fn new(name: &str, from: Vec<String>, to: &str) -> Self {
        Self {
            name: name.into(),
            from,
            to: to.into(),
            group: None,
            mode: DeliveryMode::AtLeastOnce,
            ordering: Ordering::Key,
            concurrency: defaults::concurrency(),
            max_in_flight: defaults::max_in_flight(),
            commit_interval: defaults::commit_interval(),
            dead_letter_topic: None,
            transactional_id: None,
            auto_offset_reset: defaults::auto_offset_reset(),
            retry: RetryPolicy::default(),
            dead_letters: weft_kafka::DeadLetterOptions::default(),
        }
    }

    /// Every problem with this pipe, each naming its key under `pipes.<index>`.
    pub fn validate(&self, index: usize) -> Vec<String> {
        let at = format!("pipes.{index}");
        let mut e = Vec::new();
        if self.name.trim().is_empty() {
            e.push(format!("{at}.name: must not be empty"));
        }
        if self.from.is_empty() {
            e.push(format!("{at}.from: name at least one input topic"));
        }
        if self.to.trim().is_empty() {
            e.push(format!("{at}.to: must not be empty"));
        }
        if !self.to.contains("{topic}") && self.from.iter().any(|f| f == &self.to) {
            e.push(format!(
                "{at}.to: {:?} is also an input topic (a loop)",
                self.to
            ));
        }
        let opts = self.consumer_options("validate", "0", Duration::from_secs(1));
        e.extend(opts.validate().into_iter().map(|m| format!("{at}: {m}")));
        e
    }

    /// The consumer loop options of this pipe.
    pub fn consumer_options(
        &self,
        service: &str,
        instance_id: &str,
        drain_timeout: Duration,
    ) -> ConsumerOptions {
        let mut o = ConsumerOptions::new(
            service,
            &self.name,
            &self
                .group
                .clone()
                .unwrap_or_else(|| format!("weft.pipe.{}", self.name)),
            self.from.clone(),
        );
        o.mode = self.mode;
        o.ordering = self.ordering;
        o.concurrency = self.concurrency;
        o.max_in_flight = self.max_in_flight;
        o.commit_interval = self.commit_interval;
        o.drain_timeout = drain_timeout;
        o.dead_letter_topic = self.dead_letter_topic.clone();
        o.transactional_id = Some(
            self.transactional_id
                .clone()
                .unwrap_or_else(|| format!("weft.pipe.{}.{instance_id}", self.name)),
        );
        o.retry = self.retry.clone();
        o.auto_offset_reset = self.auto_offset_reset.clone();
        o.dead_letters = self.dead_letters.clone();
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_derived_names() {
        let p = PipeConfig::new("demo", vec!["in".into()], "out");
        assert!(p.validate(0).is_empty());
        let o = p.consumer_options("pipe", "host-1", Duration::from_secs(5));
        assert_eq!(o.group_id, "weft.pipe.demo");
        assert_eq!(o.transactional_id.as_deref(), Some("weft.pipe.demo.host-1"));
    }

    #[test]
    fn a_pipe_into_its_own_input_is_refused() {
        let p = PipeConfig::new("loop", vec!["a".into()], "a");
        let e = p.validate(3);
        assert_eq!(e.len(), 1);
        assert!(e[0].starts_with("pipes.3.to:"), "{e:?}");
    }
}
