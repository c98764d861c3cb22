//! `ntfy://host/topic`: an ntfy message (title, priority, tags, a link).

use super::{Context, Event, SendError, Sent, http, post};
use crate::domain::channel::Target;
use crate::domain::{Credential, Endpoint, EventKind};

pub(super) async fn send(
    target: &Target,
    token: Option<&Credential>,
    event: &Event,
    ctx: &Context<'_>,
) -> Result<Sent, SendError> {
    let text = event.text();
    let (title, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    // Header values must be visible ASCII: job names are.
    let title: String = title
        .chars()
        .filter(|c| c.is_ascii() && !c.is_ascii_control())
        .collect();
    let (priority, tags) = match event.kind {
        k if k.is_problem() => ("high", "warning"),
        EventKind::RunRecovered | EventKind::RunSucceeded => ("default", "white_check_mark"),
        _ => ("default", "information_source"),
    };
    let mut req = http()
        .post(&target.url)
        .header("Title", title)
        .header("Priority", priority)
        .header("Tags", tags);
    if let Some(link) = event
        .data
        .links
        .dashboard
        .as_ref()
        .or(event.data.links.run.as_ref())
    {
        req = req.header("Click", link);
    }
    if let Some(cred) = token {
        let to = Endpoint::host(&target.host, target.port);
        let token = ctx.keys.reveal(cred, &to, "ntfy token")?;
        req = req.bearer_auth(token.expose());
    }
    post(req.body(cut(body, MAX_BODY)), &target.host).await
}

/// ntfy refuses (or, on ntfy.sh, turns into an attachment) a message over
/// 4,096 bytes: keep the start, which says what happened.
const MAX_BODY: usize = 3500;

fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}
