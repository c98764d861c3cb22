//! The streaming backup pipeline:
//!
//! ```text
//! source ─► count ─► zstd ─► [age] ─► sha256 ─► channel ═► every destination's writer
//! └──────────── one blocking thread ───────────┘          └── async, concurrent ──┘
//! ```
//!
//! The source is read once, whatever the number of destinations. Memory is
//! bounded by zstd's window and the channel's few chunks; nothing is staged on disk
//! (SQLite's snapshot file aside). A destination that fails is dropped while the
//! others go on. The manifest goes to each destination only after its artifact is
//! complete, so a backup exists exactly when its manifest does.

pub mod codec;
pub mod io;
pub mod log;
pub mod process;
pub mod sources;

use crate::domain::{Backup, Job, Keyring, new_id};
use crate::storage::manifest::{
    ArtifactInfo, CompressionInfo, EncryptionInfo, MANIFEST_FORMAT, Manifest, artifact_key,
};
use crate::storage::{ArtifactWriter, Storage};
use codec::{CodecError, Sealed, Sealer};
use io::{CHANNEL_CHUNKS, ChannelWriter, CountingWriter, HashingWriter};
use jiff::Timestamp;
use process::SourceError;
use sources::SourceContext;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::mpsc;

/// Live counters of a run, shared with whoever displays progress.
#[derive(Clone, Default)]
pub struct Progress {
    /// Bytes read from the source.
    pub bytes_in: Arc<AtomicU64>,
    /// Bytes handed to the destinations.
    pub bytes_out: Arc<AtomicU64>,
    /// Stops the run: at the next chunk, and by killing the dump tool.
    pub cancel: process::Cancel,
}

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Codec(#[from] CodecError),
    #[error("no destination could store the backup: {}", .0.iter().map(|(d, e)| format!("{d}: {e}")).collect::<Vec<_>>().join("; "))]
    AllDestinationsFailed(Vec<(String, String)>),
    #[error("the run was cancelled")]
    Cancelled,
    #[error("internal error in the pipeline: {0}")]
    Internal(String),
}

/// What happened at one destination.
pub struct DestinationResult {
    pub destination: String,
    pub outcome: Result<StoredBackup, String>,
}

pub struct StoredBackup {
    pub backup: Backup,
    pub manifest_json: String,
}

pub struct BackupOutcome {
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub destinations: Vec<DestinationResult>,
}

pub struct BackupRequest<'a> {
    pub job: &'a Job,
    pub run_id: &'a str,
    pub staging_dir: PathBuf,
    pub progress: Progress,
    /// The size of the job's previous artifact, if any: multipart uploads
    /// choose their part size from it.
    pub expected_size: Option<u64>,
    /// The operator's secrets, for the source and the destinations.
    pub keys: Keyring,
}

struct Target {
    uri: String,
    storage: Option<Storage>,
    backup_id: String,
    key: String,
    writer: Option<ArtifactWriter>,
    error: Option<String>,
}

