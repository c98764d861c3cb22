//! What proves backups restorable, as the store keeps it: each backup's last
//! test restore (its time and report), and the scratch targets test restores
//! create, written down before they exist so a sweep finds those a dead
//! process left behind.

use super::{Store, StoreError, corrupt, now_ms, q};
use crate::domain::proof::TestRestoreReport;
use sqlx::Row;

/// A scratch target as written down: its name, the run that made it, its
/// kind (`postgres`, `mysql`, `sqlite`, `files`) and where it is (JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScratchRow {
    pub name: String,
    pub run_id: String,
    pub kind: String,
    pub location: String,
}

impl Store {
    /// Keeps a test restore's report on its backup; `test_restored_at` says
    /// when. A backup the store does not know is left as it is.
    pub async fn record_test_restore(
        &self,
        id: &str,
        report: &TestRestoreReport,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(report).expect("a report serialises");
        sqlx::query("UPDATE backups SET test_restored_at = $1, test_restore = $2 WHERE id = $3")
            .bind(now_ms())
            .bind(json)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(q("record a test restore"))?;
        Ok(())
    }

    /// The test restore a new one of backup `except` is compared with: that
    /// of the newest backup of `job` taken before it (an older backup tested
    /// after a newer one is not held to the newer one's growth).
    pub async fn previous_test_restore(
        &self,
        job: &str,
        except: &str,
    ) -> Result<Option<TestRestoreReport>, StoreError> {
        let row = sqlx::query(
            "SELECT test_restore FROM backups WHERE job_name = $1 AND id <> $2
             AND test_restore IS NOT NULL
             AND created_at < (SELECT created_at FROM backups WHERE id = $2)
             ORDER BY created_at DESC LIMIT 1",
        )
        .bind(job)
        .bind(except)
        .fetch_optional(&self.pool)
        .await
        .map_err(q("find the previous test restore"))?;
        match row {
            None => Ok(None),
            Some(r) => {
                let json: String = r.try_get("test_restore").map_err(corrupt)?;
                serde_json::from_str(&json)
                    .map(Some)
                    .map_err(|e| StoreError::Corrupt(format!("a test restore report: {e}")))
            }
        }
    }

    /// Writes a scratch target down before it is created. Each attempt's
    /// name is its own: a row already there is an error, never shared.
    pub async fn add_scratch(&self, s: &ScratchRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO scratch_targets (name, run_id, kind, location, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&s.name)
        .bind(&s.run_id)
        .bind(&s.kind)
        .bind(&s.location)
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(q("write a scratch target down"))?;
        Ok(())
    }

    /// Forgets a scratch target once it is dropped.
    pub async fn remove_scratch(&self, name: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM scratch_targets WHERE name = $1")
            .bind(name)
            .execute(&self.pool)
            .await
            .map_err(q("forget a scratch target"))?;
        Ok(())
    }

    /// Takes a scratch target's row for a sweep to drop it: deleted only if
    /// its run is still not running under a live lease, so two instances'
    /// sweeps never both drop it, and none drops one a live run uses. False:
    /// someone else took it, or its run is alive. A sweep that cannot drop
    /// it writes it down again (`add_scratch`).
    pub async fn take_orphan_scratch(&self, name: &str) -> Result<bool, StoreError> {
        let now = self.db_now().await?;
        let done = sqlx::query(
            "DELETE FROM scratch_targets WHERE name = $1
             AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = scratch_targets.run_id
                 AND r.state = 'running' AND r.lease_expires_at > $2)",
        )
        .bind(name)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(q("take a scratch target to sweep"))?;
        Ok(done.rows_affected() == 1)
    }

    /// Scratch targets whose run is not running under a live lease: the
    /// process that made them is gone (or finished without dropping them).
    pub async fn orphan_scratch(&self) -> Result<Vec<ScratchRow>, StoreError> {
        let now = self.db_now().await?;
        let rows = sqlx::query(
            "SELECT s.name, s.run_id, s.kind, s.location FROM scratch_targets s
             WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = s.run_id
                 AND r.state = 'running' AND r.lease_expires_at > $1)
             ORDER BY s.created_at",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .map_err(q("list orphan scratch targets"))?;
        rows.iter()
            .map(|r| {
                Ok(ScratchRow {
                    name: r.try_get("name").map_err(corrupt)?,
                    run_id: r.try_get("run_id").map_err(corrupt)?,
                    kind: r.try_get("kind").map_err(corrupt)?,
                    location: r.try_get("location").map_err(corrupt)?,
                })
            })
            .collect()
    }
}
