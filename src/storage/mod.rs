//! Destinations as OpenDAL operators: writing artifacts and manifests, reading
//! them back, listing what a destination holds from its manifests alone.
//!
//! Nothing here assumes a local path: the `fs` service is one OpenDAL service
//! among others. Local writes go through OpenDAL's atomic-write directory
//! (`.sauve-tmp/` under the root), so an artifact appears under its final name only
//! once complete; a killed process leaves a temp file there, which
//! [`Storage::sweep_stale_temp`] removes on a later backup.

pub mod manifest;

use crate::domain::Destination;
use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};
use manifest::{MANIFEST_SUFFIX, Manifest, ManifestError};
use opendal::{ErrorKind, Operator};
use std::time::Duration;

/// Where in-progress local writes live; never listed as backups.
pub const TEMP_DIR: &str = ".sauve-tmp";
/// Part size of S3 multipart uploads.
const S3_PART_SIZE: usize = 16 << 20;
/// A temp file untouched this long belongs to a dead writer.
const STALE_TEMP_AFTER: Duration = Duration::from_secs(3600);

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("cannot open destination {uri}: {reason}")]
    Open { uri: String, reason: String },
    #[error("{op} {key:?} at {uri} failed: {reason}")]
    Op {
        uri: String,
        op: &'static str,
        key: String,
        reason: String,
    },
    #[error("{key:?} does not exist at {uri}: was it deleted from storage?")]
    Missing { uri: String, key: String },
    #[error(transparent)]
    Manifest(#[from] ManifestError),
}

#[derive(Clone)]
pub struct Storage {
    dest: Destination,
    uri: String,
    op: Operator,
}

/// Turns OpenDAL's error into a sentence that says what to check.
fn reason(e: &opendal::Error) -> String {
    reason_for(e, false)
}

fn reason_for(e: &opendal::Error, object_store: bool) -> String {
    // OpenDAL files S3's NoSuchBucket under ConfigInvalid; say it plainly.
    if object_store && e.to_string().contains("NoSuchBucket") {
        return format!(
            "the bucket does not exist: create it, or check the bucket name, endpoint and region ({})",
            e.kind()
        );
    }
    let hint = match (e.kind(), object_store) {
        (ErrorKind::PermissionDenied, false) => {
            " (permission denied: check that Sauve's user may write there)"
        }
        (ErrorKind::PermissionDenied, true) => {
            " (access denied: check the access key and secret, and the key's permissions on the bucket)"
        }
        (ErrorKind::NotFound, true) => {
            " (not found: does the bucket exist, and are the endpoint and region right?)"
        }
        (ErrorKind::NotFound, false) => " (not found)",
        _ => "",
    };
    // OpenDAL's Display includes context such as the service and path; the source
    // error (e.g. "Not a directory (os error 20)") is what a person can act on.
    match std::error::Error::source(e) {
        Some(src) => format!("{}{hint}: {src}", e.kind()),
        None => format!("{}{hint}: {e}", e.kind()),
    }
}

impl Storage {
    pub fn open(dest: &Destination) -> Result<Storage, StorageError> {
        let uri = dest.uri();
        let open_err = |reason: String| StorageError::Open {
            uri: uri.clone(),
            reason,
        };
        let op = match dest {
            Destination::S3(s) => {
                // HTTP services need OpenDAL's transport installed once per process.
                opendal::install_default();
                let var =
                    |name: &str, what: &str| {
                        std::env::var(name).ok().filter(|v| !v.is_empty()).ok_or_else(|| {
                        open_err(format!(
                            "the S3 {what} variable {name} is not set in Sauve's environment"
                        ))
                    })
                    };
                let mut builder = opendal::services::S3::default()
                    .bucket(&s.bucket)
                    .root(&format!("/{}", s.prefix))
                    .region(s.region.as_deref().unwrap_or("us-east-1"))
                    .access_key_id(&var(&s.access_key_env, "access key")?)
                    .secret_access_key(&var(&s.secret_key_env, "secret key")?)
                    // Only what the URI and the named variables say: no profile
                    // files or instance metadata picked up behind the user's back.
                    .disable_config_load()
                    .disable_ec2_metadata();
                if let Some(endpoint) = &s.endpoint {
                    builder = builder.endpoint(endpoint);
                }
                if !s.path_style {
                    builder = builder.enable_virtual_host_style();
                }
                Operator::new(builder)
                    .map_err(|e| open_err(reason(&e)))?
                    // Transient failures (5xx, resets, timeouts) are retried with
                    // jittered exponential back-off; a part is re-sent, not the file.
                    .layer(
                        opendal::layers::RetryLayer::new()
                            .with_jitter()
                            .with_max_times(5)
                            .with_min_delay(Duration::from_millis(200)),
                    )
                    .layer(
                        opendal::layers::TimeoutLayer::new()
                            .with_timeout(Duration::from_secs(120))
                            .with_io_timeout(Duration::from_secs(60)),
                    )
            }
            Destination::Local { root } => {
                let root_s = root.to_string_lossy();
                let tmp = root.join(TEMP_DIR);
                let builder = opendal::services::Fs::default()
                    .root(&root_s)
                    .atomic_write_dir(&tmp.to_string_lossy());
                Operator::new(builder).map_err(|e| StorageError::Open {
                    uri: uri.clone(),
                    reason: reason(&e),
                })?
            }
        };
        Ok(Storage {
            dest: dest.clone(),
            uri,
            op,
        })
    }

