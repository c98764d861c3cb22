//! Runs: queue a backup (a click, the API, cron), run one in the foreground
//! (the CLI), cancel, list, and follow a live one. Every kind of run is
//! executed by the runner; a foreground run is claimed by this process at once
//! instead of waiting in the queue, and holds a lease like any other.

use super::{Actor, Sauve, ServiceError, instance_name};
use crate::domain::{Backup, Run, RunKind, RunState};
use crate::runner::{DestinationFailure, Executed, LiveProgress, Output, RunError, Stopper};
use crate::store::{CancelOutcome, NewRun, RunFilter};

/// What a foreground run is audited as.
pub(super) struct Audited<'a> {
    pub actor: &'a Actor,
    pub action: &'a str,
    pub target: &'a str,
    pub detail: Option<&'a str>,
}

/// A finished backup run with what it stored and where it failed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunReport {
    pub run: Run,
    pub backups: Vec<Backup>,
    /// Destinations that did not get the backup, with why.
    pub failures: Vec<DestinationFailure>,
    /// The verifies that re-read its new backups (`verify_after_backup`).
    pub verified: Vec<Run>,
    /// The prune that followed it (when the job has keep rules or a trash).
    pub prune: Option<Run>,
}

impl Sauve {
    /// Runs `new` now in this process and waits for its end, audited as `audit`
    /// once it has started. `stopper` lets the caller watch its progress and
    /// cancel it.
    pub(super) async fn run_in_foreground(
        &self,
        new: NewRun<'_>,
        audit: Audited<'_>,
        stopper: Stopper,
    ) -> Result<(Run, Output), ServiceError> {
        let (run, output, _) = self.run_in_foreground_then(new, audit, stopper).await?;
        Ok((run, output))
    }

    /// `run_in_foreground`, also returning the run the finished one queued
    /// to follow it.
    pub(super) async fn run_in_foreground_then(
        &self,
        new: NewRun<'_>,
        audit: Audited<'_>,
        stopper: Stopper,
    ) -> Result<(Run, Output, Vec<String>), ServiceError> {
        let (kind, job) = (new.kind, new.job_name.to_string());
        // A CLI-only set-up has no pool to notice a foreground run whose process
        // died (kill -9, OOM): end such runs here, or the job would stay
        // `already_running` for ever. Fenced, so a live run is never touched.
        let timing = self.runner.timing().clone();
        self.store.expire_leases(|a| timing.backoff_ms(a)).await?;
        let claim = self
            .store
            .start_claimed_run(&new, &instance_name(), timing.lease_ms())
            .await?;
        let detail = match audit.detail {
            Some(d) => format!("{d}, run {}", claim.run.id),
            None => format!("run {}", claim.run.id),
        };
        self.audit(audit.actor, audit.action, Some(audit.target), Some(&detail))
            .await;
        let failed = |run_id: String, error: RunError| ServiceError::Run {
            kind,
            job: job.clone(),
            run_id,
            error: Box::new(error),
        };
        let executed = self.runner.execute(&claim, stopper).await?;
        self.send_now(&claim.run.id).await;
        match executed {
            Executed::Finished {
                run,
                output: Some(output),
                error: None,
                follow_ups,
            } => Ok((*run, output, follow_ups)),
            Executed::Finished { run, error, .. } => Err(failed(
                run.id,
                error.unwrap_or_else(|| RunError::Internal("the run produced nothing".into())),
            )),
            // With one attempt a foreground run is not retried; with more (a
            // backup's), the queue takes it from here.
            Executed::Retrying { error } => Err(failed(claim.run.id.clone(), error)),
            Executed::Released | Executed::LostLease => {
                Err(failed(claim.run.id.clone(), RunError::LeaseLost))
            }
        }
    }

