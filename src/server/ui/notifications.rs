//! The dashboard's notification parts: the last deliveries and the channels
//! that are failing, from the same service call as
//! `GET /api/admin/notifications`.

use crate::server::i18n::{Arg, Lang, format};
use crate::service::{Notifications, Sauve, ServiceError};
use crate::store::DeliveryFilter;

/// Deliveries shown on the page; the API pages through the rest.
const SHOWN: i64 = 20;

pub(super) struct DeliveryRow {
    pub(super) created: String,
    pub(super) event: String,
    pub(super) job: String,
    pub(super) channel: String,
    pub(super) state: String,
    pub(super) state_words: String,
    pub(super) attempts: i64,
    pub(super) status: String,
    pub(super) error: String,
}

pub(super) struct FailingChannel {
    pub(super) channel: String,
    pub(super) error: String,
    pub(super) since: String,
}

pub(super) struct NotificationRows {
    pub(super) deliveries: Vec<DeliveryRow>,
    pub(super) failing: Vec<FailingChannel>,
}

pub(super) async fn rows(lang: Lang, sauve: &Sauve) -> Result<NotificationRows, ServiceError> {
    let Notifications {
        deliveries,
        channels,
    } = sauve
        .notifications(&DeliveryFilter {
            limit: SHOWN,
            ..Default::default()
        })
        .await?;
    Ok(NotificationRows {
        deliveries: deliveries
            .into_iter()
            .map(|d| DeliveryRow {
                created: format::when(lang, d.created_at),
                state_words: lang.t(&format!("delivery-{}", d.state)),
                event: d.event,
                job: d.job.unwrap_or_default(),
                channel: d.channel,
                state: d.state,
                attempts: d.attempts,
                status: d.last_status.map(|s| s.to_string()).unwrap_or_default(),
                error: d.last_error.unwrap_or_default(),
            })
            .collect(),
        failing: channels
            .into_iter()
            .filter(|c| c.failing)
            .map(|c| FailingChannel {
                error: c.last_error.unwrap_or(c.last_state),
                since: lang.ta(
                    "last-tried",
                    &[("when", Arg::S(&format::when(lang, c.last_at)))],
                ),
                channel: c.channel,
            })
            .collect(),
    })
}
