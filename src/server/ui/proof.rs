//! What the page shows as proof that backups restore: on each job card, how
//! old its newest proven backup is (verified, and test-restored when the job
//! asks for test restores) and how its last verification ended; on each
//! backup row, what its last test restore found.

use crate::domain::{Backup, RunKind, RunState};
use crate::server::i18n::{Arg, Lang, format};
use crate::service::{Sauve, ServiceError};
use crate::store::{BackupFilter, JobGlance};
use jiff::Timestamp;

/// A job card's proof lines.
pub(super) struct JobProof {
    /// "2 h old: backup 01ab…, verified …, test-restored …, 1,203 rows", or why none.
    pub newest: String,
    /// Whether any backup is proven.
    pub proven: bool,
    /// "test restore succeeded 1 h ago", "verify failed …: why", or empty.
    pub last_check: String,
    pub last_check_state: String,
}

pub(super) async fn of_job(
    lang: Lang,
    sauve: &Sauve,
    glance: &JobGlance,
    wants_test_restore: bool,
    now: Timestamp,
) -> Result<JobProof, ServiceError> {
    let proven = match (wants_test_restore, &glance.tested) {
        (false, _) => glance.verified.clone(),
        (true, Some(b)) if b.test_restore.as_ref().is_some_and(|r| r.ok) => Some(b.clone()),
        (true, None) => None,
        // The newest test restore failed: an older backup may still be
        // proven. Rare, so read on only then.
        (true, Some(_)) => sauve
            .backups(&BackupFilter {
                job: Some(glance.job.clone()),
                limit: 200,
                ..Default::default()
            })
            .await?
            .into_iter()
            .filter(|b| b.damaged_at.is_none() && b.verified_at.is_some())
            .find(|b| b.test_restore.as_ref().is_some_and(|r| r.ok)),
    };
    let newest = match &proven {
        Some(b) => {
            let ago = |t| format::ago(lang, t, now);
            let mut how = vec![lang.ta(
                "proof-verified",
                &[("ago", Arg::S(&ago(b.verified_at.unwrap_or(b.created_at))))],
            )];
            if let (Some(t), Some(r)) = (b.test_restored_at, &b.test_restore) {
                how.push(lang.ta("proof-tested", &[("ago", Arg::S(&ago(t)))]));
                how.push(rows_words(lang, r));
            }
            lang.ta(
                "proof-newest",
                &[
                    ("age", Arg::S(&age(lang, b.created_at, now))),
                    ("id", Arg::S(&b.id[..b.id.len().min(10)])),
                    ("how", Arg::S(&how.join(", "))),
                ],
            )
        }
        None if wants_test_restore => lang.t("proof-none-tested"),
        None => lang.t("proof-none"),
    };
    // The check that ended last, of the newest verify and test restore.
    let last = glance.checks.iter().max_by_key(|r| r.finished_at);
    let (last_check, last_check_state) = match last {
        None => (String::new(), String::new()),
        Some(r) => {
            let what = lang.t(if r.kind == RunKind::TestRestore {
                "check-test-restore"
            } else {
                "check-verify"
            });
            let at = r
                .finished_at
                .map(|t| format::ago(lang, t, now))
                .unwrap_or_default();
            let state = lang.t(&format!("state-{}", r.state));
            let words = match (r.state, &r.error) {
                (RunState::Succeeded, _) => lang.ta(
                    "check-succeeded",
                    &[("what", Arg::S(&what)), ("ago", Arg::S(&at))],
                ),
                (_, Some(e)) => lang.ta(
                    "check-ended-error",
                    &[
                        ("what", Arg::S(&what)),
                        ("state", Arg::S(&state)),
                        ("ago", Arg::S(&at)),
                        ("error", Arg::S(e)),
                    ],
                ),
                (_, None) => lang.ta(
                    "check-ended",
                    &[
                        ("what", Arg::S(&what)),
                        ("state", Arg::S(&state)),
                        ("ago", Arg::S(&at)),
                    ],
                ),
            };
            (
                lang.ta("last-check", &[("words", Arg::S(&words))]),
                r.state.to_string(),
            )
        }
    };
    Ok(JobProof {
        newest,
        proven: proven.is_some(),
        last_check,
        last_check_state,
    })
}

/// A backup row's test-restore badge (`test-restored`, `test-failed`, or
/// empty: its class) and what it found.
pub(super) fn tested(lang: Lang, b: &Backup) -> (&'static str, String) {
    match (&b.test_restore, b.test_restored_at) {
        (Some(r), Some(t)) if r.ok => ("test-restored", format::at(lang, t, &rows_words(lang, r))),
        (Some(r), Some(t)) => (
            "test-failed",
            format::at(
                lang,
                t,
                &r.error
                    .clone()
                    .unwrap_or_else(|| lang.t("test-did-not-pass")),
            ),
        ),
        _ => ("", String::new()),
    }
}

fn rows_words(lang: Lang, r: &crate::domain::proof::TestRestoreReport) -> String {
    let n = |v: usize| Arg::N(i64::try_from(v).unwrap_or(i64::MAX));
    match &r.files {
        Some(f) => lang.ta("proof-files", &[("n", n(f.files as usize))]),
        None => lang.ta(
            "proof-tables",
            &[
                ("tables", n(r.tables.len())),
                ("rows", n(r.total_rows() as usize)),
            ],
        ),
    }
}

/// How old a backup is, in words ("2 h", "3 days").
fn age(lang: Lang, t: Timestamp, now: Timestamp) -> String {
    let ms = (now.as_millisecond() - t.as_millisecond()).max(0);
    if ms < 60_000 {
        return lang.t("proof-under-a-minute");
    }
    // Whole units, as before: "3 h", not "3 h 20 min".
    let unit = match ms {
        ms if ms < 3_600_000 => 60_000,
        ms if ms < 86_400_000 => 3_600_000,
        _ => 86_400_000,
    };
    format::span(lang, ms / unit * unit)
}
