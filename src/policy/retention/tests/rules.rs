//! Each of restic's rules alone and together, ties, the oldest rule, and two years of daily backups.

use super::*;

#[test]
fn each_rule_alone() {
    check(&[
        Case {
            name: "keep_last 3",
            spec: r#"{"keep_last": 3}"#,
            times: SERIES,
            expect: &[
                "keep 2021-01-10T12:00: keep_last",
                "keep 2021-01-10T11:30: keep_last",
                "keep 2021-01-10T11:00: keep_last",
                "remove 2021-01-09T23:00 2021-01-04T10:00 2021-01-03T10:00 2020-12-31T10:00 2020-11-15T10:00 2019-06-01T10:00",
            ],
            ..ROW
        },
        Case {
            name: "keep_hourly 3: 11:30 and 11:00 share an hour",
            spec: r#"{"keep_hourly": 3}"#,
            times: SERIES,
            expect: &[
                "keep 2021-01-10T12:00: keep_hourly",
                "keep 2021-01-10T11:30: keep_hourly",
                "keep 2021-01-09T23:00: keep_hourly",
                "remove 2021-01-10T11:00 2021-01-04T10:00 2021-01-03T10:00 2020-12-31T10:00 2020-11-15T10:00 2019-06-01T10:00",
            ],
            ..ROW
        },
        Case {
            name: "keep_daily 3",
            spec: r#"{"keep_daily": 3}"#,
            times: SERIES,
            expect: &[
                "keep 2021-01-10T12:00: keep_daily",
                "keep 2021-01-09T23:00: keep_daily",
                "keep 2021-01-04T10:00: keep_daily",
                "remove 2021-01-10T11:30 2021-01-10T11:00 2021-01-03T10:00 2020-12-31T10:00 2020-11-15T10:00 2019-06-01T10:00",
            ],
            ..ROW
        },
        Case {
            name: "keep_weekly 2: 2021-W01, then 2020-W53",
            spec: r#"{"keep_weekly": 2}"#,
            times: SERIES,
            expect: &[
                "keep 2021-01-10T12:00: keep_weekly",
                "keep 2021-01-03T10:00: keep_weekly",
                "remove 2021-01-10T11:30 2021-01-10T11:00 2021-01-09T23:00 2021-01-04T10:00 2020-12-31T10:00 2020-11-15T10:00 2019-06-01T10:00",
            ],
            ..ROW
        },
        Case {
            name: "keep_monthly 2",
            spec: r#"{"keep_monthly": 2}"#,
            times: SERIES,
            expect: &[
                "keep 2021-01-10T12:00: keep_monthly",
                "keep 2020-12-31T10:00: keep_monthly",
                "remove 2021-01-10T11:30 2021-01-10T11:00 2021-01-09T23:00 2021-01-04T10:00 2021-01-03T10:00 2020-11-15T10:00 2019-06-01T10:00",
            ],
            ..ROW
        },
        Case {
            name: "keep_yearly 5: three years, the oldest in a bucket of its own",
            spec: r#"{"keep_yearly": 5}"#,
            times: SERIES,
            expect: &[
                "keep 2021-01-10T12:00: keep_yearly",
                "keep 2020-12-31T10:00: keep_yearly",
                "keep 2019-06-01T10:00: keep_yearly",
                "remove 2021-01-10T11:30 2021-01-10T11:00 2021-01-09T23:00 2021-01-04T10:00 2021-01-03T10:00 2020-11-15T10:00",
            ],
            ..ROW
        },
        Case {
            name: "keep_within 1d: after 2021-01-09T12:00",
            spec: r#"{"keep_within": "1d"}"#,
            times: SERIES,
            expect: &[
                "keep 2021-01-10T12:00: keep_within 1d",
                "keep 2021-01-10T11:30: keep_within 1d",
                "keep 2021-01-10T11:00: keep_within 1d",
                "keep 2021-01-09T23:00: keep_within 1d",
                "remove 2021-01-04T10:00 2021-01-03T10:00 2020-12-31T10:00 2020-11-15T10:00 2019-06-01T10:00",
            ],
            ..ROW
        },
        Case {
            name: "keep_within_hourly 1d: the oldest is outside the window",
            spec: r#"{"keep_within_hourly": "1d"}"#,
            times: SERIES,
            expect: &[
                "keep 2021-01-10T12:00: keep_within_hourly 1d",
                "keep 2021-01-10T11:30: keep_within_hourly 1d",
                "keep 2021-01-09T23:00: keep_within_hourly 1d",
                "remove 2021-01-10T11:00 2021-01-04T10:00 2021-01-03T10:00 2020-12-31T10:00 2020-11-15T10:00 2019-06-01T10:00",
            ],
            ..ROW
        },
        Case {
            name: "keep_within_daily 7d: after 2021-01-03T12:00",
            spec: r#"{"keep_within_daily": "7d"}"#,
            times: SERIES,
            expect: &[
                "keep 2021-01-10T12:00: keep_within_daily 7d",
                "keep 2021-01-09T23:00: keep_within_daily 7d",
                "keep 2021-01-04T10:00: keep_within_daily 7d",
                "remove 2021-01-10T11:30 2021-01-10T11:00 2021-01-03T10:00 2020-12-31T10:00 2020-11-15T10:00 2019-06-01T10:00",
            ],
            ..ROW
        },
        Case {
            name: "keep_within_weekly 1m: after 2020-12-10T12:00",
            spec: r#"{"keep_within_weekly": "1m"}"#,
            times: SERIES,
            expect: &[
                "keep 2021-01-10T12:00: keep_within_weekly 1m",
                "keep 2021-01-03T10:00: keep_within_weekly 1m",
                "remove 2021-01-10T11:30 2021-01-10T11:00 2021-01-09T23:00 2021-01-04T10:00 2020-12-31T10:00 2020-11-15T10:00 2019-06-01T10:00",
            ],
            ..ROW
        },
        Case {
            name: "keep_within_monthly 1y",
            spec: r#"{"keep_within_monthly": "1y"}"#,
            times: SERIES,
            expect: &[
                "keep 2021-01-10T12:00: keep_within_monthly 1y",
                "keep 2020-12-31T10:00: keep_within_monthly 1y",
                "keep 2020-11-15T10:00: keep_within_monthly 1y",
                "remove 2021-01-10T11:30 2021-01-10T11:00 2021-01-09T23:00 2021-01-04T10:00 2021-01-03T10:00 2019-06-01T10:00",
            ],
            ..ROW
        },
        Case {
            name: "keep_within_yearly 2y",
            spec: r#"{"keep_within_yearly": "2y"}"#,
            times: SERIES,
            expect: &[
                "keep 2021-01-10T12:00: keep_within_yearly 2y",
                "keep 2020-12-31T10:00: keep_within_yearly 2y",
                "keep 2019-06-01T10:00: keep_within_yearly 2y",
                "remove 2021-01-10T11:30 2021-01-10T11:00 2021-01-09T23:00 2021-01-04T10:00 2021-01-03T10:00 2020-11-15T10:00",
            ],
            ..ROW
        },
        Case {
            name: "keep_within_daily keeps the oldest inside its window",
            spec: r#"{"keep_within_daily": "10d"}"#,
            times: TWO_A_DAY,
            expect: &[
                "keep 2021-01-03T12:00: keep_within_daily 10d",
                "keep 2021-01-02T12:00: keep_within_daily 10d",
                "keep 2021-01-01T12:00: keep_within_daily 10d",
                "keep 2021-01-01T10:00: oldest keep_within_daily 10d",
                "remove 2021-01-03T10:00 2021-01-02T10:00",
            ],
            ..ROW
        },
    ]);
}

