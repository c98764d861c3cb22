//! The `test_restore` kind: restore a stored backup into a scratch target
//! Sauve creates (and always drops), in one pass that also checks its
//! sha256; then take its inventory (tables and exact rows, or files), run the
//! job's checks, and compare with the previous test restore. The report goes
//! on the backup; a scratch target is written down in the store before it
//! exists, so one a dead process left is dropped by the next sweep.

use super::{Done, Output, RunError, Runner, Work, locate};
use crate::domain::proof::{self, CheckResult, CheckSpec, TestRestoreReport};
use crate::domain::{BackupLocator, DbConn, KeyNames, Keyring, RunState, Source};
use crate::pipeline::process::Cancel;
use crate::pipeline::sources::scratch::{Inventory, Scratch};
use crate::restore;
use crate::store::ScratchRow;
use std::path::PathBuf;
use std::sync::Arc;

pub(super) async fn perform(
    work: &mut Work<'_>,
    at: &BackupLocator,
    names: &KeyNames,
) -> Result<Done, RunError> {
    let runner = work.runner;
    let secrets = runner.keyring().await?;
    let located = locate(&runner.store, &secrets, at).await?;
    let keys = restore::resolve_keys(&located.manifest, names, work.job.map(|j| &j.spec))?;
    let (scratch, checks) = scratch_for(work, &located)?;
    let started = jiff::Timestamp::now();
    let clock = std::time::Instant::now();
    work.log.push(format!(
        "test restore of backup {} from {} into {}",
        located.backup.id,
        located.backup.destination,
        scratch.name()
    ));
    runner.sweep_scratch().await;
    runner
        .store
        .add_scratch(&ScratchRow {
            name: scratch.name(),
            run_id: work.claim.run.id.clone(),
            kind: scratch.kind().into(),
            location: scratch.location(),
        })
        .await?;
    let cancel = work.progress.cancel.clone();
    let outcome = restore_and_inspect(&located, keys, &scratch, &checks, &secrets, &cancel).await;
    let dropped = drop_scratch(runner, &scratch, &secrets, &mut work.log).await?;
    // Stopped (a cancel, the job's timeout): nothing was found out, so
    // nothing is kept on the backup, and a check cut short is no failure.
    if cancel.is_cancelled() {
        return Err(RunError::Cancelled);
    }
    let (inventory, checks_done) = match outcome {
        Ok(found) => found,
        Err(e) => {
            // Its bytes are wrong: the backup is damaged, as a verify would find.
            if let RunError::Restore(r) = &e {
                super::record_read(runner, &located.backup.id, Err(r)).await?;
            }
            return Err(e);
        }
    };
    super::record_read(runner, &located.backup.id, Ok(())).await?;
    let mut report = TestRestoreReport {
        ok: true,
        backup: located.backup.id.clone(),
        destination: located.backup.destination.clone(),
        started_at: started,
        duration_ms: clock.elapsed().as_millis() as u64,
        scratch: scratch.name(),
        dropped,
        integrity: inventory.integrity,
        tables: inventory.tables,
        files: inventory.files,
        checks: checks_done,
        flags: vec![],
        compared_with: None,
        error: None,
    };
    if let Some(previous) = runner
        .store
        .previous_test_restore(&located.manifest.job, &located.backup.id)
        .await?
    {
        report.flags = proof::compare(&previous, &report);
        report.compared_with = Some(previous.backup);
    }
    report.error = failure(&report);
    report.ok = report.error.is_none();
    runner
        .store
        .record_test_restore(&located.backup.id, &report)
        .await?;
    log_report(&mut work.log, &report);
    if !report.ok {
        return Err(RunError::TestRestore(Box::new(report)));
    }
    Ok(Done {
        state: RunState::Succeeded,
        bytes: (located.backup.raw_size, located.backup.size),
        error: None,
        backups: vec![],
        output: Output::TestRestore(Box::new(report)),
    })
}

