//! The page's pictures, drawn on the server as inline SVG (no chart library,
//! no script): each job's last 30 days of backup runs as a strip of cells,
//! its newest backups' sizes and durations as sparklines, and each
//! destination's stored bytes over 90 days. Pure: numbers in, shapes out;
//! the template writes the elements (so every text is escaped there), and
//! each picture carries the words a screen reader gets instead.

use crate::server::i18n::{Arg, Lang, format};
use crate::store::{RecentBackup, RunDay, StorageDay};
use std::collections::HashMap;

/// Days the strip shows, today included.
pub(super) const STRIP_DAYS: i64 = 30;
/// Days the storage growth covers.
pub(super) const GROWTH_DAYS: i64 = 90;
/// A cell's width and the gap after it, in SVG units.
const CELL: i64 = 7;
const GAP: i64 = 1;
/// A sparkline's box.
const SPARK_W: f64 = 120.0;
const SPARK_H: f64 = 24.0;

/// What a day of a job's backups came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    /// No backup run finished that day.
    None,
    Succeeded,
    /// Some runs failed and some stored a backup, or a run was partial.
    Partial,
    Failed,
}

impl Outcome {
    /// Of one day's finished runs by state. Cancelled runs were a person's
    /// choice: they count as nothing.
    pub(super) fn of(succeeded: i64, partial: i64, failed: i64) -> Outcome {
        match (succeeded > 0, partial > 0, failed > 0) {
            (false, false, false) => Outcome::None,
            (true, false, false) => Outcome::Succeeded,
            (false, false, true) => Outcome::Failed,
            _ => Outcome::Partial,
        }
    }

    /// The CSS class of its cell.
    pub(super) fn class(self) -> &'static str {
        match self {
            Outcome::None => "none",
            Outcome::Succeeded => "ok",
            Outcome::Partial => "partial",
            Outcome::Failed => "failed",
        }
    }

    fn message(self) -> &'static str {
        match self {
            Outcome::None => "outcome-none",
            Outcome::Succeeded => "outcome-succeeded",
            Outcome::Partial => "outcome-partial",
            Outcome::Failed => "outcome-failed",
        }
    }
}

/// One day's cell, and its row in the table alternative.
pub(super) struct Cell {
    pub(super) x: i64,
    pub(super) class: &'static str,
    pub(super) day: String,
    pub(super) outcome: String,
    /// "2026-12-03: succeeded (4)" for a mouse's hover; empty on a day
    /// without runs (most of them, and the page stays light).
    pub(super) tip: String,
    pub(super) succeeded: i64,
    pub(super) partial: i64,
    pub(super) failed: i64,
}

/// A job's last [`STRIP_DAYS`] days.
pub(super) struct Strip {
    pub(super) cells: Vec<Cell>,
    /// No backup run finished on any of its days.
    pub(super) empty: bool,
    pub(super) width: i64,
    /// "30 days: 27 with every backup stored, 1 failed, 2 without a run".
    pub(super) summary: String,
}

