use super::*;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn upcoming(spec: &str, tz: &str, from: &str, n: usize) -> Vec<String> {
    Schedule::parse(spec, tz)
        .unwrap_or_else(|e| panic!("{e}"))
        .upcoming(ts(from), n)
        .iter()
        .map(|t| t.to_string())
        .collect()
}

#[test]
fn next_fire_times() {
    // (spec, zone, from, expected next slots in UTC)
    let cases: &[(&str, &str, &str, &[&str])] = &[
        // Paris, spring forward 2026-03-29 02:00 CET -> 03:00 CEST (01:00Z):
        // 02:30 does not exist that day and fires at the transition.
        (
            "daily at 02:30",
            "Europe/Paris",
            "2026-03-28T00:00:00Z",
            &[
                "2026-03-28T01:30:00Z",
                "2026-03-29T01:00:00Z",
                "2026-03-30T00:30:00Z",
            ],
        ),
        // Paris, fall back 2026-10-25 03:00 CEST -> 02:00 CET: 02:30 happens
        // twice and fires once, at its first occurrence (CEST).
        (
            "daily at 02:30",
            "Europe/Paris",
            "2026-10-24T12:00:00Z",
            &["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"],
        ),
        (
            "daily at 02:30",
            "Europe/Paris",
            "2026-10-25T00:30:00Z",
            &["2026-10-26T01:30:00Z"],
        ),
        // New York, spring forward 2026-03-08 02:00 EST -> 03:00 EDT (07:00Z).
        (
            "daily at 02:15",
            "America/New_York",
            "2026-03-07T12:00:00Z",
            &["2026-03-08T07:00:00Z", "2026-03-09T06:15:00Z"],
        ),
        // New York, fall back 2026-11-01 02:00 EDT -> 01:00 EST: 01:30 twice.
        (
            "daily at 01:30",
            "America/New_York",
            "2026-10-31T12:00:00Z",
            &["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"],
        ),
        // Lord Howe, 30-minute DST: starts 2026-10-04 02:00 (+10:30) -> 02:30 (+11).
        (
            "daily at 02:15",
            "Australia/Lord_Howe",
            "2026-10-03T00:00:00Z",
            &["2026-10-03T15:30:00Z", "2026-10-04T15:15:00Z"],
        ),
        // Lord Howe, ends 2026-04-05 02:00 (+11) -> 01:30 (+10:30): 01:45 twice.
        (
            "daily at 01:45",
            "Australia/Lord_Howe",
            "2026-04-04T00:00:00Z",
            &["2026-04-04T14:45:00Z", "2026-04-05T15:15:00Z"],
        ),
        // Kolkata: +05:30, no DST.
        (
            "daily at 00:00",
            "Asia/Kolkata",
            "2026-01-01T00:00:00Z",
            &["2026-01-01T18:30:00Z", "2026-01-02T18:30:00Z"],
        ),
        // Weekly, from a Tuesday.
        (
            "weekly on mon,thu at 02:00",
            "Europe/Paris",
            "2026-11-24T00:00:00Z",
            &[
                "2026-11-26T01:00:00Z",
                "2026-11-30T01:00:00Z",
                "2026-12-03T01:00:00Z",
            ],
        ),
        (
            "weekly on sunday at 23:59",
            "UTC",
            "2026-11-29T23:59:00Z",
            &["2026-12-06T23:59:00Z"],
        ),
        // Month ends and leap day.
        (
            "monthly on last at 23:00",
            "UTC",
            "2028-02-01T00:00:00Z",
            &[
                "2028-02-29T23:00:00Z",
                "2028-03-31T23:00:00Z",
                "2028-04-30T23:00:00Z",
            ],
        ),
        (
            "monthly on last at 23:00",
            "UTC",
            "2027-02-01T00:00:00Z",
            &["2027-02-28T23:00:00Z"],
        ),
        (
            "monthly on 31 at 00:00",
            "UTC",
            "2026-04-01T00:00:00Z",
            &[
                "2026-05-31T00:00:00Z",
                "2026-07-31T00:00:00Z",
                "2026-08-31T00:00:00Z",
            ],
        ),
        (
            "monthly on 29 at 12:00",
            "UTC",
            "2027-02-01T00:00:00Z",
            &["2027-03-29T12:00:00Z"],
        ),
        (
            "monthly on 29 at 12:00",
            "UTC",
            "2028-02-01T00:00:00Z",
            &["2028-02-29T12:00:00Z"],
        ),
        (
            "monthly on 1,15 at 03:30",
            "Europe/Paris",
            "2026-11-24T00:00:00Z",
            &[
                "2026-12-01T02:30:00Z",
                "2026-12-15T02:30:00Z",
                "2027-01-01T02:30:00Z",
            ],
        ),
        // Intervals are absolute and epoch-aligned, DST or not.
        (
            "every 6h",
            "Europe/Paris",
            "2026-11-24T05:59:59Z",
            &["2026-11-24T06:00:00Z", "2026-11-24T12:00:00Z"],
        ),
        (
            "every 1h",
            "Europe/Paris",
            "2026-03-29T00:30:00Z",
            &["2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"],
        ),
        (
            "every 15m",
            "UTC",
            "2026-11-24T10:00:00Z",
            &["2026-11-24T10:15:00Z", "2026-11-24T10:30:00Z"],
        ),
        (
            "every 30s",
            "UTC",
            "2026-11-24T10:00:29Z",
            &["2026-11-24T10:00:30Z", "2026-11-24T10:01:00Z"],
        ),
        // cron follows the same DST rules.
        (
            "cron \"0 2 * * *\"",
            "Europe/Paris",
            "2026-03-28T12:00:00Z",
            &["2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z"],
        ),
        (
            "cron \"30 1 * * *\"",
            "America/New_York",
            "2026-10-31T12:00:00Z",
            &["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"],
        ),
        (
            "cron \"0 0 L * *\"",
            "UTC",
            "2026-02-01T00:00:00Z",
            &["2026-02-28T00:00:00Z", "2026-03-31T00:00:00Z"],
        ),
        (
            "cron \"0 9 * * MON#1\"",
            "UTC",
            "2026-11-24T00:00:00Z",
            &["2026-12-07T09:00:00Z"],
        ),
        (
            "cron \"*/20 * * * * *\"",
            "UTC",
            "2026-11-24T00:00:05Z",
            &["2026-11-24T00:00:20Z", "2026-11-24T00:00:40Z"],
        ),
        (
            "CRON 0 2 * * *",
            "UTC",
            "2026-11-24T00:00:00Z",
            &["2026-11-24T02:00:00Z"],
        ),
    ];
    for (spec, tz, from, want) in cases {
        assert_eq!(
            &upcoming(spec, tz, from, want.len()),
            want,
            "{spec} in {tz} from {from}"
        );
    }
}

