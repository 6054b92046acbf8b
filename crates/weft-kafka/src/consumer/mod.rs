//! The consumer loop: bounded concurrency, per-key order, offsets stored only for the
//! contiguous prefix of acknowledged records, drain-then-commit on rebalance and shutdown,
//! and an exactly-once mode on Kafka transactions.
//!
//! Shape: one poll thread owns the librdkafka consumer and all loop state (the
//! [`OffsetTracker`], transaction state, pending batches), so rebalance callbacks, which run
//! inside `poll`, may block to drain without stalling the async runtime, and no lock is ever
//! contended. Records go in batches to `concurrency` lanes, chosen by key hash; each lane
//! processes its records in order and sends their outputs. Delivery reports (on the producer's
//! thread) and lane outcomes come back to the poll thread as [`Event`]s on a channel. The poll
//! thread stores (at-least-once) or commits in a transaction (exactly-once) the tracker's
//! positions every `commit_interval`.

mod lane;
mod park;
mod poller;
mod rebalance;
mod tiers;

use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use weft_core::{Classify as _, ErrorClass, ErrorCode, StageError};

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
    let (events, events_rx) = std::sync::mpsc::channel();
    let parking = opts
        .dead_letters
        .retry_tiers
        .as_ref()
        .filter(|t| t.park_keys)
        .map(|t| park::Parking::new(&t.tiers.iter().map(|t| t.delay).collect::<Vec<_>>()));
    let dead_letter_topic = opts.dead_letter_topic.as_deref().map(Arc::from);
    let shared = Arc::new(Shared {
        dead_letter_topic,
        opts,
        processor,
        producer,
        metrics,
        state: Mutex::new(LoopState {
            tracker: OffsetTracker::new(),
            stuck: 0,
            failure: None,
            abort: None,
            txn_open: false,
            consecutive_aborts: 0,
            batch: Batch {
                per_lane: (0..lanes).map(|_| Vec::new()).collect(),
                len: 0,
                senders,
            },
        }),
        events_rx: Mutex::new(events_rx),
        events,
        active: AtomicUsize::new(0),
        txn_records: AtomicUsize::new(0),
        shutdown,
        stop: CancellationToken::new(),
        parking,
        dead_lettered: std::sync::atomic::AtomicU64::new(0),
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
    /// Cleared when the partition is revoked or rewound: the lane then skips the record.
    pub valid: Arc<AtomicBool>,
}

/// What lanes and the producer's delivery reports tell the poll thread.
pub(crate) enum Event {
    /// Every output of the record is delivered (or it had none).
    Ack {
        tp: TopicPartition,
        epoch: u64,
        offset: i64,
    },
    /// An output of the record was not delivered.
    DeliveryFailed {
        tp: TopicPartition,
        epoch: u64,
        offset: i64,
        /// The topic of the output that failed.
        output: String,
        error: rdkafka::error::KafkaError,
    },
    /// The record will not be acknowledged (left for the next run).
    Stuck,
    /// A fatal error: the loop stops.
    Fail(Error),
    /// Exactly-once: abort the open transaction and re-read.
    Abort(String),
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

/// The loop's state. Only the poll thread locks it (directly, or inside `poll` for rebalance
/// callbacks), so the lock is never contended.
pub(crate) struct LoopState {
    pub tracker: OffsetTracker,
    /// Records that will never be acknowledged (fatal error, or an abort is pending).
    pub stuck: usize,
    /// A fatal error: the loop stops.
    pub failure: Option<Error>,
    /// Exactly-once: the open transaction must be aborted and the input re-read.
    pub abort: Option<String>,
    /// Exactly-once: a transaction is open.
    pub txn_open: bool,
    /// Exactly-once: aborts since the last successful commit (a poison record loops).
    pub consecutive_aborts: u32,
    pub batch: Batch,
}

pub(crate) struct Shared<P> {
    pub opts: ConsumerOptions,
    /// `opts.dead_letter_topic`, shared by every dead letter.
    pub dead_letter_topic: Option<Arc<str>>,
    pub processor: Arc<P>,
    pub producer: Producer,
    pub metrics: Option<KafkaMetrics>,
    pub state: Mutex<LoopState>,
    /// Poll thread only.
    pub events_rx: Mutex<std::sync::mpsc::Receiver<Event>>,
    pub events: std::sync::mpsc::Sender<Event>,
    /// Lanes between taking a record and having sent its outputs.
    pub active: AtomicUsize,
    /// Exactly-once: records sent in the open transaction.
    pub txn_records: AtomicUsize,
    /// Cancelled when the service shuts down.
    pub shutdown: CancellationToken,
    /// Cancelled when the poll thread has finished (lanes stop retrying).
    pub stop: CancellationToken,
    /// Keys parked behind a record in a retry tier (`RetryTiers::park_keys`).
    pub parking: Option<park::Parking>,
    /// Records dead-lettered by this loop (to log a burst sparingly).
    pub dead_lettered: std::sync::atomic::AtomicU64,
}

impl<P: Processor> Shared<P> {
    /// The loop state (poll thread only).
    pub fn lock(&self) -> MutexGuard<'_, LoopState> {
        // Poisoned only if the poll thread panicked while holding it; the state is still the
        // best record of what was acknowledged.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Changes the loop state (poll thread only).
    pub fn update<R>(&self, f: impl FnOnce(&mut LoopState) -> R) -> R {
        f(&mut self.lock())
    }

    /// Records a fatal error (poll thread only); the loop stops at its next turn.
    pub fn fail(&self, error: Error) {
        let mut st = self.lock();
        self.record_failure(&mut st, error);
    }

    /// Tells the poll thread something (lanes, delivery reports). Never blocks.
    pub fn tell(&self, event: Event) {
        // The receiver lives as long as the loop: a failed send means it has stopped.
        let _ = self.events.send(event);
    }

    /// Applies every event received so far (poll thread only).
    pub fn drain_events(&self, st: &mut LoopState) {
        let rx = self.events_rx.lock().unwrap_or_else(|p| p.into_inner());
        while let Ok(ev) = rx.try_recv() {
            self.apply(st, ev);
        }
    }

    fn apply(&self, st: &mut LoopState, ev: Event) {
        match ev {
            Event::Ack { tp, epoch, offset } => {
                st.tracker.ack(&tp, epoch, offset);
            }
            Event::DeliveryFailed {
                tp,
                epoch,
                offset,
                output,
                error,
            } => {
                if !st.tracker.is_current(&tp, epoch) {
                    // An aborted transaction purged it, or the partition moved away.
                    return;
                }
                let e = Error::kafka("delivery failed", error);
                let mut what = format!(
                    "delivery of an output of {}-{}@{offset} to {output} failed: {e}",
                    tp.topic, tp.partition
                );
                match (self.opts.mode, e.class()) {
                    (DeliveryMode::ExactlyOnce, ErrorClass::Transient | ErrorClass::Permanent) => {
                        // A failed transaction's messages are only "purged": its reason is
                        // librdkafka's. Refused rights stop the loop; the rest abort and retry.
                        if let Some(why) = self.producer.take_txn_failure() {
                            if why.is_authorization() {
                                let stage = StageError::new(
                                    ErrorCode::KafkaNotAuthorized,
                                    format!(
                                        "the broker refused an output of {}-{}@{offset} to \
                                         {output}: {}",
                                        tp.topic, tp.partition, why.reason
                                    ),
                                );
                                lane::count_error(self, stage.class.as_str(), stage.code.as_str());
                                self.record_failure(st, Error::Stage(stage));
                                return;
                            }
                            what = format!("{what}; the transaction had failed: {}", why.reason);
                        }
                        lane::count_error(self, e.class().as_str(), e.code().as_str());
                        st.stuck += 1;
                        st.abort.get_or_insert(what);
                    }
                    _ => {
                        lane::count_error(self, e.class().as_str(), e.code().as_str());
                        let mut stage = StageError::from(&e).with_class(ErrorClass::Fatal);
                        stage.message = what;
                        self.record_failure(st, Error::Stage(stage));
                    }
                }
            }
            Event::Stuck => st.stuck += 1,
            Event::Fail(e) => self.record_failure(st, e),
            Event::Abort(reason) => {
                st.stuck += 1;
                st.abort.get_or_insert(reason);
            }
        }
    }

    pub(crate) fn record_failure(&self, st: &mut LoopState, error: Error) {
        tracing::error!(stage = %self.opts.stage, error = %error, "Consumer loop stopping on a fatal error");
        st.stuck += 1;
        st.failure.get_or_insert(error);
    }

    /// Applies events until `done` holds or `deadline` passes; returns whether `done` held.
    /// Poll thread only: hands the pending batch to the lanes first, since what is waited for
    /// may be in it.
    pub fn wait_until(&self, deadline: Instant, mut done: impl FnMut(&LoopState) -> bool) -> bool {
        poller::flush(self);
        loop {
            {
                let mut st = self.lock();
                self.drain_events(&mut st);
                if done(&st) {
                    return true;
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            let step = (deadline - now).min(Duration::from_millis(50));
            let ev = {
                let rx = self.events_rx.lock().unwrap_or_else(|p| p.into_inner());
                rx.recv_timeout(step)
            };
            if let Ok(ev) = ev {
                let mut st = self.lock();
                self.apply(&mut st, ev);
            }
        }
    }
}

impl<P: Processor> crate::producer::AckSink for Shared<P> {
    fn delivered(&self, tp: &TopicPartition, epoch: u64, offset: i64) {
        self.tell(Event::Ack {
            tp: tp.clone(),
            epoch,
            offset,
        });
    }

    fn delivery_failed(
        &self,
        tp: &TopicPartition,
        epoch: u64,
        offset: i64,
        output: &str,
        error: rdkafka::error::KafkaError,
    ) {
        self.tell(Event::DeliveryFailed {
            tp: tp.clone(),
            epoch,
            offset,
            output: output.to_string(),
            error,
        });
    }
}
