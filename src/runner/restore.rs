//! The `restore` kind: verify the backup in full, prepare the target, then
//! restore into it. Files and SQLite go to a temporary path beside the target
//! and are renamed into place; PostgreSQL restores in one transaction; MySQL
//! is the documented exception (not atomic). A cancel or a kill at any point
//! leaves the target as it was or complete.

use super::{Done, Output, RunError, Work, locate};
use crate::domain::{Backup, BackupLocator, KeyNames, RunState};
use crate::restore::{self, VerifyReport};

/// What a restore did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RestoreOutcome {
    pub backup: Backup,
    pub target: String,
    pub run_id: Option<String>,
    pub verified: VerifyReport,
    pub log: String,
}

pub(super) async fn perform(
    work: &mut Work<'_>,
    at: &BackupLocator,
    to: Option<&str>,
    force: bool,
    names: &KeyNames,
) -> Result<Done, RunError> {
    let secrets = work.runner.keyring().await?;
    let located = locate(&work.runner.store, &secrets, at).await?;
    let spec = work.job.map(|j| &j.spec);
    let target = restore::restore_target(&located.manifest, spec, to).map_err(RunError::Invalid)?;
    let keys = restore::resolve_keys(&located.manifest, names, spec)?;
    work.log.push(format!(
        "restore of backup {} into {}",
        located.backup.id,
        target.describe()
    ));
    let restored = restore::restore(
        &located.storage,
        &located.manifest,
        keys,
        target.clone(),
        force,
        &work.progress.cancel,
        secrets,
    )
    .await;
    // A restore reads every byte, as a verify does: what it found is kept
    // on the backup the same way.
    super::record_read(
        work.runner,
        &located.backup.id,
        restored.as_ref().map(|_| ()),
    )
    .await?;
    let (verified, tool_log) = restored?;
    if !tool_log.is_empty() {
        work.log.push(tool_log.clone());
    }
    let raw = located.manifest.artifact.raw_size as i64;
    Ok(Done {
        state: RunState::Succeeded,
        bytes: (raw, 0),
        error: None,
        backups: vec![],
        output: Output::Restore(Box::new(RestoreOutcome {
            backup: located.backup,
            target: target.describe(),
            run_id: Some(work.claim.run.id.clone()),
            verified,
            log: tool_log,
        })),
    })
}
