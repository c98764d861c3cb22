//! The notification routes: the deliveries (sent, waiting for a retry,
//! failed) with the channels that are failing, a delivery's attempts, and a
//! test send to a channel (the page's "Send test").

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiPath, ApiQuery, ApiResult};
use super::openapi::{Op, Routes};
use crate::auth::Scope;
use crate::service::{ChannelTest, Notifications};
use crate::store::{DeliveryAttempt, DeliveryFilter};
use axum::Json;
use axum::extract::State;
use axum::routing::{get, post};
use serde::Deserialize;

pub(super) fn routes(r: Routes) -> Routes {
    let need = |s| Some(Some(s));
    r.op(
        get(list),
        Op::new(
            "GET",
            "/api/admin/notifications",
            need(Scope::JobsRead),
            "Notifications sent, waiting for a retry or failed, newest first, and each channel's state",
        )
        .query(&[
            ("job", "only this job's"),
            ("state", "pending, sending, sent or failed"),
            ("limit", "page size, default 50"),
            ("cursor", "the last id of the previous page"),
        ])
        .returns::<Notifications>(200),
    )
    .op(
        get(attempts),
        Op::new(
            "GET",
            "/api/admin/notifications/{id}/attempts",
            need(Scope::JobsRead),
            "Every attempt of one notification: when, the receiver's status, the error",
        )
        .returns::<Vec<DeliveryAttempt>>(200),
    )
    .op(
        post(test),
        Op::new(
            "POST",
            "/api/admin/notifications/test",
            need(Scope::JobsWrite),
            "Send a test notification to a channel now",
        )
        .admin_only()
        .body::<ChannelTestBody>()
        .returns::<ChannelTest>(200),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    job: Option<String>,
    state: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Notifications>> {
    caller.require(Scope::JobsRead)?;
    if let Some(s) = q.state.as_deref()
        && !matches!(s, "pending" | "sending" | "sent" | "failed")
    {
        return Err(ApiError::invalid(
            "state",
            format!("{s:?}: choose pending, sending, sent or failed"),
        ));
    }
    let filter = DeliveryFilter {
        job: q.job,
        channel: None,
        state: q.state,
        before_id: q.cursor,
        limit: q.limit.unwrap_or(50).clamp(1, 500),
    };
    Ok(Json(state.sauve.notifications(&filter).await?))
}

async fn attempts(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Vec<DeliveryAttempt>>> {
    caller.require(Scope::JobsRead)?;
    Ok(Json(state.sauve.delivery_attempts(&id).await?))
}

/// `{"channel": URI}`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelTestBody {
    /// The channel's URI, as in a job's `notify`.
    pub channel: String,
}

async fn test(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> ApiResult<Json<ChannelTest>> {
    caller.require_admin()?;
    // It sends a request to a host the caller names: as rare as a person
    // clicking, like the connection tests.
    state
        .probes
        .hit(&caller.principal.label(), "connection tests")?;
    let req: ChannelTestBody = serde_json::from_slice(&body)
        .map_err(|e| ApiError::invalid("channel", format!("send {{\"channel\": URI}}: {e}")))?;
    Ok(Json(
        state
            .sauve
            .test_channel(&caller.actor(), &req.channel)
            .await?,
    ))
}
