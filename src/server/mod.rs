//! The HTTP server started by `sauve serve`. Today it answers health checks; the
//! JSON API, the dashboard and the cron trigger mount here, each calling the
//! service layer ([`crate::service::Sauve`]) rather than the store directly.

use crate::service::Sauve;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

pub fn router(sauve: Sauve) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(sauve)
}

/// The process is up and serving.
async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

/// The metadata store answers.
async fn readyz(State(sauve): State<Sauve>) -> (StatusCode, Json<serde_json::Value>) {
    match sauve.store.ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable", "store": e.to_string() })),
        ),
    }
}

/// Serves until SIGINT or SIGTERM, then finishes in-flight requests.
pub async fn serve(sauve: Sauve, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    axum::serve(listener, router(sauve))
        .with_graceful_shutdown(shutdown_signal())
        .await
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
