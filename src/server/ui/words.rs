//! Things of the domain said in the page's language: a schedule ("every
//! Monday and Thursday at 03:30 (Europe/Paris)", « chaque lundi et jeudi à
//! 03:30 »), a list, a job's state. The API keeps the domain's own English
//! (`Schedule::describe`); the page's English says the same words from the
//! catalog.

use crate::policy::alerts::Status;
use crate::schedule::{Schedule, Shape};
use crate::server::i18n::{Arg, Lang, format};
use jiff::Timestamp;

/// A schedule in words, with its time zone.
pub(super) fn schedule(lang: Lang, s: &Schedule) -> String {
    let tz = s.tz_name();
    let time = |(h, m): (i8, i8)| format!("{h:02}:{m:02}");
    match s.shape() {
        Shape::Daily { at } => lang.ta(
            "sched-daily",
            &[("time", Arg::S(&time(at))), ("tz", Arg::S(tz))],
        ),
        Shape::Weekly { days, at } => {
            let names = days
                .iter()
                .map(|d| lang.t(&format!("weekday-{d}")))
                .collect();
            lang.ta(
                "sched-weekly",
                &[
                    ("days", Arg::S(&list(lang, names))),
                    ("time", Arg::S(&time(at))),
                    ("tz", Arg::S(tz)),
                ],
            )
        }
        Shape::Monthly { days, at } => {
            let names = days
                .iter()
                .map(|d| match d {
                    Some(n) => ordinal(lang, *n),
                    None => lang.t("sched-last-day"),
                })
                .collect();
            lang.ta(
                "sched-monthly",
                &[
                    ("days", Arg::S(&list(lang, names))),
                    ("time", Arg::S(&time(at))),
                    ("tz", Arg::S(tz)),
                ],
            )
        }
        Shape::Every { secs } => {
            let (n, id) = if secs % 3600 == 0 {
                (secs / 3600, "sched-every-hours")
            } else if secs % 60 == 0 {
                (secs / 60, "sched-every-minutes")
            } else {
                (secs, "sched-every-seconds")
            };
            lang.ta(id, &[("n", Arg::N(n))])
        }
        // Cron's words come from croner, in English; French shows the
        // expression as written.
        Shape::Cron { english, expr } => {
            let words = match lang {
                Lang::En => english,
                _ => lang.ta("sched-cron-expr", &[("expr", Arg::S(&expr))]),
            };
            lang.ta(
                "sched-cron",
                &[("words", Arg::S(&words)), ("tz", Arg::S(tz))],
            )
        }
    }
}

/// `1st`, `22nd` (`1er`, `22`).
fn ordinal(lang: Lang, n: i8) -> String {
    match lang {
        Lang::En => crate::schedule::ordinal(n),
        Lang::Fr if n == 1 => "1er".to_string(),
        Lang::Fr => n.to_string(),
    }
}

/// `a`, `a and b`, `a, b and c` (`a, b et c`).
pub(super) fn list(lang: Lang, mut items: Vec<String>) -> String {
    match items.len() {
        0 => String::new(),
        1 => items.remove(0),
        _ => {
            let last = items.pop().unwrap_or_default();
            lang.ta(
                "list-and",
                &[("rest", Arg::S(&items.join(", "))), ("last", Arg::S(&last))],
            )
        }
    }
}

/// A job's state in words, and its CSS class.
pub(super) fn status(lang: Lang, s: Status) -> (&'static str, String) {
    let at = |ms: i64| {
        Timestamp::from_millisecond(ms)
            .map(|t| format::when(lang, t))
            .unwrap_or_default()
    };
    match s {
        Status::Healthy => ("healthy", lang.t("status-healthy")),
        Status::NeverSucceeded => ("never", lang.t("status-never")),
        Status::Stale { since } => (
            "stale",
            lang.ta("status-stale", &[("since", Arg::S(&at(since)))]),
        ),
        Status::Failing { since, failures } => (
            "failing",
            lang.ta(
                "status-failing",
                &[
                    ("since", Arg::S(&at(since))),
                    ("failures", Arg::N(failures.into())),
                ],
            ),
        ),
    }
}

/// `26h`, `3d`, `90s`: a duration as people write it in a job.
pub(super) fn duration(ms: i64) -> String {
    let s = ms / 1000;
    match s {
        s if s % 86_400 == 0 && s >= 86_400 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 && s >= 3600 => format!("{}h", s / 3600),
        s if s % 60 == 0 && s >= 60 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_in_each_language() {
        let cases = [
            (
                "daily at 02:00",
                "Europe/Paris",
                "every day at 02:00 (Europe/Paris)",
                "tous les jours à 02:00 (Europe/Paris)",
            ),
            (
                "weekly on mon,thu at 03:30",
                "Europe/Paris",
                "every Monday and Thursday at 03:30 (Europe/Paris)",
                "chaque lundi et jeudi à 03:30 (Europe/Paris)",
            ),
            (
                "monthly on 1,2,3,22,last at 23:00",
                "UTC",
                "on the 1st, 2nd, 3rd, 22nd and last day of every month at 23:00 (UTC)",
                "le 1er, 2, 3, 22 et dernier jour de chaque mois à 23:00 (UTC)",
            ),
            ("every 6h", "UTC", "every 6 hours", "toutes les 6 heures"),
            ("every 1h", "UTC", "every hour", "toutes les heures"),
            (
                "every 15m",
                "UTC",
                "every 15 minutes",
                "toutes les 15 minutes",
            ),
            (
                "every 30s",
                "UTC",
                "every 30 seconds",
                "toutes les 30 secondes",
            ),
        ];
        for (spec, tz, en, fr) in cases {
            let s = Schedule::parse(spec, tz).expect(spec);
            assert_eq!(schedule(Lang::En, &s), en, "{spec}");
            // The page's English is the domain's own.
            assert_eq!(schedule(Lang::En, &s), s.describe(), "{spec}");
            assert_eq!(schedule(Lang::Fr, &s), fr, "{spec}");
        }
        let cron = Schedule::parse("cron \"0 2 * * *\"", "UTC").expect("cron");
        assert_eq!(schedule(Lang::En, &cron), cron.describe());
        assert_eq!(schedule(Lang::Fr, &cron), "cron « 0 2 * * * » (UTC)");
    }

    #[test]
    fn a_jobs_state_in_words() {
        assert_eq!(
            status(Lang::En, Status::Healthy),
            ("healthy", "Healthy".into())
        );
        assert_eq!(
            status(Lang::Fr, Status::NeverSucceeded),
            ("never", "Jamais réussie".into())
        );
        assert_eq!(
            status(
                Lang::En,
                Status::Failing {
                    since: 0,
                    failures: 1
                }
            ),
            (
                "failing",
                "Failing since 1970-01-01 00:00:00 UTC (1 failed run)".into()
            )
        );
        assert_eq!(
            status(
                Lang::Fr,
                Status::Failing {
                    since: 0,
                    failures: 4
                }
            ),
            (
                "failing",
                "En échec depuis le 01/01/1970 00:00:00 UTC (4 exécutions échouées)".into()
            )
        );
        assert_eq!(
            status(Lang::En, Status::Stale { since: 86_400_000 }),
            (
                "stale",
                "Stale since 1970-01-02 00:00:00 UTC: no backup stored in time".into()
            )
        );
    }
}
