//! After a run, who must be told: a finished backup run is folded into its
//! job's health (`policy::alerts`: one alert per failure streak, a recovery
//! when it ends), and the alerts and per-run events become deliveries in the
//! outbox, in the same transaction as the health they moved. The watchdog
//! (`watch`) checks each job's staleness on its own ticker, outside any run,
//! so it fires when nothing runs at all.
//!
//! Folding is a catch-up over the job's finished runs not yet told (each run
//! is marked in the transaction that moves the health), so a run finished by
//! a process that died before telling anyone (or failed by an expired lease)
//! is folded by the next watchdog tick, once, whichever instance gets there
//! first.

use super::Runner;
use crate::domain::{Channel, EventKind, Job, Run, RunKind, RunState};
use crate::notify::{Event, EventData, Links, StaleInfo, StreakInfo, log_tail};
use crate::policy::alerts::{self, Alert, Finished, Outcome};
use crate::store::{NewDelivery, StoreError, StoredJob, ts};
use jiff::Timestamp;

/// Where the server's own channels and links come from.
#[derive(Debug, Clone, Default)]
pub struct NotifyConfig {
    /// Channels told about every job (`serve --notify`, `SAUVE_NOTIFY`).
    pub defaults: Vec<Channel>,
    /// The address people reach Sauve at, for links in messages.
    pub public_url: Option<String>,
}

/// How many unseen runs one fold takes at most (the rest wait for the next).
const FOLD_BATCH: i64 = 500;

/// The setting `serve` publishes its `--notify` channels under, so a
/// foreground run (`sauve backup run` from cron) tells them too.
pub const DEFAULT_CHANNELS: &str = "notify";

