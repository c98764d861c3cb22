//! `sauve verify` and `sauve restore`: both are runs (kind `verify`,
//! `restore`) executed now by this process, leased like any run; Ctrl-C
//! cancels a restore and leaves the target as it was.

use super::args::{KeyArgs, WhichBackup};
use super::output;
use sauve::domain::human_bytes;
use sauve::runner::RunError;
use sauve::service::{Actor, Sauve, ServiceError, Stopper};

pub(super) async fn verify(
    sauve: &Sauve,
    which: &WhichBackup,
    keys: &KeyArgs,
    json: bool,
) -> anyhow::Result<()> {
    let report = sauve
        .verify(&Actor::cli(), &which.reference(), &keys.options())
        .await?;
    if json {
        return output::json(&report);
    }
    println!(
        "backup {} is good: sha256 {} ({}), {} decompressed; {}",
        report.backup_id,
        report.sha256,
        human_bytes(report.size),
        human_bytes(report.raw_size),
        report.format
    );
    Ok(())
}

/// `sauve verify --test-restore`: the report, also when it did not pass
/// (then the command fails after printing it).
pub(super) async fn test_restore(
    sauve: &Sauve,
    which: &WhichBackup,
    keys: &KeyArgs,
    json: bool,
) -> anyhow::Result<()> {
    // Ctrl-C stops it and still drops the scratch target.
    let stopper = Stopper::default();
    let on_interrupt = output::cancel_on_ctrl_c(&stopper, "test restore");
    let result = sauve
        .test_restore(&Actor::cli(), &which.reference(), &keys.options(), stopper)
        .await;
    on_interrupt.abort();
    // Restored but did not pass: the report says why, like a pass.
    let did_not_pass = match &result {
        Err(ServiceError::Run { error, .. }) => match error.as_ref() {
            RunError::TestRestore(r) => Some(r.as_ref()),
            _ => None,
        },
        _ => None,
    };
    let report = match (&result, did_not_pass) {
        (Ok(r), _) | (Err(_), Some(r)) => r,
        (Err(e), None) => {
            if json {
                // Scripts get an answer on stdout whatever went wrong.
                output::json(&serde_json::json!({
                    "ok": false,
                    "backup": null,
                    "error": e.to_string(),
                }))?;
            }
            return result.map(|_| ()).map_err(Into::into);
        }
    };
    if json {
        output::json(report)?;
    } else {
        println!(
            "backup {} {} in {} ms into {} ({}):",
            report.backup,
            if report.ok {
                "test-restored"
            } else {
                "restored but did NOT pass"
            },
            report.duration_ms,
            report.scratch,
            if report.dropped {
                "dropped"
            } else {
                "NOT dropped yet"
            }
        );
        if let Some(i) = &report.integrity {
            println!("  integrity_check: {i}");
        }
        for t in &report.tables {
            let size = t
                .bytes
                .map(|b| format!(", {}", human_bytes(b)))
                .unwrap_or_default();
            println!("  table {}: {} rows{size}", t.name, t.rows);
        }
        if let Some(f) = &report.files {
            println!("  {} files, {}", f.files, human_bytes(f.bytes));
        }
        for c in &report.checks {
            let value = c.value.as_deref().unwrap_or("-");
            let verdict = if c.ok {
                "ok"
            } else {
                c.error.as_deref().unwrap_or("failed")
            };
            println!("  check {:?}: {value} ({verdict})", c.check);
        }
        for f in &report.flags {
            println!("  flagged: {f}");
        }
    }
    result.map(|_| ()).map_err(Into::into)
}

pub(super) async fn restore(
    sauve: &Sauve,
    which: &WhichBackup,
    to: Option<&str>,
    force: bool,
    keys: &KeyArgs,
    json: bool,
) -> anyhow::Result<()> {
    let stopper = Stopper::default();
    let on_interrupt = output::cancel_on_ctrl_c(&stopper, "restore");
    let outcome = sauve
        .restore(
            &Actor::cli(),
            &which.reference(),
            to,
            force,
            &keys.options(),
            stopper,
        )
        .await;
    on_interrupt.abort();
    let outcome = outcome?;
    if json {
        return output::json(&outcome);
    }
    println!(
        "restored backup {} ({} of {}) into {}",
        outcome.backup.id, outcome.backup.job, outcome.backup.created_at, outcome.target
    );
    Ok(())
}
