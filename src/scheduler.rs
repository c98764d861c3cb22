//! The serve loop of `sauve serve`, beside the HTTP server: the scheduler
//! ticks every job's schedule (queueing each slot once, whatever the number of
//! instances) and the runner's pool claims and executes what is queued. Both
//! stop when `shutdown` turns true; the pool then drains its running runs.

use crate::domain::new_id;
use crate::runner::{self, PoolConfig};
use crate::service::{Sauve, instance_name};
use std::time::Duration;
use tokio::sync::watch;

/// The scheduler and the workers, until `shutdown` turns true. The pool's
/// `tick` paces both: schedules are checked as often as the queue is polled.
pub async fn serve_queue(sauve: Sauve, pool: PoolConfig, shutdown: watch::Receiver<bool>) {
    let owner = format!("{}:{}", instance_name(), &new_id()[20..]);
    let tick = pool.tick;
    let workers = tokio::spawn(runner::work(
        sauve.runner().clone(),
        owner,
        pool,
        shutdown.clone(),
    ));
    tick_schedules(&sauve, tick, shutdown).await;
    let _ = workers.await;
    tracing::info!("scheduler and workers stopped");
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
