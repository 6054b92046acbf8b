//! The consumer loop: bounded concurrency, per-key order, offsets stored only for the
//! contiguous prefix of acknowledged records, drain-then-commit on rebalance and shutdown,
//! and an exactly-once mode on Kafka transactions.
//!
//! Shape: one poll thread owns the librdkafka consumer (so rebalance callbacks, which run
//! inside `poll`, may block to drain without stalling the async runtime) and hands records to
//! `concurrency` lanes, chosen by key hash. Each lane processes its records in order, sends the
//! outputs, and keeps their deliveries pending while it goes on; a delivered record is
//! acknowledged to the shared [`OffsetTracker`]. The poll thread stores (at-least-once) or
//! commits in a transaction (exactly-once) the tracker's positions every `commit_interval`.

mod lane;
mod poller;
mod rebalance;

use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use weft_core::{Classify as _, ErrorClass};

use crate::config::KafkaConfig;
use crate::error::{Error, Result};
use crate::metrics::KafkaMetrics;
use crate::options::{ConsumerOptions, DeliveryMode};
use crate::processor::Processor;
use crate::producer::{Producer, ProducerOptions};
use crate::record::Record;
use crate::tracker::{OffsetTracker, TopicPartition};

/// Runs `processor` over the options' topics until `shutdown` is cancelled (then drains and
/// commits) or a fatal error stops it (then commits what was acknowledged and returns it).
pub async fn run<P: Processor>(
    kafka: &KafkaConfig,
    opts: ConsumerOptions,
    processor: Arc<P>,
    metrics: Option<KafkaMetrics>,
    shutdown: CancellationToken,
) -> Result<()> {
    let problems = opts.validate();
    if !problems.is_empty() {
        return Err(Error::Config(problems.join("; ")));
    }
    let producer_opts = ProducerOptions {
        transactional_id: match opts.mode {
            DeliveryMode::ExactlyOnce => opts.transactional_id.clone(),
            DeliveryMode::AtLeastOnce => None,
        },
        ..ProducerOptions::default()
    };
    let producer = Producer::new(kafka, &opts.service, &producer_opts, metrics.clone())?;
    let lanes = opts.concurrency;
    let mut senders = Vec::with_capacity(lanes);
    let mut receivers = Vec::with_capacity(lanes);
    for _ in 0..lanes {
        // Batches, not records: the in-flight bound is the tracker's; this only smooths bursts.
        let (tx, rx) = mpsc::channel(64);
        senders.push(tx);
        receivers.push(rx);
    }
    let shared = Arc::new(Shared {
        opts,
        processor,
        producer,
        metrics,
        state: Mutex::new(LoopState::default()),
        changed: Condvar::new(),
        batch: Mutex::new(Batch {
            per_lane: (0..lanes).map(|_| Vec::new()).collect(),
            len: 0,
            senders,
        }),
        generation: AtomicU64::new(0),
        txn_records: AtomicUsize::new(0),
        shutdown,
        stop: CancellationToken::new(),
    });
    let tasks: Vec<_> = receivers
        .into_iter()
        .map(|rx| tokio::spawn(lane::run(shared.clone(), rx)))
        .collect();

    // A dedicated thread, not `spawn_blocking`: the runtime must not wait for it on drop.
    let kafka = kafka.clone();
    let poll_shared = shared.clone();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name(format!("weft-poll-{}", shared.opts.stage))
        .spawn(move || {
            let _ = done_tx.send(poller::run(&kafka, poll_shared));
        })
        .map_err(|e| Error::Internal(format!("starting the poll thread: {e}")))?;
    let result = done_rx
        .await
        .map_err(|_| Error::Internal("the poll thread ended without a result".into()))?;
    // The poll thread dropped the lane senders: lanes finish what they hold and end.
    shared.stop.cancel();
    for t in tasks {
        if let Err(e) = t.await {
            tracing::error!(error = %e, "Lane task failed");
        }
    }
    if let Err(e) = shared.producer.flush(shared.opts.drain_timeout / 2).await {
        tracing::warn!(error = %e, "Producer did not flush everything on shutdown");
    }
    result
}

/// A record handed to a lane.
pub(crate) struct Dispatch {
    pub record: Record,
    pub tp: TopicPartition,
    pub epoch: u64,
}

#[derive(Default)]
pub(crate) struct LoopState {
    pub tracker: OffsetTracker,
    /// Lanes between taking a record and having sent its outputs.
    pub active: usize,
    /// Records that will never be acknowledged (fatal error, or an abort is pending).
    pub stuck: usize,
    /// Poll-thread waiters on `changed`.
    pub waiters: usize,
    /// A fatal error: the loop stops.
    pub failure: Option<Error>,
    /// Exactly-once: the open transaction must be aborted and the input re-read.
    pub abort: Option<String>,
    /// Exactly-once: a transaction is open.
    pub txn_open: bool,
    /// Exactly-once: aborts since the last successful commit (a poison record loops).
    pub consecutive_aborts: u32,
}

