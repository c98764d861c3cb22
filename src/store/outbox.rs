//! Notifications in the store: each job's alerting [`Health`], and the
//! outbox of deliveries.
//!
//! - A job's health moves by compare-and-set on its `version`, in the same
//!   transaction as the deliveries its alerts make: two instances folding
//!   the same run cannot both alert, and a crash cannot alert without
//!   recording why (or the other way round).
//! - A delivery is keyed by `(event_key, channel)`; a second insert of the
//!   same key inserts nothing, so any number of instances (or a replay after
//!   a crash) deliver each event to each channel once.
//! - Deliveries are claimed with a lease like runs (PostgreSQL `FOR UPDATE
//!   SKIP LOCKED`), fenced by `(lease_owner, attempts)`, and every attempt is
//!   recorded in `delivery_attempts`.
//!
//! Times are the database's clock where instances must agree (leases, due
//! times).

use super::{Engine, Store, StoreError, corrupt, q, records, ts};
use crate::domain::Run;
use crate::policy::alerts::Health;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::{AssertSqlSafe, Row};

/// A delivery to insert.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub event_key: String,
    /// The channel's URI (names only, never a secret's value).
    pub channel: String,
    pub channel_kind: String,
    pub event: String,
    pub job: Option<String>,
    pub run_id: Option<String>,
    /// The event as JSON: the same body for every attempt.
    pub payload: String,
}

/// One (event, channel) delivery and where it stands.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Delivery {
    pub id: String,
    pub event_key: String,
    pub channel: String,
    pub channel_kind: String,
    pub event: String,
    pub job: Option<String>,
    pub run_id: Option<String>,
    /// `pending` (waiting for its next attempt), `sending`, `sent`, or
    /// `failed` (every attempt spent).
    pub state: String,
    pub attempts: i64,
    #[schemars(with = "String")]
    pub next_attempt_at: Timestamp,
    /// The receiver's last HTTP status (or SMTP reply code).
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    #[schemars(with = "String")]
    pub created_at: Timestamp,
    #[schemars(with = "Option<String>")]
    pub sent_at: Option<Timestamp>,
    #[serde(skip)]
    pub payload: String,
    #[serde(skip)]
    pub(crate) owner: Option<String>,
}

/// How one attempt went.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DeliveryAttempt {
    pub attempt: i64,
    #[schemars(with = "String")]
    pub at: Timestamp,
    pub ok: bool,
    pub status: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// Which deliveries to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub job: Option<String>,
    pub channel: Option<String>,
    pub state: Option<String>,
    /// Only deliveries older than this id (the previous page's last).
    pub before_id: Option<String>,
    pub limit: i64,
}

const DELIVERY_COLUMNS: &str =
    "id, event_key, channel, channel_kind, event, job_name, run_id, payload, state, attempts,
     next_attempt_at, lease_owner, last_status, last_error, created_at, sent_at";

fn delivery_from_row(row: &sqlx::any::AnyRow) -> Result<Delivery, StoreError> {
    Ok(Delivery {
        id: row.try_get("id").map_err(corrupt)?,
        event_key: row.try_get("event_key").map_err(corrupt)?,
        channel: row.try_get("channel").map_err(corrupt)?,
        channel_kind: row.try_get("channel_kind").map_err(corrupt)?,
        event: row.try_get("event").map_err(corrupt)?,
        job: row.try_get("job_name").map_err(corrupt)?,
        run_id: row.try_get("run_id").map_err(corrupt)?,
        payload: row.try_get("payload").map_err(corrupt)?,
        state: row.try_get("state").map_err(corrupt)?,
        attempts: row.try_get("attempts").map_err(corrupt)?,
        next_attempt_at: ts(row.try_get("next_attempt_at").map_err(corrupt)?),
        owner: row.try_get("lease_owner").map_err(corrupt)?,
        last_status: row.try_get("last_status").map_err(corrupt)?,
        last_error: row.try_get("last_error").map_err(corrupt)?,
        created_at: ts(row.try_get("created_at").map_err(corrupt)?),
        sent_at: row
            .try_get::<Option<i64>, _>("sent_at")
            .map_err(corrupt)?
            .map(ts),
    })
}

