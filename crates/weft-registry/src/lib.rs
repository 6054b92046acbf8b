//! A schema registry that speaks Confluent's REST API (so Confluent's serializers and
//! `schema_registry_converter` work against it unchanged) and keeps its state in a compacted,
//! single-partition Kafka topic. Several processes on the same topic serve the same ids: each
//! folds the same log (see [`log`]).

pub mod api;
pub mod config;
pub mod error;
pub mod events;
pub mod log;
pub mod service;
pub mod state;
pub mod store;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use weft_kafka::{KafkaConfig, KafkaMetrics};

pub use config::RegistryConfig;
pub use events::RegistryMetrics;
pub use service::Registry;
pub use store::StoreError;

/// The service name in metrics and client ids.
pub const SERVICE: &str = "registry";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("binding the registry to {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("serving the registry: {0}")]
    Serve(#[source] std::io::Error),
}

/// A started registry: the log is loaded and the listener bound.
pub struct Running {
    pub addr: SocketAddr,
    registry: Arc<Registry>,
    listener: tokio::net::TcpListener,
    shutdown: CancellationToken,
}

/// Opens the store (creating the log topic, reading it to the end) and binds the listener.
pub async fn start(
    cfg: &RegistryConfig,
    kafka: &KafkaConfig,
    metrics: Option<KafkaMetrics>,
    registry_metrics: RegistryMetrics,
    shutdown: CancellationToken,
) -> Result<Running, Error> {
    let opts = store::StoreOptions {
        topic: cfg.topic.clone(),
        replication_factor: cfg.replication_factor,
        timeout: cfg.timeout,
        default_level: cfg.default_compatibility,
    };
    let store = store::Store::open(kafka, opts, metrics, shutdown.clone()).await?;
    let listener = tokio::net::TcpListener::bind(&cfg.listen)
        .await
        .map_err(|source| Error::Bind {
            addr: cfg.listen.clone(),
            source,
        })?;
    let addr = listener.local_addr().map_err(Error::Serve)?;
    let schemas = store.read(|s| s.schema_count());
    registry_metrics
        .schemas
        .set(i64::try_from(schemas).unwrap_or(i64::MAX));
    tracing::info!(%addr, topic = %cfg.topic, schemas, "Schema registry loaded its log");
    Ok(Running {
        addr,
        registry: Arc::new(Registry::new(store, registry_metrics)),
        listener,
        shutdown,
    })
}

impl Running {
    /// Serves until the shutdown token, then lets in-flight requests finish and closes the
    /// store.
    pub async fn serve(self) -> Result<(), Error> {
        let app = api::router(self.registry.clone());
        let token = self.shutdown.clone();
        let result = axum::serve(self.listener, app)
            .with_graceful_shutdown(async move { token.cancelled().await })
            .await
            .map_err(Error::Serve);
        self.registry
            .store()
            .close(std::time::Duration::from_secs(5))
            .await;
        result
    }
}

/// Runs the registry until `shutdown`.
pub async fn run(
    cfg: &RegistryConfig,
    kafka: &KafkaConfig,
    metrics: Option<KafkaMetrics>,
    registry_metrics: RegistryMetrics,
    shutdown: CancellationToken,
) -> Result<(), Error> {
    start(cfg, kafka, metrics, registry_metrics, shutdown)
        .await?
        .serve()
        .await
}
