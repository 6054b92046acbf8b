//! `[ingest]` in `weft.toml`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::auth::AuthConfig;
use crate::validate::ValidateConfig;
use crate::webhook::WebhookConfig;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    /// Where the event API and the webhooks listen.
    pub listen: String,
    /// The topics the event API accepts, by name.
    pub topics: BTreeMap<String, TopicPolicy>,
    /// Webhook sources (`POST /v1/webhooks/{source}`).
    pub webhooks: Vec<WebhookConfig>,
    pub auth: AuthConfig,
    pub limits: Limits,
    pub idempotency: IdempotencyConfig,
    /// Per webhook source: how a delivery becomes an event of the topic's schema — field name →
    /// JSON pointer into the payload (`/repository/full_name`) or `$event_type`,
    /// `$delivery_id`, `$source`, `$received_at`. Without one, the payload itself is projected
    /// onto the schema (fields the schema lacks are dropped).
    pub mappings: BTreeMap<String, BTreeMap<String, String>>,
    /// When set, requests refused with a 4xx are also written here (raw body, reason in
    /// `weft.dlq.*` headers) for audit.
    pub rejects_topic: Option<String>,
    /// The Kafka side: records on raw ingest topics checked and forwarded.
    pub validate: ValidateConfig,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            topics: BTreeMap::new(),
            webhooks: Vec::new(),
            mappings: BTreeMap::new(),
            auth: AuthConfig::default(),
            limits: Limits::default(),
            idempotency: IdempotencyConfig::default(),
            rejects_topic: None,
            validate: ValidateConfig::default(),
        }
    }
}

/// How the event API treats one topic.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TopicPolicy {
    /// The subject of the value schema (default `<topic>-value`); events are encoded with its
    /// latest version.
    pub subject: Option<String>,
    /// Dotted path of the field whose value is the record key (`customer.id`); a `key` query
    /// parameter overrides it.
    pub key_field: Option<String>,
    /// Request headers copied onto the records (case-insensitive names).
    pub allowed_headers: Vec<String>,
    /// Accept (and drop) JSON fields the schema does not have.
    pub allow_unknown_fields: bool,
    /// `weft.event.type` of the records (a `Weft-Event-Type` request header overrides it).
    pub event_type: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest request body (413 above).
    pub max_body_bytes: usize,
    /// Most events in one request (413 above).
    pub max_events: usize,
    /// Requests being processed at once; more get 503 with `Retry-After`.
    pub max_in_flight: usize,
    /// How long a request waits for the broker's acknowledgements before answering 503.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// Requests per second per caller (tenant and principal); absent: no limit. Over it: 429
    /// with `Retry-After`.
    pub rate_per_second: Option<u32>,
    /// Requests a caller may send at once above the rate (default: one second's worth).
    pub burst: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            max_events: 500,
            max_in_flight: 1024,
            request_timeout: Duration::from_secs(10),
            rate_per_second: None,
            burst: 0,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdempotencyConfig {
    /// The compacted topic holding the first answer per key.
    pub topic: String,
    /// How long a key is remembered.
    #[serde(with = "humantime_serde")]
    pub window: Duration,
    /// The subject of the records' schema (`schemas/weft.ingest.IdempotencyRecord.avsc`).
    pub subject: String,
}

impl Default for IdempotencyConfig {
    fn default() -> Self {
        Self {
            topic: "weft.ingest.idempotency".into(),
            window: Duration::from_secs(24 * 3600),
            subject: "weft.ingest.idempotency-value".into(),
        }
    }
}

impl IngestConfig {
    /// Whether anything is configured (`weft up` runs ingest only then).
    pub fn is_configured(&self) -> bool {
        self.serves_http() || !self.validate.routes.is_empty()
    }

    /// Whether the HTTP side has anything to serve.
    pub fn serves_http(&self) -> bool {
        !self.topics.is_empty() || !self.webhooks.is_empty()
    }

    /// Every problem, each naming its key.
    pub fn validate(&self) -> Vec<String> {
        let mut e = Vec::new();
        if self.listen.parse::<std::net::SocketAddr>().is_err() {
            e.push(format!(
                "ingest.listen: {:?} is not an address like 127.0.0.1:8080",
                self.listen
            ));
        }
        for (name, _) in self.topics.iter().filter(|(n, _)| n.trim().is_empty()) {
            e.push(format!(
                "ingest.topics.{name:?}: a topic name must not be empty"
            ));
        }
        if self.limits.max_body_bytes == 0 {
            e.push("ingest.limits.max_body_bytes: must be more than zero".into());
        }
        if self.limits.max_events == 0 {
            e.push("ingest.limits.max_events: must be more than zero".into());
        }
        if self.limits.max_in_flight == 0 {
            e.push("ingest.limits.max_in_flight: must be more than zero".into());
        }
        if self.limits.request_timeout < Duration::from_millis(100) {
            e.push("ingest.limits.request_timeout: must be at least 100ms".into());
        }
        if self.idempotency.window.is_zero() {
            e.push("ingest.idempotency.window: must be more than zero".into());
        }
        e.extend(self.auth.validate());
        e.extend(self.validate.validate());
        for (i, w) in self.webhooks.iter().enumerate() {
            e.extend(
                w.validate()
                    .into_iter()
                    .map(|p| format!("ingest.webhooks.{i}.{p}")),
            );
        }
        e
    }
}
