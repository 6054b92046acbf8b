//! A producer with backpressure on a full queue and an explicit flush on close.
//!
//! Built on librdkafka's threaded producer: delivery reports arrive on its polling thread and
//! are handed to a [`Completion`] — a oneshot for callers that await ([`Pending`]), or a
//! direct acknowledgement into the consumer loop's offset tracker, which costs no task wake-up
//! per record.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message as _;
use rdkafka::producer::{
    BaseRecord, DeliveryResult, Producer as _, ProducerContext, ThreadedProducer,
};
use tokio::sync::oneshot;

use crate::config::{KafkaConfig, Role};
use crate::context::WeftContext;
use crate::error::{Error, Result};
use crate::metrics::KafkaMetrics;
use crate::record::{to_owned_headers, OutRecord};
use crate::tracker::TopicPartition;

/// Where a record landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    pub partition: i32,
    pub offset: i64,
}

/// Receives the acknowledgements of the outputs of consumed records (the consumer loop).
pub(crate) trait AckSink: Send + Sync + 'static {
    fn delivered(&self, tp: &TopicPartition, epoch: u64, offset: i64);
    /// `output` is the topic of the output that failed.
    fn delivery_failed(
        &self,
        tp: &TopicPartition,
        epoch: u64,
        offset: i64,
        output: &str,
        error: KafkaError,
    );
}

/// The outputs of one consumed record: acknowledged once all are delivered.
pub(crate) struct AckToken {
    pub sink: Arc<dyn AckSink>,
    pub tp: TopicPartition,
    pub epoch: u64,
    pub offset: i64,
    pub remaining: AtomicUsize,
    pub failed: AtomicBool,
}

impl AckToken {
    fn complete(&self, result: &Result<Delivery, KafkaError>, output: &str) {
        match result {
            Ok(_) => {
                if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1
                    && !self.failed.load(Ordering::Acquire)
                {
                    self.sink.delivered(&self.tp, self.epoch, self.offset);
                }
            }
            Err(e) => {
                self.remaining.fetch_sub(1, Ordering::AcqRel);
                if !self.failed.swap(true, Ordering::AcqRel) {
                    self.sink
                        .delivery_failed(&self.tp, self.epoch, self.offset, output, e.clone());
                }
            }
        }
    }
}

/// What happens when a record's delivery report arrives.
pub enum Completion {
    /// Someone awaits a [`Pending`].
    Notify(oneshot::Sender<Result<Delivery, KafkaError>>),
    /// The only output of a consumed record (consumer loop): acknowledged on delivery.
    #[allow(private_interfaces)]
    AckOne {
        sink: Arc<dyn AckSink>,
        tp: TopicPartition,
        epoch: u64,
        offset: i64,
        counter: Option<prometheus::IntCounter>,
    },
    /// One of several outputs of a consumed record (consumer loop).
    #[allow(private_interfaces)]
    Ack(Arc<AckToken>, Option<prometheus::IntCounter>),
}

impl ProducerContext for WeftContext {
    type DeliveryOpaque = Box<Completion>;

    fn delivery(&self, result: &DeliveryResult<'_>, completion: Box<Completion>) {
        // The failed output's topic, for the error (delivered ones need no name).
        let output = match result {
            Ok(_) => "",
            Err((_, m)) => m.topic(),
        };
        let result = match result {
            Ok(m) => Ok(Delivery {
                partition: m.partition(),
                offset: m.offset(),
            }),
            Err((e, _)) => Err(e.clone()),
        };
        match *completion {
            // The receiver may be gone (the caller stopped waiting): nothing to do then.
            Completion::Notify(tx) => drop(tx.send(result)),
            Completion::AckOne {
                sink,
                tp,
                epoch,
                offset,
                counter,
            } => match result {
                Ok(_) => {
                    if let Some(c) = counter {
                        c.inc();
                    }
                    sink.delivered(&tp, epoch, offset);
                }
                Err(e) => sink.delivery_failed(&tp, epoch, offset, output, e),
            },
            Completion::Ack(token, counter) => {
                if let (Ok(_), Some(c)) = (&result, counter) {
                    c.inc();
                }
                token.complete(&result, output);
            }
        }
    }
}

/// Producer settings beyond the connection.
#[derive(Debug, Clone)]
pub struct ProducerOptions {
    /// Set for a transactional producer (exactly-once stages).
    pub transactional_id: Option<String>,
    /// How long `send` waits for room in a full queue before giving up with `QueueFull`.
    pub queue_full_timeout: Duration,
    /// `linger.ms`: batching delay.
    pub linger: Duration,
    /// `transaction.timeout.ms` for transactional producers.
    pub transaction_timeout: Duration,
}

impl Default for ProducerOptions {
    fn default() -> Self {
        Self {
            transactional_id: None,
            queue_full_timeout: Duration::from_secs(30),
            linger: Duration::from_millis(5),
            transaction_timeout: Duration::from_secs(60),
        }
    }
}

/// Weft's producer: idempotent, `acks=all`, metrics per topic, backpressure instead of errors
/// when librdkafka's queue is full. Cheap to clone.
#[derive(Clone)]
pub struct Producer {
    inner: ThreadedProducer<WeftContext>,
    service: Arc<str>,
    metrics: Option<KafkaMetrics>,
    queue_full_timeout: Duration,
}

