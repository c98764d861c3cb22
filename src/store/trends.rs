//! What the page draws: each job's backup runs day by day (`run_days`, kept
//! by the trigger that counts finished runs, migration 0011), each job's
//! newest successful backups (sizes and durations), and what each
//! destination holds and how it changed (`storage_totals`, `storage_days`,
//! kept by triggers on backups, migration 0012). Every read is a range of a
//! key or a short index walk per job: the cost follows the jobs, the
//! destinations and the days drawn, never the history.

use super::{Engine, Store, StoreError, corrupt, q};
use sqlx::Row;

/// How many of each job's newest successful backups the sparklines draw.
pub const RECENT_BACKUPS: i64 = 30;

// In no order: the page picks each job's days out of them.
const RUN_DAYS: &str = "SELECT day, job_name, kind, state, n, bytes_out, duration_ms
     FROM run_days WHERE day >= $1 AND kind = $2";

/// Each job's newest successful backup runs: a walk of (job, kind, state,
/// id) newest first, RECENT_BACKUPS rows a job. PostgreSQL says it with
/// LATERAL; SQLite, which has none, bounds each job's range by its
/// RECENT_BACKUPS-th newest id (a correlated subquery it uses as the range's
/// lower end).
fn recent_sql(engine: Engine) -> &'static str {
    static SQLITE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    static POSTGRES: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let good = |t: &str| format!("{t}.kind = 'backup' AND {t}.state = 'succeeded'");
    match engine {
        Engine::Sqlite => SQLITE.get_or_init(|| {
            format!(
                // CROSS JOIN: SQLite keeps jobs as the outer loop, so each
                // job walks its own range instead of all backups' runs.
                "SELECT r.job_name, r.id, r.bytes_out, r.started_at, r.finished_at
                 FROM jobs j CROSS JOIN runs r
                 WHERE r.job_name = j.name AND {}
                   AND r.id >= COALESCE((SELECT o.id FROM runs o
                       WHERE o.job_name = j.name AND {}
                       ORDER BY o.id DESC LIMIT 1 OFFSET {}), '')",
                good("r"),
                good("o"),
                RECENT_BACKUPS - 1
            )
        }),
        Engine::Postgres => POSTGRES.get_or_init(|| {
            format!(
                "SELECT r.job_name, r.id, r.bytes_out, r.started_at, r.finished_at
                 FROM jobs j CROSS JOIN LATERAL (
                     SELECT o.job_name, o.id, o.bytes_out, o.started_at, o.finished_at
                     FROM runs o WHERE o.job_name = j.name AND {}
                     ORDER BY o.id DESC LIMIT {RECENT_BACKUPS}) r",
                good("o")
            )
        }),
    }
}

const STORAGE_TOTALS: &str = "SELECT destination, job_name, n, bytes FROM storage_totals
     WHERE n > 0 ORDER BY destination, job_name";
const STORAGE_DAYS: &str = "SELECT day, destination, added, removed FROM storage_days
     WHERE day >= $1 ORDER BY day, destination";

/// One job's finished runs of one kind and state on one UTC day, as the
/// `runs_count_finished` trigger counts them (migration 0011).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunDay {
    /// Days since 1970-01-01 UTC.
    pub day: i64,
    pub job: String,
    pub kind: String,
    pub state: String,
    pub runs: i64,
    pub bytes_out: i64,
    pub duration_ms: i64,
}

/// One of a job's newest successful backup runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentBackup {
    pub job: String,
    pub run_id: String,
    pub bytes_out: i64,
    pub duration_ms: i64,
    /// When it finished (Unix ms).
    pub finished_at: i64,
}

/// What one job has in storage at one destination: live and trashed
/// backups, until they are purged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageTotal {
    pub destination: String,
    pub job: String,
    pub backups: i64,
    pub bytes: i64,
}

/// What one UTC day added to and removed from one destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageDay {
    pub day: i64,
    pub destination: String,
    pub added: i64,
    pub removed: i64,
}

