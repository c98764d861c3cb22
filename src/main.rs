//! The `sauve` command line: parses arguments, calls the service layer, prints.
//! Exit codes: 0 success, 1 the operation failed, 2 the input was wrong.

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use sauve::domain::{EncryptionSpec, JobSpec, RunState, SourceSpec, Trigger, human_bytes};
use sauve::pipeline::Progress;
use sauve::service::{BackupRef, Config, KeyOptions, Sauve, ServiceError};
use sauve::store::{BackupFilter, RunFilter};
use sauve::worker::{QueueTiming, ServeQueue, Stopper};
use serde::{Deserialize, Serialize};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "sauve",
    version,
    about = "Scheduled, verified backups of databases and files"
)]
struct Cli {
    /// Where Sauve keeps its metadata (by default) and staging files.
    #[arg(
        long,
        global = true,
        env = "SAUVE_DATA_DIR",
        default_value = "./sauve-data"
    )]
    data_dir: PathBuf,
    /// Metadata store: sqlite:///path/sauve.db or postgres://user@host/db
    /// [default: a SQLite file in the data directory]
    #[arg(
        long,
        global = true,
        env = "SAUVE_DATABASE_URL",
        hide_env_values = true
    )]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server: health checks now; API, dashboard and scheduler as they land.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "SAUVE_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        /// Backups this instance runs at once; 0 runs no scheduler and no
        /// workers (an API-only instance beside others that do the work).
        #[arg(long, env = "SAUVE_WORKERS", default_value_t = 2)]
        workers: usize,
        /// How often schedules are checked and the queue polled, in milliseconds.
        #[arg(long, env = "SAUVE_TICK_MS", default_value_t = 500)]
        tick_ms: u64,
        /// A claimed run whose worker is silent this long is taken over by another.
        #[arg(long, env = "SAUVE_LEASE_SECS", default_value_t = 30)]
        lease_secs: u64,
        /// First retry delay after a failed attempt; doubles each attempt (max 1 h).
        #[arg(long, env = "SAUVE_RETRY_BASE_SECS", default_value_t = 30)]
        retry_base_secs: u64,
        /// On SIGTERM/SIGINT, how long running backups may take to finish before
        /// they are stopped and handed back to the queue.
        #[arg(long, env = "SAUVE_GRACE_SECS", default_value_t = 30)]
        grace_secs: u64,
        /// Secret that platform cron sends to /api/cron/backup as a bearer
        /// token; unset, the trigger is off.
        #[arg(long, env = "SAUVE_CRON_SECRET", hide_env_values = true)]
        cron_secret: Option<String>,
        /// Mark session cookies Secure (set it when Sauve is served over HTTPS).
        #[arg(long, env = "SAUVE_SECURE_COOKIES")]
        secure_cookies: bool,
    },
    /// Create, change, list and delete jobs.
    #[command(subcommand)]
    Job(JobCommand),
    /// Run backups and look at the ones stored.
    #[command(subcommand)]
    Backup(BackupCommand),
    /// Re-read a backup in full: checksum, decryption, decompression, format.
    Verify {
        #[command(flatten)]
        which: WhichBackup,
        #[command(flatten)]
        keys: KeyArgs,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Verify a backup, then restore it into a target.
    Restore {
        #[command(flatten)]
        which: WhichBackup,
        /// Target: a database URI, a SQLite file or a directory (kind must match the backup).
        #[arg(long)]
        to: Option<String>,
        /// Restore into a target that already holds data, replacing what the backup contains.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        keys: KeyArgs,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Look at runs (each execution of a job).
    #[command(subcommand)]
    Run(RunCommand),
    /// Manage the people who may use the dashboard and the API.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens for scripts, CI and Prometheus.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Check that a destination works; clean up uploads that killed processes left.
    #[command(subcommand)]
    Storage(StorageCommand),
    /// Check a schedule: its next fire times and what it means in words.
    #[command(subcommand)]
    Schedule(ScheduleCommand),
}

#[derive(Subcommand)]
enum StorageCommand {
    /// Write, read back, list and delete a probe object; prints each step's latency.
    Check {
        /// file:///dir or s3://bucket/prefix?endpoint=… (credentials from the environment).
        uri: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Abort the multipart uploads a killed process left pending under an S3
    /// destination (invisible, but stored and billed). Backups do this on their
    /// own for uploads over a day old.
    Sweep {
        /// s3://bucket/prefix?endpoint=… (credentials from the environment).
        uri: String,
        /// Only uploads started longer ago than this (30m, 12h, 1d). An upload
        /// of a backup still running elsewhere is younger than its timeout.
        #[arg(long, default_value = "1d", value_parser = parse_age)]
        older_than: std::time::Duration,
        /// List the pending uploads, abort nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// `0s` included: "every pending upload", for a destination known to be idle.
fn parse_age(s: &str) -> Result<std::time::Duration, String> {
    if s.trim() == "0s" || s.trim() == "0" {
        return Ok(std::time::Duration::ZERO);
    }
    sauve::domain::job::parse_duration(s)
        .ok_or_else(|| format!("{s:?} is not a duration: write e.g. 30m, 12h or 1d"))
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; the password is read from standard input.
    Add {
        name: String,
        /// admin (everything) or viewer (read-only).
        #[arg(long, default_value = "admin")]
        role: sauve::auth::Role,
        /// Read the password from standard input (the only way: never an argument).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List users.
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Change a user's password (read from standard input); ends their sessions.
    Passwd {
        name: String,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token; it is printed once and stored only as a hash.
    Create {
        /// A name to recognise it by, e.g. ci-nightly.
        name: String,
        /// Comma-separated: backups:read, backups:write, restore, jobs:read,
        /// jobs:write, runs:read, runs:write, audit:read, metrics:read; or all.
        #[arg(long, value_parser = sauve::auth::parse_scopes)]
        scope: std::vec::Vec<sauve::auth::Scope>,
    },
    /// List tokens (never their secrets).
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by id or name.
    Revoke { id_or_name: String },
}

#[derive(Subcommand)]
enum ScheduleCommand {
    /// Print the next fire times of SPEC, e.g. "daily at 02:00", "weekly on mon,thu at 02:00",
    /// "monthly on 1,15 at 03:30", "monthly on last at 23:00", "every 6h", "cron \"0 2 * * *\"".
    Next {
        spec: String,
        /// IANA time zone the times are in.
        #[arg(long, default_value = "UTC")]
        tz: String,
        /// Start from this instant (RFC 3339) instead of now.
        #[arg(long)]
        from: Option<jiff::Timestamp>,
        /// How many fire times to print.
        #[arg(long, default_value_t = 5)]
        count: usize,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Which backup: an id from the metadata store, or one found in a destination.
#[derive(Args)]
struct WhichBackup {
    /// Backup id (or a unique prefix of it).
    #[arg(required_unless_present = "latest")]
    id: Option<String>,
    /// Look the backup up in this destination's manifests, not in the metadata
    /// store (for when the store is lost).
    #[arg(long, value_name = "DEST_URI")]
    from: Option<String>,
    /// With --from and --job: the newest backup of that job.
    #[arg(long, requires_all = ["from", "job"])]
    latest: bool,
    /// With --latest: the job whose newest backup to take.
    #[arg(long, requires = "latest")]
    job: Option<String>,
}

impl WhichBackup {
    fn reference(&self) -> BackupRef {
        match &self.from {
            Some(uri) => BackupRef::InDestination {
                uri: uri.clone(),
                id: self.id.clone(),
                latest_of_job: self.job.clone().filter(|_| self.latest),
            },
            None => BackupRef::Id(self.id.clone().unwrap_or_default()),
        }
    }
}

#[derive(Args)]
struct KeyArgs {
    /// Environment variable holding the passphrase [default: the job's passphrase_env, if the job still exists].
    #[arg(long)]
    passphrase_env: Option<String>,
    /// age identity (private key) file, for backups encrypted to recipients.
    #[arg(long, env = "SAUVE_AGE_IDENTITY_FILE")]
    identity: Option<PathBuf>,
}

impl KeyArgs {
    fn options(&self) -> KeyOptions {
        KeyOptions {
            passphrase_env: self.passphrase_env.clone(),
            identity_file: self.identity.clone(),
        }
    }
}

#[derive(Subcommand)]
enum JobCommand {
    /// Create a job from a source URI and destination URIs.
    Create {
        /// Job name: lowercase letters, digits, '-', '_', '.'.
        name: String,
        /// postgres://user@host:5432/db, mysql://user@host:3306/db, sqlite:///path.db, files:///dir
        #[arg(long)]
        source: String,
        /// file:///dir (repeat for several destinations).
        #[arg(long = "dest", required = true)]
        destinations: Vec<String>,
        /// zstd level, 1 (fastest) to 19 (smallest) [default: 3].
        #[arg(long)]
        compression_level: Option<i32>,
        /// Encrypt with the passphrase held in this environment variable.
        #[arg(long)]
        encrypt_passphrase_env: Option<String>,
        /// Encrypt to this age public key (repeatable).
        #[arg(long = "encrypt-recipient")]
        encrypt_recipients: Vec<String>,
        /// Run by itself on this schedule, e.g. "daily at 02:00" (see `schedule next`).
        #[arg(long)]
        schedule: Option<String>,
        /// IANA time zone of the schedule [default: UTC].
        #[arg(long)]
        tz: Option<String>,
    },
    /// Set, change or remove a job's schedule.
    SetSchedule {
        /// Name of the job.
        name: String,
        /// e.g. "daily at 02:00", "weekly on mon,thu at 02:00", "every 6h".
        #[arg(required_unless_present = "clear")]
        spec: Option<String>,
        /// IANA time zone of the schedule [default: UTC].
        #[arg(long)]
        tz: Option<String>,
        /// Remove the schedule: the job then runs only on demand.
        #[arg(long, conflicts_with = "spec")]
        clear: bool,
    },
    /// List jobs.
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Show one job as TOML (or JSON).
    Show {
        name: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Delete a job (its runs and stored backups are kept).
    Delete { name: String },
    /// Create or update the jobs of a TOML file ([[job]] tables).
    Apply { file: PathBuf },
    /// Print jobs as TOML, ready for `job apply`.
    Export { name: Option<String> },
}

#[derive(Subcommand)]
enum BackupCommand {
    /// Run a job now, in the foreground.
    Run {
        /// Name of the job.
        job: String,
        /// Queue the run for `sauve serve` to execute instead of running it here;
        /// prints the run id.
        #[arg(long)]
        queue: bool,
        /// With --queue: a repeated request with the same key queues nothing new.
        #[arg(long, requires = "queue")]
        idempotency_key: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List backups from the metadata store, or from a destination's manifests alone.
    List {
        /// Only this job's backups.
        #[arg(long)]
        job: Option<String>,
        /// Read this destination's manifests instead of the metadata store.
        #[arg(long)]
        dest: Option<String>,
        /// At most this many, newest first.
        #[arg(long, default_value_t = 1000)]
        limit: i64,
        /// Print JSON (an array of backups; fields in the README).
        #[arg(long)]
        json: bool,
    },
    /// Download the stored artifact (as stored: compressed, maybe encrypted).
    Download {
        #[command(flatten)]
        which: WhichBackup,
        /// Output file, or - for standard output.
        #[arg(short, long)]
        output: PathBuf,
    },
}

#[derive(Subcommand)]
enum RunCommand {
    /// List runs, newest first.
    List {
        /// Only this job's runs.
        #[arg(long)]
        job: Option<String>,
        /// Only runs in this state: queued, running, succeeded, partial, failed, cancelled.
        #[arg(long)]
        state: Option<RunState>,
        /// At most this many, newest first.
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Cancel a queued run, or stop a running one.
    Cancel {
        /// Run id (or a unique prefix of it).
        id: String,
    },
    /// Show one run with its log.
    Show {
        /// Run id (or a unique prefix of it).
        id: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// The TOML file format of `job apply` / `job export`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct JobFile {
    job: Vec<JobSpec>,
}

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
            let verb = if *dry_run { "pending" } else { "aborted" };
            for u in &sweep.uploads {
                println!("{verb} {} (started {})", u.key, u.initiated);
            }
            println!(
                "{}: {} upload(s) {verb}, {} left pending",
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
