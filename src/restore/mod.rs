//! Reading artifacts back: storage → sha256 → [age] → zstd → a consumer (a
//! format check for `verify`, a database or directory for `restore`, a file for
//! `download`).
//!
//! The sha256 is computed on the async side over every stored byte, even when the
//! consumer stops early, so a damaged artifact is reported as damaged rather than as
//! whatever decoding error it happened to cause. `restore` reads the artifact
//! once into a target that can roll back (PostgreSQL, SQLite, files), holding
//! the stream's tail back until the checksum is known (`gate.rs`), so a
//! damaged artifact is never committed; MySQL and a restore command cannot roll
//! back, so they get a full verification first, then the restore.

mod gate;
mod plan;
pub use plan::{resolve_keys, restore_target};

use crate::domain::Keyring;
use crate::pipeline::codec::{self, CodecError, Keys};
use crate::pipeline::io::ChannelReader;
use crate::pipeline::process::{Cancel, SourceError};
use crate::pipeline::sources::{self, RestoreTarget};
use crate::storage::manifest::Manifest;
use crate::storage::{Storage, StorageError};
use futures::StreamExt;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Chunks read from storage waiting for the consumer.
const READ_CHUNKS_QUEUED: usize = 2;

#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error(
        "backup {backup_id} is corrupted: {key} at {destination} has sha256 {actual} ({actual_size} bytes) but its manifest records {expected} ({expected_size} bytes). Nothing was restored; pick another backup (sauve backup list --job {job})"
    )]
    ChecksumMismatch {
        backup_id: String,
        job: String,
        destination: String,
        key: String,
        expected: String,
        actual: String,
        expected_size: u64,
        actual_size: u64,
    },
    #[error(transparent)]
    Codec(#[from] CodecError),
    #[error(
        "backup {backup_id} cannot be decompressed ({reason}); the artifact is damaged or is not a Sauve artifact"
    )]
    Decompress { backup_id: String, reason: String },
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("the run was cancelled; the target was left as it was (see the run's log)")]
    Cancelled,
    #[error("internal error while reading the backup: {0}")]
    Internal(String),
}

/// What a consumer may fail with: the decode chain, or its own work.
pub enum ConsumeError {
    Codec(CodecError),
    Source(SourceError),
}

impl From<SourceError> for ConsumeError {
    fn from(e: SourceError) -> Self {
        ConsumeError::Source(e)
    }
}

/// Streams the artifact of `manifest` through a consumer on a blocking thread.
/// With `decode`, the consumer reads decrypted, decompressed bytes; without, the
/// stored bytes. Always checks size and sha256 against the manifest. `cancel`
/// stops the read at the next chunk: the consumer then reads an error, never
/// a clean end of a truncated stream.
pub async fn read_artifact<T, F>(
    storage: &Storage,
    manifest: &Manifest,
    keys: Arc<Keys>,
    decode: bool,
    cancel: &Cancel,
    consumer: F,
) -> Result<T, RestoreError>
where
    T: Send + 'static,
    F: FnOnce(&mut dyn Read) -> Result<T, SourceError> + Send + 'static,
{
    read_with(storage, manifest, keys, decode, false, cancel, consumer).await
}

/// `read_artifact` decoding, with the decoded stream's tail held back from
/// the consumer until the stored bytes' sha256 and size, and the decoded
/// size, match the manifest: a consumer that commits at the end of its
/// input commits only a good backup.
pub async fn read_gated<T, F>(
    storage: &Storage,
    manifest: &Manifest,
    keys: Arc<Keys>,
    cancel: &Cancel,
    consumer: F,
) -> Result<T, RestoreError>
where
    T: Send + 'static,
    F: FnOnce(&mut dyn Read) -> Result<T, SourceError> + Send + 'static,
{
    read_with(storage, manifest, keys, true, true, cancel, consumer).await
}

