//! Workers: claim runs from the queue and drive each through the pipeline,
//! holding its lease by heartbeat, enforcing the job's timeout, honouring
//! cancellation, and recording the outcome fenced by the claim. Also the loop
//! `sauve serve` runs: tick the schedules, expire dead workers' leases, claim
//! up to N runs, and on shutdown drain within a grace period.

use crate::domain::{RunState, new_id};
use crate::pipeline::{self, BackupRequest, PipelineError, Progress};
use crate::service::{DestinationFailure, RunReport, Sauve, ServiceError};
use crate::store::{Claim, Heartbeat, NewBackup, StoreError};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

/// Leases this process found expired (their workers died), for `/metrics`.
pub static LEASE_EXPIRIES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Why a run was stopped before its pipeline finished.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
enum Stop {
    None = 0,
    UserCancel = 1,
    Timeout = 2,
    Shutdown = 3,
    LostLease = 4,
}

/// Shared by the executor, its heartbeat and the serve loop: the first reason
/// to stop wins, then the pipeline is cancelled.
#[derive(Clone, Default)]
pub struct Stopper {
    reason: Arc<AtomicU8>,
    progress: Progress,
}

impl Stopper {
    /// A stopper for a run whose progress the caller watches.
    pub fn new(progress: Progress) -> Self {
        Self {
            reason: Arc::default(),
            progress,
        }
    }

    /// Stops the run as a person asked: it ends `cancelled`.
    pub fn cancel(&self) {
        self.stop(Stop::UserCancel);
    }

