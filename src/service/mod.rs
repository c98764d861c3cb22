//! The service layer: every operation a person can ask for (create a job, run it,
//! list, verify, download, restore), written once and called by both the CLI and
//! the HTTP handlers. It validates input, talks to the store, the pipeline and
//! storage, and records runs. It never prints: callers decide how to show results.

mod access;
pub use access::{NewSession, SESSION_TTL_MS};

use crate::domain::{
    Backup, CatchUp, Destination, JobSpec, Overlap, Run, RunState, Trigger, ValidationErrors,
};
use crate::pipeline::PipelineError;
use crate::pipeline::codec::{CodecError, Keys};
use crate::pipeline::sources::RestoreTarget;
use crate::restore::{self, RestoreError, VerifyReport};
use crate::storage::manifest::Manifest;
use crate::storage::{Storage, StorageError};
use crate::store::{BackupFilter, CancelOutcome, RunFilter, Store, StoreError, StoredJob};
use crate::worker::{self, QueueTiming, Stopper};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("invalid input: {0}")]
    Invalid(#[from] ValidationErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("backup of job {job} failed: {error}")]
    Backup {
        job: String,
        run_id: String,
        /// Boxed: the pipeline's error is large and every other variant small.
        error: Box<PipelineError>,
    },
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Restore(#[from] RestoreError),
    #[error(transparent)]
    Codec(#[from] CodecError),
    #[error("cannot write {path}: {source}")]
    Output {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl ServiceError {
    /// True when the caller's input was at fault (exit code 2, HTTP 4xx).
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            ServiceError::Invalid(_)
                | ServiceError::Store(
                    StoreError::NotFound { .. }
                        | StoreError::Ambiguous { .. }
                        | StoreError::JobExists(_)
                        | StoreError::AlreadyRunning(_)
                )
                | ServiceError::Restore(RestoreError::Source(
                    crate::pipeline::process::SourceError::TargetRefused { .. }
                ))
        )
    }
}

/// A slot this late was missed (Sauve was down), not merely picked up by a
/// slow tick: the catch-up policy decides about it.
const MISSED_AFTER: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);

/// Where to find the store and the data directory.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
}

/// A finished run with what it stored and where it failed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunReport {
    pub run: Run,
    pub backups: Vec<Backup>,
    /// Destinations that did not get the backup, with why.
    pub failures: Vec<DestinationFailure>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct DestinationFailure {
    pub destination: String,
    pub error: String,
}

/// Which backup an operation is about.
#[derive(Debug, Clone)]
pub enum BackupRef {
    /// An id (or unique prefix) recorded in the metadata store.
    Id(String),
    /// Found in a destination's manifests alone, for when the store is lost:
    /// by id (or prefix), or the newest backup of a job.
    InDestination {
        uri: String,
        id: Option<String>,
        latest_of_job: Option<String>,
    },
}

/// How to decrypt, as the caller knows it; the job's own settings fill the gaps.
#[derive(Debug, Clone, Default)]
pub struct KeyOptions {
    pub passphrase_env: Option<String>,
    pub identity_file: Option<PathBuf>,
}

#[derive(Clone)]
pub struct Sauve {
    pub store: Store,
    pub data_dir: PathBuf,
    /// Progress of the runs executing in this process, for live updates.
    pub live: Arc<LiveRuns>,
}

/// The byte counters of runs executing in this process, by run id.
#[derive(Default)]
pub struct LiveRuns {
    runs: std::sync::Mutex<
        std::collections::HashMap<String, (crate::pipeline::Progress, std::time::Instant)>,
    >,
}

/// A snapshot of a live run's progress.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LiveProgress {
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub elapsed_secs: f64,
    /// Bytes read from the source per second, since the start.
    pub rate: f64,
}

impl LiveRuns {
    pub fn start(&self, run_id: &str, progress: crate::pipeline::Progress) {
        self.runs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(run_id.to_string(), (progress, std::time::Instant::now()));
    }

    pub fn end(&self, run_id: &str) {
        self.runs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(run_id);
    }

