//! The HTTP side of ingest: the event API and webhooks (axum).

pub mod common;
pub mod error;
pub mod events;
pub mod guard;
pub mod openapi;
pub mod webhooks;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use weft_kafka::Producer;
use weft_schema::{RegistryClient, SchemaCache};

use crate::auth::Authenticator;
use crate::config::IngestConfig;
use crate::events::IngestMetrics;
use crate::idempotency::Idempotency;
use error::Reject;

pub(crate) type Shared = State<Arc<App>>;

/// Who is calling, once authenticated.
#[derive(Debug, Clone)]
pub struct Caller {
    pub id: String,
    pub tenant: Option<String>,
}

/// Everything a request needs.
pub struct App {
    pub cfg: IngestConfig,
    pub producer: Producer,
    pub schemas: Arc<SchemaCache<RegistryClient>>,
    pub auth: Authenticator,
    pub webhooks: webhooks::Sources,
    pub idempotency: Idempotency,
    pub in_flight: Semaphore,
    pub rate: guard::RateLimits,
    pub metrics: IngestMetrics,
    kafka_up: Arc<AtomicBool>,
}

impl App {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        cfg: IngestConfig,
        producer: Producer,
        schemas: Arc<SchemaCache<RegistryClient>>,
        auth: Authenticator,
        webhooks: webhooks::Sources,
        idempotency: Idempotency,
        metrics: IngestMetrics,
        kafka_up: Arc<AtomicBool>,
    ) -> Self {
        let in_flight = Semaphore::new(cfg.limits.max_in_flight);
        let rate = guard::RateLimits::new(cfg.limits.rate_per_second, cfg.limits.burst);
        Self {
            cfg,
            producer,
            schemas,
            auth,
            webhooks,
            idempotency,
            in_flight,
            rate,
            metrics,
            kafka_up,
        }
    }

    pub fn kafka_up(&self) -> bool {
        self.kafka_up.load(Ordering::Relaxed)
    }

    /// Authenticates the request and checks it may write to `topic`.
    pub fn authorize(&self, headers: &HeaderMap, topic: &str) -> Result<Caller, Reject> {
        let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        self.auth
            .authorize(get("authorization"), get("x-api-key"), topic)
            .map_err(|e| {
                let status = if e.is_forbidden() {
                    StatusCode::FORBIDDEN
                } else {
                    StatusCode::UNAUTHORIZED
                };
                Reject::new(status, e.code(), e.to_string())
            })
            .and_then(|p| {
                self.rate.check(&format!("{}/{}", p.tenant, p.id))?;
                Ok(Caller {
                    tenant: (p.kind != crate::auth::PrincipalKind::Anonymous)
                        .then(|| p.tenant.clone()),
                    id: p.id,
                })
            })
    }
}

pub fn router(app: Arc<App>) -> Router {
    let limit = app.cfg.limits.max_body_bytes;
    Router::new()
        .route("/v1/topics/{topic}/events", post(events::post_events))
        .route("/v1/webhooks/{source}", post(webhooks::post_webhook))
        .route("/openapi.json", get(openapi::document))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limit))
        .with_state(app)
}

async fn not_found(uri: axum::http::Uri) -> Reject {
    Reject::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no such route: {}", uri.path()),
    )
}

/// Keeps `up` current: whether the cluster answers a metadata request.
pub async fn watch_kafka(producer: Producer, up: Arc<AtomicBool>, shutdown: CancellationToken) {
    loop {
        let client = producer.clone();
        let ok = tokio::task::spawn_blocking(move || {
            use rdkafka::producer::Producer as _;
            client
                .client()
                .client()
                .fetch_metadata(None, Duration::from_secs(2))
                .is_ok_and(|m| !m.brokers().is_empty())
        })
        .await
        .unwrap_or(false);
        if up.swap(ok, Ordering::Relaxed) != ok {
            tracing::info!(kafka_up = ok, "Kafka availability changed");
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}
