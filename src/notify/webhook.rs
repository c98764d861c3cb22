//! `webhook+https://`: the event as JSON, signed the Standard Webhooks way
//! when the channel names a signing key.

use super::{Context, Event, SendError, Sent, http, post, sign};
use crate::domain::channel::Target;
use crate::domain::{Credential, Endpoint};

pub(super) async fn send(
    target: &Target,
    secret: Option<&Credential>,
    event: &Event,
    ctx: &Context<'_>,
) -> Result<Sent, SendError> {
    let body = serde_json::to_string(event).expect("an event serialises");
    // Receivers refuse timestamps far from their clock: the time of this
    // attempt, signed anew each time; the id stays the delivery's.
    let timestamp = jiff::Timestamp::now().as_second();
    let mut req = http()
        .post(&target.url)
        .header("content-type", "application/json")
        .header("webhook-id", ctx.delivery_id)
        .header("webhook-timestamp", timestamp.to_string());
    if let Some(cred) = secret {
        let to = Endpoint::host(&target.host, target.port);
        let key = ctx.keys.reveal(cred, &to, "webhook signing key")?;
        let signature = sign(key.expose(), ctx.delivery_id, timestamp, &body)
            .map_err(|why| SendError::Invalid(format!("the webhook signing key {why}")))?;
        req = req.header("webhook-signature", signature);
    }
    post(req.body(body), &target.host).await
}
