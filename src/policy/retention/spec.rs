//! `RetentionSpec`: a policy as written (TOML, JSON, flags), its validation
//! into a [`Policy`], and a destination's own table over the job's.

use super::*;

/// A `[retention]` table as written, in a job's TOML (`[job.retention]`), a
/// destination's own table, or the API's JSON. Each rule is restic's flag of
/// that name, and as in restic a count not yet spent when the oldest backup is
/// reached keeps that one too. [`RetentionSpec::validate`] turns the table
/// into the [`Policy`] that [`plan`] applies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionSpec {
    /// Keep the N newest backups (restic `--keep-last`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_last: Option<Count>,
    /// Keep the newest backup of each of the N latest hours that have one (`--keep-hourly`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_hourly: Option<Count>,
    /// Keep the newest backup of each of the N latest days that have one (`--keep-daily`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_daily: Option<Count>,
    /// Keep the newest backup of each of the N latest ISO weeks that have one (`--keep-weekly`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_weekly: Option<Count>,
    /// Keep the newest backup of each of the N latest months that have one (`--keep-monthly`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_monthly: Option<Count>,
    /// Keep the newest backup of each of the N latest years that have one (`--keep-yearly`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_yearly: Option<Count>,
    /// Keep every backup taken less than this before the newest one, e.g. `7d` (`--keep-within`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_within: Option<Within>,
    /// Keep the newest backup of each hour within this of the newest (`--keep-within-hourly`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_within_hourly: Option<Within>,
    /// Keep the newest backup of each day within this of the newest (`--keep-within-daily`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_within_daily: Option<Within>,
    /// Keep the newest backup of each ISO week within this of the newest (`--keep-within-weekly`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_within_weekly: Option<Within>,
    /// Keep the newest backup of each month within this of the newest (`--keep-within-monthly`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_within_monthly: Option<Within>,
    /// Keep the newest backup of each year within this of the newest (`--keep-within-yearly`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_within_yearly: Option<Within>,
    /// Good backups kept whatever the rules say, newest first: default 1, at most 10000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = MAX_MIN_KEEP))]
    pub min_keep: Option<u32>,
    /// Grace period before a removed backup is purged: default `24h`, `0s` at once; units d h m s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(TRASH_FOR_PATTERN))]
    pub trash_for: Option<String>,
}

impl RetentionSpec {
    /// The policy this table asks for, or every problem in it as
    /// `(TOML key, message)`.
    pub fn validate(&self) -> Result<Policy, Vec<(String, String)>> {
        let rules = self.rules();
        let mut errors: Vec<(String, String)> = rules
            .windows()
            .filter(|(_, within)| within.is_some_and(|w| w.is_zero()))
            .map(|(key, _)| (key.to_string(), ZERO_WITHIN.to_owned()))
            .collect();
        let min_keep = self.min_keep.unwrap_or(DEFAULT_MIN_KEEP);
        if min_keep > MAX_MIN_KEEP {
            let message = format!("min_keep is at most {MAX_MIN_KEEP}, not {min_keep}");
            errors.push(("min_keep".to_owned(), message));
        }
        let trash_for = match self.trash_for.as_deref().map(parse_trash_for) {
            None => DEFAULT_TRASH_FOR,
            Some(Ok(duration)) => duration,
            Some(Err(error)) => {
                errors.push(("trash_for".to_owned(), error.to_string()));
                DEFAULT_TRASH_FOR
            }
        };
        if errors.is_empty() {
            Ok(Policy {
                rules,
                min_keep,
                trash_for,
            })
        } else {
            Err(errors)
        }
    }

    /// No keep rule is written, or every one written is off: restic's empty
    /// policy, which [`plan`] takes as "keep everything".
    pub fn is_empty_rules(&self) -> bool {
        self.rules().is_empty()
    }

    /// The spec a destination with its own `[retention]` table runs under,
    /// `self` being the job's. If `dest` writes any `keep_*` key (even one
    /// set to 0), its keep rules replace the job's as a whole, so a local copy
    /// "kept 7 days" does not also pick up the job's 12 monthly; with none,
    /// the job's rules apply. `min_keep` and `trash_for` are taken one by one:
    /// the destination's where written, else the job's.
    pub fn override_with(&self, dest: &RetentionSpec) -> RetentionSpec {
        let rules_from = if dest.writes_keep_rule() { dest } else { self };
        RetentionSpec {
            min_keep: dest.min_keep.or(self.min_keep),
            trash_for: dest.trash_for.clone().or_else(|| self.trash_for.clone()),
            ..rules_from.clone()
        }
    }

    // Every field but these two is a keep rule, so a new rule is counted here unasked.
    fn writes_keep_rule(&self) -> bool {
        let rules_only = RetentionSpec {
            min_keep: None,
            trash_for: None,
            ..self.clone()
        };
        rules_only != RetentionSpec::default()
    }

    fn rules(&self) -> Rules {
        Rules {
            last: self.keep_last.unwrap_or_default(),
            hourly: self.keep_hourly.unwrap_or_default(),
            daily: self.keep_daily.unwrap_or_default(),
            weekly: self.keep_weekly.unwrap_or_default(),
            monthly: self.keep_monthly.unwrap_or_default(),
            yearly: self.keep_yearly.unwrap_or_default(),
            within: self.keep_within,
            within_hourly: self.keep_within_hourly,
            within_daily: self.keep_within_daily,
            within_weekly: self.keep_within_weekly,
            within_monthly: self.keep_within_monthly,
            within_yearly: self.keep_within_yearly,
        }
    }
}
