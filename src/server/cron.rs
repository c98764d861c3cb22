//! `/api/cron/backup`, the trigger for platform cron: a bearer secret
//! (compared in constant time), failed attempts limited per address, then the
//! same tick the scheduler runs, or one named job.

use super::AppState;
use super::api;
use super::client::ClientIp;
use super::error::{ApiError, ApiQuery, ApiResult};
use crate::auth::constant_time_eq;
use crate::service::Actor;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use serde::Deserialize;

#[derive(Deserialize)]
pub(super) struct CronQuery {
    job: Option<String>,
}

/// `GET|POST /api/cron/backup` for platform cron (Vercel Cron, a Kubernetes
/// CronJob, a systemd timer): `Authorization: Bearer <SAUVE_CRON_SECRET>`.
/// Without `job`, queues every job whose slot has come (the same tick the
/// scheduler runs); with `job`, queues that job once per minute however often
/// cron retries.
pub(super) async fn cron_backup(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<CronQuery>,
) -> ApiResult<Json<api::CronReply>> {
    let Some(secret) = state.config.cron_secret.as_deref() else {
        return Err(ApiError::not_found("route"));
    };
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let key = ip.to_string();
    state
        .cron_failures
        .check(&key, "failed cron authentications")?;
    if !constant_time_eq(sent, secret) {
        let _ = state.cron_failures.hit(&key, "failed cron authentications");
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send Authorization: Bearer <SAUVE_CRON_SECRET>",
        ));
    }
    let cron = Actor::cron(None);
    let enqueued: Vec<api::CronEnqueued> = match q.job {
        None => state
            .sauve
            .cron_tick(&cron)
            .await?
            .into_iter()
            .map(|r| api::CronEnqueued {
                run_id: r.id,
                job: r.job,
                scheduled_for: r.scheduled_for.map(|t| t.to_string()),
            })
            .collect(),
        Some(job) => {
            let (run, created) = state.sauve.cron_enqueue(&cron, &job).await?;
            if created {
                vec![api::CronEnqueued {
                    run_id: run.id,
                    job: run.job,
                    scheduled_for: None,
                }]
            } else {
                vec![]
            }
        }
    };
    Ok(Json(api::CronReply { enqueued }))
}
