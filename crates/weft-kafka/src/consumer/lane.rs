//! A lane: processes its records in order, sends their outputs, acknowledges deliveries.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;
use tracing::Instrument as _;
use weft_core::{Classify as _, ErrorClass, ErrorCode, StageError};

use super::{Dispatch, Event, Shared};
use crate::error::Error;
use crate::options::DeliveryMode;
use crate::processor::{Emitter, Processor};
use crate::producer::{AckSink, AckToken, Completion};
use crate::record::{OutRecord, Record};
use crate::retry_tiers::Retried;

use super::park::Park;
use super::tiers;

/// Produced-records counters by output topic, cached per lane.
type Counters = HashMap<Arc<str>, Option<prometheus::IntCounter>, foldhash::fast::RandomState>;

pub(super) async fn run<P: Processor>(
    shared: Arc<Shared<P>>,
    mut rx: mpsc::Receiver<Vec<Dispatch>>,
) {
    let sink: Arc<dyn AckSink> = shared.clone();
    let mut emitter = Emitter::default();
    let mut counters = Counters::default();
    while let Some(batch) = rx.recv().await {
        for d in &batch {
            // Count as active before looking at `valid` (both SeqCst): an abort clears `valid`
            // and then waits for `active` to reach 0, so a lane either sees the flag cleared or
            // is waited for — it never sends into the next transaction.
            shared.active.fetch_add(1, Ordering::SeqCst);
            if d.valid.load(Ordering::SeqCst) {
                handle(&shared, &sink, d, &mut emitter, &mut counters).await;
            }
            shared.active.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

pub(super) fn count_error<P: Processor>(shared: &Shared<P>, class: &str, code: &str) {
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
    let processed = if span.is_disabled() {
        process_with_retries(shared, d, emitter).await
    } else {
        process_with_retries(shared, d, emitter)
            .instrument(span)
            .await
    };
    let Some(outputs) = processed else {
        return;
    };
    if outputs.is_empty() {
        // Filtered: nothing to deliver.
        shared.tell(Event::Ack {
            tp: d.tp.clone(),
            epoch: d.epoch,
            offset: d.record.offset,
        });
        return;
    }
    if shared.opts.mode == DeliveryMode::ExactlyOnce {
        shared
            .txn_records
            .fetch_add(outputs.len(), Ordering::Relaxed);
    }
    // One output (the common case) needs no shared countdown.
    let token = (outputs.len() > 1).then(|| {
        Arc::new(AckToken {
            sink: sink.clone(),
            tp: d.tp.clone(),
            epoch: d.epoch,
            offset: d.record.offset,
            remaining: AtomicUsize::new(outputs.len()),
            failed: AtomicBool::new(false),
        })
    });
    for o in &outputs {
        let counter = match counters.get(o.topic.as_ref()) {
            Some(c) => c.clone(),
            None => {
                let c = shared.producer.counter(&o.topic);
                counters.insert(o.topic.clone(), c.clone());
                c
            }
        };
        let completion = match &token {
            Some(t) => Completion::Ack(t.clone(), counter),
            None => Completion::AckOne {
                sink: sink.clone(),
                tp: d.tp.clone(),
                epoch: d.epoch,
                offset: d.record.offset,
                counter,
            },
        };
        if let Err(e) = shared.producer.send_with(o, completion).await {
            if let Some(t) = &token {
                t.failed.store(true, Ordering::Release);
            }
            let msg = format!(
                "sending an output of {}-{}@{}",
                d.tp.topic, d.tp.partition, d.record.offset
            );
            if shared.opts.mode == DeliveryMode::ExactlyOnce && e.class() != ErrorClass::Fatal {
                shared.tell(Event::Abort(format!("{msg}: {e}")));
            } else {
                let mut stage = StageError::from(&e);
                stage.message = format!("{msg}: {}", stage.message);
                shared.tell(Event::Fail(Error::Stage(
                    stage.with_class(ErrorClass::Fatal),
                )));
            }
            return;
        }
    }
}

/// How a record's processing ended, for ordering-aware parking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// Processed, or dead-lettered: its key's next record may go.
    Resolved,
    /// Sent to a retry tier: its key's next records wait behind it.
    Tiered,
    /// Not acknowledged (stopping, aborting): nothing changes.
    Unacked,
}

/// Runs the processor, retrying `Transient` errors in place, then (with retry tiers) in the
/// next tier. `None` means the record will not be acknowledged (the loop stops, or the
/// transaction aborts).
async fn process_with_retries<P: Processor>(
    shared: &Arc<Shared<P>>,
    d: &Dispatch,
    emitter: &mut Emitter,
) -> Option<Vec<OutRecord>> {
    // A record handed back from a retry tier: its original is processed again; another
    // group's is acknowledged untouched.
    let handed_back = match &shared.opts.dead_letters.retry_tiers {
        Some(t) if d.record.topic.as_ref() == t.ready_topic => match Retried::read(&d.record) {
            Ok(r) if r.group != shared.opts.group_id => return Some(Vec::new()),
            Ok(r) => Some((r.original_record(), r)),
            Err(e) => {
                let error = StageError::new(ErrorCode::InvalidInput, e.to_string());
                count_error(shared, error.class.as_str(), error.code.as_str());
                return dead_letter(shared, &d.record, error, 1, None);
            }
        },
        _ => None,
    };
    let (record, prior) = match &handed_back {
        Some((record, r)) => (record, Some(r)),
        None => (&d.record, None),
    };
    // Ordering-aware parking: a record of a key whose earlier record waits in a tier waits
    // behind it.
    let follower = prior.and_then(|_| tiers::follower_seq(&d.record));
    let parked = match (&shared.parking, &record.key) {
        (Some(p), Some(k)) => Some((p, k)),
        _ => None,
    };
    // A head handed back is processed: the others wait for it.
    let head = prior.is_some() && follower.is_none();
    if let (Some((parking, key)), false) = (parked, head) {
        if let Park::Follow(seq) = parking.on_record(&record.topic, key, follower, Instant::now()) {
            return tiers::park_behind(shared, record, prior, seq);
        }
    }
    let (out, ending) = attempts(shared, d, record, prior, follower, emitter).await;
    if let Some((parking, key)) = parked {
        match ending {
            Ending::Resolved if prior.is_some() => parking.resolved(&record.topic, key, follower),
            Ending::Tiered => {
                if follower.is_some() {
                    // It leaves the queue of followers and becomes the key's head.
                    parking.resolved(&record.topic, key, follower);
                }
                parking.head_waits(&record.topic, key, Instant::now());
            }
            _ => {}
        }
    }
    out
}

/// The attempts in place, and where the record goes when they fail.
async fn attempts<P: Processor>(
    shared: &Arc<Shared<P>>,
    d: &Dispatch,
    record: &Record,
    prior: Option<&Retried>,
    follower: Option<u64>,
    emitter: &mut Emitter,
) -> (Option<Vec<OutRecord>>, Ending) {
    let retry = &shared.opts.retry;
    let mut attempt = 0;
    loop {
        attempt += 1;
        emitter.clear();
        let error = match shared.processor.process(record, emitter).await {
            Ok(()) => return (Some(emitter.take()), Ending::Resolved),
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
                shared.tell(Event::Fail(Error::Stage(error)));
                return (None, Ending::Unacked);
            }
            // Shutting down: leave the record unacknowledged; it is read again after restart.
            ErrorClass::Transient if stopping => {
                shared.tell(Event::Stuck);
                return (None, Ending::Unacked);
            }
            ErrorClass::Transient if shared.opts.dead_letters.retry_tiers.is_some() => {
                let (out, tiered) =
                    tiers::to_next_tier(shared, record, error, attempt, prior, follower.is_some());
                let ending = if tiered {
                    Ending::Tiered
                } else {
                    Ending::Resolved
                };
                return (out, ending);
            }
            ErrorClass::Transient if shared.opts.mode == DeliveryMode::ExactlyOnce => {
                shared.tell(Event::Abort(format!(
                    "{}-{}@{}: {error} (after {attempt} attempts)",
                    d.tp.topic, d.tp.partition, d.record.offset
                )));
                return (None, Ending::Unacked);
            }
            _ => {
                return (
                    dead_letter(shared, record, error, attempt, prior),
                    Ending::Resolved,
                )
            }
        }
    }
}

/// The dead-letter record for a failed record, or `None` (loop stops) when the stage has no
/// dead-letter topic.
pub(super) fn dead_letter<P: Processor>(
    shared: &Shared<P>,
    record: &Record,
    error: StageError,
    attempt: u32,
    prior: Option<&Retried>,
) -> Option<Vec<OutRecord>> {
    let Some(topic) = &shared.dead_letter_topic else {
        shared.tell(Event::Fail(Error::Stage(error)));
        return None;
    };
    // The first few at warn, then one in a thousand with the count (a poison burst must not
    // flood the log); every one at debug and in the metrics.
    let n = shared.dead_lettered.fetch_add(1, Ordering::Relaxed) + 1;
    if n <= 10 || n.is_multiple_of(1000) {
        tracing::warn!(
            topic = %record.topic, partition = record.partition, offset = record.offset,
            error = %error, dead_letter_topic = %topic, dead_lettered_so_far = n,
            "Dead-lettering a record (after the first 10, one in 1000 is logged at warn; all at debug)"
        );
    } else {
        tracing::debug!(
            topic = %record.topic, partition = record.partition, offset = record.offset,
            error = %error, dead_letter_topic = %topic, "Dead-lettering a record"
        );
    }
    let dl = tiers::failure_of(shared, record, &error, attempt, prior);
    let (key, value, mut headers) = dl.to_kafka();
    if let Some(s) = &error.expected_subject {
        headers.set(weft_core::dead_letter::DLQ_EXPECTED_SUBJECT, s.clone());
    }
    if shared.opts.dead_letters.connect_headers {
        weft_core::foreign_dlq::write_connect(&dl, &mut headers);
    }
    if shared.opts.dead_letters.spring_headers {
        weft_core::foreign_dlq::write_spring(&dl, &mut headers);
    }
    if let Some(m) = &shared.metrics {
        if let Ok(c) = m.dead_lettered.get_metric_with_label_values(&[
            &shared.opts.service,
            record.topic.as_ref(),
            error.code.as_str(),
        ]) {
            c.inc();
        }
    }
    Some(vec![OutRecord {
        topic: Arc::clone(topic),
        partition: None,
        key,
        value,
        headers,
        timestamp_ms: record.timestamp_ms,
    }])
}
