//! Numbers, sizes, dates and durations as each language writes them:
//! `1.5 MiB` and `2026-12-03 14:05:00 UTC` in English, `1,5 Mio` and
//! `03/12/2026 14:05:00 UTC` in French. The words around them ("3 h ago")
//! are messages of the catalog; these are only the figures. The script's
//! `human` and `when` write the same (assets/app.js).

use super::{Arg, Lang};
use jiff::Timestamp;
use jiff::tz::TimeZone;

/// A decimal number with `digits` decimals, the language's separator.
pub fn decimal(lang: Lang, v: f64, digits: usize) -> String {
    let s = format!("{v:.digits$}");
    match lang {
        Lang::En => s,
        Lang::Fr => s.replace('.', ","),
    }
}

/// Bytes in binary units, one decimal: `512 B`, `1.5 KiB` (`512 o`, `1,5 Kio`).
pub fn bytes(lang: Lang, n: i64) -> String {
    let units: [&str; 5] = match lang {
        Lang::En => ["B", "KiB", "MiB", "GiB", "TiB"],
        Lang::Fr => ["o", "Kio", "Mio", "Gio", "Tio"],
    };
    let n = n.max(0);
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < units.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} {}", units[0])
    } else {
        format!("{} {}", decimal(lang, v, 1), units[unit])
    }
}

/// A signed change in bytes: `+1.5 MiB`, `−200 B`, `±0 B`.
pub fn bytes_change(lang: Lang, delta: i64) -> String {
    match delta {
        0 => format!("±{}", bytes(lang, 0)),
        d if d > 0 => format!("+{}", bytes(lang, d)),
        d => format!("−{}", bytes(lang, d.saturating_neg())),
    }
}

/// An instant in UTC, to the second.
pub fn when(lang: Lang, t: Timestamp) -> String {
    let pattern = match lang {
        Lang::En => "%Y-%m-%d %H:%M:%S UTC",
        Lang::Fr => "%d/%m/%Y %H:%M:%S UTC",
    };
    t.strftime(pattern).to_string()
}

/// An instant in a time zone, to the minute, with the zone's abbreviation.
pub fn zoned(lang: Lang, t: Timestamp, tz: &TimeZone) -> String {
    let pattern = match lang {
        Lang::En => "%Y-%m-%d %H:%M %Z",
        Lang::Fr => "%d/%m/%Y %H:%M %Z",
    };
    t.to_zoned_datetime(tz.clone())
        .strftime(pattern)
        .to_string()
}

/// A UTC day (days since the epoch), short: `Dec 3` is written `2026-12-03`
/// and `03/12/2026`, the page's one way per language.
pub fn day(lang: Lang, day: i64) -> String {
    let t = Timestamp::from_second(day.saturating_mul(86_400)).unwrap_or(Timestamp::UNIX_EPOCH);
    let pattern = match lang {
        Lang::En => "%Y-%m-%d",
        Lang::Fr => "%d/%m/%Y",
    };
    t.strftime(pattern).to_string()
}

/// A duration in seconds with one decimal: `2.5 s` (`2,5 s`).
pub fn seconds(lang: Lang, ms: i64) -> String {
    format!("{} s", decimal(lang, ms as f64 / 1000.0, 1))
}

/// How long something took: `2.5 s` under a minute, `12 min`, `1 h 5 min`
/// beyond.
pub fn duration(lang: Lang, ms: i64) -> String {
    if ms < 60_000 {
        seconds(lang, ms)
    } else {
        span(lang, ms)
    }
}

/// A span as people read it: `45 s`, `12 min`, `3 h 20 min`, `2 days`.
pub fn span(lang: Lang, ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        s if s < 60 => lang.ta("span-seconds", &[("n", Arg::N(s))]),
        s if s < 3600 => lang.ta("span-minutes", &[("n", Arg::N(s / 60))]),
        s if s < 86_400 => match (s / 3600, s % 3600 / 60) {
            (h, 0) => lang.ta("span-hours", &[("n", Arg::N(h))]),
            (h, m) => lang.ta("span-hours-minutes", &[("h", Arg::N(h)), ("m", Arg::N(m))]),
        },
        s => lang.ta("span-days", &[("n", Arg::N(s / 86_400))]),
    }
}

/// What happened at an instant: `2026-12-03 14:05:00 UTC: 2 tables`
/// (French puts a space before the colon).
pub fn at(lang: Lang, t: Timestamp, what: &str) -> String {
    lang.ta(
        "at-detail",
        &[("when", Arg::S(&when(lang, t))), ("detail", Arg::S(what))],
    )
}