    pub fn get(&self, run_id: &str) -> Option<LiveProgress> {
        use std::sync::atomic::Ordering;
        let runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        let (p, started) = runs.get(run_id)?;
        let elapsed = started.elapsed().as_secs_f64();
        let bytes_in = p.bytes_in.load(Ordering::Relaxed);
        Some(LiveProgress {
            bytes_in,
            bytes_out: p.bytes_out.load(Ordering::Relaxed),
            elapsed_secs: elapsed,
            rate: if elapsed > 0.0 {
                bytes_in as f64 / elapsed
            } else {
                0.0
            },
        })
    }
}

impl Sauve {
    pub async fn open(config: &Config) -> Result<Sauve, ServiceError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| ServiceError::Output {
            path: config.data_dir.display().to_string(),
            source,
        })?;
        let url = config
            .database_url
            .clone()
            .unwrap_or_else(|| Store::default_url(&config.data_dir));
        let store = Store::connect(&url).await?;
        Ok(Sauve {
            store,
            data_dir: config.data_dir.clone(),
            live: Arc::default(),
        })
    }

    /// Where sources may stage snapshots.
    pub fn staging_dir(&self) -> PathBuf {
        self.data_dir.join("staging")
    }

    // ---- jobs ------------------------------------------------------------------

    pub async fn create_job(&self, spec: JobSpec) -> Result<StoredJob, ServiceError> {
        spec.validate()?;
        let job = self.store.create_job(&spec).await?;
        self.reschedule(&job).await?;
        Ok(job)
    }

    /// Stores `spec` over the job of that name (or creates it); the next fire
    /// time moves only when the schedule itself changed.
    async fn put_job(&self, spec: &JobSpec) -> Result<(StoredJob, bool), ServiceError> {
        let before = self.store.job(&spec.name).await.ok();
        let (job, created) = self.store.upsert_job(spec).await?;
        let changed = before.is_none_or(|b| {
            (b.spec.schedule.as_deref(), b.spec.timezone.as_deref())
                != (spec.schedule.as_deref(), spec.timezone.as_deref())
        });
        if changed {
            self.reschedule(&job).await?;
        }
        Ok((job, created))
    }

    /// Replaces the spec of an existing job.
    pub async fn update_job(&self, spec: JobSpec) -> Result<StoredJob, ServiceError> {
        spec.validate()?;
        self.store.job(&spec.name).await?;
        Ok(self.put_job(&spec).await?.0)
    }

    /// Validates every spec first: a file with one bad job changes nothing.
    pub async fn apply_jobs(
        &self,
        specs: Vec<JobSpec>,
    ) -> Result<Vec<(StoredJob, bool)>, ServiceError> {
        let mut errors = ValidationErrors::new();
        let mut seen = std::collections::HashSet::new();
        for (i, spec) in specs.iter().enumerate() {
            if let Err(e) = spec.validate() {
                errors.extend_prefixed(&format!("job[{i}]"), e);
            }
            if !seen.insert(spec.name.clone()) {
                errors.push(
                    format!("job[{i}].name"),
                    format!("{:?} appears twice in the file", spec.name),
                );
            }
        }
        if !errors.is_empty() {
            return Err(errors.into());
        }
        let mut out = Vec::new();
        for spec in &specs {
            out.push(self.put_job(spec).await?);
        }
        Ok(out)
    }

    pub async fn job(&self, name: &str) -> Result<StoredJob, ServiceError> {
        Ok(self.store.job(name).await?)
    }

    pub async fn jobs(&self) -> Result<Vec<StoredJob>, ServiceError> {
        Ok(self.store.jobs().await?)
    }

    pub async fn delete_job(&self, name: &str) -> Result<(), ServiceError> {
        Ok(self.store.delete_job(name).await?)
    }

    // ---- runs ------------------------------------------------------------------

    /// Runs the job now, in this process, recording the run. `stopper` lets the
    /// caller watch its progress and cancel it.
    pub async fn run_job_now(
        &self,
        name: &str,
        trigger: Trigger,
        stopper: Stopper,
    ) -> Result<RunReport, ServiceError> {
        let stored = self.store.job(name).await?;
        stored.spec.validate()?;
        let timing = QueueTiming::default();
        let claim = self
            .store
            .start_claimed_run(
                &stored,
                trigger,
                &instance_name(),
                timing.lease.as_millis() as i64,
            )
            .await?;
        match worker::execute(self, &claim, &timing, stopper).await? {
            worker::Executed::Finished {
                report,
                error: None,
            } => Ok(*report),
            worker::Executed::Finished {
                report,
                error: Some(error),
            } => Err(ServiceError::Backup {
                job: name.to_string(),
                run_id: report.run.id,
                error: Box::new(error),
            }),
            // A foreground run has one attempt and is never released or taken over.
            worker::Executed::Retrying { error } => Err(ServiceError::Backup {
                job: name.to_string(),
                run_id: claim.run.id,
                error: Box::new(error),
            }),
            worker::Executed::Released | worker::Executed::LostLease => Err(ServiceError::Backup {
                job: name.to_string(),
                run_id: claim.run.id.clone(),
                error: Box::new(PipelineError::Internal(
                    "the run's lease was lost (was the metadata store unreachable?)".into(),
                )),
            }),
        }
    }

    /// Queues a run of `name` (manual, cron…); with an idempotency key, a
    /// repeated request returns the first run instead of queueing another.
    pub async fn enqueue(
        &self,
        name: &str,
        trigger: Trigger,
        idempotency_key: Option<&str>,
    ) -> Result<(Run, bool), ServiceError> {
        let stored = self.store.job(name).await?;
        let job = stored.spec.validate()?;
        Ok(self
            .store
            .enqueue(&stored, trigger, None, idempotency_key, job.max_attempts)
            .await?)
    }

    /// Cancels a queued run, or asks the worker of a running one to stop it.
    pub async fn cancel_run(&self, id: &str) -> Result<(Run, CancelOutcome), ServiceError> {
        Ok(self.store.cancel_run(id).await?)
    }

    /// Queues the runs whose slot has come, once per slot whatever the number of
    /// instances ticking. Missed slots (Sauve was down) follow the job's catch-up
    /// policy: the latest once, or none. Returns the runs queued by this call.
    pub async fn schedule_tick(&self) -> Result<Vec<Run>, ServiceError> {
        let now_ms = self.store.db_now().await?;
        let now = crate::store::ts(now_ms);
        let mut queued = Vec::new();
        for (stored, due_ms) in self.store.due_jobs(now_ms).await? {
            let job = match stored.spec.validate() {
                Ok(j) => j,
                Err(e) => {
                    tracing::warn!(job = %stored.name, error = %e, "invalid job: not scheduling it");
                    self.store
                        .advance_next_fire(&stored.id, due_ms, None)
                        .await?;
                    continue;
                }
            };
            let Some(schedule) = &job.schedule else {
                self.store
                    .advance_next_fire(&stored.id, due_ms, None)
                    .await?;
                continue;
            };
            let due = crate::store::ts(due_ms);
            // The latest slot that has come, at or after the one we were waiting for.
            let latest = schedule
                .latest_between(
                    due.checked_sub(jiff::SignedDuration::from_millis(1))
                        .unwrap_or(due),
                    now,
                )
                .unwrap_or(due);
            let missed = now.duration_since(latest) > MISSED_AFTER;
            let slot = match (missed, job.catch_up) {
                (true, CatchUp::Skip) => None,
                _ => Some(latest),
            };
            if let Some(slot) = slot {
                let busy = job.overlap == Overlap::Skip && self.store.job_busy(&stored.id).await?;
                if busy {
                    tracing::info!(job = %stored.name, slot = %slot, "slot skipped: the job is still running (overlap = skip)");
                } else {
                    // Queued before the fire time moves: if this instance dies in
                    // between, the next tick (anywhere) queues the same slot, and
                    // the unique (job, slot) key keeps it single.
                    let (run, created) = self
                        .store
                        .enqueue(
                            &stored,
                            Trigger::Schedule,
                            Some(slot.as_millisecond()),
                            None,
                            job.max_attempts,
                        )
                        .await?;
                    if created {
                        queued.push(run);
                    }
                }
            } else {
                tracing::info!(job = %stored.name, "missed slots skipped (catch_up = skip)");
            }
            let next = schedule.next_after(now).map(|t| t.as_millisecond());
            self.store
                .advance_next_fire(&stored.id, due_ms, next)
                .await?;
        }
        Ok(queued)
    }

    /// Points the job's next fire time at its schedule's next slot from now (or
    /// clears it), after a job was created or its schedule changed.
    async fn reschedule(&self, job: &StoredJob) -> Result<(), ServiceError> {
        let next = match job.spec.validate()?.schedule {
            Some(s) => s
                .next_after(crate::store::ts(self.store.db_now().await?))
                .map(|t| t.as_millisecond()),
            None => None,
        };
        Ok(self.store.set_next_fire(&job.id, next).await?)
    }

    /// When the job next runs by its schedule.
    pub async fn next_fire(
        &self,
        job: &StoredJob,
    ) -> Result<Option<jiff::Timestamp>, ServiceError> {
        Ok(self.store.next_fire(&job.id).await?.map(crate::store::ts))
    }

    /// The job's latest successful backup run (restores, also runs of the job,
    /// do not count): what "last good backup" and ETAs are measured from.
    pub async fn last_good_backup(&self, job: &str) -> Result<Option<Run>, ServiceError> {
        let runs = self
            .store
            .runs(&RunFilter {
                job: Some(job.to_string()),
                state: Some(RunState::Succeeded),
                limit: 20,
            })
            .await?;
        Ok(runs.into_iter().find(|r| r.trigger != Trigger::Restore))
    }

    /// About how big the job's next artifact will be, for sizing upload parts:
    /// the most its recent backups stored, or, for a run that failed (perhaps
    /// because its artifact outgrew the plan), what its source produced.
    pub async fn expected_artifact_size(&self, job: &str) -> Result<Option<u64>, ServiceError> {
        let runs = self
            .store
            .runs(&RunFilter {
                job: Some(job.to_string()),
                state: None,
                limit: 20,
            })
            .await?;
        Ok(runs
            .iter()
            .filter(|r| r.trigger != Trigger::Restore)
            .filter_map(|r| match r.state {
                RunState::Succeeded | RunState::Partial => Some(r.bytes_out),
                RunState::Failed => Some(r.bytes_in),
                _ => None,
            })
            .map(|b| b.max(0) as u64)
            .max())
    }

    pub async fn run(&self, id: &str) -> Result<Run, ServiceError> {
        Ok(self.store.run(id).await?)
    }

    pub async fn runs(&self, filter: &RunFilter) -> Result<Vec<Run>, ServiceError> {
        Ok(self.store.runs(filter).await?)
    }

    // ---- backups ---------------------------------------------------------------

    pub async fn backups(&self, filter: &BackupFilter) -> Result<Vec<Backup>, ServiceError> {
        Ok(self.store.backups(filter).await?)
    }

    /// A backup with its manifest and open storage, from the store or from a
    /// destination's manifests.
    pub async fn locate(&self, r: &BackupRef) -> Result<(Backup, Manifest, Storage), ServiceError> {
        let id = match r {
            BackupRef::Id(id) => id,
            BackupRef::InDestination {
                uri,
                id,
                latest_of_job,
            } => return locate_in_destination(uri, id.as_deref(), latest_of_job.as_deref()).await,
        };
        let (backup, manifest_json) = self.store.backup(id).await?;
        let manifest = Manifest::from_json(&backup.key, manifest_json.as_bytes())
            .map_err(StorageError::from)?;
        let dest = Destination::parse(&backup.destination)?;
        let storage = Storage::open(&dest)?;
        Ok((backup, manifest, storage))
    }

    /// Keys for a backup: explicit options first, then the job's passphrase variable.
    async fn keys_for(
        &self,
        manifest: &Manifest,
        opts: &KeyOptions,
    ) -> Result<Arc<Keys>, ServiceError> {
        if manifest.encryption.is_none() {
            return Ok(Arc::new(Keys::default()));
        }
        let mut keys = Keys::default();
        let env = match &opts.passphrase_env {
            Some(env) => Some(env.clone()),
            None => match self.store.job(&manifest.job).await {
                Ok(job) => job.spec.encryption.and_then(|e| e.passphrase_env),
                Err(_) => None,
            },
        };
        if let Some(env) = env {
            // A missing variable only matters if the artifact needs a passphrase;
            // the codec says so precisely when it does.
            if let Ok(k) = Keys::from_passphrase_env(&env) {
                keys = k;
            } else if manifest
                .encryption
                .as_ref()
                .is_some_and(|e| e.mode == "passphrase")
            {
                return Err(CodecError::PassphraseUnset(env).into());
            }
        }
        let identity = opts
            .identity_file
            .clone()
            .or_else(|| std::env::var_os("SAUVE_AGE_IDENTITY_FILE").map(PathBuf::from));
        if let Some(path) = identity {
            keys.add_identity_file(&path)?;
        }
        Ok(Arc::new(keys))
    }

    pub async fn verify(
        &self,
        r: &BackupRef,
        opts: &KeyOptions,
    ) -> Result<VerifyReport, ServiceError> {
        let (_, manifest, storage) = self.locate(r).await?;
        let keys = self.keys_for(&manifest, opts).await?;
        Ok(restore::verify(&storage, &manifest, keys).await?)
    }

    /// Writes the stored artifact (compressed, encrypted as stored) to `out`,
    /// checking its sha256; the file appears only once complete and correct.
    pub async fn download(&self, r: &BackupRef, out: &Path) -> Result<Backup, ServiceError> {
        let (backup, manifest, storage) = self.locate(r).await?;
        let output_err = |source: std::io::Error| ServiceError::Output {
            path: out.display().to_string(),
            source,
        };
        let dir = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let temp = tempfile::NamedTempFile::new_in(dir).map_err(output_err)?;
        let file = temp.reopen().map_err(output_err)?;
        restore::read_artifact(
            &storage,
            &manifest,
            Arc::new(Keys::default()),
            false,
            move |input| {
                let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
                crate::pipeline::process::copy_large(input, &mut w)
                    .and_then(|_| std::io::Write::flush(&mut w))
                    .map_err(|e| {
                        crate::pipeline::process::SourceError::io("writing the download", e)
                    })?;
                Ok(())
            },
        )
        .await?;
        temp.persist(out).map_err(|e| output_err(e.error))?;
        Ok(backup)
    }

    /// Streams the stored artifact to `w` (e.g. stdout), checking its sha256 at the end.
    pub async fn download_to_writer(
        &self,
        r: &BackupRef,
        w: Box<dyn std::io::Write + Send>,
    ) -> Result<Backup, ServiceError> {
        let (backup, manifest, storage) = self.locate(r).await?;
        restore::read_artifact(
            &storage,
            &manifest,
            Arc::new(Keys::default()),
            false,
            move |input| {
                let mut w = w;
                crate::pipeline::process::copy_large(input, &mut w)
                    .and_then(|_| w.flush())
                    .map_err(|e| {
                        crate::pipeline::process::SourceError::io("writing the download", e)
                    })?;
                Ok(())
            },
        )
        .await?;
        Ok(backup)
    }

    /// Verifies the backup, then restores it into `to`; recorded as a run.
    pub async fn restore(
        &self,
        r: &BackupRef,
        to: Option<&str>,
        force: bool,
        opts: &KeyOptions,
    ) -> Result<RestoreOutcome, ServiceError> {
        let prepared = self.prepare_restore(r, to, opts).await?;
        self.finish_restore(prepared, force).await
    }

    /// Starts a restore in the background (the API): everything that can be
    /// refused is checked first; the run that records it is returned.
    pub async fn start_restore(
        &self,
        r: &BackupRef,
        to: Option<&str>,
        force: bool,
        opts: &KeyOptions,
    ) -> Result<Run, ServiceError> {
        let prepared = self.prepare_restore(r, to, opts).await?;
        if let Err(e) = prepared.target.precheck(force) {
            let message = e.to_string();
            self.store
                .finish_run(
                    &prepared.run.id,
                    RunState::Failed,
                    0,
                    0,
                    Some(&message),
                    &message,
                )
                .await?;
            return Err(RestoreError::Source(e).into());
        }
        let run = prepared.run.clone();
        let (sauve, run_id) = (self.clone(), run.id.clone());
        tokio::spawn(async move {
            if let Err(e) = sauve.finish_restore(prepared, force).await {
                tracing::warn!(run = %run_id, error = %e, "restore failed");
            }
        });
        Ok(run)
    }

    async fn prepare_restore(
        &self,
        r: &BackupRef,
        to: Option<&str>,
        opts: &KeyOptions,
    ) -> Result<PreparedRestore, ServiceError> {
        let (backup, manifest, storage) = self.locate(r).await?;
        let job = match self.store.job(&manifest.job).await {
            Ok(j) => j,
            // The job is gone: the run is recorded under its name all the same.
            Err(StoreError::NotFound { .. }) => StoredJob {
                id: format!("deleted:{}", manifest.job),
                name: manifest.job.clone(),
                spec: JobSpec::new(
                    manifest.job.clone(),
                    crate::domain::SourceSpec::Uri(String::new()),
                    vec![],
                ),
                created_at: manifest.created_at,
                updated_at: manifest.created_at,
            },
            Err(e) => return Err(e.into()),
        };
        let target = restore_target(&manifest, Some(&job), to)?;
        let keys = self.keys_for(&manifest, opts).await?;
        let run = self
            .store
            .start_foreground_run(&job, Trigger::Restore, &instance_name())
            .await?;
        Ok(PreparedRestore {
            backup,
            manifest,
            storage,
            target,
            keys,
            run,
        })
    }

    async fn finish_restore(
        &self,
        p: PreparedRestore,
        force: bool,
    ) -> Result<RestoreOutcome, ServiceError> {
        let result =
            restore::restore(&p.storage, &p.manifest, p.keys, p.target.clone(), force).await;
        let (state, error, log) = match &result {
            Ok((_, log)) => (RunState::Succeeded, None, log.clone()),
            Err(e) => (RunState::Failed, Some(e.to_string()), String::new()),
        };
        let log = format!(
            "restore of backup {} into {}\n{log}",
            p.backup.id,
            p.target.describe()
        );
        self.store
            .finish_run(
                &p.run.id,
                state,
                p.manifest.artifact.raw_size as i64,
                0,
                error.as_deref(),
                &log,
            )
            .await?;
        let (report, log) = result?;
        Ok(RestoreOutcome {
            backup: p.backup,
            target: p.target.describe(),
            run_id: Some(p.run.id),
            verified: report,
            log,
        })
    }

    /// Checks that a source can be read (tool present, server reachable,
    /// credentials right) without backing it up: the page's "test connection".
    pub async fn test_source(
        &self,
        source: crate::domain::SourceSpec,
    ) -> Result<crate::storage::manifest::SourceInfo, ServiceError> {
        let parsed = source.parse().map_err(|e| {
            let mut out = ValidationErrors::new();
            out.extend_prefixed("source", e);
            out
        })?;
        tokio::task::spawn_blocking(move || crate::pipeline::sources::preflight(&parsed))
            .await
            .map_err(|e| ServiceError::Backup {
                job: String::new(),
                run_id: String::new(),
                error: Box::new(PipelineError::Internal(e.to_string())),
            })?
            .map_err(|e| ServiceError::Backup {
                job: String::new(),
                run_id: String::new(),
                error: Box::new(PipelineError::Source(e)),
            })
    }

    /// Deletes a backup: its manifest first (from then on it is not a backup),
    /// then its artifact, then marks it deleted in the store.
    pub async fn delete_backup(&self, id: &str) -> Result<Backup, ServiceError> {
        let (backup, manifest, storage) = self.locate(&BackupRef::Id(id.to_string())).await?;
        for key in [manifest.manifest_key(), manifest.artifact.key.clone()] {
            match storage.delete(&key).await {
                Ok(()) | Err(crate::storage::StorageError::Missing { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.store.mark_backup_deleted(&backup.id).await?;
        Ok(backup)
    }

    /// Checks a destination: write, read, list and delete a probe, timed.
    pub async fn check_destination(uri: &str) -> Result<crate::storage::CheckReport, ServiceError> {
        let storage = open_destination(uri, "destination")?;
        Ok(storage.check().await?)
    }

    /// Aborts (or with `dry_run` lists) the multipart uploads pending under an
    /// S3 destination that started more than `older_than` ago.
    pub async fn sweep_destination(
        uri: &str,
        older_than: std::time::Duration,
        dry_run: bool,
    ) -> Result<SweepReport, ServiceError> {
        let storage = open_destination(uri, "destination")?;
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
    pub async fn list_destination(uri: &str) -> Result<(Vec<Backup>, Vec<String>), ServiceError> {
        let storage = open_destination(uri, "dest")?;
        let (manifests, problems) = storage.list_manifests().await?;
        Ok((
            manifests.iter().map(Manifest::to_backup).collect(),
            problems.iter().map(|p| p.to_string()).collect(),
        ))
    }
}

/// Next fire times of a schedule, as `schedule next` and the API show them.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct SchedulePreview {
    pub schedule: String,
    pub timezone: String,
    pub description: String,
    /// RFC 3339 with the zone's offset.
    pub next: Vec<String>,
}

/// Parses `spec` in `tz` and lists its next `count` slots after `from`.
pub fn preview_schedule(
    spec: &str,
    tz: &str,
    from: jiff::Timestamp,
    count: usize,
) -> Result<SchedulePreview, ValidationErrors> {
    let s = crate::schedule::Schedule::parse(spec, tz).map_err(|e| {
        let field = if e.token.as_deref() == Some(tz) {
            "timezone"
        } else {
            "schedule"
        };
        ValidationErrors::single(field, e.to_string())
    })?;
    let zone = jiff::tz::TimeZone::get(tz)
        .map_err(|e| ValidationErrors::single("timezone", e.to_string()))?;
    Ok(SchedulePreview {
        schedule: s.spec().to_string(),
        timezone: tz.to_string(),
        description: s.describe(),
        next: s
            .upcoming(from, count.clamp(1, 1000))
            .into_iter()
            .map(|t| {
                t.to_zoned_datetime(zone.clone())
                    .strftime("%Y-%m-%dT%H:%M:%S%:z")
                    .to_string()
            })
            .collect(),
    })
}

struct PreparedRestore {
    backup: Backup,
    manifest: Manifest,
    storage: Storage,
    target: RestoreTarget,
    keys: Arc<Keys>,
    run: Run,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RestoreOutcome {
    pub backup: Backup,
    pub target: String,
    pub run_id: Option<String>,
    pub verified: VerifyReport,
    pub log: String,
}

/// What `storage sweep` did.
#[derive(Debug, serde::Serialize)]
pub struct SweepReport {
    pub destination: String,
    /// The uploads aborted (or, in a dry run, that would be).
    pub uploads: Vec<crate::storage::uploads::PendingUpload>,
    /// Uploads pending afterwards (younger than the cut-off, or raced in).
    pub remaining: usize,
}

/// A destination named by the user in `field`, opened.
// Every service method returns ServiceError; the async ones escape this lint only
// because clippy does not look at async fns. Shrinking ServiceError (boxing
// RestoreError's checksum details) is the real fix, left for a later change.
#[allow(clippy::result_large_err)]
fn open_destination(uri: &str, field: &str) -> Result<Storage, ServiceError> {
    let dest = Destination::parse(uri).map_err(|e| {
        let mut out = ValidationErrors::new();
        out.extend_prefixed(field, e);
        out
    })?;
    Ok(Storage::open(&dest)?)
}

async fn locate_in_destination(
    uri: &str,
    id: Option<&str>,
    latest_of_job: Option<&str>,
) -> Result<(Backup, Manifest, Storage), ServiceError> {
    let storage = open_destination(uri, "from")?;
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
            return Err(ValidationErrors::single(
                "id",
                "name a backup id, or --latest --job NAME to take the newest backup of a job",
            )
            .into());
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
            let m = found.remove(0);
            Ok((m.to_backup(), m, storage))
        }
        _ => Err(StoreError::Ambiguous {
            what: "backup",
            key,
        }
        .into()),
    }
}

fn restore_target(
    manifest: &Manifest,
    job: Option<&StoredJob>,
    to: Option<&str>,
) -> Result<RestoreTarget, ValidationErrors> {
    if manifest.source.kind == "command" {
        let restore_command = job
            .and_then(|j| match &j.spec.source {
                crate::domain::SourceSpec::Command(c) => c.restore_command.clone(),
                _ => None,
            })
            .ok_or_else(|| {
                ValidationErrors::single(
                    "restore_command",
                    format!(
                        "job {:?} has no restore_command; add one to the job, or `sauve backup download` the artifact and restore it by hand",
                        manifest.job
                    ),
                )
            })?;
        return Ok(RestoreTarget::Command {
            restore_command,
            to: to.map(String::from),
        });
    }
    let to = to.ok_or_else(|| {
        ValidationErrors::single(
            "to",
            "say where to restore with --to (a new database URI, file or directory)",
        )
    })?;
    RestoreTarget::parse(&manifest.source.kind, to)
}

/// Names this process in run records (`host:pid`).
pub fn instance_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    format!("{host}:{}", std::process::id())
}
