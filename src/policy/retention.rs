//! The retention policy: which of a job's backups to keep and which to
//! remove. The rules are restic's `forget` policy, applied exactly as restic's
//! `ApplyPolicy` applies them (restic 0.17+, `internal/data/snapshot_policy.go`),
//! so a policy copied from a restic set-up keeps the same backups here. Sauve
//! adds safety floors on top: the newest backup always stays, `min_keep` good
//! backups stay whatever the rules say, and a plan whose rules would keep
//! nothing is refused rather than carried out. The module is pure: no clock, no
//! I/O; [`plan`] is given the instant it reasons from and the time zone whose
//! calendar the hourly, daily, weekly, monthly and yearly buckets follow.
//!
//! Where it departs from restic it does so on purpose: reasons are named by
//! Sauve's keys (`keep_daily`, not "daily snapshot"); buckets follow one zone
//! for every backup, not each snapshot's recorded offset; durations refuse
//! what restic lets through (negative numbers, a unit given twice); and no
//! rule at all keeps everything, as `restic forget` without a policy does.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use jiff::civil::{Date, DateTime};
use jiff::tz::{Offset, TimeZone};
use jiff::{SignedDuration, Span, Timestamp};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

mod spec;
#[cfg(test)]
mod tests;
mod units;

pub use spec::RetentionSpec;
use units::*;
pub use units::{Count, ParseError, Within, parse_trash_for};

/// How long a removed backup waits in the trash when `trash_for` is not written.
pub const DEFAULT_TRASH_FOR: Duration = Duration::from_secs(24 * 60 * 60);
/// How many good backups stay whatever the rules say when `min_keep` is not written.
pub const DEFAULT_MIN_KEEP: u32 = 1;
/// A larger `min_keep` is far more likely a typo than a wish.
pub const MAX_MIN_KEEP: u32 = 10_000;

const EMPTY_POLICY: &str = "empty policy (keeps everything)";
const NEWEST: &str = "newest backup";
const NEWEST_PRESENT: &str = "newest backup not dated in the future";

/// restic's `ExpirePolicy` without tags: a count of 0 or a zero or missing
/// duration is a rule not set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rules {
    pub last: Count,
    pub hourly: Count,
    pub daily: Count,
    pub weekly: Count,
    pub monthly: Count,
    pub yearly: Count,
    pub within: Option<Within>,
    pub within_hourly: Option<Within>,
    pub within_daily: Option<Within>,
    pub within_weekly: Option<Within>,
    pub within_monthly: Option<Within>,
    pub within_yearly: Option<Within>,
}

impl Rules {
    /// No rule set: restic's empty policy.
    pub fn is_empty(&self) -> bool {
        self.counts().iter().all(|(_, _, count)| count.is_off())
            && self
                .windows()
                .all(|(_, within)| within.is_none_or(|w| w.is_zero()))
    }

    /// The count rules in restic's order, with the keys that name them.
    fn counts(&self) -> [(&'static str, Bucket, Count); 6] {
        [
            ("keep_last", Bucket::Each, self.last),
            ("keep_hourly", Bucket::Hour, self.hourly),
            ("keep_daily", Bucket::Day, self.daily),
            ("keep_weekly", Bucket::IsoWeek, self.weekly),
            ("keep_monthly", Bucket::Month, self.monthly),
            ("keep_yearly", Bucket::Year, self.yearly),
        ]
    }

    /// The bucketed duration rules in restic's order.
    fn bucketed_windows(&self) -> [(&'static str, Bucket, Option<Within>); 5] {
        [
            ("keep_within_hourly", Bucket::Hour, self.within_hourly),
            ("keep_within_daily", Bucket::Day, self.within_daily),
            ("keep_within_weekly", Bucket::IsoWeek, self.within_weekly),
            ("keep_within_monthly", Bucket::Month, self.within_monthly),
            ("keep_within_yearly", Bucket::Year, self.within_yearly),
        ]
    }

    /// Every duration rule with its key, `keep_within` first.
    fn windows(&self) -> impl Iterator<Item = (&'static str, Option<Within>)> {
        let bucketed = self
            .bucketed_windows()
            .into_iter()
            .map(|(key, _, within)| (key, within));
        std::iter::once(("keep_within", self.within)).chain(bucketed)
    }
}

/// A validated [`RetentionSpec`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub rules: Rules,
    /// Good backups that stay whatever the rules say (the newest always does).
    pub min_keep: u32,
    /// Grace period between removing a backup and purging it.
    pub trash_for: Duration,
}

impl Default for Policy {
    /// What an absent `[retention]` table means: keep everything.
    fn default() -> Self {
        Policy {
            rules: Rules::default(),
            min_keep: DEFAULT_MIN_KEEP,
            trash_for: DEFAULT_TRASH_FOR,
        }
    }
}

/// A complete, good backup that the policy may keep or remove.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Candidate {
    pub id: String,
    /// When the backup was taken (RFC 3339 in JSON, e.g. `2024-05-01T02:00:00Z`).
    pub time: Timestamp,
}

