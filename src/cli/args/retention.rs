//! The `retention` subcommands and the `--keep-*` flags `job create` shares.

use super::destination_arg;
use clap::{Args, Subcommand};
use sauve::policy::retention::{Count, RetentionSpec, Within};

#[derive(Subcommand)]
pub(crate) enum RetentionCommand {
    /// The policy as a pure function: reads a JSON array of
    /// {"id": "…", "time": "RFC 3339"} on standard input and prints
    /// {"keep": [{"id", "reasons"}], "remove": [{"id"}]}. Nothing is stored.
    Simulate {
        #[command(flatten)]
        keep: KeepArgs,
        /// IANA time zone the hours, days and weeks are counted in.
        #[arg(long, default_value = "UTC")]
        tz: String,
        /// Reason as of this instant (RFC 3339) instead of now: a backup
        /// after it does not count as the newest.
        #[arg(long)]
        now: Option<jiff::Timestamp>,
    },
    /// What the job's policy keeps (and why) and removes at each
    /// destination, on its real backups. Nothing is removed.
    Plan {
        job: String,
        /// Print JSON: an array of {destination, keep, remove, not_counted}.
        #[arg(long)]
        json: bool,
    },
    /// Apply the job's policy now: removed backups go to the trash (see
    /// `backup list --trash`, `backup undelete`), and the trash whose grace
    /// period is over is purged.
    Apply {
        job: String,
        /// Only at this destination.
        #[arg(long, value_parser = destination_arg)]
        dest: Option<String>,
        /// Print the plan, change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// The retention flags of `job create` and `retention simulate`, named like
/// the keys of `[job.retention]`.
#[derive(Args, Default)]
pub(crate) struct KeepArgs {
    /// Keep the N newest backups.
    #[arg(long, value_name = "N|unlimited")]
    pub(crate) keep_last: Option<Count>,
    /// Keep the newest backup of each of the last N hours that have one.
    #[arg(long, value_name = "N|unlimited")]
    pub(crate) keep_hourly: Option<Count>,
    /// Keep the newest backup of each of the last N days that have one.
    #[arg(long, value_name = "N|unlimited")]
    pub(crate) keep_daily: Option<Count>,
    /// Keep the newest backup of each of the last N ISO weeks that have one.
    #[arg(long, value_name = "N|unlimited")]
    pub(crate) keep_weekly: Option<Count>,
    /// Keep the newest backup of each of the last N months that have one.
    #[arg(long, value_name = "N|unlimited")]
    pub(crate) keep_monthly: Option<Count>,
    /// Keep the newest backup of each of the last N years that have one.
    #[arg(long, value_name = "N|unlimited")]
    pub(crate) keep_yearly: Option<Count>,
    /// Keep every backup made within this long before the newest, e.g. 1y2m3d4h.
    #[arg(long, value_name = "DURATION")]
    pub(crate) keep_within: Option<Within>,
    /// Within this long before the newest, keep the newest backup of each hour.
    #[arg(long, value_name = "DURATION")]
    pub(crate) keep_within_hourly: Option<Within>,
    /// Within this long before the newest, keep the newest backup of each day.
    #[arg(long, value_name = "DURATION")]
    pub(crate) keep_within_daily: Option<Within>,
    /// Within this long before the newest, keep the newest backup of each week.
    #[arg(long, value_name = "DURATION")]
    pub(crate) keep_within_weekly: Option<Within>,
    /// Within this long before the newest, keep the newest backup of each month.
    #[arg(long, value_name = "DURATION")]
    pub(crate) keep_within_monthly: Option<Within>,
    /// Within this long before the newest, keep the newest backup of each year.
    #[arg(long, value_name = "DURATION")]
    pub(crate) keep_within_yearly: Option<Within>,
    /// Good backups that always stay, whatever the rules say [default: 1].
    #[arg(long, value_name = "N")]
    pub(crate) min_keep: Option<u32>,
    /// How long a removed backup stays in the trash, restorable, before it
    /// is purged [default: 24h]; 0s purges at once.
    #[arg(long, value_name = "DURATION")]
    pub(crate) trash_for: Option<String>,
}

impl KeepArgs {
    /// The policy these flags write; None when no flag was given.
    pub(crate) fn spec(&self) -> Option<RetentionSpec> {
        let spec = RetentionSpec {
            keep_last: self.keep_last,
            keep_hourly: self.keep_hourly,
            keep_daily: self.keep_daily,
            keep_weekly: self.keep_weekly,
            keep_monthly: self.keep_monthly,
            keep_yearly: self.keep_yearly,
            keep_within: self.keep_within,
            keep_within_hourly: self.keep_within_hourly,
            keep_within_daily: self.keep_within_daily,
            keep_within_weekly: self.keep_within_weekly,
            keep_within_monthly: self.keep_within_monthly,
            keep_within_yearly: self.keep_within_yearly,
            min_keep: self.min_keep,
            trash_for: self.trash_for.clone(),
        };
        (spec != RetentionSpec::default()).then_some(spec)
    }
}
