//! The metadata store: jobs, runs (the queue and the history), backups and
//! the notifications outbox (`outbox.rs`), in
//! SQLite (the zero-setup default) or PostgreSQL (when instances share the work).
//!
//! One implementation serves both engines: queries go through sqlx's `Any` driver
//! and are written in the common dialect (`$1` placeholders, which sqlx-sqlite also
//! accepts; BIGINT millisecond times; TEXT ids made by us). Where the engines truly
//! differ the code branches on [`Engine`], in this file only. Each engine has its own
//! migration folder so their schemas can diverge when they need to.

mod access;
mod glance;
mod history;
mod metrics;
mod outbox;
mod proofs;
mod queue;
mod records;
mod secrets;
mod trash;
mod trends;

use crate::domain::{Backup, JobSpec, Run, new_id};
use jiff::Timestamp;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, AssertSqlSafe, Row};
use std::path::Path;
use std::time::Duration;

pub use access::{ApiToken, AuditEntry, Session, User};
pub use glance::JobGlance;
pub use history::{HistoryTable, PruneBatch};
pub use metrics::{Histogram, MetricsSnapshot};
pub use outbox::{Delivery, DeliveryAttempt, DeliveryFilter, NewDelivery};
pub use proofs::ScratchRow;
pub use queue::{CancelOutcome, Claim, Expired, Heartbeat, NewRun};
pub use records::{BackupFilter, NewBackup, RunFilter, StoredJob};
pub use secrets::StoredSecret;
pub use trash::{RowState, Trashed};
pub use trends::{RecentBackup, RunDay, StorageDay, StorageTotal};

/// The `WHERE` clause of a live backup: neither in the trash nor purged.
pub(crate) const LIVE: &str = "trashed_at IS NULL AND deleted_at IS NULL";

/// Most runs' logs are a few lines; a dump tool gone wrong can print megabytes.
pub const LOG_CAP_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the metadata store at {url}: {source}")]
    Open {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error(
        "the metadata store URL {0:?} is not supported: use sqlite:///path/sauve.db or postgres://user@host:5432/dbname"
    )]
    UnsupportedUrl(String),
    #[error("cannot migrate the metadata store schema: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(
        "the metadata store's schema is at version {found}, written by a newer Sauve; this binary knows versions up to {known}. Upgrade this instance's sauve binary to the version the others run (schemas only move forward: never point an older binary at a migrated store)"
    )]
    NewerSchema { found: i64, known: i64 },
    #[error("metadata store query failed ({what}): {source}")]
    Query {
        what: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("no {what} matches {key:?}")]
    NotFound { what: &'static str, key: String },
    #[error(
        "{what} id prefix {key:?} is ambiguous: it matches more than one {what}; type more of the id"
    )]
    Ambiguous { what: &'static str, key: String },
    #[error(
        "a job named {0:?} already exists: use `sauve job apply` to change it, or pick another name"
    )]
    JobExists(String),
    #[error("a user named {0:?} already exists: use `sauve user passwd` to change the password")]
    UserExists(String),
    #[error(
        "job {0:?} is already running; wait for it to finish (sauve run list --job {0} --state running) or cancel it (sauve run cancel ID)"
    )]
    AlreadyRunning(String),
    #[error(
        "the purge of backup {0} has begun (its manifest may already be deleted): it cannot be taken out of the trash; `sauve storage reconcile` shows what is left of it"
    )]
    PurgeStarted(String),
    #[error("stored data is unreadable ({0}); was the database written by a newer Sauve?")]
    Corrupt(String),
}

/// The newest migration applied to the store, `None` when sqlx's table is
/// not there yet (a new store).
/// Asked of the catalog first, not read off an error: PostgreSQL words its
/// errors in the server's language. Every row counts, a failed one too: a
/// newer binary wrote it.
async fn applied_version(pool: &AnyPool, engine: Engine) -> Result<Option<i64>, StoreError> {
    let exists = match engine {
        Engine::Sqlite => {
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'"
        }
        Engine::Postgres => {
            "SELECT CAST(COUNT(*) AS BIGINT) FROM pg_catalog.pg_tables \
             WHERE tablename = '_sqlx_migrations' AND schemaname = current_schema()"
        }
    };
    let found: i64 = sqlx::query_scalar(exists)
        .fetch_one(pool)
        .await
        .map_err(q("schema version"))?;
    if found == 0 {
        return Ok(None);
    }
    sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(pool)
        .await
        .map_err(q("schema version"))
}

