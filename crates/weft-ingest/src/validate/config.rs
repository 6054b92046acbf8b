//! `[ingest.validate]` in `weft.toml`: which raw ingest topics are checked, and where the
//! records that pass go.

use std::collections::BTreeSet;
use std::time::Duration;
use weft_kafka::options::defaults;

use serde::Deserialize;
use weft_kafka::{ConsumerOptions, DeliveryMode, Ordering, RetryPolicy};

use super::logic;

/// The validation stage: a list of routes and how long registry answers are trusted.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ValidateConfig {
    pub routes: Vec<ValidateRoute>,
    /// How long the schema ids allowed for a subject are trusted before they are read again
    /// (a version deleted in the registry stops being accepted after at most this long).
    #[serde(with = "humantime_serde")]
    pub refresh_interval: Duration,
    /// At-least-once: how long one record waits in place for an unreachable registry before
    /// the route stops with a fatal `registry_unavailable` error (never a dead letter; the
    /// record stays uncommitted). Exactly-once waits at most a quarter of the drain timeout and
    /// then lets the transaction be aborted and retried.
    #[serde(with = "humantime_serde")]
    pub registry_wait: Duration,
    /// Retry tiers and extra dead-letter headers, from `[retry]` and `[dead_letter]` (set by
    /// the caller, not read from `[ingest.validate]`).
    #[serde(skip)]
    pub dead_letters: weft_kafka::DeadLetterOptions,
}

impl Default for ValidateConfig {
    fn default() -> Self {
        Self {
            routes: Vec::new(),
            refresh_interval: Duration::from_secs(60),
            registry_wait: Duration::from_secs(60),
            dead_letters: weft_kafka::DeadLetterOptions::default(),
        }
    }
}

/// One route: records of `from` are checked against `subject` and forwarded to `to`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidateRoute {
    /// Names the route in consumer groups, transactional ids and `weft.dlq.stage`; defaults
    /// to the `from` topics joined by `,`. Set it to keep the group when `from` changes.
    #[serde(default)]
    pub name: Option<String>,
    /// Input topics (`ingest.orders`), or librdkafka patterns starting with `^`
    /// (`^ingest\..*`).
    pub from: Vec<String>,
    /// The validated topic: `{topic}` is the input topic, `{suffix}` the input topic without
    /// its `ingest.` prefix (`{suffix}` turns `ingest.orders` into `orders`).
    pub to: String,
    /// The subject whose live versions are the allowed writer schemas; `{to}`, `{topic}` and
    /// `{suffix}` are replaced. Default `{to}-value` (TopicNameStrategy of the destination).
    #[serde(default)]
    pub subject: Option<String>,
    /// Consumer group; defaults to `weft.ingest.validate.<name>`.
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default = "defaults::exactly_once")]
    pub mode: DeliveryMode,
    #[serde(default = "defaults::concurrency")]
    pub concurrency: usize,
    #[serde(default = "defaults::max_in_flight")]
    pub max_in_flight: usize,
    #[serde(default = "defaults::commit_interval", with = "humantime_serde")]
    pub commit_interval: Duration,
    /// Where invalid records go, with their original bytes and `weft.dlq.*` headers.
    #[serde(default = "defaults::dead_letter_topic")]
    pub dead_letter_topic: String,
    /// Exactly-once only; defaults to `weft.ingest.validate.<name>.<instance id>`.
    #[serde(default)]
    pub transactional_id: Option<String>,
    #[serde(default = "defaults::auto_offset_reset")]
    pub auto_offset_reset: String,
    #[serde(default)]
    pub retry: RetryPolicy,
}

impl ValidateRoute {
    /// A route with every default.
    pub fn new(from: Vec<String>, to: &str) -> Self {
        Self {
            name: None,
            from,
            to: to.into(),
            subject: None,
            group: None,
            mode: defaults::exactly_once(),
            concurrency: defaults::concurrency(),
            max_in_flight: defaults::max_in_flight(),
            commit_interval: defaults::commit_interval(),
            dead_letter_topic: defaults::dead_letter_topic(),
            transactional_id: None,
            auto_offset_reset: defaults::auto_offset_reset(),
            retry: RetryPolicy::default(),
        }
    }

