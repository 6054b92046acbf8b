//! A lane: processes its records in order, sends their outputs, acknowledges deliveries.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc;
use tracing::Instrument as _;
use weft_core::{DeadLetter, ErrorClass, Failure, StageError};

use super::{Dispatch, Shared};
use crate::error::Error;
use crate::options::DeliveryMode;
use crate::processor::{Emitter, Processor};
use crate::producer::{AckSink, AckToken, Completion};
use crate::record::OutRecord;

/// Produced-records counters by output topic, cached per lane.
type Counters = HashMap<String, Option<prometheus::IntCounter>>;

pub(super) async fn run<P: Processor>(
    shared: Arc<Shared<P>>,
    mut rx: mpsc::Receiver<Vec<Dispatch>>,
) {
    let sink: Arc<dyn AckSink> = shared.clone();
    let mut emitter = Emitter::default();
    let mut counters = Counters::new();
    while let Some(batch) = rx.recv().await {
        let mut generation = shared.generation.load(Ordering::Acquire);
        let mut batch = take_current(&shared, batch);
        let taken = batch.len();
        let mut i = 0;
        while i < batch.len() {
            // A revoke or rewind happened meanwhile: drop what is no longer ours.
            let now = shared.generation.load(Ordering::Acquire);
            if now != generation {
                generation = now;
                let rest = batch.split_off(i);
                let kept = shared.update(|st| {
                    rest.into_iter()
                        .filter(|d| st.tracker.is_current(&d.tp, d.epoch))
                        .collect::<Vec<_>>()
                });
                batch.extend(kept);
                continue;
            }
            handle(&shared, &sink, &batch[i], &mut emitter, &mut counters).await;
            i += 1;
        }
        shared.update(|st| st.active -= taken);
    }
}

/// Keeps the records still current and counts them active, so a transaction abort can wait
/// until no lane is between processing and sending.
fn take_current<P>(shared: &Shared<P>, batch: Vec<Dispatch>) -> Vec<Dispatch> {
    shared.update(|st| {
        let kept: Vec<Dispatch> = batch
            .into_iter()
            .filter(|d| st.tracker.is_current(&d.tp, d.epoch))
            .collect();
        st.active += kept.len();
        kept
    })
}

pub(super) fn count_error<P>(shared: &Shared<P>, class: &str, code: &str) {
    if let Some(m) = &shared.metrics {
        if let Ok(c) = m
            .errors
            .get_metric_with_label_values(&[&shared.opts.service, class, code])
        {
            c.inc();
        }
    }
}

/// Processes one record and sends its outputs; their delivery reports acknowledge it.
async fn handle<P: Processor>(
    shared: &Arc<Shared<P>>,
    sink: &Arc<dyn AckSink>,
    d: &Dispatch,
    emitter: &mut Emitter,
    counters: &mut Counters,
) {
    let span = tracing::debug_span!(
        "record",
        topic = %d.tp.topic,
        partition = d.tp.partition,
        offset = d.record.offset,
        trace_id = tracing::field::Empty,
    );
    if !span.is_disabled() {
        if let Some(tp) = d
            .record
            .headers
            .get_parsed::<weft_core::TraceParent>("traceparent")
        {
            span.record("trace_id", tp.trace_id_hex());
        }
    }
    let Some(outputs) = process_with_retries(shared, d, emitter)
        .instrument(span)
        .await
    else {
        return;
    };
    if outputs.is_empty() {
        // Filtered: nothing to deliver.
        shared.update(|st| {
            st.tracker.ack(&d.tp, d.epoch, d.record.offset);
        });
        return;
    }
    if shared.opts.mode == DeliveryMode::ExactlyOnce {
        shared
            .txn_records
            .fetch_add(outputs.len(), Ordering::Relaxed);
    }
    let token = Arc::new(AckToken {
        sink: sink.clone(),
        tp: d.tp.clone(),
        epoch: d.epoch,
        offset: d.record.offset,
        remaining: AtomicUsize::new(outputs.len()),
        failed: AtomicBool::new(false),
    });
    for o in &outputs {
        let counter = match counters.get(&o.topic) {
            Some(c) => c.clone(),
            None => {
                let c = shared.producer.counter(&o.topic);
                counters.insert(o.topic.clone(), c.clone());
                c
            }
        };
        if let Err(e) = shared
            .producer
            .send_with(o, Completion::Ack(token.clone(), counter))
            .await
        {
            token.failed.store(true, Ordering::Release);
            let msg = format!(
                "sending an output of {}-{}@{}",
                d.tp.topic, d.tp.partition, d.record.offset
            );
            if shared.opts.mode == DeliveryMode::ExactlyOnce && e.class() != ErrorClass::Fatal {
                shared.request_abort(format!("{msg}: {e}"));
            } else {
                let mut stage = StageError::from(&e);
                stage.message = format!("{msg}: {}", stage.message);
                shared.fail(Error::Stage(stage.with_class(ErrorClass::Fatal)));
            }
            return;
        }
    }
}

