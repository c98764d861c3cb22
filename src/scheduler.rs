//! The serve loop of `sauve serve`, beside the HTTP server: the scheduler
//! ticks every job's schedule (queueing each slot once, whatever the number of
//! instances), the runner's pool claims and executes what is queued, the
//! watchdog checks every job for staleness on its own ticker (so it fires
//! when nothing runs at all: a wrong schedule, a stuck queue, no worker), and
//! the sender drains the notifications outbox, and the keeper prunes history
//! older than `--keep-runs` every hour. All stop when `shutdown` turns true;
//! the pool then drains its running runs.

use crate::domain::new_id;
use crate::runner::{self, PoolConfig};
use crate::service::{Sauve, instance_name};
use std::time::Duration;
use tokio::sync::watch;

/// The scheduler and the workers, until `shutdown` turns true. The pool's
/// `tick` paces both: schedules are checked as often as the queue is polled.
pub async fn serve_queue(
    sauve: Sauve,
    pool: PoolConfig,
    watchdog: Duration,
    keep_runs: Option<Duration>,
    shutdown: watch::Receiver<bool>,
) {
    let owner = format!("{}:{}", instance_name(), &new_id()[20..]);
    let tick = pool.tick;
    let workers = tokio::spawn(runner::work(
        sauve.runner().clone(),
        owner.clone(),
        pool,
        shutdown.clone(),
    ));
    let watchdog = tokio::spawn(watch_jobs(sauve.clone(), watchdog, shutdown.clone()));
    let keeper = tokio::spawn(keep_history(sauve.clone(), keep_runs, shutdown.clone()));
    let sender = tokio::spawn(send_notifications(
        sauve.clone(),
        owner,
        tick,
        shutdown.clone(),
    ));
    tick_schedules(&sauve, tick, shutdown).await;
    let _ = workers.await;
    let _ = watchdog.await;
    let _ = keeper.await;
    // The sender stops with the others; what it did not send stays in the
    // outbox for the next start (or another instance).
    let _ = sender.await;
    tracing::info!("scheduler, workers, watchdog, keeper and sender stopped");
}

/// Sleeps `nap`, or less if `shutdown` turns true; false once it has.
async fn pause(nap: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
    if *shutdown.borrow() {
        return false;
    }
    tokio::select! {
        _ = tokio::time::sleep(nap) => true,
        changed = shutdown.changed() => changed.is_ok() && !*shutdown.borrow(),
    }
}

/// The watchdog: every job's staleness, checked every `every` by whichever
/// instances run it (each alert is keyed, so sent once).
async fn watch_jobs(sauve: Sauve, every: Duration, mut shutdown: watch::Receiver<bool>) {
    loop {
        match sauve.watchdog_tick().await {
            Ok(r) if !r.stale.is_empty() => {
                tracing::debug!(stale = ?r.stale, "watchdog: stale jobs")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "watchdog tick failed"),
        }
        if !pause(every, &mut shutdown).await {
            return;
        }
    }
}

/// How often the keeper looks for history older than `--keep-runs`.
const KEEP_EVERY: Duration = Duration::from_secs(3600);

/// The keeper: history older than `keep` pruned at start, then every hour
/// (`None`: kept forever). Every instance may run it: a batch deletes what
/// another already deleted as nothing.
async fn keep_history(sauve: Sauve, keep: Option<Duration>, mut shutdown: watch::Receiver<bool>) {
    let Some(keep) = keep else { return };
    loop {
        match sauve.prune_history(keep, &shutdown).await {
            Ok(p) if p.total() > 0 => tracing::info!(
                deleted = ?p.deleted.iter().map(|(t, n)| format!("{n} {}", t.as_str())).collect::<Vec<_>>(),
                "history older than the --keep-runs window pruned"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "pruning history failed; trying again in an hour"),
        }
        if !pause(KEEP_EVERY, &mut shutdown).await {
            return;
        }
    }
}

/// The outbox's sender: what is due, every tick or as soon as this process
/// queues something. A delivery in flight at shutdown is finished; one left
/// claimed by a killed process is taken again when its lease expires.
async fn send_notifications(
    sauve: Sauve,
    owner: String,
    tick: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let wake = sauve.delivery_wake();
    loop {
        // Small batches, so a shutdown waits for a few sends at most.
        loop {
            match sauve.deliver_due(&owner, None, 8).await {
                Ok(n) if n == 8 && !*shutdown.borrow() => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "sending notifications failed");
                    break;
                }
            }
        }
        if *shutdown.borrow() {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(tick.max(Duration::from_secs(1))) => {}
            _ = wake.notified() => {}
            changed = shutdown.changed() => if changed.is_err() { return },
        }
    }
}

async fn tick_schedules(sauve: &Sauve, tick: Duration, mut shutdown: watch::Receiver<bool>) {
    tracing::info!("scheduler started");
    loop {
        if *shutdown.borrow() {
            return;
        }
        if let Err(e) = sauve.schedule_tick().await {
            tracing::warn!(error = %e, "schedule tick failed");
        }
        // Sleep until the next tick, or until the earliest slot if it comes
        // first, so runs start on time rather than up to a tick late.
        let nap = match sauve.earliest_next_fire().await {
            Ok((Some(next), now)) => {
                tick.min(Duration::from_millis(next.saturating_sub(now).max(0) as u64))
            }
            _ => tick,
        };
        tokio::select! {
            _ = tokio::time::sleep(nap) => {}
            // A dropped sender means nobody can tell us to go on: stop too.
            changed = shutdown.changed() => if changed.is_err() { return },
        }
    }
}