#[test]
fn rules_combine_in_restic_order() {
    check(&[
        Case {
            name: "every reason listed: within, counts, then bucketed windows",
            spec: r#"{"keep_last": 1, "keep_daily": 2, "keep_monthly": 1,
                      "keep_within": "1h", "keep_within_daily": "1d"}"#,
            times: &[
                "2021-01-10T12:00",
                "2021-01-10T11:30",
                "2021-01-09T10:00",
                "2021-01-08T10:00",
            ],
            expect: &[
                "keep 2021-01-10T12:00: keep_within 1h, keep_last, keep_daily, keep_monthly, keep_within_daily 1d",
                "keep 2021-01-10T11:30: keep_within 1h",
                "keep 2021-01-09T10:00: keep_daily",
                "remove 2021-01-08T10:00",
            ],
            ..ROW
        },
        Case {
            name: "all twelve rules, counts of 1: the oldest only by the windows",
            spec: r#"{"keep_last": 1, "keep_hourly": 1, "keep_daily": 1, "keep_weekly": 1,
                      "keep_monthly": 1, "keep_yearly": 1, "keep_within": "1y",
                      "keep_within_hourly": "1y", "keep_within_daily": "1y",
                      "keep_within_weekly": "1y", "keep_within_monthly": "1y",
                      "keep_within_yearly": "1y"}"#,
            times: &["2021-06-15T10:20", "2021-06-15T10:10"],
            expect: &[
                "keep 2021-06-15T10:20: keep_within 1y, keep_last, keep_hourly, keep_daily, keep_weekly, keep_monthly, keep_yearly, keep_within_hourly 1y, keep_within_daily 1y, keep_within_weekly 1y, keep_within_monthly 1y, keep_within_yearly 1y",
                "keep 2021-06-15T10:10: keep_within 1y, oldest keep_within_hourly 1y, oldest keep_within_daily 1y, oldest keep_within_weekly 1y, oldest keep_within_monthly 1y, oldest keep_within_yearly 1y",
            ],
            ..ROW
        },
        Case {
            name: "all twelve rules, counts of 2: the oldest by every bucket",
            spec: r#"{"keep_last": 2, "keep_hourly": 2, "keep_daily": 2, "keep_weekly": 2,
                      "keep_monthly": 2, "keep_yearly": 2, "keep_within": "1y",
                      "keep_within_hourly": "1y", "keep_within_daily": "1y",
                      "keep_within_weekly": "1y", "keep_within_monthly": "1y",
                      "keep_within_yearly": "1y"}"#,
            times: &["2021-06-15T10:20", "2021-06-15T10:10"],
            expect: &[
                "keep 2021-06-15T10:20: keep_within 1y, keep_last, keep_hourly, keep_daily, keep_weekly, keep_monthly, keep_yearly, keep_within_hourly 1y, keep_within_daily 1y, keep_within_weekly 1y, keep_within_monthly 1y, keep_within_yearly 1y",
                "keep 2021-06-15T10:10: keep_within 1y, keep_last, oldest keep_hourly, oldest keep_daily, oldest keep_weekly, oldest keep_monthly, oldest keep_yearly, oldest keep_within_hourly 1y, oldest keep_within_daily 1y, oldest keep_within_weekly 1y, oldest keep_within_monthly 1y, oldest keep_within_yearly 1y",
            ],
            ..ROW
        },
    ]);
}