/// Refuses a store migrated by a newer Sauve before touching it: sqlx would
/// also refuse (a version it does not know), but with a message about a
/// missing file; this one says what to do. Forward-only migrations mean an
/// older binary must never write to a newer schema.
async fn check_schema_version(
    pool: &AnyPool,
    engine: Engine,
    migrator: &sqlx::migrate::Migrator,
) -> Result<(), StoreError> {
    let known = migrator.iter().map(|m| m.version).max().unwrap_or(0);
    match applied_version(pool, engine).await? {
        Some(found) if found > known => Err(StoreError::NewerSchema { found, known }),
        _ => Ok(()),
    }
}

fn q(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Query { what, source }
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    engine: Engine,
}

pub fn now_ms() -> i64 {
    Timestamp::now().as_millisecond()
}

pub fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Keeps the head and the tail of a long log: the first lines say what started,
/// the last ones why it ended.
pub fn cap_log(log: &str) -> String {
    if log.len() <= LOG_CAP_BYTES {
        return log.to_string();
    }
    let half = LOG_CAP_BYTES / 2;
    let mut head_end = half;
    while !log.is_char_boundary(head_end) {
        head_end -= 1;
    }
    let mut tail_start = log.len() - half;
    while !log.is_char_boundary(tail_start) {
        tail_start += 1;
    }
    format!(
        "{}\n… [{} bytes cut] …\n{}",
        &log[..head_end],
        tail_start - head_end,
        &log[tail_start..]
    )
}

impl Store {
    /// The default store: a SQLite file in the data directory.
    pub fn default_url(data_dir: &Path) -> String {
        format!("sqlite://{}/sauve.db?mode=rwc", data_dir.display())
    }

