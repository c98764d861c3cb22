//! The `prune` kind: apply the job's retention policy at each destination,
//! then purge the trash whose grace period is over.
//!
//! Two phases, so one wrong policy can be undone: a removed backup first
//! moves to the trash (a state in the store; its objects stay in storage,
//! restorable, even from storage alone), and only a later purge deletes its
//! objects: the manifest first (from then on it is not a backup), then the
//! artifact, then the row is marked deleted. A purge that fails half-way
//! leaves the row in the trash with the error and the next prune finishes it;
//! deleting what is already gone counts as done, so a retry never stops on
//! its own earlier progress.

use super::{Done, Output, RunError, Work};
use crate::domain::{Destination, Job, Keyring, RunState};
use crate::policy::retention::{self, Candidate, Plan, Policy};
use crate::storage::manifest::manifest_key_for;
use crate::storage::{Storage, StorageError};
use crate::store::{BackupFilter, Store};
use jiff::Timestamp;
use serde::Serialize;

/// Who the audit log names for what retention does by itself.
pub const RETENTION_ACTOR: &str = "system:retention";

/// A destination's retention plan on its real backups; nothing is changed.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RetentionPlan {
    pub destination: String,
    #[serde(flatten)]
    pub plan: Plan,
    /// Backups the store lists that are not really in storage: never
    /// counted toward the policy, never removed by it.
    pub not_counted: Vec<NotCounted>,
    /// The destination could not be listed: no plan there (the others stand).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct NotCounted {
    pub id: String,
    pub why: String,
}

/// What a prune did.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct PruneReport {
    pub destinations: Vec<DestinationPrune>,
    /// Backups whose objects were deleted from storage this time.
    pub purged: Vec<String>,
    /// Purges that did not finish; each is retried by the next prune.
    pub purge_failures: Vec<PurgeFailure>,
    /// Trashed backups left for later because something is reading them.
    pub held: Vec<String>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DestinationPrune {
    pub destination: String,
    /// Backups moved to the trash.
    pub trashed: Vec<String>,
    pub kept: usize,
    /// The policy refused to run (it would have removed every backup).
    pub refused: Option<String>,
    /// The destination could not be listed: nothing was removed there.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PurgeFailure {
    pub id: String,
    pub error: String,
}

/// The plan of one destination: the store's live backups there that are
/// really in storage (artifact and manifest both listed), through the policy.
pub async fn plan_destination(
    store: &Store,
    storage: &Storage,
    job: &Job,
    policy: &Policy,
    now: Timestamp,
) -> Result<RetentionPlan, RunError> {
    let rows = store
        .backups(&BackupFilter {
            job: Some(job.name.clone()),
            destination: Some(storage.uri().to_string()),
            before_id: None,
            limit: 100_000,
        })
        .await?;
    // Nothing recorded there, nothing to plan: no listing (a destination
    // that was never written to may not even exist yet).
    let inventory = if rows.is_empty() {
        Default::default()
    } else {
        storage.inventory(Some(&job.name)).await?
    };
    let mut candidates = Vec::new();
    let mut not_counted = Vec::new();
    for b in rows {
        let why = if !inventory.has(&b.key) {
            Some("its artifact is not in storage (sauve storage reconcile tells more)".to_string())
        } else if !inventory.has(&manifest_key_for(&b.key)) {
            Some(
                "its manifest is not in storage (sauve storage reconcile --apply writes it back)"
                    .to_string(),
            )
        } else if b.damaged_at.is_some() {
            Some(format!(
                "it is damaged (a verify found: {}); it is never counted as kept, and stays until a person deletes it",
                b.verify_error.as_deref().unwrap_or("its bytes are wrong")
            ))
        } else if b.size <= 0 || b.sha256.is_empty() {
            Some("its record has no size or checksum".to_string())
        } else {
            match inventory.objects[&b.key].size {
                Some(listed) if listed != b.size as u64 => Some(format!(
                    "its artifact in storage is {listed} bytes, not the {} recorded (damaged? sauve verify tells)",
                    b.size
                )),
                _ => None,
            }
        };
        match why {
            Some(why) => not_counted.push(NotCounted { id: b.id, why }),
            None => candidates.push(Candidate {
                id: b.id,
                time: b.created_at,
            }),
        }
    }
    Ok(RetentionPlan {
        destination: storage.uri().to_string(),
        plan: retention::plan(policy, &candidates, &job.timezone, now),
        not_counted,
        error: None,
    })
}