/// The scratch target of this attempt and the job's checks. A database is
/// test-restored on the job's `test_restore_to`, else on the source's own
/// server; a deleted or invalid job leaves no server to use.
fn scratch_for(
    work: &Work<'_>,
    located: &super::locate::Located,
) -> Result<(Scratch, Vec<CheckSpec>), RunError> {
    let job = work.job.and_then(|j| j.spec.validate().ok());
    let kind = located.manifest.source.kind.as_str();
    let plan = job.as_ref().and_then(|j| j.verify.clone());
    let server: Option<DbConn> = plan
        .as_ref()
        .and_then(|p| p.test_restore_to.clone())
        .or_else(|| match job.as_ref().map(|j| &j.source) {
            Some(Source::Postgres(c) | Source::Mysql(c)) => Some(c.clone()),
            _ => None,
        });
    let scratch = Scratch::new(
        kind,
        server.as_ref(),
        &work.claim.run.id,
        work.claim.attempt,
        &work.runner.scratch_dir(),
    )
    .ok_or_else(|| {
        RunError::Gone(match kind {
            "command" => "a command's backup has no scratch target Sauve can make: verify it (sauve verify), or restore it with the job's restore_command".to_string(),
            _ => format!(
                "job {} is gone or not valid, so there is no {kind} server to test-restore on; restore the backup by hand (sauve restore … --to)",
                located.manifest.job
            ),
        })
    })?;
    Ok((scratch, plan.map(|p| p.checks).unwrap_or_default()))
}

/// Drops the scratch target whatever the test restore found, and forgets it
/// only once it is gone (else the next sweep tries again). Whether it went.
async fn drop_scratch(
    runner: &Runner,
    scratch: &Scratch,
    secrets: &Keyring,
    log: &mut crate::pipeline::log::RunLog,
) -> Result<bool, RunError> {
    let (s, k) = (scratch.clone(), secrets.clone());
    match blocking(move || s.drop_it(&k)).await {
        Ok(()) => {
            runner.store.remove_scratch(&scratch.name()).await?;
            Ok(true)
        }
        Err(e) => {
            log.push(format!(
                "could not drop the scratch target {} ({e}); the next sweep tries again",
                scratch.name()
            ));
            Ok(false)
        }
    }
}

/// What the run's log keeps of a report.
fn log_report(log: &mut crate::pipeline::log::RunLog, report: &TestRestoreReport) {
    for t in &report.tables {
        log.push(format!("table {}: {} rows", t.name, t.rows));
    }
    if let Some(f) = &report.files {
        log.push(format!("{} files, {} bytes", f.files, f.bytes));
    }
    for c in &report.checks {
        let verdict = if c.ok { "passed" } else { "FAILED" };
        log.push(format!("check {:?}: {verdict}", c.check));
    }
    if report.ok {
        log.push(format!(
            "backup {} restores: {} tables, {} rows; scratch {}",
            report.backup,
            report.tables.len(),
            report.total_rows(),
            if report.dropped {
                "dropped"
            } else {
                "NOT dropped yet (the next sweep drops it)"
            }
        ));
    }
}

/// Why a test restore that restored did not pass: an integrity check that
/// is not `ok`, a failed check, a flag against the previous one.
fn failure(r: &TestRestoreReport) -> Option<String> {
    let mut why = Vec::new();
    if let Some(i) = r.integrity.as_deref().filter(|i| *i != "ok") {
        why.push(format!("PRAGMA integrity_check says {i:?}"));
    }
    for c in r.checks.iter().filter(|c| !c.ok) {
        why.push(format!(
            "check {:?} failed: {}",
            c.check,
            c.error.as_deref().unwrap_or("")
        ));
    }
    why.extend(r.flags.iter().cloned());
    (!why.is_empty()).then(|| {
        format!(
            "backup {} restored but did not pass: {} (the next test restore compares with this one)",
            r.backup,
            why.join("; ")
        )
    })
}

