//! How a run's work ended, recorded fenced by its claim: finished (with its
//! backups and notice, and the prune that follows a backup that stored
//! something), retried later with back-off, released back to the queue at
//! shutdown, or nothing at all when another worker owns the run now.

use super::stopper::Stop;
use super::{Done, Executed, Output, RunError, Runner};
use crate::domain::{RunKind, RunState};
use crate::pipeline::log::RunLog;
use crate::store::{Claim, StoreError, StoredJob};
use std::time::Duration;

/// How a run's work ended, for [`Runner::conclude`] to record.
pub(super) struct Ended {
    pub(super) result: Result<Done, RunError>,
    pub(super) reason: Stop,
    pub(super) log: RunLog,
    pub(super) bytes_in: i64,
    pub(super) timeout: Duration,
}

impl Runner {
    /// Records how a run's work ended: finished (and a prune queued after a
    /// backup that stored something), retried later, released, or nothing.
    pub(super) async fn conclude(
        &self,
        claim: &Claim,
        job: Option<&StoredJob>,
        ended: Ended,
    ) -> Result<Executed, StoreError> {
        let Ended {
            result,
            reason,
            log,
            bytes_in,
            timeout,
        } = ended;
        match (result, reason) {
            (_, Stop::LostLease) => {
                tracing::warn!(run = %claim.run.id, "lost the lease; another worker has the run");
                Ok(Executed::LostLease)
            }
            (Ok(done), _) => {
                let stored = claim.run.kind == RunKind::Backup && !done.backups.is_empty();
                let mut executed = self.finish(claim, log, done).await?;
                if let (
                    true,
                    Some(job),
                    Executed::Finished {
                        follow_ups, output, ..
                    },
                ) = (stored, job, &mut executed)
                {
                    if let Some(Output::Backup { backups, .. }) = output {
                        follow_ups.extend(self.queue_verify_after(claim, job, backups).await);
                    }
                    follow_ups.extend(self.queue_prune_after(claim, job).await);
                }
                Ok(executed)
            }
            // A restore is not handed back: run again later, unasked, it could
            // overwrite what was written to the target since.
            (Err(_), Stop::Shutdown) if claim.run.kind == RunKind::Restore => {
                let mut log = log;
                log.push("stopped by a shutdown before it finished");
                let error = RunError::Gone(
                    "Sauve shut down before the restore finished; the target was left as it was (MySQL: partly restored); run it again".into(),
                );
                self.record(claim, RunState::Cancelled, (bytes_in, 0), log, error)
                    .await
            }
            (Err(_), Stop::Shutdown) => {
                self.store.release(claim).await?;
                Ok(Executed::Released)
            }
            (Err(_), Stop::UserCancel) => {
                let mut log = log;
                log.push("cancelled on request");
                self.record(
                    claim,
                    RunState::Cancelled,
                    (bytes_in, 0),
                    log,
                    RunError::Cancelled,
                )
                .await
            }
            (Err(e), reason) => {
                let error = if reason == Stop::Timeout {
                    RunError::Timeout {
                        secs: timeout.as_secs(),
                    }
                } else {
                    e
                };
                let mut log = log;
                log.push(format!("error: {error}"));
                if claim.attempt < claim.max_attempts && error.retryable() {
                    let delay = self.timing.backoff_ms(claim.attempt);
                    log.push(format!("retrying in {}s", delay / 1000));
                    self.store
                        .retry_later(claim, delay, &error.to_string(), &log.join("\n"))
                        .await?;
                    return Ok(Executed::Retrying { error });
                }
                self.record(claim, RunState::Failed, (bytes_in, 0), log, error)
                    .await
            }
        }
    }
    async fn finish(&self, claim: &Claim, log: RunLog, done: Done) -> Result<Executed, StoreError> {
        let refused = matches!(&done.output, Output::Prune(p) if p.destinations.iter().any(|d| d.refused.is_some()));
        if !self
            .store
            .finish_claimed_with(
                claim,
                done.state,
                done.bytes,
                done.error.as_deref(),
                &log.join("\n"),
                &done.backups,
                refused.then_some(crate::domain::EventKind::RetentionRefused.as_str()),
            )
            .await?
        {
            return Ok(Executed::LostLease);
        }
        Ok(Executed::Finished {
            run: Box::new(self.store.run(&claim.run.id).await?),
            output: Some(done.output),
            error: None,
            follow_ups: vec![],
        })
    }

    pub(super) async fn fail(
        &self,
        claim: &Claim,
        log: RunLog,
        error: RunError,
    ) -> Result<Executed, StoreError> {
        self.record(claim, RunState::Failed, (0, 0), log, error)
            .await
    }

    /// Records a run that ends without output (failed or cancelled).
    async fn record(
        &self,
        claim: &Claim,
        state: RunState,
        bytes: (i64, i64),
        mut log: RunLog,
        error: RunError,
    ) -> Result<Executed, StoreError> {
        let message = error.to_string();
        if log.is_empty() {
            log.push(message.clone());
        }
        if !self
            .store
            .finish_claimed(claim, state, bytes, Some(&message), &log.join("\n"), &[])
            .await?
        {
            return Ok(Executed::LostLease);
        }
        Ok(Executed::Finished {
            run: Box::new(self.store.run(&claim.run.id).await?),
            output: None,
            error: Some(error),
            follow_ups: vec![],
        })
    }
}