    /// The route's name: `name`, or the `from` topics joined by `,`.
    pub fn name(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.from.join(","))
    }

    /// The subject template (`{to}-value` unless set).
    pub fn subject_template(&self) -> &str {
        self.subject.as_deref().unwrap_or(logic::DEFAULT_SUBJECT)
    }

    /// Every problem with this route, each naming its key under `<at>` (`ingest.validate.routes.0`).
    pub fn validate_at(&self, at: &str) -> Vec<String> {
        let mut e = Vec::new();
        if self.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
            e.push(format!("{at}.name: must not be empty when set"));
        }
        if self.from.is_empty() {
            e.push(format!("{at}.from: name at least one input topic"));
        }
        for (i, f) in self.from.iter().enumerate() {
            if f.trim().is_empty() {
                e.push(format!("{at}.from.{i}: must not be empty"));
            }
        }
        if self.to.trim().is_empty() {
            e.push(format!("{at}.to: must not be empty"));
        }
        if let Err(m) = logic::check_template(&self.to, logic::TO_PLACEHOLDERS) {
            e.push(format!("{at}.to: {m}"));
        }
        if let Err(m) = logic::check_template(self.subject_template(), logic::SUBJECT_PLACEHOLDERS)
        {
            e.push(format!("{at}.subject: {m}"));
        }
        if self.subject.as_deref().is_some_and(|s| s.trim().is_empty()) {
            e.push(format!("{at}.subject: must not be empty when set"));
        }
        // Literal input topics: the destination must be a valid topic and not the input.
        for f in self.from.iter().filter(|f| !logic::is_pattern(f)) {
            let to = logic::render_to(&self.to, f);
            if &to == f {
                e.push(format!(
                    "{at}.to: {:?} sends {f:?} back to itself (a loop)",
                    self.to
                ));
            } else if let Err(m) = logic::check_topic_name(&to) {
                e.push(format!("{at}.to: for input {f:?}: {m}"));
            }
        }
        if self.dead_letter_topic.trim().is_empty() {
            e.push(format!(
                "{at}.dead_letter_topic: must not be empty (invalid records must go somewhere)"
            ));
        } else if self.from.contains(&self.dead_letter_topic) {
            e.push(format!(
                "{at}.dead_letter_topic: {:?} is also an input topic",
                self.dead_letter_topic
            ));
        }
        let opts = self.consumer_options("validate", "0", Duration::from_secs(1));
        e.extend(opts.validate().into_iter().map(|m| format!("{at}: {m}")));
        e
    }

    /// The consumer loop options of this route.
    pub fn consumer_options(
        &self,
        service: &str,
        instance_id: &str,
        drain_timeout: Duration,
    ) -> ConsumerOptions {
        let name = self.name();
        let group = self
            .group
            .clone()
            .unwrap_or_else(|| format!("weft.ingest.validate.{name}"));
        let mut o = ConsumerOptions::new(service, &name, &group, self.from.clone());
        o.mode = self.mode;
        o.ordering = Ordering::Key;
        o.concurrency = self.concurrency;
        o.max_in_flight = self.max_in_flight;
        o.commit_interval = self.commit_interval;
        o.drain_timeout = drain_timeout;
        o.dead_letter_topic = Some(self.dead_letter_topic.clone());
        o.transactional_id = Some(
            self.transactional_id
                .clone()
                .unwrap_or_else(|| format!("weft.ingest.validate.{name}.{instance_id}")),
        );
        o.retry = self.retry.clone();
        o.auto_offset_reset = self.auto_offset_reset.clone();
        o
    }
}

