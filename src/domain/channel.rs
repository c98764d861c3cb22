//! Notification channels: where a job's events go, written as URIs like
//! sources and destinations. A channel never holds a secret: a webhook's
//! signing key, an ntfy token, an SMTP password and a Slack or Discord
//! webhook URL (which is itself a secret) are named (`secret:NAME`, bound to
//! the hosts they may go to) or, in operator-written config only, read from
//! a variable (`…_env=VAR`, `env:VAR`).
//!
//! | URI | sends |
//! |---|---|
//! | `webhook+https://host/path?secret=secret:NAME` | JSON, signed the Standard Webhooks way |
//! | `slack://secret:NAME`, `discord://secret:NAME` | their incoming-webhook messages |
//! | `ntfy://host/topic?token=secret:NAME` | an ntfy message |
//! | `smtp://host:port?from=…&to=…&tls=starttls\|tls\|none&user=…&password=secret:NAME` | an email |
//! | `ping+https://host/path` | healthchecks-style pings: `/start`, success, `/fail` |
//!
//! Plain `http` (`webhook+http://`, `ntfy+http://`, `ping+http://`) is for
//! loopback receivers only. Every channel takes `events=a,b` to choose its
//! events; without it, every event but `run.succeeded` (and `run.started`).
//!
//! Pure: parsing never connects to anything.

use super::is_loopback;
use super::secret::Credential;
use super::validation::ValidationErrors;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a channel is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventKind {
    #[serde(rename = "run.started")]
    RunStarted,
    #[serde(rename = "run.succeeded")]
    RunSucceeded,
    #[serde(rename = "run.failed")]
    RunFailed,
    #[serde(rename = "run.recovered")]
    RunRecovered,
    #[serde(rename = "backup.stale")]
    BackupStale,
    #[serde(rename = "verify.failed")]
    VerifyFailed,
    #[serde(rename = "retention.refused")]
    RetentionRefused,
    /// `sauve notify test` and the page's "Send test".
    #[serde(rename = "notify.test")]
    Test,
}

impl EventKind {
    pub const ALL: [EventKind; 8] = [
        EventKind::RunStarted,
        EventKind::RunSucceeded,
        EventKind::RunFailed,
        EventKind::RunRecovered,
        EventKind::BackupStale,
        EventKind::VerifyFailed,
        EventKind::RetentionRefused,
        EventKind::Test,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::RunStarted => "run.started",
            EventKind::RunSucceeded => "run.succeeded",
            EventKind::RunFailed => "run.failed",
            EventKind::RunRecovered => "run.recovered",
            EventKind::BackupStale => "backup.stale",
            EventKind::VerifyFailed => "verify.failed",
            EventKind::RetentionRefused => "retention.refused",
            EventKind::Test => "notify.test",
        }
    }

    /// Whether a person should act (failures, staleness) rather than be told
    /// things are fine.
    pub fn is_problem(self) -> bool {
        matches!(
            self,
            EventKind::RunFailed
                | EventKind::BackupStale
                | EventKind::VerifyFailed
                | EventKind::RetentionRefused
        )
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for EventKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        EventKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "{s:?} is not an event; choose from {}",
                    EventKind::ALL.map(EventKind::as_str).join(", ")
                )
            })
    }
}

/// How an SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (port 587), required.
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: loopback relays, or a relay without a password.
    None,
}

/// An `http(s)` URL a channel posts to, and whether it may be plain http.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The full URL, `https://…` or (loopback only) `http://…`.
    pub url: String,
    pub host: String,
    pub port: Option<u16>,
}

/// Where a channel's credential-URL comes from (Slack, Discord).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretUrl(pub Credential);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelKind {
    Webhook {
        target: Target,
        /// The `whsec_…` signing key; unsigned without one.
        secret: Option<Credential>,
    },
    Slack(SecretUrl),
    Discord(SecretUrl),
    Ntfy {
        target: Target,
        token: Option<Credential>,
    },
    Smtp {
        host: String,
        port: u16,
        tls: SmtpTls,
        from: String,
        to: Vec<String>,
        user: Option<String>,
        password: Option<Credential>,
    },
    Ping {
        target: Target,
        service: PingService,
    },
}

/// Which monitor a ping channel talks to: each has its own URL grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PingService {
    /// healthchecks.io and self-hosted Healthchecks: `/start`, the URL,
    /// `/fail`, with `rid=` (a UUID) pairing a start with its end.
    Healthchecks,
    /// Uptime Kuma push monitors: `?status=up|down&msg=…`; no start.
    Kuma,
    /// Cronitor telemetry: `?state=run|complete|fail&series=<run>`.
    Cronitor,
}