/// A year of a daily schedule in each zone: exactly one slot per local date,
/// each at the requested local time, except on the spring-forward day where the
/// time does not exist and the slot is the transition.
#[test]
fn a_year_of_daily_slots_in_several_zones() {
    for tz in [
        "Europe/Paris",
        "America/New_York",
        "Australia/Lord_Howe",
        "Asia/Kolkata",
        "UTC",
    ] {
        for at in ["00:00", "01:45", "02:15", "02:30", "23:59"] {
            let s = Schedule::parse(&format!("daily at {at}"), tz).unwrap();
            let zone = TimeZone::get(tz).unwrap();
            let slots = s.upcoming(ts("2026-01-01T00:00:00Z"), 400);
            let mut dates = std::collections::HashSet::new();
            for w in slots.windows(2) {
                assert!(w[0] < w[1], "{tz} {at}: not increasing");
            }
            for slot in &slots {
                let local = slot.to_zoned_datetime(zone.clone());
                assert!(
                    dates.insert(local.date()),
                    "{tz} {at}: two slots on {}",
                    local.date()
                );
                let want = parse_time(at).unwrap();
                if local.time() != want {
                    // Only allowed where `at` does not exist: the slot is then a
                    // transition instant, just after the gap.
                    let just_before = slot.checked_sub(1.second()).unwrap();
                    assert_ne!(
                        zone.to_offset(just_before),
                        zone.to_offset(*slot),
                        "{tz} {at}: {local} is neither {at} nor a transition"
                    );
                }
            }
        }
    }
}

