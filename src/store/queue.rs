//! The `runs` table as a durable queue, shared by any number of Sauve instances.
//!
//! - Enqueue-once: a scheduled run is keyed by `(job_id, scheduled_for)`, a
//!   triggered one by `(job_id, idempotency_key)`; a second insert of the same key
//!   inserts nothing and returns the first run.
//! - Claim: a worker takes the oldest due queued run with a lease (PostgreSQL:
//!   `FOR UPDATE SKIP LOCKED`; SQLite: one writer at a time), skipping runs whose
//!   job is busy with a kind they conflict with ([`RunKind::conflicts_with`], the
//!   one place that rule is written). The partial unique index `runs_one_writer`
//!   closes the race between two claims of a job's backups and restores.
//! - Fencing: every later change of a claimed run names `(lease_owner, attempt)`;
//!   a worker that lost its lease changes nothing.
//! - Expiry: a run whose lease ran out (its worker died) goes back to the queue
//!   with back-off, or fails once its attempts are spent.
//!
//! Every time here is the database's clock, so instances with skewed clocks
//! still agree on leases.

use super::{Engine, NewBackup, Store, StoreError, StoredJob, cap_log, q};
use crate::domain::{Run, RunKind, RunState, Trigger, new_id};
use sqlx::{AssertSqlSafe, Row};

/// A run to insert: what it does, for which job, who asked.
#[derive(Debug, Clone)]
pub struct NewRun<'a> {
    pub job_id: &'a str,
    pub job_name: &'a str,
    pub kind: RunKind,
    pub trigger: Trigger,
    /// `RunParams` as JSON, for kinds other than backup.
    pub params: Option<String>,
    pub scheduled_for: Option<i64>,
    pub idempotency_key: Option<&'a str>,
    pub max_attempts: u32,
}

impl<'a> NewRun<'a> {
    pub fn backup(job: &'a StoredJob, trigger: Trigger, max_attempts: u32) -> Self {
        NewRun {
            job_id: &job.id,
            job_name: &job.name,
            kind: RunKind::Backup,
            trigger,
            params: None,
            scheduled_for: None,
            idempotency_key: None,
            max_attempts,
        }
    }
}

/// SQL that is true when the run aliased `new` must wait for the running run
/// aliased `running` of the same job, written out from `RunKind::conflicts_with`.
fn conflict_sql(new: &str, running: &str) -> String {
    let arms: Vec<String> = RunKind::ALL
        .iter()
        .filter_map(|k| {
            let waits = k.waits_for();
            (!waits.is_empty()).then(|| {
                let list: Vec<String> = waits.iter().map(|w| format!("'{w}'")).collect();
                format!(
                    "({new}.kind = '{k}' AND {running}.kind IN ({}))",
                    list.join(", ")
                )
            })
        })
        .collect();
    if arms.is_empty() {
        "1 = 0".into()
    } else {
        format!("({})", arms.join(" OR "))
    }
}

/// A run this worker holds a lease on.
#[derive(Debug, Clone)]
pub struct Claim {
    pub run: Run,
    /// What the run works on (`RunParams` JSON); None for a backup.
    pub params: Option<String>,
    pub job_id: String,
    pub owner: String,
    pub attempt: i64,
    pub max_attempts: i64,
}

/// What a heartbeat learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heartbeat {
    /// The lease was extended; `cancel` says someone asked to stop the run.
    Held { cancel: bool },
    /// Another worker owns the run now, or it was finished: stop, write nothing.
    Lost,
}

/// What `cancel_run` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// It was queued and is now cancelled.
    Cancelled,
    /// It is running; its worker will stop it at the next heartbeat.
    Requested,
    /// It had already finished.
    AlreadyFinished(RunState),
}

/// What `expire_leases` did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Expired {
    pub requeued: u64,
    pub failed: u64,
}