/// How long ago: `just now`, `5 min ago`, `3 h ago`, `2 days ago`.
pub fn ago(lang: Lang, t: Timestamp, now: Timestamp) -> String {
    let secs = now.as_second() - t.as_second();
    match secs {
        s if s < 60 => lang.t("ago-now"),
        s if s < 3600 => lang.ta("ago-minutes", &[("n", Arg::N(s / 60))]),
        s if s < 86_400 => lang.ta("ago-hours", &[("n", Arg::N(s / 3600))]),
        s => lang.ta("ago-days", &[("n", Arg::N(s / 86_400))]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_in_each_language() {
        let t = Timestamp::from_second(1_764_770_700).unwrap(); // 2025-12-03 14:05:00 UTC
        let paris = TimeZone::get("Europe/Paris").unwrap();
        let cases: &[(Lang, String, &str)] = &[
            (Lang::En, bytes(Lang::En, 0), "0 B"),
            (Lang::En, bytes(Lang::En, 512), "512 B"),
            (Lang::En, bytes(Lang::En, 1536), "1.5 KiB"),
            (Lang::En, bytes(Lang::En, 3 << 20), "3.0 MiB"),
            (Lang::En, bytes(Lang::En, -5), "0 B"),
            (Lang::Fr, bytes(Lang::Fr, 512), "512 o"),
            (Lang::Fr, bytes(Lang::Fr, 1536), "1,5 Kio"),
            (Lang::Fr, bytes(Lang::Fr, 5 << 40), "5,0 Tio"),
            (Lang::Fr, bytes(Lang::Fr, i64::MAX), "8388608,0 Tio"),
            (Lang::En, bytes_change(Lang::En, 1536), "+1.5 KiB"),
            (Lang::En, bytes_change(Lang::En, -1536), "−1.5 KiB"),
            (Lang::Fr, bytes_change(Lang::Fr, 0), "±0 o"),
            (Lang::Fr, bytes_change(Lang::Fr, i64::MIN), "−8388608,0 Tio"),
            (Lang::En, when(Lang::En, t), "2025-12-03 14:05:00 UTC"),
            (Lang::Fr, when(Lang::Fr, t), "03/12/2025 14:05:00 UTC"),
            (Lang::En, zoned(Lang::En, t, &paris), "2025-12-03 15:05 CET"),
            (Lang::Fr, zoned(Lang::Fr, t, &paris), "03/12/2025 15:05 CET"),
            (Lang::En, day(Lang::En, 20_425), "2025-12-03"),
            (Lang::Fr, day(Lang::Fr, 20_425), "03/12/2025"),
            (Lang::En, seconds(Lang::En, 2_450), "2.5 s"),
            (Lang::Fr, seconds(Lang::Fr, 2_450), "2,5 s"),
            (Lang::En, decimal(Lang::En, 0.125, 2), "0.12"),
            (Lang::Fr, decimal(Lang::Fr, 93.25, 1), "93,2"),
        ];
        for (lang, got, want) in cases {
            assert_eq!(got, want, "{lang:?}");
        }
    }

    #[test]
    fn words_around_figures_come_from_the_catalogs() {
        let now = Timestamp::from_second(10 * 86_400).unwrap();
        let back = |s: i64| Timestamp::from_second(10 * 86_400 - s).unwrap();
        let cases: &[(Lang, String, &str)] = &[
            (Lang::En, ago(Lang::En, back(5), now), "just now"),
            (Lang::En, ago(Lang::En, back(300), now), "5 min ago"),
            (Lang::En, ago(Lang::En, back(7200), now), "2 h ago"),
            (Lang::En, ago(Lang::En, back(86_400), now), "1 day ago"),
            (Lang::En, ago(Lang::En, back(3 * 86_400), now), "3 days ago"),
            (Lang::Fr, ago(Lang::Fr, back(5), now), "à l’instant"),
            (Lang::Fr, ago(Lang::Fr, back(300), now), "il y a 5 min"),
            (Lang::Fr, ago(Lang::Fr, back(86_400), now), "il y a 1 jour"),
            (
                Lang::Fr,
                ago(Lang::Fr, back(3 * 86_400), now),
                "il y a 3 jours",
            ),
            (Lang::En, span(Lang::En, 45_000), "45 s"),
            (Lang::En, span(Lang::En, 12 * 60_000), "12 min"),
            (Lang::En, span(Lang::En, 3 * 3_600_000), "3 h"),
            (
                Lang::En,
                span(Lang::En, 3 * 3_600_000 + 20 * 60_000),
                "3 h 20 min",
            ),
            (Lang::En, span(Lang::En, 86_400_000), "1 day"),
            (Lang::Fr, span(Lang::Fr, 2 * 86_400_000), "2 jours"),
            (Lang::En, duration(Lang::En, 59_950), "60.0 s"),
            (Lang::Fr, duration(Lang::Fr, 65_000), "1 min"),
            (Lang::En, duration(Lang::En, 3_900_000), "1 h 5 min"),
        ];
        for (lang, got, want) in cases {
            assert_eq!(got, want, "{lang:?}");
        }
    }
}
