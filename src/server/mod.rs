//! The HTTP server started by `sauve serve`: the JSON API (`api.rs`), sign-in
//! (`auth.rs`), the cron trigger, Prometheus metrics and health checks. Every
//! handler calls the service layer ([`crate::service::Sauve`]); nothing here
//! talks to the store behind its back except `/readyz` and `/metrics`, which
//! only read.

mod api;
pub mod auth;
mod error;
mod metrics;

use crate::auth::{Principal, Scope, constant_time_eq};
use crate::domain::Trigger;
use crate::service::Sauve;
use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use error::{ApiError, ApiResult};
use serde::Deserialize;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;

/// Settings of the HTTP side.
#[derive(Debug, Clone, Default)]
pub struct ServerConfig {
    /// The secret platform cron sends as a bearer token; none turns the
    /// trigger off (404).
    pub cron_secret: Option<String>,
    /// Mark session cookies `Secure` (Sauve is behind TLS).
    pub secure_cookies: bool,
}

#[derive(Clone)]
pub struct AppState {
    pub sauve: Sauve,
    pub config: Arc<ServerConfig>,
    pub limiter: Arc<auth::LoginLimiter>,
}

/// Routes that answer without authentication. The route inventory test checks
/// that every other route refuses an anonymous caller.
pub const PUBLIC_ROUTES: &[&str] = &["/healthz", "/readyz", "/login", "/api/cron/backup"];

pub fn router(sauve: Sauve, config: ServerConfig) -> Router {
    let state = AppState {
        sauve,
        config: Arc::new(config),
        limiter: Arc::default(),
    };
    let admin = Router::new()
        .route("/jobs", get(api::list_jobs).post(api::create_job))
        .route(
            "/jobs/{name}",
            get(api::get_job).put(api::put_job).delete(api::delete_job),
        )
        .route("/schedule/preview", get(api::schedule_preview))
        .route("/backups", get(api::list_backups).post(api::create_backup))
        .route(
            "/backups/{id}",
            get(api::get_backup).delete(api::delete_backup),
        )
        .route("/backups/{id}/download", get(api::download_backup))
        .route("/backups/{id}/restore", post(api::restore_backup))
        .route("/runs", get(api::list_runs))
        .route("/runs/{id}", get(api::get_run))
        .route("/runs/{id}/cancel", post(api::cancel_run))
        .route("/runs/{id}/events", get(api::run_events))
        .route("/audit", get(api::audit_log));
    Router::new()
        .nest("/api/admin", admin)
        .route("/api/session", get(auth::whoami))
        .route("/api/cron/backup", get(cron_backup).post(cron_backup))
        .route("/login", post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/metrics", get(metrics::metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .fallback(api::not_found)
        // Job specs and small JSON bodies only: nothing legitimate is bigger.
        .layer(DefaultBodyLimit::max(1 << 20))
        .layer(axum::middleware::from_fn(access_log))
        .with_state(state)
}

/// One line per request: method, path (never the query, which could carry
/// something private), status, time. Never headers: they carry tokens.
async fn access_log(req: Request, next: Next) -> Response {
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let started = std::time::Instant::now();
    let response = next.run(req).await;
    tracing::info!(
        target: "sauve::access",
        %method,
        path,
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
    );
    response
}

/// The process is up and serving.
async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

/// The metadata store answers.
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    match state.sauve.store.ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable", "store": e.to_string() })),
        ),
    }
}

#[derive(Deserialize)]
struct CronQuery {
    job: Option<String>,
}

/// `GET|POST /api/cron/backup` for platform cron (Vercel Cron, a Kubernetes
/// CronJob, a systemd timer): `Authorization: Bearer <SAUVE_CRON_SECRET>`.
/// Without `job`, queues every job whose slot has come (the same tick the
/// scheduler runs); with `job`, queues that job once per minute however often
/// cron retries.
async fn cron_backup(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<CronQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let Some(secret) = state.config.cron_secret.as_deref() else {
        return Err(ApiError::not_found("route"));
    };
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !constant_time_eq(sent, secret) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send Authorization: Bearer <SAUVE_CRON_SECRET>",
        ));
    }
    let cron = Principal::Token {
        name: "cron".into(),
        scopes: vec![Scope::BackupsWrite],
    };
    let enqueued: Vec<serde_json::Value> = match q.job {
        None => state
            .sauve
            .schedule_tick()
            .await?
            .into_iter()
            .map(|r| json!({ "run_id": r.id, "job": r.job, "scheduled_for": r.scheduled_for }))
            .collect(),
        Some(job) => {
            let minute = jiff::Timestamp::now().strftime("%Y%m%dT%H%MZ").to_string();
            let (run, created) = state
                .sauve
                .enqueue(&job, Trigger::Cron, Some(&format!("cron:{minute}")))
                .await?;
            if created {
                vec![json!({ "run_id": run.id, "job": run.job })]
            } else {
                vec![]
            }
        }
    };
    for e in &enqueued {
        let _ = state
            .sauve
            .record(
                &cron,
                "backup.run",
                e["job"].as_str(),
                e["run_id"].as_str(),
                None,
            )
            .await;
    }
    Ok(Json(json!({ "enqueued": enqueued })))
}

/// Serves HTTP and runs the scheduler and workers until SIGINT or SIGTERM;
/// then finishes in-flight requests and drains the workers (see `serve_queue`).
pub async fn serve(
    sauve: Sauve,
    listener: tokio::net::TcpListener,
    config: ServerConfig,
    queue: crate::worker::ServeQueue,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let workers = tokio::spawn(crate::worker::serve_queue(
        sauve.clone(),
        queue,
        stop_rx.clone(),
    ));
    let mut http_stop = stop_rx;
    let app = router(sauve, config).into_make_service_with_connect_info::<SocketAddr>();
    let http = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = http_stop.wait_for(|stop| *stop).await;
    });
    let signal = tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    let served = http.await;
    signal.abort();
    let _ = workers.await;
    served
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
