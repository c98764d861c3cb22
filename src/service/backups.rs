//! Backups: list, show, locate (in the store or in a destination alone),
//! verify, download, delete.

use super::{Actor, KeyOptions, Sauve, ServiceError};
use crate::domain::{Backup, BackupLocator, RunParams};
use crate::pipeline::codec::Keys;
use crate::pipeline::process::{Cancel, SourceError, copy_large};
use crate::restore::{self, VerifyReport};
use crate::runner::{Located, Output, Stopper, find_in_destination, locate};
use crate::store::{BackupFilter, NewRun, StoreError};
use std::path::Path;
use std::sync::Arc;

/// An artifact's bytes as stored, as they come from storage.
pub type ArtifactStream =
    futures::stream::BoxStream<'static, Result<bytes::Bytes, crate::storage::StorageError>>;

/// Which backup an operation is about.
#[derive(Debug, Clone)]
pub enum BackupRef {
    /// An id (or unique prefix) recorded in the metadata store.
    Id(String),
    /// Found in a destination's manifests alone, for when the store is lost:
    /// by id (or prefix), or the newest backup of a job.
    InDestination {
        uri: String,
        id: Option<String>,
        latest_of_job: Option<String>,
    },
}

impl Sauve {
    pub async fn backups(&self, filter: &BackupFilter) -> Result<Vec<Backup>, ServiceError> {
        Ok(self.store.backups(filter).await?)
    }

    pub async fn backup(&self, id: &str) -> Result<Backup, ServiceError> {
        Ok(self.store.backup(id).await?.0)
    }

    /// A backup with its manifest and open storage, from the store or from a
    /// destination's manifests.
    pub async fn locate(&self, r: &BackupRef) -> Result<Located, ServiceError> {
        Ok(match r {
            BackupRef::Id(id) => {
                let at = BackupLocator {
                    id: id.clone(),
                    destination: None,
                };
                locate(&self.store, &self.runner.keyring().await?, &at).await?
            }
            BackupRef::InDestination {
                uri,
                id,
                latest_of_job,
            } => {
                let secrets = self.runner.keyring().await?;
                find_in_destination(uri, id.as_deref(), latest_of_job.as_deref(), &secrets).await?
            }
        })
    }

    /// Where a located backup is, for a run to find it again (by its full id).
    pub(super) fn locator(r: &BackupRef, located: &Located) -> BackupLocator {
        BackupLocator {
            id: located.backup.id.clone(),
            destination: match r {
                BackupRef::Id(_) => None,
                BackupRef::InDestination { .. } => Some(located.manifest.destination.clone()),
            },
        }
    }

    /// The id and name runs of this job are recorded under; a deleted job's
    /// runs keep its name.
    pub(super) async fn run_job_ref(&self, name: &str) -> Result<(String, String), ServiceError> {
        match self.store.job(name).await {
            Ok(j) => Ok((j.id, j.name)),
            Err(StoreError::NotFound { .. }) => Ok((format!("deleted:{name}"), name.to_string())),
            Err(e) => Err(e.into()),
        }
    }

    /// Re-reads a backup in full (checksum, decryption, decompression, the
    /// format's own check), as a `verify` run executed now in this process.
    pub async fn verify(
        &self,
        actor: &Actor,
        r: &BackupRef,
        opts: &KeyOptions,
    ) -> Result<VerifyReport, ServiceError> {
        let params = |backup, keys| RunParams::Verify { backup, keys };
        match self
            .read_now(actor, r, opts, params, "backup.verify", Stopper::default())
            .await?
        {
            Output::Verify(report) => Ok(report),
            _ => Err(ServiceError::Internal(
                "a verify run produced no report".into(),
            )),
        }
    }

    /// Restores a backup into a scratch target Sauve creates and drops, takes
    /// its inventory and runs the job's checks: a `test_restore` run
    /// executed now in this process. A test restore that restored but did
    /// not pass fails with its report (`RunError::TestRestore`).
    pub async fn test_restore(
        &self,
        actor: &Actor,
        r: &BackupRef,
        opts: &KeyOptions,
        stopper: Stopper,
    ) -> Result<crate::domain::proof::TestRestoreReport, ServiceError> {
        let params = |backup, keys| RunParams::TestRestore { backup, keys };
        match self
            .read_now(actor, r, opts, params, "backup.test_restore", stopper)
            .await?
        {
            Output::TestRestore(report) => Ok(*report),
            _ => Err(ServiceError::Internal(
                "a test restore run produced no report".into(),
            )),
        }
    }

