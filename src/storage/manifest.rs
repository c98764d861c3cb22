//! The manifest: the JSON document written beside each artifact, last. It makes a
//! destination self-describing: with the metadata store gone, listing manifests
//! tells what backups exist and how to read them back.

use crate::domain::Backup;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub const MANIFEST_FORMAT: &str = "sauve-manifest/1";
pub const MANIFEST_SUFFIX: &str = ".manifest.json";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`MANIFEST_FORMAT`]; a reader refuses formats it does not know.
    pub format: String,
    pub backup_id: String,
    pub run_id: Option<String>,
    pub job: String,
    pub created_at: Timestamp,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    pub source: SourceInfo,
    pub artifact: ArtifactInfo,
    pub compression: CompressionInfo,
    pub encryption: Option<EncryptionInfo>,
    /// Canonical URI of the destination it was written to.
    pub destination: String,
    pub sauve_version: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SourceInfo {
    pub kind: String,
    /// What was backed up, without credentials: a database name or a path.
    pub name: String,
    pub server_version: Option<String>,
    /// The dump tool and its version, e.g. `pg_dump (PostgreSQL) 15.19`.
    pub tool: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArtifactInfo {
    /// Object key of the artifact, relative to the destination root.
    pub key: String,
    /// Bytes stored.
    pub size: u64,
    /// SHA-256 of the bytes stored, hex.
    pub sha256: String,
    /// Bytes the source produced.
    pub raw_size: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompressionInfo {
    pub algorithm: String,
    pub level: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncryptionInfo {
    /// Always `age`.
    pub scheme: String,
    /// `passphrase` or `recipients`.
    pub mode: String,
    /// Public keys the artifact is encrypted to (empty for a passphrase).
    pub recipients: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("manifest {key} is not valid JSON for Sauve: {reason}")]
    Invalid { key: String, reason: String },
    #[error(
        "manifest {key} has format {found:?}, which this Sauve does not read (it reads {MANIFEST_FORMAT}); upgrade Sauve"
    )]
    UnknownFormat { key: String, found: String },
}

impl Manifest {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("manifest serialises")
    }

    pub fn from_json(key: &str, bytes: &[u8]) -> Result<Manifest, ManifestError> {
        #[derive(Deserialize)]
        struct Probe {
            format: String,
        }
        let probe: Probe = serde_json::from_slice(bytes).map_err(|e| ManifestError::Invalid {
            key: key.to_string(),
            reason: e.to_string(),
        })?;
        if probe.format != MANIFEST_FORMAT {
            return Err(ManifestError::UnknownFormat {
                key: key.to_string(),
                found: probe.format,
            });
        }
        serde_json::from_slice(bytes).map_err(|e| ManifestError::Invalid {
            key: key.to_string(),
            reason: e.to_string(),
        })
    }

    pub fn manifest_key(&self) -> String {
        manifest_key_for(&self.artifact.key)
    }

    /// The backup record this manifest describes.
    pub fn to_backup(&self) -> Backup {
        Backup {
            id: self.backup_id.clone(),
            job: self.job.clone(),
            run_id: self.run_id.clone(),
            created_at: self.created_at,
            size: self.artifact.size as i64,
            raw_size: self.artifact.raw_size as i64,
            sha256: self.artifact.sha256.clone(),
            destination: self.destination.clone(),
            key: self.artifact.key.clone(),
            source_kind: self.source.kind.clone(),
            compression: format!("{}-{}", self.compression.algorithm, self.compression.level),
            encrypted: self.encryption.is_some(),
            // A manifest says what was written, not what a re-read found.
            verified_at: None,
            damaged_at: None,
            test_restored_at: None,
            test_restore: None,
            verify_error: None,
        }
    }
}

pub fn manifest_key_for(artifact_key: &str) -> String {
    format!("{artifact_key}{MANIFEST_SUFFIX}")
}

/// Where an artifact goes inside a destination:
/// `JOB/YYYY/MM/JOB-YYYYMMDDTHHMMSSZ-ID.EXT.zst[.age]`. Dated folders keep listings
/// of one period cheap; the id makes two backups in one second distinct.
pub fn artifact_key(
    job: &str,
    created_at: Timestamp,
    backup_id: &str,
    extension: &str,
    encrypted: bool,
) -> String {
    let t = created_at.to_zoned_datetime(jiff::tz::TimeZone::UTC);
    format!(
        "{job}/{}/{job}-{}-{backup_id}.{extension}.zst{}",
        t.strftime("%Y/%m"),
        t.strftime("%Y%m%dT%H%M%SZ"),
        if encrypted { ".age" } else { "" }
    )
}

