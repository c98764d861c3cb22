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

/// Serves HTTP and runs the scheduler and workers until SIGINT or SIGTERM;
/// then finishes in-flight requests and drains the workers (see `serve_queue`).
pub async fn serve(
    sauve: Sauve,
    listener: tokio::net::TcpListener,
    queue: crate::worker::ServeQueue,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let workers = tokio::spawn(crate::worker::serve_queue(
        sauve.clone(),
        queue,
        stop_rx.clone(),
    ));
    let mut http_stop = stop_rx;
    let http = axum::serve(listener, router(sauve)).with_graceful_shutdown(async move {
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
