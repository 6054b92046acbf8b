//! The poll thread: owns the consumer, dispatches records to lanes, stores or commits offsets.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::Producer as _;
use rdkafka::Message;

use super::rebalance::{self, Hook};
use super::{Dispatch, Shared, BATCH_MAX};
use crate::config::{KafkaConfig, Role};
use crate::context::WeftContext;
use crate::error::{Error, Result};
use crate::options::{DeliveryMode, Ordering};
use crate::processor::Processor;
use crate::record::Record;
use crate::tracker::TopicPartition;

const POLL_TIMEOUT: Duration = Duration::from_millis(50);

type TopicMap =
    HashMap<String, (Arc<str>, Option<prometheus::IntCounter>), foldhash::fast::RandomState>;

pub(super) fn run<P: Processor>(kafka: &KafkaConfig, shared: Arc<Shared<P>>) -> Result<()> {
    let opts = &shared.opts;
    let eos = opts.mode == DeliveryMode::ExactlyOnce;
    if eos {
        shared
            .producer
            .client()
            .init_transactions(Duration::from_secs(30))
            .map_err(|e| Error::kafka("initialising transactions", e))?;
    }
    let consumer = create_consumer(kafka, &shared)?;
    let mut topics: Vec<&str> = opts.topics.iter().map(String::as_str).collect();
    if let Some(t) = &opts.dead_letters.retry_tiers {
        // Records of this group come back here when their retry tier is due.
        topics.push(t.ready_topic.as_str());
    }
    consumer
        .subscribe(&topics)
        .map_err(|e| Error::kafka(format!("subscribing to {topics:?}"), e))?;
    tracing::info!(stage = %opts.stage, group = %opts.group_id, ?topics, mode = ?opts.mode, "Consumer loop started");

    let lanes = opts.concurrency;
    // Per input topic: its name shared by its records, and its consumed counter.
    let mut topics_seen: TopicMap = TopicMap::default();
    let mut last_commit = Instant::now();
    // Turns since the clock was last read (reading it per record shows in profiles).
    let mut since_check = 0u32;
    let outcome = loop {
        if shared.shutdown.is_cancelled() {
            break Ok(());
        }
        let (failure, abort, in_flight, pending) = {
            let mut st = shared.lock();
            shared.drain_events(&mut st);
            let abort = if eos { st.abort.take() } else { None };
            (
                st.failure.take(),
                abort,
                st.tracker.in_flight(),
                st.batch.len,
            )
        };
        if let Some(e) = failure {
            break Err(e);
        }
        if let Some(reason) = abort {
            if let Err(e) = rebalance::abort_and_rewind(&shared, &consumer, &reason) {
                break Err(e);
            }
            continue;
        }
        since_check += 1;
        let due = since_check >= 64 && {
            since_check = 0;
            last_commit.elapsed() >= opts.commit_interval
        };
        if due {
            last_commit = Instant::now();
            let r = if eos {
                rebalance::commit_transaction(
                    &shared,
                    &consumer,
                    Instant::now() + opts.drain_timeout,
                )
            } else {
                rebalance::store_positions(&shared, &consumer, false);
                Ok(())
            };
            if let Err(e) = r {
                break Err(e);
            }
        }
        // Bounded in-flight window: wait for acknowledgements instead of polling more.
        if in_flight >= opts.max_in_flight {
            shared.wait_until(Instant::now() + POLL_TIMEOUT, |st| {
                st.tracker.in_flight() < opts.max_in_flight
                    || st.failure.is_some()
                    || st.abort.is_some()
            });
            continue;
        }
        // Gather a batch: do not wait while records are pending, hand them over instead (a
        // commit above may have handed them over already: then this poll just returns early).
        let timeout = if pending > 0 {
            Duration::ZERO
        } else {
            POLL_TIMEOUT
        };
        let Some(polled) = consumer.poll(timeout) else {
            flush(&shared);
            since_check = 64;
            continue;
        };
        let m = match polled {
            Ok(m) => m,
            Err(e) => {
                if let Some(fatal) = fatal_consumer_error(&e, &topics) {
                    break Err(fatal);
                }
                tracing::warn!(error = %e, "Consumer error");
                continue;
            }
        };
        let (topic, counter) = match topics_seen.get(m.topic()) {
            Some(seen) => seen,
            None => {
                let t: Arc<str> = Arc::from(m.topic());
                let c = shared.metrics.as_ref().and_then(|m| {
                    m.consumed
                        .get_metric_with_label_values(&[opts.service.as_str(), t.as_ref()])
                        .ok()
                });
                topics_seen.entry(m.topic().to_string()).or_insert((t, c))
            }
        };
        if let Some(c) = counter {
            c.inc();
        }
        let record = Record::from_borrowed(&m, topic.clone());
        drop(m);
        let tp = TopicPartition {
            topic: topic.clone(),
            partition: record.partition,
        };

        let lane = lane_of(&record, opts.ordering, lanes);
        let full = {
            let mut st = shared.lock();
            let (epoch, valid) = st.tracker.dispatch(&tp, record.offset);
            let b = &mut st.batch;
            b.per_lane[lane].push(Dispatch {
                record,
                tp,
                epoch,
                valid,
            });
            b.len += 1;
            b.len >= BATCH_MAX
        };
        if full {
            flush(&shared);
        }
    };
    finish(&shared, consumer, outcome)
}

