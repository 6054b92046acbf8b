//! A producer with backpressure on a full queue and an explicit flush on close.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer as _};

use crate::config::{KafkaConfig, Role};
use crate::context::WeftContext;
use crate::error::{Error, Result};
use crate::metrics::KafkaMetrics;
use crate::record::{to_owned_headers, OutRecord};

pub use rdkafka::producer::future_producer::Delivery;

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
    inner: FutureProducer<WeftContext>,
    service: Arc<str>,
    metrics: Option<KafkaMetrics>,
    queue_full_timeout: Duration,
}

/// A record accepted by the producer, waiting for the broker's acknowledgement.
#[must_use = "a pending delivery must be awaited to know the record reached Kafka"]
pub struct Pending {
    fut: DeliveryFuture,
    counter: Option<prometheus::IntCounter>,
}

impl Pending {
    /// Waits for the broker's acknowledgement.
    pub async fn wait(self) -> Result<Delivery> {
        match self.fut.await {
            Ok(Ok(delivery)) => {
                if let Some(c) = self.counter {
                    c.inc();
                }
                Ok(delivery)
            }
            Ok(Err((e, _msg))) => Err(Error::kafka("delivery failed", e)),
            Err(_canceled) => Err(Error::kafka("delivery failed", KafkaError::Canceled)),
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
        let inner: FutureProducer<WeftContext> = c
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
    pub fn client(&self) -> &FutureProducer<WeftContext> {
        &self.inner
    }

    /// Enqueues a record. When librdkafka's queue is full this waits (with growing pauses)
    /// until there is room, up to the configured timeout, instead of failing.
    pub async fn send(&self, rec: &OutRecord) -> Result<Pending> {
        let headers = to_owned_headers(&rec.headers);
        let started = Instant::now();
        let mut pause = Duration::from_millis(1);
        loop {
            let mut fr: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(&rec.topic);
            if let Some(k) = &rec.key {
                fr = fr.key(k.as_ref());
            }
            if let Some(v) = &rec.value {
                fr = fr.payload(v.as_ref());
            }
            if let Some(h) = &headers {
                fr = fr.headers(h.clone());
            }
            if let Some(p) = rec.partition {
                fr = fr.partition(p);
            }
            if let Some(ts) = rec.timestamp_ms {
                fr = fr.timestamp(ts);
            }
            match self.inner.send_result(fr) {
                Ok(fut) => {
                    let counter = self.metrics.as_ref().and_then(|m| {
                        m.produced
                            .get_metric_with_label_values(&[
                                self.service.as_ref(),
                                rec.topic.as_str(),
                            ])
                            .ok()
                    });
                    return Ok(Pending { fut, counter });
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    if started.elapsed() >= self.queue_full_timeout {
                        return Err(Error::QueueFull(self.queue_full_timeout));
                    }
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