/// Restores into the scratch target (sha256 checked on the way), then takes
/// its inventory and runs the checks, each on a blocking thread.
async fn restore_and_inspect(
    located: &super::locate::Located,
    keys: Arc<crate::pipeline::codec::Keys>,
    scratch: &Scratch,
    checks: &[CheckSpec],
    secrets: &Keyring,
    cancel: &Cancel,
) -> Result<(Inventory, Vec<CheckResult>), RunError> {
    let target = Arc::new(scratch.target());
    blocking({
        let (s, t, k) = (scratch.clone(), target.clone(), secrets.clone());
        move || {
            s.create(&k)?;
            t.prepare(false, &k).map(|_| ())
        }
    })
    .await
    .map_err(|e| RunError::Restore(Box::new(e.into())))?;
    let (feed_cancel, k) = (cancel.clone(), secrets.clone());
    restore::read_gated(
        &located.storage,
        &located.manifest,
        keys,
        cancel,
        move |input| target.restore(false, input, &feed_cancel, &k),
    )
    .await?;
    let (s, k, checks, cancel) = (
        scratch.clone(),
        secrets.clone(),
        checks.to_vec(),
        cancel.clone(),
    );
    blocking(move || {
        let inventory = s.inventory(&k)?;
        let results = checks
            .iter()
            .map(|c| run_check(&s, c, &k, &cancel))
            .collect();
        Ok((inventory, results))
    })
    .await
    .map_err(|e| RunError::Restore(Box::new(e.into())))
}

fn run_check(s: &Scratch, c: &CheckSpec, keys: &Keyring, cancel: &Cancel) -> CheckResult {
    let (value, error) = match (&c.sql, &c.command) {
        (Some(sql), _) => match s.scalar(sql, keys) {
            Ok(v) if c.passes(&v) => (Some(v), None),
            Ok(v) => {
                let want = match (c.min, c.max) {
                    (Some(a), Some(b)) => format!("between {a} and {b}"),
                    (Some(a), None) => format!("at least {a}"),
                    (None, Some(b)) => format!("at most {b}"),
                    (None, None) => "a value other than empty, 0 or false".into(),
                };
                let e = format!("it returned {v:?}, expected {want}");
                (Some(v), Some(e))
            }
            Err(e) => (None, Some(e.to_string())),
        },
        (_, Some(argv)) => match s.run_command(argv, keys, cancel) {
            Ok(()) => (Some("exit 0".into()), None),
            Err(e) => (None, Some(e.to_string())),
        },
        _ => (None, c.problem().map(String::from)),
    };
    CheckResult {
        check: c.describe(),
        ok: error.is_none(),
        value,
        error,
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, crate::pipeline::process::SourceError> + Send + 'static,
) -> Result<T, crate::pipeline::process::SourceError> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
        Err(crate::pipeline::process::SourceError::Config(format!(
            "internal error: {e}"
        )))
    })
}

impl Runner {
    /// Where SQLite and files test restores go: under the data directory,
    /// which a files source never archives.
    pub(crate) fn scratch_dir(&self) -> PathBuf {
        self.data_dir.join("scratch")
    }

    /// Drops every scratch target whose run is not running under a live
    /// lease (its process died). Failures are logged and tried again at the
    /// next sweep: on start, on the watchdog's tick, before a test restore.
    pub async fn sweep_scratch(&self) -> usize {
        let orphans = match self.store.orphan_scratch().await {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!(error = %e, "could not list scratch targets to sweep");
                return 0;
            }
        };
        if orphans.is_empty() {
            return 0;
        }
        let Ok(secrets) = self.keyring().await else {
            return 0;
        };
        let dir = self.scratch_dir();
        let mut swept = 0;
        for row in orphans {
            // A path under another instance's data directory is that
            // instance's to sweep: left alone here.
            let Some(scratch) = Scratch::from_location(&row.kind, &row.location, &dir) else {
                tracing::debug!(scratch = %row.name, "a scratch target this instance cannot reach; left for its own");
                continue;
            };
            match self.store.take_orphan_scratch(&row.name).await {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    tracing::warn!(scratch = %row.name, error = %e, "could not take a scratch target to sweep");
                    continue;
                }
            }
            let k = secrets.clone();
            let s = scratch.clone();
            match blocking(move || s.drop_it(&k)).await {
                Ok(()) => {
                    tracing::info!(scratch = %row.name, run = %row.run_id, "dropped a scratch target left by a test restore that did not finish");
                    swept += 1;
                }
                Err(e) => {
                    tracing::warn!(scratch = %row.name, error = %e, "could not drop a scratch target; the next sweep tries again");
                    // Written down again, so it is not forgotten.
                    if let Err(e) = self.store.add_scratch(&row).await {
                        tracing::warn!(scratch = %row.name, error = %e, "could not write a scratch target down again");
                    }
                }
            }
        }
        swept
    }
}
