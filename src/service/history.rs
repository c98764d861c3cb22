//! Keeping history bounded (`serve --keep-runs`): runs, purged backup rows
//! and settled deliveries older than the window are deleted in small batches
//! (the store's `history.rs` says what is never deleted), with a pause
//! between batches so backups and the page keep the store's write lock when
//! they need it (SQLite has one writer).

use super::{Sauve, ServiceError};
use crate::store::HistoryTable;
use std::time::Duration;
use tokio::sync::watch;

/// Rows per batch: a few milliseconds of one writer's time.
const BATCH: i64 = 500;
/// Between batches.
const PAUSE: Duration = Duration::from_millis(20);

/// What one pass deleted, per table, in `HistoryTable::ALL` order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct HistoryPruned {
    pub deleted: Vec<(HistoryTable, u64)>,
}

impl HistoryPruned {
    pub fn total(&self) -> u64 {
        self.deleted.iter().map(|(_, n)| n).sum()
    }
}

impl Sauve {
    /// One pass over the history older than `keep`, batch after batch, until
    /// the cutoff or until `stop` turns true.
    pub async fn prune_history(
        &self,
        keep: Duration,
        stop: &watch::Receiver<bool>,
    ) -> Result<HistoryPruned, ServiceError> {
        let cutoff = crate::store::now_ms() - keep.as_millis().min(i64::MAX as u128) as i64;
        let mut out = HistoryPruned::default();
        for table in HistoryTable::ALL {
            let mut after = String::new();
            let mut deleted = 0;
            while !*stop.borrow() {
                let batch = self
                    .store
                    .prune_history_batch(table, &after, cutoff, BATCH)
                    .await?;
                deleted += batch.deleted;
                match batch.last_id {
                    Some(last) => after = last,
                    None => break,
                }
                tokio::time::sleep(PAUSE).await;
            }
            out.deleted.push((table, deleted));
        }
        Ok(out)
    }
}
