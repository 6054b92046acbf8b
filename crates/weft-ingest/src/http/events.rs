//! `POST /v1/topics/{topic}/events`: one JSON event or an array, each validated against the
//! topic's value schema, encoded in the Confluent wire format and produced with `acks=all`.
//! The answer comes after the broker acknowledged: per event its id, partition and offset, or
//! its error (code, field path, reason).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use weft_core::headers::{EventMeta, CONTENT_TYPE_AVRO};
use weft_core::{EventId, Headers, TraceParent};
use weft_kafka::OutRecord;
use weft_schema::codec::JsonOptions;

use super::common::{
    body_reject, derived_id, header, is_final, json_reject, remember, replayed, schema_reject,
};
use super::error::{json_bytes, Reject};
use super::{App, Shared};
use crate::config::TopicPolicy;

pub(crate) const ROUTE: &str = "events";

#[derive(Debug, Default, Deserialize)]
pub struct EventsQuery {
    /// A record key for every event of the request (overrides the topic's `key_field`).
    pub key: Option<String>,
}

/// One event's outcome.
enum Outcome {
    Produced {
        id: EventId,
        partition: i32,
        offset: i64,
    },
    Failed(Reject),
}

pub async fn post_events(
    State(app): Shared,
    Path(topic): Path<String>,
    Query(query): Query<EventsQuery>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let response = match body {
        Ok(body) => handle(&app, &topic, &query, &headers, &body).await,
        Err(e) => {
            let r = body_reject(&app, &e);
            app.metrics.reject(ROUTE, r.code);
            axum::response::IntoResponse::into_response(r)
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
    topic: &str,
    query: &EventsQuery,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    let refuse = |r: Reject| {
        app.metrics.reject(ROUTE, r.code);
        axum::response::IntoResponse::into_response(r)
    };
    let Ok(_permit) = app.in_flight.try_acquire() else {
        return refuse(Reject::unavailable(
            "overloaded",
            "too many requests in progress; retry later",
        ));
    };
    let principal = match app.authorize(headers, topic) {
        Ok(p) => p,
        Err(r) => return refuse(r),
    };
    let Some(policy) = app.cfg.topics.get(topic) else {
        return refuse(Reject::new(
            StatusCode::NOT_FOUND,
            "unknown_topic",
            format!("topic {topic:?} does not accept events over HTTP (not in ingest.topics)"),
        ));
    };
    if !app.kafka_up() {
        return refuse(Reject::unavailable(
            "kafka_unavailable",
            "the Kafka cluster is unavailable; nothing was accepted",
        ));
    }
    let idem_key = header(headers, "idempotency-key");
    let scoped = idem_key.as_ref().map(|k| {
        format!(
            "{}/topics/{topic}/{k}",
            principal.tenant.as_deref().unwrap_or("-")
        )
    });
    // Only a request with an Idempotency-Key needs the hash of its body.
    let request_sha = if scoped.is_some() {
        hex::encode(Sha256::digest(body))
    } else {
        String::new()
    };
    let _guard = match &scoped {
        Some(s) => Some(app.idempotency.lock(s).await),
        None => None,
    };
    if let Some(s) = &scoped {
        if let Some(previous) = app.idempotency.find(s).await {
            if previous.request_sha256 != request_sha {
                return refuse(Reject::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "idempotency_key_reused",
                    "this Idempotency-Key was used with a different request body",
                ));
            }
            return replayed(&previous);
        }
    }

    let (status, answer) = match produce_events(
        app,
        topic,
        policy,
        query,
        headers,
        body,
        idem_key.as_deref(),
        principal.tenant.as_deref(),
    )
    .await
    {
        Ok(done) => done,
        Err(r) => {
            app.metrics.reject(ROUTE, r.code);
            if r.status == StatusCode::BAD_REQUEST {
                super::guard::audit(
                    &app.producer,
                    app.cfg.rejects_topic.as_deref(),
                    &format!("http/{topic}"),
                    topic,
                    body.clone(),
                    &r,
                )
                .await;
            }
            (r.status, r.body_bytes())
        }
    };
    // Remember final answers (success and refusals of the input), not "try again later".
    if let (Some(s), Some(k)) = (&scoped, &idem_key) {
        if is_final(status) {
            let route = format!("topics/{topic}");
            let tenant = principal.tenant.as_deref();
            remember(app, s, k, &route, tenant, request_sha, status, &answer).await;
        }
    }
    let mut r = json_bytes(status, answer);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        r.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from_static("1"),
        );
    }
    r
}

