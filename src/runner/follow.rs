//! Runs that follow a run: after a backup that stored something, a verify of
//! each new backup the job re-reads at once (`verify_after_backup`), then the
//! prune of its job. Queued (once per backup, or per backup run, whichever
//! instance finishes it) so any worker may take them; a foreground caller
//! executes them at once.

use super::{Executed, Runner, Stopper};
use crate::domain::{RunKind, RunParams};
use crate::store::{Claim, StoreError, StoredJob};

impl Runner {
    /// After a backup, queues a `verify` of each new backup at a destination
    /// the job re-reads right away (`Job::verifies_after_backup`), once per
    /// backup (idempotency key `verify-after:ID`). A failure to queue one is
    /// logged: the scheduled verification still covers it.
    pub(super) async fn queue_verify_after(
        &self,
        claim: &Claim,
        job: &StoredJob,
        backups: &[crate::domain::Backup],
    ) -> Vec<String> {
        let Ok(valid) = job.spec.validate() else {
            return vec![];
        };
        let mut queued = Vec::new();
        for b in backups
            .iter()
            .filter(|b| valid.verifies_after_backup(&b.destination))
        {
            let params = RunParams::Verify {
                backup: crate::domain::BackupLocator {
                    id: b.id.clone(),
                    destination: None,
                },
                keys: crate::domain::KeyNames::default(),
            };
            let key = format!("verify-after:{}", b.id);
            let new = crate::store::NewRun {
                job_id: &job.id,
                job_name: &job.name,
                kind: RunKind::Verify,
                trigger: claim.run.trigger,
                params: Some(serde_json::to_string(&params).expect("params serialise")),
                scheduled_for: None,
                idempotency_key: Some(&key),
                max_attempts: RunKind::Verify.max_attempts(claim.max_attempts as u32),
            };
            match self.store.enqueue(&new).await {
                Ok((run, _)) => queued.push(run.id),
                Err(e) => {
                    tracing::warn!(job = %job.name, backup = %b.id, error = %e, "could not queue the verify after a backup")
                }
            }
        }
        if !queued.is_empty() {
            self.wake();
        }
        queued
    }

    /// After a backup that stored something, queues a prune of its job (once
    /// per backup run, whichever instance asks) when there is anything to
    /// prune: keep rules, or a trash to purge. A failure to queue it is
    /// logged, not fatal: the backup itself is recorded, and the next one
    /// queues a prune again.
    pub(super) async fn queue_prune_after(&self, claim: &Claim, job: &StoredJob) -> Option<String> {
        let has_rules = job.spec.validate().is_ok_and(|j| j.has_retention());
        let wanted = has_rules || self.store.has_trash(&job.name).await.unwrap_or(true);
        if !wanted {
            return None;
        }
        // A prune already waiting will see this backup too: one is enough.
        if let Ok(Some(run)) = self.store.waiting_run(&job.name, RunKind::Prune).await {
            return Some(run.id);
        }
        let params = RunParams::Prune {
            destination: None,
            after_run: Some(claim.run.id.clone()),
        };
        let key = format!("prune-after:{}", claim.run.id);
        let new = crate::store::NewRun {
            job_id: &job.id,
            job_name: &job.name,
            kind: RunKind::Prune,
            trigger: claim.run.trigger,
            params: Some(serde_json::to_string(&params).expect("params serialise")),
            scheduled_for: None,
            idempotency_key: Some(&key),
            max_attempts: RunKind::Prune.max_attempts(claim.max_attempts as u32),
        };
        match self.store.enqueue(&new).await {
            Ok((run, _)) => {
                self.wake();
                Some(run.id)
            }
            Err(e) => {
                tracing::warn!(job = %job.name, error = %e, "could not queue the prune after a backup");
                None
            }
        }
    }

    /// Claims the queued run `id` and executes it here, unless another
    /// worker took it first (then None).
    pub async fn execute_queued(
        &self,
        id: &str,
        owner: &str,
        stopper: Stopper,
    ) -> Result<Option<Executed>, StoreError> {
        match self
            .store
            .claim(owner, self.timing.lease_ms(), Some(id))
            .await?
        {
            Some(claim) => Ok(Some(self.execute(&claim, stopper).await?)),
            None => Ok(None),
        }
    }
}
