//! `POST /v1/webhooks/{source}`: a delivery from a third party, checked against the source's
//! signature scheme, mapped into the topic's schema and produced — once per delivery id.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{json, Map, Value as Json};
use sha2::{Digest, Sha256};
use weft_core::headers::{EventMeta, CONTENT_TYPE_AVRO};
use weft_core::{EventId, Headers, TraceParent};
use weft_kafka::OutRecord;
use weft_schema::codec::JsonOptions;

use super::common::{
    body_reject, derived_id, encode_event, header, is_final, key_at, remember, replayed,
    schema_reject,
};
use super::error::{json_bytes, Reject};
use super::{App, Shared};
use crate::webhook::{Delivery, WebhookConfig};

const ROUTE: &str = "webhooks";

/// The configured sources, by name.
#[derive(Default)]
pub struct Sources {
    by_name: HashMap<String, WebhookConfig>,
}

impl Sources {
    pub fn new(configs: &[WebhookConfig]) -> Result<Self, String> {
        let mut by_name = HashMap::new();
        for c in configs {
            if by_name.insert(c.source.clone(), c.clone()).is_some() {
                return Err(format!(
                    "ingest.webhooks: source {:?} is configured twice",
                    c.source
                ));
            }
        }
        Ok(Self { by_name })
    }
}

pub async fn post_webhook(
    State(app): Shared,
    Path(source): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let response = match body {
        Ok(body) => match handle(&app, &source, &headers, &body).await {
            Ok(r) => r,
            Err(r) => {
                app.metrics.reject(ROUTE, r.code);
                r.into_response()
            }
        },
        Err(e) => {
            let r = body_reject(&app, &e);
            app.metrics.reject(ROUTE, r.code);
            r.into_response()
        }
    };
    app.metrics
        .requests
        .with_label_values(&[ROUTE, response.status().as_str()])
        .inc();
    response
}

