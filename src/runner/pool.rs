//! The pool of workers of `sauve serve`: expire dead workers' leases, claim up
//! to N runs of any kind, execute each on its own task, and on shutdown claim
//! nothing more, let running runs finish within the grace period, then stop
//! them and hand them back to the queue.
//!
//! Back-pressure is the permit count: a run is claimed only when a worker is
//! free, so the queue, not this process, holds the backlog (and another
//! instance may take it).

use super::{Executed, LEASE_EXPIRIES, Runner, Stopper};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;

/// Settings of the pool.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Runs executed at once by this instance.
    pub workers: usize,
    /// How often the queue is polled (other instances queue runs too).
    pub tick: Duration,
    /// How long running runs may take to finish after a shutdown signal.
    pub grace: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            workers: 2,
            tick: Duration::from_millis(500),
            grace: Duration::from_secs(30),
        }
    }
}

type Running = Arc<Mutex<Vec<(String, Stopper)>>>;

/// Claims and executes runs until `shutdown` turns true, then drains.
pub async fn work(
    runner: Runner,
    owner: String,
    cfg: PoolConfig,
    mut shutdown: watch::Receiver<bool>,
) {
    tracing::info!(%owner, workers = cfg.workers, "workers started");
    let permits = Arc::new(Semaphore::new(cfg.workers.max(1)));
    let mut tasks = JoinSet::new();
    let running: Running = Arc::default();
    // A finished run frees a worker: claim the next queued run at once rather
    // than at the next tick.
    let freed = Arc::new(Notify::new());
    loop {
        if *shutdown.borrow() {
            break;
        }
        let timing = runner.timing.clone();
        match runner.store.expire_leases(|a| timing.backoff_ms(a)).await {
            Ok(x) if x.requeued + x.failed > 0 => {
                LEASE_EXPIRIES.fetch_add(x.requeued + x.failed, Ordering::Relaxed);
                tracing::warn!(requeued = x.requeued, failed = x.failed, "leases expired")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "lease expiry check failed"),
        }
        while let Ok(permit) = permits.clone().try_acquire_owned() {
            let claim = match runner.store.claim(&owner, timing.lease_ms(), None).await {
                Ok(Some(c)) => c,
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming a run failed");
                    break;
                }
            };
            tracing::info!(run = %claim.run.id, job = %claim.run.job, kind = %claim.run.kind,
                attempt = claim.attempt, "run started");
            let stopper = Stopper::default();
            running
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((claim.run.id.clone(), stopper.clone()));
            let (runner, running, freed) = (runner.clone(), running.clone(), freed.clone());
            tasks.spawn(async move {
                log_outcome(&claim.run.id, runner.execute(&claim, stopper).await);
                running
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .retain(|(id, _)| id != &claim.run.id);
                drop(permit);
                freed.notify_one();
            });
        }
        while tasks.try_join_next().is_some() {}
        tokio::select! {
            _ = tokio::time::sleep(cfg.tick) => {}
            _ = freed.notified() => {}
            _ = runner.wake.notified() => {}
            // A dropped sender means nobody can tell us to go on: stop too.
            changed = shutdown.changed() => if changed.is_err() { break },
        }
    }
    drain(tasks, &running, cfg.grace).await;
    tracing::info!("workers stopped");
}

fn log_outcome(run: &str, outcome: Result<Executed, crate::store::StoreError>) {
    match outcome {
        Ok(Executed::Finished { run: r, error, .. }) => tracing::info!(
            run, job = %r.job, kind = %r.kind, state = %r.state,
            error = error.map(|e| e.to_string()).unwrap_or_default(), "run finished"),
        Ok(Executed::Retrying { error }) => {
            tracing::warn!(run, error = %error, "attempt failed; will retry")
        }
        Ok(Executed::Released) => tracing::info!(run, "run released for another instance"),
        Ok(Executed::LostLease) => tracing::warn!(run, "lease lost"),
        Err(e) => tracing::error!(run, error = %e, "run could not be recorded"),
    }
}

/// Shutdown: let running runs finish within the grace period, then stop them;
/// each gives its lease back (the attempt does not count).
async fn drain(mut tasks: JoinSet<()>, running: &Running, grace: Duration) {
    let active = tasks.len();
    if active == 0 {
        return;
    }
    tracing::info!(
        active,
        grace_secs = grace.as_secs(),
        "waiting for running runs"
    );
    let drained =
        tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        for (id, stopper) in running.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            tracing::warn!(run = %id, "grace period over: stopping and releasing the run");
            stopper.shutdown();
        }
        while tasks.join_next().await.is_some() {}
    }
}