impl Store {
    /// SQL for "now, in Unix milliseconds", by the database's clock.
    pub(super) fn now_sql(&self) -> &'static str {
        match self.engine {
            Engine::Sqlite => "CAST(unixepoch('subsec') * 1000 AS INTEGER)",
            Engine::Postgres => "CAST(extract(epoch FROM clock_timestamp()) * 1000 AS BIGINT)",
        }
    }

    /// The database's clock, in Unix milliseconds.
    pub async fn db_now(&self) -> Result<i64, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {} AS now", self.now_sql())))
            .fetch_one(&self.pool)
            .await
            .map_err(q("read the clock"))?;
        row.try_get::<i64, _>("now").map_err(super::corrupt)
    }

    // ---- schedule state ----------------------------------------------------------

    /// Sets when a job is next due (None: not scheduled).
    pub async fn set_next_fire(&self, job_id: &str, next: Option<i64>) -> Result<(), StoreError> {
        sqlx::query("UPDATE jobs SET next_fire_at = $1 WHERE id = $2")
            .bind(next)
            .bind(job_id)
            .execute(&self.pool)
            .await
            .map_err(q("set next fire time"))?;
        Ok(())
    }

    /// Moves a job's next fire time from `expected` to `next`; false if another
    /// instance moved it first.
    pub async fn advance_next_fire(
        &self,
        job_id: &str,
        expected: i64,
        next: Option<i64>,
    ) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE jobs SET next_fire_at = $1 WHERE id = $2 AND next_fire_at = $3")
                .bind(next)
                .bind(job_id)
                .bind(expected)
                .execute(&self.pool)
                .await
                .map_err(q("advance next fire time"))?;
        Ok(done.rows_affected() == 1)
    }

    /// Jobs due at `now`, with the fire time they were due at.
    pub async fn due_jobs(&self, now: i64) -> Result<Vec<(StoredJob, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, spec, created_at, updated_at, next_fire_at FROM jobs
             WHERE next_fire_at IS NOT NULL AND next_fire_at <= $1 ORDER BY next_fire_at LIMIT 1000",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .map_err(q("find due jobs"))?;
        rows.iter()
            .map(|r| {
                Ok((
                    StoredJob::from_row(r)?,
                    r.try_get::<i64, _>("next_fire_at")
                        .map_err(super::corrupt)?,
                ))
            })
            .collect()
    }

    /// The earliest fire time of any job, and the database's now: how long the
    /// scheduler may sleep.
    pub async fn earliest_next_fire(&self) -> Result<(Option<i64>, i64), StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT MIN(next_fire_at) AS next, {} AS now FROM jobs",
            self.now_sql()
        )))
        .fetch_one(&self.pool)
        .await
        .map_err(q("find the next fire time"))?;
        Ok((
            row.try_get::<Option<i64>, _>("next")
                .map_err(super::corrupt)?,
            row.try_get::<i64, _>("now").map_err(super::corrupt)?,
        ))
    }

    pub async fn next_fire(&self, job_id: &str) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query("SELECT next_fire_at FROM jobs WHERE id = $1")
            .bind(job_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(q("read next fire time"))?;
        Ok(match row {
            Some(r) => r
                .try_get::<Option<i64>, _>("next_fire_at")
                .map_err(super::corrupt)?,
            None => None,
        })
    }

    /// Starts a run in this process right away (`sauve backup run`, `sauve
    /// restore`, `sauve verify`): it skips the queue but holds a lease like any
    /// claimed run. Refused while the job runs something it conflicts with.
    pub async fn start_claimed_run(
        &self,
        new: &NewRun<'_>,
        owner: &str,
        lease_ms: i64,
    ) -> Result<Claim, StoreError> {
        let id = new_id();
        let now = self.now_sql();
        let conflict = conflict_sql("r", "b");
        let inserted = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO runs (id, job_id, job_name, kind, trigger, params, state, attempt, max_attempts,
                               lease_owner, lease_expires_at, queued_at, started_at)
             SELECT $1, $2, $3, $4, $5, $6, 'running', 1, $7, $8, {now} + $9, {now}, {now}
             WHERE NOT EXISTS (SELECT 1 FROM (SELECT $4 AS kind) r, runs b
                               WHERE b.job_id = $2 AND b.state = 'running' AND {conflict})"
        )))
        .bind(&id)
        .bind(new.job_id)
        .bind(new.job_name)
        .bind(new.kind.as_str())
        .bind(new.trigger.as_str())
        .bind(new.params.as_deref())
        .bind(new.max_attempts as i64)
        .bind(owner)
        .bind(lease_ms)
        .execute(&self.pool)
        .await;
        match inserted {
            Ok(done) if done.rows_affected() == 1 => {}
            Ok(_) => return Err(StoreError::AlreadyRunning(new.job_name.to_string())),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(StoreError::AlreadyRunning(new.job_name.to_string()));
            }
            Err(e) => {
                return Err(StoreError::Query {
                    what: "start run",
                    source: e,
                });
            }
        }
        Ok(Claim {
            run: self.run(&id).await?,
            params: new.params.clone(),
            job_id: new.job_id.to_string(),
            owner: owner.to_string(),
            attempt: 1,
            max_attempts: new.max_attempts as i64,
        })
    }

    // ---- enqueue -----------------------------------------------------------------

    /// Queues a run, once per `(job, scheduled_for)` and per `(job, idempotency_key)`.
    /// Returns the run and whether this call created it.
    pub async fn enqueue(&self, new: &NewRun<'_>) -> Result<(Run, bool), StoreError> {
        let id = new_id();
        let done = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO runs (id, job_id, job_name, kind, trigger, params, state, scheduled_for,
                               idempotency_key, max_attempts, queued_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7, $8, $9, {})
             ON CONFLICT DO NOTHING",
            self.now_sql()
        )))
        .bind(&id)
        .bind(new.job_id)
        .bind(new.job_name)
        .bind(new.kind.as_str())
        .bind(new.trigger.as_str())
        .bind(new.params.as_deref())
        .bind(new.scheduled_for)
        .bind(new.idempotency_key)
        .bind(new.max_attempts as i64)
        .execute(&self.pool)
        .await
        .map_err(q("enqueue run"))?;
        if done.rows_affected() == 1 {
            return Ok((self.run(&id).await?, true));
        }
        // The key was taken: return the run that holds it.
        let row = sqlx::query(
            "SELECT id FROM runs WHERE job_id = $1
             AND ((scheduled_for IS NOT NULL AND scheduled_for = $2)
               OR (idempotency_key IS NOT NULL AND idempotency_key = $3))
             LIMIT 1",
        )
        .bind(new.job_id)
        .bind(new.scheduled_for)
        .bind(new.idempotency_key)
        .fetch_one(&self.pool)
        .await
        .map_err(q("find the existing run"))?;
        let existing: String = row.try_get("id").map_err(super::corrupt)?;
        Ok((self.run(&existing).await?, false))
    }

    /// The oldest run of `kind` of the job still waiting in the queue: a
    /// request for another one (twenty clicks) gets it instead.
    pub async fn waiting_run(&self, job: &str, kind: RunKind) -> Result<Option<Run>, StoreError> {
        let waiting = self
            .runs(&super::RunFilter {
                job: Some(job.to_string()),
                state: Some(RunState::Queued),
                kind: Some(kind),
                limit: 1,
                before_id: None,
            })
            .await?;
        Ok(waiting.into_iter().next())
    }

    /// Whether the job has a run queued or running that a new backup would wait
    /// for (the `skip` overlap policy).
    pub async fn job_busy(&self, job_id: &str) -> Result<bool, StoreError> {
        let kinds: Vec<String> = RunKind::Backup
            .waits_for()
            .iter()
            .map(|k| format!("'{k}'"))
            .collect();
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n FROM runs WHERE job_id = $1 AND state IN ('queued', 'running')
             AND kind IN ({})",
            kinds.join(", ")
        )))
        .bind(job_id)
        .fetch_one(&self.pool)
        .await
        .map_err(q("check for a running run"))?;
        Ok(row.try_get::<i64, _>("n").map_err(super::corrupt)? > 0)
    }

    pub async fn queue_depth(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM runs WHERE state = 'queued'")
            .fetch_one(&self.pool)
            .await
            .map_err(q("count queued runs"))?;
        row.try_get::<i64, _>("n").map_err(super::corrupt)
    }

    // ---- claim, heartbeat, finish ------------------------------------------------

    /// Takes the oldest due queued run (or the run `only`), leased to `owner`.
    pub async fn claim(
        &self,
        owner: &str,
        lease_ms: i64,
        only: Option<&str>,
    ) -> Result<Option<Claim>, StoreError> {
        let now = self.now_sql();
        let lock = match self.engine {
            Engine::Postgres => "FOR UPDATE SKIP LOCKED",
            Engine::Sqlite => "",
        };
        let only_sql = if only.is_some() { "AND r.id = $3" } else { "" };
        let conflict = conflict_sql("r", "b");
        let sql = format!(
            "UPDATE runs SET state = 'running', lease_owner = $1, lease_expires_at = {now} + $2,
                    attempt = attempt + 1, started_at = COALESCE(started_at, {now}), not_before = NULL
             WHERE id = (
                SELECT r.id FROM runs r
                WHERE r.state = 'queued' AND (r.not_before IS NULL OR r.not_before <= {now}) {only_sql}
                  AND NOT EXISTS (SELECT 1 FROM runs b WHERE b.job_id = r.job_id AND b.state = 'running'
                                  AND {conflict})
                ORDER BY r.queued_at, r.id LIMIT 1 {lock})
             RETURNING id, job_id, attempt, max_attempts, params"
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(owner).bind(lease_ms);
        if let Some(id) = only {
            query = query.bind(id);
        }
        let row = match query.fetch_optional(&self.pool).await {
            Ok(row) => row,
            // Two workers took two runs of one job at the same instant: the unique
            // index let one through; the other simply got nothing this time.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Ok(None),
            Err(e) => {
                return Err(StoreError::Query {
                    what: "claim a run",
                    source: e,
                });
            }
        };
        let Some(row) = row else { return Ok(None) };
        let id: String = row.try_get("id").map_err(super::corrupt)?;
        Ok(Some(Claim {
            params: row.try_get("params").map_err(super::corrupt)?,
            job_id: row.try_get("job_id").map_err(super::corrupt)?,
            attempt: row.try_get("attempt").map_err(super::corrupt)?,
            max_attempts: row.try_get("max_attempts").map_err(super::corrupt)?,
            owner: owner.to_string(),
            run: self.run(&id).await?,
        }))
    }

    /// Extends the lease of a claimed run.
    pub async fn heartbeat(&self, claim: &Claim, lease_ms: i64) -> Result<Heartbeat, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "UPDATE runs SET lease_expires_at = {} + $1
             WHERE id = $2 AND lease_owner = $3 AND attempt = $4 AND state = 'running'
             RETURNING cancel_requested",
            self.now_sql()
        )))
        .bind(lease_ms)
        .bind(&claim.run.id)
        .bind(&claim.owner)
        .bind(claim.attempt)
        .fetch_optional(&self.pool)
        .await
        .map_err(q("renew a lease"))?;
        Ok(match row {
            None => Heartbeat::Lost,
            Some(r) => Heartbeat::Held {
                cancel: r
                    .try_get::<i64, _>("cancel_requested")
                    .map_err(super::corrupt)?
                    != 0,
            },
        })
    }

    /// Finishes a claimed run and records its backups, atomically and only if
    /// the claim still holds. Returns false (and records nothing) otherwise.
    pub async fn finish_claimed(
        &self,
        claim: &Claim,
        state: RunState,
        bytes: (i64, i64),
        error: Option<&str>,
        log: &str,
        backups: &[NewBackup],
    ) -> Result<bool, StoreError> {
        self.finish_claimed_with(claim, state, bytes, error, log, backups, None)
            .await
    }

    /// `finish_claimed`, with what the run has to tell beyond its state
    /// (`notice`: `retention.refused`), recorded in the same transaction.
    #[allow(clippy::too_many_arguments)]
    pub async fn finish_claimed_with(
        &self,
        claim: &Claim,
        state: RunState,
        bytes: (i64, i64),
        error: Option<&str>,
        log: &str,
        backups: &[NewBackup],
        notice: Option<&str>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await.map_err(q("begin"))?;
        let done = sqlx::query(AssertSqlSafe(format!(
            "UPDATE runs SET state = $1, finished_at = {}, bytes_in = $2, bytes_out = $3, error = $4,
                             log = CASE WHEN log = '' THEN $5 ELSE log || $9 || $5 END,
                             lease_owner = NULL, lease_expires_at = NULL, notice = $10
             WHERE id = $6 AND lease_owner = $7 AND attempt = $8 AND state = 'running'",
            self.now_sql()
        )))
        .bind(state.as_str())
        .bind(bytes.0)
        .bind(bytes.1)
        .bind(error)
        .bind(cap_log(log))
        .bind(&claim.run.id)
        .bind(&claim.owner)
        .bind(claim.attempt)
        .bind("\n")
        .bind(notice)
        .execute(&mut *tx)
        .await
        .map_err(q("finish run"))?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        for b in backups {
            super::insert_backup_in(&mut tx, b).await?;
        }
        tx.commit().await.map_err(q("commit"))?;
        Ok(true)
    }

    /// Puts a failed attempt back in the queue, not before `delay_ms` from now.
    pub async fn retry_later(
        &self,
        claim: &Claim,
        delay_ms: i64,
        error: &str,
        log: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(AssertSqlSafe(format!(
            "UPDATE runs SET state = 'queued', not_before = {} + $1, error = $2,
                             log = CASE WHEN log = '' THEN $3 ELSE log || $7 || $3 END,
                             lease_owner = NULL, lease_expires_at = NULL
             WHERE id = $4 AND lease_owner = $5 AND attempt = $6 AND state = 'running'",
            self.now_sql()
        )))
        .bind(delay_ms)
        .bind(error)
        .bind(cap_log(log))
        .bind(&claim.run.id)
        .bind(&claim.owner)
        .bind(claim.attempt)
        .bind("\n")
        .execute(&self.pool)
        .await
        .map_err(q("requeue run"))?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives a claimed run back to the queue untouched (shutdown): the attempt
    /// does not count.
    pub async fn release(&self, claim: &Claim) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE runs SET state = 'queued', attempt = attempt - 1, lease_owner = NULL, lease_expires_at = NULL
             WHERE id = $1 AND lease_owner = $2 AND attempt = $3 AND state = 'running'",
        )
        .bind(&claim.run.id)
        .bind(&claim.owner)
        .bind(claim.attempt)
        .execute(&self.pool)
        .await
        .map_err(q("release run"))?;
        Ok(done.rows_affected() == 1)
    }

    /// Requeues (with back-off) or fails the runs whose lease ran out.
    pub async fn expire_leases(
        &self,
        backoff_ms: impl Fn(i64) -> i64,
    ) -> Result<Expired, StoreError> {
        let now = self.now_sql();
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT id, lease_owner, attempt, max_attempts FROM runs
             WHERE state = 'running' AND lease_expires_at IS NOT NULL AND lease_expires_at < {now}"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(q("find expired leases"))?;
        let mut out = Expired::default();
        for row in rows {
            let id: String = row.try_get("id").map_err(super::corrupt)?;
            let owner: Option<String> = row.try_get("lease_owner").map_err(super::corrupt)?;
            let attempt: i64 = row.try_get("attempt").map_err(super::corrupt)?;
            let max: i64 = row.try_get("max_attempts").map_err(super::corrupt)?;
            let note = format!(
                "\nattempt {attempt}: the lease of {} expired (the worker stopped answering)",
                owner.as_deref().unwrap_or("?")
            );
            let query = if attempt < max {
                sqlx::query(AssertSqlSafe(format!(
                    "UPDATE runs SET state = 'queued', not_before = {now} + $4, lease_owner = NULL,
                            lease_expires_at = NULL, log = log || $1
                     WHERE id = $2 AND attempt = $3 AND state = 'running' AND lease_expires_at < {now}"
                )))
            } else {
                // Worded for whoever reads the run: the process died (kill -9, a
                // crash, a lost machine) and no attempt is left.
                sqlx::query(AssertSqlSafe(format!(
                    "UPDATE runs SET state = 'failed', finished_at = {now}, lease_owner = NULL,
                            lease_expires_at = NULL, log = log || $1,
                            error = 'the worker died or stopped answering (its lease expired) and no attempt is left; run it again'
                     WHERE id = $2 AND attempt = $3 AND state = 'running' AND lease_expires_at < {now}"
                )))
            };
            let mut query = query.bind(note).bind(&id).bind(attempt);
            if attempt < max {
                query = query.bind(backoff_ms(attempt));
            }
            let done = query
                .execute(&self.pool)
                .await
                .map_err(q("expire a lease"))?;
            if done.rows_affected() == 1 {
                if attempt < max {
                    out.requeued += 1;
                } else {
                    out.failed += 1;
                }
            }
        }
        Ok(out)
    }

    /// Cancels a queued run now, or asks the worker of a running one to stop.
    pub async fn cancel_run(&self, id: &str) -> Result<(Run, CancelOutcome), StoreError> {
        let run = self.run(id).await?;
        let done = sqlx::query(AssertSqlSafe(format!(
            "UPDATE runs SET state = 'cancelled', finished_at = {}, error = 'cancelled before it started'
             WHERE id = $1 AND state = 'queued'",
            self.now_sql()
        )))
        .bind(&run.id)
        .execute(&self.pool)
        .await
        .map_err(q("cancel run"))?;
        if done.rows_affected() == 1 {
            return Ok((self.run(&run.id).await?, CancelOutcome::Cancelled));
        }
        let done =
            sqlx::query("UPDATE runs SET cancel_requested = 1 WHERE id = $1 AND state = 'running'")
                .bind(&run.id)
                .execute(&self.pool)
                .await
                .map_err(q("cancel run"))?;
        let run = self.run(&run.id).await?;
        if done.rows_affected() == 1 {
            return Ok((run, CancelOutcome::Requested));
        }
        let state = run.state;
        Ok((run, CancelOutcome::AlreadyFinished(state)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The index that closes the race between two claims must name exactly the
    /// kinds that conflict with themselves. (When a later migration replaces
    /// `runs_one_writer`, point this test at it.)
    #[test]
    fn the_one_writer_index_follows_the_conflict_rule() {
        // Each kind that conflicts with itself has a partial unique index (one
        // running per job), and the kinds sharing an index all conflict with
        // each other: that index is what closes the race of two claims.
        let indexes = [
            (
                "runs_one_writer",
                vec![RunKind::Backup, RunKind::Restore],
                "kind IN ('backup', 'restore')",
                [
                    include_str!("../../migrations/sqlite/0004_run_kinds.sql"),
                    include_str!("../../migrations/postgres/0004_run_kinds.sql"),
                ],
            ),
            (
                "runs_one_pruner",
                vec![RunKind::Prune],
                "kind = 'prune'",
                [
                    include_str!("../../migrations/sqlite/0006_retention.sql"),
                    include_str!("../../migrations/postgres/0006_retention.sql"),
                ],
            ),
        ];
        for k in RunKind::ALL.iter().filter(|k| k.conflicts_with(**k)) {
            let covering: Vec<&str> = indexes
                .iter()
                .filter(|(_, kinds, ..)| kinds.contains(k))
                .map(|(name, ..)| *name)
                .collect();
            assert_eq!(
                covering.len(),
                1,
                "{k} needs exactly one index: {covering:?}"
            );
        }
        for (name, kinds, clause, sqls) in &indexes {
            for a in kinds {
                for b in kinds {
                    assert!(a.conflicts_with(*b), "{name}: {a} and {b} do not conflict");
                }
            }
            for sql in sqls {
                assert!(
                    sql.contains(&format!("UNIQUE INDEX {name} ON runs (job_id)"))
                        && sql.contains(&format!("WHERE state = 'running' AND {clause}")),
                    "{name} must say {clause}"
                );
            }
        }
    }

    #[test]
    fn the_claim_sql_is_the_rule_written_out() {
        assert_eq!(
            conflict_sql("r", "b"),
            "((r.kind = 'backup' AND b.kind IN ('backup', 'restore')) \
             OR (r.kind = 'restore' AND b.kind IN ('backup', 'restore', 'prune')) \
             OR (r.kind = 'verify' AND b.kind IN ('prune')) \
             OR (r.kind = 'test_restore' AND b.kind IN ('prune')) \
             OR (r.kind = 'prune' AND b.kind IN ('restore', 'verify', 'test_restore', 'prune')))"
        );
    }
}
