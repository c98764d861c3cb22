//! When jobs run: the schedule grammar, next-fire computation and the rules for
//! daylight-saving changes. Pure: no clock is read here, every function takes the
//! instant it reasons from.
//!
//! Grammar (case-insensitive):
//! `daily at 02:00` · `weekly on mon,thu at 02:00` · `monthly on 1,15 at 03:30` ·
//! `monthly on last at 23:00` · `every 6h` / `every 15m` / `every 30s` ·
//! `cron "0 2 * * *"` (5 or 6 fields, with L, W and #, via croner).
//!
//! Time zones and DST, the same for every form, cron included:
//! - a local time that does not exist (spring forward) fires at the first instant
//!   after the gap, i.e. at the transition itself;
//! - a local time that happens twice (fall back) fires once, at its first occurrence;
//! - `every` intervals are absolute durations, aligned on the Unix epoch, so every
//!   instance computes the same slots (that is what makes a slot's run unique).

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{Timestamp, ToSpan};
use std::fmt;

/// A parsed schedule with its time zone.
#[derive(Clone)]
pub struct Schedule {
    kind: Kind,
    tz: TimeZone,
    tz_name: String,
    spec: String,
}

#[derive(Clone)]
enum Kind {
    Daily(Time),
    Weekly(Vec<Weekday>, Time),
    Monthly(Vec<MonthDay>, Time),
    Every(i64),
    Cron(Box<croner::Cron>),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum MonthDay {
    Day(i8),
    Last,
}

/// A schedule in parts ([`Schedule::shape`]): times are (hour, minute),
/// weekdays 1 (Monday) to 7.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    Daily {
        at: (i8, i8),
    },
    Weekly {
        days: Vec<i8>,
        at: (i8, i8),
    },
    /// Days of the month; None is the last.
    Monthly {
        days: Vec<Option<i8>>,
        at: (i8, i8),
    },
    Every {
        secs: i64,
    },
    /// Cron's own English words for it (croner's), and its expression.
    Cron {
        english: String,
        expr: String,
    },
}

/// What is wrong with a schedule, pointing at the token at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleError {
    pub spec: String,
    pub token: Option<String>,
    pub message: String,
}

impl std::error::Error for ScheduleError {}

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "schedule {:?}: ", self.spec)?;
        match &self.token {
            // "thx" is not a weekday… / at "02:00": expected "at HH:MM" here
            Some(t) if self.message.starts_with("is ") => write!(f, "{t:?} {}", self.message),
            Some(t) => write!(f, "at {t:?}: {}", self.message),
            None => write!(f, "{}", self.message),
        }
    }
}

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Schedule({:?} in {})", self.spec, self.tz_name)
    }
}

const WEEKDAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Monday),
    ("tue", Weekday::Tuesday),
    ("wed", Weekday::Wednesday),
    ("thu", Weekday::Thursday),
    ("fri", Weekday::Friday),
    ("sat", Weekday::Saturday),
    ("sun", Weekday::Sunday),
];

/// A search for the next slot never looks further than this (a `monthly on 31`
/// skips short months; nothing else needs more than a few weeks).
const HORIZON_DAYS: i32 = 5 * 366;

