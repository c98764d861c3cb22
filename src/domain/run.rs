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
    /// What asked for a run.
    Trigger {
        Schedule => "schedule",
        Manual => "manual",
        Cron => "cron",
        Retry => "retry",
        Restore => "restore",
    }
);

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
}
