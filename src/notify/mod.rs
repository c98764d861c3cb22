//! Notifications: sending one delivery of the outbox to its channel, and
//! draining the outbox with retries and back-off. What a channel is told is
//! [`Event`] (`event.rs`); how each kind of channel says it is one file each
//! (`webhook.rs`, `slack.rs`, `discord.rs`, `ntfy.rs`, `smtp.rs`, `ping.rs`),
//! registered in [`send`]. A new kind is a `ChannelKind` variant, a file and
//! one line there.
//!
//! A delivery's failure is recorded on the delivery, never on the run: a
//! notification that cannot be sent does not change what a backup did.
//! Nothing here records a receiver's answer beyond its status code, so a
//! channel cannot be used to read what a host on the server's network says.

mod discord;
mod event;
mod ntfy;
mod ping;
mod sign;
mod slack;
mod smtp;
mod webhook;

pub use event::{Event, EventData, Links, StaleInfo, StreakInfo, log_tail};
pub use sign::sign;

use crate::domain::{Channel, ChannelKind, CredentialError, Keyring};
use crate::store::{Delivery, DeliveryAttempt, Store, StoreError};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Why a delivery attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error(transparent)]
    Credential(#[from] CredentialError),
    #[error("{host} answered HTTP {status}{}", if *.retryable { "; will try again" } else { "; check the channel's URL and credentials" })]
    Refused {
        host: String,
        status: i64,
        retryable: bool,
    },
    #[error("cannot reach {host}: {why}")]
    Unreachable { host: String, why: String },
    #[error("the SMTP server {host} refused the message ({code}): {why}")]
    Smtp {
        host: String,
        code: i64,
        why: String,
        retryable: bool,
    },
    #[error("{0}")]
    Invalid(String),
}

impl SendError {
    /// Whether another attempt may succeed.
    pub fn retryable(&self) -> bool {
        match self {
            SendError::Refused { retryable, .. } | SendError::Smtp { retryable, .. } => *retryable,
            SendError::Unreachable { .. } => true,
            SendError::Credential(_) | SendError::Invalid(_) => false,
        }
    }

    pub fn status(&self) -> Option<i64> {
        match self {
            SendError::Refused { status, .. } => Some(*status),
            SendError::Smtp { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// What an attempt got back: the receiver's status code, when it has one.
#[derive(Debug, Clone, Copy)]
pub struct Sent {
    pub status: Option<i64>,
}

/// What one send needs besides the channel and the event.
pub struct Context<'a> {
    pub keys: &'a Keyring,
    /// The delivery's id: a webhook's `webhook-id`, the same on every attempt.
    pub delivery_id: &'a str,
}

/// The registry of channel kinds.
pub async fn send(channel: &Channel, event: &Event, ctx: &Context<'_>) -> Result<Sent, SendError> {
    match &channel.kind {
        ChannelKind::Webhook { target, secret } => {
            webhook::send(target, secret.as_ref(), event, ctx).await
        }
        ChannelKind::Slack(url) => slack::send(url, event, ctx).await,
        ChannelKind::Discord(url) => discord::send(url, event, ctx).await,
        ChannelKind::Ntfy { target, token } => ntfy::send(target, token.as_ref(), event, ctx).await,
        ChannelKind::Smtp { .. } => smtp::send(&channel.kind, event, ctx).await,
        ChannelKind::Ping { target, service } => ping::send(target, *service, event).await,
    }
}

/// The HTTP client of every channel: no redirects (a secret bound to one
/// host must not follow a 302 to another), bounded waits.
pub(crate) fn http() -> &'static reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(20))
            .user_agent(concat!("sauve/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("an HTTP client with rustls builds")
    })
}

/// Posts `body` and classifies the answer: 2xx sent; 408, 429 and 5xx worth
/// another try; other statuses refused for good. Only the status is kept.
pub(crate) async fn post(req: reqwest::RequestBuilder, host: &str) -> Result<Sent, SendError> {
    let resp = req.send().await.map_err(|e| SendError::Unreachable {
        host: host.to_string(),
        why: describe(&e),
    })?;
    let status = resp.status();
    if status.is_success() {
        return Ok(Sent {
            status: Some(status.as_u16() as i64),
        });
    }
    Err(SendError::Refused {
        host: host.to_string(),
        status: status.as_u16() as i64,
        retryable: status.is_server_error() || matches!(status.as_u16(), 408 | 429),
    })
}

/// Posts a JSON `body` to a chat service's incoming webhook (`url` is the
/// revealed secret; only its host is ever named).
pub(crate) async fn post_json(
    url: &str,
    host: &str,
    body: &serde_json::Value,
) -> Result<Sent, SendError> {
    post(
        http()
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_string()),
        host,
    )
    .await
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "no answer in time".into()
    } else if e.is_connect() {
        "connection refused or no route".into()
    } else {
        // The causes (DNS, TLS), not reqwest's own line: it names the URL,
        // which for Slack and Discord is the secret.
        let mut parts = Vec::new();
        let mut src = std::error::Error::source(e);
        while let Some(c) = src {
            parts.push(c.to_string());
            src = c.source();
        }
        if parts.is_empty() {
            "the request failed".into()
        } else {
            parts.join(": ").chars().take(300).collect()
        }
    }
}