pub(super) async fn perform(work: &mut Work<'_>, only: Option<&str>) -> Result<Done, RunError> {
    let job = work.valid_job()?;
    let runner = work.runner;
    let keys = runner.keyring().await?;
    let now_ms = runner.store.db_now().await?;
    let now = crate::store::ts(now_ms);
    let mut report = PruneReport::default();
    for (dest, policy) in job.destinations.iter().zip(&job.retention) {
        if only.is_some_and(|u| u != dest.uri()) {
            continue;
        }
        stopped(work)?;
        let done = prune_destination(work, &job, dest, policy, &keys, now).await;
        report.destinations.push(done);
    }
    purge_due(work, &job.name, only, &keys, now_ms, &mut report).await?;
    let failed: Vec<String> = report
        .destinations
        .iter()
        .filter_map(|d| d.error.as_ref().map(|e| format!("{}: {e}", d.destination)))
        .chain(
            report
                .purge_failures
                .iter()
                .map(|f| format!("purge of {}: {}", f.id, f.error)),
        )
        .collect();
    let state = if failed.is_empty() {
        RunState::Succeeded
    } else if report.destinations.iter().all(|d| d.error.is_some()) && report.purged.is_empty() {
        // Nothing at all could be done: a failure, retried like any other.
        return Err(RunError::Failed(format!(
            "retention could not run: {}",
            failed.join("; ")
        )));
    } else {
        RunState::Partial
    };
    Ok(Done {
        state,
        bytes: (0, 0),
        error: (!failed.is_empty()).then(|| failed.join("; ")),
        backups: vec![],
        output: Output::Prune(report),
    })
}

async fn prune_destination(
    work: &mut Work<'_>,
    job: &Job,
    dest: &Destination,
    policy: &Policy,
    keys: &Keyring,
    now: Timestamp,
) -> DestinationPrune {
    let uri = dest.uri();
    let mut done = DestinationPrune {
        destination: uri.clone(),
        trashed: vec![],
        kept: 0,
        refused: None,
        error: None,
    };
    if policy.rules.is_empty() {
        work.log
            .push(format!("{uri}: no keep rules; every backup is kept"));
        return done;
    }
    let planned = match Storage::open(dest, keys) {
        Ok(storage) => plan_destination(&work.runner.store, &storage, job, policy, now).await,
        Err(e) => Err(e.into()),
    };
    let planned = match planned {
        Ok(p) => p,
        Err(e) => {
            work.log.push(format!("{uri}: nothing removed: {e}"));
            done.error = Some(e.to_string());
            return done;
        }
    };
    for n in &planned.not_counted {
        work.log
            .push(format!("{uri}: not counted {}: {}", n.id, n.why));
    }
    for k in &planned.plan.keep {
        work.log
            .push(format!("{uri}: keep {} ({})", k.id, k.reasons.join(", ")));
    }
    done.kept = planned.plan.keep.len();
    if let Some(why) = &planned.plan.refused {
        // The run's notice says it too (the runner records it with the
        // outcome), for notifications; this line is for people.
        work.log.push(format!("{uri}: retention.refused: {why}"));
        done.refused = Some(why.clone());
        return done;
    }
    let purge_after = now.as_millisecond() + policy.trash_for.as_millis() as i64;
    for r in &planned.plan.remove {
        if stopped(work).is_err() {
            break;
        }
        // A restore or verify of it is queued or running: it would fail to
        // find it. Left for the next prune.
        match work.runner.store.backup_in_use(&r.id).await {
            Ok(false) => {}
            Ok(true) => {
                work.log.push(format!(
                    "{uri}: {} left for now: a restore or verify reads it",
                    r.id
                ));
                continue;
            }
            Err(e) => {
                done.error = Some(e.to_string());
                continue;
            }
        }
        let reason = format!(
            "retention at {uri}: not kept by the policy (run {})",
            work.claim.run.id
        );
        match work
            .runner
            .store
            .trash_backup(&r.id, now.as_millisecond(), purge_after, &reason)
            .await
        {
            Ok(true) => {
                work.log.push(format!("{uri}: moved {} to the trash", r.id));
                audit(work, "backup.trash", &r.id, &reason).await;
                done.trashed.push(r.id.clone());
            }
            // Deleted or trashed by someone else meanwhile: nothing to do.
            Ok(false) => {}
            Err(e) => {
                work.log
                    .push(format!("{uri}: could not move {} to the trash: {e}", r.id));
                done.error = Some(e.to_string());
            }
        }
    }
    done
}