/// Runs one backup of `req.job` to all its destinations. Lines for the run's log
/// are pushed to `log` whatever the outcome.
pub async fn run_backup(
    req: BackupRequest<'_>,
    log: &mut log::RunLog,
) -> Result<BackupOutcome, PipelineError> {
    let job = req.job;
    let source = job.source.clone();
    let keys = req.keys.clone();
    let source_info = tokio::task::spawn_blocking(move || sources::preflight(&source, &keys))
        .await
        .map_err(|e| PipelineError::Internal(e.to_string()))??;
    log.push(format!(
        "source {} {}{}",
        source_info.kind,
        source_info.name,
        source_info
            .server_version
            .as_deref()
            .map(|v| format!(" (server {v})"))
            .unwrap_or_default()
    ));
    let sealer = job.encryption.as_ref().map(Sealer::resolve).transpose()?;

    let started_at = now_ms();
    let mut targets = open_targets(job, started_at, req.expected_size, &req.keys).await;
    for t in &targets {
        if let Some(e) = &t.error {
            log.push(format!("destination {} unusable: {e}", t.uri));
        }
    }
    if targets.iter().all(|t| t.writer.is_none()) {
        return Err(all_failed(&targets));
    }

    let (tx, mut rx) = mpsc::channel(CHANNEL_CHUNKS);
    let progress = req.progress.clone();
    let source = job.source.clone();
    let level = job.compression_level;
    let ctx = SourceContext {
        staging_dir: req.staging_dir.clone(),
        cancel: req.progress.cancel.clone(),
        keys: req.keys.clone(),
        leave_out: job
            .destinations
            .iter()
            .filter_map(|d| match d {
                crate::domain::Destination::Local { root } => Some(root.clone()),
                _ => None,
            })
            .chain(req.staging_dir.parent().map(std::path::Path::to_path_buf))
            .collect(),
    };
    let producer =
        tokio::task::spawn_blocking(move || -> Result<(String, String, u64), PipelineError> {
            let chan = ChannelWriter::new(tx, progress.cancel.flag());
            let sealed = Sealed::new(HashingWriter::new(chan), sealer.as_ref())?;
            let encoder = codec::compressor(sealed, level)
                .map_err(|e| PipelineError::Internal(format!("zstd: {e}")))?;
            let mut counted = CountingWriter::new(encoder, progress.bytes_in.clone());
            let tool_log = sources::dump(&source, &ctx, &mut counted)?;
            let finish = |e: std::io::Error| SourceError::io("finishing the artifact", e);
            let sealed = counted.into_inner().finish().map_err(finish)?;
            let hashed = sealed.finish().map_err(finish)?;
            let (chan, sha256, size) = hashed.finish();
            chan.finish().map_err(finish)?;
            Ok((tool_log, sha256, size))
        });

    // Fan each chunk out to every live destination, concurrently.
    while let Some(chunk) = rx.recv().await {
        req.progress
            .bytes_out
            .fetch_add(chunk.len() as u64, Ordering::Relaxed);
        let writes = targets.iter_mut().filter(|t| t.writer.is_some()).map(|t| {
            let chunk = chunk.clone();
            async move {
                let w = t.writer.as_mut().expect("filtered");
                if let Err(e) = w.write(chunk).await {
                    t.error = Some(e.to_string());
                    t.writer.take().expect("present").abort().await;
                }
            }
        });
        futures::future::join_all(writes).await;
        if targets.iter().all(|t| t.writer.is_none()) {
            // Dropping the receiver makes the producer's next send fail, which
            // stops the source tool.
            break;
        }
    }
    drop(rx);

    let produced = producer
        .await
        .map_err(|e| PipelineError::Internal(e.to_string()))?;
    let (tool_log, sha256, size) = match produced {
        Ok(v) => v,
        Err(e) => {
            for t in &mut targets {
                if let Some(w) = t.writer.take() {
                    w.abort().await;
                }
            }
            if req.progress.cancel.is_cancelled() {
                return Err(PipelineError::Cancelled);
            }
            if targets.iter().all(|t| t.error.is_some()) {
                return Err(all_failed(&targets));
            }
            return Err(e);
        }
    };
    if !tool_log.is_empty() {
        log.push(tool_log);
    }
    let finished_at = now_ms();
    let bytes_in = req.progress.bytes_in.load(Ordering::Relaxed);

    let mut results = Vec::new();
    for mut t in targets {
        let outcome = match (t.writer.take(), t.error.take()) {
            (Some(w), _) => {
                let manifest = Manifest {
                    format: MANIFEST_FORMAT.into(),
                    backup_id: t.backup_id.clone(),
                    run_id: Some(req.run_id.to_string()),
                    job: job.name.clone(),
                    created_at: started_at,
                    started_at,
                    finished_at,
                    source: source_info.clone(),
                    artifact: ArtifactInfo {
                        key: t.key.clone(),
                        size,
                        sha256: sha256.clone(),
                        raw_size: bytes_in,
                    },
                    compression: CompressionInfo {
                        algorithm: "zstd".into(),
                        level: job.compression_level,
                    },
                    encryption: encryption_info(job),
                    destination: t.uri.clone(),
                    sauve_version: env!("CARGO_PKG_VERSION").into(),
                };
                let storage = t
                    .storage
                    .as_ref()
                    .expect("a writer implies an open storage");
                publish(storage, w, &manifest).await
            }
            (None, Some(e)) => Err(e),
            (None, None) => Err("not written".to_string()),
        };
        match &outcome {
            Ok(_) => log.push(format!(
                "stored {} at {}: {} from {} read",
                t.key,
                t.uri,
                log::size_and_rate(size, (finished_at - started_at).as_millis() as i64),
                crate::domain::human_bytes(bytes_in)
            )),
            Err(e) => log.push(format!("destination {} failed: {e}", t.uri)),
        }
        results.push(DestinationResult {
            destination: t.uri.clone(),
            outcome,
        });
    }
    if results.iter().all(|r| r.outcome.is_err()) {
        return Err(PipelineError::AllDestinationsFailed(
            results
                .into_iter()
                .map(|r| (r.destination, r.outcome.err().unwrap_or_default()))
                .collect(),
        ));
    }
    Ok(BackupOutcome {
        bytes_in,
        bytes_out: size,
        destinations: results,
    })
}

