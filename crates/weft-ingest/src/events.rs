//! Ingest's metrics.

use prometheus::{IntCounterVec, Opts, Registry};

pub const REQUESTS: &str = "weft_ingest_requests_total";
pub const REJECTS: &str = "weft_ingest_rejects_total";
pub const EVENTS: &str = "weft_ingest_events_total";

#[derive(Clone)]
pub struct IngestMetrics {
    /// By route (`events`, `webhooks`) and status.
    pub requests: IntCounterVec,
    /// Refused requests or events, by route and reason (the error code).
    pub rejects: IntCounterVec,
    /// Events acknowledged by the broker, by topic.
    pub events: IntCounterVec,
}

impl IngestMetrics {
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let m = Self::unregistered()?;
        registry.register(Box::new(m.requests.clone()))?;
        registry.register(Box::new(m.rejects.clone()))?;
        registry.register(Box::new(m.events.clone()))?;
        Ok(m)
    }

    pub fn unregistered() -> prometheus::Result<Self> {
        Ok(Self {
            requests: IntCounterVec::new(
                Opts::new(REQUESTS, "Ingest HTTP requests by route and status"),
                &["route", "status"],
            )?,
            rejects: IntCounterVec::new(
                Opts::new(
                    REJECTS,
                    "Refused ingest requests or events by route and reason",
                ),
                &["route", "reason"],
            )?,
            events: IntCounterVec::new(
                Opts::new(
                    EVENTS,
                    "Events ingested (acknowledged by the broker) by topic",
                ),
                &["topic"],
            )?,
        })
    }

    pub fn reject(&self, route: &str, reason: &str) {
        self.rejects.with_label_values(&[route, reason]).inc();
    }
}
