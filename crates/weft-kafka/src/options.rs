//! Settings of one consumer loop.

use std::time::Duration;

use serde::Deserialize;

/// At-least-once (offsets stored after delivery) or exactly-once (Kafka transactions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryMode {
    #[default]
    AtLeastOnce,
    ExactlyOnce,
}

/// Which records must be processed one after another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ordering {
    /// Records with the same key (within a partition) keep their order; records without a key
    /// keep partition order.
    #[default]
    Key,
    /// Every partition is processed in order.
    Partition,
}

/// Retries in place for `Transient` errors.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryPolicy {
    /// Attempts in total, the first included (1 = no retry).
    pub max_attempts: u32,
    #[serde(with = "humantime_serde")]
    pub initial_backoff: Duration,
    #[serde(with = "humantime_serde")]
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// Exponential backoff with equal jitter (between half and all of the capped exponential
    /// step) for the pause after `attempt` (1-based) failed.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(20);
        let cap = self
            .initial_backoff
            .saturating_mul(1u32 << exp)
            .min(self.max_backoff);
        let jitter: f64 = rand::random();
        cap.mul_f64(0.5 + jitter / 2.0)
    }
}

/// Defaults of the per-stage consumer settings every stage's config shares (pipes, ingest
/// validation routes, flows), as serde `default = "..."` functions.
pub mod defaults {
    use std::time::Duration;

    pub fn concurrency() -> usize {
        16
    }
    pub fn max_in_flight() -> usize {
        10_000
    }
    pub fn commit_interval() -> Duration {
        Duration::from_millis(100)
    }
    pub fn auto_offset_reset() -> String {
        "earliest".into()
    }
    pub fn dead_letter_topic() -> String {
        "weft.dlq".into()
    }
    /// Stages that write to other topics default to transactions.
    pub fn exactly_once() -> super::DeliveryMode {
        super::DeliveryMode::ExactlyOnce
    }
}

/// One consumer loop's settings.
#[derive(Debug, Clone)]
pub struct ConsumerOptions {
    /// Service name, for client ids, metrics and dead-letter headers.
    pub service: String,
    /// Stage name within the service (a flow, a pipe), for dead-letter headers.
    pub stage: String,
    pub group_id: String,
    pub topics: Vec<String>,
    /// Records processed at the same time (independent lanes).
    pub concurrency: usize,
    /// Records consumed but not yet acknowledged, at most.
    pub max_in_flight: usize,
    /// How often offsets are committed (or transactions committed).
    pub commit_interval: Duration,
    /// How long a rebalance or shutdown waits for in-flight records before committing.
    pub drain_timeout: Duration,
    pub ordering: Ordering,
    pub mode: DeliveryMode,
    /// Required for exactly-once; stable per instance so a restart fences its predecessor.
    pub transactional_id: Option<String>,
    pub dead_letter_topic: Option<String>,
    pub retry: RetryPolicy,
    /// Where a group with no committed offset starts: `earliest` or `latest`.
    pub auto_offset_reset: String,
    /// Retry tiers and extra dead-letter headers.
    pub dead_letters: DeadLetterOptions,
}

/// What a stage does with failures besides its dead-letter topic (`[retry]`, `[dead_letter]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeadLetterOptions {
    /// Retry tiers for `Transient` errors that outlast the in-place attempts; `None`: such a
    /// record is dead-lettered (at-least-once) or the transaction aborts (exactly-once).
    pub retry_tiers: Option<RetryTiers>,
    /// Also write Kafka Connect's `__connect.errors.*` headers on dead letters.
    pub connect_headers: bool,
    /// Also write Spring's `kafka_dlt-*` headers on dead letters.
    pub spring_headers: bool,
}

/// Where records wait after their in-place attempts, without blocking their partition: the
/// tier topics in order, and the topic the dead-letter service hands due records back on
/// (every loop with tiers also reads it, and keeps the records of its own group).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryTiers {
    pub tiers: Vec<Tier>,
    pub ready_topic: String,
    /// Ordering-aware parking: while a record waits in a tier, later records of its key wait
    /// behind it and are released in order once it is processed or dead-lettered.
    #[serde(default)]
    pub park_keys: bool,
}

/// One retry tier: a topic, and how long a record waits there.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    pub topic: String,
    #[serde(with = "humantime_serde")]
    pub delay: Duration,
}

impl ConsumerOptions {
    pub fn new(service: &str, stage: &str, group_id: &str, topics: Vec<String>) -> Self {
        Self {
            service: service.into(),
            stage: stage.into(),
            group_id: group_id.into(),
            topics,
            concurrency: defaults::concurrency(),
            max_in_flight: defaults::max_in_flight(),
            commit_interval: defaults::commit_interval(),
            drain_timeout: Duration::from_secs(10),
            ordering: Ordering::Key,
            mode: DeliveryMode::AtLeastOnce,
            transactional_id: None,
            dead_letter_topic: None,
            retry: RetryPolicy::default(),
            auto_offset_reset: defaults::auto_offset_reset(),
            dead_letters: DeadLetterOptions::default(),
        }
    }

    /// Every problem with these options.
    pub fn validate(&self) -> Vec<String> {
        let mut e = Vec::new();
        if self.topics.is_empty() {
            e.push(format!("{}: no input topics", self.stage));
        }
        if self.group_id.is_empty() {
            e.push(format!("{}: group_id must not be empty", self.stage));
        }
        if let Some(t) = &self.dead_letters.retry_tiers {
            if t.tiers.is_empty() {
                e.push(format!("{}: retry tiers: no tiers", self.stage));
            }
            if t.ready_topic.trim().is_empty() {
                e.push(format!(
                    "{}: retry tiers: ready_topic must not be empty",
                    self.stage
                ));
            }
            for (i, tier) in t.tiers.iter().enumerate() {
                if tier.topic.trim().is_empty() || tier.delay.is_zero() {
                    e.push(format!(
                        "{}: retry tier {i}: needs a topic and a delay above zero",
                        self.stage
                    ));
                }
            }
        }
        if self.concurrency == 0 {
            e.push(format!("{}: concurrency must be at least 1", self.stage));
        }
        if self.max_in_flight < self.concurrency {
            e.push(format!(
                "{}: max_in_flight ({}) must be at least concurrency ({})",
                self.stage, self.max_in_flight, self.concurrency
            ));
        }
        if self.mode == DeliveryMode::ExactlyOnce && self.transactional_id.is_none() {
            e.push(format!(
                "{}: exactly_once needs a transactional_id",
                self.stage
            ));
        }
        if !matches!(self.auto_offset_reset.as_str(), "earliest" | "latest") {
            e.push(format!(
                "{}: auto_offset_reset must be earliest or latest, not {:?}",
                self.stage, self.auto_offset_reset
            ));
        }
        if self.retry.max_attempts == 0 {
            e.push(format!(
                "{}: retry.max_attempts must be at least 1",
                self.stage
            ));
        }
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let r = RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
        };
        for attempt in 1..12 {
            let b = r.backoff(attempt);
            let cap = Duration::from_millis(100 * (1 << (attempt - 1).min(20))).min(r.max_backoff);
            assert!(
                b <= cap && b >= cap / 2,
                "attempt {attempt}: {b:?} vs cap {cap:?}"
            );
        }
    }

    #[test]
    fn validation_names_each_problem() {
        let mut o = ConsumerOptions::new("pipe", "p1", "", vec![]);
        o.mode = DeliveryMode::ExactlyOnce;
        o.concurrency = 0;
        let e = o.validate();
        assert_eq!(e.len(), 4, "{e:?}");
    }
}
