//! Schedules: the tick that queues the runs whose slot has come (the serve
//! loop's and platform cron's), next fire times, and previews.

use super::{Actor, Sauve, ServiceError};
use crate::domain::{CatchUp, Overlap, Run, Trigger, ValidationErrors};
use crate::store::{NewRun, StoredJob};

/// A slot this late was missed (Sauve was down), not merely picked up by a
/// slow tick: the catch-up policy decides about it.
const MISSED_AFTER: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);

impl Sauve {
    /// Queues the runs whose slot has come, once per slot whatever the number of
    /// instances ticking. Missed slots (Sauve was down) follow the job's catch-up
    /// policy: the latest once (trigger `catch_up`), or none. Returns the runs
    /// queued by this call.
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
                    let trigger = if missed {
                        Trigger::CatchUp
                    } else {
                        Trigger::Schedule
                    };
                    let (run, created) = self
                        .store
                        .enqueue(&NewRun {
                            scheduled_for: Some(slot.as_millisecond()),
                            ..NewRun::backup(&stored, trigger, job.max_attempts)
                        })
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
        if !queued.is_empty() {
            self.runner.wake();
        }
        Ok(queued)
    }

    /// The tick, asked for by platform cron: what it queued is audited.
    pub async fn cron_tick(&self, actor: &Actor) -> Result<Vec<Run>, ServiceError> {
        let queued = self.schedule_tick().await?;
        for r in &queued {
            self.audit(
                actor,
                "backup.run",
                Some(&r.job),
                Some(&format!("run {}", r.id)),
            )
            .await;
        }
        Ok(queued)
    }

    /// Points the job's next fire time at its schedule's next slot from now (or
    /// clears it), after a job was created or its schedule changed.
    pub(super) async fn reschedule(&self, job: &StoredJob) -> Result<(), ServiceError> {
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

    /// The earliest fire time of any job and the database's now, in Unix ms:
    /// how long the serve loop may sleep.
    pub async fn earliest_next_fire(&self) -> Result<(Option<i64>, i64), ServiceError> {
        Ok(self.store.earliest_next_fire().await?)
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
