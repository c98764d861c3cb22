//! Runs (one execution of a job, and its queue entry) and Backups (one artifact a
//! run stored at one destination): the records the metadata store keeps and the
//! CLI prints. Their JSON shape is the documented `--json` output.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        "{other:?} is not one of: {}",
                        [$($text),+].join(", ")
                    )),
                }
            }
        }
    };
}

string_enum!(
    /// Where a run sits in its life. `partial`: some destinations got the
    /// backup, at least one did not.
    RunState {
        Queued => "queued",
        Running => "running",
        Succeeded => "succeeded",
        Partial => "partial",
        Failed => "failed",
        Cancelled => "cancelled",
    }
);

string_enum!(
    /// Who asked for a run: the scheduler (`schedule`, or `catch_up` for a slot
    /// missed while Sauve was down), a person (`manual`: the CLI or a click on
    /// the dashboard), a program with an API token (`api`), platform cron
    /// (`cron`), or a rerun of an earlier run (`retry`).
    Trigger {
        Schedule => "schedule",
        CatchUp => "catch_up",
        Manual => "manual",
        Api => "api",
        Cron => "cron",
        Retry => "retry",
    }
);

string_enum!(
    /// What a run does. Every kind goes through the same queue and runner.
    RunKind {
        Backup => "backup",
        Restore => "restore",
        Verify => "verify",
        TestRestore => "test_restore",
        Prune => "prune",
    }
);

impl RunKind {
    /// Whether a run of `self` must wait while a run of `other` of the same
    /// job is running. The one place this rule is written: the queue's claim
    /// and the overlap check are derived from it.
    ///
    /// A backup and a restore of one job never run at once (the restore could
    /// be restoring what the backup is reading, or the other way round), nor
    /// do two of either. A verify only reads a stored artifact: it runs beside
    /// backups and other verifies; a test restore reads one and writes only
    /// into a scratch target of its own, so it runs as freely. A prune
    /// deletes backups: never beside a restore, a verify or a test restore
    /// (it could delete what they read) nor another prune; beside a backup
    /// it is safe, since a backup in flight is not yet a candidate.
    pub fn conflicts_with(self, other: RunKind) -> bool {
        use RunKind::*;
        match (self, other) {
            (Backup | Restore, Backup | Restore) => true,
            (Prune, Restore | Verify | TestRestore | Prune)
            | (Restore | Verify | TestRestore, Prune) => true,
            (Prune, Backup) | (Backup, Prune) => false,
            (Verify | TestRestore, _) | (_, Verify | TestRestore) => false,
        }
    }

    /// The kinds a run of `self` waits for.
    pub fn waits_for(self) -> Vec<RunKind> {
        RunKind::ALL
            .iter()
            .copied()
            .filter(|k| self.conflicts_with(*k))
            .collect()
    }

    /// Attempts a run of this kind gets when its job does not say. A restore
    /// is never retried behind the user's back: after a failure the target may
    /// hold part of the data (MySQL), and a person should look first.
    pub fn max_attempts(self, job_max: u32) -> u32 {
        match self {
            RunKind::Backup => job_max,
            RunKind::Verify | RunKind::TestRestore | RunKind::Prune => job_max.min(3),
            RunKind::Restore => 1,
        }
    }
}

/// What a run of a kind other than `backup` works on, stored with the run as
/// JSON so any instance's runner can execute it. Never holds a secret: keys are
/// named (environment variables, identity file paths), not included.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RunParams {
    Backup,
    Restore {
        backup: BackupLocator,
        /// Where to restore (`--to`); None for a command source's restore command.
        to: Option<String>,
        #[serde(default)]
        force: bool,
        #[serde(default)]
        keys: KeyNames,
    },
    Verify {
        backup: BackupLocator,
        #[serde(default)]
        keys: KeyNames,
    },
    /// Restore a backup into a scratch target Sauve creates and always
    /// drops, take its inventory and run the job's checks on it.
    TestRestore {
        backup: BackupLocator,
        #[serde(default)]
        keys: KeyNames,
    },
    /// A scheduled verification: re-read the share of the job's stored
    /// backups that `[job.verify]`'s coverage asks for at this slot.
    VerifyDue {
        /// The schedule slot (Unix ms) it is for.
        slot: i64,
    },
    /// Apply the job's retention policy, then purge its trash when due.
    Prune {
        /// Only this destination (canonical URI); None: every destination.
        #[serde(default)]
        destination: Option<String>,
        /// The backup run that asked for it, when it follows a backup.
        #[serde(default)]
        after_run: Option<String>,
    },
}

impl RunParams {
    pub fn kind(&self) -> RunKind {
        match self {
            RunParams::Backup => RunKind::Backup,
            RunParams::Restore { .. } => RunKind::Restore,
            RunParams::Verify { .. } | RunParams::VerifyDue { .. } => RunKind::Verify,
            RunParams::TestRestore { .. } => RunKind::TestRestore,
            RunParams::Prune { .. } => RunKind::Prune,
        }
    }
}

/// Which backup a run is about: an id in the metadata store, or (when the
/// store does not know it) an id found in a destination's manifests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupLocator {
    pub id: String,
    /// Set when the backup was found by listing this destination.
    pub destination: Option<String>,
}

