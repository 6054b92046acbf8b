//! The REST API: Confluent Schema Registry's paths, bodies, status codes and content type.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{MatchedPath, Path, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};
use weft_schema::compat::CompatibilityLevel;

use crate::error::ApiError;
use crate::log::Reference;
use crate::service::{Found, NewSchema, Registry, SCHEMA_TYPES};
use crate::state::{StoredSchema, VersionSel};

/// Confluent's content type; plain `application/json` requests are accepted too.
pub const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

type Shared = State<Arc<Registry>>;
type ApiResult = Result<Response, ApiError>;

pub fn router(registry: Arc<Registry>) -> Router {
    Router::new()
        .route("/", get(root))
        .route("/schemas/types", get(schema_types))
        .route("/schemas/ids/{id}", get(schema_by_id))
        .route("/schemas/ids/{id}/schema", get(schema_text_by_id))
        .route("/schemas/ids/{id}/versions", get(id_versions))
        .route("/schemas/ids/{id}/subjects", get(id_subjects))
        .route("/subjects", get(subjects))
        .route("/subjects/{subject}", post(lookup).delete(delete_subject))
        .route("/subjects/{subject}/versions", get(versions).post(register))
        .route(
            "/subjects/{subject}/versions/{version}",
            get(version).delete(delete_version),
        )
        .route(
            "/subjects/{subject}/versions/{version}/schema",
            get(version_text),
        )
        .route(
            "/subjects/{subject}/versions/{version}/referencedby",
            get(referenced_by),
        )
        .route(
            "/compatibility/subjects/{subject}/versions",
            post(compatibility_all),
        )
        .route(
            "/compatibility/subjects/{subject}/versions/{version}",
            post(compatibility_version),
        )
        .route(
            "/config",
            get(global_config)
                .put(put_global_config)
                .delete(delete_global_config),
        )
        .route(
            "/config/{subject}",
            get(subject_config)
                .put(put_subject_config)
                .delete(delete_subject_config),
        )
        .route("/mode", get(mode))
        .route("/mode/{subject}", get(mode))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(registry.clone(), count))
        .with_state(registry)
}

/// Counts every request by method, route template and status.
async fn count(State(r): Shared, req: Request, next: Next) -> Response {
    let method = req.method().as_str().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_string();
    let resp = next.run(req).await;
    r.metrics()
        .requests
        .with_label_values(&[method.as_str(), route.as_str(), resp.status().as_str()])
        .inc();
    resp
}

/// A JSON answer with Confluent's content type.
pub(crate) fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    r
}

fn ok<T: Serialize>(value: &T) -> ApiResult {
    let body = serde_json::to_vec(value)
        .map_err(|e| ApiError::bad_request(format!("serialising the answer: {e}")))?;
    Ok(json_response(StatusCode::OK, body))
}

/// Parses a JSON body; malformed JSON is a 400 naming line and column.
fn body<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        let what = if e.is_data() {
            "Invalid request body"
        } else {
            "Malformed JSON in the request body"
        };
        ApiError::bad_request(format!("{what}: {e}"))
    })
}

fn parse_version(subject: &str, text: &str) -> Result<VersionSel, ApiError> {
    let _ = subject;
    if text == "latest" || text == "-1" {
        return Ok(VersionSel::Latest);
    }
    match text.parse::<i32>() {
        Ok(n) if n >= 1 => Ok(VersionSel::Number(n)),
        _ => Err(ApiError::invalid_version(text)),
    }
}

fn parse_id(text: &str) -> Result<i32, ApiError> {
    text.parse::<i32>()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(|| ApiError::schema_not_found(format!("Schema {text} not found")))
}

/// The query flags Confluent's routes take. Booleans are read case-insensitively: Confluent's
/// Python client sends `normalize=False` on some calls and `deleted=false` on others; unknown
/// parameters are ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Flags {
    #[serde(deserialize_with = "lenient_bool")]
    deleted: bool,
    #[serde(deserialize_with = "lenient_bool")]
    permanent: bool,
    #[serde(deserialize_with = "lenient_bool")]
    verbose: bool,
    #[serde(deserialize_with = "lenient_bool")]
    default_to_global: bool,
    subject_prefix: Option<String>,
}

/// `true`/`True`/`TRUE`/`1` are true; anything else (including an empty value) is false.
fn lenient_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let s = String::deserialize(d)?;
    Ok(s.eq_ignore_ascii_case("true") || s == "1")
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SchemaBody {
    #[serde(default)]
    schema: Option<String>,
    #[serde(default)]
    schema_type: Option<String>,
    #[serde(default)]
    references: Option<Vec<Reference>>,
}

