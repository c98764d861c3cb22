//! The API's error shape: `{ "code", "message", "field"?, "errors"? }` with the
//! right status. Bad input is a 4xx naming the field; a 5xx only when Sauve
//! itself failed, and its message never carries a secret.

use crate::domain::ValidationErrors;
use crate::service::ServiceError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    pub errors: Option<ValidationErrors>,
    /// Seconds, sent as `Retry-After` (429, 503).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
            errors: None,
            retry_after: None,
        }
    }

    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    pub fn unauthorized() -> Self {
        ServiceError::Unauthorized.into()
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no such {what}"),
        )
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ValidationErrors::single(field, message).into()
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(e: ValidationErrors) -> Self {
        let field = e.0.first().map(|f| f.field.clone());
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid",
            message: e.to_string(),
            field,
            errors: Some(e),
            retry_after: None,
        }
    }
}

/// The service's one classification, turned into a status: nothing here
/// decides what kind of failure an error is.
impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        if let Some(v) = e.validation() {
            return v.clone().into();
        }
        let status =
            StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::warn!(error = %e, status = status.as_u16(), "request failed");
        }
        Self::new(status, e.code(), e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "code": self.code, "message": self.message });
        if let Some(f) = self.field {
            body["field"] = json!(f);
        }
        if let Some(errors) = self.errors {
            body["errors"] = json!(errors.0);
        }
        let mut r = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            r.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        r
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// `Query<T>` whose refusal is the API's JSON error (422 naming the query),
/// not axum's plain-text 400.
pub struct ApiQuery<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| ApiQuery(v))
            .map_err(|e| ApiError::invalid("query", e.body_text()))
    }
}

/// `Path<T>` whose refusal is the API's JSON error (400 naming the path), not
/// axum's plain-text one.
pub struct ApiPath<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for ApiPath<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| ApiPath(v))
            .map_err(|e| {
                let mut err = ApiError::new(StatusCode::BAD_REQUEST, "bad_path", e.body_text());
                err.field = Some("path".into());
                err
            })
    }
}

/// The last line of defence: a 4xx that is not already JSON (axum's own
/// refusals: 405 method not allowed, a bad header, an unsupported media type,
/// anything a future extractor answers in plain text) becomes the documented
/// `{code, message}` with the same status and headers.
pub async fn json_errors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !status.is_client_error() || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let code = match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid",
        _ => "bad_request",
    };
    let message = if !text.is_empty() {
        text
    } else if status == StatusCode::METHOD_NOT_ALLOWED {
        let allow = parts
            .headers
            .get(axum::http::header::ALLOW)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("another method");
        format!("this route does not take that method; use {allow} (see /api/openapi.json)")
    } else {
        format!(
            "{}: see /api/openapi.json for this route's requests",
            status.canonical_reason().unwrap_or("refused")
        )
    };
    let json = ApiError::new(status, code, message).into_response();
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    parts.headers.insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, json.into_body())
}
