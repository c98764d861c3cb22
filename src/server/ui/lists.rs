//! The page's lists: the newest backups with their proof badges, the trash,
//! and a page of the history by its filters, each row in the page's
//! language.

use super::DashboardQuery;
use super::proof;
use super::retention::TrashRow;
use crate::domain::{Run, RunKind, RunState};
use crate::server::i18n::{Arg, Lang, format};
use crate::service::{Sauve, ServiceError};
use crate::store::{BackupFilter, RunFilter};
use jiff::Timestamp;

pub(super) struct BackupRow {
    pub(super) id: String,
    pub(super) job: String,
    pub(super) kind: String,
    pub(super) created: String,
    pub(super) size: String,
    pub(super) sha256: String,
    pub(super) sha_short: String,
    pub(super) destination: String,
    /// `verified`, `damaged` or empty: what the last full re-read found.
    pub(super) check: &'static str,
    pub(super) check_words: String,
    /// When, and for a damaged backup what was found.
    pub(super) check_detail: String,
    /// `test-restored`, `test-failed` or empty: the last test restore.
    pub(super) tested: &'static str,
    pub(super) tested_words: String,
    /// When, and its tables and rows (or why it failed).
    pub(super) tested_detail: String,
}

pub(super) struct RunRow {
    pub(super) id: String,
    pub(super) job: String,
    pub(super) kind: String,
    pub(super) trigger: String,
    pub(super) state: String,
    pub(super) state_words: String,
    pub(super) started: String,
    pub(super) duration: String,
    pub(super) size: String,
    pub(super) error: String,
}

fn row(lang: Lang, r: &Run) -> RunRow {
    let duration = match (r.started_at, r.finished_at) {
        (Some(s), Some(f)) => format::duration(lang, f.as_millisecond() - s.as_millisecond()),
        _ => "—".into(),
    };
    RunRow {
        id: r.id.clone(),
        job: r.job.clone(),
        kind: lang.t(&format!("kind-{}", r.kind)),
        trigger: lang.t(&format!("trigger-{}", r.trigger)),
        state: r.state.to_string(),
        state_words: lang.t(&format!("state-{}", r.state)),
        started: r
            .started_at
            .map(|t| format::when(lang, t))
            .unwrap_or_else(|| "—".into()),
        duration,
        size: if r.bytes_out > 0 {
            format::bytes(lang, r.bytes_out)
        } else {
            "—".into()
        },
        error: r.error.clone().unwrap_or_default(),
    }
}

/// The History section: a page of runs, newest first, by the filters asked.
pub(super) struct History {
    pub(super) runs: Vec<RunRow>,
    pub(super) filter_job: String,
    pub(super) filter_state: String,
    pub(super) filter_kind: String,
    /// The cursor of the next (older) page of runs; empty on the last.
    pub(super) next_cursor: String,
    /// Whether this page of runs starts below the newest.
    pub(super) paged: bool,
    /// Runs a page shows.
    pub(super) limit: i64,
}

pub(super) async fn history(
    lang: Lang,
    sauve: &Sauve,
    q: DashboardQuery,
) -> Result<History, ServiceError> {
    let limit = q.limit.unwrap_or(50).clamp(1, 1000);
    let filter_state = q
        .state
        .filter(|s| s.parse::<RunState>().is_ok())
        .unwrap_or_default();
    let filter_kind = q
        .kind
        .filter(|k| k.parse::<RunKind>().is_ok())
        .unwrap_or_default();
    let filter_job = q.job.unwrap_or_default();
    let runs = sauve
        .runs(&RunFilter {
            job: (!filter_job.is_empty()).then(|| filter_job.clone()),
            state: filter_state.parse().ok(),
            kind: filter_kind.parse().ok(),
            limit: limit + 1,
            // A cursor that is not one shows the newest runs.
            before_id: crate::server::api::parse_cursor(q.cursor.clone())
                .ok()
                .flatten(),
        })
        .await?;
    let next_cursor = match runs.get(limit as usize) {
        Some(_) => runs[limit as usize - 1].id.clone(),
        None => String::new(),
    };
    Ok(History {
        runs: runs
            .iter()
            .take(limit as usize)
            .map(|r| row(lang, r))
            .collect(),
        filter_job,
        filter_state,
        filter_kind,
        next_cursor,
        paged: q.cursor.as_deref().is_some_and(|c| !c.is_empty()),
        limit,
    })
}

/// The trash, newest removals first, as many as the page shows, and
/// whether there are more.
pub(super) async fn trash_rows(
    lang: Lang,
    sauve: &Sauve,
    now: Timestamp,
) -> Result<(Vec<TrashRow>, bool), ServiceError> {
    const TRASH_SHOWN: i64 = 100;
    let mut trash: Vec<TrashRow> = sauve
        .trash(None, TRASH_SHOWN + 1)
        .await?
        .into_iter()
        .map(|t| {
            let created = format::when(lang, t.backup.created_at);
            TrashRow {
                undelete_label: lang.ta(
                    "undelete-label",
                    &[
                        ("job", Arg::S(&t.backup.job)),
                        ("created", Arg::S(&created)),
                    ],
                ),
                created,
                size: format::bytes(lang, t.backup.size),
                trashed: format::when(lang, t.trashed_at),
                purge_after: format::when(lang, t.purge_after),
                purge_due: t.purge_after <= now,
                reason: t.reason,
                purge_error: t.purge_error.unwrap_or_default(),
                id: t.backup.id,
                job: t.backup.job,
                destination: t.backup.destination,
            }
        })
        .collect();
    let more_trash = trash.len() as i64 > TRASH_SHOWN;
    trash.truncate(TRASH_SHOWN as usize);
    Ok((trash, more_trash))
}

/// The newest backups, with what their last verify and test restore found.
pub(super) async fn backup_rows(lang: Lang, sauve: &Sauve) -> Result<Vec<BackupRow>, ServiceError> {
    Ok(sauve
        .backups(&BackupFilter {
            limit: 50,
            ..Default::default()
        })
        .await?
        .into_iter()
        .map(|b| {
            let (tested, tested_detail) = proof::tested(lang, &b);
            let check = match (b.damaged_at, b.verified_at) {
                (Some(_), _) => "damaged",
                (None, Some(_)) => "verified",
                (None, None) => "",
            };
            BackupRow {
                tested,
                tested_words: if tested.is_empty() {
                    String::new()
                } else {
                    lang.t(&format!("badge-{tested}"))
                },
                tested_detail,
                check,
                check_words: if check.is_empty() {
                    String::new()
                } else {
                    lang.t(&format!("badge-{check}"))
                },
                check_detail: match (b.damaged_at, b.verified_at) {
                    (Some(t), _) => format::at(lang, t, b.verify_error.as_deref().unwrap_or("")),
                    (None, Some(t)) => format::when(lang, t),
                    (None, None) => String::new(),
                },
                sha_short: b.sha256.chars().take(12).collect(),
                created: format::when(lang, b.created_at),
                size: format::bytes(lang, b.size),
                kind: b.source_kind,
                id: b.id,
                job: b.job,
                sha256: b.sha256,
                destination: b.destination,
            }
        })
        .collect())
}
