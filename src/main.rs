//! The `sauve` command line: parses arguments, calls the service layer, prints.
//! Exit codes: 0 success, 1 the operation failed, 2 the input was wrong.

mod cli;

use anyhow::Context;
use clap::Parser;
use cli::*;
use sauve::domain::{EncryptionSpec, JobSpec, SourceSpec, Trigger, human_bytes};
use sauve::pipeline::Progress;
use sauve::service::{Config, Sauve, ServiceError};
use sauve::store::{BackupFilter, RunFilter};
use sauve::worker::{QueueTiming, ServeQueue, Stopper};
use std::io::IsTerminal;
use std::sync::atomic::Ordering;
use std::time::Duration;

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SAUVE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colours on a terminal only: a log file or journald gets plain text.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", error_text(&e));
            let user_error = e
                .downcast_ref::<ServiceError>()
                .is_some_and(ServiceError::is_user_error);
            std::process::ExitCode::from(if user_error { 2 } else { 1 })
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config {
        data_dir: cli.data_dir.clone(),
        database_url: cli.database_url.clone(),
    };
    // Listing a destination needs no metadata store: the day it is lost is the day
    // this command matters.
    if let Command::Backup(BackupCommand::List {
        dest: Some(dest),
        json,
        job,
        ..
    }) = &cli.command
    {
        let (mut backups, problems) = Sauve::list_destination(dest).await?;
        if let Some(job) = job {
            backups.retain(|b| &b.job == job);
        }
        for p in &problems {
            eprintln!("warning: {p}");
        }
        print_backups(&backups, *json)?;
        return Ok(());
    }
    // Checking a destination needs no metadata store either.
    if let Command::Storage(StorageCommand::Check { uri, json }) = &cli.command {
        let report = Sauve::check_destination(uri).await?;
        if *json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            let steps: Vec<String> = report
                .steps
                .iter()
                .map(|(op, ms)| format!("{op} {ms} ms"))
                .collect();
            println!("{} works: {}", report.destination, steps.join(", "));
        }
        return Ok(());
    }
    if let Command::Storage(StorageCommand::Sweep {
        uri,
        older_than,
        dry_run,
        json,
    }) = &cli.command
    {
        let sweep = Sauve::sweep_destination(uri, *older_than, *dry_run).await?;
        if *json {
            println!("{}", serde_json::to_string_pretty(&sweep)?);
        } else {
            let verb = if *dry_run { "would abort" } else { "aborted" };
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
        return Ok(());
    }
    // Checking a schedule needs nothing but the schedule.
    if let Command::Schedule(ScheduleCommand::Next {
        spec,
        tz,
        from,
        count,
        json,
    }) = &cli.command
    {
        let from = from.unwrap_or_else(jiff::Timestamp::now);
        let preview = sauve::service::preview_schedule(spec, tz, from, *count)
            .map_err(ServiceError::Invalid)?;
        if *json {
            println!("{}", serde_json::to_string_pretty(&preview)?);
        } else {
            println!("{}", preview.description);
            for t in &preview.next {
                println!("  {t}");
            }
        }
        return Ok(());
    }
    let sauve = Sauve::open(&config).await?;
    match cli.command {
        Command::Serve {
            listen,
            workers,
            tick_ms,
            lease_secs,
            retry_base_secs,
            grace_secs,
            cron_secret,
            secure_cookies,
        } => {
            let listener = tokio::net::TcpListener::bind(&listen)
                .await
                .with_context(|| {
                    format!(
                        "cannot listen on {listen}; is another process using it? (--listen ADDR)"
                    )
                })?;
            let addr = listener.local_addr()?;
            println!(
                "Sauve {} listening on http://{addr}",
                env!("CARGO_PKG_VERSION")
            );
            println!("  data directory: {}", config.data_dir.display());
            println!("  health check:   http://{addr}/healthz");
            if workers == 0 {
                println!("  API only: no scheduler, no workers (--workers 0)");
            } else {
                println!("  scheduler and {workers} workers running");
            }
            if sauve.store.count_users().await? == 0 {
                println!(
                    "  no user yet: create the first admin with\n    sauve --data-dir {} user add NAME --role admin --password-stdin",
                    config.data_dir.display()
                );
            }
            let server_config = sauve::server::ServerConfig {
                cron_secret: cron_secret.filter(|s| !s.is_empty()),
                secure_cookies,
            };
            let queue = ServeQueue {
                workers,
                tick: Duration::from_millis(tick_ms.max(10)),
                grace: Duration::from_secs(grace_secs),
                timing: QueueTiming {
                    lease: Duration::from_secs(lease_secs.max(1)),
                    retry_base: Duration::from_secs(retry_base_secs),
                },
            };
            sauve::server::serve(sauve, listener, server_config, queue).await?;
        }
        Command::Job(cmd) => job_command(&sauve, cmd).await?,
        Command::Backup(cmd) => backup_command(&sauve, cmd).await?,
        Command::Verify { which, keys, json } => {
            let report = sauve.verify(&which.reference(), &keys.options()).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!(
                    "backup {} is good: sha256 {} ({}), {} decompressed; {}",
                    report.backup_id,
                    report.sha256,
                    human_bytes(report.size),
                    human_bytes(report.raw_size),
                    report.format
                );
            }
        }
        Command::Restore {
            which,
            to,
            force,
            keys,
            json,
        } => {
            let outcome = sauve
                .restore(&which.reference(), to.as_deref(), force, &keys.options())
                .await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&outcome)?);
            } else {
                println!(
                    "restored backup {} ({} of {}) into {}",
                    outcome.backup.id,
                    outcome.backup.job,
                    outcome.backup.created_at,
                    outcome.target
                );
            }
        }
        Command::Run(cmd) => run_command(&sauve, cmd).await?,
        Command::Schedule(_) | Command::Storage(_) => {
            unreachable!("handled before opening the store")
        }
        Command::User(cmd) => user_command(&sauve, cmd).await?,
        Command::Token(cmd) => token_command(&sauve, cmd).await?,
    }
    Ok(())
}

