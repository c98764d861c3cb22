//! The `backup` kind: the job's source through the pipeline to every
//! destination. A run where some destinations failed ends `partial`.

use super::{Done, Output, RunError, Work};
use crate::domain::{RunKind, RunState};
use crate::pipeline::{self, BackupRequest};
use crate::store::{NewBackup, RunFilter, Store, StoreError};

/// A destination that did not get the backup, with why.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct DestinationFailure {
    pub destination: String,
    pub error: String,
}

pub(super) async fn perform(work: &mut Work<'_>) -> Result<Done, RunError> {
    let job = work.valid_job()?;
    let expected_size = match expected_artifact_size(&work.runner.store, &job.name).await {
        Ok(size) => size,
        Err(e) => {
            tracing::warn!(job = %job.name, error = %e, "no previous size to plan uploads with");
            None
        }
    };
    let outcome = pipeline::run_backup(
        BackupRequest {
            job: &job,
            run_id: &work.claim.run.id,
            staging_dir: work.runner.staging_dir(),
            progress: work.progress.clone(),
            expected_size,
            keys: work.runner.keyring().await?,
        },
        &mut work.log,
    )
    .await?;
    let mut backups = Vec::new();
    let mut failures = Vec::new();
    for d in outcome.destinations {
        match d.outcome {
            Ok(stored) => backups.push(NewBackup {
                backup: stored.backup,
                manifest_json: stored.manifest_json,
            }),
            Err(error) => failures.push(DestinationFailure {
                destination: d.destination,
                error,
            }),
        }
    }
    let (state, error) = if failures.is_empty() {
        (RunState::Succeeded, None)
    } else {
        let e = failures
            .iter()
            .map(|f| format!("{}: {}", f.destination, f.error))
            .collect::<Vec<_>>()
            .join("; ");
        (RunState::Partial, Some(e))
    };
    Ok(Done {
        state,
        bytes: (outcome.bytes_in as i64, outcome.bytes_out as i64),
        error,
        output: Output::Backup {
            backups: backups.iter().map(|b| b.backup.clone()).collect(),
            failures,
        },
        backups,
    })
}

/// About how big the job's next artifact will be, for sizing upload parts:
/// the most its recent backups stored, or, for a run that failed (perhaps
/// because its artifact outgrew the plan), what its source produced.
pub(super) async fn expected_artifact_size(
    store: &Store,
    job: &str,
) -> Result<Option<u64>, StoreError> {
    let runs = store
        .runs(&RunFilter {
            job: Some(job.to_string()),
            kind: Some(RunKind::Backup),
            state: None,
            limit: 20,
            before_id: None,
        })
        .await?;
    Ok(runs
        .iter()
        .filter_map(|r| match r.state {
            RunState::Succeeded | RunState::Partial => Some(r.bytes_out),
            RunState::Failed => Some(r.bytes_in),
            _ => None,
        })
        .map(|b| b.max(0) as u64)
        .max())
}
