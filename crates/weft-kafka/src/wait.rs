//! Waiting in place for a dependency that is down (the schema registry, typically) instead of
//! dead-lettering records that may well be valid.
//!
//! [`WaitOnTransient`] wraps a processor: a `Transient` error is retried in place with a
//! growing pause, for at most [`TransientWait::max`]. After that the error takes the class
//! [`TransientWait::then`]: at-least-once `Fatal` (the loop stops and leaves the record
//! uncommitted; nothing is dead-lettered because a dependency was away), exactly-once
//! `Transient` (the loop aborts the transaction and re-reads, and stops after repeated
//! aborts). Shutting down ends the wait at once and leaves the record uncommitted.

use std::time::Duration;

use tokio::time::Instant;

use tokio_util::sync::CancellationToken;
use weft_core::{ErrorClass, StageError};

use crate::options::DeliveryMode;
use crate::processor::{Emitter, Processor};
use crate::record::Record;

/// How long a record waits for a dependency that is down, and what the error becomes then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransientWait {
    pub max: Duration,
    /// `Fatal` (at-least-once: stop, do not dead-letter) or `Transient` (exactly-once: let
    /// the loop abort and re-read).
    pub then: ErrorClass,
}

impl TransientWait {
    /// The wait of a loop in `mode`: at-least-once waits `wait`, exactly-once at most a
    /// quarter of the drain timeout (an open transaction must still be committed in time).
    pub fn for_mode(mode: DeliveryMode, wait: Duration, drain_timeout: Duration) -> Self {
        match mode {
            DeliveryMode::AtLeastOnce => Self {
                max: wait,
                then: ErrorClass::Fatal,
            },
            DeliveryMode::ExactlyOnce => Self {
                max: wait.min(drain_timeout / 4),
                then: ErrorClass::Transient,
            },
        }
    }
}

/// The pause before attempt `attempt + 1`: 200 ms, doubling, at most 5 s.
pub fn backoff(attempt: u32) -> Duration {
    let exp = attempt.saturating_sub(1).min(5);
    Duration::from_millis(200 * (1 << exp)).min(Duration::from_secs(5))
}

/// A processor whose transient errors wait in place (see the module documentation).
pub struct WaitOnTransient<P> {
    inner: P,
    wait: TransientWait,
    /// What is waited for, in log lines and in the final error ("the schema registry").
    what: &'static str,
    shutdown: CancellationToken,
}

impl<P> WaitOnTransient<P> {
    pub fn new(
        inner: P,
        wait: TransientWait,
        what: &'static str,
        shutdown: CancellationToken,
    ) -> Self {
        Self {
            inner,
            wait,
            what,
            shutdown,
        }
    }

    pub fn inner(&self) -> &P {
        &self.inner
    }
}

