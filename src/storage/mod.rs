//! Destinations as OpenDAL operators: writing artifacts and manifests, reading
//! them back, listing what a destination holds from its manifests alone.
//!
//! Nothing here assumes a local path: the `fs` service is one OpenDAL service
//! among others. Local writes go through OpenDAL's atomic-write directory
//! (`.sauve-tmp/` under the root), so an artifact appears under its final name only
//! once complete; a killed process leaves a temp file there, which
//! [`Storage::sweep_abandoned`] removes on a later backup. An S3 multipart
//! upload is aborted by its writer on failure; one left by a killed process is
//! aborted by the same sweep once it is older than any backup can run.

pub mod inventory;
pub mod manifest;
pub mod parts;
pub mod uploads;
pub mod webdav;

use crate::domain::{Credential, Destination, Endpoint, Keyring};
use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};
use manifest::{MANIFEST_SUFFIX, Manifest, ManifestError};
use opendal::{ErrorKind, Operator};
use std::time::Duration;

/// Where in-progress local writes live; never listed as backups.
pub const TEMP_DIR: &str = ".sauve-tmp";
/// What stays unescaped in a URL's path segment or query value (RFC 3986's
/// unreserved characters, which SigV4 also leaves alone).
pub(crate) const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// The same, keeping the `/` between the segments of a key.
pub(crate) const KEY_PATH: &percent_encoding::AsciiSet = &UNRESERVED.remove(b'/');

/// In the name of an upload in progress on WebDAV and SFTP:
/// `KEY.sauve-partial-ID`, renamed onto KEY when complete. Never a manifest, so
/// never listed as a backup; swept when abandoned.
pub const PARTIAL_MARK: &str = ".sauve-partial-";

/// The HTTP client of the requests Sauve sends itself (S3 upload sweeps,
/// WebDAV uploads): built once per process, since building one loads the
/// system's root certificates. Deadlines are set per request, because a
/// streamed WebDAV PUT must have none for its whole length.
fn http_client() -> Result<reqwest::Client, String> {
    static CLIENT: std::sync::OnceLock<Result<reqwest::Client, String>> =
        std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(30))
                .tcp_keepalive(Duration::from_secs(30))
                .build()
                .map_err(|e| format!("cannot build an HTTP client: {e}"))
        })
        .clone()
}

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

/// Layers every remote operator gets. Timeout below retry: each attempt gets
/// its own deadline and a stalled request is retried. The other way round, the
/// deadline would cover all attempts and drop the retry mid-way (OpenDAL's
/// documented ordering).
fn remote_layers(op: Operator, timeout: Duration) -> Operator {
    op.layer(
        opendal::layers::TimeoutLayer::new()
            .with_timeout(timeout)
            .with_io_timeout(timeout),
    )
    // Transient failures (5xx, resets, timeouts) are retried with jittered
    // exponential back-off; a part is re-sent, not the file.
    .layer(
        opendal::layers::RetryLayer::new()
            .with_jitter()
            .with_max_times(5)
            .with_min_delay(Duration::from_millis(200))
            .with_notify(log_retry),
    )
}

/// One line per retry. OpenDAL's default logs the error's `Debug`: a
/// backtrace and the service's whole response body, over many lines.
fn log_retry(event: opendal::layers::RetryEvent<'_>) {
    tracing::warn!(
        op = ?event.op,
        attempt = event.attempt,
        retry_in_ms = event.retry_after.as_millis() as u64,
        error = %cut(&event.err.to_string(), 240),
        "retrying a storage request"
    );
}

/// `text` on one line and at most `max` characters: remote services answer
/// with pages of XML or HTML that belong in no log line.
pub(crate) fn cut(text: &str, max: usize) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &one_line[..i]),
        None => one_line,
    }
}

/// The slowest upload a part is given time for, whatever `timeout=` says: a
/// 512 MiB part on a 10 Mbit/s link takes minutes, and must not time out on
/// every attempt.
const SLOWEST_UPLOAD_BYTES_PER_SEC: u64 = 1 << 20;

impl StorageError {
    /// An operation on a key of a destination failed, for `reason`.
    pub(crate) fn op(uri: &str, op: &'static str, key: &str, reason: impl Into<String>) -> Self {
        StorageError::Op {
            uri: uri.to_string(),
            op,
            key: key.to_string(),
            reason: reason.into(),
        }
    }
}