/// A record accepted by the producer, waiting for the broker's acknowledgement.
#[must_use = "a pending delivery must be awaited to know the record reached Kafka"]
pub struct Pending {
    rx: oneshot::Receiver<Result<Delivery, KafkaError>>,
    counter: Option<prometheus::IntCounter>,
}

impl Pending {
    /// Waits for the broker's acknowledgement.
    pub async fn wait(self) -> Result<Delivery> {
        match self.rx.await {
            Ok(Ok(delivery)) => {
                if let Some(c) = self.counter {
                    c.inc();
                }
                Ok(delivery)
            }
            Ok(Err(e)) => Err(Error::kafka("delivery failed", e)),
            Err(_) => Err(Error::kafka("delivery failed", KafkaError::Canceled)),
        }
    }
}

impl Producer {
    pub fn new(
        cfg: &KafkaConfig,
        service: &str,
        opts: &ProducerOptions,
        metrics: Option<KafkaMetrics>,
    ) -> Result<Self> {
        let mut c = cfg.client_config(Role::Producer, service);
        // Defaults first; `kafka.producer_properties` (already in `c`) win over them.
        let mut default = |k: &str, v: String| {
            if c.get(k).is_none() {
                c.set(k, v);
            }
        };
        default("acks", "all".into());
        default("enable.idempotence", "true".into());
        default("linger.ms", opts.linger.as_millis().to_string());
        default("queue.buffering.max.messages", "200000".into());
        if let Some(id) = &opts.transactional_id {
            c.set("transactional.id", id);
            c.set(
                "transaction.timeout.ms",
                opts.transaction_timeout.as_millis().to_string(),
            );
        }
        let inner: ThreadedProducer<WeftContext> = c
            .create_with_context(WeftContext::new(metrics.clone()))
            .map_err(|e| Error::kafka("creating the producer", e))?;
        Ok(Self {
            inner,
            service: service.into(),
            metrics,
            queue_full_timeout: opts.queue_full_timeout,
        })
    }

    /// The underlying client, for transactions and admin-like calls.
    pub fn client(&self) -> &ThreadedProducer<WeftContext> {
        &self.inner
    }

    /// Transactional producers: why librdkafka failed the open transaction, if it did since
    /// the last call (taken, so each failure is seen once).
    pub fn take_txn_failure(&self) -> Option<crate::context::TxnFailure> {
        rdkafka::producer::Producer::context(&self.inner).take_txn_failure()
    }

    /// The produced-records counter of `topic` (incremented on acknowledgement).
    pub(crate) fn counter(&self, topic: &str) -> Option<prometheus::IntCounter> {
        self.metrics.as_ref().and_then(|m| {
            m.produced
                .get_metric_with_label_values(&[self.service.as_ref(), topic])
                .ok()
        })
    }

    /// Enqueues a record; the returned [`Pending`] resolves on the broker's acknowledgement.
    /// When librdkafka's queue is full this waits (with growing pauses) until there is room,
    /// up to the configured timeout, instead of failing.
    pub async fn send(&self, rec: &OutRecord) -> Result<Pending> {
        let (tx, rx) = oneshot::channel();
        self.send_with(rec, Completion::Notify(tx)).await?;
        Ok(Pending {
            rx,
            counter: self.counter(&rec.topic),
        })
    }

    /// Enqueues a record whose delivery report goes to `completion`.
    pub(crate) async fn send_with(&self, rec: &OutRecord, completion: Completion) -> Result<()> {
        // Built once and moved into the record; a record refused with QueueFull hands them back.
        let mut headers = to_owned_headers(&rec.headers);
        let mut started: Option<Instant> = None;
        let mut pause = Duration::from_millis(1);
        let mut completion = Box::new(completion);
        loop {
            let mut br: BaseRecord<'_, [u8], [u8], Box<Completion>> =
                BaseRecord::with_opaque_to(&rec.topic, completion);
            if let Some(k) = &rec.key {
                br = br.key(k.as_ref());
            }
            if let Some(v) = &rec.value {
                br = br.payload(v.as_ref());
            }
            if let Some(h) = headers.take() {
                br = br.headers(h);
            }
            if let Some(p) = rec.partition {
                br = br.partition(p);
            }
            if let Some(ts) = rec.timestamp_ms {
                br = br.timestamp(ts);
            }
            match self.inner.send(br) {
                Ok(()) => return Ok(()),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    if started.get_or_insert_with(Instant::now).elapsed() >= self.queue_full_timeout
                    {
                        return Err(Error::QueueFull(self.queue_full_timeout));
                    }
                    completion = back.delivery_opaque;
                    headers = back.headers;
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Err((e, _)) => return Err(Error::kafka(format!("producing to {}", rec.topic), e)),
            }
        }
    }

    /// Sends and waits for the acknowledgement.
    pub async fn send_and_wait(&self, rec: &OutRecord) -> Result<Delivery> {
        self.send(rec).await?.wait().await
    }

    /// Waits until every queued record is acknowledged or `timeout` passes.
    pub async fn flush(&self, timeout: Duration) -> Result<()> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.flush(timeout))
            .await
            .map_err(|e| Error::Internal(format!("flush task failed: {e}")))?
            .map_err(|e| Error::kafka("flushing the producer", e))
    }

    /// Records still waiting for an acknowledgement.
    pub fn in_flight(&self) -> i32 {
        self.inner.in_flight_count()
    }
}
