//! What the page draws: each job's backup runs day by day (`run_days`, kept
//! by the trigger that counts finished runs, migration 0011), each job's
//! newest successful backups (sizes and durations), and what each
//! destination holds and how it changed (`storage_totals`, `storage_days`,
//! kept by triggers on backups, migration 0012). Every read is a range of a
//! key or a short index walk per job: the cost follows the jobs, the
//! destinations and the days drawn, never the history.

use super::{Engine, Store, StoreError, corrupt, q};

/// A packed number, or the store is not what it should be.
fn number(s: &str) -> Result<i64, StoreError> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("not a number in a packed row: {s:?}")))
}
use sqlx::Row;

/// `group_concat` or `string_agg`: a job's rows packed into one string.
/// Every row a statement returns costs more than the few bytes it holds
/// (the SQLite driver hands each one across threads), so the page's
/// pictures read one row per job, not one per job, day and state.
fn packed(engine: Engine, expr: &str) -> String {
    match engine {
        Engine::Sqlite => format!("group_concat({expr}, ',')"),
        Engine::Postgres => format!("string_agg({expr}, ',')"),
    }
}

/// Each job's runs of a kind per day from a day on, packed as
/// `day:state:n:bytes:ms,…`: a range of `run_days_job` per job.
fn days_sql(engine: Engine) -> &'static str {
    static SQL: [std::sync::OnceLock<String>; 2] =
        [std::sync::OnceLock::new(), std::sync::OnceLock::new()];
    SQL[engine as usize].get_or_init(|| {
        format!(
            "SELECT j.name, (SELECT {} FROM run_days d
                 WHERE d.job_name = j.name AND d.kind = $2 AND d.day >= $1) AS days
             FROM jobs j",
            packed(
                engine,
                "d.day || ':' || d.state || ':' || d.n || ':' || d.bytes_out || ':' || d.duration_ms"
            )
        )
    })
}

/// Each job's newest successful backup runs, packed as `id:bytes:ms,…`:
/// its rows of `recent_backups` (at most 30, kept by a trigger
/// as runs finish, migration 0012), a range of that table's key.
fn recent_sql(engine: Engine) -> &'static str {
    static SQL: [std::sync::OnceLock<String>; 2] =
        [std::sync::OnceLock::new(), std::sync::OnceLock::new()];
    SQL[engine as usize].get_or_init(|| {
        format!(
            "SELECT j.name, (SELECT {} FROM recent_backups x WHERE x.job_name = j.name) AS recent
             FROM jobs j",
            packed(engine, "x.id || ':' || x.bytes_out || ':' || x.duration_ms")
        )
    })
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
    /// since the epoch, UTC) on, by job: a few entries a job and day
    /// whatever the history.
    pub async fn run_days(&self, since_day: i64, kind: &str) -> Result<Vec<RunDay>, StoreError> {
        let mut out = Vec::new();
        for (job, packed) in self
            .packed(
                days_sql(self.engine()),
                Some((since_day, kind)),
                "read runs per day",
            )
            .await?
        {
            for item in packed.split(',').filter(|i| !i.is_empty()) {
                let f: Vec<&str> = item.split(':').collect();
                let [day, state, n, bytes, ms] = f[..] else {
                    return Err(StoreError::Corrupt(format!("run_days entry {item:?}")));
                };
                out.push(RunDay {
                    day: number(day)?,
                    job: job.clone(),
                    kind: kind.to_string(),
                    state: state.to_string(),
                    runs: number(n)?,
                    bytes_out: number(bytes)?,
                    duration_ms: number(ms)?,
                });
            }
        }
        Ok(out)
    }

    /// Each job's 30 newest successful backup runs, oldest
    /// first within a job.
    pub async fn recent_backups(&self) -> Result<Vec<RecentBackup>, StoreError> {
        let mut out = Vec::new();
        for (job, packed) in self
            .packed(
                recent_sql(self.engine()),
                None,
                "read each job's newest backups",
            )
            .await?
        {
            for item in packed.split(',').filter(|i| !i.is_empty()) {
                let f: Vec<&str> = item.split(':').collect();
                let [id, bytes, ms] = f[..] else {
                    return Err(StoreError::Corrupt(format!("recent backup entry {item:?}")));
                };
                out.push(RecentBackup {
                    job: job.clone(),
                    run_id: id.to_string(),
                    bytes_out: number(bytes)?,
                    duration_ms: number(ms)?.max(0),
                });
            }
        }
        // Ids are ULIDs: in time order.
        out.sort_by(|a, b| (&a.job, &a.run_id).cmp(&(&b.job, &b.run_id)));
        Ok(out)
    }

    /// Rows of (job, packed string) of one of the statements above; a job
    /// with nothing packs to NULL.
    async fn packed(
        &self,
        sql: &'static str,
        args: Option<(i64, &str)>,
        what: &'static str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut query = sqlx::query(sql);
        if let Some((day, kind)) = args {
            query = query.bind(day).bind(kind.to_string());
        }
        query
            .fetch_all(&self.pool)
            .await
            .map_err(q(what))?
            .iter()
            .map(|r| {
                Ok((
                    r.try_get::<String, _>(0).map_err(corrupt)?,
                    r.try_get::<Option<String>, _>(1)
                        .map_err(corrupt)?
                        .unwrap_or_default(),
                ))
            })
            .collect()
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
                self.explain(
                    days_sql(self.engine())
                        .replace("$1", "0")
                        .replace("$2", "'backup'"),
                    &[],
                )
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
