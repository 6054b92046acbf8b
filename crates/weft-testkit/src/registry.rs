//! Weft's schema registry in the test process, on a free port and its own log topic.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use weft_registry::{RegistryConfig, RegistryMetrics};

use crate::kafka::{ensure_kafka, unique};

/// A running registry; [`TestRegistry::stop`] shuts it down and checks it stopped cleanly.
pub struct TestRegistry {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// Its log topic.
    pub topic: String,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), weft_registry::Error>>,
}

impl TestRegistry {
    /// Starts a registry on a new log topic.
    pub async fn start() -> anyhow::Result<Self> {
        Self::on_topic(&unique("schemas")).await
    }

    /// Starts a registry on `topic` (an existing log is read back first).
    pub async fn on_topic(topic: &str) -> anyhow::Result<Self> {
        let kafka = ensure_kafka()?;
        let cfg = RegistryConfig {
            listen: "127.0.0.1:0".into(),
            topic: topic.into(),
            timeout: Duration::from_secs(15),
            ..RegistryConfig::default()
        };
        let stop = CancellationToken::new();
        let running = weft_registry::start(
            &cfg,
            &kafka.config,
            None,
            RegistryMetrics::unregistered()?,
            stop.clone(),
        )
        .await?;
        let url = format!("http://{}", running.addr);
        let task = tokio::spawn(running.serve());
        Ok(Self {
            url,
            topic: topic.into(),
            stop,
            task,
        })
    }

    /// A loopback proxy to this registry on `port`, open until the token is cancelled: a
    /// stage configured with `http://127.0.0.1:{port}` loses the registry when it closes and
    /// finds it again when another is opened on the same port.
    pub async fn proxy_on(&self, port: u16) -> anyhow::Result<CancellationToken> {
        let open = CancellationToken::new();
        crate::proxy::start(
            port,
            self.url.trim_start_matches("http://").to_string(),
            open.clone(),
        )
        .await?;
        Ok(open)
    }

    /// Stops the registry and waits for it.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.stop.cancel();
        self.task.await??;
        Ok(())
    }
}