/// What [`plan`] decided: every candidate is in exactly one list, both newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Plan {
    pub keep: Vec<Kept>,
    pub remove: Vec<Removed>,
    /// Set when the plan was refused: then nothing is removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

/// A backup the plan keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Kept {
    pub id: String,
    /// Every rule that keeps it, named by its key, in restic's order
    /// (`keep_within 7d`, `keep_daily`, `oldest keep_monthly`, …), or the
    /// floor that does (`newest backup`, `min_keep 3`, `refused: …`).
    pub reasons: Vec<String>,
}

/// A backup the plan removes (to the trash, for `trash_for`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Removed {
    pub id: String,
}

impl Plan {
    pub fn kept_ids(&self) -> Vec<&str> {
        self.keep.iter().map(|k| k.id.as_str()).collect()
    }

    pub fn removed_ids(&self) -> Vec<&str> {
        self.remove.iter().map(|r| r.id.as_str()).collect()
    }
}

/// Which of `candidates` to keep under `policy`: restic's rules, then Sauve's
/// floors. Hours, days, ISO weeks, months and years are those of `tz`'s wall
/// clock, and the `keep_within*` windows count calendar time in `tz` too;
/// `now` only tells which backups lie in the future, which restic does not
/// let stand as the newest that windows count back from.
pub fn plan(policy: &Policy, candidates: &[Candidate], tz: &TimeZone, now: Timestamp) -> Plan {
    let mut sorted: Vec<&Candidate> = candidates.iter().collect();
    // Stable, like restic's sort.Stable: equal times keep the order given.
    sorted.sort_by_key(|candidate| Reverse(candidate.time));
    let reasons = apply_rules(&policy.rules, &sorted, tz, now);
    let mut verdicts: Vec<Verdict> = sorted
        .iter()
        .zip(reasons)
        .map(|(candidate, reasons)| Verdict {
            id: candidate.id.clone(),
            reasons,
        })
        .collect();
    // One instance with its clock a year ahead must not make the newest-backup
    // floor protect only its backup: the newest one not dated in the future
    // stays too. (When the rules keep nothing the plan is refused anyway.)
    if verdicts.iter().any(|v| !v.reasons.is_empty())
        && let Some(i) = sorted.iter().position(|c| c.time < now)
        && verdicts[i].reasons.is_empty()
    {
        verdicts[i].reasons.push(NEWEST_PRESENT.to_owned());
    }
    apply_floors(verdicts, policy.min_keep)
}

/// One candidate's fate so far; no reason means it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Verdict {
    id: String,
    reasons: Vec<String>,
}

