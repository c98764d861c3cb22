//! The HTTP server started by `sauve serve`: the JSON API (`api.rs`), sign-in
//! (`auth.rs`), the dashboard (`ui.rs`), the cron trigger, Prometheus metrics
//! and health checks. Every handler authorizes, then calls the service layer
//! ([`crate::service::Sauve`]); the store is out of its reach.

mod api;
pub mod auth;
pub mod base_path;
mod client;
mod cron;
mod error;
mod headers;
pub mod i18n;
mod limit;
pub mod listen;
mod metrics;
mod notifications;
pub mod openapi;
mod origin;
mod retention;
mod throttle;
mod ui;

use crate::auth::Scope;
use crate::service::Sauve;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
pub use base_path::BasePath;
use error::ApiError;
use std::sync::Arc;
pub use ui::DASHBOARD;

/// Settings of the HTTP side.
#[derive(Debug, Clone, Default)]
pub struct ServerConfig {
    /// The secret platform cron sends as a bearer token; none turns the
    /// trigger off (404).
    pub cron_secret: Option<String>,
    /// Mark session cookies `Secure` (Sauve is behind TLS).
    pub secure_cookies: bool,
    /// This server's origin as browsers see it (`https://host[:port]`), from
    /// `--public-url`; without it, the request's own scheme and `Host`.
    pub public_origin: Option<String>,
    /// Peers whose `X-Forwarded-For` is believed (`--trusted-proxy`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Header deadline and connection limit of the listener.
    pub limits: listen::ConnLimits,
    /// The prefix every route lives under (`--base-path`), empty at the root.
    pub base_path: BasePath,
}