/// Hands every pending batch to its lane (poll thread only). Exactly-once: opens the
/// transaction first, since the lanes send right away. Sending under the state lock is fine:
/// lanes never take it, and a full lane channel is the backpressure we want.
pub(super) fn flush<P: Processor>(shared: &Shared<P>) {
    if shared.lock().batch.len == 0 {
        return;
    }
    if shared.opts.mode == DeliveryMode::ExactlyOnce {
        if let Err(e) = rebalance::ensure_transaction(shared) {
            shared.fail(e);
            return;
        }
    }
    let mut st = shared.lock();
    st.batch.len = 0;
    let in_flight = st.tracker.in_flight();
    let mut lane_ended = false;
    let super::Batch {
        per_lane, senders, ..
    } = &mut st.batch;
    for (records, sender) in per_lane.iter_mut().zip(senders.iter()) {
        if !records.is_empty() && sender.blocking_send(std::mem::take(records)).is_err() {
            lane_ended = true;
        }
    }
    if lane_ended {
        shared.record_failure(
            &mut st,
            Error::Internal("a processing lane ended unexpectedly".into()),
        );
    }
    drop(st);
    if let Some(m) = &shared.metrics {
        if let Ok(g) = m
            .in_flight
            .get_metric_with_label_values(&[&shared.opts.service])
        {
            g.set(i64::try_from(in_flight).unwrap_or(i64::MAX));
        }
    }
}

/// Forgets the pending batch (its records were rewound).
pub(super) fn discard_batch(st: &mut super::LoopState) {
    for records in &mut st.batch.per_lane {
        records.clear();
    }
    st.batch.len = 0;
}

/// Drains, commits what was acknowledged, and closes the consumer.
fn finish<P: Processor>(
    shared: &Arc<Shared<P>>,
    consumer: BaseConsumer<WeftContext>,
    outcome: Result<()>,
) -> Result<()> {
    let opts = &shared.opts;
    let deadline = Instant::now() + opts.drain_timeout;
    let drained = shared.wait_until(deadline, |st| st.tracker.in_flight() <= st.stuck);
    if !drained {
        tracing::warn!(
            stage = %opts.stage,
            in_flight = shared.lock().tracker.in_flight(),
            "Drain timed out; committing only what was acknowledged"
        );
    }
    let committed = match opts.mode {
        DeliveryMode::AtLeastOnce => {
            rebalance::store_positions(shared, &consumer, true);
            Ok(())
        }
        DeliveryMode::ExactlyOnce => {
            let pending_abort = shared.lock().abort.take();
            match pending_abort {
                Some(reason) if outcome.is_ok() => {
                    rebalance::abort_and_rewind(shared, &consumer, &reason)
                }
                _ if drained && outcome.is_ok() => {
                    rebalance::commit_transaction(shared, &consumer, deadline)
                }
                _ => rebalance::abort_open_transaction(shared, "the loop stopped before draining"),
            }
        }
    };
    // Nothing is in flight any more: the revoke during close has nothing left to wait for.
    {
        let mut st = shared.lock();
        st.tracker.revoke_all();
        st.stuck = 0;
    }
    consumer.unsubscribe();
    drop(consumer);
    // Dropping the senders ends the lanes once they finish what they hold.
    shared.lock().batch.senders.clear();
    tracing::info!(stage = %opts.stage, "Consumer loop stopped");
    outcome.and(committed)
}

