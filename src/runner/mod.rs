//! The runner: executes a claimed run of any kind. It holds the run's lease by
//! heartbeat, enforces the timeout, honours cancellation (a person's, the
//! timeout's, a shutdown's, a lost lease's), and records the outcome fenced by
//! the claim: finished, retried later with back-off, released back to the
//! queue, or nothing at all when another worker owns the run now. The pool
//! (`pool.rs`) claims runs from the queue and drains them on shutdown.
//!
//! What a run does is its kind's business, one file each (`backup.rs`,
//! `restore.rs`, `verify.rs`), registered in [`perform`]. A new kind is a new
//! file, a `RunKind` variant and one line there.
//!
//! The runner sits below the service: it uses the store, storage, the pipeline
//! and restore, never the service.

mod alerts;
mod backup;
mod follow;
mod holds;
mod live;
mod locate;
mod pool;
mod prune;
mod reconcile;
mod record;
mod restore;
mod stopper;
mod test_restore;
mod verify;

pub use alerts::{DEFAULT_CHANNELS, NotifyConfig};
pub use backup::DestinationFailure;
pub use holds::Hold;
pub use live::{LiveProgress, LiveRuns};
pub use locate::{Located, find_in_destination, locate, open_destination};
pub use pool::{PoolConfig, work};
pub use prune::{
    DestinationPrune, NotCounted, PruneReport, PurgeFailure, RETENTION_ACTOR, RetentionPlan,
    plan_destination,
};
pub use reconcile::{Finding, FindingKind, ReconcileReport, reconcile};
pub use restore::RestoreOutcome;
pub use stopper::Stopper;

use crate::domain::Keyring;
use crate::domain::job::DEFAULT_TIMEOUT;
use crate::domain::{Backup, Job, RunParams, RunState, ValidationErrors};
use crate::pipeline::codec::CodecError;
use crate::pipeline::log::RunLog;
use crate::pipeline::{PipelineError, Progress};
use crate::restore::{RestoreError, VerifyReport};
use crate::secrets::Vault;
use crate::storage::StorageError;
use crate::store::{Claim, Heartbeat, NewBackup, Store, StoreError, StoredJob};
use record::Ended;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use stopper::Stop;
use tokio::sync::Notify;

/// Leases this process found expired (their workers died), for `/metrics`.
pub static LEASE_EXPIRIES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Why a run's work failed. The big errors are boxed: this one travels
/// through every `?` of the runner.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Backup(Box<PipelineError>),
    #[error(transparent)]
    Restore(Box<RestoreError>),
    #[error(transparent)]
    Keys(#[from] CodecError),
    #[error("invalid input: {0}")]
    Invalid(ValidationErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// What the run was about is gone or unusable (job deleted, job invalid):
    /// trying again cannot help.
    #[error("{0}")]
    Gone(String),
    /// Sauve itself is at fault (unreadable run parameters, a kind that
    /// produced the wrong output).
    #[error("internal error: {0}")]
    Internal(String),
    #[error("timed out after {secs}s (the job's timeout); the work was stopped")]
    Timeout { secs: u64 },
    /// The run's lease was lost while it ran (the metadata store did not
    /// answer its heartbeats, or another worker took it over).
    #[error(
        "the run's lease was lost (was the metadata store unreachable?); its outcome was not recorded"
    )]
    LeaseLost,
    #[error("cancelled on request")]
    Cancelled,
    /// The work could not be done this time (storage or the store failed
    /// everywhere); another attempt may succeed.
    #[error("{0}")]
    Failed(String),
    /// A test restore restored the backup, but it did not pass: its report
    /// says what (a check, an integrity error, a table gone).
    #[error("{}", .0.error.as_deref().unwrap_or("the test restore did not pass"))]
    TestRestore(Box<crate::domain::proof::TestRestoreReport>),
}

