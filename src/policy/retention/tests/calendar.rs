//! The calendar: ISO weeks, leap years, Go's month normalisation, zones and DST, windows and the future.

use super::*;

#[test]
fn iso_weeks_and_leap_years() {
    check(&[
        Case {
            name: "2020-12-28 to 2021-01-03 are one week, 2020-W53",
            spec: r#"{"keep_weekly": 5}"#,
            times: &[
                "2021-01-04T10:00",
                "2021-01-03T10:00",
                "2021-01-01T10:00",
                "2020-12-31T10:00",
                "2020-12-28T10:00",
                "2020-12-27T10:00",
            ],
            expect: &[
                "keep 2021-01-04T10:00: keep_weekly",
                "keep 2021-01-03T10:00: keep_weekly",
                "keep 2020-12-27T10:00: keep_weekly",
                "remove 2021-01-01T10:00 2020-12-31T10:00 2020-12-28T10:00",
            ],
            ..ROW
        },
        Case {
            name: "2018-12-31 is in 2019-W01",
            spec: r#"{"keep_weekly": 3}"#,
            times: &["2019-01-06T10:00", "2018-12-31T10:00", "2018-12-30T10:00"],
            expect: &[
                "keep 2019-01-06T10:00: keep_weekly",
                "keep 2018-12-30T10:00: keep_weekly",
                "remove 2018-12-31T10:00",
            ],
            ..ROW
        },
        Case {
            name: "but in the calendar year 2018",
            spec: r#"{"keep_yearly": 3}"#,
            times: &["2019-01-06T10:00", "2018-12-31T10:00", "2018-12-30T10:00"],
            expect: &[
                "keep 2019-01-06T10:00: keep_yearly",
                "keep 2018-12-31T10:00: keep_yearly",
                "keep 2018-12-30T10:00: oldest keep_yearly",
            ],
            ..ROW
        },
        Case {
            name: "2027-01-01 is in 2026-W53",
            spec: r#"{"keep_weekly": "unlimited"}"#,
            times: &[
                "2027-01-03T10:00",
                "2027-01-01T10:00",
                "2026-12-28T10:00",
                "2026-12-27T10:00",
            ],
            expect: &[
                "keep 2027-01-03T10:00: keep_weekly",
                "keep 2026-12-27T10:00: keep_weekly",
                "remove 2027-01-01T10:00 2026-12-28T10:00",
            ],
            ..ROW
        },
        Case {
            name: "2020-02-29 is a day of its own",
            spec: r#"{"keep_daily": 3}"#,
            times: &["2020-03-01T10:00", "2020-02-29T10:00", "2020-02-28T10:00"],
            expect: &[
                "keep 2020-03-01T10:00: keep_daily",
                "keep 2020-02-29T10:00: keep_daily",
                "keep 2020-02-28T10:00: keep_daily",
            ],
            ..ROW
        },
        Case {
            name: "and in February",
            spec: r#"{"keep_monthly": 2}"#,
            times: &["2020-03-01T10:00", "2020-02-29T10:00", "2020-02-01T10:00"],
            expect: &[
                "keep 2020-03-01T10:00: keep_monthly",
                "keep 2020-02-29T10:00: keep_monthly",
                "remove 2020-02-01T10:00",
            ],
            ..ROW
        },
        Case {
            name: "within 1y of 2021-02-28 is after 2020-02-28, the same time",
            spec: r#"{"keep_within": "1y"}"#,
            times: &[
                "2021-02-28T10:00",
                "2020-02-29T10:00",
                "2020-02-28T10:01",
                "2020-02-28T10:00",
            ],
            expect: &[
                "keep 2021-02-28T10:00: keep_within 1y",
                "keep 2020-02-29T10:00: keep_within 1y",
                "keep 2020-02-28T10:01: keep_within 1y",
                "remove 2020-02-28T10:00",
            ],
            ..ROW
        },
        Case {
            name: "within 1y of 2024-02-29: Go reads 2023-02-29 as 2023-03-01",
            spec: r#"{"keep_within": "1y"}"#,
            times: &[
                "2024-02-29T10:00",
                "2023-03-01T10:01",
                "2023-03-01T10:00",
                "2023-02-28T12:00",
            ],
            expect: &[
                "keep 2024-02-29T10:00: keep_within 1y",
                "keep 2023-03-01T10:01: keep_within 1y",
                "remove 2023-03-01T10:00 2023-02-28T12:00",
            ],
            ..ROW
        },
    ]);
}

