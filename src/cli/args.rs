//! The command line: every subcommand, argument and flag, as clap derives
//! them (the help text users read). What each command does is in the module
//! of its name beside this one, over `service::Sauve`.

use clap::{Args, Parser, Subcommand};
use sauve::domain::{JobSpec, RunKind, RunState};
use sauve::service::{BackupRef, KeyOptions};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

mod retention;
pub(crate) use retention::{KeepArgs, RetentionCommand};

#[derive(Parser)]
#[command(
    name = "sauve",
    version,
    about = "Scheduled, verified backups of databases and files"
)]
pub(crate) struct Cli {
    /// Where Sauve keeps its metadata (by default) and staging files.
    #[arg(
        long,
        global = true,
        env = "SAUVE_DATA_DIR",
        default_value = "./sauve-data"
    )]
    pub(crate) data_dir: PathBuf,
    /// Metadata store: sqlite:///path/sauve.db or postgres://user@host/db
    /// [default: a SQLite file in the data directory]
    #[arg(
        long,
        global = true,
        env = "SAUVE_DATABASE_URL",
        hide_env_values = true
    )]
    pub(crate) database_url: Option<String>,
    /// A TOML file of serve's options, keys named like the flags
    /// (`allow_path` for --allow-path); flags and SAUVE_* variables win
    /// over it. Other commands take its data_dir, database_url and notify.
    #[arg(long, global = true, env = "SAUVE_CONFIG")]
    pub(crate) config: Option<PathBuf>,
    #[command(subcommand)]
    pub(crate) command: Command,
    /// What `--config`'s file says for commands other than serve.
    #[arg(skip)]
    pub(crate) from_file: FileDefaults,
}

/// What a `--config` file says that matters to commands other than `serve`
/// (filled by `config.rs`): a foreground `backup run` tells the same
/// channels as the server.
#[derive(Debug, Default, Clone)]
pub(crate) struct FileDefaults {
    pub(crate) notify: Option<Vec<String>>,
    pub(crate) public_url: Option<String>,
    pub(crate) base_path: Option<String>,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Run the server: the dashboard, the JSON API, the scheduler and the
    /// workers that execute every kind of run (backups, restores, verifies, prunes).
    Serve(ServeArgs),
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
        /// Also restore it into a scratch target Sauve creates and drops (a
        /// database on the source's server, a file or directory under the
        /// data directory), count its tables' rows and run the job's checks.
        #[arg(long)]
        test_restore: bool,
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
    /// Define the credentials jobs refer to as secret:NAME, each bound to the
    /// hosts it may be sent to.
    #[command(subcommand)]
    Secret(SecretCommand),
    /// Check that a destination works; clean up uploads that killed processes left.
    #[command(subcommand)]
    Storage(StorageCommand),
    /// Check a schedule: its next fire times and what it means in words.
    #[command(subcommand)]
    Schedule(ScheduleCommand),
    /// Which backups a retention policy keeps: try a policy, see a job's
    /// plan, apply it now.
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// Test a notification channel; list what was sent.
    #[command(subcommand)]
    Notify(NotifyCommand),
}