impl From<PipelineError> for RunError {
    fn from(e: PipelineError) -> Self {
        RunError::Backup(Box::new(e))
    }
}

impl From<RestoreError> for RunError {
    fn from(e: RestoreError) -> Self {
        RunError::Restore(Box::new(e))
    }
}

impl RunError {
    /// Whether another attempt might succeed.
    fn retryable(&self) -> bool {
        !matches!(
            self,
            RunError::Gone(_)
                | RunError::Internal(_)
                | RunError::Invalid(_)
                | RunError::Keys(_)
                | RunError::Cancelled
                | RunError::LeaseLost
                | RunError::TestRestore(_)
        ) && !matches!(self, RunError::Restore(r) if matches!(**r, RestoreError::ChecksumMismatch { .. }))
    }
}

/// Timing of leases and retries.
#[derive(Debug, Clone)]
pub struct QueueTiming {
    /// How long a claim lasts without a heartbeat (heartbeats come every third).
    pub lease: Duration,
    /// First retry delay; each further attempt doubles it, up to an hour.
    pub retry_base: Duration,
}

impl Default for QueueTiming {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(30),
            retry_base: Duration::from_secs(30),
        }
    }
}

impl QueueTiming {
    pub fn backoff_ms(&self, attempt: i64) -> i64 {
        let base = self.retry_base.as_millis() as i64;
        let factor = 1i64 << (attempt - 1).clamp(0, 20);
        base.saturating_mul(factor).min(3_600_000)
    }

    pub fn lease_ms(&self) -> i64 {
        self.lease.as_millis() as i64
    }
}

/// What a finished run produced, by kind.
#[derive(Debug, Clone)]
pub enum Output {
    Backup {
        backups: Vec<Backup>,
        /// Destinations that did not get the backup, with why.
        failures: Vec<DestinationFailure>,
    },
    Restore(Box<RestoreOutcome>),
    Verify(VerifyReport),
    TestRestore(Box<crate::domain::proof::TestRestoreReport>),
    /// A scheduled verification: how many backups were proven good, and
    /// which failed.
    VerifyDue {
        verified: usize,
        failed: Vec<String>,
    },
    Prune(PruneReport),
}

/// How an execution ended.
// One per run, moved once to its caller: boxing the big variant would buy
// nothing but an allocation.
#[allow(clippy::large_enum_variant)]
pub enum Executed {
    /// The run reached a final state (`run.state`); `error` says why it failed.
    Finished {
        run: Box<crate::domain::Run>,
        output: Option<Output>,
        error: Option<RunError>,
        /// A run this one queued to follow it (the prune after a backup).
        follow_ups: Vec<String>,
    },
    /// The attempt failed and the run is queued again for later.
    Retrying { error: RunError },
    /// Shutdown: the lease was given back, the run is queued again.
    Released,
    /// Another worker owns the run now: nothing was recorded.
    LostLease,
}

/// What a kind's work ended with, for the common bookkeeping to record.
struct Done {
    state: RunState,
    bytes: (i64, i64),
    /// Set for a `partial` run: which destinations failed.
    error: Option<String>,
    backups: Vec<NewBackup>,
    output: Output,
}

/// What a kind's work gets: the claim, its job (if it still exists), live
/// counters that are also its cancel switch, and the run's log.
struct Work<'a> {
    runner: &'a Runner,
    claim: &'a Claim,
    job: Option<&'a StoredJob>,
    progress: Progress,
    log: RunLog,
}

impl Work<'_> {
    /// The job, valid: a backup needs it; a restore of a deleted job does not.
    fn valid_job(&self) -> Result<Job, RunError> {
        let stored = self.job.ok_or_else(|| {
            RunError::Gone(format!(
                "job {} was deleted before the run started",
                self.claim.run.job
            ))
        })?;
        stored
            .spec
            .validate()
            .map_err(|e| RunError::Gone(format!("the job is not valid any more: {e}")))
    }
}

