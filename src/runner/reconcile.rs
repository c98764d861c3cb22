//! `storage reconcile`: compares what a destination holds with what the
//! store believes (see `storage::inventory` for the four ways they drift
//! apart), reports every difference and, when asked, repairs it. Each repair
//! keeps the rule "a backup exists when, and only when, its manifest and its
//! artifact exist": a manifest is written back from the store's copy, a
//! manifest found alone with its artifact is adopted, and what can never be
//! restored is removed.

use super::RunError;
use crate::domain::{RunKind, RunState};
use crate::storage::Storage;
use crate::storage::manifest::{MANIFEST_SUFFIX, backup_id_of, manifest_key_for};
use crate::store::{NewBackup, RowState, RunFilter, Store, StoreError};
use jiff::Timestamp;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// An artifact without a manifest this young may be a backup writing its
/// manifest right now: left alone.
const IN_FLIGHT_FOR: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// An artifact with no manifest and no store row: a crash between the
    /// two writes. Removed.
    ArtifactWithoutManifest,
    /// A manifest (with its artifact) the store does not know. Adopted.
    UnknownManifest,
    /// A manifest whose artifact is gone, unknown to the store. Removed.
    ManifestWithoutArtifact,
    /// A store row whose manifest is gone while the artifact is there. The
    /// manifest is written back from the store's copy.
    ManifestMissing,
    /// A store row whose artifact is gone: it cannot be restored. The row is
    /// marked deleted and a lone manifest removed.
    ArtifactMissing,
    /// Objects of a backup the store recorded as deleted (a delete or purge
    /// that stopped half-way). Removed.
    LeftoverOfDeleted,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Finding {
    pub kind: FindingKind,
    /// The object key concerned (the artifact's, or the manifest's).
    pub key: String,
    pub backup_id: Option<String>,
    /// What `--apply` does (or did) about it.
    pub action: String,
    pub applied: bool,
    /// Why the repair was not made (`--apply` only).
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ReconcileReport {
    pub destination: String,
    /// Backups found intact (artifact and manifest, known to the store).
    pub intact: usize,
    pub findings: Vec<Finding>,
}

pub async fn reconcile(
    store: &Store,
    storage: &Storage,
    job: Option<&str>,
    apply: bool,
    now: Timestamp,
) -> Result<ReconcileReport, RunError> {
    // The rows first, then the listing: a backup recorded in between has its
    // objects listed and no row read, which is only ever reported as unknown
    // (and its adoption then fails on the row that exists), never as missing.
    let rows = store.rows_at(storage.uri(), job).await?;
    let inventory = storage.inventory(job).await?;
    let known: BTreeMap<&str, RowState> =
        rows.iter().map(|(b, s, _)| (b.key.as_str(), *s)).collect();
    let mut report = ReconcileReport {
        destination: storage.uri().to_string(),
        intact: 0,
        findings: vec![],
    };
    let mut pending = Vec::new();
    for (b, state, manifest_json) in &rows {
        let manifest_key = manifest_key_for(&b.key);
        let (artifact, manifest) = (inventory.has(&b.key), inventory.has(&manifest_key));
        let finding = match (state, artifact, manifest) {
            (RowState::Purged, false, false) => continue,
            (RowState::Purged, ..) => (FindingKind::LeftoverOfDeleted, b.key.clone()),
            (_, true, true) => {
                report.intact += 1;
                continue;
            }
            // In the trash a missing manifest is a purge under way: its
            // next prune finishes it.
            (RowState::Trashed, true, false) => continue,
            (_, true, false) => (FindingKind::ManifestMissing, manifest_key),
            (_, false, _) => (FindingKind::ArtifactMissing, b.key.clone()),
        };
        pending.push((finding, Some(b.clone()), Some(manifest_json.clone())));
    }
    let mut with_manifest = BTreeSet::new();
    let unknown: Vec<String> = inventory
        .manifests()
        .filter(|m| {
            let artifact = m.trim_end_matches(MANIFEST_SUFFIX);
            with_manifest.insert(artifact.to_string());
            !known.contains_key(artifact)
        })
        .map(String::from)
        .collect();
    let (manifests, problems) = storage.read_manifests(unknown).await;
    for m in manifests {
        // A backup still running writes each destination's manifest as it
        // finishes and records them all at its end: not unknown, only early
        // (adopting it would make the run's own record collide).
        let running = match &m.run_id {
            Some(run) => store.run(run).await.is_ok_and(|r| !r.state.is_finished()),
            None => false,
        };
        if running {
            report.findings.push(Finding {
                kind: FindingKind::UnknownManifest,
                key: m.manifest_key(),
                backup_id: Some(m.backup_id.clone()),
                action: "left alone: the run that wrote it has not finished".into(),
                applied: false,
                error: None,
            });
            continue;
        }
        let kind = if inventory.has(&m.artifact.key) {
            FindingKind::UnknownManifest
        } else {
            FindingKind::ManifestWithoutArtifact
        };
        let mut backup = m.to_backup();
        backup.destination = storage.uri().to_string();
        pending.push(((kind, m.manifest_key()), Some(backup), Some(m.to_json())));
    }
    for p in problems {
        tracing::warn!(error = %p, "reconcile: an unreadable manifest is left as it is");
    }
    for a in inventory.artifacts() {
        if !known.contains_key(a) && !with_manifest.contains(a) {
            // Recorded under another spelling of this destination's URI, or
            // a backup of its job writing right now: not ours to remove.
            let id_known = match backup_id_of(a) {
                Some(id) => store.backup_id_known(id).await?,
                None => true,
            };
            let job = a.split('/').next().unwrap_or_default();
            let young = id_known
                || job_backing_up(store, job).await?
                || inventory.objects[a].modified.is_none_or(|t| {
                    now.as_second() - t.as_second() < IN_FLIGHT_FOR.as_secs() as i64
                });
            let kind = FindingKind::ArtifactWithoutManifest;
            if young {
                report.findings.push(Finding {
                    kind,
                    key: a.to_string(),
                    backup_id: None,
                    action: "left alone: its backup id is in the store, its job is backing up, or it was written less than an hour ago".into(),
                    applied: false,
                    error: None,
                });
                continue;
            }
            pending.push(((kind, a.to_string()), None, None));
        }
    }
    for ((kind, key), backup, manifest_json) in pending {
        let mut f = Finding {
            kind,
            backup_id: backup.as_ref().map(|b| b.id.clone()),
            action: action(kind).into(),
            key,
            applied: false,
            error: None,
        };
        if apply {
            match repair(store, storage, &f, backup, manifest_json).await {
                Ok(()) => f.applied = true,
                Err(e) => f.error = Some(e.to_string()),
            }
        }
        report.findings.push(f);
    }
    Ok(report)
}

fn action(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::ArtifactWithoutManifest => "remove the artifact",
        FindingKind::UnknownManifest => "adopt it into the store",
        FindingKind::ManifestWithoutArtifact => "remove the manifest",
        FindingKind::ManifestMissing => "write the manifest back from the store's copy",
        FindingKind::ArtifactMissing => "mark the backup deleted in the store",
        FindingKind::LeftoverOfDeleted => "remove the leftover objects",
    }
}