#[test]
fn within_months_normalise_the_go_way() {
    check(&[
        Case {
            name: "within 1m of 2021-03-31: after 2021-03-03, not 2021-02-28",
            spec: r#"{"keep_within": "1m"}"#,
            times: &[
                "2021-03-31T10:00",
                "2021-03-04T10:00",
                "2021-03-03T10:01",
                "2021-03-03T10:00",
                "2021-03-02T10:00",
                "2021-02-28T12:00",
            ],
            expect: &[
                "keep 2021-03-31T10:00: keep_within 1m",
                "keep 2021-03-04T10:00: keep_within 1m",
                "keep 2021-03-03T10:01: keep_within 1m",
                "remove 2021-03-03T10:00 2021-03-02T10:00 2021-02-28T12:00",
            ],
            ..ROW
        },
        Case {
            name: "within 3m of 2021-05-31: \"2021-02-31\" is 2021-03-03",
            spec: r#"{"keep_within": "3m"}"#,
            times: &["2021-05-31T10:00", "2021-03-03T10:01", "2021-03-03T10:00"],
            expect: &[
                "keep 2021-05-31T10:00: keep_within 3m",
                "keep 2021-03-03T10:01: keep_within 3m",
                "remove 2021-03-03T10:00",
            ],
            ..ROW
        },
        Case {
            name: "a bucketed window uses the same start",
            spec: r#"{"keep_within_daily": "1m"}"#,
            times: &[
                "2021-03-31T10:00",
                "2021-03-04T10:00",
                "2021-03-03T10:00",
                "2021-03-02T10:00",
            ],
            expect: &[
                "keep 2021-03-31T10:00: keep_within_daily 1m",
                "keep 2021-03-04T10:00: keep_within_daily 1m",
                "remove 2021-03-03T10:00 2021-03-02T10:00",
            ],
            ..ROW
        },
    ]);
}