/// The strip of one job from its rows of `run_days` (kind `backup`), the
/// last `STRIP_DAYS` days up to `today`, oldest on the left.
///
/// `labels` are the window's days in words ([`day_labels`]), made once for
/// every job of the page.
pub(super) fn strip(
    lang: Lang,
    job: &str,
    days: &[RunDay],
    today: i64,
    labels: &[String],
) -> Strip {
    let first = today - STRIP_DAYS + 1;
    let mut counts = vec![(0i64, 0i64, 0i64); STRIP_DAYS as usize];
    let words = [
        Outcome::None,
        Outcome::Succeeded,
        Outcome::Partial,
        Outcome::Failed,
    ]
    .map(|o| lang.t(o.message()));
    for d in days
        .iter()
        .filter(|d| d.job == job && d.day >= first && d.day <= today)
    {
        let c = &mut counts[(d.day - first) as usize];
        match d.state.as_str() {
            "succeeded" => c.0 += d.runs,
            "partial" => c.1 += d.runs,
            "failed" => c.2 += d.runs,
            _ => {}
        }
    }
    let mut tally = [0i64; 4];
    let cells: Vec<Cell> = counts
        .iter()
        .enumerate()
        .map(|(i, &(s, p, f))| {
            let o = Outcome::of(s, p, f);
            tally[o as usize] += 1;
            let day = labels.get(i).cloned().unwrap_or_default();
            let outcome = words[o as usize].clone();
            Cell {
                x: i as i64 * (CELL + GAP),
                class: o.class(),
                tip: match o {
                    Outcome::None => String::new(),
                    _ => lang.ta(
                        "day-tip",
                        &[
                            ("day", Arg::S(&day)),
                            ("outcome", Arg::S(&outcome)),
                            ("n", Arg::N(s + p + f)),
                        ],
                    ),
                },
                day,
                outcome,
                succeeded: s,
                partial: p,
                failed: f,
            }
        })
        .collect();
    Strip {
        empty: tally[Outcome::None as usize] == STRIP_DAYS,
        cells,
        width: STRIP_DAYS * (CELL + GAP) - GAP,
        summary: lang.ta(
            "strip-summary",
            &[
                ("days", Arg::N(STRIP_DAYS)),
                ("ok", Arg::N(tally[Outcome::Succeeded as usize])),
                ("partial", Arg::N(tally[Outcome::Partial as usize])),
                ("failed", Arg::N(tally[Outcome::Failed as usize])),
                ("none", Arg::N(tally[Outcome::None as usize])),
            ],
        ),
    }
}

/// The strip's days up to `today`, oldest first, in words.
pub(super) fn day_labels(lang: Lang, today: i64) -> Vec<String> {
    (today - STRIP_DAYS + 1..=today)
        .map(|d| format::day(lang, d))
        .collect()
}

/// The rows of each job, from rows that come job after job (as the store
/// packs them): no pass over every job's rows for each job.
pub(super) fn by_job<T>(rows: &[T], job: impl Fn(&T) -> &str) -> HashMap<&str, &[T]> {
    rows.chunk_by(|a, b| job(a) == job(b))
        .filter_map(|chunk| Some((job(chunk.first()?), chunk)))
        .collect()
}

/// A sparkline: the points of a polyline in a [`SPARK_W`] × [`SPARK_H`]
/// box, oldest on the left, and its words.
pub(super) struct Spark {
    pub(super) points: String,
    /// The newest value's dot.
    pub(super) last_x: String,
    pub(super) last_y: String,
    /// The newest value in words, shown beside its caption.
    pub(super) last: String,
    /// "Size of the last 30 backups: from 1.0 MiB to 1.4 MiB, last 1.2 MiB".
    pub(super) summary: String,
}

/// The sparkline of `values` (oldest first), each written by `fmt` in its
/// words; None without values.
pub(super) fn spark(
    lang: Lang,
    message: &str,
    values: &[i64],
    fmt: impl Fn(i64) -> String,
) -> Option<Spark> {
    let (&last, _) = values.split_last()?;
    let min = *values.iter().min()?;
    let max = *values.iter().max()?;
    // From zero: a backup 1 % bigger than the last looks 1 % bigger, not
    // like a jump from the bottom to the top.
    let floor = min.min(0);
    let range = (max as f64) - (floor as f64);
    let step = if values.len() > 1 {
        SPARK_W / (values.len() - 1) as f64
    } else {
        0.0
    };
    // All zero sits in the middle; otherwise zero is the bottom and the
    // highest value the top, a pixel in from each edge.
    let y = |v: i64| {
        if range == 0.0 {
            SPARK_H / 2.0
        } else {
            SPARK_H - 1.0 - ((v as f64) - (floor as f64)) / range * (SPARK_H - 2.0)
        }
    };
    let xy = |i: usize, v: i64| (format!("{:.1}", i as f64 * step), format!("{:.1}", y(v)));
    let points = values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let (x, y) = xy(i, v);
            format!("{x},{y}")
        })
        .collect::<Vec<_>>()
        .join(" ");
    let (last_x, last_y) = xy(values.len() - 1, last);
    Some(Spark {
        points,
        last_x,
        last_y,
        last: fmt(last),
        summary: lang.ta(
            message,
            &[
                ("n", Arg::N(values.len() as i64)),
                ("min", Arg::S(&fmt(min))),
                ("max", Arg::S(&fmt(max))),
                ("last", Arg::S(&fmt(last))),
            ],
        ),
    })
}

