//! Destinations and sources, checked without a job: test that a destination
//! works, sweep its abandoned uploads, list what it holds from its manifests
//! alone (no metadata store needed), test that a source can be read.

use super::{Actor, Sauve, ServiceError};
use crate::domain::{Backup, Destination, Keyring, SourceSpec, ValidationErrors};
use crate::pipeline::process::SourceError;
use crate::runner::open_destination;
use crate::storage::StorageError;
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
    /// The CLI's form, usable without a metadata store (`keys` may be empty).
    pub async fn check_destination(
        uri: &str,
        keys: &Keyring,
    ) -> Result<crate::storage::CheckReport, ServiceError> {
        let storage = open_destination(uri, "destination", keys)?;
        Ok(storage.check().await?)
    }

    /// The page's "test": what `actor` may reach, with the secrets bound to it.
    pub async fn test_destination(
        &self,
        actor: &Actor,
        uri: &str,
    ) -> Result<crate::storage::CheckReport, ServiceError> {
        let dest = Destination::parse(uri).map_err(|e| {
            let mut out = ValidationErrors::new();
            out.extend_prefixed("destination", e);
            out
        })?;
        self.guard_destination(actor, &dest, "destination").await?;
        let keys = self.keyring().await?;
        let storage = open_destination(uri, "destination", &keys)?;
        storage.check().await.map_err(|e| {
            // The operator finds the far end's own words in the log.
            tracing::warn!(error = %e, "a destination test failed");
            match actor.authority() {
                crate::domain::Authority::Remote { .. } => storage_for_a_person(e).into(),
                crate::domain::Authority::Operator => e.into(),
            }
        })
    }

    /// The operator's secrets with their bindings (values unsealed on use).
    pub async fn keyring(&self) -> Result<Keyring, ServiceError> {
        Ok(self.runner.keyring().await?)
    }

    /// Aborts (or with `dry_run` lists) the multipart uploads pending under an
    /// S3 destination that started more than `older_than` ago.
    pub async fn sweep_destination(
        uri: &str,
        older_than: std::time::Duration,
        dry_run: bool,
        keys: &Keyring,
    ) -> Result<SweepReport, ServiceError> {
        let storage = open_destination(uri, "destination", keys)?;
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
    pub async fn list_destination(
        uri: &str,
        keys: &Keyring,
    ) -> Result<(Vec<Backup>, Vec<String>), ServiceError> {
        let storage = open_destination(uri, "dest", keys)?;
        let (manifests, problems) = storage.list_manifests().await?;
        Ok((
            manifests.iter().map(Manifest::to_backup).collect(),
            problems.iter().map(|p| p.to_string()).collect(),
        ))
    }

    /// Checks that a source can be read (tool present, server reachable,
    /// credentials right) without backing it up: the page's "test connection".
    pub async fn test_source(
        &self,
        actor: &Actor,
        source: SourceSpec,
    ) -> Result<SourceInfo, ServiceError> {
        let parsed = source.parse().map_err(|e| {
            let mut out = ValidationErrors::new();
            out.extend_prefixed("source", e);
            out
        })?;
        self.guard_source(actor, &parsed).await?;
        let keys = self.keyring().await?;
        let remote = matches!(actor.authority(), crate::domain::Authority::Remote { .. });
        tokio::task::spawn_blocking(move || crate::pipeline::sources::preflight(&parsed, &keys))
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))?
            .map_err(|e| ServiceError::Source(if remote { for_a_person(e) } else { e }))
    }
}

/// What a remote caller is told when a source test fails: what a person
/// needs ("reachable, wrong password", "no such database"), never what the
/// far end said in its own words (a banner, the first bytes of whatever
/// protocol answered on that port), which would turn the test into a port
/// scanner. The operator sees the tool's own words with the CLI.
fn for_a_person(e: SourceError) -> SourceError {
    match e {
        SourceError::Unreachable {
            kind,
            address,
            detail,
        } => {
            let d = detail.to_ascii_lowercase();
            let detail = if d.contains("refused") {
                "the connection was refused"
            } else if d.contains("resolve") || d.contains("translate host") {
                "the host name does not resolve"
            } else {
                "no connection could be made"
            };
            SourceError::Unreachable {
                kind,
                address,
                detail: detail.into(),
            }
        }
        SourceError::ToolFailed { tool, .. } => SourceError::Config(format!(
            "the server was reached, but {tool} could not read from it (it may not be a server of this kind, or it refused the dump tool); a backup run from the CLI on the server shows the tool's own words"
        )),
        other => other,
    }
}

/// What a remote caller is told when a destination test fails: which step,
/// and what to check, from the kind of failure; never the service's response
/// (headers, a `Server:` banner, an error page).
fn storage_for_a_person(e: StorageError) -> StorageError {
    let StorageError::Op {
        uri,
        op,
        key,
        reason,
    } = e
    else {
        return e;
    };
    let r = reason.to_ascii_lowercase();
    let reason = if r.contains("bucket does not exist") || r.contains("nosuchbucket") {
        "the bucket does not exist: create it, or check the bucket name, endpoint and region"
    } else if r.contains("access denied") || r.contains("permission denied") {
        "access denied: check the credentials and what they may do there"
    } else if r.contains("not found") {
        "not found: check that the bucket, container or path exists"
    } else if r.contains("timed out") || r.contains("timeout") {
        "no answer in time: check the endpoint, and that the service is up"
    } else if r.contains("connect") || r.contains("dns") || r.contains("resolve") {
        "could not connect: check the host, port and tls setting"
    } else {
        "the service refused the request or did not answer as this kind of storage would; the server's log has its own words"
    };
    StorageError::Op {
        uri,
        op,
        key,
        reason: reason.to_string(),
    }
}