#[test]
fn buckets_follow_the_zone() {
    check(&[
        Case {
            name: "Paris, autumn: 2021-10-30T22:30Z is October 31 there",
            spec: r#"{"keep_daily": 3}"#,
            zone: "Europe/Paris",
            times: &[
                "2021-10-31T12:00Z",
                "2021-10-30T22:30Z",
                "2021-10-30T21:30Z",
            ],
            expect: &[
                "keep 2021-10-31T12:00Z: keep_daily",
                "keep 2021-10-30T21:30Z: keep_daily",
                "remove 2021-10-30T22:30Z",
            ],
            ..ROW
        },
        Case {
            name: "the same in UTC: 22:30Z is October 30",
            spec: r#"{"keep_daily": 3}"#,
            times: &[
                "2021-10-31T12:00Z",
                "2021-10-30T22:30Z",
                "2021-10-30T21:30Z",
            ],
            expect: &[
                "keep 2021-10-31T12:00Z: keep_daily",
                "keep 2021-10-30T22:30Z: keep_daily",
                "keep 2021-10-30T21:30Z: oldest keep_daily",
            ],
            ..ROW
        },
        Case {
            name: "Paris, spring: 2021-03-27T23:30Z is March 28 there",
            spec: r#"{"keep_daily": 3}"#,
            zone: "Europe/Paris",
            times: &[
                "2021-03-28T10:00Z",
                "2021-03-27T23:30Z",
                "2021-03-27T22:30Z",
            ],
            expect: &[
                "keep 2021-03-28T10:00Z: keep_daily",
                "keep 2021-03-27T22:30Z: keep_daily",
                "remove 2021-03-27T23:30Z",
            ],
            ..ROW
        },
        Case {
            name: "Paris: 02:30 CEST and 02:30 CET share the hour 02",
            spec: r#"{"keep_hourly": 3}"#,
            zone: "Europe/Paris",
            times: &[
                "2021-10-31T01:30Z",
                "2021-10-31T00:30Z",
                "2021-10-30T23:30Z",
            ],
            expect: &[
                "keep 2021-10-31T01:30Z: keep_hourly",
                "keep 2021-10-30T23:30Z: keep_hourly",
                "remove 2021-10-31T00:30Z",
            ],
            ..ROW
        },
        Case {
            name: "the same in UTC: three hours",
            spec: r#"{"keep_hourly": 3}"#,
            times: &[
                "2021-10-31T01:30Z",
                "2021-10-31T00:30Z",
                "2021-10-30T23:30Z",
            ],
            expect: &[
                "keep 2021-10-31T01:30Z: keep_hourly",
                "keep 2021-10-31T00:30Z: keep_hourly",
                "keep 2021-10-30T23:30Z: keep_hourly",
            ],
            ..ROW
        },
        Case {
            name: "Kolkata (+05:30): 18:30Z starts January 2",
            spec: r#"{"keep_daily": 5}"#,
            zone: "Asia/Kolkata",
            times: &[
                "2021-01-01T19:00Z",
                "2021-01-01T18:00Z",
                "2021-01-01T10:00Z",
            ],
            expect: &[
                "keep 2021-01-01T19:00Z: keep_daily",
                "keep 2021-01-01T18:00Z: keep_daily",
                "keep 2021-01-01T10:00Z: oldest keep_daily",
            ],
            ..ROW
        },
        Case {
            name: "the same in UTC: one day",
            spec: r#"{"keep_daily": 5}"#,
            times: &[
                "2021-01-01T19:00Z",
                "2021-01-01T18:00Z",
                "2021-01-01T10:00Z",
            ],
            expect: &[
                "keep 2021-01-01T19:00Z: keep_daily",
                "keep 2021-01-01T10:00Z: oldest keep_daily",
                "remove 2021-01-01T18:00Z",
            ],
            ..ROW
        },
    ]);
}

#[test]
fn windows_across_dst() {
    check(&[
        Case {
            name: "Paris: within 1d of 2021-03-29 02:30 opens at 03:30 CEST (02:30 does not exist)",
            spec: r#"{"keep_within": "1d"}"#,
            zone: "Europe/Paris",
            times: &[
                "2021-03-29T00:30Z",
                "2021-03-28T01:31Z",
                "2021-03-28T01:30Z",
            ],
            expect: &[
                "keep 2021-03-29T00:30Z: keep_within 1d",
                "keep 2021-03-28T01:31Z: keep_within 1d",
                "remove 2021-03-28T01:30Z",
            ],
            ..ROW
        },
        Case {
            name: "New York: Go opens a window at a missing 02:30 at 01:30 EST, an hour before jiff would",
            spec: r#"{"keep_within": "1d"}"#,
            zone: "America/New_York",
            times: &[
                "2021-03-15T06:30Z",
                "2021-03-14T07:00Z",
                "2021-03-14T06:30Z",
            ],
            expect: &[
                "keep 2021-03-15T06:30Z: keep_within 1d",
                "keep 2021-03-14T07:00Z: keep_within 1d",
                "remove 2021-03-14T06:30Z",
            ],
            ..ROW
        },
        Case {
            name: "Paris: within 1h of the second 02:30 opens at the first",
            spec: r#"{"keep_within": "1h"}"#,
            zone: "Europe/Paris",
            times: &[
                "2021-10-31T01:30Z",
                "2021-10-31T00:45Z",
                "2021-10-31T00:30Z",
            ],
            expect: &[
                "keep 2021-10-31T01:30Z: keep_within 1h",
                "keep 2021-10-31T00:45Z: keep_within 1h",
                "remove 2021-10-31T00:30Z",
            ],
            ..ROW
        },
        Case {
            name: "Paris: within 1h of the first 02:30 opens at it too, so restic keeps nothing: refused",
            spec: r#"{"keep_within": "1h"}"#,
            zone: "Europe/Paris",
            times: &["2021-10-31T00:30Z", "2021-10-30T23:45Z"],
            expect: &[
                "refused: the retention rules would remove all 2 backups; none is removed",
                "keep 2021-10-31T00:30Z: refused: the rules keep no backup",
                "keep 2021-10-30T23:45Z: refused: the rules keep no backup",
            ],
            ..ROW
        },
        Case {
            name: "the same in UTC: an ordinary hour",
            spec: r#"{"keep_within": "1h"}"#,
            times: &["2021-10-31T00:30Z", "2021-10-30T23:45Z"],
            expect: &[
                "keep 2021-10-31T00:30Z: keep_within 1h",
                "keep 2021-10-30T23:45Z: keep_within 1h",
            ],
            ..ROW
        },
    ]);
}

