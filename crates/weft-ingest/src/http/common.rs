//! What the event API and the webhooks share: the body refusal, JSON → Avro with the refusal
//! naming the field, idempotency answers remembered and given again, headers, keys at dotted
//! paths, derived event ids and schema refusals.

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};
use weft_core::EventId;
use weft_schema::codec::JsonOptions;

use super::error::{json_bytes, Reject};
use super::App;
use crate::idempotency::Answer;

/// A body that could not be read: too large (413) or broken.
pub(crate) fn body_reject(app: &App, e: &axum::extract::rejection::BytesRejection) -> Reject {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Reject::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!(
                "the body is larger than {} bytes (ingest.limits.max_body_bytes)",
                app.cfg.limits.max_body_bytes
            ),
        )
    } else {
        Reject::new(e.status(), "bad_body", e.body_text())
    }
}

/// A JSON event as Avro in the Confluent wire format, or why it does not fit the schema.
pub(crate) fn encode_event(
    codec: &weft_schema::Codec,
    schema_id: u32,
    event: &Json,
    opts: &JsonOptions,
) -> Result<Vec<u8>, Reject> {
    let value = codec.from_json(event, opts).map_err(|e| json_reject(&e))?;
    codec.encode_framed(schema_id, &value).map_err(|e| {
        Reject::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "schema_mismatch",
            e.to_string(),
        )
    })
}

/// Whether an answer is final, so a repeat of the request gets it again: successes and
/// refusals of the input are; "try again later" (429, 5xx) is not.
pub(crate) fn is_final(status: StatusCode) -> bool {
    status.as_u16() < 500 && status != StatusCode::TOO_MANY_REQUESTS
}

/// The answer remembered for an idempotency key, given again.
pub(crate) fn replayed(previous: &Answer) -> Response {
    let mut r = json_bytes(
        StatusCode::from_u16(previous.status).unwrap_or(StatusCode::OK),
        previous.body.clone(),
    );
    r.headers_mut().insert(
        "idempotent-replayed",
        axum::http::HeaderValue::from_static("true"),
    );
    r
}

/// Remembers a final answer for an idempotency key (a failure to do so is logged: the answer
/// itself stands).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn remember(
    app: &App,
    scoped: &str,
    key: &str,
    route: &str,
    tenant: Option<&str>,
    request_sha256: String,
    status: StatusCode,
    answer: &Bytes,
) {
    let now = weft_core::time::now_millis();
    let window = i64::try_from(app.idempotency.window().as_millis()).unwrap_or(i64::MAX);
    let remembered = Answer {
        request_sha256,
        status: status.as_u16(),
        body: answer.clone(),
        expires_at_ms: now.saturating_add(window),
    };
    if let Err(e) = app
        .idempotency
        .remember(scoped, key, route, tenant, remembered, now)
        .await
    {
        tracing::warn!(error = %e, route, "Could not remember an idempotency key");
    }
}

/// A JSON event that does not fit the schema: 422 with the code and the path of the field
/// (for a missing field, the field itself rather than its record).
pub(crate) fn json_reject(e: &weft_schema::codec::JsonError) -> Reject {
    use weft_schema::codec::JsonErrorKind;
    let base = if e.path().is_empty() {
        String::new()
    } else {
        e.path().to_string()
    };
    let path = match e.kind() {
        JsonErrorKind::MissingField { field } if base.is_empty() => field.clone(),
        JsonErrorKind::MissingField { field } => format!("{base}.{field}"),
        _ => base,
    };
    Reject::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        e.kind().code(),
        e.to_string(),
    )
    .at(path)
}

pub(crate) fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

pub(crate) fn schema_reject(subject: &str, e: &weft_schema::SchemaError) -> Reject {
    use weft_core::{Classify, ErrorClass};
    if e.class() == ErrorClass::Transient {
        Reject::unavailable(
            "registry_unavailable",
            format!("the schema registry is unavailable: {e}"),
        )
    } else {
        Reject::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "no_schema",
            format!("no usable schema for subject {subject:?}: {e}"),
        )
    }
}

/// The value at a dotted path of a JSON object, as key text.
pub(crate) fn key_at(event: &Json, path: &str) -> Option<String> {
    let mut v = event;
    for part in path.split('.') {
        v = v.get(part)?;
    }
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// An event id derived from the idempotency key and the event's index, so a duplicate that
/// slipped past the key check still carries the same id.
pub(crate) fn derived_id(key: &str, index: usize) -> EventId {
    let digest = Sha256::new()
        .chain_update(key.as_bytes())
        .chain_update(index.to_be_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    EventId::from(uuid::Builder::from_custom_bytes(bytes).into_uuid())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_from_dotted_paths() {
        let e = json!({"customer": {"id": 42, "email": "a@b"}, "sku": "x"});
        assert_eq!(key_at(&e, "customer.id").as_deref(), Some("42"));
        assert_eq!(key_at(&e, "sku").as_deref(), Some("x"));
        assert_eq!(key_at(&e, "customer"), None);
        assert_eq!(key_at(&e, "missing.path"), None);
    }

    #[test]
    fn derived_ids_are_stable_per_key_and_index() {
        assert_eq!(derived_id("k", 0), derived_id("k", 0));
        assert_ne!(derived_id("k", 0), derived_id("k", 1));
        assert_ne!(derived_id("k", 0), derived_id("j", 0));
    }
}