async fn handle(
    app: &App,
    source: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, Reject> {
    let Some(cfg) = app.webhooks.by_name.get(source) else {
        return Err(Reject::new(
            StatusCode::NOT_FOUND,
            "unknown_source",
            format!("no webhook source {source:?} (not in ingest.webhooks)"),
        ));
    };
    let Ok(_permit) = app.in_flight.try_acquire() else {
        return Err(Reject::unavailable(
            "overloaded",
            "too many requests in progress; retry later",
        ));
    };
    let lookup = |name: &str| header(headers, name);
    let delivery = cfg
        .verify(&lookup, body, std::time::SystemTime::now())
        .map_err(|e| Reject::new(StatusCode::UNAUTHORIZED, e.code(), e.to_string()))?;
    if !app.kafka_up() {
        return Err(Reject::unavailable(
            "kafka_unavailable",
            "the Kafka cluster is unavailable; nothing was accepted",
        ));
    }
    let scoped = delivery
        .delivery_id
        .as_ref()
        .map(|id| format!("-/webhooks/{source}/{id}"));
    let request_sha = hex::encode(Sha256::digest(body));
    let _guard = match &scoped {
        Some(s) => Some(app.idempotency.lock(s).await),
        None => None,
    };
    let previous = match &scoped {
        Some(s) => app.idempotency.find(s).await,
        None => None,
    };
    if let Some(previous) = previous {
        return Ok(replayed(&previous));
    }

    let (status, answer) = match produce(app, source, cfg, &delivery, headers, body).await {
        Ok(a) => (
            StatusCode::OK,
            Bytes::from(serde_json::to_vec(&a).unwrap_or_default()),
        ),
        Err(r) if !is_final(r.status) => return Err(r),
        Err(r) => {
            app.metrics.reject(ROUTE, r.code);
            (r.status, r.body_bytes())
        }
    };
    if let (Some(s), Some(id)) = (&scoped, &delivery.delivery_id) {
        let route = format!("webhooks/{source}");
        remember(app, s, id, &route, None, request_sha, status, &answer).await;
    }
    Ok(json_bytes(status, answer))
}

async fn produce(
    app: &App,
    source: &str,
    cfg: &WebhookConfig,
    delivery: &Delivery,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Json, Reject> {
    let payload: Json = serde_json::from_slice(body).map_err(|e| {
        Reject::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    let topic = cfg.topic.as_str();
    let policy = app.cfg.topics.get(topic);
    let subject = policy
        .and_then(|p| p.subject.clone())
        .unwrap_or_else(|| format!("{topic}-value"));
    let event = match app.cfg.mappings.get(source) {
        Some(mapping) => map_payload(&payload, mapping, source, delivery),
        None => payload,
    };
    let schema_id = app
        .schemas
        .subject_id(&subject)
        .await
        .map_err(|e| schema_reject(&subject, &e))?;
    let compiled = app
        .schemas
        .schema(schema_id)
        .await
        .map_err(|e| schema_reject(&subject, &e))?;
    // Without a mapping the payload is projected onto the schema: third parties add fields.
    let opts = JsonOptions {
        allow_unknown_fields: policy.is_none_or(|p| p.allow_unknown_fields)
            || !app.cfg.mappings.contains_key(source),
        ..JsonOptions::default()
    };
    let framed = encode_event(&compiled.codec, schema_id, &event, &opts)?;
    let id = match &delivery.delivery_id {
        Some(d) => derived_id(&format!("{source}/{d}"), 0),
        None => EventId::new(),
    };
    let mut h = Headers::with_capacity(8);
    EventMeta {
        event_id: Some(id),
        event_type: delivery
            .event_type
            .as_ref()
            .map(|t| format!("{source}.{t}")),
        source: Some(format!("webhook/{source}")),
        schema_id: Some(schema_id),
        content_type: Some(CONTENT_TYPE_AVRO.into()),
        time_ms: Some(weft_core::time::now_millis()),
        traceparent: Some(
            header(headers, "traceparent")
                .and_then(|t| t.parse::<TraceParent>().ok())
                .map_or_else(TraceParent::new_root, |p| p.child()),
        ),
        ..EventMeta::default()
    }
    .write_to(&mut h);
    let key = policy
        .and_then(|p| p.key_field.as_deref())
        .and_then(|path| key_at(&event, path))
        .or_else(|| delivery.delivery_id.clone());
    let rec = OutRecord {
        topic: topic.into(),
        key: key.map(Bytes::from),
        value: Some(Bytes::from(framed)),
        headers: h,
        ..OutRecord::default()
    };
    let pending = app
        .producer
        .send(&rec)
        .await
        .map_err(|e| Reject::broker("the delivery could not be queued", topic, &e))?;
    let timeout = app.cfg.limits.request_timeout;
    let d = match tokio::time::timeout(timeout, pending.wait()).await {
        Ok(Ok(d)) => d,
        Ok(Err(e)) => {
            return Err(Reject::broker(
                "the broker did not acknowledge the delivery",
                topic,
                &e,
            ))
        }
        Err(_) => {
            return Err(Reject::unavailable(
                "kafka_timeout",
                format!("the broker did not acknowledge the delivery within {timeout:?}"),
            ))
        }
    };
    app.metrics.events.with_label_values(&[topic]).inc();
    Ok(
        json!({ "id": id.to_string(), "topic": topic, "partition": d.partition, "offset": d.offset }),
    )
}

/// Builds the event from a mapping: field → JSON pointer into the payload (`/repository/full_name`)
/// or one of `$event_type`, `$delivery_id`, `$source`, `$received_at`. Missing values are `null`
/// (the schema decides whether that is allowed).
pub fn map_payload(
    payload: &Json,
    mapping: &BTreeMap<String, String>,
    source: &str,
    delivery: &Delivery,
) -> Json {
    let mut out = Map::new();
    for (field, from) in mapping {
        let v = match from.as_str() {
            "$event_type" => delivery.event_type.clone().map_or(Json::Null, Json::String),
            "$delivery_id" => delivery
                .delivery_id
                .clone()
                .map_or(Json::Null, Json::String),
            "$source" => Json::String(source.to_string()),
            "$received_at" => Json::from(weft_core::time::now_millis()),
            pointer => payload.pointer(pointer).cloned().unwrap_or(Json::Null),
        };
        out.insert(field.clone(), v);
    }
    Json::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mappings_pick_fields_and_delivery_facts() {
        let payload = json!({"repository": {"full_name": "octo/repo"}, "ref": "refs/heads/main"});
        let mapping: BTreeMap<String, String> = [
            ("repo", "/repository/full_name"),
            ("ref", "/ref"),
            ("kind", "$event_type"),
            ("delivery", "$delivery_id"),
            ("missing", "/nope"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let d = Delivery {
            event_type: Some("push".into()),
            delivery_id: Some("d-1".into()),
            secret_index: 0,
        };
        let e = map_payload(&payload, &mapping, "github", &d);
        assert_eq!(
            e,
            json!({"repo": "octo/repo", "ref": "refs/heads/main", "kind": "push", "delivery": "d-1", "missing": null})
        );
    }
}
