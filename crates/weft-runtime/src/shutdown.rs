//! Signals and a bounded, graceful shutdown.
//!
//! The first SIGTERM or SIGINT cancels the shutdown token: services stop taking input, drain,
//! commit and flush. A second signal exits at once (code 130). Services that have not finished
//! when the drain timeout passes make `wait` return an error, so the process exits non-zero.

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Named service tasks sharing one shutdown token: when one fails, the others are stopped.
#[derive(Clone)]
pub struct Services {
    token: CancellationToken,
    tracker: TaskTracker,
    failures: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Default for Services {
    fn default() -> Self {
        Self::new(CancellationToken::new())
    }
}

impl Services {
    pub fn new(token: CancellationToken) -> Self {
        Self {
            token,
            tracker: TaskTracker::new(),
            failures: Default::default(),
        }
    }

    /// The token every service watches.
    pub fn token(&self) -> CancellationToken {
        self.token.clone()
    }

    /// Runs a named service. An error is recorded and stops every other service.
    pub fn spawn<F, E>(&self, name: &str, fut: F)
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
        E: std::fmt::Display + Send + 'static,
    {
        let name = name.to_string();
        let token = self.token.clone();
        let failures = self.failures.clone();
        self.tracker.spawn(async move {
            match fut.await {
                Ok(()) => tracing::info!(service = %name, "Service stopped"),
                Err(e) => {
                    tracing::error!(service = %name, error = %e, "Service failed");
                    failures
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(format!("{name}: {e}"));
                    token.cancel();
                }
            }
        });
    }

    /// Waits until shutdown is requested (or a service fails), then up to `drain_timeout` for
    /// every service to finish. `Err` lists failed services or says the drain timed out.
    pub async fn wait(self, drain_timeout: Duration) -> Result<(), String> {
        self.tracker.close();
        tokio::select! {
            _ = self.token.cancelled() => {}
            _ = self.tracker.wait() => {}
        }
        self.token.cancel();
        if tokio::time::timeout(drain_timeout, self.tracker.wait())
            .await
            .is_err()
        {
            return Err(format!(
                "services did not stop within the drain timeout of {drain_timeout:?}"
            ));
        }
        let failures = self
            .failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if failures.is_empty() {
            Ok(())
        } else {
            Err(failures.join("; "))
        }
    }
}

/// Cancels `token` on the first SIGTERM/SIGINT; exits the process on the second.
pub fn install_signal_handlers(token: CancellationToken) -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::spawn(async move {
        let mut seen = 0;
        loop {
            let name = tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            };
            seen += 1;
            if seen == 1 {
                tracing::info!(
                    signal = name,
                    "Shutting down: draining, committing and flushing"
                );
                token.cancel();
            } else {
                tracing::warn!(signal = name, "Second signal: exiting now");
                std::process::exit(130);
            }
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_failed_service_stops_the_others_and_is_reported() {
        let s = Services::default();
        let t = s.token();
        s.spawn("waits", async move {
            t.cancelled().await;
            Ok::<(), String>(())
        });
        s.spawn("fails", async { Err::<(), _>("boom".to_string()) });
        let r = s.wait(Duration::from_secs(5)).await;
        assert_eq!(r, Err("fails: boom".to_string()));
    }

    #[tokio::test(start_paused = true)]
    async fn a_service_that_ignores_shutdown_times_out() {
        let s = Services::default();
        s.spawn("stuck", async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok::<(), String>(())
        });
        s.token().cancel();
        let r = s.wait(Duration::from_secs(2)).await;
        assert!(r.is_err_and(|e| e.contains("drain timeout")));
    }

    #[tokio::test]
    async fn clean_shutdown_is_ok() {
        let s = Services::default();
        let t = s.token();
        s.spawn("a", async move {
            t.cancelled().await;
            Ok::<(), String>(())
        });
        s.token().cancel();
        assert_eq!(s.wait(Duration::from_secs(5)).await, Ok(()));
    }
}