async fn job_command(sauve: &Sauve, cmd: JobCommand) -> anyhow::Result<()> {
    match cmd {
        JobCommand::Create {
            name,
            source,
            destinations,
            compression_level,
            encrypt_passphrase_env,
            encrypt_recipients,
            schedule,
            tz,
        } => {
            let encryption = (encrypt_passphrase_env.is_some() || !encrypt_recipients.is_empty())
                .then_some(EncryptionSpec {
                    passphrase_env: encrypt_passphrase_env,
                    recipients: encrypt_recipients,
                });
            let job = sauve
                .create_job(JobSpec {
                    compression_level,
                    encryption,
                    schedule,
                    timezone: tz,
                    ..JobSpec::new(name, SourceSpec::Uri(source), destinations)
                })
                .await?;
            println!("created job {}", job.name);
            print_next_fire(&job.spec);
        }
        JobCommand::SetSchedule {
            name,
            spec,
            tz,
            clear,
        } => {
            let mut job = sauve.job(&name).await?.spec;
            if clear {
                job.schedule = None;
                job.timezone = None;
            } else {
                job.schedule = spec;
                job.timezone = tz.or(job.timezone);
            }
            let job = sauve.update_job(job).await?;
            match &job.spec.schedule {
                None => println!("job {name} has no schedule: it runs only on demand"),
                Some(_) => print_next_fire(&job.spec),
            }
        }
        JobCommand::List { json } => {
            let jobs = sauve.jobs().await?;
            if json {
                let list: Vec<_> = jobs.iter().map(|j| &j.spec).collect();
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if jobs.is_empty() {
                println!(
                    "no jobs yet: create one with `sauve job create NAME --source URI --dest URI`"
                );
            } else {
                println!(
                    "{:<24} {:<9} {:<28} {:<26} DESTINATIONS",
                    "NAME", "SOURCE", "SCHEDULE", "NEXT RUN"
                );
                for j in jobs {
                    let kind = j
                        .spec
                        .validate()
                        .map(|v| v.source.kind())
                        .unwrap_or("invalid");
                    let schedule = match (&j.spec.schedule, &j.spec.timezone) {
                        (None, _) => "on demand".to_string(),
                        (Some(s), None) => s.clone(),
                        (Some(s), Some(tz)) => format!("{s} ({tz})"),
                    };
                    let next = match sauve.next_fire(&j).await? {
                        Some(t) => {
                            let tz = j.spec.timezone.as_deref().unwrap_or("UTC");
                            jiff::tz::TimeZone::get(tz)
                                .map(|z| {
                                    t.to_zoned_datetime(z)
                                        .strftime("%Y-%m-%d %H:%M:%S %:z")
                                        .to_string()
                                })
                                .unwrap_or_else(|_| t.to_string())
                        }
                        None => "-".to_string(),
                    };
                    println!(
                        "{:<24} {:<9} {:<28} {:<26} {}",
                        j.name,
                        kind,
                        schedule,
                        next,
                        j.spec.destinations.join(", ")
                    );
                }
            }
        }
        JobCommand::Show { name, json } => {
            let job = sauve.job(&name).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&job.spec)?);
            } else {
                print!(
                    "{}",
                    toml::to_string(&JobFile {
                        job: vec![job.spec]
                    })?
                );
            }
        }
        JobCommand::Delete { name } => {
            sauve.delete_job(&name).await?;
            println!("deleted job {name} (its backups stay in storage and in `sauve backup list`)");
        }
        JobCommand::Apply { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let parsed: JobFile = toml::from_str(&text).map_err(|e| {
                ServiceError::Invalid(sauve::domain::ValidationErrors::single(
                    file.display().to_string(),
                    format!("not a valid job file: {e}"),
                ))
            })?;
            for (job, created) in sauve.apply_jobs(parsed.job).await? {
                println!(
                    "{} job {}",
                    if created { "created" } else { "updated" },
                    job.name
                );
            }
        }
        JobCommand::Export { name } => {
            let specs = match name {
                Some(n) => vec![sauve.job(&n).await?.spec],
                None => sauve.jobs().await?.into_iter().map(|j| j.spec).collect(),
            };
            print!("{}", toml::to_string(&JobFile { job: specs })?);
        }
    }
    Ok(())
}