/// How to decrypt, by name: the caller's choices; the job's own settings fill
/// the gaps when the run executes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyNames {
    pub passphrase_env: Option<String>,
    pub identity_file: Option<std::path::PathBuf>,
}

impl RunState {
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            RunState::Succeeded | RunState::Partial | RunState::Failed | RunState::Cancelled
        )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct Run {
    pub id: String,
    pub job: String,
    pub kind: RunKind,
    pub trigger: Trigger,
    pub state: RunState,
    #[schemars(with = "String")]
    pub queued_at: Timestamp,
    #[schemars(with = "Option<String>")]
    pub started_at: Option<Timestamp>,
    #[schemars(with = "Option<String>")]
    pub finished_at: Option<Timestamp>,
    /// Bytes read from the source, before compression.
    pub bytes_in: i64,
    /// Bytes of the artifact, after compression and encryption.
    pub bytes_out: i64,
    pub error: Option<String>,
    /// What the run and its dump tool said (stderr), capped.
    pub log: String,
    /// The schedule slot this run is for (scheduled runs only).
    #[schemars(with = "Option<String>")]
    pub scheduled_for: Option<Timestamp>,
    /// Attempts started so far (retries included).
    pub attempt: i64,
    pub max_attempts: i64,
    /// The instance holding the run's lease while it runs (`host:pid:…`).
    pub owner: Option<String>,
}

/// One stored artifact, as the store records it and `--json` prints it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct Backup {
    pub id: String,
    pub job: String,
    pub run_id: Option<String>,
    #[schemars(with = "String")]
    pub created_at: Timestamp,
    /// Size of the artifact in bytes, as stored.
    pub size: i64,
    /// Bytes the source produced, before compression.
    pub raw_size: i64,
    /// SHA-256 of the artifact as stored (hex).
    pub sha256: String,
    /// URI of the destination (never holds credentials).
    pub destination: String,
    /// Object key of the artifact within the destination.
    pub key: String,
    pub source_kind: String,
    pub compression: String,
    pub encrypted: bool,
    /// When a full re-read (`sauve verify`, a verify run) last found it good.
    #[schemars(with = "Option<String>")]
    pub verified_at: Option<Timestamp>,
    /// When a re-read found it damaged (checksum or decoding): retention
    /// does not count it; restore another.
    #[schemars(with = "Option<String>")]
    pub damaged_at: Option<Timestamp>,
    /// What that re-read found.
    pub verify_error: Option<String>,
    /// When a test restore last restored it into a scratch target and
    /// found what `test_restore` says.
    #[schemars(with = "Option<String>")]
    pub test_restored_at: Option<Timestamp>,
    /// The last test restore's report: whether it passed, the tables and
    /// their rows (or the files), the checks.
    pub test_restore: Option<super::proof::TestRestoreReport>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_kinds_may_run_together() {
        use RunKind::*;
        // (a, b, may a start while b runs?)
        let table = [
            (Backup, Backup, false),
            (Backup, Restore, false),
            (Backup, Verify, true),
            (Restore, Backup, false),
            (Restore, Restore, false),
            (Restore, Verify, true),
            (Backup, Prune, true),
            (Verify, Backup, true),
            (Verify, Restore, true),
            (Verify, Verify, true),
            (Verify, Prune, false),
            (Restore, Prune, false),
            (Prune, Backup, true),
            (Prune, Restore, false),
            (Prune, Verify, false),
            (Prune, Prune, false),
            (TestRestore, Backup, true),
            (TestRestore, Restore, true),
            (TestRestore, Verify, true),
            (TestRestore, TestRestore, true),
            (TestRestore, Prune, false),
            (Backup, TestRestore, true),
            (Restore, TestRestore, true),
            (Verify, TestRestore, true),
            (Prune, TestRestore, false),
        ];
        assert_eq!(table.len(), RunKind::ALL.len() * RunKind::ALL.len());
        for (a, b, together) in table {
            assert_eq!(!a.conflicts_with(b), together, "{a} while {b}");
            // The rule is symmetric: otherwise two workers could each start one.
            assert_eq!(a.conflicts_with(b), b.conflicts_with(a), "{a}/{b}");
        }
        assert_eq!(Verify.waits_for(), vec![Prune]);
        assert_eq!(Prune.waits_for(), vec![Restore, Verify, TestRestore, Prune]);
        assert_eq!(Backup.waits_for(), vec![Backup, Restore]);
    }

    #[test]
    fn params_round_trip_and_refuse_unknown_fields() {
        let p = RunParams::Restore {
            backup: BackupLocator {
                id: "01abc".into(),
                destination: None,
            },
            to: Some("/srv/restored".into()),
            force: false,
            keys: KeyNames::default(),
        };
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<RunParams>(&json).unwrap(), p);
        assert_eq!(p.kind(), RunKind::Restore);
        assert!(
            serde_json::from_str::<RunParams>(
                r#"{"kind":"verify","backup":{"id":"x","destination":null},"password":"s"}"#
            )
            .is_err()
        );
        assert_eq!(RunKind::Restore.max_attempts(5), 1);
        assert_eq!(RunKind::Backup.max_attempts(5), 5);
    }
}
