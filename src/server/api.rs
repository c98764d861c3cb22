//! The JSON API under `/api/admin`: jobs, backups, runs, schedule preview and
//! the audit log. Every handler names the scope it needs, then calls the
//! service layer, which audits every change.

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiPath, ApiQuery, ApiResult};
use crate::auth::Scope;
use crate::domain::{Backup, JobSpec, Run, RunKind, RunState};
use crate::service::{BackupRef, KeyOptions};
use crate::store::{BackupFilter, RunFilter, StoredJob};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

// ---- jobs ---------------------------------------------------------------------

/// A job as the API shows it: its spec (secrets are only ever environment
/// variable names), the schedule in words, and when it next runs.
#[derive(Serialize, schemars::JsonSchema)]
pub struct JobView {
    #[serde(flatten)]
    pub spec: JobSpec,
    pub source_kind: Option<&'static str>,
    pub schedule_description: Option<String>,
    #[schemars(with = "Option<String>")]
    pub next_run: Option<jiff::Timestamp>,
    #[schemars(with = "String")]
    pub created_at: jiff::Timestamp,
    #[schemars(with = "String")]
    pub updated_at: jiff::Timestamp,
}

/// A run was queued or started (202).
#[derive(Serialize, schemars::JsonSchema)]
pub struct Accepted {
    pub run_id: String,
    pub state: RunState,
    /// False when an Idempotency-Key matched an earlier request.
    pub created: Option<bool>,
}