#[test]
fn unlimited_counts() {
    check(&[
        Case {
            name: "keep_last unlimited",
            spec: r#"{"keep_last": "unlimited"}"#,
            times: &SERIES[..4],
            expect: &[
                "keep 2021-01-10T12:00: keep_last",
                "keep 2021-01-10T11:30: keep_last",
                "keep 2021-01-10T11:00: keep_last",
                "keep 2021-01-09T23:00: keep_last",
            ],
            ..ROW
        },
        Case {
            name: "keep_hourly unlimited",
            spec: r#"{"keep_hourly": "unlimited"}"#,
            times: SERIES,
            expect: &[
                "keep 2021-01-10T12:00: keep_hourly",
                "keep 2021-01-10T11:30: keep_hourly",
                "keep 2021-01-09T23:00: keep_hourly",
                "keep 2021-01-04T10:00: keep_hourly",
                "keep 2021-01-03T10:00: keep_hourly",
                "keep 2020-12-31T10:00: keep_hourly",
                "keep 2020-11-15T10:00: keep_hourly",
                "keep 2019-06-01T10:00: keep_hourly",
                "remove 2021-01-10T11:00",
            ],
            ..ROW
        },
        Case {
            name: "keep_daily unlimited",
            spec: r#"{"keep_daily": "unlimited"}"#,
            times: SERIES,
            expect: &[
                "keep 2021-01-10T12:00: keep_daily",
                "keep 2021-01-09T23:00: keep_daily",
                "keep 2021-01-04T10:00: keep_daily",
                "keep 2021-01-03T10:00: keep_daily",
                "keep 2020-12-31T10:00: keep_daily",
                "keep 2020-11-15T10:00: keep_daily",
                "keep 2019-06-01T10:00: keep_daily",
                "remove 2021-01-10T11:30 2021-01-10T11:00",
            ],
            ..ROW
        },
        Case {
            name: "keep_weekly unlimited: 2021-W01, 2020-W53, 2020-W46, 2019-W22",
            spec: r#"{"keep_weekly": "unlimited"}"#,
            times: SERIES,
            expect: &[
                "keep 2021-01-10T12:00: keep_weekly",
                "keep 2021-01-03T10:00: keep_weekly",
                "keep 2020-11-15T10:00: keep_weekly",
                "keep 2019-06-01T10:00: keep_weekly",
                "remove 2021-01-10T11:30 2021-01-10T11:00 2021-01-09T23:00 2021-01-04T10:00 2020-12-31T10:00",
            ],
            ..ROW
        },
        Case {
            name: "keep_monthly unlimited",
            spec: r#"{"keep_monthly": "unlimited"}"#,
            times: SERIES,
            expect: &[
                "keep 2021-01-10T12:00: keep_monthly",
                "keep 2020-12-31T10:00: keep_monthly",
                "keep 2020-11-15T10:00: keep_monthly",
                "keep 2019-06-01T10:00: keep_monthly",
                "remove 2021-01-10T11:30 2021-01-10T11:00 2021-01-09T23:00 2021-01-04T10:00 2021-01-03T10:00",
            ],
            ..ROW
        },
        Case {
            name: "keep_yearly unlimited",
            spec: r#"{"keep_yearly": "unlimited"}"#,
            times: SERIES,
            expect: &[
                "keep 2021-01-10T12:00: keep_yearly",
                "keep 2020-12-31T10:00: keep_yearly",
                "keep 2019-06-01T10:00: keep_yearly",
                "remove 2021-01-10T11:30 2021-01-10T11:00 2021-01-09T23:00 2021-01-04T10:00 2021-01-03T10:00 2020-11-15T10:00",
            ],
            ..ROW
        },
        Case {
            name: "unlimited is never spent, so the oldest always stays",
            spec: r#"{"keep_daily": "unlimited"}"#,
            times: TWO_A_DAY,
            expect: &[
                "keep 2021-01-03T12:00: keep_daily",
                "keep 2021-01-02T12:00: keep_daily",
                "keep 2021-01-01T12:00: keep_daily",
                "keep 2021-01-01T10:00: oldest keep_daily",
                "remove 2021-01-03T10:00 2021-01-02T10:00",
            ],
            ..ROW
        },
    ]);
}

