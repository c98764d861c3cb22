//! `storage reconcile`: compares what a destination holds with what the
//! store believes (see `storage::inventory` for the four ways they drift
//! apart), reports every difference and, when asked, repairs it. Each repair
//! keeps the rule "a backup exists when, and only when, its manifest and its
//! artifact exist": a manifest is written back from the store's copy, a
//! manifest found alone with its artifact is adopted, and what can never be
//! restored is removed.

use super::RunError;
use crate::storage::Storage;
use crate::storage::manifest::{MANIFEST_SUFFIX, manifest_key_for};
use crate::store::{NewBackup, RowState, Store};
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
    let inventory = storage.inventory(job).await?;
    let rows = store.rows_at(storage.uri(), job).await?;
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
            let young = inventory.objects[a]
                .modified
                .is_none_or(|t| now.as_second() - t.as_second() < IN_FLIGHT_FOR.as_secs() as i64);
            let kind = FindingKind::ArtifactWithoutManifest;
            if young {
                report.findings.push(Finding {
                    kind,
                    key: a.to_string(),
                    backup_id: None,
                    action:
                        "left alone: written less than an hour ago, it may be a backup in flight"
                            .into(),
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
            Ok(storage.write_small(&f.key, json.into_bytes()).await?)
        }
        (FindingKind::ArtifactMissing, Some(b), _) => {
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