impl ServerConfig {
    /// The session cookie's name. `__Host-` (with `--secure-cookies`) pins a
    /// cookie to `Path=/`, which a base path must not take: the app beside
    /// Sauve on the same host would receive it. There `__Secure-` keeps the
    /// HTTPS-only guarantee with `Path=` the prefix.
    pub fn session_cookie(&self) -> &'static str {
        match (self.secure_cookies, self.base_path.is_root()) {
            (false, _) => auth::SESSION_COOKIE,
            (true, true) => auth::SECURE_SESSION_COOKIE,
            (true, false) => auth::SECURE_PREFIXED_SESSION_COOKIE,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub sauve: Sauve,
    pub config: Arc<ServerConfig>,
    pub limiter: Arc<throttle::SignInThrottle>,
    /// The test endpoints connect somewhere on each call: a few per minute
    /// per caller is what a person at the form needs.
    pub probes: Arc<limit::RateLimit>,
    /// Failed cron authentications per address: the secret is worth guessing.
    pub cron_failures: Arc<limit::RateLimit>,
}

/// The routes and their documentation, built together.
fn routes() -> openapi::Routes {
    use crate::domain::{Backup, JobSpec, Run};
    use api::*;
    use openapi::Op;
    let need = |s| Some(Some(s));
    let r = openapi::Routes::default()
        .op(
            get(list_jobs),
            Op::new("GET", "/api/admin/jobs", need(Scope::JobsRead), "List jobs")
                .returns::<Vec<JobView>>(200),
        )
        .op(
            post(create_job),
            Op::new(
                "POST",
                "/api/admin/jobs",
                need(Scope::JobsWrite),
                "Create a job",
            )
            .body::<JobSpec>()
            .returns::<JobView>(201),
        )
        .op(
            get(get_job).put(put_job).delete(delete_job),
            Op::new(
                "GET",
                "/api/admin/jobs/{name}",
                need(Scope::JobsRead),
                "Show a job",
            )
            .returns::<JobView>(200),
        )
        .doc(
            Op::new(
                "PUT",
                "/api/admin/jobs/{name}",
                need(Scope::JobsWrite),
                "Create or replace a job",
            )
            .body::<JobSpec>()
            .returns::<JobView>(200),
        )
        .doc(
            Op::new(
                "DELETE",
                "/api/admin/jobs/{name}",
                need(Scope::JobsWrite),
                "Delete a job (its backups stay)",
            )
            .empty(204),
        )
        .op(
            get(schedule_preview),
            Op::new(
                "GET",
                "/api/admin/schedule/preview",
                need(Scope::JobsRead),
                "Next fire times of a schedule",
            )
            .query(&[
                ("spec", "the schedule, e.g. daily at 02:00"),
                ("tz", "IANA time zone, default UTC"),
                ("count", "how many, default 5"),
            ])
            .returns::<crate::service::SchedulePreview>(200),
        )
        .op(
            get(list_backups).post(create_backup),
            Op::new(
                "GET",
                "/api/admin/backups",
                need(Scope::BackupsRead),
                "List backups, newest first",
            )
            .query(&[
                ("job", "only this job"),
                ("destination", "only this destination URI"),
                ("limit", "page size, default 50"),
                ("cursor", "next_cursor of the previous page"),
            ])
            .returns::<Page<Backup>>(200),
        )
        .doc(
            Op::new(
                "POST",
                "/api/admin/backups",
                need(Scope::BackupsWrite),
                "Back up now: queue a run (Idempotency-Key header supported)",
            )
            .body::<BackupRequestBody>()
            .returns::<Accepted>(202),
        )
        .op(
            get(get_backup).delete(delete_backup),
            Op::new(
                "GET",
                "/api/admin/backups/{id}",
                need(Scope::BackupsRead),
                "Show a backup",
            )
            .returns::<Backup>(200),
        )
        .doc(
            Op::new(
                "DELETE",
                "/api/admin/backups/{id}",
                need(Scope::BackupsWrite),
                "Delete a backup from storage",
            )
            .empty(204),
        )
        .op(
            get(download_backup),
            Op::new(
                "GET",
                "/api/admin/backups/{id}/download",
                need(Scope::BackupsDownload),
                "Download the artifact as stored (X-Checksum-Sha256 header)",
            )
            .produces("application/octet-stream"),
        )
        .op(
            post(verify_backup),
            Op::new(
                "POST",
                "/api/admin/backups/{id}/verify",
                need(Scope::BackupsWrite),
                "Re-read a backup in full: checksum, decryption, decompression, format",
            )
            .returns::<crate::restore::VerifyReport>(200),
        )
        .op(
            post(test_restore_backup),
            Op::new(
                "POST",
                "/api/admin/backups/{id}/test-restore",
                need(Scope::BackupsWrite),
                "Restore a backup into a scratch target, count its rows, run the job's checks, drop it",
            )
            .returns::<crate::domain::proof::TestRestoreReport>(200),
        )
        .op(
            post(test_source),
            Op::new(
                "POST",
                "/api/admin/sources/test",
                need(Scope::JobsWrite),
                "Test that a source can be read (tool, reachability, credentials)",
            )
            .admin_only()
            .body::<SourceTestBody>()
            .returns::<crate::storage::manifest::SourceInfo>(200),
        )
        .op(
            post(test_destination),
            Op::new(
                "POST",
                "/api/admin/destinations/test",
                need(Scope::JobsWrite),
                "Test a destination: write, read, list and delete a probe, timed",
            )
            .admin_only()
            .body::<DestinationTestBody>()
            .returns::<crate::storage::CheckReport>(200),
        )
        .op(
            post(restore_backup),
            Op::new(
                "POST",
                "/api/admin/backups/{id}/restore",
                need(Scope::Restore),
                "Verify, then restore into a target",
            )
            .body::<RestoreBody>()
            .returns::<Accepted>(202),
        )
        .op(
            get(list_runs),
            Op::new(
                "GET",
                "/api/admin/runs",
                need(Scope::RunsRead),
                "List runs, newest first",
            )
            .query(&[
                ("job", "only this job"),
                (
                    "state",
                    "queued, running, succeeded, partial, failed or cancelled",
                ),
                (
                    "kind",
                    "backup, restore, verify, test_restore or prune",
                ),
                ("limit", "page size, default 50, at most 1000"),
                ("cursor", "next_cursor of the previous page"),
            ])
            .returns::<Page<Run>>(200),
        )
        .op(
            get(get_run),
            Op::new(
                "GET",
                "/api/admin/runs/{id}",
                need(Scope::RunsRead),
                "Show a run with its log",
            )
            .returns::<Run>(200),
        )
        .op(
            post(cancel_run),
            Op::new(
                "POST",
                "/api/admin/runs/{id}/cancel",
                need(Scope::RunsWrite),
                "Cancel a queued or running run",
            )
            .returns::<CancelReply>(200),
        )
        .op(
            get(run_events),
            Op::new(
                "GET",
                "/api/admin/runs/{id}/events",
                need(Scope::RunsRead),
                "Live state and progress (Server-Sent Events)",
            )
            .produces("text/event-stream"),
        )
        .op(
            get(audit_log),
            Op::new(
                "GET",
                "/api/admin/audit",
                need(Scope::AuditRead),
                "The audit log, newest first",
            )
            .query(&[
                ("limit", "default 100"),
                ("before", "an entry id to page from"),
            ])
            .returns::<Vec<crate::store::AuditEntry>>(200),
        )
        .op(
            get(auth::whoami),
            Op::new(
                "GET",
                "/api/session",
                Some(None),
                "Who is calling, and the session's CSRF token",
            )
            .returns::<auth::SessionInfo>(200),
        )
        .op(
            get(cron::cron_backup).post(cron::cron_backup),
            Op::new(
                "GET",
                "/api/cron/backup",
                None,
                "Platform cron trigger (Bearer SAUVE_CRON_SECRET)",
            )
            .query(&[("job", "queue this job instead of the due ones")])
            .returns::<CronReply>(200),
        )
        .doc(
            Op::new(
                "POST",
                "/api/cron/backup",
                None,
                "Platform cron trigger (Bearer SAUVE_CRON_SECRET)",
            )
            .query(&[("job", "queue this job instead of the due ones")])
            .returns::<CronReply>(200),
        )
        .op(
            get(ui::login_page).post(auth::login),
            Op::new(
                "POST",
                "/login",
                None,
                "Sign in (form or JSON: name, password); sets the session cookie",
            )
            .returns::<auth::LoginReply>(200),
        )
        .op(
            post(auth::logout),
            Op::new("POST", "/logout", Some(None), "Sign out").empty(204),
        )
        .op(
            get(metrics::metrics),
            Op::new(
                "GET",
                "/metrics",
                need(Scope::MetricsRead),
                "Prometheus metrics",
            )
            .produces("text/plain"),
        )
        .op(
            get(healthz),
            Op::new("GET", "/healthz", None, "The process is up").returns::<Health>(200),
        )
        .op(
            get(readyz),
            Op::new("GET", "/readyz", None, "The metadata store answers").returns::<Health>(200),
        );
    let r = retention::routes(r);
    notifications::routes(r)
}

pub fn router(sauve: Sauve, config: ServerConfig) -> Router {
    let state = AppState {
        sauve,
        config: Arc::new(config),
        limiter: Arc::default(),
        probes: Arc::new(limit::RateLimit::new(
            20,
            std::time::Duration::from_secs(60),
        )),
        cron_failures: Arc::new(limit::RateLimit::new(
            10,
            std::time::Duration::from_secs(60),
        )),
    };
    let routes = routes();
    let base = state.config.base_path.clone();
    let doc = Arc::new(openapi::document(
        &routes.ops,
        state.config.session_cookie(),
        &base,
    ));
    let app = routes
        .router
        .route(
            "/api/openapi.json",
            get(move || async move { Json((*doc).clone()) }),
        )
        // The pages: the dashboard checks its session itself (and sends people
        // to sign in); the sign-in page (GET /login above) and assets are public.
        .route(ui::DASHBOARD, get(ui::dashboard))
        .route("/", get(ui::root))
        .route("/assets/app.js", get(ui::app_js))
        .route("/assets/app.css", get(ui::app_css))
        .fallback(api::not_found);
    let app = if base.is_root() {
        app
    } else {
        // Everything under the prefix, as the proxy passes it through; at the
        // root only the probes (which ask the pod, not the app's domain) and a
        // way to the dashboard for a person who reaches the port directly.
        let dashboard = base.join(ui::DASHBOARD);
        let to_dashboard = get(move || async move { axum::response::Redirect::to(&dashboard) });
        Router::new()
            .nest(base.as_str(), app)
            // nest() answers the bare prefix but not `/backup/`, where
            // nginx's `location /backup/` sends a request for `/backup`.
            .route(&base.join("/"), to_dashboard.clone())
            .route("/healthz", get(healthz))
            .route("/readyz", get(readyz))
            .route("/", to_dashboard)
            .fallback(api::not_found)
    };
    app.layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(read_body_first))
        .layer(axum::middleware::from_fn(respond_in_time))
        .layer(axum::middleware::from_fn(access_log))
        .layer(axum::middleware::from_fn(error::json_errors))
        .layer(axum::middleware::from_fn(headers::security_headers))
        .with_state(state)
}

