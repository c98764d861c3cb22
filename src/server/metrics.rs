//! `GET /metrics` in the Prometheus text format: the counters and histograms
//! the store keeps as runs finish (so every instance on a shared store reports
//! the same totals, and a scrape reads a few small tables, not the history),
//! this process's counts of expired leases and notification attempts, and the
//! watchdog's verdict per job.

use super::AppState;
use super::auth::Caller;
use super::error::ApiResult;
use crate::auth::Scope;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use std::fmt::Write;

fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// What each histogram the store keeps measures.
fn help_of(metric: &str) -> &'static str {
    match metric {
        "sauve_backup_duration_seconds" => "Duration of successful backups.",
        "sauve_backup_bytes" => "Bytes stored per successful backup.",
        _ => "A histogram of successful backups.",
    }
}

fn histogram(out: &mut String, h: &crate::store::Histogram) {
    let name = &h.metric;
    let help = help_of(name);
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
    let mut count = 0;
    for (le, n) in &h.buckets {
        match le {
            Some(b) => {
                let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {n}");
            }
            None => {
                let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {n}");
                count = *n;
            }
        }
    }
    let _ = writeln!(out, "{name}_sum {}", h.sum);
    let _ = writeln!(out, "{name}_count {count}");
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
        "# HELP sauve_runs_total Finished runs by job, kind and state.\n# TYPE sauve_runs_total counter"
    );
    // Every job's backup outcomes exist from its first scrape, at 0 until
    // one happens: `increase()` over a series that appears already at 1
    // says 0, and an alert on the first failure would never fire.
    let mut runs = m.runs.clone();
    for (job, _) in &m.stale {
        for state in ["succeeded", "failed"] {
            if !runs
                .iter()
                .any(|(j, k, s, _)| j == job && k == "backup" && s == state)
            {
                runs.push((job.clone(), "backup".into(), state.into(), 0));
            }
        }
    }
    runs.sort();
    for (job, kind, run_state, n) in &runs {
        let _ = writeln!(
            out,
            "sauve_runs_total{{job=\"{}\",kind=\"{}\",state=\"{}\"}} {n}",
            label(job),
            label(kind),
            label(run_state)
        );
    }
    for h in &m.histograms {
        histogram(&mut out, h);
    }
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