#[test]
fn windows_ignore_backups_in_the_future() {
    check(&[
        Case {
            name: "within 2d counts back from the newest backup before now",
            spec: r#"{"keep_within": "2d"}"#,
            now: "2021-01-10T00:00Z",
            times: &[
                "2021-01-20T10:00",
                "2021-01-09T10:00",
                "2021-01-08T10:00",
                "2021-01-07T10:00",
            ],
            expect: &[
                "keep 2021-01-20T10:00: keep_within 2d",
                "keep 2021-01-09T10:00: keep_within 2d",
                "keep 2021-01-08T10:00: keep_within 2d",
                "remove 2021-01-07T10:00",
            ],
            ..ROW
        },
        Case {
            name: "a backup at exactly now is not before it",
            spec: r#"{"keep_within": "1d"}"#,
            now: "2021-01-10T10:00Z",
            times: &["2021-01-10T10:00", "2021-01-09T10:00", "2021-01-08T09:00"],
            expect: &[
                "keep 2021-01-10T10:00: keep_within 1d",
                "keep 2021-01-09T10:00: keep_within 1d",
                "remove 2021-01-08T09:00",
            ],
            ..ROW
        },
        Case {
            name: "all in the future: every window holds everything",
            spec: r#"{"keep_within": "1d", "keep_within_monthly": "1d"}"#,
            now: "2020-01-01T00:00Z",
            times: &["2021-01-10T10:00", "2021-01-01T10:00", "2020-06-01T10:00"],
            expect: &[
                "keep 2021-01-10T10:00: keep_within 1d, keep_within_monthly 1d",
                "keep 2021-01-01T10:00: keep_within 1d",
                "keep 2020-06-01T10:00: keep_within 1d, keep_within_monthly 1d",
            ],
            ..ROW
        },
        Case {
            name: "bucketed windows too",
            spec: r#"{"keep_within_daily": "1d"}"#,
            now: "2021-01-10T00:00Z",
            times: &[
                "2021-01-20T10:00",
                "2021-01-09T10:00",
                "2021-01-09T08:00",
                "2021-01-08T10:00",
            ],
            expect: &[
                "keep 2021-01-20T10:00: keep_within_daily 1d",
                "keep 2021-01-09T10:00: keep_within_daily 1d",
                "remove 2021-01-09T08:00 2021-01-08T10:00",
            ],
            ..ROW
        },
        Case {
            // The rules' counts do not look at now; Sauve's floor keeps the
            // newest backup not dated in the future beside the one that is.
            name: "counts do not look at now",
            spec: r#"{"keep_last": 1}"#,
            now: "2021-01-10T00:00Z",
            times: &["2021-01-20T10:00", "2021-01-09T10:00", "2021-01-08T10:00"],
            expect: &[
                "keep 2021-01-20T10:00: keep_last",
                "keep 2021-01-09T10:00: newest backup not dated in the future",
                "remove 2021-01-08T10:00",
            ],
            ..ROW
        },
    ]);
}