async fn backup_command(sauve: &Sauve, cmd: BackupCommand) -> anyhow::Result<()> {
    match cmd {
        BackupCommand::Run {
            job,
            queue: true,
            idempotency_key,
            json,
        } => {
            let (run, created) = sauve
                .enqueue(&job, Trigger::Manual, idempotency_key.as_deref())
                .await?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({ "run_id": run.id, "state": run.state, "created": created })
                    )?
                );
            } else {
                println!("{}", run.id);
                if !created {
                    eprintln!("  (already queued under this idempotency key)");
                }
            }
        }
        BackupCommand::Run { job, json, .. } => {
            let progress = Progress::default();
            let bar = progress_bar(&progress, &job);
            let stopper = Stopper::new(progress);
            // Ctrl-C stops the dump and records the run as cancelled, instead of
            // leaving it `running` until its lease expires.
            let on_interrupt = {
                let stopper = stopper.clone();
                tokio::spawn(async move {
                    if tokio::signal::ctrl_c().await.is_ok() {
                        eprintln!("interrupted: stopping the backup");
                        stopper.cancel();
                    }
                })
            };
            let result = sauve.run_job_now(&job, Trigger::Manual, stopper).await;
            on_interrupt.abort();
            if let Some((bar, task)) = bar {
                task.abort();
                bar.finish_and_clear();
            }
            if let (true, Err(ServiceError::Backup { run_id, error, .. })) = (json, &result) {
                // Scripts get the run id of a failed run too, on stdout.
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "run_id": run_id,
                        "state": "failed",
                        "backups": [],
                        "error": error.to_string(),
                    }))?
                );
            }
            let report = result?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "run_id": report.run.id,
                        "state": report.run.state,
                        "backups": report.backups,
                        "failures": report.failures,
                    }))?
                );
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
            job, limit, json, ..
        } => {
            let backups = sauve
                .backups(&BackupFilter {
                    job,
                    limit,
                    ..Default::default()
                })
                .await?;
            print_backups(&backups, json)?;
        }
        BackupCommand::Download { which, output } => {
            let r = which.reference();
            if output.as_os_str() == "-" {
                sauve
                    .download_to_writer(&r, Box::new(std::io::stdout()))
                    .await?;
            } else {
                let b = sauve.download(&r, &output).await?;
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

async fn run_command(sauve: &Sauve, cmd: RunCommand) -> anyhow::Result<()> {
    match cmd {
        RunCommand::List {
            job,
            state,
            limit,
            json,
        } => {
            let runs = sauve.runs(&RunFilter { job, state, limit }).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&runs)?);
            } else {
                println!(
                    "{:<26} {:<20} {:<9} {:<10} {:<20} {:>10}",
                    "ID", "JOB", "TRIGGER", "STATE", "QUEUED", "SIZE"
                );
                for r in runs {
                    println!(
                        "{:<26} {:<20} {:<9} {:<10} {:<20} {:>10}",
                        r.id,
                        r.job,
                        r.trigger,
                        r.state,
                        r.queued_at.strftime("%Y-%m-%d %H:%M:%S").to_string(),
                        human_bytes(r.bytes_out as u64)
                    );
                }
            }
        }
        RunCommand::Cancel { id } => {
            let (run, outcome) = sauve.cancel_run(&id).await?;
            match outcome {
                sauve::store::CancelOutcome::Cancelled => println!("run {} cancelled", run.id),
                sauve::store::CancelOutcome::Requested => {
                    println!(
                        "run {} is running: its worker stops it within a few seconds",
                        run.id
                    )
                }
                sauve::store::CancelOutcome::AlreadyFinished(state) => {
                    println!("run {} already finished: {state}", run.id)
                }
            }
        }
        RunCommand::Show { id, json } => {
            let run = sauve.run(&id).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&run)?);
            } else {
                println!(
                    "run {} of job {} ({}): {}",
                    run.id, run.job, run.trigger, run.state
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
    }
    Ok(())
}

