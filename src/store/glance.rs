//! Every job at a glance, for the page: its newest backup run, the one queued
//! or running, its last good backup, its newest proven backups and its last
//! checks, read for all jobs in three statements instead of a handful per
//! job. Each field is a correlated subquery that walks one index newest
//! first and stops at the first match, so the cost follows the number of
//! jobs, not the history.

use super::{LIVE, Store, StoreError, corrupt, q, records};
use crate::domain::{Backup, Run};
use sqlx::Row;
use std::collections::HashMap;

/// One job's line of the glance.
#[derive(Debug, Clone, Default)]
pub struct JobGlance {
    pub job: String,
    /// When its schedule next fires (Unix ms), as the scheduler keeps it.
    pub next_fire_at: Option<i64>,
    /// Its newest backup run, whatever its state.
    pub last_run: Option<Run>,
    /// Its newest backup run still queued or running.
    pub active_run: Option<String>,
    /// When its newest succeeded backup run finished (Unix ms).
    pub last_good_at: Option<i64>,
    /// Its newest live backup verified and not found damaged.
    pub verified: Option<Backup>,
    /// Its newest live backup verified, not damaged, and test-restored (the
    /// report may say the test restore failed).
    pub tested: Option<Backup>,
    /// Its newest finished verify and test-restore runs.
    pub checks: Vec<Run>,
}

/// The glance's one statement, made once: a row per job, a column per field.
fn glance_sql() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        format!(
            "SELECT j.name, j.next_fire_at, {} FROM jobs j ORDER BY j.name",
            columns()
        )
    })
}

/// Each column: a subquery on `j`, the job.
fn columns() -> String {
    let newest_run = |cond: &str, col: &str| {
        format!(
            "(SELECT r.{col} FROM runs r WHERE r.job_name = j.name AND {cond} ORDER BY r.id DESC LIMIT 1)"
        )
    };
    let newest_backup = |cond: &str| {
        format!(
            "(SELECT b.id FROM backups b WHERE b.job_name = j.name AND {LIVE}
                AND b.verified_at IS NOT NULL AND b.damaged_at IS NULL {cond}
              ORDER BY b.id DESC LIMIT 1)"
        )
    };
    [
        (newest_run("r.kind = 'backup'", "id"), "last_run"),
        // One subquery per state, each a range of (job, kind, state, id): an
        // IN list would walk the job's whole history when nothing is queued.
        (
            newest_run("r.kind = 'backup' AND r.state = 'queued'", "id"),
            "queued_run",
        ),
        (
            newest_run("r.kind = 'backup' AND r.state = 'running'", "id"),
            "running_run",
        ),
        (
            newest_run("r.kind = 'backup' AND r.state = 'succeeded'", "finished_at"),
            "last_good_at",
        ),
        (newest_backup(""), "verified"),
        (
            newest_backup("AND b.test_restored_at IS NOT NULL"),
            "tested",
        ),
        (
            newest_run("r.kind = 'verify' AND r.finished_at IS NOT NULL", "id"),
            "last_verify",
        ),
        (
            newest_run(
                "r.kind = 'test_restore' AND r.finished_at IS NOT NULL",
                "id",
            ),
            "last_test_restore",
        ),
    ]
    .iter()
    .map(|(sql, name)| format!("{sql} AS {name}"))
    .collect::<Vec<_>>()
    .join(",\n")
}

impl Store {
    /// Every job at a glance, by name.
    pub async fn glance(&self) -> Result<Vec<JobGlance>, StoreError> {
        let rows = sqlx::query(glance_sql())
            .fetch_all(&self.pool)
            .await
            .map_err(q("read the jobs at a glance"))?;
        let id = |row: &sqlx::any::AnyRow, col: &str| -> Result<Option<String>, StoreError> {
            row.try_get::<Option<String>, _>(col).map_err(corrupt)
        };
        let (mut run_ids, mut backup_ids) = (Vec::new(), Vec::new());
        for row in &rows {
            for col in ["last_run", "last_verify", "last_test_restore"] {
                run_ids.extend(id(row, col)?);
            }
            for col in ["verified", "tested"] {
                backup_ids.extend(id(row, col)?);
            }
        }
        let runs: HashMap<String, Run> = self
            .by_ids("runs", records::RUN_COLUMNS, &run_ids)
            .await?
            .iter()
            .map(|r| records::run_from_row(r).map(|run| (run.id.clone(), run)))
            .collect::<Result<_, _>>()?;
        let backups: HashMap<String, Backup> = self
            .by_ids("backups", records::BACKUP_COLUMNS, &backup_ids)
            .await?
            .iter()
            .map(|r| records::backup_from_row(r).map(|b| (b.id.clone(), b)))
            .collect::<Result<_, _>>()?;
        let run = |row: &sqlx::any::AnyRow, col: &str| -> Result<Option<Run>, StoreError> {
            Ok(id(row, col)?.and_then(|i| runs.get(&i).cloned()))
        };
        let backup = |row: &sqlx::any::AnyRow, col: &str| -> Result<Option<Backup>, StoreError> {
            Ok(id(row, col)?.and_then(|i| backups.get(&i).cloned()))
        };
        rows.iter()
            .map(|row| {
                Ok(JobGlance {
                    job: row.try_get("name").map_err(corrupt)?,
                    next_fire_at: row.try_get("next_fire_at").map_err(corrupt)?,
                    last_run: run(row, "last_run")?,
                    active_run: id(row, "queued_run")?.max(id(row, "running_run")?),
                    last_good_at: row.try_get("last_good_at").map_err(corrupt)?,
                    verified: backup(row, "verified")?,
                    tested: backup(row, "tested")?,
                    checks: [run(row, "last_verify")?, run(row, "last_test_restore")?]
                        .into_iter()
                        .flatten()
                        .collect(),
                })
            })
            .collect()
    }

    /// How the engine runs the glance, as [`Store::explain`] says.
    pub async fn glance_plan(&self) -> Result<String, StoreError> {
        self.explain(glance_sql().to_string(), &[]).await
    }

    /// Rows of `table` with these ids, in no order.
    async fn by_ids(
        &self,
        table: &str,
        columns: &str,
        ids: &[String],
    ) -> Result<Vec<sqlx::any::AnyRow>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        self.fetch_all(
            format!(
                "SELECT {columns} FROM {table} WHERE id IN ({})",
                marks.join(", ")
            ),
            ids,
            "read rows by id",
        )
        .await
    }
}
