//! The job cards: each job at a glance. Its state (healthy, failing since,
//! stale, never succeeded) by the watchdog's own rules
//! (`policy::alerts::status`), its last 30 days and newest backups as
//! pictures, when it runs next, what its last good and proven backups are,
//! where it tells, what it keeps.

use super::pictures::{self, Spark, Strip};
use super::proof;
use super::retention::{DestinationRetention, retention_words};
use super::words;
use crate::domain::{DestinationSpec, Run, SourceSpec};
use crate::policy::alerts::{self, Health};
use crate::server::i18n::{Arg, Lang, format};
use crate::service::{Sauve, ServiceError};
use crate::store::{JobGlance, StoredJob};
use crate::store::{RecentBackup, RunDay};
use jiff::Timestamp;
use std::collections::HashMap;

pub(super) struct Channel {
    pub(super) uri: String,
    /// "Send a test to …", for a screen reader.
    pub(super) test_label: String,
}

pub(super) struct JobCard {
    pub(super) name: String,
    /// `healthy`, `failing`, `stale` or `never`.
    pub(super) status_class: &'static str,
    pub(super) status_words: String,
    pub(super) strip: Strip,
    pub(super) size_spark: Option<Spark>,
    pub(super) duration_spark: Option<Spark>,
    pub(super) source_kind: String,
    pub(super) source: String,
    pub(super) destinations: Vec<String>,
    pub(super) schedule: String,
    pub(super) timezone: String,
    pub(super) schedule_words: String,
    pub(super) next_run: String,
    pub(super) last_run: String,
    pub(super) last_state: String,
    pub(super) last_good: String,
    pub(super) stale: bool,
    pub(super) active_run: String,
    /// The job's retention in words ("Keeps 14 daily, 8 weekly; trash 48h").
    pub(super) retention_words: String,
    /// Destinations written with their own `retention` table, and its words.
    pub(super) destination_retention: Vec<DestinationRetention>,
    /// The job's own channels (URIs: names of secrets, never values).
    pub(super) notify: Vec<Channel>,
    /// "stale after 26h without a backup", or empty when nothing is expected.
    pub(super) max_age_words: String,
    /// How old the newest proven-restorable backup is, and how it was proven.
    pub(super) proof: proof::JobProof,
}

/// What every card is drawn from, read once for the page.
pub(super) struct Inputs<'a> {
    pub(super) lang: Lang,
    pub(super) sauve: &'a Sauve,
    /// Each job's rows of the trends, and the strip's days in words.
    pub(super) days: HashMap<&'a str, &'a [RunDay]>,
    pub(super) recent: HashMap<&'a str, &'a [RecentBackup]>,
    pub(super) day_labels: Vec<String>,
    pub(super) today: i64,
    pub(super) now: Timestamp,
}

