//! What the page shows as proof that backups restore: on each job card, how
//! old its newest proven backup is (verified, and test-restored when the job
//! asks for test restores) and how its last verification ended; on each
//! backup row, what its last test restore found.

use crate::domain::{Backup, RunKind, RunState};
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
            let mut how = vec![format!(
                "verified {}",
                super::ago(b.verified_at.unwrap_or(b.created_at), now)
            )];
            if let (Some(t), Some(r)) = (b.test_restored_at, &b.test_restore) {
                how.push(format!("test-restored {}", super::ago(t, now)));
                how.push(rows_words(r));
            }
            format!(
                "{} old (backup {}: {})",
                age(b.created_at, now),
                &b.id[..b.id.len().min(10)],
                how.join(", ")
            )
        }
        None if wants_test_restore => {
            "none yet: no backup both verified and test-restored".to_string()
        }
        None => "none yet: no backup verified".to_string(),
    };
    // The check that ended last, of the newest verify and test restore.
    let last = glance.checks.iter().max_by_key(|r| r.finished_at);
    let (last_check, last_check_state) = match last {
        None => (String::new(), String::new()),
        Some(r) => {
            let what = if r.kind == RunKind::TestRestore {
                "test restore"
            } else {
                "verification"
            };
            let at = r
                .finished_at
                .map(|t| super::ago(t, now))
                .unwrap_or_default();
            let words = match (r.state, &r.error) {
                (RunState::Succeeded, _) => format!("{what} succeeded {at}"),
                (s, Some(e)) => format!("{what} {s} {at}: {e}"),
                (s, None) => format!("{what} {s} {at}"),
            };
            (words, r.state.to_string())
        }
    };
    Ok(JobProof {
        newest,
        proven: proven.is_some(),
        last_check,
        last_check_state,
    })
}

/// A backup row's test-restore badge (`test-restored`, `test failed`, or
/// empty) and what it found.
pub(super) fn tested(b: &Backup) -> (&'static str, String) {
    match (&b.test_restore, b.test_restored_at) {
        (Some(r), Some(t)) if r.ok => (
            "test-restored",
            format!("{}: {}", super::when(t), rows_words(r)),
        ),
        (Some(r), Some(t)) => (
            "test-failed",
            format!(
                "{}: {}",
                super::when(t),
                r.error.as_deref().unwrap_or("did not pass")
            ),
        ),
        _ => ("", String::new()),
    }
}

fn rows_words(r: &crate::domain::proof::TestRestoreReport) -> String {
    match &r.files {
        Some(f) => format!("{} files", f.files),
        None => {
            let n = r.tables.len();
            let s = if n == 1 { "" } else { "s" };
            format!("{n} table{s}, {} rows", r.total_rows())
        }
    }
}

/// How old a backup is, in words ("2 h", "3 days").
fn age(t: Timestamp, now: Timestamp) -> String {
    let secs = (now.as_second() - t.as_second()).max(0);
    match secs {
        s if s < 60 => "under a minute".into(),
        s if s < 3600 => format!("{} min", s / 60),
        s if s < 86_400 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}
