//! Restores: checked up front (the backup exists, the target parses and is not
//! refused, the keys open it), then executed by the runner as a `restore` run,
//! in the foreground (the CLI) or through the queue (the API and the page), so
//! a restore is leased, cancellable, drained on shutdown and ended when its
//! worker dies, like any run.

use super::{Actor, KeyOptions, Sauve, ServiceError};
use crate::domain::{Run, RunKind, RunParams};
use crate::restore::{resolve_keys, restore_target};
use crate::runner::{Output, RestoreOutcome, RunError, Stopper};
use crate::store::NewRun;

use super::BackupRef;

/// A restore that passed every check that touches nothing.
struct Planned {
    job_id: String,
    job_name: String,
    backup_id: String,
    params: String,
    detail: String,
}

impl Sauve {
    async fn plan_restore(
        &self,
        actor: &Actor,
        r: &BackupRef,
        to: Option<&str>,
        force: bool,
        opts: &KeyOptions,
    ) -> Result<Planned, ServiceError> {
        let located = self.locate(r).await?;
        let job = match self.store.job(&located.manifest.job).await {
            Ok(j) => Some(j),
            // A deleted job's backups restore all the same.
            Err(crate::store::StoreError::NotFound { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        let spec = job.as_ref().map(|j| &j.spec);
        let target = restore_target(&located.manifest, spec, to)?;
        self.guard_restore_target(actor, &target).await?;
        resolve_keys(&located.manifest, opts, spec)?;
        // A file or directory target that holds data is refused now, before
        // the run is queued; a database target is checked by the run.
        target
            .precheck(force)
            .map_err(|e| ServiceError::Restore(e.into()))?;
        let (job_id, job_name) = self.run_job_ref(&located.manifest.job).await?;
        let params = RunParams::Restore {
            backup: Self::locator(r, &located),
            to: to.map(String::from),
            force,
            keys: opts.clone(),
        };
        Ok(Planned {
            job_id,
            job_name,
            backup_id: located.backup.id.clone(),
            params: serde_json::to_string(&params).expect("params serialise"),
            detail: format!(
                "into {}{}",
                target.describe(),
                if force { " (force)" } else { "" }
            ),
        })
    }

    fn restore_run<'a>(p: &'a Planned, actor: &Actor) -> NewRun<'a> {
        NewRun {
            job_id: &p.job_id,
            job_name: &p.job_name,
            kind: RunKind::Restore,
            trigger: actor.trigger(),
            params: Some(p.params.clone()),
            scheduled_for: None,
            idempotency_key: None,
            max_attempts: RunKind::Restore.max_attempts(1),
        }
    }

    /// Verifies the backup, then restores it into `to`, now, in this process.
    pub async fn restore(
        &self,
        actor: &Actor,
        r: &BackupRef,
        to: Option<&str>,
        force: bool,
        opts: &KeyOptions,
        stopper: Stopper,
    ) -> Result<RestoreOutcome, ServiceError> {
        let planned = self.plan_restore(actor, r, to, force, opts).await?;
        let audit = super::runs::Audited {
            actor,
            action: "backup.restore",
            target: &planned.backup_id,
            detail: Some(&planned.detail),
        };
        match self
            .run_in_foreground(Self::restore_run(&planned, actor), audit, stopper)
            .await?
        {
            (_, Output::Restore(outcome)) => Ok(*outcome),
            (run, _) => Err(ServiceError::Run {
                kind: RunKind::Restore,
                job: planned.job_name.clone(),
                run_id: run.id,
                error: Box::new(RunError::Internal("the restore produced no report".into())),
            }),
        }
    }

    /// Queues a restore (the API): everything that can be refused is checked
    /// first; the queued run is returned.
    pub async fn start_restore(
        &self,
        actor: &Actor,
        r: &BackupRef,
        to: Option<&str>,
        force: bool,
        opts: &KeyOptions,
    ) -> Result<Run, ServiceError> {
        let planned = self.plan_restore(actor, r, to, force, opts).await?;
        let (run, _) = self
            .store
            .enqueue(&Self::restore_run(&planned, actor))
            .await?;
        self.runner.wake();
        let detail = format!("{}, run {}", planned.detail, run.id);
        self.audit(
            actor,
            "backup.restore",
            Some(&planned.backup_id),
            Some(&detail),
        )
        .await;
        Ok(run)
    }
}
