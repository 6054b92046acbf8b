//! Refusals: an HTTP status, a stable code (also the metric label) and a message naming what
//! was wrong and where: `{"error": {"code": "...", "message": "...", "path": "..."}}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reject {
    #[serde(skip)]
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip)]
    pub retry_after_s: Option<u64>,
}

impl Reject {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            path: None,
            retry_after_s: None,
        }
    }

    pub fn at(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into()).filter(|p: &String| !p.is_empty());
        self
    }

    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after_s = Some(seconds);
        self
    }

    pub fn unavailable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message).retry_after(1)
    }

    /// The broker did not take an event for `topic`. When Weft's own Kafka principal may not
    /// write the topic (ACLs), retrying cannot help: 500 `kafka_not_authorized`, no
    /// `Retry-After` — the service's configuration is wrong, not the request. Otherwise 503
    /// `kafka_unavailable` with `Retry-After`.
    pub fn broker(what: &str, topic: &str, e: &weft_kafka::Error) -> Self {
        use weft_core::{Classify as _, ErrorCode};
        if e.code() == ErrorCode::KafkaNotAuthorized {
            Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "kafka_not_authorized",
                format!("{what}: the broker does not let Weft write to {topic:?}: {e}"),
            )
        } else {
            Self::unavailable("kafka_unavailable", format!("{what}: {e}"))
        }
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({ "error": self })
    }

    /// The JSON body, serialised.
    pub fn body_bytes(&self) -> bytes::Bytes {
        bytes::Bytes::from(serde_json::to_vec(&ErrorBody { error: self }).unwrap_or_default())
    }
}

/// A JSON answer.
pub fn json(status: StatusCode, body: &serde_json::Value) -> Response {
    json_bytes(
        status,
        bytes::Bytes::from(serde_json::to_vec(body).unwrap_or_default()),
    )
}

/// A JSON answer already serialised.
pub fn json_bytes(status: StatusCode, body: bytes::Bytes) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a Reject,
}

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        let mut r = json(self.status, &self.body());
        if let Some(s) = self.retry_after_s {
            if let Ok(v) = HeaderValue::from_str(&s.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        r
    }
}
