//! What a destination really holds for a job, and how that compares with
//! what the metadata store believes: the ground truth retention counts from
//! (it never counts what is not really there) and what `storage reconcile`
//! reports and repairs.
//!
//! Four disagreements, each from a known way things go wrong:
//! - an artifact without a manifest: a crash between the two writes of a
//!   backup (the artifact first, the manifest last);
//! - a manifest the store does not know: a run whose lease was lost after it
//!   wrote its backup, or a store restored from an older copy;
//! - a store row whose manifest is gone but whose artifact is there: a
//!   manifest deleted by hand (the store's copy can put it back);
//! - a store row whose artifact is gone: deleted from storage behind Sauve's
//!   back; that backup cannot be restored, whatever the store says.

use super::manifest::{MANIFEST_SUFFIX, Manifest, manifest_key_for};
use super::{PARTIAL_MARK, Storage, StorageError, TEMP_DIR};
use futures::StreamExt;
use jiff::Timestamp;
use std::collections::BTreeMap;

/// One object of a destination.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub size: Option<u64>,
    pub modified: Option<Timestamp>,
}

/// The objects under a job's folder, by key.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub objects: BTreeMap<String, Object>,
}

impl Inventory {
    pub fn has(&self, key: &str) -> bool {
        self.objects.contains_key(key)
    }

    /// Whether a backup whose artifact is at `artifact_key` is really there:
    /// its artifact and its manifest both present.
    pub fn holds(&self, artifact_key: &str) -> bool {
        self.has(artifact_key) && self.has(&manifest_key_for(artifact_key))
    }

    /// Keys of manifests.
    pub fn manifests(&self) -> impl Iterator<Item = &str> {
        self.objects
            .keys()
            .map(String::as_str)
            .filter(|k| k.ends_with(MANIFEST_SUFFIX))
    }

    /// Keys that look like a job's artifacts (`JOB/YYYY/MM/JOB-…`), not
    /// manifests, partial uploads or probes.
    pub fn artifacts(&self) -> impl Iterator<Item = &str> {
        self.objects.keys().map(String::as_str).filter(|k| {
            let parts: Vec<&str> = k.split('/').collect();
            parts.len() == 4
                && !k.ends_with(MANIFEST_SUFFIX)
                && !k.contains(PARTIAL_MARK)
                && parts[3].starts_with(&format!("{}-", parts[0]))
        })
    }
}

impl Storage {
    /// Lists every object under `JOB/` (or the whole destination for None).
    pub async fn inventory(&self, job: Option<&str>) -> Result<Inventory, StorageError> {
        let dir = job.map(|j| format!("{j}/")).unwrap_or_default();
        let mut lister = self
            .op
            .lister_with(&dir)
            .recursive(true)
            .await
            .map_err(|e| self.op_err("list", &dir, e))?;
        let mut inventory = Inventory::default();
        while let Some(entry) = lister.next().await {
            let entry = entry.map_err(|e| self.op_err("list", &dir, e))?;
            let path = entry.path();
            if path.ends_with('/') || path.starts_with(TEMP_DIR) {
                continue;
            }
            let meta = entry.metadata();
            inventory.objects.insert(
                path.to_string(),
                Object {
                    size: Some(meta.content_length()),
                    modified: meta
                        .last_modified()
                        .and_then(|t| Timestamp::from_second(t.into_inner().as_second()).ok()),
                },
            );
        }
        Ok(inventory)
    }

    /// Reads the manifests of `keys`, sixteen at a time; unreadable ones are
    /// returned beside.
    pub async fn read_manifests(&self, keys: Vec<String>) -> (Vec<Manifest>, Vec<StorageError>) {
        let mut manifests = Vec::new();
        let mut problems = Vec::new();
        let mut reads = futures::stream::iter(keys)
            .map(|key| async move { self.read_manifest(&key).await })
            .buffer_unordered(16);
        while let Some(read) = reads.next().await {
            match read {
                Ok(m) => manifests.push(m),
                Err(e) => problems.push(e),
            }
        }
        (manifests, problems)
    }
}