impl Accepted {
    /// The 202 answer for a queued run (`created`: whether this request
    /// queued it).
    pub fn reply(run: Run, created: Option<bool>) -> (StatusCode, Json<Accepted>) {
        (
            StatusCode::ACCEPTED,
            Json(Accepted {
                run_id: run.id,
                state: run.state,
                created,
            }),
        )
    }
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct CancelReply {
    pub run_id: String,
    pub state: RunState,
    /// `cancelled`, `requested` (the worker stops it) or `already_finished`.
    pub outcome: String,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct CronReply {
    pub enqueued: Vec<CronEnqueued>,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct CronEnqueued {
    pub run_id: String,
    pub job: String,
    pub scheduled_for: Option<String>,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct Health {
    pub status: String,
    pub version: Option<String>,
}

async fn view(state: &AppState, job: StoredJob) -> ApiResult<JobView> {
    let valid = job.spec.validate().ok();
    Ok(JobView {
        source_kind: valid.as_ref().map(|j| j.source.kind()),
        schedule_description: valid.and_then(|j| j.schedule.map(|s| s.describe())),
        next_run: state.sauve.next_fire(&job).await?,
        created_at: job.created_at,
        updated_at: job.updated_at,
        spec: job.spec,
    })
}

pub async fn list_jobs(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<JobView>>> {
    caller.require(Scope::JobsRead)?;
    let mut out = Vec::new();
    for job in state.sauve.jobs().await? {
        out.push(view(&state, job).await?);
    }
    Ok(Json(out))
}

/// JSON body to spec, with a field-level error for a malformed body.
fn parse_spec(body: &[u8]) -> ApiResult<JobSpec> {
    serde_json::from_slice(body).map_err(|e| {
        // serde names the field in its message ("unknown field `x`", "missing field `name`").
        ApiError::invalid("body", format!("not a valid job: {e}"))
    })
}

pub async fn create_job(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<JobView>)> {
    caller.require(Scope::JobsWrite)?;
    let spec = parse_spec(&body)?;
    let job = state.sauve.create_job(&caller.actor(), spec).await?;
    Ok((StatusCode::CREATED, Json(view(&state, job).await?)))
}

pub async fn get_job(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Json<JobView>> {
    caller.require(Scope::JobsRead)?;
    let job = state.sauve.job(&name).await?;
    Ok(Json(view(&state, job).await?))
}

pub async fn put_job(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<JobView>> {
    caller.require(Scope::JobsWrite)?;
    let spec = parse_spec(&body)?;
    if spec.name != name {
        return Err(ApiError::invalid(
            "name",
            format!(
                "the body names job {:?} but the URL names {name:?}; renaming is not supported",
                spec.name
            ),
        ));
    }
    let (job, _) = state.sauve.upsert_job(&caller.actor(), spec).await?;
    Ok(Json(view(&state, job).await?))
}

pub async fn delete_job(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<StatusCode> {
    caller.require(Scope::JobsWrite)?;
    state.sauve.delete_job(&caller.actor(), &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct PreviewQuery {
    spec: String,
    tz: Option<String>,
    count: Option<usize>,
}

pub async fn schedule_preview(
    caller: Caller,
    ApiQuery(q): ApiQuery<PreviewQuery>,
) -> ApiResult<Json<crate::service::SchedulePreview>> {
    caller.require(Scope::JobsRead)?;
    let preview = crate::service::preview_schedule(
        &q.spec,
        q.tz.as_deref().unwrap_or("UTC"),
        jiff::Timestamp::now(),
        q.count.unwrap_or(5).min(100),
    )?;
    Ok(Json(preview))
}

// ---- backups ------------------------------------------------------------------

#[derive(Deserialize)]
pub struct BackupQuery {
    job: Option<String>,
    destination: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

pub async fn list_backups(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<BackupQuery>,
) -> ApiResult<Json<Page<Backup>>> {
    caller.require(Scope::BackupsRead)?;
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let items = state
        .sauve
        .backups(&BackupFilter {
            job: q.job,
            destination: q.destination,
            before_id: parse_cursor(q.cursor)?,
            limit: limit + 1,
        })
        .await?;
    Ok(Json(page_of(items, limit, |b| &b.id)))
}

/// A page's `cursor`: the id of the last item of the previous page (a
/// ULID: 26 lower-case letters and digits); empty means the first page.
pub(super) fn parse_cursor(raw: Option<String>) -> Result<Option<String>, ApiError> {
    match raw {
        None => Ok(None),
        Some(c) if c.is_empty() => Ok(None),
        Some(c)
            if c.len() == 26
                && c.bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()) =>
        {
            Ok(Some(c))
        }
        Some(_) => Err(ApiError::invalid(
            "cursor",
            "not a cursor: pass the next_cursor of the previous page as it was given, or none for the first page",
        )),
    }
}

/// A page of at most `limit` items out of `limit + 1` read: the extra one
/// only says that there is a next page, whose cursor is the last id shown.
fn page_of<T>(mut items: Vec<T>, limit: i64, id: impl Fn(&T) -> &String) -> Page<T> {
    let more = items.len() as i64 > limit;
    items.truncate(limit as usize);
    let next_cursor = more.then(|| items.last().map(|i| id(i).clone())).flatten();
    Page { items, next_cursor }
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct BackupRequestBody {
    job: String,
}

/// `POST /api/admin/backups {"job"}`: queues a run (202). With an
/// `Idempotency-Key` header, a repeat answers the same run.
pub async fn create_backup(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<Accepted>)> {
    caller.require(Scope::BackupsWrite)?;
    let req: BackupRequestBody = serde_json::from_slice(&body)
        .map_err(|e| ApiError::invalid("job", format!("send {{\"job\": NAME}}: {e}")))?;
    let key = headers
        .get("idempotency-key")
        .map(|v| v.to_str().map(str::to_string))
        .transpose()
        .map_err(|_| ApiError::invalid("Idempotency-Key", "must be visible ASCII"))?;
    if key.as_ref().is_some_and(|k| k.is_empty() || k.len() > 200) {
        return Err(ApiError::invalid("Idempotency-Key", "1 to 200 characters"));
    }
    let (run, created) = state
        .sauve
        .enqueue(&caller.actor(), &req.job, key.as_deref())
        .await?;
    Ok(Accepted::reply(run, Some(created)))
}

pub async fn get_backup(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Backup>> {
    caller.require(Scope::BackupsRead)?;
    Ok(Json(state.sauve.backup(&id).await?))
}

pub async fn delete_backup(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    caller.require(Scope::BackupsWrite)?;
    state.sauve.delete_backup(&caller.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The artifact as stored, streamed, with its length and expected SHA-256 in
/// headers so the client can check what it got.
pub async fn download_backup(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    caller.require(Scope::BackupsDownload)?;
    let (located, stream) = state.sauve.open_download(&caller.actor(), &id).await?;
    let manifest = located.manifest;
    let stream = stream.map(|chunk| chunk.map_err(std::io::Error::other));
    let file_name = manifest
        .artifact
        .key
        .rsplit('/')
        .next()
        .unwrap_or("backup")
        .to_string();
    let mut r = Response::new(Body::from_stream(stream));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(manifest.artifact.size),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&manifest.artifact.sha256) {
        h.insert("x-checksum-sha256", v);
    }
    Ok(r)
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RestoreBody {
    to: Option<String>,
    #[serde(default)]
    force: bool,
}

pub async fn restore_backup(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<Accepted>)> {
    caller.require(Scope::Restore)?;
    let req: RestoreBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError::invalid(
            "to",
            format!("send {{\"to\": TARGET, \"force\"?: bool}}: {e}"),
        )
    })?;
    // The job's own keys decrypt: an API caller never names a variable of
    // the server's environment to try as a passphrase.
    let opts = KeyOptions::default();
    let run = state
        .sauve
        .start_restore(
            &caller.actor(),
            &BackupRef::Id(id),
            req.to.as_deref(),
            req.force,
            &opts,
        )
        .await?;
    Ok(Accepted::reply(run, None))
}

/// `POST /api/admin/backups/{id}/verify`: re-reads the artifact in full
/// (checksum, decryption, decompression, format) and says what it found.
pub async fn verify_backup(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<crate::restore::VerifyReport>> {
    // It reads every byte of the artifact: work, not a look.
    caller.require(Scope::BackupsWrite)?;
    let report = state
        .sauve
        .verify(&caller.actor(), &BackupRef::Id(id), &KeyOptions::default())
        .await?;
    Ok(Json(report))
}

/// `POST /api/admin/backups/{id}/test-restore`: restores the backup into a
/// scratch target Sauve creates and drops, counts its tables' rows and runs
/// the job's checks.
pub async fn test_restore_backup(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<crate::domain::proof::TestRestoreReport>> {
    caller.require(Scope::BackupsWrite)?;
    let report = state
        .sauve
        .test_restore(
            &caller.actor(),
            &BackupRef::Id(id),
            &KeyOptions::default(),
            crate::service::Stopper::default(),
        )
        .await?;
    Ok(Json(report))
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct SourceTestBody {
    source: crate::domain::SourceSpec,
}

/// `POST /api/admin/sources/test {"source"}`: can Sauve read this source?
pub async fn test_source(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> ApiResult<Json<crate::storage::manifest::SourceInfo>> {
    caller.require_admin()?;
    state
        .probes
        .hit(&caller.principal.label(), "connection tests")?;
    let req: SourceTestBody = serde_json::from_slice(&body)
        .map_err(|e| ApiError::invalid("source", format!("send {{\"source\": URI}}: {e}")))?;
    Ok(Json(
        state.sauve.test_source(&caller.actor(), req.source).await?,
    ))
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct DestinationTestBody {
    destination: String,
}

/// `POST /api/admin/destinations/test {"destination"}`: write, read, list and
/// delete a probe there, timed; the first failing step is the error.
pub async fn test_destination(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> ApiResult<Json<crate::storage::CheckReport>> {
    caller.require_admin()?;
    state
        .probes
        .hit(&caller.principal.label(), "connection tests")?;
    let req: DestinationTestBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError::invalid("destination", format!("send {{\"destination\": URI}}: {e}"))
    })?;
    Ok(Json(
        state
            .sauve
            .test_destination(&caller.actor(), &req.destination)
            .await?,
    ))
}

// ---- runs ---------------------------------------------------------------------

#[derive(Deserialize)]
pub struct RunQuery {
    job: Option<String>,
    state: Option<String>,
    kind: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

pub async fn list_runs(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<RunQuery>,
) -> ApiResult<Json<Page<Run>>> {
    caller.require(Scope::RunsRead)?;
    let run_state = q
        .state
        .map(|s| s.parse::<RunState>())
        .transpose()
        .map_err(|e| ApiError::invalid("state", e))?;
    let kind = q
        .kind
        .map(|s| s.parse::<RunKind>())
        .transpose()
        .map_err(|e| ApiError::invalid("kind", e))?;
    let limit = q.limit.unwrap_or(50).clamp(1, 1000);
    let items = state
        .sauve
        .runs(&RunFilter {
            job: q.job,
            state: run_state,
            kind,
            before_id: parse_cursor(q.cursor)?,
            limit: limit + 1,
        })
        .await?;
    Ok(Json(page_of(items, limit, |r| &r.id)))
}

pub async fn get_run(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Run>> {
    caller.require(Scope::RunsRead)?;
    Ok(Json(state.sauve.run(&id).await?))
}

pub async fn cancel_run(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<CancelReply>> {
    caller.require(Scope::RunsWrite)?;
    let (run, outcome) = state.sauve.cancel_run(&caller.actor(), &id).await?;
    let outcome = match outcome {
        crate::store::CancelOutcome::Cancelled => "cancelled",
        crate::store::CancelOutcome::Requested => "requested",
        crate::store::CancelOutcome::AlreadyFinished(_) => "already_finished",
    };
    Ok(Json(CancelReply {
        run_id: run.id,
        state: run.state,
        outcome: outcome.to_string(),
    }))
}

// ---- audit --------------------------------------------------------------------

#[derive(Deserialize)]
pub struct AuditQuery {
    limit: Option<i64>,
    before: Option<String>,
}

pub async fn audit_log(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<Vec<crate::store::AuditEntry>>> {
    caller.require(Scope::AuditRead)?;
    Ok(Json(
        state
            .sauve
            .audit_log(q.limit.unwrap_or(100), q.before.as_deref())
            .await?,
    ))
}

/// Unknown routes under the API answer JSON, like everything else there.
pub async fn not_found() -> impl IntoResponse {
    ApiError::not_found("route")
}

/// `GET /api/admin/runs/{id}/events`: Server-Sent Events. `state` whenever
/// the run's state changes (its first event is the current state), `progress`
/// about twice a second while it executes in this instance (the run's kind;
/// for a backup, bytes read and stored, rate, and an ETA estimated from the
/// job's previous backup); the stream ends after the final state.
/// `X-Accel-Buffering: no` asks a proxy in front (nginx) to pass each event
/// on as it comes instead of holding them in its buffer.
pub async fn run_events(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<(
    [(&'static str, &'static str); 1],
    axum::response::Sse<
        impl futures::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>,
    >,
)> {
    use axum::response::sse::{Event, KeepAlive, Sse};
    caller.require(Scope::RunsRead)?;
    let run = state.sauve.run(&id).await?;
    let previous_size = state
        .sauve
        .last_good_backup(&run.job)
        .await?
        .map(|r| r.bytes_in)
        .filter(|b| *b > 0);
    let event = |name: &str, v: Value| Event::default().event(name).data(v.to_string());
    let stream = futures::stream::unfold(
        (state, run.id, None::<RunState>, false),
        move |(state, id, last, done)| async move {
            if done {
                return None;
            }
            if last.is_some() {
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
            let run = state.sauve.run(&id).await.ok()?;
            let mut events = Vec::new();
            if last != Some(run.state) {
                events.push(event(
                    "state",
                    json!({ "run_id": run.id, "state": run.state, "error": run.error,
                            "started_at": run.started_at, "finished_at": run.finished_at,
                            "bytes_in": run.bytes_in, "bytes_out": run.bytes_out }),
                ));
            }
            if let Some(p) = state.sauve.live_progress(&id) {
                let eta = previous_size
                    .filter(|_| p.rate > 0.0)
                    .map(|total| ((total as f64 - p.bytes_in as f64).max(0.0) / p.rate).round());
                events.push(event(
                    "progress",
                    json!({ "kind": run.kind, "bytes_in": p.bytes_in, "bytes_out": p.bytes_out, "rate": p.rate.round(),
                            "elapsed_secs": p.elapsed_secs, "eta_secs": eta, "expected_bytes": previous_size }),
                ));
            }
            let finished = run.state.is_finished();
            Some((futures::stream::iter(events), (state, id, Some(run.state), finished)))
        },
    )
    .flatten()
    .map(Ok);
    Ok((
        [("x-accel-buffering", "no")],
        Sse::new(stream).keep_alive(KeepAlive::default()),
    ))
}
