//! Flow metrics: what became of each event, per flow.

use std::collections::HashMap;
use std::sync::Arc;

use prometheus::{IntCounter, IntCounterVec, Opts, Registry};

use crate::flow::Flow;

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

type TopicCounters = HashMap<Arc<str>, IntCounter, foldhash::fast::RandomState>;

/// One flow's counters, looked up once: a label look-up per record costs a hash of every
/// label and a lock.
#[derive(Clone)]
pub struct FlowCounters {
    pub routed: IntCounter,
    pub filtered_by_program: IntCounter,
    pub filtered_by_default: IntCounter,
    pub tombstone: IntCounter,
    /// By route name, then destination topic.
    outputs: HashMap<String, TopicCounters, foldhash::fast::RandomState>,
    metrics: FlowMetrics,
    flow: String,
}

impl FlowCounters {
    pub fn new(metrics: &FlowMetrics, flow: &Flow) -> Self {
        let events = |outcome: &str| metrics.events.with_label_values(&[&flow.name, outcome]);
        let mut outputs: HashMap<String, TopicCounters, foldhash::fast::RandomState> =
            HashMap::default();
        for route in flow.routes.iter().chain(std::iter::once(&flow.default)) {
            let by_topic = outputs.entry(route.name.clone()).or_default();
            for topic in &route.to {
                by_topic.insert(
                    topic.clone(),
                    metrics.outputs.with_label_values(&[
                        flow.name.as_str(),
                        route.name.as_str(),
                        topic.as_ref(),
                    ]),
                );
            }
        }
        Self {
            routed: events("routed"),
            filtered_by_program: events("filtered_by_program"),
            filtered_by_default: events("filtered_by_default"),
            tombstone: events("tombstone"),
            outputs,
            metrics: metrics.clone(),
            flow: flow.name.clone(),
        }
    }

    /// Counts one record sent by `route` to `topic`.
    pub fn output(&self, route: &str, topic: &Arc<str>) {
        match self.outputs.get(route).and_then(|t| t.get(topic)) {
            Some(c) => c.inc(),
            None => self
                .metrics
                .outputs
                .with_label_values(&[self.flow.as_str(), route, topic.as_ref()])
                .inc(),
        }
    }
}
