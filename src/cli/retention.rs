//! `sauve retention simulate|plan|apply`, `backup list --trash`, `backup
//! undelete` and `storage reconcile`: seeing a policy before trusting it,
//! applying it, and undoing it.

use super::args::{KeepArgs, RetentionCommand};
use super::output::json;
use anyhow::Context;
use sauve::domain::human_bytes;
use sauve::policy::retention::{self, Candidate};
use sauve::service::{Actor, Sauve, Stopper};
use std::io::Read;

/// `retention simulate`: the pure function on standard input; needs no store.
pub(super) fn simulate(
    keep: &KeepArgs,
    tz: &str,
    now: Option<jiff::Timestamp>,
) -> anyhow::Result<()> {
    let spec = keep.spec().unwrap_or_default();
    let policy = spec.validate().map_err(|errors| {
        let lines: Vec<String> = errors
            .into_iter()
            .map(|(field, m)| format!("--{}: {m}", field.replace('_', "-")))
            .collect();
        anyhow::anyhow!("invalid policy:\n  {}", lines.join("\n  "))
    })?;
    let zone = jiff::tz::TimeZone::get(tz).with_context(|| {
        format!("{tz:?} is not a known IANA time zone (e.g. UTC, Europe/Paris)")
    })?;
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("cannot read standard input")?;
    let candidates: Vec<Candidate> = serde_json::from_str(&input).context(
        "standard input is not a JSON array of {\"id\": \"…\", \"time\": \"2024-05-01T02:00:00Z\"}",
    )?;
    let plan = retention::plan(
        &policy,
        &candidates,
        &zone,
        now.unwrap_or_else(jiff::Timestamp::now),
    );
    json(&plan)
}

pub(super) async fn command(sauve: &Sauve, cmd: RetentionCommand) -> anyhow::Result<()> {
    match cmd {
        RetentionCommand::Simulate { keep, tz, now } => simulate(&keep, &tz, now),
        RetentionCommand::Plan { job, json: as_json } => plan(sauve, &job, None, as_json).await,
        RetentionCommand::Apply {
            job,
            dest,
            dry_run: true,
            json: as_json,
        } => plan(sauve, &job, dest.as_deref(), as_json).await,
        RetentionCommand::Apply {
            job,
            dest,
            json: as_json,
            ..
        } => {
            let (run, report) = sauve
                .apply_retention(&Actor::cli(), &job, dest.as_deref(), Stopper::default())
                .await?;
            if as_json {
                json(
                    &serde_json::json!({ "run_id": run.id, "state": run.state, "report": report }),
                )?;
            } else {
                print_report(&report);
                println!("run {} {}", run.id, run.state);
            }
            // Partial (a destination unreachable, a purge that failed) is a
            // failure for scripts, as a partial backup is.
            if run.state != sauve::domain::RunState::Succeeded {
                anyhow::bail!(
                    "retention run {} is {}: {}",
                    run.id,
                    run.state,
                    run.error.unwrap_or_default()
                );
            }
            Ok(())
        }
    }
}

fn print_report(report: &sauve::runner::PruneReport) {
    for d in &report.destinations {
        match (&d.error, &d.refused) {
            (Some(e), _) => println!("{}: nothing removed: {e}", d.destination),
            (None, Some(why)) => println!("{}: refused: {why}", d.destination),
            (None, None) => println!(
                "{}: kept {}, moved {} to the trash",
                d.destination,
                d.kept,
                d.trashed.len()
            ),
        }
    }
    println!("purged {} from the trash", report.purged.len());
    for f in &report.purge_failures {
        println!("purge of {} failed (retried next time): {}", f.id, f.error);
    }
    for h in &report.held {
        println!("{h} left in the trash: it is being read");
    }
}

/// Prints the plan of each destination (only `dest`'s when given).
async fn plan(sauve: &Sauve, job: &str, dest: Option<&str>, as_json: bool) -> anyhow::Result<()> {
    let mut plans = sauve.retention_plan(job, None).await?;
    if let Some(uri) = dest {
        let wanted = sauve::domain::Destination::parse(uri)
            .map_err(sauve::service::ServiceError::Invalid)?
            .uri();
        plans.retain(|p| p.destination == wanted);
        if plans.is_empty() {
            anyhow::bail!("{uri} is not a destination of job {job}");
        }
    }
    if as_json {
        return json(&plans);
    }
    for p in &plans {
        println!(
            "{}: keep {}, remove {}",
            p.destination,
            p.plan.keep.len(),
            p.plan.remove.len()
        );
        if let Some(e) = &p.error {
            println!("  not planned: {e}");
        }
        if let Some(why) = &p.plan.refused {
            println!("  refused: {why}");
        }
        for k in &p.plan.keep {
            println!("  keep    {}  {}", k.id, k.reasons.join(", "));
        }
        for r in &p.plan.remove {
            println!("  remove  {}", r.id);
        }
        for n in &p.not_counted {
            println!("  ignored {}  {}", n.id, n.why);
        }
    }
    Ok(())
}

pub(super) async fn trash(
    sauve: &Sauve,
    job: Option<&str>,
    limit: i64,
    as_json: bool,
) -> anyhow::Result<()> {
    let trashed = sauve.trash(job, limit).await?;
    if as_json {
        return json(&trashed);
    }
    if trashed.is_empty() {
        println!("the trash is empty");
    }
    for t in &trashed {
        println!(
            "{}  {}  {}  {}  purged after {}{}",
            t.backup.id,
            t.backup.job,
            human_bytes(t.backup.size.max(0) as u64),
            t.backup.destination,
            t.purge_after,
            t.purge_error
                .as_ref()
                .map(|e| format!("  (last purge failed: {e})"))
                .unwrap_or_default()
        );
    }
    Ok(())
}

pub(super) async fn reconcile(
    sauve: &Sauve,
    uri: &str,
    job: Option<&str>,
    apply: bool,
    as_json: bool,
) -> anyhow::Result<()> {
    let report = sauve.reconcile(&Actor::cli(), uri, job, apply).await?;
    if as_json {
        return json(&report);
    }
    println!(
        "{}: {} intact, {} to look at",
        report.destination,
        report.intact,
        report.findings.len()
    );
    for f in &report.findings {
        let kind = serde_json::to_value(f.kind)?;
        let status = match (apply, f.applied, &f.error) {
            (_, true, _) => "done".to_string(),
            (true, false, Some(e)) => format!("FAILED: {e}"),
            _ => "would".to_string(),
        };
        println!(
            "  {}  {}  {}: {}",
            kind.as_str().unwrap_or_default(),
            f.key,
            status,
            f.action
        );
    }
    if !apply && !report.findings.is_empty() {
        println!("run again with --apply to repair");
    }
    Ok(())
}
