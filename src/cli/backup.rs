//! `sauve backup run|list|download`: back up now (in the foreground, or
//! queued for the workers), list what is stored, fetch an artifact as stored.

use super::args::BackupCommand;
use super::output;
use sauve::domain::{RunState, human_bytes};
use sauve::pipeline::Progress;
use sauve::service::{Actor, Sauve, ServiceError, Stopper};
use sauve::store::BackupFilter;

pub(super) async fn command(sauve: &Sauve, cmd: BackupCommand) -> anyhow::Result<()> {
    let actor = Actor::cli();
    match cmd {
        BackupCommand::Run {
            job,
            queue: true,
            idempotency_key,
            json,
        } => {
            let (run, created) = sauve
                .enqueue(&actor, &job, idempotency_key.as_deref())
                .await?;
            if json {
                // The shape of POST /api/admin/backups.
                output::json(&serde_json::json!({
                    "run_id": run.id, "state": run.state, "created": created
                }))?;
            } else {
                println!("{}", run.id);
                if !created {
                    eprintln!("  (already queued under this idempotency key)");
                }
            }
        }
        BackupCommand::Run { job, json, .. } => {
            let progress = Progress::default();
            let bar = output::progress_bar(&progress, &job);
            let stopper = Stopper::new(progress);
            let on_interrupt = output::cancel_on_ctrl_c(&stopper, "backup");
            let result = sauve.run_job_now(&actor, &job, stopper).await;
            on_interrupt.abort();
            if let Some((bar, task)) = bar {
                task.abort();
                bar.finish_and_clear();
            }
            if let (true, Err(ServiceError::Run { run_id, error, .. })) = (json, &result) {
                // Scripts get the run id of a failed run too, on stdout.
                output::json(&serde_json::json!({
                    "run_id": run_id,
                    "state": "failed",
                    "backups": [],
                    "error": error.to_string(),
                }))?;
            }
            let report = result?;
            if json {
                output::json(&serde_json::json!({
                    "run_id": report.run.id,
                    "state": report.run.state,
                    "backups": report.backups,
                    "failures": report.failures,
                    "verified": report.verified.iter().map(|v| serde_json::json!({
                        "run_id": v.id, "state": v.state, "error": v.error,
                    })).collect::<Vec<_>>(),
                    "prune": report.prune.as_ref().map(|p| serde_json::json!({
                        "run_id": p.id, "state": p.state, "error": p.error,
                    })),
                }))?;
            } else {
                for b in &report.backups {
                    println!("{}", b.id);
                    eprintln!(
                        "  stored {} ({} from {}) at {}",
                        b.key,
                        human_bytes(b.size as u64),
                        human_bytes(b.raw_size as u64),
                        b.destination
                    );
                }
                for f in &report.failures {
                    eprintln!("  FAILED at {}: {}", f.destination, f.error);
                }
                for v in &report.verified {
                    eprintln!("  read back: verify run {} {}", v.id, v.state);
                    if let Some(e) = &v.error {
                        eprintln!("    {e}");
                    }
                }
                if let Some(p) = &report.prune {
                    eprintln!("  retention: prune run {} {}", p.id, p.state);
                    if let Some(e) = &p.error {
                        eprintln!("    {e}");
                    }
                }
            }
            // A verify a server's worker took first may still be running: not a failure.
            if let Some(v) = report.verified.iter().find(|v| v.state == RunState::Failed) {
                anyhow::bail!(
                    "run {} stored its backups, but reading one back failed (verify run {}): {}",
                    report.run.id,
                    v.id,
                    v.error.as_deref().unwrap_or("see `sauve run log` for why")
                );
            }
            if !report.failures.is_empty() {
                anyhow::bail!(
                    "run {} is partial: {} of {} destinations failed",
                    report.run.id,
                    report.failures.len(),
                    report.failures.len() + report.backups.len()
                );
            }
        }
        BackupCommand::List {
            job,
            limit,
            json,
            trash: true,
            ..
        } => super::retention::trash(sauve, job.as_deref(), limit, json).await?,
        BackupCommand::Undelete { id } => {
            let b = sauve.undelete(&actor, &id).await?;
            println!("{} is back: {} at {}", b.id, b.key, b.destination);
            eprintln!(
                "  the next prune moves it to the trash again unless the policy keeps it: see `sauve retention plan {}`",
                b.job
            );
        }
        BackupCommand::List {
            job, limit, json, ..
        } => {
            let backups = sauve
                .backups(&BackupFilter {
                    job,
                    limit,
                    ..Default::default()
                })
                .await?;
            output::print_backups(&backups, json)?;
        }
        BackupCommand::Download { which, output } => {
            let r = which.reference();
            if output.as_os_str() == "-" {
                sauve
                    .download_to_writer(&actor, &r, Box::new(std::io::stdout()))
                    .await?;
            } else {
                let b = sauve.download(&actor, &r, &output).await?;
                eprintln!(
                    "wrote {} ({}, sha256 {} checked)",
                    output.display(),
                    human_bytes(b.size as u64),
                    b.sha256
                );
            }
        }
    }
    Ok(())
}