/// A parsed channel: what it is, and which events it takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    pub kind: ChannelKind,
    /// None: the defaults (every problem and `run.recovered`; for pings the
    /// run's start, success and failure).
    pub events: Option<Vec<EventKind>>,
    /// The URI as it is stored and shown (it holds no secret).
    uri: String,
}

impl Channel {
    pub fn parse(uri: &str) -> Result<Channel, ValidationErrors> {
        let uri = uri.trim();
        parse(uri).map_err(|m| ValidationErrors::single("", m))
    }

    /// The URI as written (canonical enough to key deliveries by: it holds
    /// no secret, only names).
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// `webhook`, `slack`, `discord`, `ntfy`, `smtp`, `ping`.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            ChannelKind::Webhook { .. } => "webhook",
            ChannelKind::Slack(_) => "slack",
            ChannelKind::Discord(_) => "discord",
            ChannelKind::Ntfy { .. } => "ntfy",
            ChannelKind::Smtp { .. } => "smtp",
            ChannelKind::Ping { .. } => "ping",
        }
    }

    /// Whether the channel is told `event`. Pings follow every backup run
    /// (start, success, failure); the others are told of problems once per
    /// streak and of recoveries, unless `events=` says otherwise.
    pub fn wants(&self, event: EventKind) -> bool {
        if event == EventKind::Test {
            return true;
        }
        match (&self.events, &self.kind) {
            (Some(list), _) => list.contains(&event),
            (None, ChannelKind::Ping { .. }) => matches!(
                event,
                EventKind::RunStarted | EventKind::RunSucceeded | EventKind::RunFailed
            ),
            (None, _) => event.is_problem() || event == EventKind::RunRecovered,
        }
    }

    /// Whether this channel hears of every run (pings) rather than of streaks.
    pub fn per_run(&self) -> bool {
        matches!(self.kind, ChannelKind::Ping { .. })
    }

    /// The credentials the channel sends, with what each is.
    pub fn credentials(&self) -> Vec<(&'static str, &Credential)> {
        match &self.kind {
            ChannelKind::Webhook { secret, .. } => {
                secret.iter().map(|c| ("webhook signing key", c)).collect()
            }
            ChannelKind::Slack(SecretUrl(c)) => vec![("Slack webhook URL", c)],
            ChannelKind::Discord(SecretUrl(c)) => vec![("Discord webhook URL", c)],
            ChannelKind::Ntfy { token, .. } => token.iter().map(|c| ("ntfy token", c)).collect(),
            ChannelKind::Smtp { password, .. } => {
                password.iter().map(|c| ("SMTP password", c)).collect()
            }
            ChannelKind::Ping { .. } => vec![],
        }
    }

    /// The host a channel connects to, when it is written in the URI
    /// (Slack's and Discord's are inside their secret).
    pub fn host(&self) -> Option<&str> {
        match &self.kind {
            ChannelKind::Webhook { target, .. }
            | ChannelKind::Ntfy { target, .. }
            | ChannelKind::Ping { target, .. } => Some(&target.host),
            ChannelKind::Smtp { host, .. } => Some(host),
            ChannelKind::Slack(_) | ChannelKind::Discord(_) => None,
        }
    }

    /// Whether the channel talks plain text over the network (http, SMTP
    /// without TLS): only the operator may choose that.
    pub fn is_plaintext(&self) -> bool {
        match &self.kind {
            ChannelKind::Webhook { target, .. }
            | ChannelKind::Ntfy { target, .. }
            | ChannelKind::Ping { target, .. } => target.url.starts_with("http://"),
            ChannelKind::Smtp { tls, .. } => *tls == SmtpTls::None,
            ChannelKind::Slack(_) | ChannelKind::Discord(_) => false,
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.uri)
    }
}

