//! `discord://secret:NAME`: a Discord webhook message. The webhook URL is
//! the secret, revealed only for the host it is bound to.

use super::{Context, Event, SendError, Sent, post_json};
use crate::domain::channel::SecretUrl;

/// Discord's limit for `content`.
const MAX_CONTENT: usize = 2000;

pub(super) async fn send(
    url: &SecretUrl,
    event: &Event,
    ctx: &Context<'_>,
) -> Result<Sent, SendError> {
    let (url, to) = ctx.keys.reveal_url(&url.0, "Discord webhook URL")?;
    let mut content: String = event.text();
    if content.len() > MAX_CONTENT {
        let mut end = MAX_CONTENT - 1;
        while !content.is_char_boundary(end) {
            end -= 1;
        }
        content.truncate(end);
        content.push('…');
    }
    // No @everyone, @here or role pings from a log line.
    let body = serde_json::json!({
        "content": content,
        "allowed_mentions": { "parse": [] },
    });
    post_json(url.expose(), &to.host, &body).await
}
