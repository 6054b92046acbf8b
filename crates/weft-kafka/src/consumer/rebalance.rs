//! Offset stores, synchronous commits, transactions and the rebalance hook. Everything here
//! runs on the poll thread (directly, or inside `poll` for rebalance callbacks) and must not
//! panic.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, Rebalance};
use rdkafka::error::KafkaError;
use rdkafka::producer::Producer as _;
use rdkafka::{Offset, TopicPartitionList};
use weft_core::{ErrorCode, StageError};

use super::Shared;
use crate::context::{RebalanceHook, WeftContext};
use crate::error::{Error, Result};
use crate::options::DeliveryMode;
use crate::processor::Processor;
use crate::tracker::TopicPartition;

const KAFKA_TIMEOUT: Duration = Duration::from_secs(30);

pub(super) struct Hook<P>(pub Arc<Shared<P>>);

impl<P: Processor> RebalanceHook for Hook<P> {
    fn pre_rebalance(&self, consumer: &BaseConsumer<WeftContext>, rebalance: &Rebalance<'_>) {
        let shared = &self.0;
        match rebalance {
            Rebalance::Revoke(tpl) => {
                count(shared, "revoke");
                let tps = partitions(tpl);
                let deadline = Instant::now() + shared.opts.drain_timeout;
                let result = match shared.opts.mode {
                    DeliveryMode::AtLeastOnce => {
                        let drained = shared.wait_until(deadline, |st| {
                            st.tracker.in_flight_on(&tps) == 0 || st.failure.is_some()
                        });
                        if !drained {
                            tracing::warn!(stage = %shared.opts.stage, "Revoke drain timed out; committing what was acknowledged");
                        }
                        commit_partitions(shared, consumer, &tps);
                        Ok(())
                    }
                    DeliveryMode::ExactlyOnce => commit_transaction(shared, consumer, deadline),
                };
                if let Err(e) = result {
                    shared.fail(e);
                }
                shared.update(|st| {
                    for tp in &tps {
                        st.tracker.revoke(tp);
                    }
                });
                tracing::info!(stage = %shared.opts.stage, partitions = tps.len(), "Partitions revoked");
            }
            Rebalance::Assign(_) => {}
            Rebalance::Error(e) => tracing::warn!(error = %e, "Rebalance error"),
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<WeftContext>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(tpl) = rebalance {
            let shared = &self.0;
            count(shared, "assign");
            let tps = partitions(tpl);
            shared.update(|st| {
                for tp in &tps {
                    st.tracker.assign(tp.clone());
                }
            });
            tracing::info!(stage = %shared.opts.stage, partitions = tps.len(), "Partitions assigned");
        }
    }
}

fn count<P: Processor>(shared: &Shared<P>, kind: &str) {
    if let Some(m) = &shared.metrics {
        if let Ok(c) = m
            .rebalances
            .get_metric_with_label_values(&[&shared.opts.service, kind])
        {
            c.inc();
        }
    }
}

fn partitions(tpl: &TopicPartitionList) -> Vec<TopicPartition> {
    tpl.elements()
        .iter()
        .map(|e| TopicPartition::new(e.topic(), e.partition()))
        .collect()
}

fn to_tpl(positions: &[(TopicPartition, i64)]) -> TopicPartitionList {
    let mut tpl = TopicPartitionList::with_capacity(positions.len());
    for (tp, pos) in positions {
        if let Err(e) = tpl.add_partition_offset(&tp.topic, tp.partition, Offset::Offset(*pos)) {
            tracing::warn!(error = %e, topic = %tp.topic, "Cannot add an offset to a partition list");
        }
    }
    tpl
}

/// Counts committed records and remembers the positions as committed.
fn mark_committed<P: Processor>(shared: &Shared<P>, positions: &[(TopicPartition, i64)]) {
    shared.update(|st| {
        for (tp, pos) in positions {
            let before = st.tracker.committed(tp).unwrap_or(*pos);
            let delta = u64::try_from(pos - before).unwrap_or(0);
            if let Some(m) = &shared.metrics {
                if let Ok(c) = m.committed.get_metric_with_label_values(&[
                    shared.opts.service.as_str(),
                    tp.topic.as_ref(),
                ]) {
                    c.inc_by(delta);
                }
            }
        }
        st.tracker.mark_committed(positions);
    });
}

/// At-least-once: stores the positions that moved (librdkafka commits them in the background);
/// with `sync`, stores every position and commits synchronously (shutdown).
pub(super) fn store_positions<P: Processor>(
    shared: &Shared<P>,
    consumer: &BaseConsumer<WeftContext>,
    sync: bool,
) {
    let positions = shared.update(|st| {
        if sync {
            st.tracker.positions()
        } else {
            st.tracker.take_dirty()
        }
    });
    store(shared, consumer, &positions, sync);
}

/// At-least-once: commits the acknowledged prefix of the given partitions synchronously.
fn commit_partitions<P: Processor>(
    shared: &Shared<P>,
    consumer: &BaseConsumer<WeftContext>,
    tps: &[TopicPartition],
) {
    let positions: Vec<_> = {
        let st = shared.lock();
        tps.iter()
            .filter_map(|tp| st.tracker.position(tp).map(|p| (tp.clone(), p)))
            .collect()
    };
    store(shared, consumer, &positions, true);
}

/// Stores `positions` for librdkafka's background commit and, with `sync`, commits them now.
fn store<P: Processor>(
    shared: &Shared<P>,
    consumer: &BaseConsumer<WeftContext>,
    positions: &[(TopicPartition, i64)],
    sync: bool,
) {
    if positions.is_empty() {
        return;
    }
    let tpl = to_tpl(positions);
    if let Err(e) = consumer.store_offsets(&tpl) {
        // Happens for partitions revoked a moment ago; their new owner starts from the
        // last commit, which at-least-once allows.
        tracing::debug!(error = %e, "Could not store offsets");
    }
    mark_committed(shared, positions);
    if sync {
        commit_sync(shared, consumer, &tpl);
    }
}

fn commit_sync<P: Processor>(
    shared: &Shared<P>,
    consumer: &BaseConsumer<WeftContext>,
    tpl: &TopicPartitionList,
) {
    let outcome = match consumer.commit(tpl, CommitMode::Sync) {
        Ok(()) => "ok",
        Err(KafkaError::ConsumerCommit(rdkafka::types::RDKafkaErrorCode::NoOffset)) => "ok",
        Err(e) => {
            tracing::warn!(stage = %shared.opts.stage, error = %e, "Synchronous offset commit failed");
            "error"
        }
    };
    if let Some(m) = &shared.metrics {
        if let Ok(c) = m
            .commits
            .get_metric_with_label_values(&[&shared.opts.service, outcome])
        {
            c.inc();
        }
    }
}

/// Exactly-once: begins a transaction when none is open.
pub(super) fn ensure_transaction<P: Processor>(shared: &Shared<P>) -> Result<()> {
    if shared.lock().txn_open {
        return Ok(());
    }
    // A failure librdkafka reported for an earlier transaction is not this one's.
    drop(shared.producer.take_txn_failure());
    shared
        .producer
        .client()
        .begin_transaction()
        .map_err(|e| Error::kafka("beginning a transaction", e))?;
    shared.update(|st| st.txn_open = true);
    shared.txn_records.store(0, Ordering::Relaxed);
    Ok(())
}

/// Exactly-once: waits until every dispatched record's outputs are delivered, then commits the
/// transaction with the consumer positions. Aborts and rewinds when that is not possible.
pub(super) fn commit_transaction<P: Processor>(
    shared: &Shared<P>,
    consumer: &BaseConsumer<WeftContext>,
    deadline: Instant,
) -> Result<()> {
    if !shared.lock().txn_open {
        return Ok(());
    }
    let drained = shared.wait_until(deadline, |st| {
        (st.tracker.in_flight() == 0 && shared.active.load(Ordering::SeqCst) == 0)
            || st.abort.is_some()
            || st.failure.is_some()
    });
    let (abort, failed) = {
        let mut st = shared.lock();
        (st.abort.take(), st.failure.is_some())
    };
    if failed {
        return Ok(()); // The poll loop stops and aborts.
    }
    if let Some(reason) = abort {
        return abort_and_rewind(shared, consumer, &reason);
    }
    if !drained {
        return abort_and_rewind(shared, consumer, "outputs were not delivered in time");
    }
    let positions = shared.update(|st| st.tracker.take_dirty());
    let sent = shared.txn_records.load(Ordering::Relaxed);
    if positions.is_empty() && sent == 0 {
        return Ok(()); // Nothing happened; keep the (empty) transaction open.
    }
    let producer = shared.producer.client();
    if !positions.is_empty() {
        let metadata = consumer
            .group_metadata()
            .ok_or_else(|| Error::Internal("the consumer has no group metadata".into()))?;
        if let Err(e) =
            producer.send_offsets_to_transaction(&to_tpl(&positions), &metadata, KAFKA_TIMEOUT)
        {
            return transaction_error(shared, consumer, "sending offsets to the transaction", e);
        }
    }
    if let Err(e) = producer.commit_transaction(KAFKA_TIMEOUT) {
        return transaction_error(shared, consumer, "committing the transaction", e);
    }
    shared.update(|st| {
        st.txn_open = false;
        st.consecutive_aborts = 0;
    });
    shared.txn_records.store(0, Ordering::Relaxed);
    mark_committed(shared, &positions);
    count_txn(shared, "commit");
    Ok(())
}

fn transaction_error<P: Processor>(
    shared: &Shared<P>,
    consumer: &BaseConsumer<WeftContext>,
    what: &str,
    e: KafkaError,
) -> Result<()> {
    if let Some(why) = shared.producer.take_txn_failure() {
        if why.is_authorization() {
            // Aborting and reading again would meet the same refusal: stop.
            return Err(Error::Stage(StageError::new(
                ErrorCode::KafkaNotAuthorized,
                format!("{what}: the transaction had failed: {}", why.reason),
            )));
        }
    }
    let abortable = match &e {
        KafkaError::Transaction(te) => {
            !te.is_fatal() && (te.txn_requires_abort() || te.is_retriable())
        }
        _ => false,
    };
    if abortable {
        abort_and_rewind(shared, consumer, &format!("{what}: {e}"))
    } else {
        Err(Error::kafka(what, e))
    }
}

fn count_txn<P: Processor>(shared: &Shared<P>, outcome: &str) {
    if let Some(m) = &shared.metrics {
        if let Ok(c) = m
            .transactions
            .get_metric_with_label_values(&[&shared.opts.service, outcome])
        {
            c.inc();
        }
    }
}

/// Exactly-once: aborts the open transaction (if any) without re-reading.
pub(super) fn abort_open_transaction<P: Processor>(shared: &Shared<P>, reason: &str) -> Result<()> {
    if !shared.lock().txn_open {
        return Ok(());
    }
    tracing::warn!(stage = %shared.opts.stage, reason, "Aborting the open transaction");
    shared
        .producer
        .client()
        .abort_transaction(KAFKA_TIMEOUT)
        .map_err(|e| Error::kafka("aborting the transaction", e))?;
    shared.update(|st| st.txn_open = false);
    shared.txn_records.store(0, Ordering::Relaxed);
    count_txn(shared, "abort");
    Ok(())
}

/// Exactly-once: abandons everything since the last commit. Records still queued in lanes
/// become stale, the transaction is aborted once no lane is sending, and every partition is
/// re-read from its last committed position.
pub(super) fn abort_and_rewind<P: Processor>(
    shared: &Shared<P>,
    consumer: &BaseConsumer<WeftContext>,
    reason: &str,
) -> Result<()> {
    let (seeks, aborts) = shared.update(|st| {
        super::poller::discard_batch(st);
        st.abort = None;
        st.stuck = 0;
        st.consecutive_aborts += 1;
        (st.tracker.rewind(), st.consecutive_aborts)
    });
    let limit = shared.opts.retry.max_attempts.max(1) + 2;
    if aborts > limit {
        return Err(Error::Internal(format!(
            "{aborts} transactions in a row aborted, last because {reason}"
        )));
    }
    let quiet = shared.wait_until(Instant::now() + shared.opts.drain_timeout, |_| {
        shared.active.load(Ordering::SeqCst) == 0
    });
    if !quiet {
        return Err(Error::Internal(
            "lanes did not stop sending in time to abort the transaction".into(),
        ));
    }
    abort_open_transaction(shared, reason)?;
    if !seeks.is_empty() {
        match consumer.seek_partitions(to_tpl(&seeks), KAFKA_TIMEOUT) {
            Ok(result) => {
                for e in result.elements() {
                    if let Err(err) = e.error() {
                        tracing::warn!(topic = e.topic(), partition = e.partition(), error = %err, "Seek after abort failed");
                    }
                }
            }
            Err(e) => return Err(Error::kafka("seeking back after an abort", e)),
        }
    }
    let pause = shared.opts.retry.backoff(aborts);
    let shutdown = shared.shutdown.clone();
    shared.wait_until(Instant::now() + pause, |_| shutdown.is_cancelled());
    Ok(())
}
