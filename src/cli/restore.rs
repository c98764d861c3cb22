//! `sauve verify` and `sauve restore`: both are runs (kind `verify`,
//! `restore`) executed now by this process, leased like any run; Ctrl-C
//! cancels a restore and leaves the target as it was.

use super::args::{KeyArgs, WhichBackup};
use super::output;
use sauve::domain::human_bytes;
use sauve::service::{Actor, Sauve, Stopper};

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
