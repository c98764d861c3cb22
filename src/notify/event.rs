//! What a channel is told: the event as JSON (a webhook's body, the same for
//! every attempt) and its renderings for people (a subject, plain text,
//! HTML), which every channel kind shares.

use crate::domain::EventKind;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// How many of a run's last log lines an event carries.
pub const LOG_TAIL_LINES: usize = 20;
/// …and at most this many bytes of them.
pub const LOG_TAIL_BYTES: usize = 4096;

/// `{ "type", "timestamp", "data": { … } }`: the documented webhook body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Event {
    #[serde(rename = "type")]
    #[schemars(with = "String")]
    pub kind: EventKind,
    #[schemars(with = "String")]
    pub timestamp: Timestamp,
    pub data: EventData,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EventData {
    pub job: String,
    pub run_id: Option<String>,
    /// The run's kind (`backup`, `verify`, `prune`, …).
    pub kind: Option<String>,
    /// The run's final state.
    pub state: Option<String>,
    pub error: Option<String>,
    /// The last lines of the run's log.
    pub log_tail: Option<String>,
    pub links: Links,
    /// For `run.failed` and `run.recovered`: the streak.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streak: Option<StreakInfo>,
    /// For `backup.stale`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stale: Option<StaleInfo>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Links {
    /// The run in the API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// The dashboard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dashboard: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StreakInfo {
    #[schemars(with = "String")]
    pub since: Timestamp,
    /// Failed runs in the streak so far.
    pub failures: u32,
    /// 0 for the alert that opened it, then 1, 2, … for reminders.
    pub reminder: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StaleInfo {
    /// The last stored backup; None when the job never stored one.
    #[schemars(with = "Option<String>")]
    pub last_backup_at: Option<Timestamp>,
    pub max_age_secs: i64,
    pub reminder: u32,
}

/// The last lines of a log, at most [`LOG_TAIL_LINES`] and [`LOG_TAIL_BYTES`].
pub fn log_tail(log: &str) -> Option<String> {
    let lines: Vec<&str> = log.lines().collect();
    let tail = lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n");
    let mut start = tail.len().saturating_sub(LOG_TAIL_BYTES);
    while !tail.is_char_boundary(start) {
        start += 1;
    }
    let tail = tail[start..].trim();
    (!tail.is_empty()).then(|| tail.to_string())
}

fn ago(since: Timestamp, now: Timestamp) -> String {
    let secs = now.duration_since(since).as_secs().max(0);
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

impl Event {
    /// One line: what happened to which job.
    pub fn subject(&self) -> String {
        let d = &self.data;
        let what = match self.kind {
            EventKind::RunStarted => "backup started".to_string(),
            EventKind::RunSucceeded => "backup succeeded".to_string(),
            EventKind::RunFailed => match &d.streak {
                Some(s) if s.reminder > 0 => {
                    format!("still failing ({} failed runs)", s.failures)
                }
                _ if d.state.as_deref() == Some("partial") => {
                    "backup partly failed (a destination did not get it)".to_string()
                }
                _ => format!("{} failed", d.kind.as_deref().unwrap_or("run")),
            },
            EventKind::RunRecovered => "backups work again".to_string(),
            EventKind::BackupStale => match &d.stale {
                Some(s) => format!(
                    "no backup for {}",
                    s.last_backup_at
                        .map_or("ever".to_string(), |t| ago(t, self.timestamp))
                ),
                None => "no recent backup".to_string(),
            },
            EventKind::VerifyFailed => "verification failed".to_string(),
            EventKind::RetentionRefused => "retention refused to run".to_string(),
            EventKind::Test => "test notification".to_string(),
        };
        format!("[Sauve] {}: {what}", d.job)
    }

    /// Plain text for people: the subject, then the facts, then the log tail.
    pub fn text(&self) -> String {
        let d = &self.data;
        let mut out = vec![self.subject(), String::new()];
        let mut fact = |k: &str, v: String| out.push(format!("{k}: {v}"));
        fact("job", d.job.clone());
        if let Some(r) = &d.run_id {
            fact(
                "run",
                format!(
                    "{r} ({} {})",
                    d.kind.as_deref().unwrap_or("run"),
                    d.state.as_deref().unwrap_or("")
                )
                .trim_end()
                .to_string(),
            );
        }
        if let Some(e) = &d.error {
            fact("error", e.clone());
        }
        if let Some(s) = &d.streak {
            fact(
                "failing since",
                format!("{} ({} failed runs)", s.since, s.failures),
            );
        }
        if let Some(s) = &d.stale {
            fact(
                "last backup",
                s.last_backup_at
                    .map_or("never".to_string(), |t| t.to_string()),
            );
            fact("expected within", format!("{}s (max_age)", s.max_age_secs));
        }
        if self.kind == EventKind::Test {
            fact(
                "note",
                "this is a test from Sauve: the channel works".to_string(),
            );
        }
        if let Some(l) = &d.links.run {
            fact("details", l.clone());
        }
        if let Some(l) = &d.links.dashboard {
            fact("dashboard", l.clone());
        }
        if let Some(t) = &d.log_tail {
            out.push(String::new());
            out.push("last lines of the log:".to_string());
            out.push(t.clone());
        }
        out.join("\n")
    }

    /// The same as HTML, every value escaped.
    pub fn html(&self) -> String {
        let text = self.text();
        let (head, log) = match text.split_once("\nlast lines of the log:\n") {
            Some((h, l)) => (h.to_string(), Some(l.to_string())),
            None => (text, None),
        };
        let mut lines = head.lines();
        let subject = lines.next().unwrap_or_default();
        let mut html = format!("<h2>{}</h2>\n<ul>\n", escape(subject));
        for l in lines.filter(|l| !l.is_empty()) {
            match l.split_once(": ") {
                Some((k, v)) => html.push_str(&format!(
                    "<li><strong>{}</strong>: {}</li>\n",
                    escape(k),
                    escape(v)
                )),
                None => html.push_str(&format!("<li>{}</li>\n", escape(l))),
            }
        }
        html.push_str("</ul>\n");
        if let Some(log) = log {
            html.push_str(&format!(
                "<p>Last lines of the log:</p>\n<pre>{}</pre>\n",
                escape(&log)
            ));
        }
        html
    }
}

pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: EventKind) -> Event {
        Event {
            kind,
            timestamp: "2026-12-02T10:00:00Z".parse().unwrap(),
            data: EventData {
                job: "app-db".into(),
                run_id: Some("01run".into()),
                kind: Some("backup".into()),
                state: Some("failed".into()),
                error: Some("pg_dump: <could not connect> & gave up".into()),
                log_tail: Some("line 1\nline 2".into()),
                ..Default::default()
            },
        }
    }

    #[test]
    fn subjects_say_what_happened_to_which_job() {
        let cases = [
            (EventKind::RunFailed, "[Sauve] app-db: backup failed"),
            (
                EventKind::RunRecovered,
                "[Sauve] app-db: backups work again",
            ),
            (EventKind::BackupStale, "[Sauve] app-db: no recent backup"),
            (
                EventKind::VerifyFailed,
                "[Sauve] app-db: verification failed",
            ),
            (EventKind::Test, "[Sauve] app-db: test notification"),
        ];
        for (k, want) in cases {
            assert_eq!(event(k).subject(), want);
        }
        let mut e = event(EventKind::BackupStale);
        e.data.stale = Some(StaleInfo {
            last_backup_at: Some("2026-11-30T10:00:00Z".parse().unwrap()),
            max_age_secs: 93_600,
            reminder: 0,
        });
        assert_eq!(e.subject(), "[Sauve] app-db: no backup for 2d");
    }

    #[test]
    fn text_and_html_carry_the_error_and_the_log_escaped() {
        let e = event(EventKind::RunFailed);
        let t = e.text();
        assert!(t.contains("error: pg_dump: <could not connect>") && t.ends_with("line 1\nline 2"));
        let h = e.html();
        assert!(h.contains("&lt;could not connect&gt; &amp; gave up"), "{h}");
        assert!(h.contains("<pre>line 1\nline 2</pre>"));
        assert!(!h.contains("<could"));
    }

    #[test]
    fn log_tails_keep_the_last_lines() {
        let log: String = (1..=50).map(|i| format!("l{i}\n")).collect();
        let tail = log_tail(&log).unwrap();
        assert!(tail.starts_with("l31\n") && tail.ends_with("l50"), "{tail}");
        assert_eq!(log_tail("  \n"), None);
        let long = "é".repeat(10_000);
        assert!(log_tail(&long).unwrap().len() <= LOG_TAIL_BYTES);
    }

    #[test]
    fn the_body_has_the_documented_shape() {
        let v = serde_json::to_value(event(EventKind::RunFailed)).unwrap();
        assert_eq!(v["type"], "run.failed");
        assert_eq!(v["timestamp"], "2026-12-02T10:00:00Z");
        for k in [
            "job", "run_id", "kind", "state", "error", "log_tail", "links",
        ] {
            assert!(v["data"].get(k).is_some(), "data.{k}");
        }
    }
}