async fn read_with<T, F>(
    storage: &Storage,
    manifest: &Manifest,
    keys: Arc<Keys>,
    decode: bool,
    gated: bool,
    cancel: &Cancel,
    consumer: F,
) -> Result<T, RestoreError>
where
    T: Send + 'static,
    F: FnOnce(&mut dyn Read) -> Result<T, SourceError> + Send + 'static,
{
    let mut stream = storage.read_stream(&manifest.artifact.key).await?;
    // Chunks from storage are ranges of up to 4 MiB: two queued are enough
    // to keep the consumer busy while the next range is read.
    let (tx, rx) = mpsc::channel::<std::io::Result<bytes::Bytes>>(READ_CHUNKS_QUEUED);
    let (verdict_tx, verdict_rx) = std::sync::mpsc::channel::<Result<(), String>>();
    let encrypted = manifest.encryption.is_some();
    let raw_size = manifest.artifact.raw_size;
    let consumer_task = tokio::task::spawn_blocking(move || -> Result<T, ConsumeError> {
        let mut raw = ChannelReader::new(rx);
        if decode {
            let mut plain =
                codec::opener(&mut raw, encrypted, &keys).map_err(ConsumeError::Codec)?;
            if gated {
                let mut gate = gate::Gated::new(&mut plain, raw_size, verdict_rx);
                consumer(&mut gate).map_err(ConsumeError::Source)
            } else {
                consumer(&mut plain).map_err(ConsumeError::Source)
            }
        } else {
            consumer(&mut raw).map_err(ConsumeError::Source)
        }
    });

    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut tx = Some(tx);
    let mut read_error = None;
    while let Some(chunk) = stream.next().await {
        if cancel.is_cancelled() {
            if let Some(sender) = tx.take() {
                let _ = sender
                    .send(Err(std::io::Error::other("run cancelled")))
                    .await;
            }
            let _ = consumer_task.await;
            return Err(RestoreError::Cancelled);
        }
        match chunk {
            Ok(chunk) => {
                hasher.update(&chunk);
                size += chunk.len() as u64;
                if let Some(sender) = &tx
                    && sender.send(Ok(chunk)).await.is_err()
                {
                    // The consumer stopped; keep reading to finish the checksum.
                    tx = None;
                }
            }
            Err(e) => {
                if let Some(sender) = tx.take() {
                    let _ = sender.send(Err(std::io::Error::other(e.to_string()))).await;
                }
                read_error = Some(e);
                break;
            }
        }
    }
    drop(tx);
    let actual = hex::encode(hasher.finalize());
    let intact = actual == manifest.artifact.sha256 && size == manifest.artifact.size;
    // The gate waits for this before giving out the stream's last bytes.
    let _ = verdict_tx.send(match (&read_error, intact) {
        (None, true) => Ok(()),
        (Some(e), _) => Err(format!(
            "reading the backup failed ({e}); nothing was committed"
        )),
        (None, false) => Err(format!(
            "backup {} is corrupted (its sha256 is not the manifest's); nothing was committed",
            manifest.backup_id
        )),
    });
    let consumed = consumer_task
        .await
        .map_err(|e| RestoreError::Internal(e.to_string()))?;
    // A cancel that came after the consumer was done changes nothing: what it
    // did (a target renamed into place) is done, and is checked below.
    if cancel.is_cancelled() && consumed.is_err() {
        return Err(RestoreError::Cancelled);
    }
    if let Some(e) = read_error {
        return Err(e.into());
    }
    if !intact {
        return Err(RestoreError::ChecksumMismatch {
            backup_id: manifest.backup_id.clone(),
            job: manifest.job.clone(),
            destination: manifest.destination.clone(),
            key: manifest.artifact.key.clone(),
            expected: manifest.artifact.sha256.clone(),
            actual,
            expected_size: manifest.artifact.size,
            actual_size: size,
        });
    }
    consumed.map_err(|e| match e {
        ConsumeError::Codec(c) => RestoreError::Codec(c),
        ConsumeError::Source(SourceError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::Other && is_zstd_error(&source) =>
        {
            RestoreError::Decompress {
                backup_id: manifest.backup_id.clone(),
                reason: source.to_string(),
            }
        }
        ConsumeError::Source(s) => match decrypt_failure(&s) {
            Some(reason) => RestoreError::Codec(CodecError::WrongKey(reason)),
            None => RestoreError::Source(s),
        },
    })
}

fn is_zstd_error(e: &std::io::Error) -> bool {
    let s = e.to_string().to_lowercase();
    s.contains("frame")
        || s.contains("checksum")
        || s.contains("corrupt")
        || s.contains("unknown")
        || e.to_string().starts_with(gate::SIZE_MISMATCH)
}

/// age reports a bad chunk as an I/O error mid-stream.
fn decrypt_failure(e: &SourceError) -> Option<String> {
    let s = e.to_string();
    s.to_lowercase().contains("decryption error").then_some(s)
}

/// Everything `verify` found.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct VerifyReport {
    pub backup_id: String,
    pub sha256: String,
    pub size: u64,
    pub raw_size: u64,
    pub format: String,
}