    /// Opens (creating if needed) and migrates the store at `url`.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let engine = if url.starts_with("sqlite:") {
            Engine::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Engine::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(redact_url(url)));
        };
        // sqlx opens SQLite files read-write but does not create them unless told;
        // a new store is the normal case for Sauve.
        let url = if engine == Engine::Sqlite && !url.contains("mode=") {
            format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
        } else {
            url.to_string()
        };
        let url = url.as_str();
        let mut opts = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(30));
        if engine == Engine::Sqlite {
            // WAL lets readers (the CLI, the dashboard) work while the server writes;
            // busy_timeout turns writer contention into waiting instead of errors.
            opts = opts.max_connections(4).after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::query("PRAGMA journal_mode = WAL")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA busy_timeout = 10000")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA synchronous = NORMAL")
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                })
            });
        } else {
            // A prepared statement's generic plan cannot see which job a list
            // asks for, and walks the primary key of a year of runs filtering
            // for a small job's (11 ms measured, against 0.4 ms planned for
            // the value): plan every execution for its parameters.
            opts = opts.max_connections(8).after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::query("SET plan_cache_mode = force_custom_plan")
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                })
            });
        }
        let pool = opts.connect(url).await.map_err(|source| StoreError::Open {
            url: redact_url(url),
            source,
        })?;
        let migrator = match engine {
            Engine::Sqlite => sqlx::migrate!("migrations/sqlite"),
            Engine::Postgres => sqlx::migrate!("migrations/postgres"),
        };
        check_schema_version(&pool, engine, &migrator).await?;
        // Forward only, each in a transaction; on PostgreSQL under an
        // advisory lock, so of several instances starting at once one
        // migrates and the others wait, then find nothing to do.
        migrator.run(&pool).await?;
        Ok(Store { pool, engine })
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(q("ping"))
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    // ---- jobs ------------------------------------------------------------------

    /// Inserts a new job; refuses a name that exists.
    pub async fn create_job(&self, spec: &JobSpec) -> Result<StoredJob, StoreError> {
        let now = now_ms();
        let id = new_id();
        let json = serde_json::to_string(spec).expect("JobSpec serialises");
        let done = sqlx::query(
            "INSERT INTO jobs (id, name, spec, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(&id)
        .bind(&spec.name)
        .bind(&json)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(q("create job"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::JobExists(spec.name.clone()));
        }
        self.job(&spec.name).await
    }

    /// Inserts the job or replaces the spec of the job with that name. Returns the
    /// stored job and whether it was created.
    pub async fn upsert_job(&self, spec: &JobSpec) -> Result<(StoredJob, bool), StoreError> {
        match self.create_job(spec).await {
            Ok(job) => Ok((job, true)),
            Err(StoreError::JobExists(_)) => {
                let json = serde_json::to_string(spec).expect("JobSpec serialises");
                sqlx::query("UPDATE jobs SET spec = $1, updated_at = $2 WHERE name = $3")
                    .bind(&json)
                    .bind(now_ms())
                    .bind(&spec.name)
                    .execute(&self.pool)
                    .await
                    .map_err(q("update job"))?;
                Ok((self.job(&spec.name).await?, false))
            }
            Err(e) => Err(e),
        }
    }

    pub async fn job(&self, name: &str) -> Result<StoredJob, StoreError> {
        let row =
            sqlx::query("SELECT id, name, spec, created_at, updated_at FROM jobs WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await
                .map_err(q("read job"))?
                .ok_or_else(|| StoreError::NotFound {
                    what: "job",
                    key: name.to_string(),
                })?;
        StoredJob::from_row(&row)
    }

    pub async fn job_by_id(&self, id: &str) -> Result<StoredJob, StoreError> {
        let row =
            sqlx::query("SELECT id, name, spec, created_at, updated_at FROM jobs WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(q("read job"))?
                .ok_or_else(|| StoreError::NotFound {
                    what: "job",
                    key: id.to_string(),
                })?;
        StoredJob::from_row(&row)
    }

    pub async fn jobs(&self) -> Result<Vec<StoredJob>, StoreError> {
        sqlx::query("SELECT id, name, spec, created_at, updated_at FROM jobs ORDER BY name")
            .fetch_all(&self.pool)
            .await
            .map_err(q("list jobs"))?
            .iter()
            .map(StoredJob::from_row)
            .collect()
    }

    /// Deletes the job; its runs and backups stay in the history.
    pub async fn delete_job(&self, name: &str) -> Result<(), StoreError> {
        let done = sqlx::query("DELETE FROM jobs WHERE name = $1")
            .bind(name)
            .execute(&self.pool)
            .await
            .map_err(q("delete job"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: "job",
                key: name.to_string(),
            });
        }
        Ok(())
    }

    // ---- runs ------------------------------------------------------------------

    /// A run by id or unique id prefix.
    pub async fn run(&self, id: &str) -> Result<Run, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {} FROM runs WHERE id LIKE $1 ORDER BY id LIMIT 2",
            records::RUN_COLUMNS
        )))
        .bind(prefix_pattern(id))
        .fetch_all(&self.pool)
        .await
        .map_err(q("read run"))?;
        one_of(rows, "run", id).and_then(|r| records::run_from_row(&r))
    }

    pub async fn runs(&self, filter: &RunFilter) -> Result<Vec<Run>, StoreError> {
        let (sql, args) = Self::runs_sql(filter);
        self.fetch_all(sql, &args, "list runs")
            .await?
            .iter()
            .map(records::run_from_row)
            .collect()
    }

    /// How the engine runs `runs(filter)`, as [`Store::explain`] says.
    pub async fn runs_plan(&self, filter: &RunFilter) -> Result<String, StoreError> {
        let (sql, args) = Self::runs_sql(filter);
        self.explain(sql, &args).await
    }

    /// How the engine runs `backups(filter)`, as [`Store::explain`] says.
    pub async fn backups_plan(&self, filter: &BackupFilter) -> Result<String, StoreError> {
        let (sql, args) = Self::backups_sql(filter);
        self.explain(sql, &args).await
    }

    /// The plan of a list query, one step a line: SQLite's `EXPLAIN QUERY
    /// PLAN` details, or PostgreSQL's `EXPLAIN` with sequential scans and
    /// sorts priced out, so that a `Seq Scan` or a `Sort` left in the plan
    /// means no index can serve the query, whatever the tables hold now.
    /// Tests read it to prove a list reads what it shows.
    pub async fn explain(&self, sql: String, args: &[String]) -> Result<String, StoreError> {
        let mut tx = self.pool.begin().await.map_err(q("explain"))?;
        let (explain, column) = match self.engine {
            Engine::Sqlite => (format!("EXPLAIN QUERY PLAN {sql}"), "detail"),
            Engine::Postgres => {
                sqlx::query("SET LOCAL enable_seqscan = off")
                    .execute(&mut *tx)
                    .await
                    .map_err(q("explain"))?;
                sqlx::query("SET LOCAL enable_sort = off")
                    .execute(&mut *tx)
                    .await
                    .map_err(q("explain"))?;
                (format!("EXPLAIN {sql}"), "QUERY PLAN")
            }
        };
        let mut query = sqlx::query(AssertSqlSafe(explain));
        for a in args {
            query = query.bind(a);
        }
        let rows = query.fetch_all(&mut *tx).await.map_err(q("explain"))?;
        tx.rollback().await.map_err(q("explain"))?;
        rows.iter()
            .map(|r| r.try_get::<String, _>(column).map_err(corrupt))
            .collect::<Result<Vec<_>, _>>()
            .map(|lines| lines.join("\n"))
    }

    /// Every row of a list query built from a filter: `sql` with its
    /// `$1…` placeholders bound to `args`, in order.
    pub(super) async fn fetch_all(
        &self,
        sql: String,
        args: &[String],
        what: &'static str,
    ) -> Result<Vec<AnyRow>, StoreError> {
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for a in args {
            query = query.bind(a);
        }
        query.fetch_all(&self.pool).await.map_err(q(what))
    }

    fn runs_sql(filter: &RunFilter) -> (String, Vec<String>) {
        let mut sql = format!("SELECT {} FROM runs WHERE 1 = 1", records::RUN_COLUMNS);
        let mut args: Vec<String> = Vec::new();
        if let Some(job) = &filter.job {
            args.push(job.clone());
            sql.push_str(&format!(" AND job_name = ${}", args.len()));
        }
        if let Some(state) = filter.state {
            args.push(state.as_str().to_string());
            sql.push_str(&format!(" AND state = ${}", args.len()));
        }
        if let Some(kind) = filter.kind {
            args.push(kind.as_str().to_string());
            sql.push_str(&format!(" AND kind = ${}", args.len()));
        }
        if let Some(before) = &filter.before_id {
            args.push(before.clone());
            sql.push_str(&format!(" AND id < ${}", args.len()));
        }
        // Ids are ULIDs made when the run is queued: id order is time order,
        // and the cursor of a page is the id of its last run.
        sql.push_str(&format!(
            " ORDER BY id DESC LIMIT {}",
            filter.limit.clamp(1, 10_000)
        ));
        (sql, args)
    }

    // ---- backups ---------------------------------------------------------------

    pub async fn insert_backup(&self, b: &NewBackup) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await.map_err(q("record backup"))?;
        insert_backup_in(&mut conn, b).await
    }

    /// A live (neither trashed nor purged) backup by id or unique id prefix,
    /// with its manifest JSON.
    pub async fn backup(&self, id: &str) -> Result<(Backup, String), StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {}, manifest FROM backups WHERE id LIKE $1 AND {LIVE} ORDER BY id LIMIT 2",
            records::BACKUP_COLUMNS
        )))
        .bind(prefix_pattern(id))
        .fetch_all(&self.pool)
        .await
        .map_err(q("read backup"))?;
        let row = one_of(rows, "backup", id)?;
        let manifest: String = row.try_get("manifest").map_err(corrupt)?;
        Ok((records::backup_from_row(&row)?, manifest))
    }

    pub async fn backups(&self, filter: &BackupFilter) -> Result<Vec<Backup>, StoreError> {
        let (sql, args) = Self::backups_sql(filter);
        self.fetch_all(sql, &args, "list backups")
            .await?
            .iter()
            .map(records::backup_from_row)
            .collect()
    }

    fn backups_sql(filter: &BackupFilter) -> (String, Vec<String>) {
        let mut sql = format!(
            "SELECT {} FROM backups WHERE {LIVE}",
            records::BACKUP_COLUMNS
        );
        let mut args: Vec<String> = Vec::new();
        if let Some(job) = &filter.job {
            args.push(job.clone());
            sql.push_str(&format!(" AND job_name = ${}", args.len()));
        }
        if let Some(dest) = &filter.destination {
            args.push(dest.clone());
            sql.push_str(&format!(" AND destination = ${}", args.len()));
        }
        if let Some(before) = &filter.before_id {
            args.push(before.clone());
            sql.push_str(&format!(" AND id < ${}", args.len()));
        }
        // Ids are monotonic ULIDs made when the backup starts: id order is time
        // order, and a stable cursor.
        sql.push_str(&format!(
            " ORDER BY id DESC LIMIT {}",
            filter.limit.clamp(1, 100_000)
        ));
        (sql, args)
    }

    pub async fn backups_of_run(&self, run_id: &str) -> Result<Vec<Backup>, StoreError> {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {} FROM backups WHERE run_id = $1 ORDER BY destination",
            records::BACKUP_COLUMNS
        )))
        .bind(run_id)
        .fetch_all(&self.pool)
        .await
        .map_err(q("list backups of run"))?
        .iter()
        .map(records::backup_from_row)
        .collect()
    }

    /// Records what a full re-read of a backup found: good (`damage` None:
    /// `verified_at` now, an earlier damage cleared) or damaged, and why.
    /// A backup the store does not know (found in a destination alone) is
    /// left as it is.
    pub async fn record_verify(&self, id: &str, damage: Option<&str>) -> Result<(), StoreError> {
        let sql = match damage {
            None => {
                "UPDATE backups SET verified_at = $1, damaged_at = NULL, verify_error = NULL WHERE id = $2"
            }
            Some(_) => "UPDATE backups SET damaged_at = $1, verify_error = $3 WHERE id = $2",
        };
        let mut query = sqlx::query(sql).bind(now_ms()).bind(id);
        if let Some(why) = damage {
            query = query.bind(why);
        }
        query
            .execute(&self.pool)
            .await
            .map_err(q("record a verification"))?;
        Ok(())
    }

    /// Records that a backup's objects are gone from storage (deleted by a
    /// person, or purged from the trash).
    pub async fn mark_backup_deleted(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE backups SET deleted_at = $1 WHERE id = $2 AND deleted_at IS NULL")
            .bind(now_ms())
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(q("delete backup"))?;
        Ok(())
    }
}