impl<P: Processor> Processor for WaitOnTransient<P> {
    async fn process(&self, record: &Record, out: &mut Emitter) -> Result<(), StageError> {
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            out.clear();
            let error = match self.inner.process(record, out).await {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            out.clear();
            if error.class != ErrorClass::Transient {
                return Err(error);
            }
            let waited = started.elapsed();
            if self.shutdown.is_cancelled() {
                // The loop leaves the record uncommitted.
                return Err(error);
            }
            if waited >= self.wait.max {
                let mut e = error.with_class(self.wait.then);
                if self.wait.then == ErrorClass::Fatal {
                    e.message = format!(
                        "{} (waited {}s for {}; stopping rather than dead-lettering a record \
                         that may be valid)",
                        e.message,
                        waited.as_secs(),
                        self.what
                    );
                }
                return Err(e);
            }
            attempt += 1;
            if attempt == 1 {
                tracing::warn!(
                    topic = %record.topic, partition = record.partition, offset = record.offset,
                    error = %error, "{} is unreachable; the record waits", self.what
                );
            }
            let pause = backoff(attempt).min(self.wait.max - waited);
            tokio::select! {
                () = self.shutdown.cancelled() => return Err(error),
                () = tokio::time::sleep(pause) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    use weft_core::ErrorCode;

    use super::*;
    use crate::record::OutRecord;

    /// Fails with `class` the first `failures` times (after emitting a stray output), then
    /// emits one record.
    struct Flaky {
        failures: u32,
        class: ErrorClass,
        calls: AtomicU32,
    }

    impl Processor for Flaky {
        async fn process(&self, record: &Record, out: &mut Emitter) -> Result<(), StageError> {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            out.emit(OutRecord::forward(record, "out"));
            if n < self.failures {
                return Err(
                    StageError::new(ErrorCode::RegistryUnavailable, "down").with_class(self.class)
                );
            }
            Ok(())
        }
    }

    fn record() -> Record {
        Record {
            topic: Arc::from("in"),
            partition: 0,
            offset: 7,
            timestamp_ms: None,
            key: None,
            value: None,
            headers: weft_core::Headers::new(),
        }
    }

    fn wrap(
        failures: u32,
        class: ErrorClass,
        wait: TransientWait,
    ) -> (WaitOnTransient<Flaky>, CancellationToken) {
        let stop = CancellationToken::new();
        let p = Flaky {
            failures,
            class,
            calls: AtomicU32::new(0),
        };
        (
            WaitOnTransient::new(p, wait, "the schema registry", stop.clone()),
            stop,
        )
    }

    const ALO: TransientWait = TransientWait {
        max: Duration::from_secs(30),
        then: ErrorClass::Fatal,
    };

    #[tokio::test(start_paused = true)]
    async fn a_transient_error_waits_and_the_record_goes_through_once() {
        let (p, _) = wrap(3, ErrorClass::Transient, ALO);
        let mut out = Emitter::default();
        p.process(&record(), &mut out).await.unwrap();
        assert_eq!(out.len(), 1, "the failed attempts' outputs are dropped");
        assert_eq!(p.inner().calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn other_errors_are_returned_at_once() {
        let (p, _) = wrap(1, ErrorClass::Permanent, ALO);
        let mut out = Emitter::default();
        let e = p.process(&record(), &mut out).await.unwrap_err();
        assert_eq!(e.class, ErrorClass::Permanent);
        assert!(out.is_empty());
        assert_eq!(p.inner().calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn after_the_wait_the_error_takes_the_modes_class() {
        let (p, _) = wrap(u32::MAX, ErrorClass::Transient, ALO);
        let e = p
            .process(&record(), &mut Emitter::default())
            .await
            .unwrap_err();
        assert_eq!(e.class, ErrorClass::Fatal);
        assert!(
            e.message.contains("waited 30s for the schema registry"),
            "{}",
            e.message
        );
        let eos = TransientWait::for_mode(
            DeliveryMode::ExactlyOnce,
            Duration::from_secs(60),
            Duration::from_secs(20),
        );
        assert_eq!(eos.max, Duration::from_secs(5));
        let (p, _) = wrap(u32::MAX, ErrorClass::Transient, eos);
        let e = p
            .process(&record(), &mut Emitter::default())
            .await
            .unwrap_err();
        assert_eq!(e.class, ErrorClass::Transient);
    }

    #[tokio::test(start_paused = true)]
    async fn shutting_down_ends_the_wait_with_the_transient_error() {
        let (p, stop) = wrap(u32::MAX, ErrorClass::Transient, ALO);
        let stopper = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(2)).await;
            stop.cancel();
        });
        let started = tokio::time::Instant::now();
        let e = p
            .process(&record(), &mut Emitter::default())
            .await
            .unwrap_err();
        assert_eq!(e.class, ErrorClass::Transient);
        assert!(started.elapsed() < Duration::from_secs(30));
        stopper.await.unwrap();
    }

    #[test]
    fn exactly_once_waits_within_the_drain_timeout() {
        let w = TransientWait::for_mode(
            DeliveryMode::ExactlyOnce,
            Duration::from_secs(60),
            Duration::from_secs(10),
        );
        assert_eq!(w.max, Duration::from_millis(2_500));
        assert_eq!(w.then, ErrorClass::Transient);
        let w = TransientWait::for_mode(
            DeliveryMode::AtLeastOnce,
            Duration::from_secs(60),
            Duration::from_secs(10),
        );
        assert_eq!(
            (w.max, w.then),
            (Duration::from_secs(60), ErrorClass::Fatal)
        );
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_millis(200));
        assert_eq!(backoff(2), Duration::from_millis(400));
        assert_eq!(backoff(100), Duration::from_secs(5));
    }
}