impl Schedule {
    /// Parses `spec` in the IANA time zone `tz` (e.g. `Europe/Paris`, `UTC`).
    pub fn parse(spec: &str, tz: &str) -> Result<Schedule, ScheduleError> {
        let err = |token: Option<&str>, message: String| ScheduleError {
            spec: spec.to_string(),
            token: token.map(String::from),
            message,
        };
        let zone = TimeZone::get(tz).map_err(|_| {
            err(
                Some(tz),
                format!("{tz:?} is not a known IANA time zone (e.g. UTC, Europe/Paris, America/New_York)"),
            )
        })?;
        let trimmed = spec.trim();
        let lower = trimmed.to_ascii_lowercase();
        let words: Vec<&str> = lower.split_whitespace().collect();
        let at_time = |words: &[&str]| -> Result<Time, ScheduleError> {
            match words {
                ["at", t] => parse_time(t).ok_or_else(|| {
                    err(
                        Some(t),
                        "is not a time of day; write HH:MM, 24-hour (e.g. 02:00)".into(),
                    )
                }),
                [] => Err(err(None, "missing \"at HH:MM\" at the end".into())),
                [w, ..] => Err(err(Some(w), "expected \"at HH:MM\" here".into())),
            }
        };
        let kind = match words.as_slice() {
            [] => return Err(err(None, "is empty; write e.g. \"daily at 02:00\"".into())),
            ["daily", rest @ ..] => Kind::Daily(at_time(rest)?),
            ["weekly", "on", days, rest @ ..] => {
                let mut list = Vec::new();
                for d in days.split(',') {
                    let wd = WEEKDAYS
                        .iter()
                        .find(|(name, _)| {
                            d == *name || (d.len() > 3 && full_day_name(d) == Some(*name))
                        })
                        .map(|(_, wd)| *wd)
                        .ok_or_else(|| {
                            err(
                                Some(d),
                                "is not a weekday; use mon, tue, wed, thu, fri, sat, sun".into(),
                            )
                        })?;
                    if !list.contains(&wd) {
                        list.push(wd);
                    }
                }
                list.sort_by_key(|w| w.to_monday_one_offset());
                Kind::Weekly(list, at_time(rest)?)
            }
            ["monthly", "on", days, rest @ ..] => {
                let mut list = Vec::new();
                for d in days.split(',') {
                    let md = if d == "last" {
                        MonthDay::Last
                    } else {
                        match d.parse::<i8>() {
                            Ok(n) if (1..=31).contains(&n) => MonthDay::Day(n),
                            _ => {
                                return Err(err(
                                    Some(d),
                                    "is not a day of the month; use 1 to 31, or last".into(),
                                ));
                            }
                        }
                    };
                    if !list.contains(&md) {
                        list.push(md);
                    }
                }
                Kind::Monthly(list, at_time(rest)?)
            }
            ["weekly" | "monthly", w, ..] if *w != "on" => {
                return Err(err(
                    Some(w),
                    format!(
                        "expected \"on\" here, e.g. \"{} on {} at 02:00\"",
                        words[0],
                        if words[0] == "weekly" {
                            "mon,thu"
                        } else {
                            "1,15"
                        }
                    ),
                ));
            }
            ["weekly" | "monthly"] | ["weekly" | "monthly", "on"] => {
                return Err(err(
                    None,
                    format!(
                        "say which days, e.g. \"{} on {} at 02:00\"",
                        words[0],
                        if words[0] == "weekly" {
                            "mon,thu"
                        } else {
                            "1,15"
                        }
                    ),
                ));
            }
            ["every", n] => {
                let secs = parse_interval(n).ok_or_else(|| {
                    err(
                        Some(n),
                        "is not an interval; write e.g. 6h, 15m or 30s".into(),
                    )
                })?;
                Kind::Every(secs)
            }
            ["every", _, extra, ..] => {
                return Err(err(Some(extra), "unexpected after the interval".into()));
            }
            ["cron", ..] => {
                let expr = cron_expr(trimmed);
                if expr.is_empty() {
                    return Err(err(
                        None,
                        "cron needs an expression, e.g. cron \"0 2 * * *\"".into(),
                    ));
                }
                let fields = expr.split_whitespace().count();
                if !(5..=6).contains(&fields) {
                    return Err(err(
                        Some(expr),
                        format!("a cron expression has 5 or 6 fields, this one has {fields}"),
                    ));
                }
                let cron = croner::parser::CronParser::builder()
                    .seconds(croner::parser::Seconds::Optional)
                    .build()
                    .parse(expr)
                    .map_err(|e| err(Some(expr), format!("is not a valid cron expression: {e}")))?;
                Kind::Cron(Box::new(cron))
            }
            [w, ..] => {
                return Err(err(
                    Some(w),
                    "unknown schedule; use daily, weekly, monthly, every or cron".into(),
                ));
            }
        };
        let schedule = Schedule {
            kind,
            tz: zone,
            tz_name: tz.to_string(),
            spec: trimmed.to_string(),
        };
        // A cron expression can be valid and match no date (`0 0 30 2 *`):
        // such a job would look scheduled and never run. Any real schedule
        // fires within a few years of any instant; a fixed one keeps this pure.
        if let Kind::Cron(_) = &schedule.kind {
            let from = Timestamp::from_second(1_767_225_600).expect("2026-01-01 is a timestamp");
            if schedule.next_after(from).is_none() {
                return Err(err(
                    None,
                    "this cron expression matches no date (e.g. February 30), so the job would never run; check the day and month fields".into(),
                ));
            }
        }
        Ok(schedule)
    }

    pub fn spec(&self) -> &str {
        &self.spec
    }

    pub fn time_zone(&self) -> &str {
        &self.tz_name
    }