/// The query parameters Sauve reads; anything else stays on a webhook's URL.
struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    fn parse(query: Option<&str>) -> Params {
        let pairs = query
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Params { pairs }
    }

    fn take(&mut self, key: &str) -> Result<Option<String>, String> {
        let mut found = None;
        let mut i = 0;
        while i < self.pairs.len() {
            if self.pairs[i].0 == key {
                if found.is_some() {
                    return Err(format!("{key}= is given twice"));
                }
                found = Some(self.pairs.remove(i).1);
            } else {
                i += 1;
            }
        }
        Ok(found)
    }

    /// `name=secret:NAME` or `name_env=VAR`, not both.
    fn credential(&mut self, name: &str) -> Result<Option<Credential>, String> {
        let env_key = format!("{name}_env");
        match (self.take(name)?, self.take(&env_key)?) {
            (Some(_), Some(_)) => Err(format!("give {name}= or {env_key}=, not both")),
            (Some(v), None) => Credential::secret(name, &v).map(Some),
            (None, Some(v)) => Credential::env(&env_key, &v).map(Some),
            (None, None) => Ok(None),
        }
    }

    fn events(&mut self) -> Result<Option<Vec<EventKind>>, String> {
        let Some(list) = self.take("events")? else {
            return Ok(None);
        };
        let mut out = Vec::new();
        for e in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let kind: EventKind = e.parse().map_err(|m| format!("events=: {m}"))?;
            if !out.contains(&kind) {
                out.push(kind);
            }
        }
        if out.is_empty() {
            return Err("events= is empty; name at least one event, e.g. events=run.failed".into());
        }
        Ok(Some(out))
    }

    /// Refuses what is left: a typo must not silently drop a setting.
    fn finish(self, scheme: &str) -> Result<(), String> {
        match self.pairs.first() {
            None => Ok(()),
            Some((k, _)) => Err(format!("{scheme}: unknown parameter {k}=")),
        }
    }
}

/// The `http(s)` URL after `webhook+`, `ntfy+`, `ping+`, without Sauve's own
/// parameters; plain http only to loopback.
fn target(scheme: &str, rest: &str, params: &Params) -> Result<Target, String> {
    let url_scheme = if scheme.ends_with("+http") {
        "http"
    } else {
        "https"
    };
    let mut url = url::Url::parse(&format!("{url_scheme}://{rest}"))
        .map_err(|e| format!("{scheme}://{rest} is not a valid URL ({e})"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "{scheme}:// URLs cannot hold a user or password; name a secret instead (…=secret:NAME)"
        ));
    }
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| {
            format!("{scheme}:// needs a host, e.g. {scheme}://hooks.example.com/sauve")
        })?
        .to_ascii_lowercase();
    if url_scheme == "http" && !is_loopback(&host) {
        let secure = if scheme == "ntfy+http" {
            "ntfy".to_string()
        } else {
            scheme.replace("+http", "+https")
        };
        return Err(format!(
            "{scheme}:// sends in clear text and is only for a receiver on this machine (127.0.0.1, ::1, localhost); use {secure}:// for {host}"
        ));
    }
    url.set_fragment(None);
    // Keep the receiver's own query parameters, in their order.
    if params.pairs.is_empty() {
        url.set_query(None);
    } else {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &params.pairs {
            q.append_pair(k, v);
        }
        url.set_query(Some(&q.finish()));
    }
    Ok(Target {
        port: url.port_or_known_default(),
        url: url.to_string(),
        host,
    })
}

fn parse(uri: &str) -> Result<Channel, String> {
    let (scheme, rest) = uri.split_once("://").ok_or_else(|| {
        format!(
            "{uri:?} is not a channel URI; write e.g. webhook+https://hooks.example.com/sauve, slack://secret:NAME, ntfy://ntfy.sh/topic, smtp://mail.example.com:587?from=…&to=…, ping+https://hc-ping.com/UUID"
        )
    })?;
    let scheme = scheme.to_ascii_lowercase();
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    if path.contains('#') {
        return Err(format!("{scheme}:// URIs take no #fragment"));
    }
    let mut params = Params::parse(query);
    let events = params.events()?;
    let kind = match scheme.as_str() {
        "webhook+https" | "webhook+http" => {
            let secret = params.credential("secret")?;
            let target = target(&scheme, path, &params)?;
            ChannelKind::Webhook { target, secret }
        }
        "ntfy" | "ntfy+http" => {
            let token = params.credential("token")?;
            params.finish(&scheme)?;
            let t = target(&scheme, path, &Params { pairs: vec![] })?;
            let topic = url::Url::parse(&t.url)
                .ok()
                .map(|u| u.path().trim_matches('/').to_string())
                .unwrap_or_default();
            if topic.is_empty() || topic.contains('/') {
                return Err(format!(
                    "{scheme}:// needs one topic after the host, e.g. ntfy://ntfy.sh/my-backups"
                ));
            }
            ChannelKind::Ntfy { target: t, token }
        }
        "ping+https" | "ping+http" => {
            let service = match params.take("service")?.as_deref() {
                None | Some("healthchecks") => PingService::Healthchecks,
                Some("kuma") => PingService::Kuma,
                Some("cronitor") => PingService::Cronitor,
                Some(other) => {
                    return Err(format!(
                        "service={other}: choose healthchecks (the default), kuma or cronitor"
                    ));
                }
            };
            let t = target(&scheme, path, &params)?;
            ChannelKind::Ping { target: t, service }
        }
        "slack" | "discord" => {
            params.finish(&scheme)?;
            let cred = if let Some(var) = path.strip_prefix("env:") {
                Credential::env("env", var)?
            } else if path.starts_with("secret:") {
                Credential::secret("url", path)?
            } else {
                return Err(format!(
                    "{scheme}:// takes the webhook URL as a secret, never inline: {scheme}://secret:NAME (define it with `sauve secret set NAME --host {}`)",
                    if scheme == "slack" {
                        "hooks.slack.com"
                    } else {
                        "discord.com"
                    }
                ));
            };
            if scheme == "slack" {
                ChannelKind::Slack(SecretUrl(cred))
            } else {
                ChannelKind::Discord(SecretUrl(cred))
            }
        }
        "smtp" => smtp(path, params)?,
        other => {
            return Err(format!(
                "{other}:// is not a channel kind; use webhook+https, slack, discord, ntfy, smtp or ping+https"
            ));
        }
    };
    Ok(Channel {
        kind,
        events,
        uri: uri.to_string(),
    })
}

