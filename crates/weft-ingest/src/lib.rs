//! Ingest: turns events published over HTTP (the event API and webhooks) or produced to raw
//! ingest topics into valid, schema'd, traceable events on Kafka — or rejects them loudly.
//!
//! - [`http`]: `POST /v1/topics/{topic}/events`, `POST /v1/webhooks/{source}`,
//!   `GET /openapi.json` (axum), answering only after `acks=all`.
//! - [`auth`]: API keys and JWT bearer tokens, scoped to topics and tenants.
//! - [`webhook`]: webhook signature schemes (GitHub, Stripe, generic HMAC) with secret rotation.
//! - [`idempotency`]: `Idempotency-Key`s remembered in a compacted topic.
//! - [`validate`]: the Kafka side — records on `ingest.*` topics checked (framing, schema id
//!   allowed for the subject, decodes) and forwarded, or dead-lettered with the reason.

pub mod auth;
pub mod config;
pub mod events;
pub mod http;
pub mod idempotency;
pub mod validate;
pub mod webhook;

use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use weft_kafka::{KafkaConfig, KafkaMetrics, Producer, ProducerOptions};
use weft_schema::{RegistryClientConfig, SchemaCache};

pub use config::IngestConfig;
pub use events::IngestMetrics;

/// The service name in metrics, client ids and headers.
pub const SERVICE: &str = "ingest";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid ingest configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Kafka(#[from] weft_kafka::Error),
    #[error(transparent)]
    Idempotency(#[from] idempotency::IdempotencyError),
    #[error("schema registry: {0}")]
    Schema(#[from] weft_schema::SchemaError),
    #[error("binding ingest to {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("serving ingest: {0}")]
    Serve(#[source] std::io::Error),
}

/// A started ingest: idempotency keys loaded, listener bound.
pub struct Running {
    pub addr: SocketAddr,
    app: Arc<http::App>,
    listener: tokio::net::TcpListener,
    shutdown: CancellationToken,
}

/// Connects to Kafka and the registry, loads the idempotency keys and binds the listener.
pub async fn start(
    cfg: &IngestConfig,
    kafka: &KafkaConfig,
    registry: &RegistryClientConfig,
    kafka_metrics: Option<KafkaMetrics>,
    metrics: IngestMetrics,
    shutdown: CancellationToken,
) -> Result<Running, Error> {
    let problems = cfg.validate();
    if !problems.is_empty() {
        return Err(Error::Config(problems.join("; ")));
    }
    let auth = auth::Authenticator::new(&cfg.auth).map_err(|e| Error::Config(e.join("; ")))?;
    let webhooks = http::webhooks::Sources::new(&cfg.webhooks).map_err(Error::Config)?;
    // The producer gives a record up (message.timeout.ms) shortly before the request gives
    // up, so a 503 comes only after the producer stopped trying. A record the broker wrote
    // whose acknowledgement was lost may still be on Kafka: its event id, derived from the
    // Idempotency-Key when there is one, lets consumers drop the retry's duplicate.
    let mut kafka = kafka.clone();
    let timeout_ms = cfg
        .limits
        .request_timeout
        .saturating_sub(Duration::from_millis(500))
        .max(Duration::from_millis(100))
        .as_millis();
    kafka
        .producer_properties
        .entry("message.timeout.ms".into())
        .or_insert_with(|| timeout_ms.to_string());
    let producer = Producer::new(
        &kafka,
        SERVICE,
        &ProducerOptions {
            linger: Duration::from_millis(1),
            queue_full_timeout: Duration::from_secs(1),
            ..ProducerOptions::default()
        },
        kafka_metrics,
    )?;
    let schemas = Arc::new(SchemaCache::from_config(registry)?);
    let idempotency = idempotency::Idempotency::open(
        &kafka,
        &cfg.idempotency,
        schemas.clone(),
        producer.clone(),
        shutdown.clone(),
    )
    .await?;
    let kafka_up = Arc::new(AtomicBool::new(true));
    tokio::spawn(http::watch_kafka(
        producer.clone(),
        kafka_up.clone(),
        shutdown.clone(),
    ));
    let listener = tokio::net::TcpListener::bind(&cfg.listen)
        .await
        .map_err(|source| Error::Bind {
            addr: cfg.listen.clone(),
            source,
        })?;
    let addr = listener.local_addr().map_err(Error::Serve)?;
    let app = Arc::new(http::App::new(
        cfg.clone(),
        producer,
        schemas,
        auth,
        webhooks,
        idempotency,
        metrics,
        kafka_up,
    ));
    {
        let (app, token) = (app.clone(), shutdown.clone());
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = token.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_secs(60)) => {
                        app.rate.shrink();
                        // New schema versions are picked up within a minute.
                        for (topic, policy) in &app.cfg.topics {
                            let subject = policy
                                .subject
                                .clone()
                                .unwrap_or_else(|| format!("{topic}-value"));
                            app.schemas.forget_subject(&subject);
                        }
                        for w in &app.cfg.webhooks {
                            app.schemas.forget_subject(&format!("{}-value", w.topic));
                        }
                    }
                }
            }
        });
    }
    tracing::info!(%addr, topics = cfg.topics.len(), webhooks = cfg.webhooks.len(), "Ingest is listening");
    Ok(Running {
        addr,
        app,
        listener,
        shutdown,
    })
}

impl Running {
    /// Serves until shutdown: stops accepting, lets requests in progress finish (they wait
    /// for their acknowledgements), then flushes the producer.
    pub async fn serve(self) -> Result<(), Error> {
        let router = http::router(self.app.clone());
        let token = self.shutdown.clone();
        let result = axum::serve(self.listener, router)
            .with_graceful_shutdown(async move { token.cancelled().await })
            .await
            .map_err(Error::Serve);
        if let Err(e) = self.app.producer.flush(Duration::from_secs(5)).await {
            tracing::warn!(error = %e, "Flushing the ingest producer");
        }
        self.app.idempotency.close().await;
        result
    }
}