fn read_password_stdin() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

async fn user_command(sauve: &Sauve, cmd: UserCommand) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Add { name, role, .. } => {
            let password = read_password_stdin()?;
            let user = sauve.add_user(&name, role, &password).await?;
            println!("added {} user {}", user.role, user.name);
        }
        UserCommand::List { json } => {
            let users = sauve.users().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&users)?);
            } else if users.is_empty() {
                println!("no users yet: sauve user add NAME --role admin --password-stdin");
            } else {
                for u in users {
                    println!("{:<24} {:<7} since {}", u.name, u.role, u.created_at);
                }
            }
        }
        UserCommand::Passwd { name, .. } => {
            let password = read_password_stdin()?;
            sauve.set_user_password(&name, &password).await?;
            println!("password of {name} changed; their sessions were ended");
        }
    }
    Ok(())
}

async fn token_command(sauve: &Sauve, cmd: TokenCommand) -> anyhow::Result<()> {
    match cmd {
        TokenCommand::Create { name, scope } => {
            let (token, secret) = sauve.create_token(&name, &scope).await?;
            eprintln!(
                "created token {} ({}) with scopes {}; it is shown once, keep it now:",
                token.name,
                token.id,
                token
                    .scopes
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            );
            println!("{secret}");
        }
        TokenCommand::List { json } => {
            let tokens = sauve.tokens().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&tokens)?);
            } else {
                for t in tokens {
                    println!(
                        "{:<26} {:<20} {:<8} {}",
                        t.id,
                        t.name,
                        if t.revoked_at.is_some() {
                            "revoked"
                        } else {
                            "live"
                        },
                        t.scopes
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(",")
                    );
                }
            }
        }
        TokenCommand::Revoke { id_or_name } => {
            let t = sauve.revoke_token(&id_or_name).await?;
            println!("revoked token {} ({})", t.name, t.id);
        }
    }
    Ok(())
}

/// "runs every day at 02:00 (UTC); next: …" for a scheduled job.
fn print_next_fire(spec: &JobSpec) {
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
fn error_text(e: &anyhow::Error) -> String {
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

fn print_backups(backups: &[sauve::domain::Backup], json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(backups)?);
        return Ok(());
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
fn progress_bar(
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