fn smtp(authority: &str, mut params: Params) -> Result<ChannelKind, String> {
    let url = url::Url::parse(&format!("smtp://{authority}"))
        .map_err(|e| format!("smtp://{authority} is not valid ({e})"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "smtp:// takes the user as user=… and the password as password=secret:NAME, never in the address"
                .into(),
        );
    }
    if !matches!(url.path(), "" | "/") {
        return Err("smtp:// takes host:port only; put from=, to= and the rest after ?".into());
    }
    let raw = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or("smtp:// needs a host, e.g. smtp://mail.example.com:587")?;
    // `smtp` is not a scheme the URL parser knows, so it keeps the host as
    // written; parse it the http way, so `127.1` or `0x7f.1` are read as
    // the address the resolver would connect to.
    let host = url::Host::parse(raw)
        .map_err(|e| format!("smtp://{raw}: not a host ({e})"))?
        .to_string()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let tls = match params.take("tls")?.as_deref() {
        None | Some("starttls") => SmtpTls::Starttls,
        Some("tls") => SmtpTls::Tls,
        Some("none") => SmtpTls::None,
        Some(other) => return Err(format!("tls={other}: choose starttls, tls or none")),
    };
    let port = url.port().unwrap_or(match tls {
        SmtpTls::Starttls => 587,
        SmtpTls::Tls => 465,
        SmtpTls::None => 25,
    });
    let from = params
        .take("from")?
        .ok_or("smtp:// needs from=ADDRESS (the sender)")?;
    let to: Vec<String> = params
        .take("to")?
        .ok_or("smtp:// needs to=ADDRESS (comma-separated for several)")?
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    for a in std::iter::once(&from).chain(&to) {
        if !is_address(a) {
            return Err(format!("{a:?} is not an email address"));
        }
    }
    if to.is_empty() {
        return Err("to= names no address".into());
    }
    let user = params.take("user")?;
    let password = params.credential("password")?;
    params.finish("smtp")?;
    if password.is_some() && user.is_none() {
        return Err("password= needs user= (the SMTP login)".into());
    }
    if tls == SmtpTls::None && password.is_some() && !is_loopback(&host) {
        return Err(format!(
            "tls=none would send the SMTP password to {host} in clear text; use tls=starttls or tls=tls"
        ));
    }
    Ok(ChannelKind::Smtp {
        host,
        port,
        tls,
        from,
        to,
        user,
        password,
    })
}