/// How deliveries are retried.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryTiming {
    /// First retry delay; doubles each attempt, up to an hour.
    pub base: Duration,
    /// Attempts before a delivery is failed for good.
    pub max_attempts: i64,
    /// How long a sender holds a delivery (longer than any one attempt).
    pub lease: Duration,
}

impl Default for DeliveryTiming {
    fn default() -> Self {
        DeliveryTiming {
            base: Duration::from_secs(30),
            max_attempts: 8,
            // Longer than the slowest send: SMTP's 20 s per command, a few commands.
            lease: Duration::from_secs(300),
        }
    }
}

impl DeliveryTiming {
    /// The delay before the attempt after `attempts`, or None when spent.
    pub fn retry_in_ms(&self, attempts: i64) -> Option<i64> {
        if attempts >= self.max_attempts {
            return None;
        }
        let base = self.base.as_millis() as i64;
        Some(
            base.saturating_mul(1i64 << (attempts - 1).clamp(0, 20))
                .min(3_600_000),
        )
    }
}

/// Deliveries this process sent, by (channel kind, outcome): `/metrics`.
static COUNTS: Mutex<BTreeMap<(String, &'static str), u64>> = Mutex::new(BTreeMap::new());

/// (channel kind, outcome `sent` / `retry` / `failed`, count) so far.
pub fn delivery_counts() -> Vec<(String, &'static str, u64)> {
    let counts = COUNTS.lock().unwrap_or_else(|p| p.into_inner());
    counts
        .iter()
        .map(|((k, o), n)| (k.clone(), *o, *n))
        .collect()
}

fn count(kind: &str, outcome: &'static str) {
    let mut counts = COUNTS.lock().unwrap_or_else(|p| p.into_inner());
    *counts.entry((kind.to_string(), outcome)).or_default() += 1;
}

/// Sends a claimed delivery once and records the attempt.
pub async fn deliver(
    store: &Store,
    keys: &Keyring,
    d: &Delivery,
    timing: &DeliveryTiming,
) -> Result<(), StoreError> {
    let started = Instant::now();
    let at = jiff::Timestamp::now();
    let result = match (
        Channel::parse(&d.channel),
        serde_json::from_str::<Event>(&d.payload),
    ) {
        (Ok(channel), Ok(event)) => {
            let ctx = Context {
                keys,
                delivery_id: &d.id,
            };
            send(&channel, &event, &ctx).await
        }
        (Err(e), _) => Err(SendError::Invalid(format!(
            "the channel {} is not valid any more: {e}",
            d.channel
        ))),
        (_, Err(e)) => Err(SendError::Invalid(format!(
            "the event is unreadable ({e}); was it written by a newer Sauve?"
        ))),
    };
    let retry = match &result {
        Ok(_) => None,
        Err(e) if e.retryable() => timing.retry_in_ms(d.attempts),
        Err(_) => None,
    };
    let attempt = DeliveryAttempt {
        attempt: d.attempts,
        at,
        ok: result.is_ok(),
        status: match &result {
            Ok(s) => s.status,
            Err(e) => e.status(),
        },
        error: result.as_ref().err().map(|e| e.to_string()),
        duration_ms: started.elapsed().as_millis() as i64,
    };
    let outcome = match (&result, retry) {
        (Ok(_), _) => "sent",
        (Err(_), Some(_)) => "retry",
        (Err(_), None) => "failed",
    };
    count(&d.channel_kind, outcome);
    match &result {
        Ok(_) => {
            tracing::info!(channel = %d.channel_kind, event = %d.event, job = d.job.as_deref().unwrap_or(""), delivery = %d.id, "notification sent")
        }
        Err(e) => {
            tracing::warn!(channel = %d.channel_kind, event = %d.event, job = d.job.as_deref().unwrap_or(""), delivery = %d.id, attempt = d.attempts, error = %e, outcome, "notification not sent")
        }
    }
    store.finish_delivery(d, &attempt, retry).await?;
    Ok(())
}

/// Claims and sends due deliveries (only run `only_run`'s, when given), up
/// to `max`, a few at once. Returns how many were attempted.
pub async fn drain(
    store: &Store,
    keys: &Keyring,
    owner: &str,
    timing: &DeliveryTiming,
    only_run: Option<&str>,
    max: usize,
) -> Result<usize, StoreError> {
    const AT_ONCE: usize = 4;
    let lease_ms = timing.lease.as_millis() as i64;
    let mut done = 0;
    while done < max {
        let mut batch = Vec::new();
        while batch.len() < AT_ONCE && done + batch.len() < max {
            match store.claim_delivery(owner, lease_ms, only_run).await? {
                Some(d) => batch.push(d),
                None => break,
            }
        }
        if batch.is_empty() {
            break;
        }
        done += batch.len();
        let sends = batch.iter().map(|d| deliver(store, keys, d, timing));
        for r in futures::future::join_all(sends).await {
            r?;
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_double_then_stop() {
        let t = DeliveryTiming {
            base: Duration::from_secs(30),
            max_attempts: 8,
            lease: Duration::from_secs(60),
        };
        let got: Vec<Option<i64>> = (1..=9).map(|a| t.retry_in_ms(a)).collect();
        assert_eq!(
            got,
            vec![
                Some(30_000),
                Some(60_000),
                Some(120_000),
                Some(240_000),
                Some(480_000),
                Some(960_000),
                Some(1_920_000),
                None,
                None
            ]
        );
    }
}
