//! `[dead_letter]`: how every stage writes its dead letters besides Weft's own headers.

use serde::Deserialize;

/// A dead-letter header scheme of another tool that Weft can write beside its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ForeignHeaders {
    /// Kafka Connect's `__connect.errors.*`.
    Connect,
    /// Spring's `kafka_dlt-*`.
    Spring,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeadLetterConfig {
    /// Also write these tools' headers on every dead letter, so their tooling recognises
    /// Weft's (`["connect", "spring"]`).
    pub foreign_headers: Vec<ForeignHeaders>,
}

impl DeadLetterConfig {
    /// The stage options for these settings and the retry tiers.
    pub fn options(&self, retry: &crate::retry::RetryConfig) -> weft_kafka::DeadLetterOptions {
        weft_kafka::DeadLetterOptions {
            retry_tiers: retry.for_stages(),
            connect_headers: self.foreign_headers.contains(&ForeignHeaders::Connect),
            spring_headers: self.foreign_headers.contains(&ForeignHeaders::Spring),
        }
    }
}