    /// The first slot strictly after `t`.
    pub fn next_after(&self, t: Timestamp) -> Option<Timestamp> {
        match &self.kind {
            Kind::Every(secs) => {
                let s = t.as_second();
                let next = (s.div_euclid(*secs) + 1) * secs;
                Timestamp::from_second(next).ok()
            }
            Kind::Cron(cron) => self.next_cron(cron, t),
            _ => {
                // Start a day early: a slot on the previous local date can still be
                // after `t` around a DST change or a zone far from UTC.
                let mut day = t
                    .to_zoned_datetime(self.tz.clone())
                    .date()
                    .yesterday()
                    .ok()?;
                for _ in 0..HORIZON_DAYS {
                    if let Some(time) = self.time_on(day) {
                        let slot = self.resolve(day.to_datetime(time))?;
                        if slot > t {
                            return Some(slot);
                        }
                    }
                    day = day.tomorrow().ok()?;
                }
                None
            }
        }
    }

    /// The next `n` slots after `t`.
    pub fn upcoming(&self, t: Timestamp, n: usize) -> Vec<Timestamp> {
        let mut out = Vec::with_capacity(n);
        let mut cur = t;
        while out.len() < n {
            match self.next_after(cur) {
                Some(next) => {
                    out.push(next);
                    cur = next;
                }
                None => break,
            }
        }
        out
    }

    /// The latest slot in `(after, now]`, if any: what a catch-up runs once
    /// after downtime, instead of a burst of every missed slot.
    pub fn latest_between(&self, after: Timestamp, now: Timestamp) -> Option<Timestamp> {
        if let Kind::Every(secs) = self.kind {
            let last = Timestamp::from_second(now.as_second().div_euclid(secs) * secs).ok()?;
            return (last > after).then_some(last);
        }
        let mut latest = None;
        let mut cur = after;
        // Bounded: a schedule missed for years still answers quickly enough, and
        // only the last slot matters.
        for _ in 0..100_000 {
            match self.next_after(cur) {
                Some(next) if next <= now => {
                    latest = Some(next);
                    cur = next;
                }
                _ => break,
            }
        }
        latest
    }

    /// The time a calendar schedule fires on `day`, if it fires that day.
    fn time_on(&self, day: Date) -> Option<Time> {
        match &self.kind {
            Kind::Daily(t) => Some(*t),
            Kind::Weekly(days, t) => days.contains(&day.weekday()).then_some(*t),
            Kind::Monthly(days, t) => days
                .iter()
                .any(|d| match d {
                    MonthDay::Day(n) => day.day() == *n,
                    MonthDay::Last => day == day.last_of_month(),
                })
                .then_some(*t),
            Kind::Every(_) | Kind::Cron(_) => None,
        }
    }

    /// The instant a local date-time means, by the DST rules above.
    fn resolve(&self, dt: DateTime) -> Option<Timestamp> {
        match self.tz.to_ambiguous_timestamp(dt).offset() {
            AmbiguousOffset::Unambiguous { offset } => offset.to_timestamp(dt).ok(),
            AmbiguousOffset::Gap { after, .. } => {
                // `dt` read with the new offset is an instant before the gap; the
                // next transition from there is where the clock jumps.
                let before_gap = after.to_timestamp(dt).ok()?;
                self.tz
                    .following(before_gap)
                    .next()
                    .map(|tr| tr.timestamp())
            }
            AmbiguousOffset::Fold { before, .. } => before.to_timestamp(dt).ok(),
        }
    }

    fn next_cron(&self, cron: &croner::Cron, t: Timestamp) -> Option<Timestamp> {
        // croner walks local (civil) time; we resolve each match with our rules, so
        // a cron schedule behaves like the others across DST changes.
        let local = t.to_zoned_datetime(self.tz.clone()).datetime();
        let mut civil = to_naive(local.checked_sub(1.hour()).ok()?)?;
        for _ in 0..10_000 {
            let next = cron.find_next_occurrence(&civil, false).ok()?;
            let slot = self.resolve(from_naive(next)?)?;
            if slot > t {
                return Some(slot);
            }
            civil = next;
        }
        None
    }

    /// What the schedule says, in parts: for a page that writes it in
    /// another language than [`Schedule::describe`]'s English.
    pub fn shape(&self) -> Shape {
        let at = |t: Time| (t.hour(), t.minute());
        match &self.kind {
            Kind::Daily(t) => Shape::Daily { at: at(*t) },
            Kind::Weekly(days, t) => Shape::Weekly {
                days: days.iter().map(|d| d.to_monday_one_offset()).collect(),
                at: at(*t),
            },
            Kind::Monthly(days, t) => Shape::Monthly {
                days: days
                    .iter()
                    .map(|d| match d {
                        MonthDay::Day(n) => Some(*n),
                        MonthDay::Last => None,
                    })
                    .collect(),
                at: at(*t),
            },
            Kind::Every(secs) => Shape::Every { secs: *secs },
            Kind::Cron(c) => Shape::Cron {
                english: c.describe(),
                expr: cron_expr(self.spec.trim()).to_string(),
            },
        }
    }

