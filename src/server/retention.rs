//! The retention routes: a job's plan (or a proposed policy's, for the job
//! form to show before saving), applying it, the trash and undelete.

use super::AppState;
use super::api::Accepted;
use super::auth::Caller;
use super::error::{ApiError, ApiPath, ApiQuery, ApiResult};
use super::openapi::{Op, Routes};
use crate::auth::Scope;
use crate::domain::Backup;
use crate::policy::retention::RetentionSpec;
use crate::runner::RetentionPlan;
use crate::store::Trashed;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;

pub(super) fn routes(r: Routes) -> Routes {
    let need = |s| Some(Some(s));
    r.op(
        get(plan),
        Op::new(
            "GET",
            "/api/admin/jobs/{name}/retention-plan",
            need(Scope::JobsRead),
            "What the retention policy keeps (with the rules that keep each) and removes at each destination; nothing is removed. Also needs backups:read",
        )
        .query(&[(
            "policy",
            "a retention policy as JSON ({\"keep_daily\": 7, …}) to plan in place of the job's, before saving it",
        )])
        .returns::<Vec<RetentionPlan>>(200),
    )
    .op(
        post(prune),
        Op::new(
            "POST",
            "/api/admin/jobs/{name}/prune",
            need(Scope::BackupsWrite),
            "Apply the retention policy now: queue a prune run",
        )
        .returns::<Accepted>(202),
    )
    .op(
        get(trash),
        Op::new(
            "GET",
            "/api/admin/trash",
            need(Scope::BackupsRead),
            "Backups retention removed, restorable until purged, newest first",
        )
        .query(&[("job", "only this job"), ("limit", "default 100")])
        .returns::<Vec<Trashed>>(200),
    )
    .op(
        post(undelete),
        Op::new(
            "POST",
            "/api/admin/backups/{id}/undelete",
            need(Scope::BackupsWrite),
            "Take a backup out of the trash",
        )
        .returns::<Backup>(200),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanQuery {
    policy: Option<String>,
}

async fn plan(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    ApiQuery(q): ApiQuery<PlanQuery>,
) -> ApiResult<Json<Vec<RetentionPlan>>> {
    caller.require(Scope::JobsRead)?;
    // It lists backups, which jobs:read alone does not show.
    caller.require(Scope::BackupsRead)?;
    let proposed = match q.policy.as_deref() {
        None => None,
        Some(text) => Some(
            serde_json::from_str::<RetentionSpec>(text)
                .map_err(|e| ApiError::invalid("policy", format!("not a retention policy: {e}")))?,
        ),
    };
    Ok(Json(state.sauve.retention_plan(&name, proposed).await?))
}

async fn prune(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<(StatusCode, Json<Accepted>)> {
    caller.require(Scope::BackupsWrite)?;
    let (run, created) = state.sauve.enqueue_prune(&caller.actor(), &name).await?;
    Ok(Accepted::reply(run, Some(created)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrashQuery {
    job: Option<String>,
    limit: Option<i64>,
}

async fn trash(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<TrashQuery>,
) -> ApiResult<Json<Vec<Trashed>>> {
    caller.require(Scope::BackupsRead)?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    Ok(Json(state.sauve.trash(q.job.as_deref(), limit).await?))
}

async fn undelete(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Backup>> {
    caller.require(Scope::BackupsWrite)?;
    Ok(Json(state.sauve.undelete(&caller.actor(), &id).await?))
}