async fn insert_deliveries(
    conn: &mut sqlx::AnyConnection,
    now_sql: &str,
    deliveries: &[NewDelivery],
) -> Result<u64, StoreError> {
    let mut inserted = 0;
    for d in deliveries {
        let done = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO deliveries (id, event_key, channel, channel_kind, event, job_name, run_id, payload,
                                     state, attempts, next_attempt_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 0, {now_sql}, {now_sql}, {now_sql})
             ON CONFLICT DO NOTHING"
        )))
        .bind(crate::domain::new_id())
        .bind(&d.event_key)
        .bind(&d.channel)
        .bind(&d.channel_kind)
        .bind(&d.event)
        .bind(d.job.as_deref())
        .bind(d.run_id.as_deref())
        .bind(&d.payload)
        .execute(&mut *conn)
        .await
        .map_err(q("queue a notification"))?;
        inserted += done.rows_affected();
    }
    Ok(inserted)
}

impl Store {
    /// A job's health (by job id) and its version (None: never saved).
    pub async fn health(&self, job_id: &str) -> Result<(Health, Option<i64>), StoreError> {
        let row = sqlx::query("SELECT health, version FROM job_health WHERE job_id = $1")
            .bind(job_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(q("read job health"))?;
        let Some(row) = row else {
            return Ok((Health::default(), None));
        };
        let json: String = row.try_get("health").map_err(corrupt)?;
        let health = serde_json::from_str(&json)
            .map_err(|e| StoreError::Corrupt(format!("job health: {e}")))?;
        Ok((health, Some(row.try_get("version").map_err(corrupt)?)))
    }

    /// Every job's health, by job id (`/metrics`).
    pub async fn all_health(&self) -> Result<Vec<(String, Health)>, StoreError> {
        sqlx::query("SELECT job_id, health FROM job_health ORDER BY job_id")
            .fetch_all(&self.pool)
            .await
            .map_err(q("read job health"))?
            .iter()
            .map(|row| {
                let json: String = row.try_get("health").map_err(corrupt)?;
                Ok((
                    row.try_get("job_id").map_err(corrupt)?,
                    serde_json::from_str(&json)
                        .map_err(|e| StoreError::Corrupt(format!("job health: {e}")))?,
                ))
            })
            .collect()
    }

    /// Moves a job's health from `version` (None: not saved yet) to
    /// `health`, marks the runs `folded` into it as told, and queues
    /// `deliveries`, in one transaction. False (and nothing written) when
    /// another instance moved it first.
    pub async fn save_health(
        &self,
        job_id: &str,
        version: Option<i64>,
        health: &Health,
        deliveries: &[NewDelivery],
        folded: &[&str],
    ) -> Result<bool, StoreError> {
        let json = serde_json::to_string(health).expect("Health serialises");
        let mut tx = self.pool.begin().await.map_err(q("begin"))?;
        let now = self.now_sql();
        let done = match version {
            None => sqlx::query(AssertSqlSafe(format!(
                "INSERT INTO job_health (job_id, health, version, updated_at) VALUES ($1, $2, 0, {now})
                 ON CONFLICT DO NOTHING"
            )))
            .bind(job_id)
            .bind(&json)
            .execute(&mut *tx)
            .await,
            Some(v) => sqlx::query(AssertSqlSafe(format!(
                "UPDATE job_health SET health = $1, version = version + 1, updated_at = {now}
                 WHERE job_id = $2 AND version = $3"
            )))
            .bind(&json)
            .bind(job_id)
            .bind(v)
            .execute(&mut *tx)
            .await,
        }
        .map_err(q("save job health"))?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        for run in folded {
            sqlx::query("UPDATE runs SET alerted = 1 WHERE id = $1")
                .bind(run)
                .execute(&mut *tx)
                .await
                .map_err(q("mark a run told"))?;
        }
        insert_deliveries(&mut tx, now, deliveries).await?;
        tx.commit().await.map_err(q("commit"))?;
        Ok(true)
    }

    /// Queues deliveries outside any streak (per-run pings, tests); returns
    /// how many were new.
    pub async fn queue_deliveries(&self, deliveries: &[NewDelivery]) -> Result<u64, StoreError> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(q("queue a notification"))?;
        insert_deliveries(&mut conn, self.now_sql(), deliveries).await
    }