impl Store {
    /// Every job's finished runs of `kind` per day from `since_day` (days
    /// since the epoch, UTC) on, in no order: a range of the table's
    /// key, a few rows a job and day whatever the history.
    pub async fn run_days(&self, since_day: i64, kind: &str) -> Result<Vec<RunDay>, StoreError> {
        sqlx::query(RUN_DAYS)
            .bind(since_day)
            .bind(kind)
            .fetch_all(&self.pool)
            .await
            .map_err(q("read runs per day"))?
            .iter()
            .map(|r| {
                Ok(RunDay {
                    day: r.try_get("day").map_err(corrupt)?,
                    job: r.try_get("job_name").map_err(corrupt)?,
                    kind: r.try_get("kind").map_err(corrupt)?,
                    state: r.try_get("state").map_err(corrupt)?,
                    runs: r.try_get("n").map_err(corrupt)?,
                    bytes_out: r.try_get("bytes_out").map_err(corrupt)?,
                    duration_ms: r.try_get("duration_ms").map_err(corrupt)?,
                })
            })
            .collect()
    }

    /// Each job's [`RECENT_BACKUPS`] newest successful backup runs, oldest
    /// first within a job.
    pub async fn recent_backups(&self) -> Result<Vec<RecentBackup>, StoreError> {
        let mut out: Vec<RecentBackup> = sqlx::query(recent_sql(self.engine()))
            .fetch_all(&self.pool)
            .await
            .map_err(q("read each job's newest backups"))?
            .iter()
            .map(|r| {
                let started: Option<i64> = r.try_get("started_at").map_err(corrupt)?;
                let finished: Option<i64> = r.try_get("finished_at").map_err(corrupt)?;
                Ok(RecentBackup {
                    job: r.try_get("job_name").map_err(corrupt)?,
                    run_id: r.try_get("id").map_err(corrupt)?,
                    bytes_out: r.try_get("bytes_out").map_err(corrupt)?,
                    duration_ms: match (started, finished) {
                        (Some(s), Some(f)) => (f - s).max(0),
                        _ => 0,
                    },
                    finished_at: finished.unwrap_or(0),
                })
            })
            .collect::<Result<_, StoreError>>()?;
        // Ids are ULIDs: in time order.
        out.sort_by(|a, b| (&a.job, &a.run_id).cmp(&(&b.job, &b.run_id)));
        Ok(out)
    }

    /// What each job holds at each destination now.
    pub async fn storage_totals(&self) -> Result<Vec<StorageTotal>, StoreError> {
        sqlx::query(STORAGE_TOTALS)
            .fetch_all(&self.pool)
            .await
            .map_err(q("read what each destination holds"))?
            .iter()
            .map(|r| {
                Ok(StorageTotal {
                    destination: r.try_get("destination").map_err(corrupt)?,
                    job: r.try_get("job_name").map_err(corrupt)?,
                    backups: r.try_get("n").map_err(corrupt)?,
                    bytes: r.try_get("bytes").map_err(corrupt)?,
                })
            })
            .collect()
    }

    /// What each day from `since_day` on added to and removed from each
    /// destination.
    pub async fn storage_days(&self, since_day: i64) -> Result<Vec<StorageDay>, StoreError> {
        sqlx::query(STORAGE_DAYS)
            .bind(since_day)
            .fetch_all(&self.pool)
            .await
            .map_err(q("read storage per day"))?
            .iter()
            .map(|r| {
                Ok(StorageDay {
                    day: r.try_get("day").map_err(corrupt)?,
                    destination: r.try_get("destination").map_err(corrupt)?,
                    added: r.try_get("added").map_err(corrupt)?,
                    removed: r.try_get("removed").map_err(corrupt)?,
                })
            })
            .collect()
    }

    /// How the engine runs each of these reads, as [`Store::explain`] says:
    /// (what, plan).
    pub async fn trends_plans(&self) -> Result<Vec<(&'static str, String)>, StoreError> {
        Ok(vec![
            (
                "run_days",
                self.explain(RUN_DAYS.replace("$1", "0").replace("$2", "'backup'"), &[])
                    .await?,
            ),
            (
                "recent_backups",
                self.explain(recent_sql(self.engine()).to_string(), &[])
                    .await?,
            ),
            (
                "storage_totals",
                self.explain(STORAGE_TOTALS.to_string(), &[]).await?,
            ),
            (
                "storage_days",
                self.explain(STORAGE_DAYS.replace("$1", "0"), &[]).await?,
            ),
        ])
    }
}