    /// Sends the notifications a foreground run queued, once each, before
    /// its command returns (a cron-driven `sauve backup run` has no server to
    /// send them); what fails is retried by a server, if one runs.
    async fn send_now(&self, run_id: &str) {
        let owner = format!("{}:{}", instance_name(), &crate::domain::new_id()[20..]);
        let sent = tokio::time::timeout(
            std::time::Duration::from_secs(60),
            self.deliver_due(&owner, Some(run_id), 50),
        )
        .await;
        match sent {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                tracing::warn!(run = run_id, error = %e, "could not send the run's notifications")
            }
            Err(_) => tracing::warn!(
                run = run_id,
                "sending the run's notifications took over a minute; a server will retry them"
            ),
        }
    }

    /// Backs the job up now, in this process (`sauve backup run`).
    pub async fn run_job_now(
        &self,
        actor: &Actor,
        name: &str,
        stopper: Stopper,
    ) -> Result<RunReport, ServiceError> {
        let stored = self.store.job(name).await?;
        stored.spec.validate()?;
        // One attempt: the person waiting sees the failure instead of a retry
        // scheduled behind their back.
        let new = NewRun::backup(&stored, actor.trigger(), 1);
        let audit = Audited {
            actor,
            action: "backup.run",
            target: name,
            detail: Some("in the foreground"),
        };
        let (run, output, follow_ups) = self.run_in_foreground_then(new, audit, stopper).await?;
        let Output::Backup { backups, failures } = output else {
            return Err(ServiceError::Internal(
                "a backup run produced no backup report".into(),
            ));
        };
        // The verifies of the new backups first (they read what was just
        // written), then the prune.
        let (mut verified, mut prune) = (Vec::new(), None);
        for id in &follow_ups {
            if let Some(run) = self.run_follow_up(id).await {
                match run.kind {
                    RunKind::Verify => verified.push(run),
                    _ => prune = Some(run),
                }
            }
        }
        Ok(RunReport {
            run,
            backups,
            failures,
            verified,
            prune,
        })
    }

    /// Queues a backup of `name`; with an idempotency key, a repeated request
    /// returns the first run instead of queueing another. A backup of the job
    /// already waiting in the queue is returned as is: twenty clicks queue
    /// one backup, which will read the source as it is when it starts.
    pub async fn enqueue(
        &self,
        actor: &Actor,
        name: &str,
        idempotency_key: Option<&str>,
    ) -> Result<(Run, bool), ServiceError> {
        let stored = self.store.job(name).await?;
        let job = stored.spec.validate()?;
        if let Some(run) = self
            .store
            .waiting_run(&stored.name, RunKind::Backup)
            .await?
        {
            return Ok((run, false));
        }
        let (run, created) = self
            .store
            .enqueue(&NewRun {
                idempotency_key,
                ..NewRun::backup(&stored, actor.trigger(), job.max_attempts)
            })
            .await?;
        if created {
            self.runner.wake();
            self.audit(
                actor,
                "backup.run",
                Some(name),
                Some(&format!("run {}", run.id)),
            )
            .await;
        }
        Ok((run, created))
    }

    /// Queues a backup of `name` for platform cron, once per minute however
    /// often cron retries.
    pub async fn cron_enqueue(
        &self,
        actor: &Actor,
        name: &str,
    ) -> Result<(Run, bool), ServiceError> {
        let minute = jiff::Timestamp::now().strftime("%Y%m%dT%H%MZ").to_string();
        self.enqueue(actor, name, Some(&format!("cron:{minute}")))
            .await
    }

    /// Cancels a queued run, or asks the worker of a running one to stop it.
    pub async fn cancel_run(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<(Run, CancelOutcome), ServiceError> {
        let (run, outcome) = self.store.cancel_run(id).await?;
        let what = match outcome {
            CancelOutcome::Cancelled => "cancelled",
            CancelOutcome::Requested => "requested",
            CancelOutcome::AlreadyFinished(_) => "already_finished",
        };
        self.audit(actor, "run.cancel", Some(&run.id), Some(what))
            .await;
        Ok((run, outcome))
    }

    pub async fn run(&self, id: &str) -> Result<Run, ServiceError> {
        Ok(self.store.run(id).await?)
    }

    pub async fn runs(&self, filter: &RunFilter) -> Result<Vec<Run>, ServiceError> {
        Ok(self.store.runs(filter).await?)
    }

    /// Progress of a run executing in this process.
    pub fn live_progress(&self, run_id: &str) -> Option<LiveProgress> {
        self.runner.live().get(run_id)
    }

    /// Every job at a glance (the page's job cards), read in a few statements
    /// whatever the number of jobs and the size of the history.
    pub async fn glance(&self) -> Result<Vec<crate::store::JobGlance>, ServiceError> {
        Ok(self.store.glance().await?)
    }

    /// Each job's health as the alerting folds it (failure streak,
    /// staleness), by job id: what the page's state of a job is decided from.
    pub async fn health(
        &self,
    ) -> Result<std::collections::HashMap<String, crate::policy::alerts::Health>, ServiceError>
    {
        Ok(self.store.all_health().await?.into_iter().collect())
    }

    /// What the page draws: backup runs per day from `days_from` (days since
    /// the epoch, UTC), each job's newest successful backups, and what each
    /// destination holds with its changes per day from `storage_from`.
    pub async fn trends(&self, days_from: i64, storage_from: i64) -> Result<Trends, ServiceError> {
        Ok(Trends {
            days: self
                .store
                .run_days(days_from, RunKind::Backup.as_str())
                .await?,
            recent: self.store.recent_backups().await?,
            storage: self.store.storage_totals().await?,
            storage_days: self.store.storage_days(storage_from).await?,
        })
    }

    /// The job's latest successful backup run: what "last good backup" and
    /// ETAs are measured from.
    pub async fn last_good_backup(&self, job: &str) -> Result<Option<Run>, ServiceError> {
        let runs = self
            .store
            .runs(&RunFilter {
                job: Some(job.to_string()),
                state: Some(RunState::Succeeded),
                kind: Some(RunKind::Backup),
                limit: 1,
                before_id: None,
            })
            .await?;
        Ok(runs.into_iter().next())
    }
}

/// What the page draws ([`Sauve::trends`]).
pub struct Trends {
    pub days: Vec<crate::store::RunDay>,
    pub recent: Vec<crate::store::RecentBackup>,
    pub storage: Vec<crate::store::StorageTotal>,
    pub storage_days: Vec<crate::store::StorageDay>,
}