/// Records a backup on `conn` (inside a transaction, when finishing a run).
pub(super) async fn insert_backup_in(
    conn: &mut sqlx::AnyConnection,
    b: &NewBackup,
) -> Result<(), StoreError> {
    sqlx::query(
            "INSERT INTO backups (id, run_id, job_name, created_at, size, raw_size, sha256, destination,
                              object_key, source_kind, compression, encrypted, manifest)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&b.backup.id)
    .bind(&b.backup.run_id)
    .bind(&b.backup.job)
    .bind(b.backup.created_at.as_millisecond())
    .bind(b.backup.size)
    .bind(b.backup.raw_size)
    .bind(&b.backup.sha256)
    .bind(&b.backup.destination)
    .bind(&b.backup.key)
    .bind(&b.backup.source_kind)
    .bind(&b.backup.compression)
    .bind(b.backup.encrypted as i64)
    .bind(&b.manifest_json)
    .execute(&mut *conn)
    .await
    .map_err(q("record backup"))?;
    Ok(())
}

fn corrupt(e: sqlx::Error) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

/// `LIKE` pattern for an id prefix; ids are ULIDs, so only `[0-9a-z]` are kept and
/// a user's `%` or `_` cannot widen the match.
fn prefix_pattern(id: &str) -> String {
    let clean: String = id
        .trim()
        .to_ascii_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    if clean.is_empty() {
        // Matches nothing rather than everything.
        return "\u{1}".to_string();
    }
    format!("{clean}%")
}

