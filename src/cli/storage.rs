//! `sauve storage check|sweep` and `sauve backup list --dest`: a destination
//! on its own, without the metadata store. When the store is there, its
//! secrets are used (within their bindings); when it is lost, destinations
//! that name variables of the environment still open.

use super::args::StorageCommand;
use super::output::{json, print_backups};
use sauve::domain::Keyring;
use sauve::service::{Config, Sauve};

/// The operator's secrets if the metadata store exists, else none.
async fn keys(config: &Config) -> Keyring {
    let store_exists = config.database_url.is_some() || config.data_dir.join("sauve.db").exists();
    if !store_exists {
        return Keyring::default();
    }
    match Sauve::open(config).await {
        Ok(sauve) => sauve.keyring().await.unwrap_or_default(),
        Err(e) => {
            eprintln!(
                "warning: the metadata store cannot be opened, so no secret:NAME can be used: {e}"
            );
            Keyring::default()
        }
    }
}

pub(super) async fn list_destination(
    config: &Config,
    dest: &str,
    job: Option<&str>,
    as_json: bool,
) -> anyhow::Result<()> {
    let (mut backups, problems) = Sauve::list_destination(dest, &keys(config).await).await?;
    if let Some(job) = job {
        backups.retain(|b| b.job == job);
    }
    for p in &problems {
        eprintln!("warning: {p}");
    }
    print_backups(&backups, as_json)
}

pub(super) async fn command(config: &Config, cmd: StorageCommand) -> anyhow::Result<()> {
    match cmd {
        StorageCommand::Reconcile { .. } => {
            unreachable!("reconcile opens the metadata store: cli/mod.rs sends it to retention.rs")
        }
        StorageCommand::Check { uri, json: as_json } => {
            let report = Sauve::check_destination(&uri, &keys(config).await).await?;
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
            let sweep =
                Sauve::sweep_destination(&uri, older_than, dry_run, &keys(config).await).await?;
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