fn create_consumer<P: Processor>(
    kafka: &KafkaConfig,
    shared: &Arc<Shared<P>>,
) -> Result<BaseConsumer<WeftContext>> {
    let opts = &shared.opts;
    let mut c = kafka.client_config(Role::Consumer, &opts.service);
    let mut default = |k: &str, v: String| {
        if c.get(k).is_none() {
            c.set(k, v);
        }
    };
    default("auto.offset.reset", opts.auto_offset_reset.clone());
    default("isolation.level", "read_committed".into());
    default("session.timeout.ms", "10000".into());
    // fetch.queue.backoff.ms and queued.max.messages.kbytes: KafkaConfig::client_config.
    c.set("group.id", &opts.group_id);
    c.set("enable.auto.offset.store", "false");
    c.set("enable.partition.eof", "false");
    match opts.mode {
        DeliveryMode::AtLeastOnce => {
            // librdkafka commits the stored offsets in the background every interval.
            c.set("enable.auto.commit", "true");
            c.set(
                "auto.commit.interval.ms",
                opts.commit_interval.as_millis().max(1).to_string(),
            );
        }
        DeliveryMode::ExactlyOnce => {
            c.set("enable.auto.commit", "false");
        }
    }
    let hook: Arc<dyn crate::context::RebalanceHook> = Arc::new(Hook(shared.clone()));
    let ctx = WeftContext::new(shared.metrics.clone()).with_hook(hook);
    c.create_with_context(ctx)
        .map_err(|e| Error::kafka("creating the consumer", e))
}

/// Consumer errors that stop the loop (authorisation); the rest are logged and retried. An
/// input topic that does not exist yet is not fatal: the subscription picks it up once created.
/// librdkafka's consumer errors do not name the topic: the message names what the loop reads.
fn fatal_consumer_error(e: &KafkaError, topics: &[&str]) -> Option<Error> {
    let code = crate::error::kafka_error_code(e);
    let fatal = code.default_class() == weft_core::ErrorClass::Fatal
        && code != weft_core::ErrorCode::KafkaUnknownTopic;
    fatal.then(|| Error::kafka(format!("consuming {}", topics.join(", ")), e.clone()))
}

/// The lane of a record: by key (records without a key by partition), or by partition.
fn lane_of(record: &Record, ordering: Ordering, lanes: usize) -> usize {
    // FNV-1a: cheap, stable, and well spread for short keys.
    let fnv = |h: u64, bytes: &[u8]| {
        bytes.iter().fold(h, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    let seed = 0xcbf2_9ce4_8422_2325;
    let h = match (&record.key, ordering) {
        (Some(k), Ordering::Key) => fnv(seed, k),
        _ => fnv(
            fnv(seed, record.topic.as_bytes()),
            &record.partition.to_le_bytes(),
        ),
    };
    (h % lanes as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn rec(key: Option<&'static str>, partition: i32) -> Record {
        Record {
            topic: Arc::from("t"),
            partition,
            offset: 0,
            timestamp_ms: None,
            key: key.map(|k| Bytes::from_static(k.as_bytes())),
            value: None,
            headers: weft_core::Headers::new(),
        }
    }

    #[test]
    fn same_key_same_lane_and_keyless_records_follow_their_partition() {
        for lanes in [1, 7, 64] {
            assert_eq!(
                lane_of(&rec(Some("a"), 0), Ordering::Key, lanes),
                lane_of(&rec(Some("a"), 5), Ordering::Key, lanes)
            );
            assert_eq!(
                lane_of(&rec(None, 3), Ordering::Key, lanes),
                lane_of(&rec(None, 3), Ordering::Key, lanes)
            );
            assert_eq!(
                lane_of(&rec(Some("a"), 2), Ordering::Partition, lanes),
                lane_of(&rec(Some("b"), 2), Ordering::Partition, lanes)
            );
        }
        let spread: std::collections::HashSet<usize> = (0..200)
            .map(|i| {
                let k: &'static str = Box::leak(format!("k{i}").into_boxed_str());
                lane_of(&rec(Some(k), 0), Ordering::Key, 16)
            })
            .collect();
        assert!(
            spread.len() > 12,
            "keys spread over lanes: {}",
            spread.len()
        );
    }
}