/// restic's `ApplyPolicy` over `sorted` (newest first): each candidate's
/// reasons to stay, in restic's rule order, empty for those it removes.
fn apply_rules(
    rules: &Rules,
    sorted: &[&Candidate],
    tz: &TimeZone,
    now: Timestamp,
) -> Vec<Vec<String>> {
    if rules.is_empty() {
        return vec![vec![EMPTY_POLICY.to_owned()]; sorted.len()];
    }
    // Windows count back from the newest backup not in the future, so one
    // backup stamped by a machine with a wrong clock does not drag them along.
    let latest = sorted.iter().map(|c| c.time).filter(|&t| t < now).max();
    let window = |within: Option<Within>| {
        let within = within.filter(|w| !w.is_zero())?;
        Some((within, Window::back_from(latest, within, tz)))
    };
    let keep_within = window(rules.within);
    let mut counts = rules
        .counts()
        .map(|(key, bucket, count)| (count, Walk::new(key.to_owned(), bucket)));
    let windows = rules
        .bucketed_windows()
        .into_iter()
        .filter_map(|(key, bucket, within)| {
            let (within, start) = window(within)?;
            Some((start, Walk::new(format!("{key} {within}"), bucket)))
        });
    let mut windows: Vec<(Window, Walk)> = windows.collect();
    let oldest = sorted.len().saturating_sub(1);
    let verdict = |(nr, candidate): (usize, &&Candidate)| {
        let wall = tz.to_datetime(candidate.time);
        let mut reasons = Vec::new();
        if let Some((within, start)) = keep_within
            && start.contains(candidate.time)
        {
            reasons.push(format!("keep_within {within}"));
        }
        for (left, walk) in &mut counts {
            // A spent count keeps nothing more, not even the oldest backup.
            if !left.is_off()
                && let Some(reason) = walk.admit(wall, nr == oldest)
            {
                left.spend_one();
                reasons.push(reason);
            }
        }
        for (start, walk) in &mut windows {
            if start.contains(candidate.time)
                && let Some(reason) = walk.admit(wall, nr == oldest)
            {
                reasons.push(reason);
            }
        }
        reasons
    };
    sorted.iter().enumerate().map(verdict).collect()
}

/// A bucket rule's progress down the newest-first list.
struct Walk {
    reason: String,
    bucket: Bucket,
    last: Option<BucketKey>,
}

impl Walk {
    fn new(reason: String, bucket: Bucket) -> Self {
        let last = None;
        Walk {
            reason,
            bucket,
            last,
        }
    }

    /// restic keeps the first candidate of each bucket, and the oldest
    /// candidate even when its bucket is already kept, "to maximize the
    /// history length kept"; the reason then says "oldest".
    fn admit(&mut self, wall: DateTime, is_oldest: bool) -> Option<String> {
        let key = self.bucket.key(wall);
        let fresh = key.is_none() || key != self.last;
        if !fresh && !is_oldest {
            return None;
        }
        self.last = key;
        Some(if fresh {
            self.reason.clone()
        } else {
            format!("oldest {}", self.reason)
        })
    }
}

#[derive(Debug, Clone, Copy)]
enum Bucket {
    Each,
    Hour,
    Day,
    IsoWeek,
    Month,
    Year,
}

type BucketKey = (i16, i8, i8, i8);

impl Bucket {
    /// restic's bucket numbers (YYYYMMDDHH, YYYYMMDD, ISO year and week,
    /// YYYYMM, YYYY) as tuples, equal exactly when those numbers are, read off
    /// the wall clock of the plan's zone. `Each` (keep_last) gives every
    /// candidate a bucket of its own.
    fn key(self, wall: DateTime) -> Option<BucketKey> {
        let (year, month, day) = (wall.year(), wall.month(), wall.day());
        match self {
            Bucket::Each => None,
            Bucket::Hour => Some((year, month, day, wall.hour())),
            Bucket::Day => Some((year, month, day, 0)),
            Bucket::IsoWeek => {
                let week = wall.date().iso_week_date();
                Some((week.year(), week.week(), 0, 0))
            }
            Bucket::Month => Some((year, month, 0, 0)),
            Bucket::Year => Some((year, 0, 0, 0)),
        }
    }
}

/// Where a `keep_within*` window opens; restic keeps what is strictly later.
#[derive(Debug, Clone, Copy)]
enum Window {
    Everything,
    After(Timestamp),
}

impl Window {
    fn back_from(latest: Option<Timestamp>, within: Within, tz: &TimeZone) -> Window {
        // With no backup before now restic counts back from Go's zero time,
        // year 1, before which no real backup lies.
        let start = latest.and_then(|latest| window_start(latest, within, tz));
        start.map_or(Window::Everything, Window::After)
    }

    fn contains(self, time: Timestamp) -> bool {
        match self {
            Window::Everything => true,
            Window::After(start) => time > start,
        }
    }
}