use weft_core::Classify as _;

/// Runs the processor, retrying `Transient` errors in place. `None` means the record will not
/// be acknowledged (the loop stops, or the transaction aborts).
async fn process_with_retries<P: Processor>(
    shared: &Arc<Shared<P>>,
    d: &Dispatch,
    emitter: &mut Emitter,
) -> Option<Vec<OutRecord>> {
    let retry = &shared.opts.retry;
    let mut attempt = 0;
    loop {
        attempt += 1;
        emitter.clear();
        let error = match shared.processor.process(&d.record, emitter).await {
            Ok(()) => return Some(emitter.take()),
            Err(e) => e,
        };
        count_error(shared, error.class.as_str(), error.code.as_str());
        let stopping = shared.stop.is_cancelled() || shared.shutdown.is_cancelled();
        match error.class {
            ErrorClass::Transient if attempt < retry.max_attempts && !stopping => {
                tracing::debug!(
                    topic = %d.tp.topic, partition = d.tp.partition, offset = d.record.offset,
                    attempt, error = %error, "Retrying after a transient error"
                );
                tokio::time::sleep(retry.backoff(attempt)).await;
            }
            ErrorClass::Fatal => {
                shared.fail(Error::Stage(error));
                return None;
            }
            // Shutting down: leave the record unacknowledged; it is read again after restart.
            ErrorClass::Transient if stopping => {
                shared.update(|st| st.stuck += 1);
                return None;
            }
            ErrorClass::Transient if shared.opts.mode == DeliveryMode::ExactlyOnce => {
                shared.request_abort(format!(
                    "{}-{}@{}: {error} (after {attempt} attempts)",
                    d.tp.topic, d.tp.partition, d.record.offset
                ));
                return None;
            }
            _ => return dead_letter(shared, d, error, attempt),
        }
    }
}

/// The dead-letter record for a failed record, or `None` (loop stops) when the stage has no
/// dead-letter topic.
fn dead_letter<P>(
    shared: &Shared<P>,
    d: &Dispatch,
    error: StageError,
    attempt: u32,
) -> Option<Vec<OutRecord>> {
    let Some(topic) = &shared.opts.dead_letter_topic else {
        shared.fail(Error::Stage(error));
        return None;
    };
    tracing::warn!(
        topic = %d.tp.topic, partition = d.tp.partition, offset = d.record.offset,
        error = %error, dead_letter_topic = %topic, "Dead-lettering a record"
    );
    let mut failure =
        Failure::from_error(&shared.opts.service, &shared.opts.stage, &error, attempt);
    failure.group = Some(shared.opts.group_id.clone());
    failure.schema_id = d
        .record
        .value
        .as_deref()
        .filter(|v| v.len() >= 5 && v[0] == 0)
        .map(|v| u32::from_be_bytes([v[1], v[2], v[3], v[4]]));
    let dl = DeadLetter {
        original: d.record.to_original(),
        failure,
    };
    let (key, value, headers) = dl.to_kafka();
    if let Some(m) = &shared.metrics {
        if let Ok(c) = m.dead_lettered.get_metric_with_label_values(&[
            &shared.opts.service,
            d.tp.topic.as_ref(),
            error.code.as_str(),
        ]) {
            c.inc();
        }
    }
    Some(vec![OutRecord {
        topic: topic.clone(),
        partition: None,
        key,
        value,
        headers,
        timestamp_ms: d.record.timestamp_ms,
    }])
}
