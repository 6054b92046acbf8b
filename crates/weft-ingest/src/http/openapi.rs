//! `GET /openapi.json`: the API description, kept in the repository as `docs/openapi.json`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// The document (also committed, so it can be read and linted without running Weft).
pub const DOCUMENT: &str = include_str!("../../../../docs/openapi.json");

pub async fn document() -> Response {
    let mut r = (StatusCode::OK, DOCUMENT).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_json_and_names_every_route() {
        let doc: serde_json::Value = serde_json::from_str(DOCUMENT).expect("valid JSON");
        assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
        for path in [
            "/v1/topics/{topic}/events",
            "/v1/webhooks/{source}",
            "/openapi.json",
        ] {
            assert!(doc["paths"].get(path).is_some(), "{path} is not described");
        }
    }
}