/// Go's `latest.AddDate(-y, -m, -d).Add(-h * time.Hour)` in `tz`, restic's
/// window start. The wall-clock date moves back with Go's normalisation
/// (March 31 minus a month is "February 31", which Go reads as March 3;
/// jiff's arithmetic would clamp to February 28), keeps its time of day, is
/// resolved in `tz` as Go resolves it, then loses the hours as elapsed time.
/// `None` when that leaves jiff's range (a window reaching back past year
/// -9999, or a latest at the year-9999 edge): the caller then keeps everything.
fn window_start(latest: Timestamp, within: Within, tz: &TimeZone) -> Option<Timestamp> {
    let wall = tz.to_datetime(latest);
    let months = i64::from(wall.year()) * 12 + i64::from(wall.month() - 1)
        - i64::from(within.years) * 12
        - i64::from(within.months);
    let year = i16::try_from(months.div_euclid(12)).ok()?;
    let month = i8::try_from(months.rem_euclid(12) + 1).ok()?;
    let days = i64::from(wall.day()) - 1 - i64::from(within.days);
    let date = Date::new(year, month, 1)
        .ok()?
        .checked_add(Span::new().try_days(days).ok()?)
        .ok()?;
    let start = go_date(date.to_datetime(wall.time()), tz)?;
    start
        .checked_sub(SignedDuration::from_hours(i64::from(within.hours)))
        .ok()
}

/// The instant Go's `time.Date` gives a wall-clock time in `tz`: the offset in
/// force at the wall time read as UTC, re-read at the instant that offset
/// gives. In a gap or a repeated hour this picks a side by where the zone is
/// (east of Greenwich the later instant, west the earlier), not as jiff's
/// `compatible` does. Even with nothing to move, a time in the first pass of
/// a repeated hour comes back an hour later in Paris: so restic's 1h window
/// from a newest backup at 02:30 CEST on 2021-10-31 opens at that backup.
fn go_date(wall: DateTime, tz: &TimeZone) -> Option<Timestamp> {
    let guess = tz.to_offset(Offset::UTC.to_timestamp(wall).ok()?);
    let offset = tz.to_offset(guess.to_timestamp(wall).ok()?);
    offset.to_timestamp(wall).ok()
}

const REFUSED_REASON: &str = "refused: the rules keep no backup";

/// Sauve's floors over the rules' verdicts (newest first): a plan that keeps
/// nothing is refused whole, the newest backup stays, and the newest of the
/// others stay until `min_keep` do.
fn apply_floors(mut verdicts: Vec<Verdict>, min_keep: u32) -> Plan {
    let total = verdicts.len();
    if total > 0 && verdicts.iter().all(|v| v.reasons.is_empty()) {
        // restic's rules keep the newest backup in all but one corner (a 1h
        // window read from the first pass of a repeated hour, see go_date),
        // and would then delete every backup: never worth carrying out.
        for verdict in &mut verdicts {
            verdict.reasons.push(REFUSED_REASON.to_owned());
        }
        let all = match total {
            1 => "the only backup".to_owned(),
            n => format!("all {n} backups"),
        };
        let message = format!("the retention rules would remove {all}; none is removed");
        return into_plan(verdicts, Some(message));
    }
    if let Some(newest) = verdicts.first_mut()
        && newest.reasons.is_empty()
    {
        newest.reasons.push(NEWEST.to_owned());
    }
    let floor = usize::try_from(min_keep).unwrap_or(usize::MAX);
    let kept = verdicts.iter().filter(|v| !v.reasons.is_empty()).count();
    let short = floor.saturating_sub(kept);
    for verdict in verdicts
        .iter_mut()
        .filter(|v| v.reasons.is_empty())
        .take(short)
    {
        verdict.reasons.push(format!("min_keep {min_keep}"));
    }
    into_plan(verdicts, None)
}

fn into_plan(verdicts: Vec<Verdict>, refused: Option<String>) -> Plan {
    let mut plan = Plan {
        keep: Vec::new(),
        remove: Vec::new(),
        refused,
    };
    for Verdict { id, reasons } in verdicts {
        if reasons.is_empty() {
            plan.remove.push(Removed { id });
        } else {
            plan.keep.push(Kept { id, reasons });
        }
    }
    plan
}
