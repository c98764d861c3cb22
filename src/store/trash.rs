//! The trash: backups a retention policy removed, kept restorable for the
//! grace period, then purged. A backup moves live → trash → purged (or back
//! to live by `undelete`); every move is a compare-and-set on its current
//! state, so two instances pruning the same job cannot both move one backup.

use super::{LIVE, Store, StoreError, corrupt, q, records, ts};
use crate::domain::{Backup, RunKind};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::{AssertSqlSafe, Row};

const IN_TRASH: &str = "trashed_at IS NOT NULL AND deleted_at IS NULL";

/// A backup in the trash.
#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct Trashed {
    #[serde(flatten)]
    pub backup: Backup,
    #[schemars(with = "String")]
    pub trashed_at: Timestamp,
    /// From this instant the next prune of the job purges it.
    #[schemars(with = "String")]
    pub purge_after: Timestamp,
    /// Why the policy removed it, e.g. `retention: not kept by keep_last 3`.
    pub reason: String,
    /// Why the last purge attempt failed (it is retried by the next prune).
    pub purge_error: Option<String>,
}

fn trashed_from_row(row: &sqlx::any::AnyRow) -> Result<Trashed, StoreError> {
    Ok(Trashed {
        backup: records::backup_from_row(row)?,
        trashed_at: ts(row.try_get("trashed_at").map_err(corrupt)?),
        purge_after: ts(row.try_get("purge_after").map_err(corrupt)?),
        reason: row
            .try_get::<Option<String>, _>("trash_reason")
            .map_err(corrupt)?
            .unwrap_or_default(),
        purge_error: row.try_get("purge_error").map_err(corrupt)?,
    })
}

impl Store {
    /// Moves a live backup to the trash; false when it was not live any more.
    pub async fn trash_backup(
        &self,
        id: &str,
        now_ms: i64,
        purge_after_ms: i64,
        reason: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(AssertSqlSafe(format!(
            "UPDATE backups SET trashed_at = $1, purge_after = $2, trash_reason = $3, purge_error = NULL
             WHERE id = $4 AND {LIVE}"
        )))
        .bind(now_ms)
        .bind(purge_after_ms)
        .bind(reason)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(q("move a backup to the trash"))?;
        Ok(done.rows_affected() == 1)
    }

    /// Backups in the trash, newest first; of one job when given.
    pub async fn trashed(&self, job: Option<&str>, limit: i64) -> Result<Vec<Trashed>, StoreError> {
        let (sql, args) = Self::trashed_sql(job, limit);
        self.fetch_all(sql, &args, "list the trash")
            .await?
            .iter()
            .map(trashed_from_row)
            .collect()
    }

    /// How the engine runs `trashed(job, …)`, as [`Store::explain`] says.
    pub async fn trashed_plan(&self, job: Option<&str>) -> Result<String, StoreError> {
        let (sql, args) = Self::trashed_sql(job, 100);
        self.explain(sql, &args).await
    }

    fn trashed_sql(job: Option<&str>, limit: i64) -> (String, Vec<String>) {
        let job_sql = if job.is_some() {
            "AND job_name = $1"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {}, trashed_at, purge_after, trash_reason, purge_error FROM backups
             WHERE {IN_TRASH} {job_sql} ORDER BY id DESC LIMIT {}",
            records::BACKUP_COLUMNS,
            limit.clamp(1, 100_000)
        );
        (sql, job.map(String::from).into_iter().collect())
    }