    /// Its time zone's name, as written.
    pub fn tz_name(&self) -> &str {
        &self.tz_name
    }

    /// The schedule in words, with its time zone.
    pub fn describe(&self) -> String {
        let tz = &self.tz_name;
        match &self.kind {
            Kind::Daily(t) => format!("every day at {} ({tz})", hhmm(*t)),
            Kind::Weekly(days, t) => format!(
                "every {} at {} ({tz})",
                join_words(days.iter().map(|d| weekday_name(*d).to_string()).collect()),
                hhmm(*t)
            ),
            Kind::Monthly(days, t) => {
                let names = days
                    .iter()
                    .map(|d| match d {
                        MonthDay::Day(n) => ordinal(*n),
                        MonthDay::Last => "last".to_string(),
                    })
                    .collect();
                format!(
                    "on the {} day of every month at {} ({tz})",
                    join_words(names),
                    hhmm(*t)
                )
            }
            Kind::Every(secs) => {
                let (n, unit) = if secs % 3600 == 0 {
                    (secs / 3600, "hour")
                } else if secs % 60 == 0 {
                    (secs / 60, "minute")
                } else {
                    (*secs, "second")
                };
                if n == 1 {
                    format!("every {unit}")
                } else {
                    format!("every {n} {unit}s")
                }
            }
            Kind::Cron(c) => format!("{} ({tz})", c.describe()),
        }
    }
}

fn full_day_name(d: &str) -> Option<&'static str> {
    [
        ("monday", "mon"),
        ("tuesday", "tue"),
        ("wednesday", "wed"),
        ("thursday", "thu"),
        ("friday", "fri"),
        ("saturday", "sat"),
        ("sunday", "sun"),
    ]
    .iter()
    .find(|(full, _)| *full == d)
    .map(|(_, short)| *short)
}

fn parse_time(s: &str) -> Option<Time> {
    let (h, m) = s.split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (i8, i8) = (h.parse().ok()?, m.parse().ok()?);
    Time::new(h, m, 0, 0).ok()
}

/// `30s`, `15m`, `6h`, `1d`: seconds, positive, at most a year.
pub(crate) fn parse_interval(s: &str) -> Option<i64> {
    parse_span(s)
        .filter(|secs| (1..=366 * 86400).contains(secs))
        .map(|secs| secs as i64)
}

/// `30s`, `15m`, `6h`, `1d` in seconds, however long: in 128 bits, so a huge
/// count is a huge span, never one wrapped around to a small one. `None` is
/// not written that way.
pub(crate) fn parse_span(s: &str) -> Option<u128> {
    let unit = s.chars().last()?;
    let n: u64 = s[..s.len() - unit.len_utf8()].parse().ok()?;
    let per = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86400,
        _ => return None,
    };
    Some(u128::from(n) * per)
}

fn hhmm(t: Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

fn weekday_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Monday => "Monday",
        Weekday::Tuesday => "Tuesday",
        Weekday::Wednesday => "Wednesday",
        Weekday::Thursday => "Thursday",
        Weekday::Friday => "Friday",
        Weekday::Saturday => "Saturday",
        Weekday::Sunday => "Sunday",
    }
}

/// The expression of `cron "0 2 * * *"` (the spec, trimmed, `cron` first).
fn cron_expr(spec: &str) -> &str {
    spec.get(4..).unwrap_or("").trim().trim_matches('"').trim()
}

/// `1st`, `2nd`, `22nd`: an English ordinal (the page says it in French too).
pub fn ordinal(n: i8) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, r) if r != 11 => "st",
        (2, r) if r != 12 => "nd",
        (3, r) if r != 13 => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn join_words(mut items: Vec<String>) -> String {
    match items.len() {
        0 => String::new(),
        1 => items.remove(0),
        _ => {
            let last = items.pop().unwrap_or_default();
            format!("{} and {last}", items.join(", "))
        }
    }
}

fn to_naive(dt: DateTime) -> Option<chrono::NaiveDateTime> {
    chrono::NaiveDate::from_ymd_opt(dt.year() as i32, dt.month() as u32, dt.day() as u32)?
        .and_hms_opt(dt.hour() as u32, dt.minute() as u32, dt.second() as u32)
}

fn from_naive(n: chrono::NaiveDateTime) -> Option<DateTime> {
    use chrono::{Datelike, Timelike};
    DateTime::new(
        i16::try_from(n.year()).ok()?,
        n.month() as i8,
        n.day() as i8,
        n.hour() as i8,
        n.minute() as i8,
        n.second() as i8,
        0,
    )
    .ok()
}

#[cfg(test)]
mod tests;
