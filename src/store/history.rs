//! History pruning: finished runs, purged backup rows and settled
//! notification deliveries older than a cutoff, deleted in small batches so
//! the store stops growing and no batch holds the write lock for long.
//!
//! Batches walk ids (ULIDs, so time order) through the primary key: a window
//! of at most `batch` ids after a cursor and below the cutoff's first id, then
//! one `DELETE` of the window's rows that may go. What must stay is skipped,
//! not waited for: a run that is not finished, whose outcome the alerting
//! has not folded yet (`alerted = 0`, unless its job was deleted: nothing
//! will ever fold it), or that a backup row still stored
//! (live or in the trash) names. Counters (`run_totals`, the histograms)
//! are not touched: they count every run ever finished.

use super::{Store, StoreError, q};
use crate::domain::first_id_at;
use sqlx::{AssertSqlSafe, Row};

/// What one batch did, and where the next one starts.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PruneBatch {
    /// Rows deleted.
    pub deleted: u64,
    /// The last id the window covered; `None` when it was empty (the walk
    /// reached the cutoff).
    pub last_id: Option<String>,
}

/// The tables history pruning walks, each with what its old rows must
/// satisfy to go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HistoryTable {
    Runs,
    /// Rows of backups whose artifacts were purged from storage.
    PurgedBackups,
    /// Deliveries sent or given up on, with their attempts.
    Deliveries,
}

impl HistoryTable {
    pub const ALL: [HistoryTable; 3] = [
        HistoryTable::Runs,
        HistoryTable::PurgedBackups,
        HistoryTable::Deliveries,
    ];

    fn table(self) -> &'static str {
        match self {
            HistoryTable::Runs => "runs",
            HistoryTable::PurgedBackups => "backups",
            HistoryTable::Deliveries => "deliveries",
        }
    }

    /// The condition, beyond the id window, for a row to be deleted; `$3` is
    /// the cutoff in Unix ms.
    fn may_go(self) -> &'static str {
        match self {
            HistoryTable::Runs => {
                "state IN ('succeeded', 'partial', 'failed', 'cancelled')
                 AND finished_at < $3
                 AND (alerted = 1 OR NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = runs.job_id))
                 AND NOT EXISTS (SELECT 1 FROM backups b
                                 WHERE b.run_id = runs.id AND b.deleted_at IS NULL)"
            }
            HistoryTable::PurgedBackups => "deleted_at IS NOT NULL AND deleted_at < $3",
            HistoryTable::Deliveries => "state IN ('sent', 'failed') AND updated_at < $3",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HistoryTable::Runs => "runs",
            HistoryTable::PurgedBackups => "purged backups",
            HistoryTable::Deliveries => "deliveries",
        }
    }
}

impl Store {
    /// One batch of pruning in `table`: among the next `batch` rows after
    /// `after` (by id) made before `cutoff_ms`, deletes those that may go.
    pub async fn prune_history_batch(
        &self,
        table: HistoryTable,
        after: &str,
        cutoff_ms: i64,
        batch: i64,
    ) -> Result<PruneBatch, StoreError> {
        let name = table.table();
        let last: Option<String> = sqlx::query(AssertSqlSafe(format!(
            "SELECT MAX(id) AS last FROM (SELECT id FROM {name}
                                           WHERE id > $1 AND id < $2 ORDER BY id LIMIT {batch}) w",
            batch = batch.clamp(1, 10_000)
        )))
        .bind(after)
        .bind(first_id_at(cutoff_ms))
        .fetch_one(&self.pool)
        .await
        .map_err(q("find old history"))?
        .try_get("last")
        .map_err(super::corrupt)?;
        let Some(last) = last else {
            return Ok(PruneBatch::default());
        };
        let window = "id > $1 AND id <= $2";
        let mut statements = Vec::new();
        if table == HistoryTable::Deliveries {
            // Attempts first: they name their delivery.
            statements.push(format!(
                "DELETE FROM delivery_attempts WHERE delivery_id IN
                   (SELECT id FROM deliveries WHERE {window} AND {})",
                table.may_go()
            ));
        }
        statements.push(format!(
            "DELETE FROM {name} WHERE {window} AND {}",
            table.may_go()
        ));
        let mut tx = self.pool.begin().await.map_err(q("prune history"))?;
        let mut deleted = 0;
        for sql in statements {
            deleted = sqlx::query(AssertSqlSafe(sql))
                .bind(after)
                .bind(&last)
                .bind(cutoff_ms)
                .execute(&mut *tx)
                .await
                .map_err(q("prune history"))?
                .rows_affected();
        }
        tx.commit().await.map_err(q("prune history"))?;
        // The last statement's count: the table's own rows.
        Ok(PruneBatch {
            deleted,
            last_id: Some(last),
        })
    }
}
