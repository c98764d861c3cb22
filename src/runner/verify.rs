//! The `verify` kind: re-read a stored backup in full (checksum, decryption,
//! decompression, the source format's own check) and record what was found,
//! on the run and on the backup (`verified_at`, or `damaged_at` and why).

use super::{Done, Output, RunError, Work, locate};
use crate::domain::{BackupLocator, KeyNames, RunState};
use crate::policy::verification::{Stored, due};
use crate::restore::{self, RestoreError};
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
    // What the re-read found goes on the backup: proven good, or damaged
    // (its bytes are wrong), which retention then does not count. A key
    // that does not open it or a storage outage says nothing of the backup.
    let damage = match &verified {
        Ok(_) => Some(None),
        Err(e @ (RestoreError::ChecksumMismatch { .. } | RestoreError::Decompress { .. })) => {
            Some(Some(e.to_string()))
        }
        Err(_) => None,
    };
    if let Some(damage) = damage {
        work.runner
            .store
            .record_verify(&located.backup.id, damage.as_deref())
            .await?;
    }
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
    let job = work.valid_job()?;
    let Some(plan) = &job.verify else {
        return Err(RunError::Gone(
            "the job has no [job.verify] any more; nothing to verify".into(),
        ));
    };
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
    let candidates: Vec<Stored> = stored
        .iter()
        .filter(|b| b.damaged_at.is_none())
        .map(|b| Stored {
            id: b.id.clone(),
            created_at: b.created_at.as_millisecond(),
            verified_at: b.verified_at.map(|t| t.as_millisecond()),
        })
        .collect();
    let fires: Vec<i64> = plan
        .schedule
        .upcoming(crate::store::ts(slot), 8)
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
            Err(e) => {
                work.log.push(format!("backup {id}: {e}"));
                bad.push(id);
            }
        }
    }
    let error = (!bad.is_empty()).then(|| {
        format!(
            "{} of {} backups failed verification: {}; `sauve backup list --job {}` shows what each found",
            bad.len(),
            good + bad.len(),
            bad.join(", "),
            job.name
        )
    });
    Ok(Done {
        state: if bad.is_empty() {
            RunState::Succeeded
        } else {
            RunState::Failed
        },
        bytes,
        error,
        backups: vec![],
        output: Output::VerifyDue {
            verified: good,
            failed: bad,
        },
    })
}

impl super::Runner {
    /// Queues the job's scheduled verification for its latest slot up to
    /// `now` (the database's clock), once whatever the number of instances
    /// or ticks: the slot is the run's idempotency key. A slot missed while
    /// Sauve was down is caught up once; older ones are not.
    pub async fn queue_due_verify(
        &self,
        job: &crate::store::StoredJob,
        now: i64,
    ) -> Result<Option<String>, crate::store::StoreError> {
        let Some(plan) = job.spec.validate().ok().and_then(|j| j.verify) else {
            return Ok(None);
        };
        let now_ts = crate::store::ts(now);
        // Not before the job existed, and not further back than a week.
        let after = crate::store::ts(job.created_at.as_millisecond().max(now - 7 * 86_400_000));
        let Some(slot) = plan.schedule.latest_between(after, now_ts) else {
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
