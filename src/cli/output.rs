//! How the CLI shows things: tables for people, JSON for scripts (the same
//! shapes the API returns), a progress line on a terminal, error chains.

use sauve::domain::{JobSpec, human_bytes};
use sauve::pipeline::Progress;
use std::io::IsTerminal;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Ctrl-C stops the run (the tool is killed, the run recorded `cancelled`)
/// instead of leaving it `running` until its lease expires. Abort the handle
/// once the run is over.
pub(crate) fn cancel_on_ctrl_c(
    stopper: &sauve::service::Stopper,
    what: &'static str,
) -> tokio::task::JoinHandle<()> {
    let stopper = stopper.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("interrupted: stopping the {what}");
            stopper.cancel();
        }
    })
}

/// Prints `value` as pretty JSON on stdout.
pub(crate) fn json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// "runs every day at 02:00 (UTC); next: …" for a scheduled job.
pub(crate) fn print_next_fire(spec: &JobSpec) {
    let Ok(job) = spec.validate() else { return };
    if let Some(s) = job.schedule {
        let next = s
            .next_after(jiff::Timestamp::now())
            .and_then(|t| {
                jiff::tz::TimeZone::get(s.time_zone())
                    .ok()
                    .map(|z| t.to_zoned_datetime(z))
            })
            .map(|z| z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
            .unwrap_or_else(|| "never".into());
        println!("runs {}; next: {next}", s.describe());
    }
}

/// The error and the causes its own message does not already include (our
/// errors embed their source's text; anyhow's `{:#}` would print it twice).
pub fn error_text(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !text.contains(&c) {
            text.push_str(": ");
            text.push_str(&c);
        }
    }
    text
}

pub(crate) fn print_backups(
    backups: &[sauve::domain::Backup],
    as_json: bool,
) -> anyhow::Result<()> {
    if as_json {
        return json(&backups);
    }
    if backups.is_empty() {
        println!("no backups");
        return Ok(());
    }
    println!(
        "{:<26} {:<20} {:<20} {:>10} {:<12} DESTINATION",
        "ID", "JOB", "CREATED", "SIZE", "SHA256"
    );
    for b in backups {
        println!(
            "{:<26} {:<20} {:<20} {:>10} {:<12} {}",
            b.id,
            b.job,
            b.created_at.strftime("%Y-%m-%d %H:%M:%S").to_string(),
            human_bytes(b.size as u64),
            &b.sha256[..b.sha256.len().min(12)],
            b.destination
        );
    }
    Ok(())
}

/// A live progress line on a terminal; nothing when stderr is a pipe or a file.
pub(crate) fn progress_bar(
    progress: &Progress,
    job: &str,
) -> Option<(indicatif::ProgressBar, tokio::task::JoinHandle<()>)> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed_precise}]")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    let (bar2, p, job) = (bar.clone(), progress.clone(), job.to_string());
    let task = tokio::spawn(async move {
        let started = std::time::Instant::now();
        loop {
            let read = p.bytes_in.load(Ordering::Relaxed);
            let stored = p.bytes_out.load(Ordering::Relaxed);
            let secs = started.elapsed().as_secs_f64().max(0.001);
            bar2.set_message(format!(
                "backing up {job}: read {} ({}/s), stored {}",
                human_bytes(read),
                human_bytes((read as f64 / secs) as u64),
                human_bytes(stored)
            ));
            bar2.tick();
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    Some((bar, task))
}