/// Re-reads the artifact in full: checksum, decryption, decompression, and the
/// source format's own check.
pub async fn verify(
    storage: &Storage,
    manifest: &Manifest,
    keys: Arc<Keys>,
    cancel: &Cancel,
) -> Result<VerifyReport, RestoreError> {
    let kind = manifest.source.kind.clone();
    let (format, raw_size) = read_artifact(storage, manifest, keys, true, cancel, move |input| {
        let mut counted = CountingReader { inner: input, n: 0 };
        let format = sources::check_format(&kind, &mut counted)?;
        // Whatever the check did not read still has to decompress cleanly.
        crate::pipeline::process::copy_large(&mut counted, &mut std::io::sink())
            .map_err(|e| SourceError::io("reading the backup", e))?;
        Ok((format, counted.n))
    })
    .await?;
    if raw_size != manifest.artifact.raw_size {
        return Err(RestoreError::Decompress {
            backup_id: manifest.backup_id.clone(),
            reason: format!(
                "it decompresses to {raw_size} bytes, the manifest records {}",
                manifest.artifact.raw_size
            ),
        });
    }
    Ok(VerifyReport {
        backup_id: manifest.backup_id.clone(),
        sha256: manifest.artifact.sha256.clone(),
        size: manifest.artifact.size,
        raw_size,
        format,
    })
}

struct CountingReader<R> {
    inner: R,
    n: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n += n as u64;
        Ok(n)
    }
}

/// Checks the target, then restores into it: in one pass where the target
/// can roll back (a damaged artifact is refused before anything is
/// committed, and a database created for it is dropped), else after a full
/// verification.
pub async fn restore(
    storage: &Storage,
    manifest: &Manifest,
    keys: Arc<Keys>,
    target: RestoreTarget,
    force: bool,
    cancel: &Cancel,
    secrets: Keyring,
) -> Result<(VerifyReport, String), RestoreError> {
    if target.rolls_back() {
        return restore_in_one_pass(storage, manifest, keys, target, force, cancel, secrets).await;
    }
    let report = verify(storage, manifest, keys.clone(), cancel).await?;
    let target = Arc::new(target);
    let t = target.clone();
    let s = secrets.clone();
    tokio::task::spawn_blocking(move || t.prepare(force, &s))
        .await
        .map_err(|e| RestoreError::Internal(e.to_string()))??;
    if cancel.is_cancelled() {
        return Err(RestoreError::Cancelled);
    }
    let feed_cancel = cancel.clone();
    let log = read_artifact(storage, manifest, keys, true, cancel, move |input| {
        target.restore(force, input, &feed_cancel, &secrets)
    })
    .await?;
    Ok((report, log))
}

async fn restore_in_one_pass(
    storage: &Storage,
    manifest: &Manifest,
    keys: Arc<Keys>,
    target: RestoreTarget,
    force: bool,
    cancel: &Cancel,
    secrets: Keyring,
) -> Result<(VerifyReport, String), RestoreError> {
    let target = Arc::new(target);
    let (t, s) = (target.clone(), secrets.clone());
    let created = tokio::task::spawn_blocking(move || t.prepare(force, &s))
        .await
        .map_err(|e| RestoreError::Internal(e.to_string()))??;
    let restored = if cancel.is_cancelled() {
        Err(RestoreError::Cancelled)
    } else {
        let (t, s, feed_cancel) = (target.clone(), secrets.clone(), cancel.clone());
        read_gated(storage, manifest, keys, cancel, move |input| {
            t.restore(force, input, &feed_cancel, &s)
        })
        .await
    };
    match restored {
        Ok(log) => Ok((
            VerifyReport {
                backup_id: manifest.backup_id.clone(),
                sha256: manifest.artifact.sha256.clone(),
                size: manifest.artifact.size,
                raw_size: manifest.artifact.raw_size,
                format: format!(
                    "restored in one pass into {}; sha256 and sizes checked before it was committed",
                    target.describe()
                ),
            },
            log,
        )),
        Err(e) => {
            if created {
                // What this restore created for itself goes with it.
                let _ = tokio::task::spawn_blocking(move || target.drop_created(&secrets)).await;
            }
            Err(e)
        }
    }
}
