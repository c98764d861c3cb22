//! Destinations and sources, checked without a job: test that a destination
//! works, sweep its abandoned uploads, list what it holds from its manifests
//! alone (no metadata store needed), test that a source can be read.

use super::{Sauve, ServiceError};
use crate::domain::{Backup, SourceSpec, ValidationErrors};
use crate::runner::open_destination;
use crate::storage::manifest::{Manifest, SourceInfo};

/// What `storage sweep` did.
#[derive(Debug, serde::Serialize)]
pub struct SweepReport {
    pub destination: String,
    /// The uploads aborted (or, in a dry run, that would be).
    pub uploads: Vec<crate::storage::uploads::PendingUpload>,
    /// Uploads pending afterwards (younger than the cut-off, or raced in).
    pub remaining: usize,
}

impl Sauve {
    /// Checks a destination: write, read, list and delete a probe, timed.
    pub async fn check_destination(uri: &str) -> Result<crate::storage::CheckReport, ServiceError> {
        let storage = open_destination(uri, "destination")?;
        Ok(storage.check().await?)
    }

    /// Aborts (or with `dry_run` lists) the multipart uploads pending under an
    /// S3 destination that started more than `older_than` ago.
    pub async fn sweep_destination(
        uri: &str,
        older_than: std::time::Duration,
        dry_run: bool,
    ) -> Result<SweepReport, ServiceError> {
        let storage = open_destination(uri, "destination")?;
        let (uploads, remaining) = if dry_run {
            // Nothing is aborted: one listing answers both questions.
            let pending = storage.pending_uploads().await?;
            let remaining = pending.len();
            let now = jiff::Timestamp::now();
            let old = pending
                .into_iter()
                .filter(|u| crate::storage::uploads::is_older(u, now, older_than))
                .collect();
            (old, remaining)
        } else {
            let aborted = storage.sweep_uploads(older_than).await?;
            (aborted, storage.pending_uploads().await?.len())
        };
        Ok(SweepReport {
            destination: storage.uri().to_string(),
            uploads,
            remaining,
        })
    }

    /// What a destination holds, from its manifests alone (no metadata store).
    pub async fn list_destination(uri: &str) -> Result<(Vec<Backup>, Vec<String>), ServiceError> {
        let storage = open_destination(uri, "dest")?;
        let (manifests, problems) = storage.list_manifests().await?;
        Ok((
            manifests.iter().map(Manifest::to_backup).collect(),
            problems.iter().map(|p| p.to_string()).collect(),
        ))
    }

    /// Checks that a source can be read (tool present, server reachable,
    /// credentials right) without backing it up: the page's "test connection".
    pub async fn test_source(&self, source: SourceSpec) -> Result<SourceInfo, ServiceError> {
        let parsed = source.parse().map_err(|e| {
            let mut out = ValidationErrors::new();
            out.extend_prefixed("source", e);
            out
        })?;
        tokio::task::spawn_blocking(move || crate::pipeline::sources::preflight(&parsed))
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))?
            .map_err(ServiceError::Source)
    }
}
