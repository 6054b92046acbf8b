//! The consumer loop settings of a flow.

use std::time::Duration;

use weft_kafka::{ConsumerOptions, Ordering};

use crate::spec::{ErrorPolicy, FlowSpec};

/// The group a flow consumes in unless its file names one.
pub fn default_group(flow: &str) -> String {
    format!("weft.flow.{flow}")
}

/// The consumer loop options of flow `name`.
pub fn consumer_options(
    name: &str,
    spec: &FlowSpec,
    instance_id: &str,
    drain_timeout: Duration,
) -> ConsumerOptions {
    let group = spec.group.clone().unwrap_or_else(|| default_group(name));
    let mut o = ConsumerOptions::new(crate::SERVICE, name, &group, spec.from.clone());
    o.mode = spec.mode;
    o.ordering = Ordering::Key;
    o.concurrency = spec.concurrency;
    o.max_in_flight = spec.max_in_flight;
    o.commit_interval = spec.commit_interval;
    o.drain_timeout = drain_timeout;
    o.dead_letter_topic =
        (spec.errors.policy == ErrorPolicy::DeadLetter).then(|| spec.errors.topic.clone());
    o.transactional_id = Some(
        spec.transactional_id
            .clone()
            .unwrap_or_else(|| format!("weft.flow.{name}.{instance_id}")),
    );
    o.retry = spec.errors.retry.clone();
    o.auto_offset_reset = spec.auto_offset_reset.clone();
    o
}
