//! Notifications as operations: the watchdog's tick, draining the outbox,
//! the deliveries and the channels that are failing, and a test send to a
//! channel (`sauve notify test`, the page's "Send test").

use super::{Actor, Sauve, ServiceError};
use crate::domain::{Channel, EventKind, ValidationErrors};
use crate::notify::{self, DeliveryTiming, Event, EventData};
use crate::store::{Delivery, DeliveryAttempt, DeliveryFilter};
use serde::Serialize;
use std::collections::BTreeMap;

/// What the watchdog saw.
#[derive(Debug, Default, Clone, Serialize)]
pub struct WatchReport {
    pub jobs: usize,
    /// Jobs without a stored backup within their `max_age`.
    pub stale: Vec<String>,
    /// Scratch targets dropped that test restores of dead processes left.
    pub swept: usize,
}

/// A test send that went out.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ChannelTest {
    pub channel: String,
    pub kind: String,
    /// The receiver's HTTP status or SMTP reply code.
    pub status: Option<i64>,
    pub duration_ms: i64,
}

/// A channel's recent record, newest delivery first.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ChannelHealth {
    pub channel: String,
    pub kind: String,
    /// The state of its newest delivery.
    pub last_state: String,
    pub last_error: Option<String>,
    #[schemars(with = "String")]
    pub last_at: jiff::Timestamp,
    /// Whether its newest settled delivery failed, or one is being retried.
    pub failing: bool,
}

/// Deliveries and what the channels look like, for the API and the page.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Notifications {
    pub deliveries: Vec<Delivery>,
    /// Every channel seen in recent deliveries.
    pub channels: Vec<ChannelHealth>,
}

impl Sauve {
    /// How deliveries are retried: the queue's first retry delay.
    fn delivery_timing(&self) -> DeliveryTiming {
        DeliveryTiming {
            base: self.runner.timing().retry_base,
            ..DeliveryTiming::default()
        }
    }

    /// The watchdog's tick: every job's scheduled verification queued for its
    /// latest slot, its unseen runs folded, its staleness checked (by the
    /// database's clock), alerts queued once.
    pub async fn watchdog_tick(&self) -> Result<WatchReport, ServiceError> {
        let now = self.store.db_now().await?;
        // The first tick comes as serve starts: what a test restore killed
        // mid-way left is dropped then, and on every tick after.
        let mut report = WatchReport {
            swept: self.runner.sweep_scratch().await,
            ..WatchReport::default()
        };
        for job in self.store.jobs().await? {
            report.jobs += 1;
            // Scheduled verification rides the same ticker: its slots are
            // queued once each (the slot is the run's idempotency key).
            if let Err(e) = self.runner.queue_due_verify(&job, now).await {
                tracing::warn!(job = %job.name, error = %e, "could not queue the scheduled verification");
            }
            match self.runner.watch(&job, now).await {
                Ok(true) => report.stale.push(job.name.clone()),
                Ok(false) => {}
                Err(e) => tracing::warn!(job = %job.name, error = %e, "watchdog check failed"),
            }
        }
        Ok(report)
    }

    /// Sends what is due in the outbox (of run `only_run`, when given), up
    /// to `max` deliveries; returns how many were attempted.
    pub async fn deliver_due(
        &self,
        owner: &str,
        only_run: Option<&str>,
        max: usize,
    ) -> Result<usize, ServiceError> {
        let keys = self.keyring().await?;
        let timing = self.delivery_timing();
        Ok(notify::drain(&self.store, &keys, owner, &timing, only_run, max).await?)
    }

    /// Publishes this server's `--notify` channels for every process that
    /// finishes a run (a cron-driven `sauve backup run` included). The last
    /// `serve` started decides: give every instance the same list.
    pub async fn publish_default_channels(&self, uris: &[String]) -> Result<(), ServiceError> {
        let json = serde_json::to_string(uris).expect("a list of strings serialises");
        Ok(self
            .store
            .set_setting(crate::runner::DEFAULT_CHANNELS, &json)
            .await?)
    }

    /// Rung when this process queued deliveries.
    pub fn delivery_wake(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.runner.notify_wake()
    }

    /// Recent deliveries and the channels they went to.
    pub async fn notifications(
        &self,
        filter: &DeliveryFilter,
    ) -> Result<Notifications, ServiceError> {
        let deliveries = self.store.deliveries(filter).await?;
        // Channels from a wider window than one page, so a quiet failing
        // channel is not hidden by a busy healthy one.
        let recent = self
            .store
            .deliveries(&DeliveryFilter {
                limit: 500,
                ..Default::default()
            })
            .await?;
        let mut channels: BTreeMap<String, ChannelHealth> = BTreeMap::new();
        for d in &recent {
            let entry = channels
                .entry(d.channel.clone())
                .or_insert_with(|| ChannelHealth {
                    channel: d.channel.clone(),
                    kind: d.channel_kind.clone(),
                    last_state: d.state.clone(),
                    last_error: d.last_error.clone(),
                    last_at: d.created_at,
                    failing: false,
                });
            // Newest first: the first settled delivery decides.
            if !entry.failing && entry.last_state != "sent" {
                entry.failing = d.state == "failed"
                    || (d.state == "pending" && d.attempts > 0 && d.last_error.is_some());
            }
        }
        Ok(Notifications {
            deliveries,
            channels: channels.into_values().collect(),
        })
    }

    pub async fn delivery_attempts(&self, id: &str) -> Result<Vec<DeliveryAttempt>, ServiceError> {
        Ok(self.store.delivery_attempts(id).await?)
    }

    /// Sends a test event to `uri` now, as `actor` may: a remote caller uses
    /// named secrets only and no clear-text channel. Audited.
    pub async fn test_channel(
        &self,
        actor: &Actor,
        uri: &str,
    ) -> Result<ChannelTest, ServiceError> {
        let channel = Channel::parse(uri).map_err(|e| {
            let mut out = ValidationErrors::new();
            out.extend_prefixed("channel", e);
            out
        })?;
        self.guard_channel(actor, &channel, "channel")?;
        let keys = self.keyring().await?;
        let id = format!("test_{}", crate::domain::new_id());
        let event = Event {
            kind: EventKind::Test,
            timestamp: jiff::Timestamp::now(),
            data: EventData {
                job: "sauve".into(),
                ..Default::default()
            },
        };
        let started = std::time::Instant::now();
        let sent = notify::send(
            &channel,
            &event,
            &notify::Context {
                keys: &keys,
                delivery_id: &id,
            },
        )
        .await;
        let detail = match &sent {
            Ok(s) => format!("sent ({})", s.status.unwrap_or(0)),
            Err(e) => format!("not sent: {e}"),
        };
        self.audit(actor, "notify.test", Some(channel.uri()), Some(&detail))
            .await;
        let sent = sent?;
        Ok(ChannelTest {
            channel: channel.uri().to_string(),
            kind: channel.kind_name().to_string(),
            status: sent.status,
            duration_ms: started.elapsed().as_millis() as i64,
        })
    }
}