#[test]
fn the_oldest_rule() {
    check(&[
        Case {
            name: "keep_daily 5 over 3 days: newest of each day, and the oldest",
            spec: r#"{"keep_daily": 5}"#,
            times: TWO_A_DAY,
            expect: &[
                "keep 2021-01-03T12:00: keep_daily",
                "keep 2021-01-02T12:00: keep_daily",
                "keep 2021-01-01T12:00: keep_daily",
                "keep 2021-01-01T10:00: oldest keep_daily",
                "remove 2021-01-03T10:00 2021-01-02T10:00",
            ],
            ..ROW
        },
        Case {
            name: "keep_daily 4: one count left is enough for the oldest",
            spec: r#"{"keep_daily": 4}"#,
            times: TWO_A_DAY,
            expect: &[
                "keep 2021-01-03T12:00: keep_daily",
                "keep 2021-01-02T12:00: keep_daily",
                "keep 2021-01-01T12:00: keep_daily",
                "keep 2021-01-01T10:00: oldest keep_daily",
                "remove 2021-01-03T10:00 2021-01-02T10:00",
            ],
            ..ROW
        },
        Case {
            name: "keep_daily 3: the count is spent, the oldest goes",
            spec: r#"{"keep_daily": 3}"#,
            times: TWO_A_DAY,
            expect: &[
                "keep 2021-01-03T12:00: keep_daily",
                "keep 2021-01-02T12:00: keep_daily",
                "keep 2021-01-01T12:00: keep_daily",
                "remove 2021-01-03T10:00 2021-01-02T10:00 2021-01-01T10:00",
            ],
            ..ROW
        },
        Case {
            name: "an oldest that opens its own bucket is not called oldest",
            spec: r#"{"keep_daily": 5}"#,
            times: &["2021-01-03T10:00", "2021-01-02T10:00", "2021-01-01T10:00"],
            expect: &[
                "keep 2021-01-03T10:00: keep_daily",
                "keep 2021-01-02T10:00: keep_daily",
                "keep 2021-01-01T10:00: keep_daily",
            ],
            ..ROW
        },
    ]);
}