    fn stop(&self, why: Stop) {
        let _ = self.reason.compare_exchange(
            Stop::None as u8,
            why as u8,
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
        self.progress.cancel.cancel();
    }

    fn reason(&self) -> Stop {
        match self.reason.load(Ordering::SeqCst) {
            1 => Stop::UserCancel,
            2 => Stop::Timeout,
            3 => Stop::Shutdown,
            4 => Stop::LostLease,
            _ => Stop::None,
        }
    }

    /// Asks the run to stop because the process is shutting down: its lease is
    /// released, the attempt does not count.
    pub fn shutdown(&self) {
        self.stop(Stop::Shutdown);
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
}

/// How an execution ended.
pub enum Executed {
    /// The run reached a final state; `error` is set when it failed.
    Finished {
        report: Box<RunReport>,
        error: Option<PipelineError>,
    },
    /// The attempt failed and the run is queued again for later.
    Retrying { error: PipelineError },
    /// Shutdown: the lease was given back, the run is queued again.
    Released,
    /// Another worker owns the run now: nothing was recorded.
    LostLease,
}

/// Runs a claimed run to its end. `progress` lets the caller watch (and
/// `stopper` stop) it.
pub async fn execute(
    sauve: &Sauve,
    claim: &Claim,
    timing: &QueueTiming,
    stopper: Stopper,
) -> Result<Executed, ServiceError> {
    let store = &sauve.store;
    let fail = |message: String| async move {
        store
            .finish_claimed(
                claim,
                RunState::Failed,
                (0, 0),
                Some(&message),
                &message,
                &[],
            )
            .await?;
        Ok::<_, ServiceError>(Executed::Finished {
            report: Box::new(report(sauve, &claim.run.id, vec![]).await?),
            error: None,
        })
    };
    let stored = match store.job_by_id(&claim.job_id).await {
        Ok(j) => j,
        Err(StoreError::NotFound { .. }) => {
            return fail(format!(
                "job {} was deleted before the run started",
                claim.run.job
            ))
            .await;
        }
        Err(e) => return Err(e.into()),
    };
    let job = match stored.spec.validate() {
        Ok(j) => j,
        Err(e) => return fail(format!("the job is not valid any more: {e}")).await,
    };

    let lease_ms = timing.lease.as_millis() as i64;
    let heartbeat = {
        let (store, claim, stopper) = (store.clone(), claim.clone(), stopper.clone());
        let every = timing.lease / 3;
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
    };

    let mut log = vec![format!(
        "attempt {} of {} on {}",
        claim.attempt, claim.max_attempts, claim.owner
    )];
    let progress = stopper.progress.clone();
    sauve.live.start(&claim.run.id, progress.clone());
    // Removed however this function returns.
    struct Unlist<'a>(&'a Sauve, &'a str);
    impl Drop for Unlist<'_> {
        fn drop(&mut self) {
            self.0.live.end(self.1);
        }
    }
    let _unlist = Unlist(sauve, &claim.run.id);
    let expected_size = match sauve.expected_artifact_size(&job.name).await {
        Ok(size) => size,
        Err(e) => {
            tracing::warn!(job = %job.name, error = %e, "no previous size to plan uploads with");
            None
        }
    };
    let result = {
        let pipeline = pipeline::run_backup(
            BackupRequest {
                job: &job,
                run_id: &claim.run.id,
                staging_dir: sauve.staging_dir(),
                progress: progress.clone(),
                expected_size,
            },
            &mut log,
        );
        tokio::pin!(pipeline);
        tokio::select! {
            r = &mut pipeline => r,
            _ = tokio::time::sleep(job.timeout) => {
                stopper.stop(Stop::Timeout);
                pipeline.await
            }
        }
    };
    heartbeat.abort();
    let bytes_in = progress.bytes_in.load(Ordering::Relaxed) as i64;

    match (result, stopper.reason()) {
        (_, Stop::LostLease) => {
            tracing::warn!(run = %claim.run.id, "lost the lease; another worker has the run");
            Ok(Executed::LostLease)
        }
        (Ok(outcome), _) => {
            let mut backups = Vec::new();
            let mut failures = Vec::new();
            for d in outcome.destinations {
                match d.outcome {
                    Ok(stored) => backups.push(NewBackup {
                        backup: stored.backup,
                        manifest_json: stored.manifest_json,
                    }),
                    Err(error) => failures.push(DestinationFailure {
                        destination: d.destination,
                        error,
                    }),
                }
            }
            let (state, error) = if failures.is_empty() {
                (RunState::Succeeded, None)
            } else {
                let e = failures
                    .iter()
                    .map(|f| format!("{}: {}", f.destination, f.error))
                    .collect::<Vec<_>>()
                    .join("; ");
                (RunState::Partial, Some(e))
            };
            let bytes = (outcome.bytes_in as i64, outcome.bytes_out as i64);
            if !store
                .finish_claimed(
                    claim,
                    state,
                    bytes,
                    error.as_deref(),
                    &log.join("\n"),
                    &backups,
                )
                .await?
            {
                return Ok(Executed::LostLease);
            }
            Ok(Executed::Finished {
                report: Box::new(report(sauve, &claim.run.id, failures).await?),
                error: None,
            })
        }
        (Err(_), Stop::Shutdown) => {
            store.release(claim).await?;
            Ok(Executed::Released)
        }
        (Err(_), Stop::UserCancel) => {
            log.push("cancelled on request".into());
            store
                .finish_claimed(
                    claim,
                    RunState::Cancelled,
                    (bytes_in, 0),
                    Some("cancelled on request"),
                    &log.join("\n"),
                    &[],
                )
                .await?;
            Ok(Executed::Finished {
                report: Box::new(report(sauve, &claim.run.id, vec![]).await?),
                error: Some(PipelineError::Cancelled),
            })
        }
        (Err(e), reason) => {
            let error = if reason == Stop::Timeout {
                PipelineError::Internal(format!(
                    "timed out after {}s (the job's timeout); the dump was stopped",
                    job.timeout.as_secs()
                ))
            } else {
                e
            };
            log.push(format!("error: {error}"));
            if claim.attempt < claim.max_attempts {
                let delay = timing.backoff_ms(claim.attempt);
                log.push(format!("retrying in {}s", delay / 1000));
                store
                    .retry_later(claim, delay, &error.to_string(), &log.join("\n"))
                    .await?;
                return Ok(Executed::Retrying { error });
            }
            store
                .finish_claimed(
                    claim,
                    RunState::Failed,
                    (bytes_in, 0),
                    Some(&error.to_string()),
                    &log.join("\n"),
                    &[],
                )
                .await?;
            Ok(Executed::Finished {
                report: Box::new(report(sauve, &claim.run.id, vec![]).await?),
                error: Some(error),
            })
        }
    }
}

async fn report(
    sauve: &Sauve,
    run_id: &str,
    failures: Vec<DestinationFailure>,
) -> Result<RunReport, ServiceError> {
    Ok(RunReport {
        run: sauve.store.run(run_id).await?,
        backups: sauve.store.backups_of_run(run_id).await?,
        failures,
    })
}

/// Settings of the serve loop.
#[derive(Debug, Clone)]
pub struct ServeQueue {
    /// Runs executed at once by this instance.
    pub workers: usize,
    /// How often schedules are checked and the queue polled.
    pub tick: Duration,
    /// How long running backups may take to finish after a shutdown signal.
    pub grace: Duration,
    pub timing: QueueTiming,
}

impl Default for ServeQueue {
    fn default() -> Self {
        Self {
            workers: 2,
            tick: Duration::from_millis(500),
            grace: Duration::from_secs(30),
            timing: QueueTiming::default(),
        }
    }
}

/// The scheduler and workers of `sauve serve`, until `shutdown` turns true.
pub async fn serve_queue(sauve: Sauve, cfg: ServeQueue, mut shutdown: watch::Receiver<bool>) {
    let owner = format!("{}:{}", crate::service::instance_name(), &new_id()[20..]);
    tracing::info!(%owner, workers = cfg.workers, "scheduler and workers started");
    let permits = Arc::new(Semaphore::new(cfg.workers.max(1)));
    let mut tasks = JoinSet::new();
    let running: Arc<std::sync::Mutex<Vec<(String, Stopper)>>> = Arc::default();
    // A finished run frees a worker: claim the next queued run at once rather
    // than at the next tick.
    let freed = Arc::new(tokio::sync::Notify::new());
    loop {
        if *shutdown.borrow() {
            break;
        }
        if let Err(e) = sauve.schedule_tick().await {
            tracing::warn!(error = %e, "schedule tick failed");
        }
        let timing = cfg.timing.clone();
        match sauve.store.expire_leases(|a| timing.backoff_ms(a)).await {
            Ok(x) if x.requeued + x.failed > 0 => {
                LEASE_EXPIRIES.fetch_add(x.requeued + x.failed, Ordering::Relaxed);
                tracing::warn!(requeued = x.requeued, failed = x.failed, "leases expired")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "lease expiry check failed"),
        }
        while let Ok(permit) = permits.clone().try_acquire_owned() {
            let lease_ms = cfg.timing.lease.as_millis() as i64;
            let claim = match sauve.store.claim(&owner, lease_ms, None).await {
                Ok(Some(c)) => c,
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming a run failed");
                    break;
                }
            };
            tracing::info!(run = %claim.run.id, job = %claim.run.job, attempt = claim.attempt, "run started");
            let stopper = Stopper::default();
            running
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((claim.run.id.clone(), stopper.clone()));
            let (sauve, timing, running, freed) = (
                sauve.clone(),
                cfg.timing.clone(),
                running.clone(),
                freed.clone(),
            );
            tasks.spawn(async move {
                let outcome = execute(&sauve, &claim, &timing, stopper).await;
                match &outcome {
                    Ok(Executed::Finished { report, error }) => tracing::info!(
                        run = %claim.run.id, job = %claim.run.job, state = %report.run.state,
                        error = error.as_ref().map(|e| e.to_string()).unwrap_or_default(), "run finished"),
                    Ok(Executed::Retrying { error }) => {
                        tracing::warn!(run = %claim.run.id, error = %error, "attempt failed; will retry")
                    }
                    Ok(Executed::Released) => tracing::info!(run = %claim.run.id, "run released for another instance"),
                    Ok(Executed::LostLease) => tracing::warn!(run = %claim.run.id, "lease lost"),
                    Err(e) => tracing::error!(run = %claim.run.id, error = %e, "run could not be recorded"),
                }
                running
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .retain(|(id, _)| id != &claim.run.id);
                drop(permit);
                freed.notify_one();
            });
        }
        while tasks.try_join_next().is_some() {}
        // Sleep until the next tick, or until the earliest slot if it comes first,
        // so runs start on time rather than up to a tick late.
        let nap = match sauve.store.earliest_next_fire().await {
            Ok((Some(next), now)) => cfg
                .tick
                .min(Duration::from_millis(next.saturating_sub(now).max(0) as u64)),
            _ => cfg.tick,
        };
        tokio::select! {
            _ = tokio::time::sleep(nap) => {}
            _ = freed.notified() => {}
            // A dropped sender means nobody can tell us to go on: stop too.
            changed = shutdown.changed() => if changed.is_err() { break },
        }
    }
    // Shutdown: claim nothing more; let running backups finish within the grace
    // period, then stop them and hand their runs back to the queue.
    let active = tasks.len();
    if active > 0 {
        tracing::info!(
            active,
            grace_secs = cfg.grace.as_secs(),
            "waiting for running backups"
        );
        let drained = tokio::time::timeout(cfg.grace, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            for (id, stopper) in running.lock().unwrap_or_else(|p| p.into_inner()).iter() {
                tracing::warn!(run = %id, "grace period over: stopping and releasing the run");
                stopper.shutdown();
            }
            while tasks.join_next().await.is_some() {}
        }
    }
    tracing::info!("scheduler and workers stopped");
}
