//! A lane: processes its records in order, sends their outputs, acknowledges deliveries.

use std::sync::Arc;

use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};
use tokio::sync::mpsc;
use tracing::Instrument as _;
use weft_core::{DeadLetter, ErrorClass, Failure, StageError};

use super::{Dispatch, Shared};
use crate::error::Error;
use crate::options::DeliveryMode;
use crate::processor::{Emitter, Processor};
use crate::record::OutRecord;
use crate::tracker::TopicPartition;

/// The outcome of one record once every output is acknowledged (or one failed).
struct Done {
    tp: TopicPartition,
    epoch: u64,
    offset: i64,
    result: Result<(), Error>,
}

pub(super) async fn run<P: Processor>(shared: Arc<Shared<P>>, mut rx: mpsc::Receiver<Dispatch>) {
    let mut pending: FuturesUnordered<BoxFuture<'static, Done>> = FuturesUnordered::new();
    let mut emitter = Emitter::default();
    loop {
        tokio::select! {
            biased;
            Some(done) = pending.next(), if !pending.is_empty() => finish(&shared, done),
            d = rx.recv() => match d {
                Some(d) => {
                    if let Some(fut) = handle(&shared, d, &mut emitter).await {
                        pending.push(fut);
                    }
                }
                None => break,
            },
        }
    }
    while let Some(done) = pending.next().await {
        finish(&shared, done);
    }
}

fn finish<P>(shared: &Shared<P>, done: Done) {
    match done.result {
        Ok(()) => shared.update(|st| {
            st.tracker.ack(&done.tp, done.epoch, done.offset);
        }),
        Err(e) => {
            let stale = !shared.lock().tracker.is_current(&done.tp, done.epoch);
            if stale {
                // An aborted transaction purged it, or the partition moved away: not ours.
                return;
            }
            count_error(shared, e.class().as_str(), e.code().as_str());
            match (shared.opts.mode, e.class()) {
                (DeliveryMode::ExactlyOnce, ErrorClass::Transient | ErrorClass::Permanent) => {
                    shared.request_abort(format!(
                        "delivery of an output of {}-{}@{} failed: {e}",
                        done.tp.topic, done.tp.partition, done.offset
                    ))
                }
                _ => {
                    let mut stage = StageError::from(&e);
                    stage.message = format!(
                        "delivery of an output of {}-{}@{} failed: {}",
                        done.tp.topic, done.tp.partition, done.offset, stage.message
                    );
                    shared.fail(Error::Stage(stage.with_class(ErrorClass::Fatal)))
                }
            }
        }
    }
}

use weft_core::Classify as _;

fn count_error<P>(shared: &Shared<P>, class: &str, code: &str) {
    if let Some(m) = &shared.metrics {
        if let Ok(c) = m
            .errors
            .get_metric_with_label_values(&[&shared.opts.service, class, code])
        {
            c.inc();
        }
    }
}

/// Processes one record and sends its outputs; returns the future of their deliveries.
async fn handle<P: Processor>(
    shared: &Arc<Shared<P>>,
    d: Dispatch,
    emitter: &mut Emitter,
) -> Option<BoxFuture<'static, Done>> {
    // Skip records of partitions revoked (or rewound) since dispatch; count the rest as active
    // so a transaction abort can wait until no lane is between processing and sending.
    let current = shared.update(|st| {
        let ok = st.tracker.is_current(&d.tp, d.epoch);
        if ok {
            st.active += 1;
        }
        ok
    });
    if !current {
        return None;
    }
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
    let outputs = process_with_retries(shared, &d, emitter)
        .instrument(span)
        .await;
    let result = match outputs {
        Some(outputs) => send_all(shared, &d, outputs).await,
        None => None,
    };
    shared.update(|st| st.active -= 1);
    result
}

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

async fn send_all<P>(
    shared: &Arc<Shared<P>>,
    d: &Dispatch,
    outputs: Vec<OutRecord>,
) -> Option<BoxFuture<'static, Done>> {
    let mut pendings = Vec::with_capacity(outputs.len());
    for o in &outputs {
        match shared.producer.send(o).await {
            Ok(p) => pendings.push(p),
            Err(e) => {
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
                return None;
            }
        }
    }
    if shared.opts.mode == DeliveryMode::ExactlyOnce {
        shared.update(|st| st.txn_records += pendings.len());
    }
    let (tp, epoch, offset) = (d.tp.clone(), d.epoch, d.record.offset);
    Some(
        async move {
            let mut result = Ok(());
            for p in pendings {
                if let Err(e) = p.wait().await {
                    result = Err(e);
                }
            }
            Done {
                tp,
                epoch,
                offset,
                result,
            }
        }
        .boxed(),
    )
}
