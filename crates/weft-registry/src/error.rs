//! API errors with Confluent's HTTP status and `error_code` values, so clients that branch on
//! them (Confluent's serializers do) behave the same against Weft.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::state::{LookupError, Refusal};
use crate::store::StoreError;

/// An error answer: `{"error_code": ..., "message": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: u32,
    pub message: String,
}

#[derive(Serialize)]
struct Body<'a> {
    error_code: u32,
    message: &'a str,
}

impl ApiError {
    fn new(status: StatusCode, code: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn subject_not_found(subject: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            40401,
            format!("Subject '{subject}' not found."),
        )
    }

    pub fn version_not_found(subject: &str, version: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            40402,
            format!("Version {version} not found in subject '{subject}'."),
        )
    }

    pub fn schema_not_found(what: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::NOT_FOUND, 40403, format!("{what}"))
    }

    pub fn subject_level_not_configured(subject: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            40408,
            format!("Subject '{subject}' does not have subject-level compatibility configured"),
        )
    }

    pub fn incompatible(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, 409, message)
    }

    pub fn invalid_schema(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, 42201, message)
    }

    pub fn invalid_version(version: &str) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            42202,
            format!(
                "The specified version '{version}' is not a valid version id. Allowed values are \
                 between [1, 2^31-1] and the string \"latest\""
            ),
        )
    }

    pub fn invalid_level(level: &str) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            42203,
            format!(
                "Invalid compatibility level '{level}'. Valid values are none, backward, forward, \
                 full, backward_transitive, forward_transitive, and full_transitive"
            ),
        )
    }

    pub fn not_permitted(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, 42205, message)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, 400, message)
    }

    pub fn not_found_route(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            404,
            format!("HTTP 404 Not Found: {path}"),
        )
    }

    pub fn store(e: &StoreError) -> Self {
        match e {
            StoreError::Timeout(_) => Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                50002,
                format!("Operation timed out: {e}"),
            ),
            _ => Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                50001,
                format!("Error in the backend data store: {e}"),
            ),
        }
    }

    pub fn lookup(e: &LookupError, subject: &str, version: &str) -> Self {
        match e {
            LookupError::SubjectNotFound => Self::subject_not_found(subject),
            LookupError::VersionNotFound => Self::version_not_found(subject, version),
        }
    }

    pub fn refusal(r: &Refusal) -> Self {
        use Refusal as R;
        match r {
            R::SubjectNotFound(s) => Self::subject_not_found(s),
            R::VersionNotFound { subject, version } => {
                Self::version_not_found(subject, &version.to_string())
            }
            R::SubjectSoftDeleted(s) => Self::new(
                StatusCode::NOT_FOUND,
                40404,
                format!("Subject '{s}' was soft deleted. Set permanent=true to delete permanently"),
            ),
            R::SubjectNotSoftDeleted(s) => Self::new(
                StatusCode::NOT_FOUND,
                40405,
                format!("Subject '{s}' was not deleted first before being permanently deleted"),
            ),
            R::VersionSoftDeleted { subject, version } => Self::new(
                StatusCode::NOT_FOUND,
                40406,
                format!(
                    "Subject '{subject}' Version {version} was soft deleted. Set permanent=true \
                     to delete permanently"
                ),
            ),
            R::VersionNotSoftDeleted { subject, version } => Self::new(
                StatusCode::NOT_FOUND,
                40407,
                format!(
                    "Subject '{subject}' Version {version} was not deleted first before being \
                     permanently deleted"
                ),
            ),
            R::Referenced {
                subject,
                version,
                by,
            } => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                42206,
                format!(
                    "One or more references exist to the schema {{subject={subject}, \
                     version={version}}}: {by}"
                ),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&Body {
            error_code: self.code,
            message: &self.message,
        })
        .unwrap_or_default();
        crate::api::json_response(self.status, body)
    }
}
