//! The API's error shape: `{ "code", "message", "field"?, "errors"? }` with the
//! right status. Bad input is a 4xx naming the field; a 5xx only when Sauve
//! itself failed, and its message never carries a secret.

use crate::domain::ValidationErrors;
use crate::restore::RestoreError;
use crate::service::ServiceError;
use crate::store::StoreError;
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
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
            errors: None,
        }
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "sign in, or send Authorization: Bearer <token> (sauve token create)",
        )
    }

    pub fn forbidden(scope: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("this needs the {scope} permission, which the caller does not have"),
        )
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
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        use crate::pipeline::process::SourceError;
        let message = e.to_string();
        let (status, code) = match &e {
            ServiceError::Invalid(v) => return v.clone().into(),
            ServiceError::Store(StoreError::NotFound { .. }) => {
                (StatusCode::NOT_FOUND, "not_found")
            }
            ServiceError::Store(StoreError::Ambiguous { .. }) => {
                (StatusCode::BAD_REQUEST, "ambiguous_id")
            }
            ServiceError::Store(StoreError::JobExists(_) | StoreError::UserExists(_)) => {
                (StatusCode::CONFLICT, "conflict")
            }
            ServiceError::Store(StoreError::AlreadyRunning(_)) => {
                (StatusCode::CONFLICT, "already_running")
            }
            ServiceError::Restore(RestoreError::Source(SourceError::TargetRefused { .. })) => {
                (StatusCode::CONFLICT, "target_not_empty")
            }
            ServiceError::Codec(_) => (StatusCode::UNPROCESSABLE_ENTITY, "keys"),
            ServiceError::Restore(RestoreError::ChecksumMismatch { .. }) => {
                (StatusCode::CONFLICT, "corrupted")
            }
            // A source or check that failed for a reason outside Sauve (server
            // down, wrong password, damaged artifact): said in the message.
            ServiceError::Backup { .. } | ServiceError::Restore(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "failed")
            }
            _ => {
                tracing::error!(error = %message, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        };
        Self::new(status, code, message)
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
        (self.status, Json(body)).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
