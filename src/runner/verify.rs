//! The `verify` kind: re-read a stored backup in full (checksum, decryption,
//! decompression, the source format's own check) and record what was found.

use super::{Done, Output, RunError, Work, locate};
use crate::domain::{BackupLocator, KeyNames, RunState};
use crate::restore;

pub(super) async fn perform(
    work: &mut Work<'_>,
    at: &BackupLocator,
    names: &KeyNames,
) -> Result<Done, RunError> {
    let secrets = work.runner.keyring().await?;
    let located = locate(&work.runner.store, &secrets, at).await?;
    let keys = restore::resolve_keys(&located.manifest, names, work.job.map(|j| &j.spec))?;
    let report = restore::verify(
        &located.storage,
        &located.manifest,
        keys,
        &work.progress.cancel,
    )
    .await?;
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