#[derive(Clone)]
pub struct Storage {
    dest: Destination,
    uri: String,
    /// With timeout and retry layers for remote destinations.
    op: Operator,
    /// A remote destination's operator without layers, for writers whose
    /// deadline depends on their part size.
    base: Option<Operator>,
    /// The per-request deadline of a remote destination.
    timeout: Duration,
    /// Multipart uploads of an S3 destination, for sweeping abandoned ones.
    uploads: Option<std::sync::Arc<uploads::Uploads>>,
    /// A WebDAV destination's streaming uploads.
    dav: Option<webdav::Dav>,
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
            " (access denied: check the access key and secret (or the password or key file), and their permissions there)"
        }
        (ErrorKind::NotFound, true) => {
            " (not found: does the bucket exist, and are the endpoint and region right?)"
        }
        (ErrorKind::NotFound, false) => " (not found)",
        _ => "",
    };
    // OpenDAL's Display includes context such as the service and path; the
    // sources (e.g. "Not a directory (os error 20)", or ssh's own complaint
    // behind "failed to connect to the remote host") are what a person can act on.
    let mut causes: Vec<String> = Vec::new();
    let mut src = std::error::Error::source(e);
    while let Some(cause) = src {
        let text = cut(&cause.to_string(), 300);
        if !causes.iter().any(|c| c.contains(text.trim())) {
            causes.push(text.trim().to_string());
        }
        src = cause.source();
    }
    if causes.is_empty() {
        format!("{}{hint}: {}", e.kind(), cut(&e.to_string(), 300))
    } else {
        format!("{}{hint}: {}", e.kind(), causes.join(": "))
    }
}