fn one_of(rows: Vec<AnyRow>, what: &'static str, key: &str) -> Result<AnyRow, StoreError> {
    let count = rows.len();
    let mut rows = rows.into_iter();
    match (rows.next(), count) {
        (None, _) => Err(StoreError::NotFound {
            what,
            key: key.to_string(),
        }),
        (Some(row), 1) => Ok(row),
        _ => Err(StoreError::Ambiguous {
            what,
            key: key.to_string(),
        }),
    }
}

/// A database URL with its password replaced, for messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_cap_keeps_head_and_tail() {
        let short = "line\n".repeat(10);
        assert_eq!(cap_log(&short), short);
        let long = format!("BEGIN{}END", "é".repeat(LOG_CAP_BYTES));
        let capped = cap_log(&long);
        assert!(capped.len() < LOG_CAP_BYTES + 100);
        assert!(capped.starts_with("BEGIN") && capped.ends_with("END"));
        assert!(capped.contains("bytes cut"));
    }

    #[test]
    fn prefix_patterns_cannot_widen() {
        assert_eq!(prefix_pattern("01JD"), "01jd%");
        assert_eq!(prefix_pattern("%"), "\u{1}");
        assert_eq!(prefix_pattern("a_b%"), "ab%");
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(redact_url("sqlite:///x.db"), "sqlite:///x.db");
    }
}