async fn repair(
    store: &Store,
    storage: &Storage,
    f: &Finding,
    backup: Option<crate::domain::Backup>,
    manifest_json: Option<String>,
) -> Result<(), RunError> {
    let delete = |key: String| async move {
        match storage.delete(&key).await {
            Ok(()) | Err(crate::storage::StorageError::Missing { .. }) => Ok(()),
            Err(e) => Err(RunError::from(e)),
        }
    };
    match (f.kind, backup, manifest_json) {
        (FindingKind::ArtifactWithoutManifest, ..) => delete(f.key.clone()).await,
        (FindingKind::ManifestWithoutArtifact, ..) => delete(f.key.clone()).await,
        (FindingKind::UnknownManifest, Some(backup), Some(manifest_json)) => Ok(store
            .insert_backup(&NewBackup {
                backup,
                manifest_json,
            })
            .await?),
        (FindingKind::ManifestMissing, _, Some(json)) => {
            if present(storage, &f.key).await? {
                return Ok(());
            }
            Ok(storage.write_small(&f.key, json.into_bytes()).await?)
        }
        (FindingKind::ArtifactMissing, Some(b), _) => {
            // A listing can miss what is there (eventually consistent
            // stores): ask for the object itself before giving it up.
            if present(storage, &b.key).await? {
                return Err(RunError::Failed(format!(
                    "{} is there when asked directly: the listing missed it; nothing changed",
                    b.key
                )));
            }
            delete(manifest_key_for(&b.key)).await?;
            Ok(store.mark_backup_deleted(&b.id).await?)
        }
        (FindingKind::LeftoverOfDeleted, Some(b), _) => {
            delete(manifest_key_for(&b.key)).await?;
            delete(b.key).await
        }
        _ => Err(RunError::Internal(format!("no repair for {:?}", f.kind))),
    }
}

/// Whether `key` exists, asked of the object itself rather than a listing.
async fn present(storage: &Storage, key: &str) -> Result<bool, RunError> {
    match storage.size(key).await {
        Ok(_) => Ok(true),
        Err(crate::storage::StorageError::Missing { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Whether a backup of `job` is running now (its artifacts may be waiting
/// for their manifests).
async fn job_backing_up(store: &Store, job: &str) -> Result<bool, StoreError> {
    let running = store
        .runs(&RunFilter {
            job: Some(job.to_string()),
            state: Some(RunState::Running),
            kind: Some(RunKind::Backup),
            limit: 1,
            before_id: None,
        })
        .await?;
    Ok(!running.is_empty())
}