impl SchemaBody {
    fn into_new(self) -> Result<NewSchema, ApiError> {
        let schema = self
            .schema
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| {
                ApiError::invalid_schema("Invalid schema: the \"schema\" field is empty or missing")
            })?;
        Ok(NewSchema {
            schema,
            schema_type: self.schema_type,
            references: self.references.unwrap_or_default(),
        })
    }
}

/// `{"subject", "version", "id", "schema", "schemaType"?, "references"?}`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VersionAnswer<'a> {
    subject: &'a str,
    version: i32,
    id: i32,
    #[serde(skip_serializing_if = "is_avro")]
    schema_type: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    references: &'a [Reference],
    schema: &'a str,
}

fn is_avro(t: &&str) -> bool {
    *t == "AVRO"
}

fn version_answer(f: &Found) -> ApiResult {
    ok(&VersionAnswer {
        subject: &f.subject,
        version: f.version,
        id: f.schema.id,
        schema_type: &f.schema.schema_type,
        references: &f.schema.references,
        schema: &f.schema.schema,
    })
}

/// `{"schema", "schemaType"?, "references"?}` (`GET /schemas/ids/{id}`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SchemaAnswer<'a> {
    #[serde(skip_serializing_if = "is_avro")]
    schema_type: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    references: &'a [Reference],
    schema: &'a str,
}

fn raw_schema(s: &StoredSchema) -> Response {
    json_response(StatusCode::OK, s.schema.as_bytes().to_vec())
}

async fn root() -> ApiResult {
    ok(&serde_json::json!({}))
}

async fn schema_types() -> ApiResult {
    ok(&SCHEMA_TYPES)
}

async fn schema_by_id(State(r): Shared, Path(id): Path<String>) -> ApiResult {
    let s = r.schema_by_id(parse_id(&id)?).await?;
    ok(&SchemaAnswer {
        schema_type: &s.schema_type,
        references: &s.references,
        schema: &s.schema,
    })
}

async fn schema_text_by_id(State(r): Shared, Path(id): Path<String>) -> ApiResult {
    Ok(raw_schema(&*r.schema_by_id(parse_id(&id)?).await?))
}

async fn id_versions(
    State(r): Shared,
    Path(id): Path<String>,
    Query(f): Query<Flags>,
) -> ApiResult {
    #[derive(Serialize)]
    struct SubjectVersion {
        subject: String,
        version: i32,
    }
    let list: Vec<SubjectVersion> = r
        .id_versions(parse_id(&id)?, f.deleted)
        .await?
        .into_iter()
        .map(|(subject, version)| SubjectVersion { subject, version })
        .collect();
    ok(&list)
}

async fn id_subjects(
    State(r): Shared,
    Path(id): Path<String>,
    Query(f): Query<Flags>,
) -> ApiResult {
    let mut subjects: Vec<String> = r
        .id_versions(parse_id(&id)?, f.deleted)
        .await?
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    subjects.dedup();
    ok(&subjects)
}

async fn subjects(State(r): Shared, Query(f): Query<Flags>) -> ApiResult {
    ok(&r.subjects(f.deleted, f.subject_prefix.as_deref().unwrap_or("")))
}

async fn versions(
    State(r): Shared,
    Path(subject): Path<String>,
    Query(f): Query<Flags>,
) -> ApiResult {
    ok(&r.versions(&subject, f.deleted).await?)
}

async fn version(
    State(r): Shared,
    Path((subject, v)): Path<(String, String)>,
    Query(f): Query<Flags>,
) -> ApiResult {
    let sel = parse_version(&subject, &v)?;
    version_answer(&r.version(&subject, sel, f.deleted).await?)
}

async fn version_text(
    State(r): Shared,
    Path((subject, v)): Path<(String, String)>,
    Query(f): Query<Flags>,
) -> ApiResult {
    let sel = parse_version(&subject, &v)?;
    Ok(raw_schema(
        &r.version(&subject, sel, f.deleted).await?.schema,
    ))
}

async fn referenced_by(State(r): Shared, Path((subject, v)): Path<(String, String)>) -> ApiResult {
    let sel = parse_version(&subject, &v)?;
    ok(&r.referenced_by(&subject, sel).await?)
}

