//! The `verify` kind: re-read a stored backup in full (checksum, decryption,
//! decompression, the source format's own check) and record what was found,
//! on the run and on the backup (`verified_at`, or `damaged_at` and why).

use super::{Done, Output, RunError, Work, locate};
use crate::domain::{BackupLocator, KeyNames, RunState};
use crate::policy::verification::{Stored, due};
use crate::restore;
use crate::store::BackupFilter;

pub(super) async fn perform(
    work: &mut Work<'_>,
    at: &BackupLocator,
    names: &KeyNames,
) -> Result<Done, RunError> {
    let secrets = work.runner.keyring().await?;
    let located = locate(&work.runner.store, &secrets, at).await?;
    let keys = restore::resolve_keys(&located.manifest, names, work.job.map(|j| &j.spec))?;
    let verified = restore::verify(
        &located.storage,
        &located.manifest,
        keys,
        &work.progress.cancel,
    )
    .await;
    super::record_read(
        work.runner,
        &located.backup.id,
        verified.as_ref().map(|_| ()),
    )
    .await?;
    let report = verified?;
    work.log.push(format!(
        "backup {} at {} is good: sha256 {}, {}",
        report.backup_id, located.backup.destination, report.sha256, report.format
    ));
    Ok(Done {
        state: RunState::Succeeded,
        bytes: (report.raw_size as i64, report.size as i64),
        error: None,
        backups: vec![],
        output: Output::Verify(report),
    })
}

/// A scheduled verification: the share of the job's stored backups that
/// `[job.verify]`'s coverage asks for at this slot (`policy::verification`),
/// re-read newest first, each outcome kept on its backup. The run fails
/// when any backup was found damaged or could not be read.
pub(super) async fn perform_due(work: &mut Work<'_>, slot: i64) -> Result<Done, RunError> {
    // A slot queued before its job lost [job.verify] (or became invalid)
    // has nothing to do: not a failure, nothing to alert.
    let planned = work.valid_job().ok().and_then(|j| {
        let plan = j.verify.clone()?;
        let schedule = plan.schedule.clone()?;
        Some((j, plan, schedule))
    });
    let Some((job, plan, schedule)) = planned else {
        work.log
            .push("the job has no [job.verify] now (or is not valid): nothing to verify");
        return Ok(Done {
            state: RunState::Succeeded,
            bytes: (0, 0),
            error: None,
            backups: vec![],
            output: Output::VerifyDue {
                verified: 0,
                failed: vec![],
            },
        });
    };
    let plan = &plan;
    let runner = work.runner;
    let stored = runner
        .store
        .backups(&BackupFilter {
            job: Some(job.name.clone()),
            destination: None,
            before_id: None,
            limit: 100_000,
        })
        .await?;
    // A backup never verified counts from when the job was last written
    // (when [job.verify] was set, at the latest), so turning verification
    // on spreads the history over a coverage period instead of reading it
    // all in the first slot.
    let since = work.job.map_or(0, |j| j.updated_at.as_millisecond());
    let candidates: Vec<Stored> = stored
        .iter()
        .filter(|b| b.damaged_at.is_none())
        .map(|b| Stored {
            id: b.id.clone(),
            created_at: b.created_at.as_millisecond().max(since),
            verified_at: b.verified_at.map(|t| t.as_millisecond()),
        })
        .collect();
    // From just before the slot, so the gap after it counts too.
    let fires: Vec<i64> = schedule
        .upcoming(crate::store::ts(slot - 1), 8)
        .iter()
        .map(|t| t.as_millisecond())
        .collect();
    let interval = fires.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
    let coverage = plan.coverage.as_millis() as i64;
    let now = runner.store.db_now().await?;
    let chosen = due(&candidates, coverage, interval, now);
    work.log.push(format!(
        "{} of {} stored backups due (coverage {}s, a slot every {}s)",
        chosen.len(),
        candidates.len(),
        coverage / 1000,
        interval / 1000
    ));
    let (mut good, mut bad) = (0usize, Vec::new());
    let mut bytes = (0i64, 0i64);
    for id in chosen {
        if work.progress.cancel.is_cancelled() {
            return Err(RunError::Cancelled);
        }
        let at = BackupLocator {
            id: id.clone(),
            destination: None,
        };
        match perform(work, &at, &KeyNames::default()).await {
            Ok(done) => {
                good += 1;
                bytes = (bytes.0 + done.bytes.0, bytes.1 + done.bytes.1);
            }
            Err(RunError::Cancelled) => return Err(RunError::Cancelled),
            // Deleted (or purged) since the slot began: nothing to prove.
            Err(RunError::Store(crate::store::StoreError::NotFound { .. })) => {
                work.log
                    .push(format!("backup {id}: gone since the run began; skipped"));
            }
            Err(e) => {
                work.log.push(format!("backup {id}: {e}"));
                bad.push(id);
            }
        }
    }
    // The newest backup not yet test-restored, when the job asks for it: a
    // further proof of a backup, not another backup, so it is told apart.
    let untested = stored
        .iter()
        .filter(|b| b.damaged_at.is_none() && !bad.contains(&b.id))
        .max_by_key(|b| b.created_at)
        .filter(|b| plan.test_restore && b.test_restored_at.is_none());
    let mut test_failure = None;
    if let Some(b) = untested {
        let at = BackupLocator {
            id: b.id.clone(),
            destination: None,
        };
        match super::test_restore::perform(work, &at, &KeyNames::default()).await {
            Ok(_) => {}
            Err(RunError::Cancelled) => return Err(RunError::Cancelled),
            Err(e) => {
                work.log
                    .push(format!("test restore of backup {}: {e}", b.id));
                test_failure = Some((
                    b.id.clone(),
                    format!("the test restore of backup {} failed: {e}", b.id),
                ));
            }
        }
    }
    let mut why = Vec::new();
    if !bad.is_empty() {
        why.push(format!(
            "{} of {} backups failed verification: {}",
            bad.len(),
            good + bad.len(),
            bad.join(", ")
        ));
    }
    let mut failed = bad;
    if let Some((id, message)) = test_failure {
        failed.push(id);
        why.push(message);
    }
    let error = (!why.is_empty()).then(|| {
        format!(
            "{}; `sauve backup list --job {}` shows what each found",
            why.join("; "),
            job.name
        )
    });
    Ok(Done {
        state: if error.is_none() {
            RunState::Succeeded
        } else {
            RunState::Failed
        },
        bytes,
        error,
        backups: vec![],
        output: Output::VerifyDue {
            verified: good,
            failed,
        },
    })
}

