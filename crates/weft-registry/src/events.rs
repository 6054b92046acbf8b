//! The registry's metrics.

use prometheus::{IntCounter, IntCounterVec, IntGauge, Opts, Registry};

pub const REQUESTS: &str = "weft_registry_requests_total";
pub const CONFLICTS: &str = "weft_registry_registration_conflicts_total";
pub const SCHEMAS: &str = "weft_registry_schemas";

/// Counters shared by the API and the service.
#[derive(Clone)]
pub struct RegistryMetrics {
    /// By method, route template (bounded) and status.
    pub requests: IntCounterVec,
    /// Registrations that lost a race for a subject's next version and checked again.
    pub conflicts: IntCounter,
    /// Schema ids known.
    pub schemas: IntGauge,
}

impl RegistryMetrics {
    /// Creates the metrics and registers them in `registry`.
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let m = Self::unregistered()?;
        registry.register(Box::new(m.requests.clone()))?;
        registry.register(Box::new(m.conflicts.clone()))?;
        registry.register(Box::new(m.schemas.clone()))?;
        Ok(m)
    }

    /// Metrics that no registry exports (tests, embedding without `/metrics`).
    pub fn unregistered() -> prometheus::Result<Self> {
        Ok(Self {
            requests: IntCounterVec::new(
                Opts::new(
                    REQUESTS,
                    "Registry HTTP requests by method, route and status",
                ),
                &["method", "route", "status"],
            )?,
            conflicts: IntCounter::new(
                CONFLICTS,
                "Registrations that lost a race for the subject's next version and re-checked",
            )?,
            schemas: IntGauge::new(SCHEMAS, "Schema ids known to the registry")?,
        })
    }
}
