//! `sauve run list|show|log|cancel`: the runs of every kind, queued, running
//! and finished.

use super::args::RunCommand;
use super::output;
use sauve::domain::human_bytes;
use sauve::service::{Actor, Sauve};
use sauve::store::{CancelOutcome, RunFilter};

pub(super) async fn command(sauve: &Sauve, cmd: RunCommand) -> anyhow::Result<()> {
    match cmd {
        RunCommand::List {
            job,
            state,
            kind,
            limit,
            json,
        } => {
            let runs = sauve
                .runs(&RunFilter {
                    job,
                    state,
                    kind,
                    limit,
                    before_id: None,
                })
                .await?;
            if json {
                output::json(&runs)?;
            } else {
                println!(
                    "{:<26} {:<20} {:<8} {:<9} {:<10} {:<20} {:>10}",
                    "ID", "JOB", "KIND", "TRIGGER", "STATE", "QUEUED", "SIZE"
                );
                for r in runs {
                    println!(
                        "{:<26} {:<20} {:<8} {:<9} {:<10} {:<20} {:>10}",
                        r.id,
                        r.job,
                        r.kind,
                        r.trigger,
                        r.state,
                        r.queued_at.strftime("%Y-%m-%d %H:%M:%S").to_string(),
                        human_bytes(r.bytes_out as u64)
                    );
                }
            }
        }
        RunCommand::Cancel { id } => {
            let (run, outcome) = sauve.cancel_run(&Actor::cli(), &id).await?;
            match outcome {
                CancelOutcome::Cancelled => println!("run {} cancelled", run.id),
                CancelOutcome::Requested => {
                    println!(
                        "run {} is running: its worker stops it within a few seconds",
                        run.id
                    )
                }
                CancelOutcome::AlreadyFinished(state) => {
                    println!("run {} already finished: {state}", run.id)
                }
            }
        }
        RunCommand::Show { id, json } => {
            let run = sauve.run(&id).await?;
            if json {
                output::json(&run)?;
            } else {
                println!(
                    "{} run {} of job {} ({}): {}",
                    run.kind, run.id, run.job, run.trigger, run.state
                );
                println!("  queued   {}", run.queued_at);
                if let Some(t) = run.started_at {
                    println!("  started  {t}");
                }
                if let Some(t) = run.finished_at {
                    println!("  finished {t}");
                }
                println!(
                    "  read {}, stored {}",
                    human_bytes(run.bytes_in as u64),
                    human_bytes(run.bytes_out as u64)
                );
                if let Some(e) = &run.error {
                    println!("  error: {e}");
                }
                if !run.log.is_empty() {
                    println!("log:\n{}", run.log);
                }
            }
        }
        RunCommand::Log { id, follow } => log(sauve, &id, follow).await?,
    }
    Ok(())
}

/// Prints a run's log; with `follow`, what each attempt adds (a retry, the
/// final outcome) until the run ends. The log is written when an attempt
/// ends: `--follow` says what the run is doing meanwhile on stderr.
async fn log(sauve: &Sauve, id: &str, follow: bool) -> anyhow::Result<()> {
    let mut run = sauve.run(id).await?;
    let mut shown = 0;
    let mut said = None;
    loop {
        if run.log.len() > shown {
            // A log capped in the middle is shown again whole.
            let from = if run.log.is_char_boundary(shown) {
                shown
            } else {
                0
            };
            print!("{}", &run.log[from..]);
            if !run.log.ends_with('\n') {
                println!();
            }
            shown = run.log.len();
        }
        if !follow || run.state.is_finished() {
            if follow {
                eprintln!("run {} {}", run.id, run.state);
            }
            return Ok(());
        }
        if said != Some(run.state) {
            eprintln!("run {} is {}; waiting for it to end…", run.id, run.state);
            said = Some(run.state);
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        run = sauve.run(&run.id).await?;
    }
}