#[test]
fn catch_up_takes_only_the_latest_missed_slot() {
    let s = Schedule::parse("every 30s", "UTC").unwrap();
    assert_eq!(
        s.latest_between(ts("2026-11-24T10:00:00Z"), ts("2026-11-24T10:05:10Z")),
        Some(ts("2026-11-24T10:05:00Z"))
    );
    assert_eq!(
        s.latest_between(ts("2026-11-24T10:05:00Z"), ts("2026-11-24T10:05:10Z")),
        None
    );
    let d = Schedule::parse("daily at 02:00", "Europe/Paris").unwrap();
    assert_eq!(
        d.latest_between(ts("2026-11-01T00:00:00Z"), ts("2026-11-24T12:00:00Z")),
        Some(ts("2026-11-24T01:00:00Z"))
    );
    assert_eq!(
        d.latest_between(ts("2026-11-24T01:00:00Z"), ts("2026-11-24T12:00:00Z")),
        None
    );
}

#[test]
fn errors_point_at_the_token() {
    // (spec, zone, token at fault, phrase of the message)
    let cases: &[(&str, &str, Option<&str>, &str)] = &[
        (
            "weekly on mon,thx at 02:00",
            "UTC",
            Some("thx"),
            "not a weekday",
        ),
        ("daily at 25:00", "UTC", Some("25:00"), "not a time of day"),
        ("daily at 2:5", "UTC", Some("2:5"), "not a time of day"),
        ("daily 02:00", "UTC", Some("02:00"), "expected \"at HH:MM\""),
        ("daily", "UTC", None, "missing \"at HH:MM\""),
        (
            "monthly on 0 at 01:00",
            "UTC",
            Some("0"),
            "not a day of the month",
        ),
        (
            "monthly on 32 at 01:00",
            "UTC",
            Some("32"),
            "not a day of the month",
        ),
        ("monthly at 01:00", "UTC", Some("at"), "expected \"on\""),
        ("weekly", "UTC", None, "say which days"),
        ("every 0h", "UTC", Some("0h"), "not an interval"),
        ("every 5x", "UTC", Some("5x"), "not an interval"),
        ("every 5m now", "UTC", Some("now"), "unexpected"),
        ("cron \"* * *\"", "UTC", Some("* * *"), "5 or 6 fields"),
        (
            "cron \"61 * * * *\"",
            "UTC",
            Some("61 * * * *"),
            "not a valid cron",
        ),
        ("cron", "UTC", None, "needs an expression"),
        ("cron \"0 0 30 2 *\"", "UTC", None, "matches no date"),
        (
            "cron \"0 0 31 4,6,9,11 *\"",
            "Europe/Paris",
            None,
            "matches no date",
        ),
        ("hourly", "UTC", Some("hourly"), "unknown schedule"),
        ("", "UTC", None, "is empty"),
        (
            "daily at 02:00",
            "Mars/Olympus",
            Some("Mars/Olympus"),
            "time zone",
        ),
    ];
    for (spec, tz, token, phrase) in cases {
        let e = Schedule::parse(spec, tz).unwrap_err();
        assert_eq!(e.token.as_deref(), *token, "{spec}: {e}");
        assert!(e.to_string().contains(phrase), "{spec}: {e}");
    }
}

#[test]
fn descriptions() {
    let cases = [
        (
            "daily at 02:00",
            "Europe/Paris",
            "every day at 02:00 (Europe/Paris)",
        ),
        (
            "weekly on thu,mon at 02:00",
            "UTC",
            "every Monday and Thursday at 02:00 (UTC)",
        ),
        (
            "weekly on mon,wed,fri at 07:05",
            "UTC",
            "every Monday, Wednesday and Friday at 07:05 (UTC)",
        ),
        (
            "monthly on 1,15 at 03:30",
            "UTC",
            "on the 1st and 15th day of every month at 03:30 (UTC)",
        ),
        (
            "monthly on last at 23:00",
            "UTC",
            "on the last day of every month at 23:00 (UTC)",
        ),
        ("every 6h", "UTC", "every 6 hours"),
        ("every 1h", "UTC", "every hour"),
        ("every 90s", "UTC", "every 90 seconds"),
        ("every 15m", "UTC", "every 15 minutes"),
    ];
    for (spec, tz, want) in cases {
        assert_eq!(Schedule::parse(spec, tz).unwrap().describe(), want);
    }
    let cron = Schedule::parse("cron \"0 2 * * *\"", "UTC")
        .unwrap()
        .describe();
    assert!(cron.ends_with("(UTC)") && cron.len() > 10, "{cron}");
}
