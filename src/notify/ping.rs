//! `ping+https://…`: pings to an uptime monitor, in its own grammar
//! (`service=`): Healthchecks (`/start` when a backup starts, the plain URL
//! when it succeeds, `/fail` when it failed, `rid=` pairing them), Uptime
//! Kuma push monitors (`status=up|down`), Cronitor telemetry
//! (`state=run|complete|fail`, `series=` pairing them). A test is a success.

use super::{Event, SendError, Sent, http, post};
use crate::domain::EventKind;
use crate::domain::channel::{PingService, Target};

/// Where a ping stands in a run's life.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Start,
    Success,
    Failure,
}

pub(super) async fn send(
    target: &Target,
    service: PingService,
    event: &Event,
) -> Result<Sent, SendError> {
    let phase = match event.kind {
        EventKind::RunStarted => Phase::Start,
        EventKind::RunSucceeded | EventKind::RunRecovered | EventKind::Test => Phase::Success,
        EventKind::RunFailed
        | EventKind::BackupStale
        | EventKind::VerifyFailed
        | EventKind::RetentionRefused => Phase::Failure,
    };
    let mut url = url::Url::parse(&target.url)
        .map_err(|e| SendError::Invalid(format!("the ping URL is not valid: {e}")))?;
    let run = event.data.run_id.as_deref();
    match service {
        PingService::Healthchecks => {
            let suffix = match phase {
                Phase::Start => "/start",
                Phase::Success => "",
                Phase::Failure => "/fail",
            };
            let path = format!("{}{suffix}", url.path().trim_end_matches('/'));
            url.set_path(&path);
            // Healthchecks takes a UUID for rid; a run id is a ULID, the
            // same 128 bits.
            let uuid = run.and_then(run_uuid);
            set_query(&mut url, &[("rid", uuid.as_deref())]);
        }
        PingService::Kuma => {
            // A push monitor has no "started": only the outcome counts.
            if phase == Phase::Start {
                return Ok(Sent { status: None });
            }
            let status = if phase == Phase::Success {
                "up"
            } else {
                "down"
            };
            // Kuma's copied URL ends in `?status=up&msg=OK&ping=`: ours replace those.
            let msg = event.subject();
            set_query(
                &mut url,
                &[
                    ("status", Some(status)),
                    ("msg", Some(&msg)),
                    ("ping", None),
                ],
            );
        }
        PingService::Cronitor => {
            let state = match phase {
                Phase::Start => "run",
                Phase::Success => "complete",
                Phase::Failure => "fail",
            };
            set_query(&mut url, &[("state", Some(state)), ("series", run)]);
        }
    }
    // The body shows in the check's log: the error and the log tail.
    let body = match phase {
        Phase::Start => String::new(),
        _ => event.text(),
    };
    post(http().post(url.as_str()).body(body), &target.host).await
}

/// Sets each of `pairs` on the URL's query (None removes the key), keeping
/// the monitor's own parameters (a token, say) as they were.
fn set_query(url: &mut url::Url, pairs: &[(&str, Option<&str>)]) {
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !pairs.iter().any(|(p, _)| p == k))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &kept {
        q.append_pair(k, v);
    }
    for (k, v) in pairs {
        if let Some(v) = v {
            q.append_pair(k, v);
        }
    }
    let q = q.finish();
    url.set_query((!q.is_empty()).then_some(q.as_str()));
}

/// A run's ULID as a canonical lower-case UUID.
fn run_uuid(run: &str) -> Option<String> {
    let n = ulid::Ulid::from_string(&run.to_ascii_uppercase()).ok()?.0;
    let hex = format!("{n:032x}");
    Some(format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_become_uuids() {
        assert_eq!(
            run_uuid("01arz3ndektsv4rrffq69g5fav").as_deref(),
            Some("01563e3a-b5d3-d676-4c61-efb99302bd5b")
        );
        assert_eq!(run_uuid("not a ulid"), None);
    }

    #[test]
    fn a_monitors_own_parameters_are_replaced_not_repeated() {
        let mut url =
            url::Url::parse("https://kuma.example/api/push/tok?status=up&msg=OK&ping=&x=1")
                .unwrap();
        let pairs = [
            ("status", Some("down")),
            ("msg", Some("[Sauve] a: backup failed")),
            ("ping", None),
        ];
        set_query(&mut url, &pairs);
        assert_eq!(
            url.as_str(),
            "https://kuma.example/api/push/tok?x=1&status=down&msg=%5BSauve%5D+a%3A+backup+failed"
        );
        let mut url = url::Url::parse("https://hc-ping.com/u?rid=old").unwrap();
        set_query(&mut url, &[("rid", None)]);
        assert_eq!(url.as_str(), "https://hc-ping.com/u");
    }
}