/// Now, at the millisecond precision the store keeps, so a manifest and the
/// store's record of one backup print the same times.
fn now_ms() -> Timestamp {
    Timestamp::from_millisecond(Timestamp::now().as_millisecond()).expect("now is in range")
}

fn all_failed(targets: &[Target]) -> PipelineError {
    PipelineError::AllDestinationsFailed(
        targets
            .iter()
            .map(|t| {
                (
                    t.uri.clone(),
                    t.error.clone().unwrap_or_else(|| "failed".into()),
                )
            })
            .collect(),
    )
}

fn encryption_info(job: &Job) -> Option<EncryptionInfo> {
    job.encryption.as_ref().map(|e| match e {
        crate::domain::Encryption::Passphrase { .. } => EncryptionInfo {
            scheme: "age".into(),
            mode: "passphrase".into(),
            recipients: vec![],
        },
        crate::domain::Encryption::Recipients(r) => EncryptionInfo {
            scheme: "age".into(),
            mode: "recipients".into(),
            recipients: r.clone(),
        },
    })
}

/// A multipart upload older than this cannot belong to a live backup.
const ABANDONED_UPLOAD_AFTER: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

async fn open_targets(
    job: &Job,
    started_at: Timestamp,
    expected: Option<u64>,
    keys: &Keyring,
) -> Vec<Target> {
    // Twice the job's timeout, at least a day: no live run of this job is that
    // old, and the sweep looks at this job's keys only.
    let abandoned_after = ABANDONED_UPLOAD_AFTER.max(job.timeout * 2);
    let mut targets = Vec::new();
    for dest in &job.destinations {
        let backup_id = new_id();
        let key = artifact_key(
            &job.name,
            started_at,
            &backup_id,
            job.source.extension(),
            job.encryption.is_some(),
        );
        let storage = match Storage::open(dest, keys) {
            Ok(s) => s,
            Err(e) => {
                // Keep a placeholder so the failure is reported per destination.
                targets.push(Target {
                    uri: dest.uri(),
                    storage: None,
                    backup_id,
                    key,
                    writer: None,
                    error: Some(e.to_string()),
                });
                continue;
            }
        };
        storage.sweep_abandoned(&job.name, abandoned_after).await;
        let (writer, error) = match storage.writer(&key, expected).await {
            Ok(w) => (Some(w), None),
            Err(e) => (None, Some(e.to_string())),
        };
        targets.push(Target {
            uri: dest.uri(),
            storage: Some(storage),
            backup_id,
            key,
            writer,
            error,
        });
    }
    targets
}

/// Completes the artifact, checks its stored size, then writes its manifest.
/// If the manifest cannot be written the artifact is deleted: without a
/// manifest it is not a backup.
async fn publish(
    storage: &Storage,
    w: ArtifactWriter,
    m: &Manifest,
) -> Result<StoredBackup, String> {
    w.close().await.map_err(|e| e.to_string())?;
    // What the destination holds must be what was sent: a server that kept a
    // truncated body, or a retried write that repeated bytes (SFTP writes in
    // place), is caught here rather than at restore time.
    let stored = storage
        .size(&m.artifact.key)
        .await
        .map_err(|e| e.to_string())?;
    if stored != m.artifact.size {
        let _ = storage.delete(&m.artifact.key).await;
        return Err(format!(
            "the destination holds {stored} bytes of {} but {} were sent; the copy was deleted",
            m.artifact.key, m.artifact.size
        ));
    }
    let json = m.to_json();
    if let Err(e) = storage
        .write_small(&m.manifest_key(), json.clone().into_bytes())
        .await
    {
        let _ = storage.delete(&m.artifact.key).await;
        return Err(e.to_string());
    }
    Ok(StoredBackup {
        backup: m.to_backup(),
        manifest_json: json,
    })
}