/// Records dispatched by the poll thread but not yet handed to their lanes: sending one batch
/// per lane instead of one record wakes a lane once for many records.
pub(crate) struct Batch {
    pub per_lane: Vec<Vec<Dispatch>>,
    pub len: usize,
    pub senders: Vec<mpsc::Sender<Vec<Dispatch>>>,
}

/// Records handed to a lane at most, per batch.
pub(crate) const BATCH_MAX: usize = 512;

pub(crate) struct Shared<P> {
    pub opts: ConsumerOptions,
    pub processor: Arc<P>,
    pub producer: Producer,
    pub metrics: Option<KafkaMetrics>,
    pub state: Mutex<LoopState>,
    pub changed: Condvar,
    /// Only the poll thread touches it (the lock is never contended).
    pub batch: Mutex<Batch>,
    /// Bumped on every revoke and rewind: lanes then re-check the epochs of what they hold.
    pub generation: AtomicU64,
    /// Exactly-once: records sent in the open transaction.
    pub txn_records: AtomicUsize,
    /// Cancelled when the service shuts down.
    pub shutdown: CancellationToken,
    /// Cancelled when the poll thread has finished (lanes stop retrying).
    pub stop: CancellationToken,
}

impl<P> Shared<P> {
    pub fn lock(&self) -> MutexGuard<'_, LoopState> {
        // A poisoned lock means a lane panicked while holding it; the state is still usable
        // for committing what was acknowledged, which is all that is left to do.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Changes the state and wakes the poll thread if it waits for a change.
    pub fn update<R>(&self, f: impl FnOnce(&mut LoopState) -> R) -> R {
        let mut st = self.lock();
        let r = f(&mut st);
        let wake = st.waiters > 0;
        drop(st);
        if wake {
            self.changed.notify_all();
        }
        r
    }

    /// Waits until `done` holds, or `deadline` passes; returns whether `done` held. Poll thread
    /// only: hands the pending batch to the lanes first, since what is waited for may be in it.
    pub fn wait_until(&self, deadline: Instant, mut done: impl FnMut(&LoopState) -> bool) -> bool
    where
        P: Processor,
    {
        poller::flush(self);
        let mut st = self.lock();
        st.waiters += 1;
        let ok = loop {
            if done(&st) {
                break true;
            }
            let now = Instant::now();
            if now >= deadline {
                break false;
            }
            let step = (deadline - now).min(Duration::from_millis(50));
            st = match self.changed.wait_timeout(st, step) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        };
        st.waiters -= 1;
        ok
    }

    /// Records a fatal error; the poll thread stops at its next turn.
    pub fn fail(&self, error: Error) {
        tracing::error!(stage = %self.opts.stage, error = %error, "Consumer loop stopping on a fatal error");
        self.update(|st| {
            st.stuck += 1;
            if st.failure.is_none() {
                st.failure = Some(error);
            }
        });
    }

    /// Exactly-once: asks the poll thread to abort the open transaction and re-read.
    pub fn request_abort(&self, reason: String) {
        self.update(|st| {
            st.stuck += 1;
            if st.abort.is_none() {
                st.abort = Some(reason);
            }
        });
    }
}

impl<P: Processor> crate::producer::AckSink for Shared<P> {
    fn delivered(&self, tp: &TopicPartition, epoch: u64, offset: i64) {
        self.update(|st| {
            st.tracker.ack(tp, epoch, offset);
        });
    }

    fn delivery_failed(
        &self,
        tp: &TopicPartition,
        epoch: u64,
        offset: i64,
        error: rdkafka::error::KafkaError,
    ) {
        if !self.lock().tracker.is_current(tp, epoch) {
            // An aborted transaction purged it, or the partition moved away: not ours.
            return;
        }
        let e = Error::kafka("delivery failed", error);
        lane::count_error(self, e.class().as_str(), e.code().as_str());
        let what = format!(
            "delivery of an output of {}-{}@{offset} failed: {e}",
            tp.topic, tp.partition
        );
        match (self.opts.mode, e.class()) {
            (DeliveryMode::ExactlyOnce, ErrorClass::Transient | ErrorClass::Permanent) => {
                self.request_abort(what)
            }
            _ => {
                let mut stage = weft_core::StageError::from(&e).with_class(ErrorClass::Fatal);
                stage.message = what;
                self.fail(Error::Stage(stage));
            }
        }
    }
}
