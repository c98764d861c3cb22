//! The service layer: every operation a person or a program can ask for, written
//! once and called by both the CLI and the HTTP handlers. It validates input,
//! authorizes nothing (callers do) but audits every change whoever asked,
//! queues runs and executes foreground ones through the runner, and classifies
//! every error once (`error.rs`). It never prints: callers decide how to show
//! results. The metadata store is private to it.
//!
//! One file per concern: `jobs.rs`, `schedule.rs`, `runs.rs`, `backups.rs`,
//! `restore.rs`, `destinations.rs`, `access.rs` (users, tokens, sessions),
//! `retention.rs` (plans, prune, trash, reconcile), `notifications.rs` (the
//! watchdog, the outbox, channel tests), `audit.rs` (who did what).

mod access;
mod audit;
mod backups;
mod destinations;
mod error;
mod guard;
mod history;
mod jobs;
mod notifications;
mod restore;
mod retention;
mod runs;
mod schedule;
mod secrets;

pub use access::{NewSession, SESSION_TTL_MS};
pub use audit::Actor;
pub use backups::BackupRef;
pub use destinations::SweepReport;
pub use error::{ErrorKind, ServiceError};
pub use history::HistoryPruned;
pub use notifications::{ChannelHealth, ChannelTest, Notifications, WatchReport};
pub use runs::{RunReport, Trends};
pub use schedule::{SchedulePreview, preview_schedule};
pub use secrets::SecretInput;

pub use crate::runner::{
    DestinationFailure, LiveProgress, PoolConfig, QueueTiming, RestoreOutcome, Stopper,
};

use crate::domain::KeyNames;
use crate::runner::Runner;
use crate::store::Store;
use std::path::PathBuf;

/// Where to find the store and the data directory, and where remote callers
/// may reach on the local file system.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    /// Roots that local paths written through the API must lie under. Empty:
    /// the working directory Sauve started in (none if that is a system
    /// directory such as `/`).
    pub allowed_paths: Vec<PathBuf>,
    /// Channels told about every job (`serve --notify`, `SAUVE_NOTIFY`).
    pub notify: Vec<String>,
    /// The address people reach Sauve at, for links in notifications.
    pub public_url: Option<String>,
}

impl Config {
    pub fn new(data_dir: PathBuf, database_url: Option<String>) -> Config {
        Config {
            data_dir,
            database_url,
            allowed_paths: vec![],
            notify: vec![],
            public_url: None,
        }
    }

    /// The roots remote callers' paths must lie under, defaults applied.
    pub fn allowed_roots(&self) -> Vec<PathBuf> {
        if !self.allowed_paths.is_empty() {
            return self.allowed_paths.clone();
        }
        let cwd = std::env::current_dir().map(|d| guard::resolve(&d));
        match cwd {
            Ok(d)
                if !crate::domain::authority::SYSTEM_DIRS
                    .iter()
                    .any(|s| d == std::path::Path::new(s)) =>
            {
                vec![d]
            }
            _ => vec![],
        }
    }
}

/// How to decrypt, as the caller knows it; the job's own settings fill the gaps.
pub type KeyOptions = KeyNames;

#[derive(Clone)]
pub struct Sauve {
    store: Store,
    runner: Runner,
    /// Where local paths may lie, and Sauve's own data they may never touch.
    paths: std::sync::Arc<crate::domain::PathRules>,
}

impl Sauve {
    pub async fn open(config: &Config) -> Result<Sauve, ServiceError> {
        Self::open_with(config, QueueTiming::default()).await
    }

    /// Opens with the lease and retry timing `sauve serve` was given.
    pub async fn open_with(config: &Config, timing: QueueTiming) -> Result<Sauve, ServiceError> {
        let output = |source| ServiceError::Output {
            path: config.data_dir.display().to_string(),
            source,
        };
        // A new data directory is the operator's alone: it holds the store
        // and the master key. One that exists keeps the mode it was given.
        if !config.data_dir.exists() {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&config.data_dir)
                .map_err(output)?;
        }
        let url = config
            .database_url
            .clone()
            .unwrap_or_else(|| Store::default_url(&config.data_dir));
        let store = Store::connect(&url).await?;
        let mut protected = vec![config.data_dir.clone()];
        // The store file, its -wal/-shm/-journal siblings: its directory.
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let file = rest
                .trim_start_matches("//")
                .split('?')
                .next()
                .unwrap_or("");
            if let Some(dir) = std::path::Path::new(file).parent() {
                let dir = if dir.as_os_str().is_empty() {
                    std::path::Path::new(".")
                } else {
                    dir
                };
                protected.push(dir.to_path_buf());
            }
        }
        let mut defaults = Vec::new();
        let mut errors = crate::domain::ValidationErrors::new();
        for (i, uri) in config.notify.iter().enumerate() {
            match crate::domain::Channel::parse(uri) {
                Ok(c) => defaults.push(c),
                Err(e) => errors.extend_prefixed(&format!("notify[{i}]"), e),
            }
        }
        if !errors.is_empty() {
            return Err(errors.into());
        }
        let notify = crate::runner::NotifyConfig {
            defaults,
            public_url: config.public_url.clone(),
        };
        Ok(Sauve {
            runner: Runner::new(store.clone(), config.data_dir.clone(), timing).with_notify(notify),
            store,
            paths: std::sync::Arc::new(guard::resolved_rules(&config.allowed_roots(), &protected)),
        })
    }

    /// The runner, for the serve loop's pool.
    pub fn runner(&self) -> &Runner {
        &self.runner
    }

    /// Whether the metadata store answers (`/readyz`).
    pub async fn ready(&self) -> Result<(), ServiceError> {
        Ok(self.store.ping().await?)
    }

    /// What `/metrics` shows, read at scrape time.
    pub async fn metrics(&self) -> Result<crate::store::MetricsSnapshot, ServiceError> {
        let mut m = self.store.metrics().await?;
        // Keyed by job id: a job deleted and created again starts fresh.
        let health: std::collections::HashMap<String, bool> = self
            .store
            .all_health()
            .await?
            .into_iter()
            .map(|(job, h)| (job, h.stale.is_some()))
            .collect();
        m.stale = self
            .store
            .jobs()
            .await?
            .into_iter()
            .map(|j| {
                let stale = health.get(&j.id).copied().unwrap_or(false);
                (j.name, stale)
            })
            .collect();
        Ok(m)
    }
}

/// Names this process in run records (`host:pid`).
pub fn instance_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    format!("{host}:{}", std::process::id())
}