/// Purges the job's trashed backups whose grace period is over.
async fn purge_due(
    work: &mut Work<'_>,
    job: &str,
    only: Option<&str>,
    keys: &Keyring,
    now_ms: i64,
    report: &mut PruneReport,
) -> Result<(), RunError> {
    let store = work.runner.store.clone();
    for (t, _) in store.due_purges(job, now_ms).await? {
        stopped(work)?;
        let id = t.backup.id.clone();
        if only.is_some_and(|u| u != t.backup.destination) {
            continue;
        }
        if work.runner.holds.is_held(&id) || store.backup_in_use(&id).await? {
            work.log
                .push(format!("purge of {id} left for later: it is being read"));
            report.held.push(id);
            continue;
        }
        // From here on it cannot be undeleted; an undelete that came first
        // wins and the purge leaves it.
        if !store.claim_purge(&id, now_ms).await? {
            continue;
        }
        match purge_one(&t.backup.destination, &t.backup.key, keys).await {
            Ok(()) => {
                // Another instance may have finished the same purge: audit once.
                if store.mark_purged(&id, now_ms).await? {
                    let detail = format!("{} {}", t.backup.destination, t.backup.key);
                    work.log
                        .push(format!("purged {id} from {}", t.backup.destination));
                    audit(work, "backup.purge", &id, &detail).await;
                    report.purged.push(id);
                }
            }
            Err(e) => {
                let error = e.to_string();
                work.log
                    .push(format!("purge of {id} failed (retried next time): {error}"));
                store.set_purge_error(&id, &error).await?;
                report.purge_failures.push(PurgeFailure { id, error });
            }
        }
    }
    Ok(())
}

/// Ends the work at the next item once the run is stopped (cancel, timeout,
/// shutdown, lost lease): what is done stays done, each step being whole.
fn stopped(work: &Work<'_>) -> Result<(), RunError> {
    if work.progress.cancel.is_cancelled() {
        return Err(RunError::Cancelled);
    }
    Ok(())
}

/// Deletes a backup's manifest, then its artifact; what is already gone
/// counts as deleted.
async fn purge_one(uri: &str, artifact_key: &str, keys: &Keyring) -> Result<(), StorageError> {
    let dest = Destination::parse(uri).map_err(|e| {
        StorageError::op(
            uri,
            "purge",
            artifact_key,
            format!("unreadable destination: {e}"),
        )
    })?;
    let storage = Storage::open(&dest, keys)?;
    for key in [manifest_key_for(artifact_key), artifact_key.to_string()] {
        match storage.delete(&key).await {
            Ok(()) | Err(StorageError::Missing { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

async fn audit(work: &Work<'_>, action: &str, id: &str, detail: &str) {
    let detail = format!("{detail}, run {}", work.claim.run.id);
    if let Err(e) = work
        .runner
        .store
        .audit(RETENTION_ACTOR, action, Some(id), Some(&detail), None)
        .await
    {
        tracing::warn!(backup = %id, error = %e, "could not write the audit log");
    }
}
