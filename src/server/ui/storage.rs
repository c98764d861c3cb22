//! The page's Storage section: for each destination, what it holds (live
//! backups and the trash, until purged), how that changed over 90 days, and
//! for each job writing there a way to ask what retention removes next (the
//! script reads the job's retention plan when a person opens it: a plan
//! lists storage, too slow and too costly for every page load).

use super::pictures::{self, GROWTH_DAYS, Spark};
use crate::server::i18n::{Arg, Lang, format};
use crate::service::Trends;

pub(super) struct JobAtDestination {
    pub(super) job: String,
    /// "app (12 backups, 1.2 GiB)".
    pub(super) label: String,
    /// Whether the job still exists: a deleted job's backups stay in
    /// storage, and it has no retention plan to ask for.
    pub(super) exists: bool,
}

pub(super) struct DestinationRow {
    pub(super) uri: String,
    pub(super) backups: i64,
    /// Bytes held, and the same in words.
    pub(super) bytes: i64,
    pub(super) stored: String,
    pub(super) growth: Option<Spark>,
    /// "+1.2 GiB in 90 days".
    pub(super) growth_words: String,
    pub(super) jobs: Vec<JobAtDestination>,
}

/// A row per destination, in the order of their URIs.
pub(super) fn rows(
    lang: Lang,
    trends: &Trends,
    jobs: &std::collections::HashSet<&str>,
    today: i64,
) -> Vec<DestinationRow> {
    let mut out: Vec<DestinationRow> = Vec::new();
    // storage_totals come by destination, then job.
    for t in &trends.storage {
        if out.last().is_none_or(|r| r.uri != t.destination) {
            out.push(DestinationRow {
                uri: t.destination.clone(),
                backups: 0,
                bytes: 0,
                stored: String::new(),
                growth: None,
                growth_words: String::new(),
                jobs: Vec::new(),
            });
        }
        let Some(row) = out.last_mut() else { continue };
        row.backups += t.backups;
        row.bytes += t.bytes;
        let label = lang.ta(
            "next-removals",
            &[
                ("job", Arg::S(&t.job)),
                ("n", Arg::N(t.backups)),
                ("size", Arg::S(&format::bytes(lang, t.bytes))),
            ],
        );
        let exists = jobs.contains(t.job.as_str());
        row.jobs.push(JobAtDestination {
            job: t.job.clone(),
            label: if exists {
                label
            } else {
                lang.ta("job-deleted", &[("job", Arg::S(&label))])
            },
            exists,
        });
    }
    for row in &mut out {
        let total = row.bytes;
        let series = pictures::stored_by_day(total, &row.uri, &trends.storage_days, today);
        row.stored = format::bytes(lang, total);
        let first = series.first().copied().unwrap_or(0);
        row.growth_words = lang.ta(
            "growth-words",
            &[("change", Arg::S(&format::bytes_change(lang, total - first)))],
        );
        debug_assert_eq!(series.len() as i64, GROWTH_DAYS);
        row.growth = pictures::spark(lang, "growth-spark", &series, |v| format::bytes(lang, v));
    }
    out
}
