//! `GET /metrics` in the Prometheus text format, computed from the runs table at
//! scrape time (so every instance on a shared store reports the same totals),
//! plus this process's counts of expired leases and notification attempts, and
//! the watchdog's verdict per job.

use super::AppState;
use super::auth::Caller;
use super::error::ApiResult;
use crate::auth::Scope;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use std::fmt::Write;

const DURATION_BUCKETS: [f64; 10] = [
    1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 21600.0,
];
const BYTES_BUCKETS: [f64; 8] = [1e6, 1e7, 1e8, 1e9, 1e10, 5e10, 1e11, 1e12];

fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn histogram(out: &mut String, name: &str, help: &str, buckets: &[f64], values: &[f64]) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
    for b in buckets {
        let n = values.iter().filter(|v| **v <= *b).count();
        let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {n}");
    }
    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", values.len());
    let _ = writeln!(out, "{name}_sum {}", values.iter().sum::<f64>());
    let _ = writeln!(out, "{name}_count {}", values.len());
}

pub async fn metrics(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<impl IntoResponse> {
    caller.require(Scope::MetricsRead)?;
    let m = state.sauve.metrics().await?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP sauve_up Sauve is serving.\n# TYPE sauve_up gauge\nsauve_up 1"
    );
    let _ = writeln!(
        out,
        "# HELP sauve_jobs Jobs defined.\n# TYPE sauve_jobs gauge\nsauve_jobs {}",
        m.jobs
    );
    let _ = writeln!(
        out,
        "# HELP sauve_last_success_timestamp_seconds When each job last backed up successfully.\n# TYPE sauve_last_success_timestamp_seconds gauge"
    );
    for (job, at) in &m.last_success {
        let _ = writeln!(
            out,
            "sauve_last_success_timestamp_seconds{{job=\"{}\"}} {}",
            label(job),
            *at as f64 / 1000.0
        );
    }
    let _ = writeln!(
        out,
        "# HELP sauve_runs Runs by job and state.\n# TYPE sauve_runs gauge"
    );
    for (job, run_state, n) in &m.runs {
        let _ = writeln!(
            out,
            "sauve_runs{{job=\"{}\",state=\"{}\"}} {n}",
            label(job),
            label(run_state)
        );
    }
    let durations: Vec<f64> = m.finished.iter().map(|(d, _)| *d as f64 / 1000.0).collect();
    let bytes: Vec<f64> = m.finished.iter().map(|(_, b)| *b as f64).collect();
    histogram(
        &mut out,
        "sauve_backup_duration_seconds",
        "Duration of successful backups.",
        &DURATION_BUCKETS,
        &durations,
    );
    histogram(
        &mut out,
        "sauve_backup_bytes",
        "Bytes stored per successful backup.",
        &BYTES_BUCKETS,
        &bytes,
    );
    let _ = writeln!(
        out,
        "# HELP sauve_queue_depth Runs waiting.\n# TYPE sauve_queue_depth gauge\nsauve_queue_depth {}",
        m.queued
    );
    let _ = writeln!(
        out,
        "# HELP sauve_runs_running Runs in progress.\n# TYPE sauve_runs_running gauge\nsauve_runs_running {}",
        m.running
    );
    let _ = writeln!(
        out,
        "# HELP sauve_lease_expiries_total Leases this instance found expired.\n# TYPE sauve_lease_expiries_total counter\nsauve_lease_expiries_total {}",
        crate::runner::LEASE_EXPIRIES.load(std::sync::atomic::Ordering::Relaxed)
    );
    let _ = writeln!(
        out,
        "# HELP sauve_job_stale 1 when the job stored no backup within its max_age (the watchdog's last check).\n# TYPE sauve_job_stale gauge"
    );
    for (job, stale) in &m.stale {
        let _ = writeln!(
            out,
            "sauve_job_stale{{job=\"{}\"}} {}",
            label(job),
            *stale as u8
        );
    }
    let _ = writeln!(
        out,
        "# HELP sauve_notifications_total Notification attempts this instance made, by channel kind and outcome (sent, retry, failed).\n# TYPE sauve_notifications_total counter"
    );
    for (kind, outcome, n) in crate::notify::delivery_counts() {
        let _ = writeln!(
            out,
            "sauve_notifications_total{{channel=\"{}\",outcome=\"{outcome}\"}} {n}",
            label(&kind)
        );
    }
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out))
}
