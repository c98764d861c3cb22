//! The `verify` kind: re-read a stored backup in full (checksum, decryption,
//! decompression, the source format's own check) and record what was found,
//! on the run and on the backup (`verified_at`, or `damaged_at` and why).

use super::{Done, Output, RunError, Work, locate};
use crate::domain::{BackupLocator, KeyNames, RunState};
use crate::restore::{self, RestoreError};

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