#[allow(clippy::too_many_arguments)]
async fn produce_events(
    app: &App,
    topic: &str,
    policy: &TopicPolicy,
    query: &EventsQuery,
    headers: &HeaderMap,
    body: &[u8],
    idem_key: Option<&str>,
    tenant: Option<&str>,
) -> Result<(StatusCode, Bytes), Reject> {
    // Each event stays JSON text (no tree); it is read straight into Avro values below.
    let malformed = |e: serde_json::Error| {
        Reject::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("the body is not valid JSON: {e}"),
        )
    };
    let batch = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    let (events, single): (Vec<&RawValue>, bool) = if batch {
        (serde_json::from_slice(body).map_err(malformed)?, false)
    } else {
        (vec![serde_json::from_slice(body).map_err(malformed)?], true)
    };
    if events.is_empty() {
        return Err(Reject::new(
            StatusCode::BAD_REQUEST,
            "empty_batch",
            "the array holds no events",
        ));
    }
    if events.len() > app.cfg.limits.max_events {
        return Err(Reject::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_events",
            format!(
                "{} events in one request; at most {} (ingest.limits.max_events)",
                events.len(),
                app.cfg.limits.max_events
            ),
        ));
    }
    let subject = policy
        .subject
        .clone()
        .unwrap_or_else(|| format!("{topic}-value"));
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
    let opts = JsonOptions {
        allow_unknown_fields: policy.allow_unknown_fields,
        ..JsonOptions::default()
    };

    // Headers shared by every event of the request.
    let parent: Option<TraceParent> = header(headers, "traceparent").and_then(|t| t.parse().ok());
    let tracestate = header(headers, "tracestate");
    let event_type = header(headers, "weft-event-type").or_else(|| policy.event_type.clone());
    let allowed: Vec<(String, String)> = policy
        .allowed_headers
        .iter()
        .filter_map(|name| header(headers, name).map(|v| (name.to_ascii_lowercase(), v)))
        .collect();

    let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(events.len());
    let mut pending = Vec::new();
    for (i, event) in events.iter().enumerate() {
        let prepared = (|| {
            let value = compiled
                .codec
                .from_json_raw(event, &opts)
                .map_err(|e| json_reject(&e))?;
            let framed = compiled
                .codec
                .encode_framed(schema_id, &value)
                .map_err(|e| {
                    Reject::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "schema_mismatch",
                        e.to_string(),
                    )
                })?;
            let key = match (&query.key, &policy.key_field) {
                (Some(k), _) => Some(Bytes::from(k.clone())),
                (None, Some(path)) => Some(Bytes::from(
                    key_in(&compiled.codec, &value, path).ok_or_else(|| {
                        Reject::new(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            "missing_key",
                            format!("the key field {path:?} is missing or not a string/number"),
                        )
                        .at(path.clone())
                    })?,
                )),
                (None, None) => None,
            };
            let id = match idem_key {
                Some(k) => derived_id(k, i),
                None => EventId::new(),
            };
            let mut h = Headers::with_capacity(8 + allowed.len());
            EventMeta {
                event_id: Some(id),
                event_type: event_type.clone(),
                source: Some(format!("http/{topic}")),
                tenant: tenant.map(str::to_string),
                schema_id: Some(schema_id),
                content_type: Some(CONTENT_TYPE_AVRO.into()),
                time_ms: Some(weft_core::time::now_millis()),
                traceparent: Some(
                    parent
                        .as_ref()
                        .map_or_else(TraceParent::new_root, TraceParent::child),
                ),
                tracestate: tracestate.clone(),
                ..EventMeta::default()
            }
            .write_to(&mut h);
            for (k, v) in &allowed {
                h.set(k.clone(), v.clone());
            }
            Ok::<_, Reject>((
                id,
                OutRecord {
                    topic: topic.into(),
                    key,
                    value: Some(Bytes::from(framed)),
                    headers: h,
                    ..OutRecord::default()
                },
            ))
        })();
        match prepared {
            Ok((id, rec)) => match app.producer.send(&rec).await {
                Ok(p) => {
                    outcomes.push(None);
                    pending.push((i, id, p));
                }
                Err(e) => outcomes.push(Some(Outcome::Failed(Reject::broker(
                    "the event could not be queued",
                    topic,
                    &e,
                )))),
            },
            Err(r) => {
                app.metrics.reject(ROUTE, r.code);
                if r.status == StatusCode::UNPROCESSABLE_ENTITY {
                    let raw = Bytes::copy_from_slice(event.get().as_bytes());
                    super::guard::audit(
                        &app.producer,
                        app.cfg.rejects_topic.as_deref(),
                        &format!("http/{topic}"),
                        topic,
                        raw,
                        &r,
                    )
                    .await;
                }
                outcomes.push(Some(Outcome::Failed(r)));
            }
        }
    }
    let timeout = app.cfg.limits.request_timeout;
    for (i, id, p) in pending {
        let outcome = match tokio::time::timeout(timeout, p.wait()).await {
            Ok(Ok(d)) => {
                app.metrics.events.with_label_values(&[topic]).inc();
                Outcome::Produced {
                    id,
                    partition: d.partition,
                    offset: d.offset,
                }
            }
            Ok(Err(e)) => Outcome::Failed(Reject::broker(
                "the broker did not acknowledge the event",
                topic,
                &e,
            )),
            Err(_) => Outcome::Failed(Reject::unavailable(
                "kafka_timeout",
                format!("the broker did not acknowledge the event within {timeout:?}"),
            )),
        };
        if let Some(slot) = outcomes.get_mut(i) {
            *slot = Some(outcome);
        }
    }
    Ok(answer(topic, single, outcomes))
}