    pub fn destination(&self) -> &Destination {
        &self.dest
    }

    pub fn uri(&self) -> &str {
        &self.uri
    }

    fn op_err(&self, op: &'static str, key: &str, e: opendal::Error) -> StorageError {
        if e.kind() == ErrorKind::NotFound && op != "write" {
            return StorageError::Missing {
                uri: self.uri.clone(),
                key: key.to_string(),
            };
        }
        StorageError::Op {
            uri: self.uri.clone(),
            op,
            key: key.to_string(),
            reason: reason_for(&e, matches!(self.dest, Destination::S3(_))),
        }
    }

    /// A streaming writer for `key`; nothing is visible under `key` until
    /// [`ArtifactWriter::close`] succeeds.
    pub async fn writer(&self, key: &str) -> Result<ArtifactWriter, StorageError> {
        let w = match &self.dest {
            Destination::Local { .. } => self.op.writer(key).await,
            // Multipart upload: 16 MiB parts, 4 in flight (64 MiB of buffers).
            // 10,000 parts of 16 MiB cap one object at 160 GiB.
            Destination::S3(_) => {
                self.op
                    .writer_with(key)
                    .chunk(S3_PART_SIZE)
                    .concurrent(4)
                    .await
            }
        }
        .map_err(|e| self.op_err("write", key, e))?;
        Ok(ArtifactWriter {
            storage: self.clone(),
            key: key.to_string(),
            inner: w,
        })
    }

    pub async fn write_small(&self, key: &str, body: Vec<u8>) -> Result<(), StorageError> {
        self.op
            .write(key, body)
            .await
            .map(|_| ())
            .map_err(|e| self.op_err("write", key, e))
    }

    pub async fn size(&self, key: &str) -> Result<u64, StorageError> {
        self.op
            .stat(key)
            .await
            .map(|m| m.content_length())
            .map_err(|e| self.op_err("stat", key, e))
    }

