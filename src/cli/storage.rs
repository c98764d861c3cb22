//! `sauve storage check|sweep` and `sauve backup list --dest`: a destination
//! on its own, without the metadata store.

use super::args::StorageCommand;
use super::output::{json, print_backups};
use sauve::service::Sauve;

pub(super) async fn list_destination(
    dest: &str,
    job: Option<&str>,
    as_json: bool,
) -> anyhow::Result<()> {
    let (mut backups, problems) = Sauve::list_destination(dest).await?;
    if let Some(job) = job {
        backups.retain(|b| b.job == job);
    }
    for p in &problems {
        eprintln!("warning: {p}");
    }
    print_backups(&backups, as_json)
}

pub(super) async fn command(cmd: StorageCommand) -> anyhow::Result<()> {
    match cmd {
        StorageCommand::Check { uri, json: as_json } => {
            let report = Sauve::check_destination(&uri).await?;
            if as_json {
                return json(&report);
            }
            let steps: Vec<String> = report
                .steps
                .iter()
                .map(|(op, ms)| format!("{op} {ms} ms"))
                .collect();
            println!("{} works: {}", report.destination, steps.join(", "));
        }
        StorageCommand::Sweep {
            uri,
            older_than,
            dry_run,
            json: as_json,
        } => {
            let sweep = Sauve::sweep_destination(&uri, older_than, dry_run).await?;
            if as_json {
                return json(&sweep);
            }
            let verb = if dry_run { "would abort" } else { "aborted" };
            for u in &sweep.uploads {
                println!("{verb} {} (started {})", u.key, u.initiated);
            }
            println!(
                "{}: {} upload(s) {verb}, {} pending now",
                sweep.destination,
                sweep.uploads.len(),
                sweep.remaining
            );
        }
    }
    Ok(())
}