pub(super) async fn card(
    i: &Inputs<'_>,
    stored: StoredJob,
    glance: JobGlance,
    health: Option<&Health>,
) -> Result<JobCard, ServiceError> {
    let (lang, now) = (i.lang, i.now);
    let valid = stored.spec.validate().ok();
    let last = glance.last_run.as_ref();
    let last_good_at = glance.last_good_at.map(crate::store::ts);
    let schedule = valid.as_ref().and_then(|j| j.schedule.clone());
    let max_age = valid.as_ref().and_then(|j| j.max_age_ms(now));
    // The health the alerting folded; a job it has not seen yet counts from
    // its runs.
    // The health the alerting folded; a job it has not seen yet counts from
    // its runs.
    let health = health.cloned().unwrap_or_else(|| Health {
        last_good_at: glance.last_good_at,
        ..Health::default()
    });
    let created = stored.created_at.as_millisecond();
    let now_ms = now.as_millisecond();
    let (status_class, status_words) =
        words::status(lang, alerts::status(&health, created, max_age, now_ms));
    let tz = stored.spec.timezone.clone().unwrap_or_else(|| "UTC".into());
    let next_run = next_run(lang, &glance, &tz);
    let (size_spark, duration_spark) = pictures::backup_sparks(
        lang,
        &stored.name,
        i.recent
            .get(stored.name.as_str())
            .copied()
            .unwrap_or_default(),
    );
    Ok(JobCard {
        status_class,
        status_words,
        strip: pictures::strip(
            lang,
            &stored.name,
            i.days
                .get(stored.name.as_str())
                .copied()
                .unwrap_or_default(),
            i.today,
            &i.day_labels,
        ),
        size_spark,
        duration_spark,
        source_kind: valid
            .as_ref()
            .map(|j| j.source.kind())
            .unwrap_or("invalid")
            .to_string(),
        source: match &stored.spec.source {
            SourceSpec::Uri(u) => u.clone(),
            SourceSpec::Command(c) => c.command.join(" "),
        },
        destinations: stored.spec.destination_uris().map(String::from).collect(),
        schedule: stored.spec.schedule.clone().unwrap_or_default(),
        timezone: tz,
        schedule_words: schedule
            .map(|s| words::schedule(lang, &s))
            .unwrap_or_else(|| lang.t("only-on-demand")),
        next_run,
        last_run: last
            .map(|r| last_run(lang, r, now))
            .unwrap_or_else(|| lang.t("never")),
        last_state: last.map(|r| r.state.to_string()).unwrap_or_default(),
        last_good: last_good_at
            .map(|t| format::ago(lang, t, now))
            .unwrap_or_else(|| lang.t("never")),
        // Also while failing: the failure says why, this says for how long.
        stale: alerts::stale_since(&health, created, max_age, now_ms).is_some(),
        active_run: glance.active_run.clone().unwrap_or_default(),
        retention_words: retention_words(lang, stored.spec.retention.as_ref()),
        destination_retention: destination_retention(lang, &stored),
        notify: stored
            .spec
            .notify
            .iter()
            .map(|c| Channel {
                uri: c.clone(),
                test_label: lang.ta("send-test-label", &[("channel", Arg::S(c))]),
            })
            .collect(),
        max_age_words: max_age
            .map(|ms| lang.ta("stale-after", &[("span", Arg::S(&words::duration(ms)))]))
            .unwrap_or_default(),
        proof: proof::of_job(
            lang,
            i.sauve,
            &glance,
            valid
                .as_ref()
                .and_then(|j| j.verify.as_ref())
                .is_some_and(|v| v.test_restore),
            now,
        )
        .await?,
        name: stored.name,
    })
}

/// When the schedule fires next, in the job's time zone.
fn next_run(lang: Lang, glance: &JobGlance, tz: &str) -> String {
    match glance.next_fire_at.map(crate::store::ts) {
        Some(t) => match jiff::tz::TimeZone::get(tz) {
            Ok(z) => format::zoned(lang, t, &z),
            Err(_) => format::when(lang, t),
        },
        None => "—".into(),
    }
}

/// "failed 3 h ago".
fn last_run(lang: Lang, r: &Run, now: Timestamp) -> String {
    let at = r.finished_at.or(r.started_at).unwrap_or(r.queued_at);
    lang.ta(
        "run-ago",
        &[
            ("state", Arg::S(&lang.t(&format!("state-{}", r.state)))),
            ("ago", Arg::S(&format::ago(lang, at, now))),
        ],
    )
}

/// Destinations written with their own `retention` table: its rules replace
/// the job's; min_keep and trash_for are the job's unless written there.
fn destination_retention(lang: Lang, stored: &StoredJob) -> Vec<DestinationRetention> {
    stored
        .spec
        .destinations
        .iter()
        .filter_map(|d| match d {
            DestinationSpec::Table(t) => t.retention.as_ref().map(|own| {
                let job = stored.spec.retention.clone().unwrap_or_default();
                DestinationRetention {
                    uri: t.uri.clone(),
                    words: retention_words(lang, Some(&job.override_with(own))),
                }
            }),
            DestinationSpec::Uri(_) => None,
        })
        .collect()
}