/// Job specs and small JSON bodies only: nothing legitimate is bigger.
const BODY_LIMIT: usize = 1 << 20;

/// Reads the (small) request body before routing. A request refused by
/// authentication would otherwise be answered before its body was read, and
/// hyper may then close the connection under a client still sending: the
/// client would see a broken connection instead of the 401/403.
async fn read_body_first(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await
        }
        Err(_) => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("request bodies are limited to {} KiB", BODY_LIMIT / 1024),
        )
        .into_response(),
    }
}

/// How long a handler may take to start its response. Downloads and event
/// streams start at once and then stream as long as they need.
const RESPONSE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);

async fn respond_in_time(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    match tokio::time::timeout(RESPONSE_DEADLINE, next.run(req)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(path, "request timed out");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                format!(
                    "no answer within {} s; the metadata store may be overloaded, try again",
                    RESPONSE_DEADLINE.as_secs()
                ),
            )
            .into_response()
        }
    }
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
async fn healthz() -> Json<api::Health> {
    Json(api::Health {
        status: "ok".into(),
        version: Some(env!("CARGO_PKG_VERSION").into()),
    })
}

/// The metadata store answers.
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<api::Health>) {
    let (status, text) = match state.sauve.ready().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "not ready: the metadata store does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        }
    };
    let health = api::Health {
        status: text.into(),
        version: None,
    };
    (status, Json(health))
}

/// Serves HTTP until `shutdown` turns true, then finishes in-flight requests.
pub async fn serve(
    sauve: Sauve,
    listener: tokio::net::TcpListener,
    config: ServerConfig,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    let limits = config.limits.clone();
    listen::serve(listener, router(sauve, config), limits, shutdown).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt;

    #[tokio::test]
    async fn bodies_over_the_limit_are_refused_with_413() {
        let app = Router::new()
            .route(
                "/",
                post(|body: axum::body::Bytes| async move { body.len().to_string() }),
            )
            .layer(axum::middleware::from_fn(read_body_first));
        let send = |len: usize| {
            let app = app.clone();
            async move {
                let req = Request::builder()
                    .method("POST")
                    .uri("/")
                    .body(axum::body::Body::from(vec![b'x'; len]))
                    .unwrap();
                app.oneshot(req).await.unwrap()
            }
        };
        assert_eq!(send(BODY_LIMIT).await.status(), StatusCode::OK);
        let refused = send(BODY_LIMIT + 1).await;
        assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let body = axum::body::to_bytes(refused.into_body(), 4096)
            .await
            .unwrap();
        assert!(String::from_utf8_lossy(&body).contains("too_large"));
    }
}
