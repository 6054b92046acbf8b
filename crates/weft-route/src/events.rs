//! Flow metrics: what became of each event, per flow.

use prometheus::{IntCounterVec, Opts, Registry};

pub const EVENTS: &str = "weft_flow_events_total";
pub const OUTPUTS: &str = "weft_flow_outputs_total";

#[derive(Clone)]
pub struct FlowMetrics {
    /// Events by flow and outcome (`routed`, `filtered_by_program`, `filtered_by_default`,
    /// `tombstone`); dead letters are counted by the consumer loop's error counter.
    pub events: IntCounterVec,
    /// Records sent, by flow, route and destination topic.
    pub outputs: IntCounterVec,
}

impl FlowMetrics {
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let m = Self::unregistered()?;
        registry.register(Box::new(m.events.clone()))?;
        registry.register(Box::new(m.outputs.clone()))?;
        Ok(m)
    }

    pub fn unregistered() -> prometheus::Result<Self> {
        Ok(Self {
            events: IntCounterVec::new(
                Opts::new(EVENTS, "Events handled by a flow, by outcome"),
                &["flow", "outcome"],
            )?,
            outputs: IntCounterVec::new(
                Opts::new(
                    OUTPUTS,
                    "Records a flow sent, by route and destination topic",
                ),
                &["flow", "route", "topic"],
            )?,
        })
    }
}
