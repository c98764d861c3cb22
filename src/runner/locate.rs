//! Finding a backup: its record, its manifest and an open `Storage`, from the
//! metadata store or, when the store does not know it, from a destination's
//! manifests alone. Used by the restore and verify kinds and by the service.

use super::RunError;
use crate::domain::{Backup, BackupLocator, Destination, Keyring, ValidationErrors};
use crate::storage::Storage;
use crate::storage::manifest::Manifest;
use crate::store::{Store, StoreError};

/// A backup ready to be read.
pub struct Located {
    pub backup: Backup,
    pub manifest: Manifest,
    pub storage: Storage,
}

/// Opens a destination named by the user in `field`.
pub fn open_destination(uri: &str, field: &str, secrets: &Keyring) -> Result<Storage, RunError> {
    let dest = Destination::parse(uri).map_err(|e| {
        let mut out = ValidationErrors::new();
        out.extend_prefixed(field, e);
        RunError::Invalid(out)
    })?;
    Ok(Storage::open(&dest, secrets)?)
}

/// The backup a run is about.
pub async fn locate(
    store: &Store,
    secrets: &Keyring,
    at: &BackupLocator,
) -> Result<Located, RunError> {
    match &at.destination {
        Some(uri) => find_in_destination(uri, Some(&at.id), None, secrets).await,
        None => {
            let (backup, manifest_json) = store.backup(&at.id).await?;
            let manifest = Manifest::from_json(&backup.key, manifest_json.as_bytes())
                .map_err(crate::storage::StorageError::from)?;
            let dest = Destination::parse(&backup.destination).map_err(RunError::Invalid)?;
            let storage = Storage::open(&dest, secrets)?;
            Ok(Located {
                backup,
                manifest,
                storage,
            })
        }
    }
}

/// A backup found by listing a destination: by id (or unique prefix), or the
/// newest backup of a job.
pub async fn find_in_destination(
    uri: &str,
    id: Option<&str>,
    latest_of_job: Option<&str>,
    secrets: &Keyring,
) -> Result<Located, RunError> {
    let storage = open_destination(uri, "from", secrets)?;
    let (manifests, _) = storage.list_manifests().await?;
    let mut found: Vec<Manifest> = match (id, latest_of_job) {
        (Some(id), _) => {
            let id = id.trim().to_ascii_lowercase();
            manifests
                .into_iter()
                .filter(|m| !id.is_empty() && m.backup_id.starts_with(&id))
                .collect()
        }
        // Manifests come newest first.
        (None, Some(job)) => manifests
            .into_iter()
            .filter(|m| m.job == job)
            .take(1)
            .collect(),
        (None, None) => {
            return Err(RunError::Invalid(ValidationErrors::single(
                "id",
                "name a backup id, or --latest --job NAME to take the newest backup of a job",
            )));
        }
    };
    let key = id.or(latest_of_job).unwrap_or_default().to_string();
    match found.len() {
        0 => Err(StoreError::NotFound {
            what: "backup",
            key: format!("{key} in {}", storage.uri()),
        }
        .into()),
        1 => {
            let manifest = found.remove(0);
            Ok(Located {
                backup: manifest.to_backup(),
                manifest,
                storage,
            })
        }
        _ => Err(StoreError::Ambiguous {
            what: "backup",
            key,
        }
        .into()),
    }
}