    /// The artifact's bytes as a stream of chunks.
    pub async fn read_stream(
        &self,
        key: &str,
    ) -> Result<impl Stream<Item = Result<Bytes, StorageError>> + Send + 'static, StorageError>
    {
        let reader = self
            .op
            .reader_with(key)
            .chunk(1 << 20)
            .await
            .map_err(|e| self.op_err("read", key, e))?;
        let stream = reader
            .into_bytes_stream(..)
            .await
            .map_err(|e| self.op_err("read", key, e))?;
        let uri = self.uri.clone();
        let key = key.to_string();
        Ok(stream.map_err(move |e| StorageError::Op {
            uri: uri.clone(),
            op: "read",
            key: key.clone(),
            reason: e.to_string(),
        }))
    }

    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        self.op
            .delete(key)
            .await
            .map_err(|e| self.op_err("delete", key, e))
    }

    pub async fn read_manifest(&self, manifest_key: &str) -> Result<Manifest, StorageError> {
        let body = self
            .op
            .read(manifest_key)
            .await
            .map_err(|e| self.op_err("read", manifest_key, e))?;
        Ok(Manifest::from_json(manifest_key, &body.to_vec())?)
    }

    /// Every backup the destination holds, from its manifests alone, newest first.
    /// Unreadable manifests are reported beside the list, not hidden.
    pub async fn list_manifests(&self) -> Result<(Vec<Manifest>, Vec<StorageError>), StorageError> {
        let mut lister = self
            .op
            .lister_with("")
            .recursive(true)
            .await
            .map_err(|e| self.op_err("list", "", e))?;
        let mut keys = Vec::new();
        while let Some(entry) = lister.next().await {
            let entry = entry.map_err(|e| self.op_err("list", "", e))?;
            let path = entry.path();
            if path.ends_with(MANIFEST_SUFFIX) && !path.starts_with(TEMP_DIR) {
                keys.push(path.to_string());
            }
        }
        let mut manifests = Vec::new();
        let mut problems = Vec::new();
        for key in keys {
            match self.read_manifest(&key).await {
                Ok(m) => manifests.push(m),
                Err(e) => problems.push(e),
            }
        }
        manifests.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then(b.backup_id.cmp(&a.backup_id))
        });
        Ok((manifests, problems))
    }

    /// Removes temp files of writers that died (only local destinations have
    /// them; an S3 multipart upload is aborted by its writer, and an upload
    /// abandoned by a killed process is invisible and expires by bucket policy).
    pub async fn sweep_stale_temp(&self) -> usize {
        let Destination::Local { root } = &self.dest else {
            return 0;
        };
        let dir = root.join(TEMP_DIR);
        let Ok(mut entries) = tokio::fs::read_dir(&dir).await else {
            return 0;
        };
        let mut removed = 0;
        while let Ok(Some(entry)) = entries.next_entry().await {
            let stale = entry
                .metadata()
                .await
                .ok()
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > STALE_TEMP_AFTER);
            if stale && tokio::fs::remove_file(entry.path()).await.is_ok() {
                tracing::info!(path = %entry.path().display(), "removed a stale partial write");
                removed += 1;
            }
        }
        removed
    }
}

/// What `check` found: each operation's latency, or where it failed.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct CheckReport {
    pub destination: String,
    /// (operation, milliseconds), in the order run: write, read, list, delete.
    pub steps: Vec<(String, u64)>,
}

impl Storage {
    /// Proves the destination works for backups: writes a small probe object,
    /// reads it back and compares, lists it, deletes it. The first failure is
    /// the error (it names the operation), so credentials and each permission
    /// are told apart.
    pub async fn check(&self) -> Result<CheckReport, StorageError> {
        let key = format!(".sauve-check/{}", crate::domain::new_id());
        let body = format!("sauve storage check {key}").into_bytes();
        let mut steps = Vec::new();
        let mut timed = std::time::Instant::now();
        let mut lap = |name: &str, steps: &mut Vec<(String, u64)>| {
            steps.push((name.to_string(), timed.elapsed().as_millis() as u64));
            timed = std::time::Instant::now();
        };
        self.write_small(&key, body.clone()).await?;
        lap("write", &mut steps);
        let read = self
            .op
            .read(&key)
            .await
            .map_err(|e| self.op_err("read", &key, e))?
            .to_vec();
        if read != body {
            return Err(StorageError::Op {
                uri: self.uri.clone(),
                op: "read",
                key,
                reason: "the probe read back differs from what was written".into(),
            });
        }
        lap("read", &mut steps);
        let listed = self
            .op
            .list(".sauve-check/")
            .await
            .map_err(|e| self.op_err("list", ".sauve-check/", e))?;
        if !listed.iter().any(|e| e.path() == key) {
            return Err(StorageError::Op {
                uri: self.uri.clone(),
                op: "list",
                key,
                reason: "the probe just written is not listed".into(),
            });
        }
        lap("list", &mut steps);
        self.delete(&key).await?;
        lap("delete", &mut steps);
        Ok(CheckReport {
            destination: self.uri.clone(),
            steps,
        })
    }
}

/// An artifact being written. Dropping it without `close` leaves nothing under
/// the key; call `abort` to also clean up what was staged.
pub struct ArtifactWriter {
    storage: Storage,
    key: String,
    inner: opendal::Writer,
}

impl ArtifactWriter {
    pub async fn write(&mut self, chunk: Bytes) -> Result<(), StorageError> {
        self.inner
            .write(chunk)
            .await
            .map_err(|e| self.storage.op_err("write", &self.key, e))
    }

    pub async fn close(mut self) -> Result<(), StorageError> {
        self.inner
            .close()
            .await
            .map(|_| ())
            .map_err(|e| self.storage.op_err("write", &self.key, e))
    }

    pub async fn abort(mut self) {
        if let Err(e) = self.inner.abort().await {
            tracing::warn!(key = %self.key, error = %e, "could not abort a partial write");
        }
    }
}
