//! `ping+https://…`: healthchecks-style pings (healthchecks.io, Uptime Kuma,
//! Cronitor): `/start` when a backup starts, the plain URL when it
//! succeeds, `/fail` when it failed, each with `rid=<run id>` so a start and
//! its end pair up. A test is a plain ping.

use super::{Event, SendError, Sent, http, post};
use crate::domain::EventKind;
use crate::domain::channel::Target;

pub(super) async fn send(target: &Target, event: &Event) -> Result<Sent, SendError> {
    let suffix = match event.kind {
        EventKind::RunStarted => "/start",
        EventKind::RunFailed | EventKind::BackupStale | EventKind::VerifyFailed => "/fail",
        EventKind::RetentionRefused => "/fail",
        EventKind::RunSucceeded | EventKind::RunRecovered | EventKind::Test => "",
    };
    let mut url = url::Url::parse(&target.url)
        .map_err(|e| SendError::Invalid(format!("the ping URL is not valid: {e}")))?;
    let path = format!("{}{suffix}", url.path().trim_end_matches('/'));
    url.set_path(&path);
    if let Some(run) = &event.data.run_id {
        url.query_pairs_mut().append_pair("rid", run);
    }
    // The body shows in the check's log: the error and the log tail.
    let body = match event.kind {
        EventKind::RunStarted => String::new(),
        _ => event.text(),
    };
    post(http().post(url.as_str()).body(body), &target.host).await
}