/// The backup id an artifact key names (see [`artifact_key`]), for telling
/// whose an object is when its manifest is gone.
pub fn backup_id_of(artifact_key: &str) -> Option<&str> {
    let mut parts = artifact_key.split('/');
    let job = parts.next()?;
    let file = parts.nth(2)?;
    let rest = file.strip_prefix(job)?.strip_prefix('-')?;
    // YYYYMMDDTHHMMSSZ-
    let rest = rest
        .get(17..)
        .filter(|_| rest.as_bytes().get(16) == Some(&b'-'))?;
    let id = rest.split('.').next()?;
    (!id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric())).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> Manifest {
        let t: Timestamp = "2026-11-24T02:00:07Z".parse().unwrap();
        Manifest {
            format: MANIFEST_FORMAT.into(),
            backup_id: "01jd".into(),
            run_id: Some("01jc".into()),
            job: "app-db".into(),
            created_at: t,
            started_at: t,
            finished_at: t,
            source: SourceInfo {
                kind: "postgres".into(),
                name: "app".into(),
                server_version: Some("15.19".into()),
                tool: Some("pg_dump (PostgreSQL) 15.19".into()),
            },
            artifact: ArtifactInfo {
                key: artifact_key("app-db", t, "01jd", "dump", true),
                size: 10,
                sha256: "ab".into(),
                raw_size: 30,
            },
            compression: CompressionInfo {
                algorithm: "zstd".into(),
                level: 3,
            },
            encryption: Some(EncryptionInfo {
                scheme: "age".into(),
                mode: "passphrase".into(),
                recipients: vec![],
            }),
            destination: "file:///b".into(),
            sauve_version: "0.1.0".into(),
        }
    }

    #[test]
    fn an_artifact_key_names_its_backup() {
        let t: Timestamp = "2026-11-24T02:00:07Z".parse().unwrap();
        for (job, id, ext, enc) in [
            ("app-db", "01jd7z", "dump", true),
            ("a", "01x", "tar", false),
            ("my-app.v2", "01kq", "sqlite", false),
        ] {
            assert_eq!(backup_id_of(&artifact_key(job, t, id, ext, enc)), Some(id));
        }
        for bad in [
            "",
            "app/2026/11",
            "app/2026/11/other-20261124T020007Z-01x.tar.zst",
            "app/2026/11/app-2026-01x.tar.zst",
            "app/2026/11/app-20261124T020007Z-.tar.zst",
        ] {
            assert_eq!(backup_id_of(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn keys() {
        let m = sample();
        assert_eq!(
            m.artifact.key,
            "app-db/2026/11/app-db-20261124T020007Z-01jd.dump.zst.age"
        );
        assert_eq!(
            m.manifest_key(),
            "app-db/2026/11/app-db-20261124T020007Z-01jd.dump.zst.age.manifest.json"
        );
        let t: Timestamp = "2027-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(
            artifact_key("f", t, "x", "tar", false),
            "f/2027/01/f-20270101T000000Z-x.tar.zst"
        );
    }

    #[test]
    fn round_trip_and_refusals() {
        let m = sample();
        let back = Manifest::from_json("k", m.to_json().as_bytes()).unwrap();
        assert_eq!(back, m);
        let b = back.to_backup();
        assert_eq!((b.size, b.raw_size, b.encrypted), (10, 30, true));
        assert_eq!(b.compression, "zstd-3");

        let future = m.to_json().replace(MANIFEST_FORMAT, "sauve-manifest/9");
        assert!(matches!(
            Manifest::from_json("k", future.as_bytes()),
            Err(ManifestError::UnknownFormat { .. })
        ));
        assert!(matches!(
            Manifest::from_json("k", b"{\"format\": 1}"),
            Err(ManifestError::Invalid { .. })
        ));
        let missing = m.to_json().replace("\"sha256\"", "\"sha257\"");
        assert!(matches!(
            Manifest::from_json("k", missing.as_bytes()),
            Err(ManifestError::Invalid { .. })
        ));
    }
}