    /// A run that reads one backup (`params` of its locator and key names),
    /// executed now in this process with one attempt, audited as `action`.
    async fn read_now(
        &self,
        actor: &Actor,
        r: &BackupRef,
        opts: &KeyOptions,
        params: impl FnOnce(BackupLocator, KeyOptions) -> RunParams,
        action: &str,
        stopper: Stopper,
    ) -> Result<Output, ServiceError> {
        let located = self.locate(r).await?;
        let (job_id, job_name) = self.run_job_ref(&located.manifest.job).await?;
        let params = params(Self::locator(r, &located), opts.clone());
        let new = NewRun {
            job_id: &job_id,
            job_name: &job_name,
            kind: params.kind(),
            trigger: actor.trigger(),
            params: Some(serde_json::to_string(&params).expect("params serialise")),
            scheduled_for: None,
            idempotency_key: None,
            max_attempts: 1,
        };
        let audit = super::runs::Audited {
            actor,
            action,
            target: &located.backup.id,
            detail: None,
        };
        Ok(self.run_in_foreground(new, audit, stopper).await?.1)
    }

    /// Writes the stored artifact (compressed, encrypted as stored) to `out`,
    /// checking its sha256; the file appears only once complete and correct.
    pub async fn download(
        &self,
        actor: &Actor,
        r: &BackupRef,
        out: &Path,
    ) -> Result<Backup, ServiceError> {
        let output_err = |source: std::io::Error| ServiceError::Output {
            path: out.display().to_string(),
            source,
        };
        let dir = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let temp = tempfile::NamedTempFile::new_in(dir).map_err(output_err)?;
        let file = temp.reopen().map_err(output_err)?;
        let backup = self
            .download_to_writer(
                actor,
                r,
                Box::new(std::io::BufWriter::with_capacity(1 << 20, file)),
            )
            .await?;
        temp.persist(out).map_err(|e| output_err(e.error))?;
        Ok(backup)
    }

    /// Streams the stored artifact to `w` (e.g. stdout), checking its sha256 at the end.
    pub async fn download_to_writer(
        &self,
        actor: &Actor,
        r: &BackupRef,
        w: Box<dyn std::io::Write + Send>,
    ) -> Result<Backup, ServiceError> {
        let located = self.locate(r).await?;
        // Not purged from the trash while it is being read.
        let _hold = self.runner.hold(&located.backup.id);
        self.audit(actor, "backup.download", Some(&located.backup.id), None)
            .await;
        restore::read_artifact(
            &located.storage,
            &located.manifest,
            Arc::new(Keys::default()),
            false,
            &Cancel::default(),
            move |input| {
                let mut w = w;
                copy_large(input, &mut w)
                    .and_then(|_| w.flush())
                    .map_err(|e| SourceError::io("writing the download", e))?;
                Ok(())
            },
        )
        .await?;
        Ok(located.backup)
    }

    /// Opens the stored artifact for an HTTP download: the caller streams it
    /// and sends the manifest's size and sha256 for the client to check.
    pub async fn open_download(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<(Located, ArtifactStream), ServiceError> {
        use futures::StreamExt;
        let located = self.locate(&BackupRef::Id(id.to_string())).await?;
        // The stream carries the hold: not purged until the body is sent.
        let hold = self.runner.hold(&located.backup.id);
        let stream = located
            .storage
            .read_stream(&located.manifest.artifact.key)
            .await?
            .map(move |chunk| {
                let _ = &hold;
                chunk
            })
            .boxed();
        self.audit(actor, "backup.download", Some(&located.backup.id), None)
            .await;
        Ok((located, stream))
    }

    /// Deletes a backup: its manifest first (from then on it is not a backup),
    /// then its artifact, then marks it deleted in the store.
    pub async fn delete_backup(&self, actor: &Actor, id: &str) -> Result<Backup, ServiceError> {
        let Located {
            backup,
            manifest,
            storage,
        } = self.locate(&BackupRef::Id(id.to_string())).await?;
        for key in [manifest.manifest_key(), manifest.artifact.key.clone()] {
            match storage.delete(&key).await {
                Ok(()) | Err(crate::storage::StorageError::Missing { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.store.mark_backup_deleted(&backup.id).await?;
        let detail = format!("{} {}", backup.destination, backup.key);
        self.audit(actor, "backup.delete", Some(&backup.id), Some(&detail))
            .await;
        Ok(backup)
    }
}