/// `local@domain`, plain enough for a header: no spaces, brackets or commas.
fn is_address(a: &str) -> bool {
    let Some((local, domain)) = a.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && a.chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '<' | '>' | ',' | '"' | '(' | ')'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_parse_to_their_kind() {
        let cases: &[(&str, &str)] = &[
            ("webhook+https://hooks.example.com/sauve", "webhook"),
            (
                "webhook+https://hooks.example.com/x?secret=secret:hook&events=run.failed",
                "webhook",
            ),
            ("webhook+http://127.0.0.1:9000/hook", "webhook"),
            ("webhook+http://[::1]:9000/hook", "webhook"),
            ("slack://secret:ops-slack", "slack"),
            ("discord://secret:ops", "discord"),
            ("slack://env:SLACK_URL", "slack"),
            ("ntfy://ntfy.sh/backups", "ntfy"),
            ("ntfy://ntfy.sh/backups?token=secret:ntfy", "ntfy"),
            ("ntfy+http://localhost:8081/t", "ntfy"),
            (
                "smtp://mail.example.com:587?from=a@example.com&to=b@example.com,c@example.com&user=a&password=secret:mail",
                "smtp",
            ),
            (
                "smtp://127.0.0.1:2525?from=a@x.test&to=b@x.test&tls=none",
                "smtp",
            ),
            (
                "smtp://[::1]:2525?from=a@x.test&to=b@x.test&tls=none",
                "smtp",
            ),
            ("ping+https://hc-ping.com/0f1e2d", "ping"),
            ("ping+http://127.0.0.1:1/p", "ping"),
            (
                "ping+https://kuma.example/api/push/tok?service=kuma",
                "ping",
            ),
            (
                "ping+https://cronitor.link/p/key/job?service=cronitor",
                "ping",
            ),
        ];
        for (uri, kind) in cases {
            let c = Channel::parse(uri).unwrap_or_else(|e| panic!("{uri}: {e}"));
            assert_eq!(c.kind_name(), *kind, "{uri}");
            assert_eq!(c.uri(), *uri);
        }
    }

    #[test]
    fn channels_refuse_inline_secrets_plain_http_and_typos() {
        let cases: &[(&str, &str)] = &[
            (
                "webhook+http://hooks.example.com/x",
                "only for a receiver on this machine",
            ),
            (
                "webhook+http://10.0.0.5/x",
                "only for a receiver on this machine",
            ),
            ("ntfy+http://ntfy.sh/t", "only for a receiver"),
            ("ping+http://hc-ping.com/x", "only for a receiver"),
            (
                "ping+https://hc-ping.com/x?service=nagios",
                "choose healthchecks",
            ),
            (
                "webhook+https://u:p@hooks.example.com/x",
                "cannot hold a user or password",
            ),
            (
                "webhook+https://hooks.example.com/x?secret=whsec_abc",
                "secret:NAME",
            ),
            (
                "webhook+https://hooks.example.com/x?secret_env=SAUVE_MASTER_KEY",
                "SAUVE_",
            ),
            (
                "webhook+https://hooks.example.com/x?events=run.exploded",
                "not an event",
            ),
            ("webhook+https://hooks.example.com/x?events=", "is empty"),
            ("webhook+https://", "not a valid URL"),
            ("slack://hooks.slack.com/services/T/B/X", "never inline"),
            ("discord://discord.com/api/webhooks/1/x", "never inline"),
            ("slack://secret:Bad Name", "not a secret name"),
            ("slack://secret:ok?colour=red", "unknown parameter colour="),
            ("ntfy://ntfy.sh", "one topic"),
            ("ntfy://ntfy.sh/a/b", "one topic"),
            ("ntfy://ntfy.sh/t?token=tk_abc", "secret:NAME"),
            ("ntfy://ntfy.sh/t?prio=5", "unknown parameter prio="),
            ("smtp://mail.example.com?to=b@x.test", "needs from="),
            ("smtp://mail.example.com?from=a@x.test", "needs to="),
            (
                "smtp://mail.example.com?from=a@x.test&to=nobody",
                "not an email address",
            ),
            (
                "smtp://mail.example.com?from=a@x.test&to=b@x.test&tls=ssl",
                "choose starttls",
            ),
            (
                "smtp://mail.example.com?from=a@x.test&to=b@x.test&password=secret:m",
                "needs user=",
            ),
            (
                "smtp://mail.example.com?from=a@x.test&to=b@x.test&user=a&password=secret:m&tls=none",
                "clear text",
            ),
            (
                "smtp://u:p@mail.example.com?from=a@x.test&to=b@x.test",
                "never in the address",
            ),
            (
                "smtp://mail.example.com?from=a@x.test&to=b@x.test&pasword=secret:m",
                "unknown parameter pasword=",
            ),
            (
                "smtp://mail.example.com/x?from=a@x.test&to=b@x.test",
                "host:port only",
            ),
            (
                "smtp://mail.example.com?from=a@x.test&to=b@x.test%0D%0ABcc:%20evil@x.test",
                "not an email address",
            ),
            ("gopher://x/y", "not a channel kind"),
            ("hooks.example.com/x", "not a channel URI"),
            (
                "webhook+https://hooks.example.com/x?secret=secret:a&secret=secret:b",
                "twice",
            ),
            (
                "webhook+https://hooks.example.com/x?secret=secret:a&secret_env=X",
                "not both",
            ),
        ];
        for (uri, needle) in cases {
            let e = Channel::parse(uri)
                .err()
                .unwrap_or_else(|| panic!("{uri} was accepted"))
                .to_string();
            assert!(e.contains(needle), "{uri}: {e}");
        }
    }

    #[test]
    fn webhook_targets_keep_their_own_query_but_not_sauves() {
        let c = Channel::parse(
            "webhook+https://hooks.example.com/in?team=ops&secret=secret:hook&events=run.failed,backup.stale",
        )
        .unwrap();
        let ChannelKind::Webhook { target, secret } = &c.kind else {
            panic!()
        };
        assert_eq!(target.url, "https://hooks.example.com/in?team=ops");
        assert_eq!(target.port, Some(443));
        assert!(matches!(secret, Some(Credential::Secret(n)) if n.as_str() == "hook"));
        assert_eq!(
            c.events,
            Some(vec![EventKind::RunFailed, EventKind::BackupStale])
        );
    }

    #[test]
    fn which_events_each_channel_hears() {
        use EventKind::*;
        let hook = Channel::parse("webhook+https://h.example/x").unwrap();
        let ping = Channel::parse("ping+https://hc-ping.com/x").unwrap();
        let only = Channel::parse("ntfy://ntfy.sh/t?events=run.succeeded").unwrap();
        // (event, webhook default, ping default, events=run.succeeded)
        let table = [
            (RunStarted, false, true, false),
            (RunSucceeded, false, true, true),
            (RunFailed, true, true, false),
            (RunRecovered, true, false, false),
            (BackupStale, true, false, false),
            (VerifyFailed, true, false, false),
            (RetentionRefused, true, false, false),
            (Test, true, true, true),
        ];
        assert_eq!(table.len(), EventKind::ALL.len());
        for (e, h, p, o) in table {
            assert_eq!(hook.wants(e), h, "webhook {e}");
            assert_eq!(ping.wants(e), p, "ping {e}");
            assert_eq!(only.wants(e), o, "events= {e}");
        }
        for e in EventKind::ALL {
            assert_eq!(e.as_str().parse::<EventKind>(), Ok(e));
            assert_eq!(
                serde_json::to_string(&e).unwrap(),
                format!("\"{}\"", e.as_str())
            );
        }
    }

    #[test]
    fn smtp_hosts_are_read_as_the_resolver_reads_them() {
        for (uri, host) in [
            ("smtp://127.1?from=a@x.test&to=b@x.test", "127.0.0.1"),
            ("smtp://0x7f.1?from=a@x.test&to=b@x.test", "127.0.0.1"),
            ("smtp://2130706433?from=a@x.test&to=b@x.test", "127.0.0.1"),
            (
                "smtp://Mail.Example.COM?from=a@x.test&to=b@x.test",
                "mail.example.com",
            ),
            ("smtp://[::1]?from=a@x.test&to=b@x.test", "::1"),
        ] {
            let c = Channel::parse(uri).unwrap();
            assert_eq!(c.host(), Some(host), "{uri}");
        }
    }

    #[test]
    fn smtp_defaults_and_plaintext() {
        let c = Channel::parse("smtp://mail.example.com?from=a@x.test&to=b@x.test").unwrap();
        assert!(matches!(
            c.kind,
            ChannelKind::Smtp {
                port: 587,
                tls: SmtpTls::Starttls,
                ..
            }
        ));
        assert!(!c.is_plaintext());
        let c =
            Channel::parse("smtp://mail.example.com?from=a@x.test&to=b@x.test&tls=tls").unwrap();
        assert!(matches!(c.kind, ChannelKind::Smtp { port: 465, .. }));
        let c = Channel::parse("smtp://relay.internal?from=a@x.test&to=b@x.test&tls=none").unwrap();
        assert!(matches!(c.kind, ChannelKind::Smtp { port: 25, .. }) && c.is_plaintext());
        assert!(
            Channel::parse("webhook+http://127.0.0.1:1/x")
                .unwrap()
                .is_plaintext()
        );
        assert!(!Channel::parse("slack://secret:s").unwrap().is_plaintext());
    }
}