impl Storage {
    /// Opens a destination with the credentials `keys` reveals for it: a
    /// named secret only if it is bound to this destination's host.
    pub fn open(dest: &Destination, keys: &Keyring) -> Result<Storage, StorageError> {
        let uri = dest.uri();
        let open_err = |reason: String| StorageError::Open {
            uri: uri.clone(),
            reason,
        };
        let mut pending = None;
        let mut dav = None;
        let endpoint = dest.endpoint();
        // Values never appear in errors: only the names of what was missing.
        let var = |cred: &Credential, what: &str| -> Result<String, StorageError> {
            let to = endpoint.clone().unwrap_or_else(|| Endpoint::host("", None));
            keys.reveal(cred, &to, what)
                .map(|v| v.expose().to_string())
                .map_err(|e| open_err(e.to_string()))
        };
        let build = |r: opendal::Result<Operator>| r.map_err(|e| open_err(reason(&e)));
        let op = match dest {
            Destination::Local { root } => {
                let root_s = root.to_string_lossy();
                let tmp = root.join(TEMP_DIR);
                let builder = opendal::services::Fs::default()
                    .root(&root_s)
                    .atomic_write_dir(&tmp.to_string_lossy());
                return Ok(Storage {
                    dest: dest.clone(),
                    uri: uri.clone(),
                    op: build(Operator::new(builder))?,
                    base: None,
                    timeout: Duration::ZERO,
                    uploads: None,
                    dav: None,
                });
            }
            Destination::S3(s) => {
                let access_key = var(&s.access_key, "S3 access key")?;
                let secret_key = var(&s.secret_key, "S3 secret key")?;
                pending = Some(std::sync::Arc::new(uploads::Uploads::new(
                    s,
                    &uri,
                    (&access_key, &secret_key),
                    http_client().map_err(open_err)?,
                    Duration::from_secs(dest.timeout_secs()),
                )));
                let mut builder = opendal::services::S3::default()
                    .bucket(&s.bucket)
                    .root(&format!("/{}", s.prefix))
                    .region(s.region.as_deref().unwrap_or("us-east-1"))
                    .access_key_id(&access_key)
                    .secret_access_key(&secret_key)
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
                build(Operator::new(builder))?
            }
            Destination::Sftp(s) => {
                // OpenDAL drives the system's `ssh` (openssh-client), so
                // ~/.ssh/config and known_hosts apply as they would for a person.
                let endpoint = match s.port {
                    Some(p) => format!("ssh://{}:{p}", s.host),
                    None => s.host.clone(),
                };
                let mut builder = opendal::services::Sftp::default()
                    .endpoint(&endpoint)
                    .root(&s.root)
                    .known_hosts_strategy(&s.known_hosts);
                if let Some(u) = &s.user {
                    builder = builder.user(u);
                }
                if let Some(k) = &s.key {
                    builder = builder.key(k);
                }
                build(Operator::new(builder))?
            }
            Destination::Webdav(w) => {
                let mut builder = opendal::services::Webdav::default()
                    .endpoint(&w.endpoint)
                    .root(&format!("/{}", w.root));
                let auth = match &w.user {
                    Some(u) => Some((u.clone(), var(&w.password, "WebDAV password")?)),
                    None => None,
                };
                if let Some((user, password)) = &auth {
                    builder = builder.username(user).password(password);
                }
                dav = Some(webdav::Dav::new(
                    &w.endpoint,
                    &w.root,
                    auth,
                    &uri,
                    http_client().map_err(open_err)?,
                    Duration::from_secs(dest.timeout_secs()),
                ));
                build(Operator::new(builder))?
            }
            Destination::Gcs(g) => {
                let key = var(&g.credential, "GCS service account key")?;
                let mut builder = opendal::services::Gcs::default()
                    .bucket(&g.bucket)
                    .root(&format!("/{}", g.prefix))
                    .disable_config_load()
                    .disable_vm_metadata();
                // A variable holds the key file's path; a secret, the key itself.
                builder = match &g.credential {
                    Credential::Env(_) => builder.credential_path(&key),
                    Credential::Secret(_) => {
                        use base64::Engine as _;
                        builder.credential(&base64::engine::general_purpose::STANDARD.encode(key))
                    }
                };
                if let Some(e) = &g.endpoint {
                    builder = builder.endpoint(e);
                }
                build(Operator::new(builder))?
            }
            Destination::Azblob(a) => {
                let endpoint = a
                    .endpoint
                    .clone()
                    .unwrap_or_else(|| format!("https://{}.blob.core.windows.net", a.account));
                let builder = opendal::services::Azblob::default()
                    .container(&a.container)
                    .root(&format!("/{}", a.prefix))
                    .account_name(&a.account)
                    .account_key(&var(&a.key, "Azure storage account key")?)
                    .endpoint(&endpoint);
                build(Operator::new(builder))?
            }
        };
        // HTTP services need OpenDAL's transport installed once per process.
        opendal::install_default();
        let timeout = Duration::from_secs(dest.timeout_secs());
        Ok(Storage {
            dest: dest.clone(),
            uri,
            op: remote_layers(op.clone(), timeout),
            base: Some(op),
            timeout,
            uploads: pending,
            dav,
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
            reason: reason_for(&e, self.dest.is_remote()),
        }
    }

    /// A streaming writer for `key`; nothing is visible under `key` until
    /// [`ArtifactWriter::close`] succeeds. `expected_size` (the job's previous
    /// artifact) sizes the parts of a multipart upload: see [`parts`].
    pub async fn writer(
        &self,
        key: &str,
        expected_size: Option<u64>,
    ) -> Result<ArtifactWriter, StorageError> {
        let w = match &self.dest {
            // Object stores take the artifact in parts, several in flight.
            Destination::S3(_) | Destination::Gcs(_) | Destination::Azblob(_) => {
                let plan = parts::plan(expected_size);
                let part_secs = plan.part_size / SLOWEST_UPLOAD_BYTES_PER_SEC;
                let op = match &self.base {
                    Some(base) => remote_layers(
                        base.clone(),
                        self.timeout.max(Duration::from_secs(part_secs)),
                    ),
                    None => self.op.clone(),
                };
                let w = op
                    .writer_with(key)
                    .chunk(plan.part_size as usize)
                    .concurrent(plan.concurrent as usize)
                    .await
                    .map_err(|e| self.op_err("write", key, e))?;
                return Ok(ArtifactWriter {
                    storage: self.clone(),
                    key: key.to_string(),
                    inner: Inner::Dal(w),
                    plan: Some(plan),
                    written: 0,
                });
            }
            Destination::Webdav(_) => {
                let dav = self.dav.as_ref().expect("a WebDAV storage has its client");
                // The PUT needs its collection; OpenDAL creates the parents.
                if let Some((parent, _)) = key.rsplit_once('/') {
                    self.op
                        .create_dir(&format!("{parent}/"))
                        .await
                        .map_err(|e| self.op_err("write", key, e))?;
                }
                return Ok(ArtifactWriter {
                    storage: self.clone(),
                    key: key.to_string(),
                    inner: Inner::Put(dav.put(key)),
                    plan: None,
                    written: 0,
                });
            }
            // SFTP writes in place and cannot abort: write beside the key and
            // rename on close, as WebDAV does, so a dead writer leaves only a
            // partial the job's next backup sweeps.
            Destination::Sftp(_) => {
                let temp = format!("{key}{}{}", PARTIAL_MARK, crate::domain::new_id());
                let w = self
                    .op
                    .writer(&temp)
                    .await
                    .map_err(|e| self.op_err("write", key, e))?;
                return Ok(ArtifactWriter {
                    storage: self.clone(),
                    key: key.to_string(),
                    inner: Inner::Staged { w, temp },
                    plan: None,
                    written: 0,
                });
            }
            Destination::Local { .. } => self.op.writer(key).await,
        }
        .map_err(|e| self.op_err("write", key, e))?;
        Ok(ArtifactWriter {
            storage: self.clone(),
            key: key.to_string(),
            inner: Inner::Dal(w),
            plan: None,
            written: 0,
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
        // Ranged reads of 4 MiB, two in flight: a failed request is retried
        // for its range alone, a GiB takes 256 requests, and a restore holds
        // 8 MiB here (with 8 MiB ranges and more chunks queued, a restore
        // peaked at 75 MiB before any key derivation).
        let reader = self
            .op
            .reader_with(key)
            .chunk(4 << 20)
            .concurrent(2)
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
        // One GET per manifest: on an object store each is a round trip, so
        // sixteen are in flight at once (order does not matter, we sort below).
        let (mut manifests, problems) = self.read_manifests(keys).await;
        manifests.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then(b.backup_id.cmp(&a.backup_id))
        });
        Ok((manifests, problems))
    }

    /// The multipart uploads pending under an S3 destination.
    pub async fn pending_uploads(&self) -> Result<Vec<uploads::PendingUpload>, StorageError> {
        match &self.uploads {
            Some(u) => u.list(None).await,
            None => Err(self.not_s3("list uploads")),
        }
    }

    fn not_s3(&self, op: &'static str) -> StorageError {
        StorageError::op(
            &self.uri,
            op,
            "",
            "only S3 destinations have multipart uploads to sweep; local, SFTP and WebDAV leftovers are swept by the job's next backup",
        )
    }

    /// Cleans up after writers that died: a local destination's temp files
    /// untouched for an hour, an S3 destination's multipart uploads started
    /// more than `uploads_older_than` ago (it must exceed the longest a backup
    /// may run, or a live upload of another instance would be cut). Failures
    /// are logged, never fatal: the backup about to run does not depend on it.
    pub async fn sweep_abandoned(&self, job: &str, uploads_older_than: Duration) -> usize {
        // Only this job's keys: its own timeout bounds how old a live upload of
        // its own can be, not another job's.
        let job_dir = format!("{job}/");
        match (&self.uploads, &self.dest) {
            (Some(u), _) => match u.sweep(Some(&job_dir), uploads_older_than).await {
                Ok(aborted) => aborted.len(),
                Err(e) => {
                    tracing::warn!(error = %e, "could not sweep abandoned multipart uploads");
                    0
                }
            },
            (None, Destination::Webdav(_) | Destination::Sftp(_)) => {
                self.sweep_partials(&job_dir, uploads_older_than).await
            }
            (None, _) => self.sweep_stale_temp().await,
        }
    }

    /// Deletes WebDAV and SFTP uploads (`*.sauve-partial-*`) a killed process left,
    /// once older than `older_than`: a live upload of another instance is younger.
    async fn sweep_partials(&self, dir: &str, older_than: Duration) -> usize {
        let Ok(mut lister) = self.op.lister_with(dir).recursive(true).await else {
            return 0;
        };
        let now = jiff::Timestamp::now();
        let mut removed = 0;
        while let Some(Ok(entry)) = lister.next().await {
            if !entry.name().contains(PARTIAL_MARK) {
                continue;
            }
            let modified = match entry.metadata().last_modified() {
                Some(t) => Some(t),
                None => self
                    .op
                    .stat(entry.path())
                    .await
                    .ok()
                    .and_then(|m| m.last_modified()),
            };
            // Seconds, not durations: OpenDAL's jiff is not our jiff.
            let old = modified.is_some_and(|t| {
                now.as_second() - t.into_inner().as_second() > older_than.as_secs() as i64
            });
            if old && self.op.delete(entry.path()).await.is_ok() {
                tracing::info!(key = %entry.path(), destination = %self.uri, "removed an abandoned partial upload");
                removed += 1;
            }
        }
        removed
    }

    /// Aborts the multipart uploads pending under an S3 destination that were
    /// started more than `older_than` ago, and returns them.
    pub async fn sweep_uploads(
        &self,
        older_than: Duration,
    ) -> Result<Vec<uploads::PendingUpload>, StorageError> {
        match &self.uploads {
            Some(u) => u.sweep(None, older_than).await,
            None => Err(self.not_s3("sweep")),
        }
    }

    /// Removes temp files of local writers that died.
    async fn sweep_stale_temp(&self) -> usize {
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
            return Err(StorageError::op(
                &self.uri,
                "read",
                &key,
                "the probe read back differs from what was written",
            ));
        }
        lap("read", &mut steps);
        let listed = self
            .op
            .list(".sauve-check/")
            .await
            .map_err(|e| self.op_err("list", ".sauve-check/", e))?;
        if !listed.iter().any(|e| e.path() == key) {
            return Err(StorageError::op(
                &self.uri,
                "list",
                &key,
                "the probe just written is not listed",
            ));
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

/// The largest `write` to a local file. Measured on this project's machine
/// (a VM, Linux 6.18, ext4): with 1 MiB writes, copying into the page cache
/// took 18 % of a files backup's CPU samples against 1.7 % for `zstd -o`'s
/// 128 KiB writes of the same bytes; in 256 KiB pieces the backup's system
/// time fell from 1.22 s to 0.50 s and it matched `tar | zstd` with fsync.
/// BENCHMARKS.md ("Writing into a destination") has the likely mechanism.
pub const LOCAL_WRITE: usize = 256 << 10;

/// An artifact being written. Dropping it without `close` leaves nothing under
/// the key; call `abort` to also clean up what was staged.
pub struct ArtifactWriter {
    storage: Storage,
    key: String,
    inner: Inner,
    /// The multipart plan, whose part count caps the artifact's size.
    plan: Option<parts::PartPlan>,
    written: u64,
}

enum Inner {
    Dal(opendal::Writer),
    /// Written under `temp`, renamed onto the key when complete.
    Staged {
        w: opendal::Writer,
        temp: String,
    },
    Put(webdav::StreamingPut),
}

impl ArtifactWriter {
    pub async fn write(&mut self, chunk: Bytes) -> Result<(), StorageError> {
        self.written += chunk.len() as u64;
        if let Some(plan) = self.plan.filter(|p| self.written > p.max_object()) {
            // Said now, not after hours of upload when part 10,001 is refused.
            return Err(StorageError::op(
                &self.storage.uri,
                "write",
                &self.key,
                format!(
                    "the artifact outgrew its upload plan ({} parts of {} MiB, {} at most), planned from the job's earlier runs; the next run plans larger parts from the size this one reached",
                    parts::MAX_PARTS,
                    plan.part_size >> 20,
                    crate::domain::human_bytes(plan.max_object())
                ),
            ));
        }
        match &mut self.inner {
            Inner::Dal(w) | Inner::Staged { w, .. } => {
                let piece = match self.storage.dest {
                    Destination::Local { .. } => LOCAL_WRITE,
                    _ => chunk.len().max(1),
                };
                let mut rest = chunk;
                while !rest.is_empty() {
                    let part = rest.split_to(piece.min(rest.len()));
                    w.write(part)
                        .await
                        .map_err(|e| self.storage.op_err("write", &self.key, e))?;
                }
                Ok(())
            }
            Inner::Put(p) => p.write(chunk).await,
        }
    }

    pub async fn close(self) -> Result<(), StorageError> {
        match self.inner {
            Inner::Dal(mut w) => w
                .close()
                .await
                .map(|_| ())
                .map_err(|e| self.storage.op_err("write", &self.key, e)),
            Inner::Staged { mut w, temp } => {
                let done = match w.close().await {
                    Ok(_) => self.storage.op.rename(&temp, &self.key).await,
                    Err(e) => Err(e),
                };
                if let Err(e) = done {
                    let _ = self.storage.op.delete(&temp).await;
                    return Err(self.storage.op_err("write", &self.key, e));
                }
                Ok(())
            }
            Inner::Put(p) => p.close().await,
        }
    }

    pub async fn abort(self) {
        match self.inner {
            Inner::Dal(mut w) => {
                if let Err(e) = w.abort().await {
                    tracing::warn!(key = %self.key, error = %e, "could not abort a partial write");
                }
            }
            Inner::Staged { w, temp } => {
                drop(w);
                if let Err(e) = self.storage.op.delete(&temp).await {
                    tracing::warn!(key = %temp, error = %e, "could not delete a partial write");
                }
            }
            Inner::Put(p) => p.abort().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::cut;

    #[test]
    fn remote_text_is_cut_to_one_short_line() {
        assert_eq!(cut("a\n  b\tc", 10), "a b c");
        assert_eq!(cut("<Error>\n<Code>SlowDown</Code>", 12), "<Error> <Cod…");
        assert_eq!(cut(&"é".repeat(500), 3), "ééé…");
        assert_eq!(cut("", 5), "");
    }
}
