//! What `/metrics` reads from the store: the counters and histograms the
//! `runs_count_finished` trigger keeps as each run finishes (migration 0011),
//! and the queue's depth, read through the `runs_state` index. Nothing here
//! aggregates the history.

use super::{Store, StoreError, q};
use sqlx::Row;

/// What `/metrics` shows: counters the store keeps as runs finish (the
/// `runs_count_finished` trigger, migration 0011), never an aggregate over
/// the history, so a scrape costs the same after a year as on day one.
#[derive(Debug, Default)]
pub struct MetricsSnapshot {
    /// (job, kind, state, count) of finished runs since the job's first.
    pub runs: Vec<(String, String, String, i64)>,
    /// (job, last success, Unix ms) of backups.
    pub last_success: Vec<(String, i64)>,
    /// The histograms of successful backups, by metric name.
    pub histograms: Vec<Histogram>,
    pub queued: i64,
    pub running: i64,
    pub jobs: i64,
    /// (job, stale now): the watchdog's last verdict per job.
    pub stale: Vec<(String, bool)>,
}

/// A Prometheus histogram as the store keeps it: cumulative counts per upper
/// bound (ascending; the last, `None`, is +Inf and so the count) and the sum.
#[derive(Debug, Default)]
pub struct Histogram {
    pub metric: String,
    pub buckets: Vec<(Option<f64>, i64)>,
    pub sum: f64,
}

impl Store {
    pub async fn metrics(&self) -> Result<MetricsSnapshot, StoreError> {
        let mut m = MetricsSnapshot::default();
        for row in sqlx::query(
            "SELECT job_name, kind, state, n, last_finished_at FROM run_totals
             ORDER BY job_name, kind, state",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(q("read run totals"))?
        {
            let job: String = row.try_get("job_name").map_err(super::corrupt)?;
            let kind: String = row.try_get("kind").map_err(super::corrupt)?;
            let state: String = row.try_get("state").map_err(super::corrupt)?;
            if kind == "backup" && state == "succeeded" {
                let at: Option<i64> = row.try_get("last_finished_at").map_err(super::corrupt)?;
                if let Some(at) = at {
                    m.last_success.push((job.clone(), at));
                }
            }
            m.runs
                .push((job, kind, state, row.try_get("n").map_err(super::corrupt)?));
        }
        for row in sqlx::query("SELECT metric, le, n FROM histogram_buckets")
            .fetch_all(&self.pool)
            .await
            .map_err(q("read histograms"))?
        {
            let metric: String = row.try_get("metric").map_err(super::corrupt)?;
            let bucket = (
                row.try_get::<Option<f64>, _>("le")
                    .map_err(super::corrupt)?,
                row.try_get::<i64, _>("n").map_err(super::corrupt)?,
            );
            match m.histograms.iter_mut().find(|h| h.metric == metric) {
                Some(h) => h.buckets.push(bucket),
                None => m.histograms.push(Histogram {
                    metric,
                    buckets: vec![bucket],
                    sum: 0.0,
                }),
            }
        }
        for row in sqlx::query("SELECT metric, total FROM histogram_sums")
            .fetch_all(&self.pool)
            .await
            .map_err(q("read histograms"))?
        {
            let metric: String = row.try_get("metric").map_err(super::corrupt)?;
            if let Some(h) = m.histograms.iter_mut().find(|h| h.metric == metric) {
                h.sum = row.try_get("total").map_err(super::corrupt)?;
            }
        }
        for h in &mut m.histograms {
            // Ascending bounds, +Inf (None) last.
            h.buckets.sort_by(|a, b| {
                let bound = |x: Option<f64>| x.unwrap_or(f64::INFINITY);
                bound(a.0).total_cmp(&bound(b.0))
            });
        }
        m.histograms.sort_by(|a, b| a.metric.cmp(&b.metric));
        // Both read through runs_state: the queue, not the history.
        let counts = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM runs WHERE state = 'queued') AS queued,
                    (SELECT COUNT(*) FROM runs WHERE state = 'running') AS running,
                    (SELECT COUNT(*) FROM jobs) AS jobs",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(q("queue depth"))?;
        m.queued = counts.try_get("queued").map_err(super::corrupt)?;
        m.running = counts.try_get("running").map_err(super::corrupt)?;
        m.jobs = counts.try_get("jobs").map_err(super::corrupt)?;
        Ok(m)
    }
}