/// Go's `AddDate(-y, -m, -d).Add(-h)` from these latest times, as printed by
/// Go 1.19's `time` package with the same zone data.
#[test]
fn window_start_matches_go() {
    let rows: &[(&str, &str, &str, &str)] = &[
        (
            "Europe/Paris",
            "2021-03-31T10:00:00+02:00",
            "1m",
            "2021-03-03T09:00:00Z",
        ),
        (
            "Europe/Paris",
            "2024-02-29T10:00:00+01:00",
            "1y",
            "2023-03-01T09:00:00Z",
        ),
        (
            "Europe/Paris",
            "2021-02-28T10:00:00+01:00",
            "1y",
            "2020-02-28T09:00:00Z",
        ),
        ("UTC", "2021-03-31T10:00:00Z", "1m", "2021-03-03T10:00:00Z"),
        ("UTC", "2021-05-31T10:00:00Z", "3m", "2021-03-03T10:00:00Z"),
        ("UTC", "2020-03-31T10:00:00Z", "1m", "2020-03-02T10:00:00Z"),
        (
            "UTC",
            "2021-01-31T10:00:00Z",
            "2m30d5h",
            "2020-11-01T05:00:00Z",
        ),
        ("UTC", "2021-03-01T00:00:00Z", "1d", "2021-02-28T00:00:00Z"),
        (
            "UTC",
            "2021-03-15T12:34:56.789Z",
            "1y2m3d4h",
            "2020-01-12T08:34:56.789Z",
        ),
        (
            "Europe/Paris",
            "2021-03-29T02:30:00+02:00",
            "1d",
            "2021-03-28T01:30:00Z",
        ),
        (
            "Europe/Paris",
            "2021-11-01T02:30:00+01:00",
            "1d",
            "2021-10-31T01:30:00Z",
        ),
        (
            "Europe/Paris",
            "2021-10-31T00:30:00Z",
            "1h",
            "2021-10-31T00:30:00Z",
        ),
        (
            "Europe/Paris",
            "2021-10-31T01:30:00Z",
            "1h",
            "2021-10-31T00:30:00Z",
        ),
        (
            "America/New_York",
            "2021-03-15T02:30:00-04:00",
            "1d",
            "2021-03-14T06:30:00Z",
        ),
        (
            "America/New_York",
            "2021-11-08T01:30:00-05:00",
            "1d",
            "2021-11-07T05:30:00Z",
        ),
        (
            "America/New_York",
            "2021-11-07T05:30:00Z",
            "1h",
            "2021-11-07T04:30:00Z",
        ),
        (
            "Europe/London",
            "2021-11-01T01:30:00Z",
            "1d",
            "2021-10-31T01:30:00Z",
        ),
        (
            "Europe/London",
            "2021-03-29T01:30:00+01:00",
            "1d",
            "2021-03-28T01:30:00Z",
        ),
        (
            "Asia/Kolkata",
            "2021-03-31T23:00:00+05:30",
            "1m",
            "2021-03-03T17:30:00Z",
        ),
        (
            "Australia/Lord_Howe",
            "2021-04-05T01:45:00+10:30",
            "1d",
            "2021-04-03T15:15:00Z",
        ),
    ];
    for (zone_name, latest, within, expect) in rows {
        let within: Within = within.parse().unwrap();
        let latest: Timestamp = latest.parse().unwrap();
        let got = window_start(latest, within, &zone(zone_name));
        let expect: Timestamp = expect.parse().unwrap();
        assert_eq!(got, Some(expect), "{zone_name} {latest} minus {within}");
    }
}

#[test]
fn windows_beyond_the_calendar_hold_everything() {
    let latest: Timestamp = "2021-01-01T00:00:00Z".parse().unwrap();
    let huge = [
        Within {
            years: 20_000,
            ..Within::default()
        },
        Within {
            months: u32::MAX,
            ..Within::default()
        },
        Within {
            days: u32::MAX,
            ..Within::default()
        },
        Within {
            hours: u32::MAX,
            ..Within::default()
        },
        Within {
            years: u32::MAX,
            months: u32::MAX,
            days: u32::MAX,
            hours: u32::MAX,
        },
    ];
    for within in huge {
        assert_eq!(
            window_start(latest, within, &TimeZone::UTC),
            None,
            "{within}"
        );
        let window = Window::back_from(Some(latest), within, &TimeZone::UTC);
        assert!(window.contains(Timestamp::MIN), "{within}");
    }
}