#[derive(Subcommand)]
pub(crate) enum StorageCommand {
    /// Write, read back, list and delete a probe object; prints each step's latency.
    Check {
        /// file:///dir or s3://bucket/prefix?endpoint=… (credentials from the environment).
        #[arg(value_parser = destination_arg)]
        uri: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Compare a destination with the metadata store: artifacts without a
    /// manifest (a crash between the two writes), manifests the store does
    /// not know (a lost lease), store rows whose objects are gone. Reports
    /// them; with --apply, adopts or removes each.
    Reconcile {
        #[arg(value_parser = destination_arg)]
        uri: String,
        /// Only this job's folder.
        #[arg(long)]
        job: Option<String>,
        /// Repair what differs (adopt, write back, remove).
        #[arg(long)]
        apply: bool,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Abort the multipart uploads a killed process left pending under an S3
    /// destination (invisible, but stored and billed). Backups do this on their
    /// own for uploads over a day old.
    Sweep {
        /// s3://bucket/prefix?endpoint=… (credentials from the environment).
        #[arg(value_parser = destination_arg)]
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

/// A destination as typed on the command line: a relative path (`./backups`)
/// is made absolute here, against the directory the command runs in, since a
/// stored job (or a server) has no such directory to resolve it against.
fn destination_arg(s: &str) -> Result<String, String> {
    if s.contains("://") || s.starts_with('/') || s.is_empty() {
        return Ok(s.to_string());
    }
    let cwd = std::env::current_dir()
        .map_err(|e| format!("cannot resolve the relative path {s:?}: {e}"))?;
    let mut path = cwd;
    for part in std::path::Path::new(s).components() {
        if part != std::path::Component::CurDir {
            path.push(part);
        }
    }
    Ok(path.to_string_lossy().into_owned())
}

/// `0s` included: "every pending upload", for a destination known to be idle.
pub(crate) fn parse_age(s: &str) -> Result<std::time::Duration, String> {
    if s.trim() == "0s" || s.trim() == "0" {
        return Ok(std::time::Duration::ZERO);
    }
    sauve::domain::parse_duration(s)
        .ok_or_else(|| format!("{s:?} is not a duration: write e.g. 30m, 12h or 1d"))
}

/// `--keep-runs`: a span in the schedules' syntax (`36h`, `90d`), at least a
/// day and at most a hundred years, or 0 for forever. Under a day would
/// delete the history the page and the alerting read.
fn parse_keep(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    if s == "0" || s == "0s" {
        return Ok(std::time::Duration::ZERO);
    }
    const MAX_DAYS: u128 = 36_600;
    let secs = sauve::domain::parse_span_secs(s).ok_or_else(|| {
        format!(
            "{s:?} is not a history window: write hours or days, e.g. 90d or 36h (0 keeps everything)"
        )
    })?;
    if secs > MAX_DAYS * 86_400 {
        return Err(format!(
            "{s:?} is longer than a hundred years: write at most {MAX_DAYS}d, or 0 to keep everything"
        ));
    }
    if secs < 86_400 {
        return Err(format!(
            "{s:?} would delete today's history: keep at least 1d (or 0 to keep everything)"
        ));
    }
    Ok(std::time::Duration::from_secs(secs as u64))
}

#[derive(Subcommand)]
pub(crate) enum UserCommand {
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
    /// Stop a user from signing in; their sessions end now.
    Disable { name: String },
    /// Let a disabled user sign in again.
    Enable { name: String },
    /// Delete a user and end their sessions (the audit log keeps their name).
    Rm { name: String },
}

#[derive(Subcommand)]
pub(crate) enum TokenCommand {
    /// Create a token; it is printed once and stored only as a hash.
    Create {
        /// A name to recognise it by, e.g. ci-nightly.
        name: String,
        /// Comma-separated: backups:read, backups:download, backups:write,
        /// restore, jobs:read, jobs:write, runs:read, runs:write, audit:read,
        /// metrics:read, exec; `all` is every one but exec (write all,exec).
        #[arg(long, value_parser = sauve::auth::parse_scopes)]
        scope: std::vec::Vec<sauve::auth::Scope>,
        /// Refuse the token after this long, e.g. 90d or 12h [default: never].
        #[arg(long, value_parser = parse_expiry)]
        expires: Option<std::time::Duration>,
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
pub(crate) enum SecretCommand {
    /// Define or replace a secret. Its value is read from standard input and
    /// sealed with the master key, unless --from-env or --from-file says
    /// where Sauve reads it when it is used.
    Set {
        /// 1 to 63 lowercase letters, digits, '-', '_' or '.', e.g. app-db.
        name: String,
        /// A host it may be sent to: host, host:port or *.domain (repeat for
        /// several). None: it is sent nowhere (an encryption passphrase).
        #[arg(long = "host")]
        hosts: Vec<String>,
        /// Object stores: a bucket (or container) it may be used for; none
        /// means any bucket at the bound hosts.
        #[arg(long = "bucket")]
        buckets: Vec<String>,
        /// Read the value from this variable of Sauve's environment when used.
        #[arg(long, conflicts_with = "from_file")]
        from_env: Option<String>,
        /// Read the value from this file when used (/run/secrets/app-db).
        #[arg(long)]
        from_file: Option<String>,
    },
    /// List secrets: names, where each lives, bound hosts. Never a value.
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Delete a secret; jobs that name it fail until it is defined again.
    Rm { name: String },
}

fn parse_expiry(s: &str) -> Result<std::time::Duration, String> {
    sauve::domain::parse_duration(s)
        .ok_or_else(|| format!("{s:?}: write how long the token lives, e.g. 90d, 12h or 30m"))
}

#[derive(Subcommand)]
pub(crate) enum ScheduleCommand {
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
pub(crate) struct WhichBackup {
    /// Backup id (or a unique prefix of it).
    #[arg(required_unless_present = "latest")]
    pub(crate) id: Option<String>,
    /// Look the backup up in this destination's manifests, not in the metadata
    /// store (for when the store is lost).
    #[arg(long, value_name = "DEST_URI", value_parser = destination_arg)]
    pub(crate) from: Option<String>,
    /// With --from and --job: the newest backup of that job.
    #[arg(long, requires_all = ["from", "job"])]
    pub(crate) latest: bool,
    /// With --latest: the job whose newest backup to take.
    #[arg(long, requires = "latest")]
    pub(crate) job: Option<String>,
}

impl WhichBackup {
    pub(crate) fn reference(&self) -> BackupRef {
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
pub(crate) struct KeyArgs {
    /// Environment variable holding the passphrase [default: the job's passphrase_env, if the job still exists].
    #[arg(long)]
    pub(crate) passphrase_env: Option<String>,
    /// age identity (private key) file, for backups encrypted to recipients.
    #[arg(long, env = "SAUVE_AGE_IDENTITY_FILE")]
    pub(crate) identity: Option<PathBuf>,
}

impl KeyArgs {
    pub(crate) fn options(&self) -> KeyOptions {
        KeyOptions {
            passphrase_env: self.passphrase_env.clone(),
            identity_file: self.identity.clone(),
        }
    }
}

#[derive(Subcommand)]
pub(crate) enum JobCommand {
    /// Create a job from a source URI and destination URIs.
    Create {
        /// Job name: lowercase letters, digits, '-', '_', '.'.
        name: String,
        /// postgres://user@host:5432/db, mysql://user@host:3306/db, sqlite:///path.db, files:///dir
        #[arg(long)]
        source: String,
        /// file:///dir, s3://bucket/prefix?… (repeat for several destinations).
        #[arg(long = "dest", required = true, value_parser = destination_arg)]
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
        #[command(flatten)]
        keep: Box<KeepArgs>,
        /// Tell this channel when the job fails, recovers or goes stale
        /// (repeatable), e.g. webhook+https://hooks.example.com/sauve.
        #[arg(long = "notify")]
        notify: Vec<String>,
        /// Stale when no backup was stored for this long, e.g. 26h
        /// [default: twice the schedule's interval plus 1h].
        #[arg(long)]
        max_age: Option<String>,
        /// Alert again about a failure streak or a staleness this often [default: 24h].
        #[arg(long)]
        remind_every: Option<String>,
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
pub(crate) enum BackupCommand {
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
        #[arg(long, value_parser = destination_arg)]
        dest: Option<String>,
        /// The trash instead: backups retention removed, restorable until
        /// they are purged (`backup undelete ID`).
        #[arg(long, conflicts_with = "dest")]
        trash: bool,
        /// At most this many, newest first.
        #[arg(long, default_value_t = 1000)]
        limit: i64,
        /// Print JSON (an array of backups; fields in the README).
        #[arg(long)]
        json: bool,
    },
    /// Take a backup out of the trash: it is live again.
    Undelete {
        /// Backup id (or a unique prefix of it), as `backup list --trash` shows.
        id: String,
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
pub(crate) enum RunCommand {
    /// List runs, newest first.
    List {
        /// Only this job's runs.
        #[arg(long)]
        job: Option<String>,
        /// Only runs in this state: queued, running, succeeded, partial, failed, cancelled.
        #[arg(long)]
        state: Option<RunState>,
        /// Only runs of this kind: backup, restore, verify, prune.
        #[arg(long)]
        kind: Option<RunKind>,
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
    /// Print a run's log: Sauve's steps, the dump tool's messages, sizes,
    /// retention decisions.
    Log {
        /// Run id (or a unique prefix of it).
        id: String,
        /// Keep printing what each attempt adds until the run ends.
        #[arg(long, short)]
        follow: bool,
    },
}

#[derive(Subcommand)]
pub(crate) enum NotifyCommand {
    /// Send a test notification to a channel now and say how it went.
    Test {
        /// webhook+https://…, slack://secret:NAME, discord://secret:NAME,
        /// ntfy://host/topic, smtp://host:port?from=…&to=…, ping+https://…
        uri: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List the notifications sent or waiting, newest first, and the
    /// channels that are failing.
    List {
        /// Only this job's.
        #[arg(long)]
        job: Option<String>,
        /// Only in this state: pending, sending, sent, failed.
        #[arg(long)]
        state: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// The TOML file format of `job apply` / `job export`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct JobFile {
    pub(crate) job: Vec<JobSpec>,
}

/// `sauve serve`.
#[derive(Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "SAUVE_LISTEN", default_value = "127.0.0.1:8080")]
    pub(crate) listen: String,
    /// Runs (backups, restores, verifies) this instance executes at once;
    /// 0 runs no scheduler and no workers (an API-only instance beside
    /// others that do the work).
    #[arg(long, env = "SAUVE_WORKERS", default_value_t = 2)]
    pub(crate) workers: usize,
    /// How often schedules are checked and the queue polled, in milliseconds.
    #[arg(long, env = "SAUVE_TICK_MS", default_value_t = 500)]
    pub(crate) tick_ms: u64,
    /// A claimed run whose worker is silent this long is taken over by another.
    #[arg(long, env = "SAUVE_LEASE_SECS", default_value_t = 30)]
    pub(crate) lease_secs: u64,
    /// First retry delay after a failed attempt; doubles each attempt (max 1 h).
    #[arg(long, env = "SAUVE_RETRY_BASE_SECS", default_value_t = 30)]
    pub(crate) retry_base_secs: u64,
    /// On SIGTERM/SIGINT, how long running runs may take to finish before
    /// they are stopped and handed back to the queue.
    #[arg(long, env = "SAUVE_GRACE_SECS", default_value_t = 30)]
    pub(crate) grace_secs: u64,
    /// Secret that platform cron sends to /api/cron/backup as a bearer
    /// token (at least 32 characters); unset, the trigger is off. On the
    /// command line it shows in `ps`: prefer the variable or --cron-secret-file.
    #[arg(long, env = "SAUVE_CRON_SECRET", hide_env_values = true)]
    pub(crate) cron_secret: Option<String>,
    /// A file holding the cron secret (one line).
    #[arg(long, conflicts_with = "cron_secret")]
    pub(crate) cron_secret_file: Option<PathBuf>,
    /// Mark session cookies Secure (set it when Sauve is served over HTTPS).
    #[arg(long, env = "SAUVE_SECURE_COOKIES")]
    pub(crate) secure_cookies: bool,
    /// A directory under which jobs, tests and restores written through the
    /// API and the dashboard may use local paths (repeat for several)
    /// [default: the directory serve starts in, unless that is / or a system
    /// directory]. Sauve's data directory is refused whatever this says.
    #[arg(long = "allow-path", env = "SAUVE_ALLOW_PATHS", value_delimiter = ',')]
    pub(crate) allow_paths: Vec<PathBuf>,
    /// The address people reach Sauve at (https://backups.example.com), when
    /// a proxy in front changes the Host header; sign-ins from any other
    /// origin are refused.
    #[arg(long, env = "SAUVE_PUBLIC_URL")]
    pub(crate) public_url: Option<String>,
    /// A reverse proxy's network (CIDR or address; repeat for several): only
    /// from these peers is the client address read from X-Forwarded-For.
    #[arg(long = "trusted-proxy", env = "SAUVE_TRUSTED_PROXIES", value_delimiter = ',', value_parser = cidr_arg)]
    pub(crate) trusted_proxies: Vec<ipnet::IpNet>,
    /// Connections served at once; more are closed as soon as they connect.
    #[arg(long, env = "SAUVE_MAX_CONNECTIONS", default_value_t = 4096)]
    pub(crate) max_connections: usize,
    /// A channel told about every job's failures, recoveries and staleness,
    /// beside each job's own (repeat for several; in SAUVE_NOTIFY, separate
    /// them with spaces), e.g. webhook+https://hooks.example.com/sauve.
    #[arg(long = "notify", env = "SAUVE_NOTIFY", value_delimiter = ' ')]
    pub(crate) notify: Vec<String>,
    /// How often the watchdog checks every job for staleness, in seconds.
    #[arg(long, env = "SAUVE_WATCHDOG_SECS", default_value_t = 60)]
    pub(crate) watchdog_secs: u64,
    /// Delete finished runs, purged backups' rows and settled notification
    /// deliveries older than this (in small batches, every hour); never the
    /// runs of backups still stored. 0 keeps everything.
    #[arg(long, env = "SAUVE_KEEP_RUNS", default_value = "90d", value_parser = parse_keep)]
    pub(crate) keep_runs: std::time::Duration,
    /// How a server log line looks: text for people, json (one object per
    /// line) for log collectors.
    #[arg(long, env = "SAUVE_LOG_FORMAT", default_value = "text")]
    pub(crate) log_format: LogFormat,
    /// The URL prefix Sauve is served under, when a reverse proxy mounts it
    /// inside another site (/backup serves /backup/dashboard/admin/backup,
    /// /backup/api/…); the proxy passes paths through unchanged.
    #[arg(long, env = "SAUVE_BASE_PATH", default_value = "", value_parser = base_path_arg)]
    pub(crate) base_path: sauve::server::BasePath,
    /// How long a connection may take to send a request's headers, also
    /// while idle between requests (tests shorten it).
    #[arg(long, hide = true, default_value_t = 20_000)]
    pub(crate) header_timeout_ms: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    Text,
    Json,
}

fn base_path_arg(s: &str) -> Result<sauve::server::BasePath, String> {
    s.parse()
}

/// `10.0.0.0/8`, `::1/128`, or a bare address (that one address).
fn cidr_arg(s: &str) -> Result<ipnet::IpNet, String> {
    s.parse::<ipnet::IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{s:?} is not a network; give it as 10.0.0.0/8 or an address"))
}
