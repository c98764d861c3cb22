//! Retention: the plan of a job's policy on its real backups (or of a policy
//! being written, before it is saved), applying it now, the trash and its
//! undelete, and `storage reconcile`. The work itself is the runner's `prune`
//! kind, whoever asks: after each backup, on demand, or from the CLI.

use super::{Actor, Sauve, ServiceError, instance_name};
use crate::domain::{Backup, Destination, JobSpec, RunKind, RunParams};
use crate::policy::retention::RetentionSpec;
use crate::runner::{
    Executed, Output, PruneReport, ReconcileReport, RetentionPlan, Stopper, plan_destination,
    reconcile,
};
use crate::storage::Storage;
use crate::store::{NewRun, Trashed};

impl Sauve {
    /// What the job's policy keeps and removes at each destination now;
    /// with `proposed`, what that policy would do in place of the job's
    /// (destinations' own tables still apply). Nothing is changed.
    pub async fn retention_plan(
        &self,
        name: &str,
        proposed: Option<RetentionSpec>,
    ) -> Result<Vec<RetentionPlan>, ServiceError> {
        let stored = self.store.job(name).await?;
        let mut spec: JobSpec = stored.spec;
        if let Some(p) = proposed {
            spec.retention = Some(p);
        }
        let job = spec.validate()?;
        let keys = self.runner.keyring().await?;
        let now = crate::store::ts(self.store.db_now().await?);
        let mut plans = Vec::new();
        for (dest, policy) in job.destinations.iter().zip(&job.retention) {
            let planned = match Storage::open(dest, &keys) {
                Ok(storage) => plan_destination(&self.store, &storage, &job, policy, now).await,
                Err(e) => Err(e.into()),
            };
            // One unreachable destination does not hide the others' plans.
            plans.push(planned.unwrap_or_else(|e| RetentionPlan {
                destination: dest.uri(),
                plan: crate::policy::retention::Plan {
                    keep: vec![],
                    remove: vec![],
                    refused: None,
                },
                not_counted: vec![],
                error: Some(e.to_string()),
            }));
        }
        Ok(plans)
    }

    /// Applies the job's policy now, in this process (`sauve retention
    /// apply`), as a `prune` run: removed backups go to the trash, and the
    /// trash whose grace period is over is purged.
    pub async fn apply_retention(
        &self,
        actor: &Actor,
        name: &str,
        destination: Option<&str>,
        stopper: Stopper,
    ) -> Result<(crate::domain::Run, PruneReport), ServiceError> {
        let stored = self.store.job(name).await?;
        let job = stored.spec.validate()?;
        let destination = match destination {
            None => None,
            Some(uri) => {
                let wanted = Destination::parse(uri).map_err(ServiceError::Invalid)?;
                let found = job.destinations.iter().find(|d| **d == wanted);
                Some(found.map(|d| d.uri()).ok_or_else(|| {
                    ServiceError::Store(crate::store::StoreError::NotFound {
                        what: "destination of the job",
                        key: uri.to_string(),
                    })
                })?)
            }
        };
        let new = Self::prune_run(&stored.id, &stored.name, actor, destination.clone());
        let audit = super::runs::Audited {
            actor,
            action: "retention.apply",
            target: name,
            detail: destination.as_deref(),
        };
        match self.run_in_foreground(new, audit, stopper).await? {
            (run, Output::Prune(report)) => Ok((run, report)),
            _ => Err(ServiceError::Internal(
                "a prune run produced no report".into(),
            )),
        }
    }

    /// Queues a prune of the job (the API's "apply retention").
    pub async fn enqueue_prune(
        &self,
        actor: &Actor,
        name: &str,
    ) -> Result<(crate::domain::Run, bool), ServiceError> {
        let stored = self.store.job(name).await?;
        stored.spec.validate()?;
        // Twenty clicks, one prune: one already waiting will do.
        if let Some(run) = self.store.waiting_run(&stored.name, RunKind::Prune).await? {
            return Ok((run, false));
        }
        let (run, created) = self
            .store
            .enqueue(&Self::prune_run(&stored.id, &stored.name, actor, None))
            .await?;
        if created {
            self.runner.wake();
            let detail = format!("run {}", run.id);
            self.audit(actor, "retention.apply", Some(name), Some(&detail))
                .await;
        }
        Ok((run, created))
    }

    fn prune_run<'a>(
        job_id: &'a str,
        job_name: &'a str,
        actor: &Actor,
        destination: Option<String>,
    ) -> NewRun<'a> {
        let params = RunParams::Prune {
            destination,
            after_run: None,
        };
        NewRun {
            job_id,
            job_name,
            kind: RunKind::Prune,
            trigger: actor.trigger(),
            params: Some(serde_json::to_string(&params).expect("params serialise")),
            scheduled_for: None,
            idempotency_key: None,
            max_attempts: 1,
        }
    }

    /// Runs the prune a foreground backup queued, here and now, unless a
    /// server's worker took it first. Its failure does not fail the backup:
    /// it is reported beside it.
    pub(super) async fn run_follow_up(&self, id: &str) -> Option<crate::domain::Run> {
        match self
            .runner
            .execute_queued(id, &instance_name(), Stopper::default())
            .await
        {
            Ok(Some(Executed::Finished { run, .. })) => Some(*run),
            Ok(_) => self.store.run(id).await.ok(),
            Err(e) => {
                tracing::warn!(run = %id, error = %e, "the prune after the backup did not run");
                None
            }
        }
    }

    /// Backups in the trash, newest first.
    pub async fn trash(&self, job: Option<&str>, limit: i64) -> Result<Vec<Trashed>, ServiceError> {
        Ok(self.store.trashed(job, limit).await?)
    }

    /// Takes a backup out of the trash: live again, counted by the policy
    /// again (the next prune may trash it again unless the policy changed).
    pub async fn undelete(&self, actor: &Actor, id: &str) -> Result<Backup, ServiceError> {
        let backup = self.store.undelete(id).await?;
        let detail = format!("{} {}", backup.destination, backup.key);
        self.audit(actor, "backup.undelete", Some(&backup.id), Some(&detail))
            .await;
        Ok(backup)
    }

    /// Compares a destination with the store (of one job, or every job) and,
    /// with `apply`, repairs what differs.
    pub async fn reconcile(
        &self,
        actor: &Actor,
        uri: &str,
        job: Option<&str>,
        apply: bool,
    ) -> Result<ReconcileReport, ServiceError> {
        let dest = Destination::parse(uri).map_err(ServiceError::Invalid)?;
        let storage = Storage::open(&dest, &self.runner.keyring().await?)?;
        let now = crate::store::ts(self.store.db_now().await?);
        let report = reconcile(&self.store, &storage, job, apply, now).await?;
        if apply {
            let repaired = report.findings.iter().filter(|f| f.applied).count();
            let detail = format!("{repaired} of {} repaired", report.findings.len());
            self.audit(actor, "storage.reconcile", Some(&dest.uri()), Some(&detail))
                .await;
        }
        Ok(report)
    }
}