/// The registry of run kinds: what each does with its parameters.
async fn perform(params: &RunParams, work: &mut Work<'_>) -> Result<Done, RunError> {
    match params {
        RunParams::Backup => backup::perform(work).await,
        RunParams::Restore {
            backup,
            to,
            force,
            keys,
        } => restore::perform(work, backup, to.as_deref(), *force, keys).await,
        RunParams::Verify { backup, keys } => verify::perform(work, backup, keys).await,
        RunParams::VerifyDue { slot } => verify::perform_due(work, *slot).await,
        RunParams::TestRestore { backup, keys } => test_restore::perform(work, backup, keys).await,
        RunParams::Prune { destination, .. } => prune::perform(work, destination.as_deref()).await,
    }
}

/// Keeps on the backup what a full read of it found (a verify, a restore, a
/// test restore): proven good, or damaged (its bytes are wrong), which
/// retention then does not count. A key that does not open it or a storage
/// outage says nothing of the backup, and changes nothing.
async fn record_read(
    runner: &Runner,
    backup_id: &str,
    read: Result<(), &RestoreError>,
) -> Result<(), crate::store::StoreError> {
    let damage = match read {
        Ok(_) => None,
        Err(e @ (RestoreError::ChecksumMismatch { .. } | RestoreError::Decompress { .. })) => {
            Some(e.to_string())
        }
        Err(_) => return Ok(()),
    };
    runner
        .store
        .record_verify(backup_id, damage.as_deref())
        .await
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Executes claimed runs; shared by the pool of `sauve serve` and the
/// foreground runs of the CLI.
#[derive(Clone)]
pub struct Runner {
    store: Store,
    data_dir: PathBuf,
    live: Arc<LiveRuns>,
    timing: QueueTiming,
    /// Rung when a run is queued in this process, so the pool claims it at once.
    wake: Arc<Notify>,
    /// The master key that unseals the operator's secrets.
    vault: Arc<Vault>,
    /// Backups being downloaded in this process: not purged meanwhile.
    holds: Arc<holds::Holds>,
    /// The server's channels and links.
    notify: Arc<NotifyConfig>,
    /// Rung when deliveries were queued, so the sender goes at once.
    notify_wake: Arc<Notify>,
}

impl Runner {
    pub fn new(store: Store, data_dir: PathBuf, timing: QueueTiming) -> Self {
        Self {
            store,
            live: Arc::default(),
            timing,
            wake: Arc::default(),
            holds: Arc::default(),
            vault: Arc::new(Vault::new(&data_dir)),
            data_dir,
            notify: Arc::default(),
            notify_wake: Arc::default(),
        }
    }

    /// The server's default channels and public address.
    pub fn with_notify(mut self, config: NotifyConfig) -> Self {
        self.notify = Arc::new(config);
        self
    }

    /// Rung when deliveries are queued in this process.
    pub fn notify_wake(&self) -> Arc<Notify> {
        self.notify_wake.clone()
    }

    /// The operator's secrets with their bindings; a value is unsealed only
    /// when it is about to be sent where its binding allows.
    pub async fn keyring(&self) -> Result<Keyring, StoreError> {
        let mut keys = Keyring::new(self.vault.clone());
        for s in self.store.secrets().await? {
            keys.insert(s.name, s.source, s.bindings);
        }
        Ok(keys)
    }

    /// Keeps `backup_id` from being purged until the hold is dropped.
    pub fn hold(&self, backup_id: &str) -> Hold {
        self.holds.hold(backup_id)
    }

    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    pub fn timing(&self) -> &QueueTiming {
        &self.timing
    }

    pub fn live(&self) -> &LiveRuns {
        &self.live
    }

    /// Tells the pool a run was queued: it claims without waiting for its tick.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Where sources may stage snapshots.
    fn staging_dir(&self) -> PathBuf {
        self.data_dir.join("staging")
    }

    /// Runs a claimed run to its end. `stopper` lets the caller stop it.
    pub async fn execute(&self, claim: &Claim, stopper: Stopper) -> Result<Executed, StoreError> {
        let job = match self.store.job_by_id(&claim.job_id).await {
            Ok(j) => Some(j),
            Err(StoreError::NotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        let params = match claim
            .params
            .as_deref()
            .map(serde_json::from_str::<RunParams>)
        {
            None => Ok(RunParams::Backup),
            Some(Ok(p)) if p.kind() == claim.run.kind => Ok(p),
            Some(Ok(p)) => Err(format!("its parameters are for a {} run", p.kind())),
            Some(Err(e)) => Err(format!("its parameters are unreadable ({e})")),
        };
        let params = match params {
            Ok(p) => p,
            Err(why) => {
                let error = RunError::Internal(format!("run {} cannot start: {why}", claim.run.id));
                return self.fail(claim, RunLog::new(), error).await;
            }
        };
        let timeout = job
            .as_ref()
            .and_then(|j| j.spec.validate().ok())
            .map_or(DEFAULT_TIMEOUT, |j| j.timeout);

        // Stopped however this function ends, a dropped future included (an
        // HTTP request cut at its deadline): a lease nobody works under must
        // expire, not be renewed forever.
        let heartbeat = AbortOnDrop(self.heartbeat(claim, &stopper));
        let progress = stopper.progress.clone();
        self.live.start(&claim.run.id, progress.clone());
        // Removed however this function returns.
        struct Unlist<'a>(&'a LiveRuns, &'a str);
        impl Drop for Unlist<'_> {
            fn drop(&mut self) {
                self.0.end(self.1);
            }
        }
        let _unlist = Unlist(&self.live, &claim.run.id);
        self.announce_start(&claim.run, job.as_ref(), claim.attempt)
            .await;

        let mut work = Work {
            runner: self,
            claim,
            job: job.as_ref(),
            progress: progress.clone(),
            log: RunLog::new(),
        };
        work.log.push(format!(
            "{} attempt {} of {} on {}",
            claim.run.kind, claim.attempt, claim.max_attempts, claim.owner
        ));
        let result = {
            let performed = perform(&params, &mut work);
            tokio::pin!(performed);
            tokio::select! {
                r = &mut performed => r,
                _ = tokio::time::sleep(timeout) => {
                    stopper.stop(Stop::Timeout);
                    performed.await
                }
            }
        };
        drop(heartbeat);
        let log = work.log;
        let bytes_in = progress.bytes_in.load(Ordering::Relaxed) as i64;
        let ended = Ended {
            result,
            reason: stopper.reason(),
            log,
            bytes_in,
            timeout,
        };
        let executed = self.conclude(claim, job.as_ref(), ended).await?;
        if let (Executed::Finished { .. }, Some(job)) = (&executed, &job) {
            self.announce_end(job).await;
        }
        Ok(executed)
    }

    /// Renews the lease every third of it; stops the run when someone asked to
    /// cancel it or when the lease was lost.
    fn heartbeat(&self, claim: &Claim, stopper: &Stopper) -> tokio::task::JoinHandle<()> {
        let (store, claim, stopper) = (self.store.clone(), claim.clone(), stopper.clone());
        let (every, lease_ms) = (self.timing.lease / 3, self.timing.lease_ms());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                match store.heartbeat(&claim, lease_ms).await {
                    Ok(Heartbeat::Held { cancel: false }) => {}
                    Ok(Heartbeat::Held { cancel: true }) => stopper.stop(Stop::UserCancel),
                    Ok(Heartbeat::Lost) => {
                        stopper.stop(Stop::LostLease);
                        break;
                    }
                    // A store hiccup: keep the run going and try again; the lease
                    // is three heartbeats long.
                    Err(e) => tracing::warn!(run = %claim.run.id, error = %e, "heartbeat failed"),
                }
            }
        })
    }
}