/// The status and body: a single event answers with its own result or error; a batch with
/// every result by index — 200 when all were produced, 207 when some were, otherwise the
/// status of the first failure. Serialised straight from the outcomes (no JSON tree).
fn answer(topic: &str, single: bool, outcomes: Vec<Option<Outcome>>) -> (StatusCode, Bytes) {
    let results: Vec<Outcome> = outcomes.into_iter().flatten().collect();
    let produced = results
        .iter()
        .filter(|o| matches!(o, Outcome::Produced { .. }))
        .count();
    let first_failure = results.iter().find_map(|o| match o {
        Outcome::Failed(r) => Some(r.status),
        Outcome::Produced { .. } => None,
    });
    let status = match (produced, first_failure) {
        (_, None) => StatusCode::OK,
        (0, Some(s)) => s,
        (_, Some(_)) => StatusCode::MULTI_STATUS,
    };
    let body = if single {
        match results.first() {
            Some(Outcome::Failed(r)) => serde_json::to_vec(&ErrorItem {
                index: None,
                error: r,
            }),
            Some(Outcome::Produced {
                id,
                partition,
                offset,
            }) => serde_json::to_vec(&ProducedItem {
                index: None,
                id,
                topic,
                partition: *partition,
                offset: *offset,
            }),
            None => Ok(b"null".to_vec()),
        }
    } else {
        let items: Vec<Item<'_>> = results
            .iter()
            .enumerate()
            .map(|(i, o)| match o {
                Outcome::Produced {
                    id,
                    partition,
                    offset,
                } => Item::Produced(ProducedItem {
                    index: Some(i),
                    id,
                    topic,
                    partition: *partition,
                    offset: *offset,
                }),
                Outcome::Failed(r) => Item::Failed(ErrorItem {
                    index: Some(i),
                    error: r,
                }),
            })
            .collect();
        serde_json::to_vec(&Batch {
            produced,
            failed: items.len() - produced,
            results: items,
        })
    };
    (status, Bytes::from(body.unwrap_or_default()))
}

#[derive(serde::Serialize)]
struct ProducedItem<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<usize>,
    #[serde(serialize_with = "display")]
    id: &'a EventId,
    topic: &'a str,
    partition: i32,
    offset: i64,
}

#[derive(serde::Serialize)]
struct ErrorItem<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<usize>,
    error: &'a Reject,
}

#[derive(serde::Serialize)]
#[serde(untagged)]
enum Item<'a> {
    Produced(ProducedItem<'a>),
    Failed(ErrorItem<'a>),
}

#[derive(serde::Serialize)]
struct Batch<'a> {
    produced: usize,
    failed: usize,
    results: Vec<Item<'a>>,
}

fn display<S: serde::Serializer>(v: &&EventId, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// The value at a dotted path of an Avro record value, as key text (strings, numbers,
/// booleans; through unions).
fn key_in(
    codec: &weft_schema::Codec,
    value: &weft_schema::codec::Value,
    path: &str,
) -> Option<String> {
    use weft_schema::codec::Value as V;
    let mut v = codec.lookup(value, path)?;
    while let V::Union(_, inner) = v {
        v = inner;
    }
    match v {
        V::String(s) => Some(s.clone()),
        V::Int(n) => Some(n.to_string()),
        V::Long(n) => Some(n.to_string()),
        V::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value as Json;

    #[test]
    fn batch_statuses() {
        let ok = || {
            Some(Outcome::Produced {
                id: EventId::new(),
                partition: 0,
                offset: 1,
            })
        };
        let bad = || {
            Some(Outcome::Failed(Reject::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "wrong_type",
                "x",
            )))
        };
        assert_eq!(answer("t", false, vec![ok(), ok()]).0, StatusCode::OK);
        assert_eq!(
            answer("t", false, vec![ok(), bad()]).0,
            StatusCode::MULTI_STATUS
        );
        assert_eq!(
            answer("t", false, vec![bad(), bad()]).0,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        let parse = |b: Bytes| serde_json::from_slice::<Json>(&b).unwrap();
        let (s, body) = answer("t", true, vec![bad()]);
        let body = parse(body);
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["error"]["code"], "wrong_type");
        let (_, body) = answer("t", false, vec![ok(), bad()]);
        let body = parse(body);
        assert_eq!(body["results"][0]["topic"], "t");
        assert!(body["results"][0]["id"].as_str().is_some());
        assert_eq!(body["produced"], 1);
        assert_eq!(body["results"][1]["error"]["code"], "wrong_type");
    }
}