impl Runner {
    /// The channels a job's events go to: its own, then the server's (as the
    /// last `serve` started published them, and this process's own).
    async fn channels_of(&self, job: Option<&Job>) -> Vec<Channel> {
        let mut out: Vec<Channel> = job.map(|j| j.notify.clone()).unwrap_or_default();
        let published: Vec<String> = match self.store.setting(DEFAULT_CHANNELS).await {
            Ok(Some(json)) => serde_json::from_str(&json).unwrap_or_default(),
            Ok(None) => vec![],
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the server's channels; using this process's");
                vec![]
            }
        };
        let published = published.iter().filter_map(|u| match Channel::parse(u) {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!(channel = %u, error = %e, "a published channel is not valid; skipped");
                None
            }
        });
        for c in self.notify.defaults.iter().cloned().chain(published) {
            if !out.iter().any(|o| o.uri() == c.uri()) {
                out.push(c);
            }
        }
        out
    }

    fn links(&self, run: Option<&str>) -> Links {
        let base = self
            .notify
            .public_url
            .as_deref()
            .map(|u| u.trim_end_matches('/'));
        Links {
            run: base
                .zip(run)
                .map(|(b, r)| format!("{b}/api/admin/runs/{r}")),
            dashboard: base.map(|b| format!("{b}/dashboard/admin/backup")),
        }
    }

    fn run_event(&self, kind: EventKind, run: &Run) -> Event {
        Event {
            kind,
            timestamp: run.finished_at.unwrap_or_else(Timestamp::now),
            data: EventData {
                job: run.job.clone(),
                run_id: Some(run.id.clone()),
                kind: Some(run.kind.to_string()),
                state: Some(run.state.to_string()),
                error: run.error.clone(),
                log_tail: log_tail(&run.log),
                links: self.links(Some(&run.id)),
                ..Default::default()
            },
        }
    }

    /// One delivery per channel that wants `event`, keyed `key`.
    fn deliveries(
        channels: &[Channel],
        key: &str,
        event: &Event,
        pick: impl Fn(&Channel) -> bool,
    ) -> Vec<NewDelivery> {
        let payload = serde_json::to_string(event).expect("an event serialises");
        channels
            .iter()
            .filter(|c| c.wants(event.kind) && pick(c))
            .map(|c| NewDelivery {
                event_key: key.to_string(),
                channel: c.uri().to_string(),
                channel_kind: c.kind_name().to_string(),
                event: event.kind.to_string(),
                job: Some(event.data.job.clone()),
                run_id: event.data.run_id.clone(),
                payload: payload.clone(),
            })
            .collect()
    }

    /// Queues deliveries that belong to no streak; a failure is logged: a
    /// notification never changes a run's outcome.
    async fn queue(&self, deliveries: Vec<NewDelivery>) {
        if deliveries.is_empty() {
            return;
        }
        match self.store.queue_deliveries(&deliveries).await {
            Ok(n) if n > 0 => self.notify_wake.notify_one(),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not queue notifications"),
        }
    }

    /// A backup run started: `run.started` for the channels that follow runs.
    pub(super) async fn announce_start(&self, run: &Run, job: Option<&StoredJob>, attempt: i64) {
        if run.kind != RunKind::Backup || attempt != 1 {
            return;
        }
        let valid = job.and_then(|j| j.spec.validate().ok());
        let channels = self.channels_of(valid.as_ref()).await;
        let mut event = self.run_event(EventKind::RunStarted, run);
        event.timestamp = Timestamp::now();
        let key = format!("run.started:{}:{}", run.job, run.id);
        self.queue(Self::deliveries(&channels, &key, &event, |_| true))
            .await;
    }

    /// After a run reached its final state: fold it (and whatever else of
    /// the job's is unseen) into the job's health. A failure here is logged:
    /// the watchdog folds it on its next tick.
    pub(super) async fn announce_end(&self, job: &StoredJob) {
        if let Err(e) = self.fold(job).await {
            tracing::warn!(job = %job.name, error = %e, "could not record the run for notifications; the watchdog will");
        }
    }

    /// What a finished verify or prune run tells as is: a damaged backup, a
    /// retention plan refused (the run's notice, written with its outcome).
    fn single_event(run: &Run, notice: Option<&str>) -> Option<EventKind> {
        match (run.kind, run.state) {
            (RunKind::Verify | RunKind::TestRestore, RunState::Failed) => {
                Some(EventKind::VerifyFailed)
            }
            (RunKind::Prune, _) if notice == Some(EventKind::RetentionRefused.as_str()) => {
                Some(EventKind::RetentionRefused)
            }
            _ => None,
        }
    }

    /// Folds the job's finished runs not yet told into its health, queueing
    /// what they alert, in the order they ended: backups through the streak
    /// rules, failed verifies and refused prunes as they are. Each run is
    /// marked told in the transaction that moves the health, so any instance
    /// may fold at any time, and each run is folded once.
    pub async fn fold(&self, job: &StoredJob) -> Result<(), StoreError> {
        let valid = job.spec.validate().ok();
        let channels = self.channels_of(valid.as_ref()).await;
        self.fold_to(job, valid.as_ref(), &channels).await
    }

    /// `fold`, with the job's channels already read.
    async fn fold_to(
        &self,
        job: &StoredJob,
        valid: Option<&Job>,
        channels: &[Channel],
    ) -> Result<(), StoreError> {
        let remind = valid.map_or(alerts::DEFAULT_REMIND_MS, |j| j.remind_ms());
        loop {
            let (mut health, version) = self.store.health(&job.id).await?;
            let runs = self.store.unalerted_runs(&job.id, FOLD_BATCH).await?;
            if runs.is_empty() {
                return Ok(());
            }
            let mut deliveries = Vec::new();
            for (run, notice) in &runs {
                if run.kind != RunKind::Backup {
                    if let Some(kind) = Self::single_event(run, notice.as_deref()) {
                        let key = format!("{kind}:{}:{}", run.job, run.id);
                        let event = self.run_event(kind, run);
                        deliveries.extend(Self::deliveries(channels, &key, &event, |_| true));
                    }
                    continue;
                }
                let outcome = match run.state {
                    RunState::Succeeded => Outcome::Succeeded,
                    RunState::Partial => Outcome::Partial,
                    RunState::Failed => Outcome::Failed,
                    // Cancelled: a person stopped it; nothing to tell.
                    _ => continue,
                };
                let at = run.finished_at.map_or(0, |t| t.as_millisecond());
                let Some((next, raised)) = alerts::on_finished(
                    &health,
                    Finished {
                        run: &run.id,
                        at,
                        outcome,
                    },
                    remind,
                ) else {
                    continue;
                };
                deliveries.extend(self.run_deliveries(channels, run, outcome));
                for alert in raised {
                    let event = self.alert_event(&job.name, &alert, Some(run), None);
                    let key = alert.key(&job.name);
                    deliveries.extend(Self::deliveries(channels, &key, &event, |c| !c.per_run()));
                }
                health = next;
            }
            let folded: Vec<&str> = runs.iter().map(|(r, _)| r.id.as_str()).collect();
            if self
                .store
                .save_health(&job.id, version, &health, &deliveries, &folded)
                .await?
            {
                if !deliveries.is_empty() {
                    self.notify_wake.notify_one();
                }
                if (runs.len() as i64) < FOLD_BATCH {
                    return Ok(());
                }
            }
            // Another instance moved the health first, or more runs wait.
        }
    }

    /// Per-run events of a finished backup: every success to the channels
    /// that asked for it, every failure to the ones that follow runs (pings).
    fn run_deliveries(
        &self,
        channels: &[Channel],
        run: &Run,
        outcome: Outcome,
    ) -> Vec<NewDelivery> {
        let (kind, key) = match outcome {
            Outcome::Succeeded => (
                EventKind::RunSucceeded,
                format!("run.succeeded:{}:{}", run.job, run.id),
            ),
            _ => (
                EventKind::RunFailed,
                format!("run.failed:{}:run-{}", run.job, run.id),
            ),
        };
        let event = self.run_event(kind, run);
        let per_run_only = kind == EventKind::RunFailed;
        Self::deliveries(channels, &key, &event, |c| !per_run_only || c.per_run())
    }

    fn alert_event(
        &self,
        job: &str,
        alert: &Alert,
        run: Option<&Run>,
        max_age_ms: Option<i64>,
    ) -> Event {
        let (kind, mut data) = match run {
            Some(r) => {
                let e = self.run_event(EventKind::RunFailed, r);
                (EventKind::RunFailed, e.data)
            }
            None => (
                EventKind::BackupStale,
                EventData {
                    job: job.to_string(),
                    links: self.links(None),
                    ..Default::default()
                },
            ),
        };
        let (kind, timestamp) = match alert {
            Alert::Failing {
                since,
                failures,
                reminder,
                ..
            } => {
                data.streak = Some(StreakInfo {
                    since: ts(*since),
                    failures: *failures,
                    reminder: *reminder,
                });
                (kind, run.and_then(|r| r.finished_at))
            }
            Alert::Recovered {
                since, failures, ..
            } => {
                data.streak = Some(StreakInfo {
                    since: ts(*since),
                    failures: *failures,
                    reminder: 0,
                });
                (EventKind::RunRecovered, run.and_then(|r| r.finished_at))
            }
            Alert::Stale {
                reference,
                reminder,
                ..
            } => {
                // The caller blanks it when the reference is the job's creation.
                data.stale = Some(StaleInfo {
                    last_backup_at: Some(ts(*reference)),
                    max_age_secs: max_age_ms.unwrap_or(0) / 1000,
                    reminder: *reminder,
                });
                (EventKind::BackupStale, None)
            }
        };
        Event {
            kind,
            timestamp: timestamp.unwrap_or_else(Timestamp::now),
            data,
        }
    }

    /// The watchdog's check of one job: folds what is unseen, then raises
    /// `backup.stale` when no backup was stored within the job's `max_age`
    /// (counted from its creation when it never stored one). Returns whether
    /// the job is stale now (for `/metrics`).
    pub async fn watch(&self, job: &StoredJob, now: i64) -> Result<bool, StoreError> {
        let valid = job.spec.validate().ok();
        let channels = self.channels_of(valid.as_ref()).await;
        self.fold_to(job, valid.as_ref(), &channels).await?;
        let Some(valid) = valid else {
            return Ok(false);
        };
        let Some(max_age) = valid.max_age_ms(ts(now)) else {
            return Ok(false);
        };
        for _ in 0..3 {
            let (health, version) = self.store.health(&job.id).await?;
            let created = job.created_at.as_millisecond();
            let watch = alerts::on_watch(&health, created, max_age, valid.remind_ms(), now);
            let stale = watch.health.as_ref().unwrap_or(&health).stale.is_some();
            let Some(next) = watch.health else {
                return Ok(stale);
            };
            let mut deliveries = Vec::new();
            if let Some(alert) = &watch.alert {
                let mut event = self.alert_event(&job.name, alert, None, Some(max_age));
                if health.last_good_at.is_none()
                    && let Some(s) = event.data.stale.as_mut()
                {
                    s.last_backup_at = None;
                }
                event.timestamp = ts(now);
                let key = alert.key(&job.name);
                deliveries = Self::deliveries(&channels, &key, &event, |c| !c.per_run());
            }
            if self
                .store
                .save_health(&job.id, version, &next, &deliveries, &[])
                .await?
            {
                if !deliveries.is_empty() {
                    self.notify_wake.notify_one();
                }
                return Ok(stale);
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Trigger;

    fn run(kind: RunKind, state: RunState, log: &str) -> Run {
        Run {
            id: "01r".into(),
            job: "j".into(),
            kind,
            trigger: Trigger::Schedule,
            state,
            queued_at: Timestamp::UNIX_EPOCH,
            started_at: None,
            finished_at: Some(Timestamp::UNIX_EPOCH),
            bytes_in: 0,
            bytes_out: 0,
            error: None,
            log: log.into(),
            scheduled_for: None,
            attempt: 1,
            max_attempts: 1,
            owner: None,
        }
    }

    #[test]
    fn verifies_and_prunes_tell_what_they_found() {
        use RunKind::*;
        use RunState::*;
        let refused = Some("retention.refused");
        // A URI that says the words in its log is not a refusal.
        let log = "file:///retention.refused:/b: keep 01x (keep_last)";
        let cases = [
            (Verify, Failed, None, Some(EventKind::VerifyFailed)),
            (Verify, Succeeded, None, None),
            (TestRestore, Failed, None, Some(EventKind::VerifyFailed)),
            (TestRestore, Succeeded, None, None),
            (Prune, Succeeded, refused, Some(EventKind::RetentionRefused)),
            (Prune, Partial, refused, Some(EventKind::RetentionRefused)),
            (Prune, Succeeded, None, None),
            (Prune, Failed, None, None),
            // Backups go through the streak rules, not this.
            (Backup, Failed, refused, None),
        ];
        for (kind, state, notice, want) in cases {
            assert_eq!(
                Runner::single_event(&run(kind, state, log), notice),
                want,
                "{kind} {state} {notice:?}"
            );
        }
    }
}