impl super::Runner {
    /// Queues the job's scheduled verification for its latest slot up to
    /// `now` (the database's clock), once whatever the number of instances
    /// or ticks: the slot is the run's idempotency key. A slot missed while
    /// Sauve was down is caught up once (within two gaps of the schedule);
    /// older ones are not, nor slots before the job was last written.
    pub async fn queue_due_verify(
        &self,
        job: &crate::store::StoredJob,
        now: i64,
    ) -> Result<Option<String>, crate::store::StoreError> {
        let Some(schedule) = job
            .spec
            .validate()
            .ok()
            .and_then(|j| j.verify)
            .and_then(|p| p.schedule)
        else {
            return Ok(None);
        };
        // One at a time: a slot that comes while a verification is still
        // queued or running is skipped (it would pick the same backups).
        let busy = self
            .store
            .runs(&crate::store::RunFilter {
                job: Some(job.name.clone()),
                state: None,
                kind: Some(crate::domain::RunKind::Verify),
                limit: 20,
                before_id: None,
            })
            .await?
            .iter()
            .any(|r| !r.state.is_finished());
        if busy {
            return Ok(None);
        }
        let now_ts = crate::store::ts(now);
        // Not before [job.verify] was written (the job's last change), not
        // further back than two gaps (so the search stays short, whatever
        // the schedule), and never more than a week.
        let gap = schedule
            .upcoming(now_ts, 8)
            .windows(2)
            .map(|w| w[1].as_millisecond() - w[0].as_millisecond())
            .max()
            .unwrap_or(86_400_000);
        let after = crate::store::ts(
            job.updated_at
                .as_millisecond()
                .max(now - 7 * 86_400_000)
                .max(now - 2 * gap),
        );
        let Some(slot) = schedule.latest_between(after, now_ts) else {
            return Ok(None);
        };
        let slot = slot.as_millisecond();
        let key = format!("verify-slot:{slot}");
        let params = crate::domain::RunParams::VerifyDue { slot };
        let new = crate::store::NewRun {
            job_id: &job.id,
            job_name: &job.name,
            kind: crate::domain::RunKind::Verify,
            trigger: crate::domain::Trigger::Schedule,
            params: Some(serde_json::to_string(&params).expect("params serialise")),
            scheduled_for: None,
            idempotency_key: Some(&key),
            max_attempts: 1,
        };
        let (run, created) = self.store.enqueue(&new).await?;
        if created {
            tracing::info!(job = %job.name, run = %run.id, "scheduled verification queued");
            self.wake();
        }
        Ok(Some(run.id))
    }
}
