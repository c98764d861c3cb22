//! `slack://secret:NAME`: a Slack incoming-webhook message. The webhook URL
//! is the secret, revealed only for the host it is bound to.

use super::{Context, Event, SendError, Sent, post_json};
use crate::domain::channel::SecretUrl;

/// Slack reads `<…>` as links and mentions (`<!channel>`): a log line must
/// not page a whole channel.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub(super) async fn send(
    url: &SecretUrl,
    event: &Event,
    ctx: &Context<'_>,
) -> Result<Sent, SendError> {
    let (url, to) = ctx.keys.reveal_url(&url.0, "Slack webhook URL")?;
    let text = escape(&event.text());
    let (subject, rest) = text.split_once('\n').unwrap_or((&text, ""));
    let body = serde_json::json!({
        "text": format!("*{subject}*\n{rest}"),
        "unfurl_links": false,
    });
    post_json(url.expose(), &to.host, &body).await
}