    /// The job's (by id) finished runs the alerting has not folded yet, in
    /// the order they ended, each with its notice (`retention.refused`).
    pub async fn unalerted_runs(
        &self,
        job_id: &str,
        limit: i64,
    ) -> Result<Vec<(Run, Option<String>)>, StoreError> {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {}, notice FROM runs WHERE job_id = $1 AND alerted = 0 AND finished_at IS NOT NULL
             ORDER BY finished_at, id LIMIT {}",
            records::RUN_COLUMNS,
            limit.clamp(1, 10_000)
        )))
        .bind(job_id)
        .fetch_all(&self.pool)
        .await
        .map_err(q("list runs to tell"))?
        .iter()
        .map(|row| {
            Ok((
                records::run_from_row(row)?,
                row.try_get("notice").map_err(corrupt)?,
            ))
        })
        .collect()
    }

    /// Takes the oldest due delivery (of run `only`, when given), leased to
    /// `owner`; a delivery whose sender died is taken again once its lease
    /// expires.
    pub async fn claim_delivery(
        &self,
        owner: &str,
        lease_ms: i64,
        only_run: Option<&str>,
    ) -> Result<Option<Delivery>, StoreError> {
        let now = self.now_sql();
        let lock = match self.engine {
            Engine::Postgres => "FOR UPDATE SKIP LOCKED",
            Engine::Sqlite => "",
        };
        let due = format!(
            "((state = 'pending' AND next_attempt_at <= {now})
              OR (state = 'sending' AND lease_expires_at < {now}))"
        );
        let only = if only_run.is_some() {
            "AND run_id = $3"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE deliveries SET state = 'sending', lease_owner = $1, lease_expires_at = {now} + $2,
                    attempts = attempts + 1, updated_at = {now}
             WHERE {due} AND id = (SELECT id FROM deliveries WHERE {due} {only}
                                   ORDER BY next_attempt_at, id LIMIT 1 {lock})
             RETURNING {DELIVERY_COLUMNS}"
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(owner).bind(lease_ms);
        if let Some(run) = only_run {
            query = query.bind(run);
        }
        query
            .fetch_optional(&self.pool)
            .await
            .map_err(q("claim a notification"))?
            .as_ref()
            .map(delivery_from_row)
            .transpose()
    }

    /// Records an attempt of a claimed delivery: sent, retried after
    /// `retry_in_ms`, or failed for good (`retry_in_ms` None). False when the
    /// lease was lost (another instance took the delivery).
    pub async fn finish_delivery(
        &self,
        d: &Delivery,
        attempt: &DeliveryAttempt,
        retry_in_ms: Option<i64>,
    ) -> Result<bool, StoreError> {
        let now = self.now_sql();
        let state = match (attempt.ok, retry_in_ms) {
            (true, _) => "sent",
            (false, Some(_)) => "pending",
            (false, None) => "failed",
        };
        let mut tx = self.pool.begin().await.map_err(q("begin"))?;
        let done = sqlx::query(AssertSqlSafe(format!(
            "UPDATE deliveries SET state = $1, last_status = $2, last_error = $3,
                    next_attempt_at = {now} + $4, lease_owner = NULL, lease_expires_at = NULL,
                    updated_at = {now}, sent_at = CASE WHEN $1 = 'sent' THEN {now} ELSE NULL END
             WHERE id = $5 AND lease_owner = $6 AND attempts = $7 AND state = 'sending'"
        )))
        .bind(state)
        .bind(attempt.status)
        .bind(attempt.error.as_deref())
        .bind(retry_in_ms.unwrap_or(0))
        .bind(&d.id)
        .bind(d.owner.as_deref())
        .bind(d.attempts)
        .execute(&mut *tx)
        .await
        .map_err(q("record a notification attempt"))?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        // The run's log says what became of its notifications, once each
        // is settled (sent, or failed for good), not at every retry.
        if let (Some(run), true) = (&d.run_id, state != "pending") {
            // The channel's kind and host, not its URI: a ping's or a
            // webhook's URL may be a capability, and logs travel (log tails
            // go to other channels).
            let host = url::Url::parse(&d.channel)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_default();
            let line = format!(
                "\n{} notification {} to {} {}: {}{}",
                attempt.at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ"),
                d.event,
                d.channel_kind,
                host,
                state,
                match (&attempt.status, &attempt.error) {
                    (_, Some(e)) => format!(" after {} attempts ({e})", attempt.attempt),
                    (Some(code), None) => format!(" ({code})"),
                    (None, None) => String::new(),
                }
            );
            sqlx::query("UPDATE runs SET log = log || $1 WHERE id = $2")
                .bind(super::cap_log(&line))
                .bind(run)
                .execute(&mut *tx)
                .await
                .map_err(q("note a notification in the run's log"))?;
        }
        sqlx::query(
            "INSERT INTO delivery_attempts (delivery_id, attempt, at, ok, status, error, duration_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        )
        .bind(&d.id)
        .bind(attempt.attempt)
        .bind(attempt.at.as_millisecond())
        .bind(attempt.ok as i64)
        .bind(attempt.status)
        .bind(attempt.error.as_deref())
        .bind(attempt.duration_ms)
        .execute(&mut *tx)
        .await
        .map_err(q("record a notification attempt"))?;
        tx.commit().await.map_err(q("commit"))?;
        Ok(true)
    }

    /// A setting one instance publishes for all (`notify`: the server's
    /// default channels, as a JSON list).
    pub async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(q("read a setting"))?;
        row.map(|r| r.try_get("value").map_err(corrupt)).transpose()
    }

    pub async fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, {now})
             ON CONFLICT (key) DO UPDATE SET value = $2, updated_at = {now}",
            now = self.now_sql()
        )))
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await
        .map_err(q("write a setting"))?;
        Ok(())
    }

    /// Deliveries, newest first.
    pub async fn deliveries(&self, f: &DeliveryFilter) -> Result<Vec<Delivery>, StoreError> {
        let mut sql = format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE 1 = 1");
        let mut args: Vec<&str> = Vec::new();
        for (col, v) in [
            ("job_name", &f.job),
            ("channel", &f.channel),
            ("state", &f.state),
        ] {
            if let Some(v) = v {
                args.push(v);
                sql.push_str(&format!(" AND {col} = ${}", args.len()));
            }
        }
        if let Some(before) = &f.before_id {
            args.push(before);
            sql.push_str(&format!(" AND id < ${}", args.len()));
        }
        sql.push_str(&format!(
            " ORDER BY id DESC LIMIT {}",
            f.limit.clamp(1, 1000)
        ));
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for a in args {
            query = query.bind(a);
        }
        query
            .fetch_all(&self.pool)
            .await
            .map_err(q("list notifications"))?
            .iter()
            .map(delivery_from_row)
            .collect()
    }

    /// A delivery's attempts, first first.
    pub async fn delivery_attempts(&self, id: &str) -> Result<Vec<DeliveryAttempt>, StoreError> {
        sqlx::query(
            "SELECT attempt, at, ok, status, error, duration_ms FROM delivery_attempts
             WHERE delivery_id = $1 ORDER BY attempt",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(q("list notification attempts"))?
        .iter()
        .map(|row| {
            Ok(DeliveryAttempt {
                attempt: row.try_get("attempt").map_err(corrupt)?,
                at: ts(row.try_get("at").map_err(corrupt)?),
                ok: row.try_get::<i64, _>("ok").map_err(corrupt)? != 0,
                status: row.try_get("status").map_err(corrupt)?,
                error: row.try_get("error").map_err(corrupt)?,
                duration_ms: row.try_get("duration_ms").map_err(corrupt)?,
            })
        })
        .collect()
    }
}