async fn register(State(r): Shared, Path(subject): Path<String>, raw: Bytes) -> ApiResult {
    let new = body::<SchemaBody>(&raw)?.into_new()?;
    let found = r.register(&subject, &new).await?;
    tracing::debug!(
        subject,
        id = found.schema.id,
        version = found.version,
        "Schema registered"
    );
    ok(&serde_json::json!({ "id": found.schema.id }))
}

async fn lookup(
    State(r): Shared,
    Path(subject): Path<String>,
    Query(f): Query<Flags>,
    raw: Bytes,
) -> ApiResult {
    let new = body::<SchemaBody>(&raw)?.into_new()?;
    version_answer(&r.lookup(&subject, &new, f.deleted).await?)
}

async fn delete_subject(
    State(r): Shared,
    Path(subject): Path<String>,
    Query(f): Query<Flags>,
) -> ApiResult {
    ok(&r.delete_subject(&subject, f.permanent).await?)
}

async fn delete_version(
    State(r): Shared,
    Path((subject, v)): Path<(String, String)>,
    Query(f): Query<Flags>,
) -> ApiResult {
    let sel = parse_version(&subject, &v)?;
    ok(&r.delete_version(&subject, sel, f.permanent).await?)
}

async fn compatibility(
    r: &Registry,
    subject: &str,
    sel: Option<VersionSel>,
    verbose: bool,
    raw: &[u8],
) -> ApiResult {
    let new = body::<SchemaBody>(raw)?.into_new()?;
    let answer = r.test_compatibility(subject, sel, &new).await?;
    if verbose {
        ok(&serde_json::json!({ "is_compatible": answer.compatible, "messages": answer.messages }))
    } else {
        ok(&serde_json::json!({ "is_compatible": answer.compatible }))
    }
}

async fn compatibility_all(
    State(r): Shared,
    Path(subject): Path<String>,
    Query(f): Query<Flags>,
    raw: Bytes,
) -> ApiResult {
    compatibility(&r, &subject, None, f.verbose, &raw).await
}

async fn compatibility_version(
    State(r): Shared,
    Path((subject, v)): Path<(String, String)>,
    Query(f): Query<Flags>,
    raw: Bytes,
) -> ApiResult {
    let sel = parse_version(&subject, &v)?;
    compatibility(&r, &subject, Some(sel), f.verbose, &raw).await
}

#[derive(Debug, Deserialize)]
struct ConfigBody {
    compatibility: Option<String>,
}

fn parse_level(body_bytes: &[u8]) -> Result<CompatibilityLevel, ApiError> {
    let b: ConfigBody = body(body_bytes)?;
    let text = b
        .compatibility
        .ok_or_else(|| ApiError::invalid_level("(missing \"compatibility\")"))?;
    text.parse::<CompatibilityLevel>()
        .map_err(|_| ApiError::invalid_level(&text))
}

fn level_answer(level: CompatibilityLevel) -> ApiResult {
    ok(&serde_json::json!({ "compatibilityLevel": level.to_string() }))
}

async fn global_config(State(r): Shared) -> ApiResult {
    level_answer(r.global_level())
}

async fn put_global_config(State(r): Shared, raw: Bytes) -> ApiResult {
    let level = parse_level(&raw)?;
    r.set_level(None, Some(level)).await?;
    ok(&serde_json::json!({ "compatibility": level.to_string() }))
}

async fn delete_global_config(State(r): Shared) -> ApiResult {
    let previous = r.global_level();
    r.set_level(None, None).await?;
    level_answer(previous)
}

async fn subject_config(
    State(r): Shared,
    Path(subject): Path<String>,
    Query(f): Query<Flags>,
) -> ApiResult {
    match r.subject_level(&subject) {
        Some(level) => level_answer(level),
        None if f.default_to_global => level_answer(r.global_level()),
        None => Err(ApiError::subject_level_not_configured(&subject)),
    }
}

async fn put_subject_config(
    State(r): Shared,
    Path(subject): Path<String>,
    raw: Bytes,
) -> ApiResult {
    let level = parse_level(&raw)?;
    r.set_level(Some(&subject), Some(level)).await?;
    ok(&serde_json::json!({ "compatibility": level.to_string() }))
}

async fn delete_subject_config(State(r): Shared, Path(subject): Path<String>) -> ApiResult {
    let Some(previous) = r.subject_level(&subject) else {
        return Err(ApiError::subject_level_not_configured(&subject));
    };
    r.set_level(Some(&subject), None).await?;
    level_answer(previous)
}

async fn mode() -> ApiResult {
    ok(&serde_json::json!({ "mode": "READWRITE" }))
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found_route(uri.path())
}