impl ValidateConfig {
    /// Every problem, each naming its key under `ingest.validate`.
    pub fn validate(&self) -> Vec<String> {
        let mut e = Vec::new();
        let mut names = BTreeSet::new();
        for (i, r) in self.routes.iter().enumerate() {
            let at = format!("ingest.validate.routes.{i}");
            e.extend(r.validate_at(&at));
            let name = r.name();
            if !names.insert(name.clone()) {
                e.push(format!(
                    "{at}.name: {name:?} is used by an earlier route (set distinct names)"
                ));
            }
        }
        if self.refresh_interval.is_zero() {
            e.push("ingest.validate.refresh_interval: must be more than 0".into());
        }
        e
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn parse(toml_text: &str) -> Result<ValidateConfig, String> {
        toml::from_str(toml_text).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_and_derived_names() {
        let cfg = parse(
            r#"
            [[routes]]
            from = ["ingest.orders"]
            to = "{suffix}"
            "#,
        )
        .unwrap();
        assert!(cfg.validate().is_empty(), "{:?}", cfg.validate());
        let r = &cfg.routes[0];
        assert_eq!(r.mode, DeliveryMode::ExactlyOnce);
        assert_eq!(r.dead_letter_topic, "weft.dlq");
        assert_eq!(r.subject_template(), "{to}-value");
        let o = r.consumer_options("ingest", "host-1", Duration::from_secs(5));
        assert_eq!(o.group_id, "weft.ingest.validate.ingest.orders");
        assert_eq!(
            o.transactional_id.as_deref(),
            Some("weft.ingest.validate.ingest.orders.host-1")
        );
        assert_eq!(o.dead_letter_topic.as_deref(), Some("weft.dlq"));
        assert_eq!(o.stage, "ingest.orders");
        assert_eq!(cfg.refresh_interval, Duration::from_secs(60));
    }

    #[test]
    fn unknown_keys_are_refused() {
        let e = parse(
            r#"
            [[routes]]
            from = ["ingest.orders"]
            to = "orders"
            subjct = "x"
            "#,
        )
        .unwrap_err();
        assert!(e.contains("subjct"), "{e}");
        assert!(parse("refresh = \"1s\"").unwrap_err().contains("refresh"));
    }

    #[test]
    fn every_problem_is_named() {
        let cfg = parse(
            r#"
            refresh_interval = "0s"
            [[routes]]
            from = ["orders"]
            to = "{suffix}"
            subject = "{nope}-value"
            dead_letter_topic = ""
            concurrency = 0
            [[routes]]
            name = "orders"
            from = []
            to = "bad topic"
            [[routes]]
            name = "orders"
            from = ["ingest.x"]
            to = "{Topic}"
            "#,
        )
        .unwrap();
        let e = cfg.validate();
        let has = |p: &str| e.iter().any(|m| m.starts_with(p));
        assert!(
            has("ingest.validate.routes.0.to: \"{suffix}\" sends \"orders\" back to itself"),
            "{e:#?}"
        );
        assert!(
            has("ingest.validate.routes.0.subject: unknown placeholder {nope}"),
            "{e:#?}"
        );
        assert!(has("ingest.validate.routes.0.dead_letter_topic"), "{e:#?}");
        assert!(
            has("ingest.validate.routes.0: orders: concurrency"),
            "{e:#?}"
        );
        assert!(has("ingest.validate.routes.1.from"), "{e:#?}");
        assert!(
            has("ingest.validate.routes.2.to: unknown placeholder {Topic}"),
            "{e:#?}"
        );
        assert!(
            has("ingest.validate.routes.2.name: \"orders\" is used"),
            "{e:#?}"
        );
        assert!(has("ingest.validate.refresh_interval"), "{e:#?}");
    }

    #[test]
    fn an_invalid_destination_name_is_refused() {
        let r = ValidateRoute::new(vec!["ingest.a".into()], "with space");
        let e = r.validate_at("r");
        assert!(
            e.iter()
                .any(|m| m.starts_with("r.to: for input \"ingest.a\"")),
            "{e:?}"
        );
        let r = ValidateRoute::new(vec!["^ingest\\..*".into()], "{suffix}");
        assert!(
            r.validate_at("r").is_empty(),
            "patterns are checked per record"
        );
    }
}