/// A job's two sparklines from its newest successful backups.
pub(super) fn backup_sparks(
    lang: Lang,
    job: &str,
    recent: &[RecentBackup],
) -> (Option<Spark>, Option<Spark>) {
    let mine: Vec<&RecentBackup> = recent.iter().filter(|r| r.job == job).collect();
    let sizes: Vec<i64> = mine.iter().map(|r| r.bytes_out).collect();
    let durations: Vec<i64> = mine.iter().map(|r| r.duration_ms).collect();
    (
        spark(lang, "spark-size", &sizes, |v| format::bytes(lang, v)),
        spark(lang, "spark-duration", &durations, |v| {
            format::duration(lang, v)
        }),
    )
}

/// Bytes stored at one destination at the end of each of the last
/// `GROWTH_DAYS` days (oldest first), from today's total and each day's
/// change: stored(d) = stored(d + 1) − added(d + 1) + removed(d + 1).
pub(super) fn stored_by_day(
    total: i64,
    destination: &str,
    days: &[StorageDay],
    today: i64,
) -> Vec<i64> {
    let first = today - GROWTH_DAYS + 1;
    let mut change = vec![0i64; GROWTH_DAYS as usize];
    for d in days
        .iter()
        .filter(|d| d.destination == destination && d.day > first && d.day <= today)
    {
        change[(d.day - first) as usize] += d.added - d.removed;
    }
    let mut out = vec![0i64; GROWTH_DAYS as usize];
    let mut stored = total;
    for i in (0..GROWTH_DAYS as usize).rev() {
        out[i] = stored.max(0);
        stored -= change[i];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(day: i64, job: &str, state: &str, runs: i64) -> RunDay {
        RunDay {
            day,
            job: job.into(),
            kind: "backup".into(),
            state: state.into(),
            runs,
            bytes_out: 0,
            duration_ms: 0,
        }
    }

    #[test]
    fn a_days_outcome() {
        use Outcome::*;
        let cases = [
            ((0, 0, 0), None),
            ((3, 0, 0), Succeeded),
            ((0, 0, 2), Failed),
            ((0, 1, 0), Partial),
            ((1, 0, 1), Partial),
            ((0, 1, 1), Partial),
            ((5, 1, 0), Partial),
        ];
        for ((s, p, f), want) in cases {
            assert_eq!(Outcome::of(s, p, f), want, "{s} {p} {f}");
        }
    }

    #[test]
    fn the_strip_has_a_cell_per_day_oldest_first() {
        let today = 20_000;
        let days = [
            day(today, "a", "succeeded", 1),
            day(today - 1, "a", "failed", 2),
            day(today - 1, "a", "succeeded", 1),
            day(today - 2, "a", "failed", 1),
            day(today - 2, "a", "cancelled", 1),
            day(today - 3, "a", "cancelled", 1),
            day(today - 29, "a", "partial", 1),
            // Outside the window, or another job: not drawn.
            day(today - 30, "a", "failed", 1),
            day(today + 1, "a", "failed", 1),
            day(today, "b", "failed", 1),
        ];
        let s = strip(Lang::En, "a", &days, today, &day_labels(Lang::En, today));
        let classes: Vec<&str> = s.cells.iter().map(|c| c.class).collect();
        assert_eq!(classes.len(), 30);
        assert_eq!(classes[29], "ok");
        assert_eq!(classes[28], "partial");
        assert_eq!(classes[27], "failed");
        assert_eq!(classes[26], "none", "cancelled counts as nothing");
        assert_eq!(classes[0], "partial");
        assert_eq!(classes.iter().filter(|c| **c == "none").count(), 26);
        assert_eq!(s.cells[1].x, 8);
        assert_eq!(s.width, 239);
        assert_eq!(s.cells[28].failed, 2);
        assert_eq!(s.cells[29].day, "2024-10-04");
        assert_eq!(s.cells[29].tip, "2024-10-04: succeeded (1)");
        assert_eq!(s.cells[28].tip, "2024-10-03: partly failed (3)");
        assert_eq!(s.cells[26].tip, "", "no tip on a day without runs");
        assert_eq!(
            s.summary,
            "Last 30 days: 1 with every backup stored, 2 partly failed, 1 failed, 26 without a backup run"
        );
        let fr = strip(Lang::Fr, "a", &days, today, &day_labels(Lang::Fr, today));
        assert_eq!(fr.cells[29].day, "04/10/2024");
        assert_eq!(
            fr.summary,
            "30 derniers jours : 1 jour où tout a été sauvegardé, 2 en partie en échec, 1 en échec, 26 sans sauvegarde lancée"
        );
    }

    #[test]
    fn sparklines_span_their_box() {
        assert!(spark(Lang::En, "spark-size", &[], |v| v.to_string()).is_none());
        let one = spark(Lang::En, "spark-size", &[5], |v| v.to_string()).unwrap();
        assert_eq!(one.points, "0.0,1.0");
        let zero = spark(Lang::En, "spark-size", &[0, 0], |v| v.to_string()).unwrap();
        assert_eq!(zero.points, "0.0,12.0 120.0,12.0");
        let flat = spark(Lang::En, "spark-size", &[7, 7, 7], |v| v.to_string()).unwrap();
        assert_eq!(flat.points, "0.0,1.0 60.0,1.0 120.0,1.0");
        // From zero: 10, 30, 20 of 30.
        let s = spark(Lang::En, "spark-size", &[10, 30, 20], |v| format!("{v} B")).unwrap();
        assert_eq!(s.points, "0.0,15.7 60.0,1.0 120.0,8.3");
        assert_eq!(
            (s.last_x.as_str(), s.last_y.as_str(), s.last.as_str()),
            ("120.0", "8.3", "20 B")
        );
        assert_eq!(
            s.summary,
            "Size of the last 3 backups: from 10 B to 30 B, the newest 20 B"
        );
        let big = spark(Lang::En, "spark-size", &[0, i64::MAX], |v| v.to_string()).unwrap();
        assert_eq!(big.points, "0.0,23.0 120.0,1.0");
        let negative = spark(Lang::En, "spark-size", &[-10, 10], |v| v.to_string()).unwrap();
        assert_eq!(negative.points, "0.0,23.0 120.0,1.0");
    }

    #[test]
    fn stored_bytes_go_back_day_by_day() {
        let today = 1_000;
        let d = |day, added, removed| StorageDay {
            day,
            destination: "file:///b".into(),
            added,
            removed,
        };
        let mut other = d(today, 7, 0);
        other.destination = "s3://other".into();
        let days = [
            d(today, 100, 0),
            d(today - 1, 50, 30),
            // The window's first day and the one before: what they added is
            // in the first point already.
            d(today - 89, 10, 0),
            d(today - 90, 1_000, 0),
            other,
        ];
        let s = stored_by_day(500, "file:///b", &days, today);
        assert_eq!(s.len(), 90);
        assert_eq!(s[89], 500);
        assert_eq!(s[88], 400);
        assert_eq!(s[87], 380);
        assert_eq!(s[1], 380);
        assert_eq!(s[0], 380);
        // Counters that went wrong never draw below zero.
        assert!(
            stored_by_day(10, "file:///b", &days, today)
                .iter()
                .all(|v| *v >= 0)
        );
    }
}
