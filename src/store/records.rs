//! Row ↔ record mapping for the store, and the small filter/insert types its
//! queries take. Kept apart so `mod.rs` reads as the list of operations.

use super::{StoreError, corrupt, ts};
use crate::domain::{Backup, JobSpec, Run};
use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;

/// A job as stored: its spec plus the store's bookkeeping.
#[derive(Debug, Clone)]
pub struct StoredJob {
    pub id: String,
    pub name: String,
    pub spec: JobSpec,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl StoredJob {
    pub(super) fn from_row(row: &AnyRow) -> Result<StoredJob, StoreError> {
        let spec: String = row.try_get("spec").map_err(corrupt)?;
        Ok(StoredJob {
            id: row.try_get("id").map_err(corrupt)?,
            name: row.try_get("name").map_err(corrupt)?,
            spec: serde_json::from_str(&spec)
                .map_err(|e| StoreError::Corrupt(format!("job spec: {e}")))?,
            created_at: ts(row.try_get("created_at").map_err(corrupt)?),
            updated_at: ts(row.try_get("updated_at").map_err(corrupt)?),
        })
    }
}

#[derive(Debug, Clone)]
pub struct RunFilter {
    pub job: Option<String>,
    pub state: Option<crate::domain::RunState>,
    pub kind: Option<crate::domain::RunKind>,
    /// Only runs older than this id (the cursor of the previous page).
    pub before_id: Option<String>,
    pub limit: i64,
}

impl Default for RunFilter {
    fn default() -> Self {
        Self {
            job: None,
            state: None,
            kind: None,
            before_id: None,
            limit: 100,
        }
    }
}

#[derive(Debug, Clone)]
pub struct BackupFilter {
    pub job: Option<String>,
    pub destination: Option<String>,
    /// Only backups older than this id (the cursor of the previous page).
    pub before_id: Option<String>,
    pub limit: i64,
}

impl Default for BackupFilter {
    fn default() -> Self {
        Self {
            job: None,
            destination: None,
            before_id: None,
            limit: 1000,
        }
    }
}

/// A backup to record, with the manifest JSON exactly as written to storage.
#[derive(Debug, Clone)]
pub struct NewBackup {
    pub backup: Backup,
    pub manifest_json: String,
}

pub(super) const RUN_COLUMNS: &str = "id, job_name, kind, trigger, state, queued_at, started_at, finished_at, \
     bytes_in, bytes_out, error, log, scheduled_for, attempt, max_attempts, lease_owner";

pub(super) fn run_from_row(row: &AnyRow) -> Result<Run, StoreError> {
    let kind: String = row.try_get("kind").map_err(corrupt)?;
    let trigger: String = row.try_get("trigger").map_err(corrupt)?;
    let state: String = row.try_get("state").map_err(corrupt)?;
    let opt_ts = |col: &str| -> Result<Option<Timestamp>, StoreError> {
        Ok(row.try_get::<Option<i64>, _>(col).map_err(corrupt)?.map(ts))
    };
    Ok(Run {
        id: row.try_get("id").map_err(corrupt)?,
        job: row.try_get("job_name").map_err(corrupt)?,
        kind: kind.parse().map_err(StoreError::Corrupt)?,
        trigger: trigger.parse().map_err(StoreError::Corrupt)?,
        state: state.parse().map_err(StoreError::Corrupt)?,
        queued_at: ts(row.try_get("queued_at").map_err(corrupt)?),
        started_at: opt_ts("started_at")?,
        finished_at: opt_ts("finished_at")?,
        bytes_in: row.try_get("bytes_in").map_err(corrupt)?,
        bytes_out: row.try_get("bytes_out").map_err(corrupt)?,
        error: row.try_get("error").map_err(corrupt)?,
        log: row.try_get("log").map_err(corrupt)?,
        scheduled_for: opt_ts("scheduled_for")?,
        attempt: row.try_get("attempt").map_err(corrupt)?,
        max_attempts: row.try_get("max_attempts").map_err(corrupt)?,
        owner: row.try_get("lease_owner").map_err(corrupt)?,
    })
}

pub(super) const BACKUP_COLUMNS: &str = "id, run_id, job_name, created_at, size, raw_size, sha256, \
     destination, object_key, source_kind, compression, encrypted, verified_at, damaged_at, verify_error, \
     test_restored_at, test_restore";

pub(super) fn backup_from_row(row: &AnyRow) -> Result<Backup, StoreError> {
    Ok(Backup {
        id: row.try_get("id").map_err(corrupt)?,
        run_id: row.try_get("run_id").map_err(corrupt)?,
        job: row.try_get("job_name").map_err(corrupt)?,
        created_at: ts(row.try_get("created_at").map_err(corrupt)?),
        size: row.try_get("size").map_err(corrupt)?,
        raw_size: row.try_get("raw_size").map_err(corrupt)?,
        sha256: row.try_get("sha256").map_err(corrupt)?,
        destination: row.try_get("destination").map_err(corrupt)?,
        key: row.try_get("object_key").map_err(corrupt)?,
        source_kind: row.try_get("source_kind").map_err(corrupt)?,
        compression: row.try_get("compression").map_err(corrupt)?,
        encrypted: row.try_get::<i64, _>("encrypted").map_err(corrupt)? != 0,
        verified_at: row
            .try_get::<Option<i64>, _>("verified_at")
            .map_err(corrupt)?
            .map(ts),
        damaged_at: row
            .try_get::<Option<i64>, _>("damaged_at")
            .map_err(corrupt)?
            .map(ts),
        verify_error: row.try_get("verify_error").map_err(corrupt)?,
        test_restored_at: row
            .try_get::<Option<i64>, _>("test_restored_at")
            .map_err(corrupt)?
            .map(ts),
        // A report this version cannot read is left out, not an error: the
        // backup itself is as good as before.
        test_restore: row
            .try_get::<Option<String>, _>("test_restore")
            .map_err(corrupt)?
            .and_then(|j| serde_json::from_str(&j).ok()),
    })
}