    /// Whether a job has anything in the trash (a prune has work to do).
    pub async fn has_trash(&self, job: &str) -> Result<bool, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n FROM backups WHERE job_name = $1 AND {IN_TRASH}"
        )))
        .bind(job)
        .fetch_one(&self.pool)
        .await
        .map_err(q("look at the trash"))?;
        Ok(row.try_get::<i64, _>("n").map_err(corrupt)? > 0)
    }

    /// Takes a backup out of the trash (by id or unique prefix): live again.
    /// Refused once its purge has begun (its manifest may be gone already).
    pub async fn undelete(&self, id: &str) -> Result<Backup, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {}, purge_started_at FROM backups WHERE id LIKE $1 AND {IN_TRASH} ORDER BY id LIMIT 2",
            records::BACKUP_COLUMNS
        )))
        .bind(super::prefix_pattern(id))
        .fetch_all(&self.pool)
        .await
        .map_err(q("read the trash"))?;
        let row = super::one_of(rows, "backup in the trash", id)?;
        let backup = records::backup_from_row(&row)?;
        let done = sqlx::query(AssertSqlSafe(format!(
            "UPDATE backups SET trashed_at = NULL, purge_after = NULL, trash_reason = NULL,
                    purge_error = NULL
             WHERE id = $1 AND {IN_TRASH} AND purge_started_at IS NULL"
        )))
        .bind(&backup.id)
        .execute(&self.pool)
        .await
        .map_err(q("take a backup out of the trash"))?;
        if done.rows_affected() == 0 {
            // Its purge began (before, or between the two statements): the
            // compare-and-set against `claim_purge` decides, once.
            return Err(StoreError::PurgeStarted(backup.id));
        }
        Ok(backup)
    }

    /// Claims a trashed backup for its purge: from now on it cannot be
    /// undeleted. False when it is not in the trash any more (undeleted,
    /// purged) or its grace period is not over. A purge that stopped half-way
    /// is claimed again by the next prune.
    pub async fn claim_purge(&self, id: &str, now_ms: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(AssertSqlSafe(format!(
            "UPDATE backups SET purge_started_at = COALESCE(purge_started_at, $1)
             WHERE id = $2 AND {IN_TRASH} AND purge_after <= $1"
        )))
        .bind(now_ms)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(q("claim a purge"))?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a claimed purge as done (its objects are gone); false when it
    /// was already recorded (another instance finished it).
    pub async fn mark_purged(&self, id: &str, now_ms: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(AssertSqlSafe(format!(
            "UPDATE backups SET deleted_at = $1 WHERE id = $2 AND {IN_TRASH} AND purge_started_at IS NOT NULL"
        )))
        .bind(now_ms)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(q("record a purge"))?;
        Ok(done.rows_affected() == 1)
    }

    /// A job's trashed backups whose grace period is over, oldest first, with
    /// their manifest JSON.
    pub async fn due_purges(
        &self,
        job: &str,
        now_ms: i64,
    ) -> Result<Vec<(Trashed, String)>, StoreError> {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {}, trashed_at, purge_after, trash_reason, purge_error, manifest FROM backups
             WHERE job_name = $1 AND {IN_TRASH} AND purge_after <= $2 ORDER BY id",
            records::BACKUP_COLUMNS
        )))
        .bind(job)
        .bind(now_ms)
        .fetch_all(&self.pool)
        .await
        .map_err(q("list backups to purge"))?
        .iter()
        .map(|row| {
            Ok((
                trashed_from_row(row)?,
                row.try_get("manifest").map_err(corrupt)?,
            ))
        })
        .collect()
    }

    /// Records why a purge did not finish; the row stays in the trash.
    pub async fn set_purge_error(&self, id: &str, error: &str) -> Result<(), StoreError> {
        sqlx::query(AssertSqlSafe(format!(
            "UPDATE backups SET purge_error = $1 WHERE id = $2 AND {IN_TRASH}"
        )))
        .bind(error)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(q("record a purge error"))?;
        Ok(())
    }

    /// Whether any row, in any state and at any destination, has this id.
    pub async fn backup_id_known(&self, id: &str) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM backups WHERE id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .map_err(q("look a backup id up"))?;
        Ok(row.try_get::<i64, _>("n").map_err(corrupt)? > 0)
    }

    /// Whether a queued or running restore, verify or test restore reads this backup: the
    /// purge leaves it for the next prune.
    pub async fn backup_in_use(&self, id: &str) -> Result<bool, StoreError> {
        // Ids are ULIDs ([0-9a-z]): nothing in one can widen the pattern.
        let clean: String = id.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n FROM runs WHERE state IN ('queued', 'running')
             AND kind IN ('{}', '{}', '{}') AND params LIKE $1",
            RunKind::Restore,
            RunKind::Verify,
            RunKind::TestRestore
        )))
        .bind(format!("%\"id\":\"{clean}\"%"))
        .fetch_one(&self.pool)
        .await
        .map_err(q("look for runs reading a backup"))?;
        Ok(row.try_get::<i64, _>("n").map_err(corrupt)? > 0)
    }
}

/// Where a backup row stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RowState {
    Live,
    Trashed,
    Purged,
}

impl Store {
    /// Every row the store has for a destination (of one job when given),
    /// whatever its state, with the manifest JSON it recorded.
    pub async fn rows_at(
        &self,
        destination: &str,
        job: Option<&str>,
    ) -> Result<Vec<(Backup, RowState, String)>, StoreError> {
        let job_sql = if job.is_some() {
            "AND job_name = $2"
        } else {
            ""
        };
        let mut query = sqlx::query(AssertSqlSafe(format!(
            "SELECT {}, trashed_at, deleted_at, manifest FROM backups
             WHERE destination = $1 {job_sql} ORDER BY id",
            records::BACKUP_COLUMNS
        )))
        .bind(destination);
        if let Some(job) = job {
            query = query.bind(job);
        }
        query
            .fetch_all(&self.pool)
            .await
            .map_err(q("list the backups of a destination"))?
            .iter()
            .map(|row| {
                let trashed: Option<i64> = row.try_get("trashed_at").map_err(corrupt)?;
                let deleted: Option<i64> = row.try_get("deleted_at").map_err(corrupt)?;
                let state = match (trashed, deleted) {
                    (_, Some(_)) => RowState::Purged,
                    (Some(_), None) => RowState::Trashed,
                    (None, None) => RowState::Live,
                };
                Ok((
                    records::backup_from_row(row)?,
                    state,
                    row.try_get("manifest").map_err(corrupt)?,
                ))
            })
            .collect()
    }
}