#[test]
fn ties_keep_the_order_given() {
    check(&[
        Case {
            name: "keep_last 1 keeps the first of two equal times",
            spec: r#"{"keep_last": 1}"#,
            times: &["a@2021-01-01T10:00", "b@2021-01-01T10:00"],
            expect: &["keep a: keep_last", "remove b"],
            ..ROW
        },
        Case {
            name: "given the other way round, the other one",
            spec: r#"{"keep_last": 1}"#,
            times: &["b@2021-01-01T10:00", "a@2021-01-01T10:00"],
            expect: &["keep b: keep_last", "remove a"],
            ..ROW
        },
        Case {
            name: "the second of a tie is the oldest",
            spec: r#"{"keep_daily": 5}"#,
            times: &[
                "x@2021-01-02T10:00",
                "a@2021-01-01T10:00",
                "b@2021-01-01T10:00",
            ],
            expect: &[
                "keep x: keep_daily",
                "keep a: keep_daily",
                "keep b: oldest keep_daily",
            ],
            ..ROW
        },
        Case {
            name: "unsorted input: ties keep their relative order",
            spec: r#"{"keep_daily": 5}"#,
            times: &[
                "b@2021-01-01T10:00",
                "x@2021-01-02T10:00",
                "a@2021-01-01T10:00",
            ],
            expect: &[
                "keep x: keep_daily",
                "keep b: keep_daily",
                "keep a: oldest keep_daily",
            ],
            ..ROW
        },
    ]);
}

/// One backup a day at 02:00 in Paris through 2022 and 2023, 730 in all.
/// keep_daily 7: 2023-12-25 … 12-31. keep_weekly 4: the Sundays 12-31
/// (2023-W52), 12-24, 12-17, 12-10. keep_monthly 12: the last day of each
/// month of 2023. keep_yearly 3: 2023-12-31, 2022-12-31, and with one count
/// left, the oldest backup, 2022-01-01, which shares 2022's bucket. Distinct:
/// 7 + 3 (12-24, 12-17, 12-10) + 11 (Jan … Nov) + 2 = 23.
#[test]
fn two_years_of_daily_backups() {
    let tz = zone("Europe/Paris");
    let first = jiff::civil::date(2022, 1, 1);
    let all: Vec<Candidate> = (0..730)
        .map(|day| {
            let date = first.checked_add(Span::new().days(day)).unwrap();
            let time = tz.to_timestamp(date.at(2, 0, 0, 0)).unwrap();
            Candidate {
                id: date.to_string(),
                time,
            }
        })
        .collect();
    assert_eq!(all.last().unwrap().id, "2023-12-31");
    let spec = r#"{"keep_daily": 7, "keep_weekly": 4, "keep_monthly": 12, "keep_yearly": 3}"#;
    let got = plan(&policy(spec), &all, &tz, at(&tz, "2024-01-01T00:00Z"));
    let expect = [
        "2023-12-31: keep_daily, keep_weekly, keep_monthly, keep_yearly",
        "2023-12-30: keep_daily",
        "2023-12-29: keep_daily",
        "2023-12-28: keep_daily",
        "2023-12-27: keep_daily",
        "2023-12-26: keep_daily",
        "2023-12-25: keep_daily",
        "2023-12-24: keep_weekly",
        "2023-12-17: keep_weekly",
        "2023-12-10: keep_weekly",
        "2023-11-30: keep_monthly",
        "2023-10-31: keep_monthly",
        "2023-09-30: keep_monthly",
        "2023-08-31: keep_monthly",
        "2023-07-31: keep_monthly",
        "2023-06-30: keep_monthly",
        "2023-05-31: keep_monthly",
        "2023-04-30: keep_monthly",
        "2023-03-31: keep_monthly",
        "2023-02-28: keep_monthly",
        "2023-01-31: keep_monthly",
        "2022-12-31: keep_yearly",
        "2022-01-01: oldest keep_yearly",
    ];
    let kept: Vec<String> = got
        .keep
        .iter()
        .map(|k| format!("{}: {}", k.id, k.reasons.join(", ")))
        .collect();
    assert_eq!(kept, expect);
    assert_eq!(got.keep.len(), 23);
    assert_eq!(got.remove.len(), 730 - 23);
    assert_eq!(got.refused, None);
}
