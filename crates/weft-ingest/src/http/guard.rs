//! Per-caller rate limits (429 with `Retry-After`) and the audit of refused input (raw body to
//! the rejects topic, with the reason in `weft.dlq.*` headers).

use std::num::NonZeroU32;
use std::time::Duration;

use axum::http::StatusCode;
use bytes::Bytes;
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use weft_core::dead_letter::{DeadLetter, Failure, OriginalRecord};
use weft_core::headers::{CONTENT_TYPE, SOURCE};
use weft_core::{ErrorClass, ErrorCode, Headers};
use weft_kafka::{OutRecord, Producer};

use super::error::Reject;

/// Token buckets per caller (tenant and principal).
pub struct RateLimits {
    limiter: Option<RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock>>,
    clock: DefaultClock,
}

impl RateLimits {
    /// `per_second` requests per caller, bursts of `burst`; `None` for no limit.
    pub fn new(per_second: Option<u32>, burst: u32) -> Self {
        let limiter = per_second.and_then(NonZeroU32::new).map(|rate| {
            let burst = NonZeroU32::new(burst).unwrap_or(rate);
            RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        });
        Self {
            limiter,
            clock: DefaultClock::default(),
        }
    }

    /// Takes one request from `caller`'s bucket, or says when to come back.
    pub fn check(&self, caller: &str) -> Result<(), Reject> {
        let Some(l) = &self.limiter else {
            return Ok(());
        };
        l.check_key(&caller.to_string()).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            Reject::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "too many requests from {caller}; retry in {}",
                    humanise(wait)
                ),
            )
            .retry_after(secs.max(1))
        })
    }

    /// Forgets idle callers (called now and then, so the map stays bounded).
    pub fn shrink(&self) {
        if let Some(l) = &self.limiter {
            l.retain_recent();
        }
    }
}

fn humanise(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

/// Writes refused input to the rejects topic (when configured): the raw body as the value,
/// the intended topic as the origin, the reason in `weft.dlq.*` headers.
pub async fn audit(
    producer: &Producer,
    rejects_topic: Option<&str>,
    route: &str,
    intended_topic: &str,
    body: Bytes,
    reject: &Reject,
) {
    let Some(to) = rejects_topic else {
        return;
    };
    let mut headers = Headers::with_capacity(2);
    headers.set(CONTENT_TYPE, "application/json");
    headers.set(SOURCE, route.to_string());
    let now = weft_core::time::now_millis();
    let dead = DeadLetter {
        original: OriginalRecord {
            topic: intended_topic.to_string(),
            partition: -1,
            offset: -1,
            timestamp_ms: Some(now),
            key: None,
            value: Some(body),
            headers,
        },
        failure: Failure {
            service: crate::SERVICE.into(),
            stage: "http".into(),
            group: None,
            class: ErrorClass::Permanent,
            code: ErrorCode::InvalidInput,
            message: format!("{}: {}", reject.code, reject.message),
            field: reject.path.clone(),
            schema_id: None,
            attempt: 1,
            first_failure_ms: now,
            last_failure_ms: now,
            replay_count: 0,
        },
    };
    let (key, value, headers) = dead.to_kafka();
    let rec = OutRecord {
        topic: to.into(),
        key,
        value,
        headers,
        ..OutRecord::default()
    };
    let sent = match producer.send(&rec).await {
        Ok(p) => p.wait().await,
        Err(e) => Err(e),
    };
    if let Err(e) = sent {
        tracing::warn!(error = %e, topic = to, "Could not write a refused request to the rejects topic");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_per_caller_and_say_when_to_retry() {
        let limits = RateLimits::new(Some(1), 2);
        assert!(limits.check("a").is_ok());
        assert!(limits.check("a").is_ok());
        let r = limits
            .check("a")
            .expect_err("third request in the same second");
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.code, "rate_limited");
        assert_eq!(r.retry_after_s, Some(1));
        assert!(
            limits.check("b").is_ok(),
            "another caller has its own bucket"
        );
        assert!(RateLimits::new(None, 0).check("a").is_ok());
    }
}
