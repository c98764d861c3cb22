//! Tables for the retention policy. Times in a table are wall-clock times in
//! the row's zone ("2021-01-10T12:00") or instants ("2021-10-31T00:30Z"); a
//! candidate's id is its time as written, or the part before "@" ("a@…") where
//! two candidates share a time. A plan is rendered as one "keep id: reasons"
//! line per kept backup, newest first, then one "remove id id …" line.

use std::collections::BTreeSet;

use jiff::civil::DateTime;

use super::*;

fn zone(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap_or_else(|e| panic!("time zone {name}: {e}"))
}

fn at(tz: &TimeZone, text: &str) -> Timestamp {
    if let Ok(instant) = text.parse::<Timestamp>() {
        return instant;
    }
    let wall: DateTime = text.parse().unwrap_or_else(|e| panic!("time {text}: {e}"));
    tz.to_timestamp(wall)
        .unwrap_or_else(|e| panic!("time {text}: {e}"))
}

fn candidates(tz: &TimeZone, times: &[&str]) -> Vec<Candidate> {
    let candidate = |text: &&str| {
        let (id, time) = text.split_once('@').unwrap_or((text, text));
        Candidate {
            id: id.to_owned(),
            time: at(tz, time),
        }
    };
    times.iter().map(candidate).collect()
}

fn policy(spec: &str) -> Policy {
    let parsed: RetentionSpec =
        serde_json::from_str(spec).unwrap_or_else(|e| panic!("spec {spec}: {e}"));
    parsed
        .validate()
        .unwrap_or_else(|e| panic!("spec {spec}: {e:?}"))
}

fn render(plan: &Plan) -> Vec<String> {
    let mut lines: Vec<String> = plan
        .refused
        .iter()
        .map(|r| format!("refused: {r}"))
        .collect();
    for kept in &plan.keep {
        lines.push(format!("keep {}: {}", kept.id, kept.reasons.join(", ")));
    }
    if !plan.remove.is_empty() {
        lines.push(format!("remove {}", plan.removed_ids().join(" ")));
    }
    lines
}

/// One row of a plan table.
struct Case {
    name: &'static str,
    spec: &'static str,
    zone: &'static str,
    /// The instant the plan reasons from; far after every candidate unless set.
    now: &'static str,
    times: &'static [&'static str],
    expect: &'static [&'static str],
}

const ROW: Case = Case {
    name: "",
    spec: "{}",
    zone: "UTC",
    now: "2100-01-01T00:00Z",
    times: &[],
    expect: &[],
};

/// Runs every row and reports every failing one by name.
fn check(cases: &[Case]) {
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            let tz = zone(case.zone);
            let got = plan(
                &policy(case.spec),
                &candidates(&tz, case.times),
                &tz,
                at(&tz, case.now),
            );
            let got = render(&got);
            (got != case.expect).then(|| {
                format!(
                    "case {:?}\n  expected: {:#?}\n  got: {:#?}",
                    case.name, case.expect, got
                )
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Three backups on 2021-01-10 (two of them in hour 11), one the day before,
/// both sides of the ISO week-year boundary (2021-01-04 opens 2021-W01;
/// 2021-01-03 and 2020-12-31 are in 2020-W53), then older months and years.
const SERIES: &[&str] = &[
    "2021-01-10T12:00",
    "2021-01-10T11:30",
    "2021-01-10T11:00",
    "2021-01-09T23:00",
    "2021-01-04T10:00",
    "2021-01-03T10:00",
    "2020-12-31T10:00",
    "2020-11-15T10:00",
    "2019-06-01T10:00",
];

/// Three days with two backups each.
const TWO_A_DAY: &[&str] = &[
    "2021-01-03T12:00",
    "2021-01-03T10:00",
    "2021-01-02T12:00",
    "2021-01-02T10:00",
    "2021-01-01T12:00",
    "2021-01-01T10:00",
];

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

#[test]
fn empty_policies_and_small_lists() {
    check(&[
        Case {
            name: "no rule keeps everything",
            times: &["2021-01-03T10:00", "2021-01-02T10:00", "2021-01-01T10:00"],
            expect: &[
                "keep 2021-01-03T10:00: empty policy (keeps everything)",
                "keep 2021-01-02T10:00: empty policy (keeps everything)",
                "keep 2021-01-01T10:00: empty policy (keeps everything)",
            ],
            ..ROW
        },
        Case {
            name: "counts of 0 are no rule",
            spec: r#"{"keep_last": 0, "keep_hourly": 0, "keep_daily": 0, "keep_weekly": 0,
                      "keep_monthly": 0, "keep_yearly": 0, "min_keep": 0}"#,
            times: &["2021-01-02T10:00", "2021-01-01T10:00"],
            expect: &[
                "keep 2021-01-02T10:00: empty policy (keeps everything)",
                "keep 2021-01-01T10:00: empty policy (keeps everything)",
            ],
            ..ROW
        },
        Case {
            name: "one backup, keep_daily",
            spec: r#"{"keep_daily": 1}"#,
            times: &["2021-01-01T10:00"],
            expect: &["keep 2021-01-01T10:00: keep_daily"],
            ..ROW
        },
        Case {
            name: "one backup, keep_within",
            spec: r#"{"keep_within": "1d"}"#,
            times: &["2021-01-01T10:00"],
            expect: &["keep 2021-01-01T10:00: keep_within 1d"],
            ..ROW
        },
        Case {
            name: "one backup opens its bucket: not \"oldest\"",
            spec: r#"{"keep_within_daily": "1d"}"#,
            times: &["2021-01-01T10:00"],
            expect: &["keep 2021-01-01T10:00: keep_within_daily 1d"],
            ..ROW
        },
        Case {
            name: "no backups",
            spec: r#"{"keep_daily": 7}"#,
            ..ROW
        },
        Case {
            name: "no backups, no rules",
            ..ROW
        },
    ]);
}

#[test]
fn min_keep_floor() {
    check(&[
        Case {
            name: "min_keep 3 with keep_last 1 keeps 3",
            spec: r#"{"keep_last": 1, "min_keep": 3}"#,
            times: &[
                "2021-01-05T10:00",
                "2021-01-04T10:00",
                "2021-01-03T10:00",
                "2021-01-02T10:00",
                "2021-01-01T10:00",
            ],
            expect: &[
                "keep 2021-01-05T10:00: keep_last",
                "keep 2021-01-04T10:00: min_keep 3",
                "keep 2021-01-03T10:00: min_keep 3",
                "remove 2021-01-02T10:00 2021-01-01T10:00",
            ],
            ..ROW
        },
        Case {
            name: "min_keep larger than the list keeps them all",
            spec: r#"{"keep_last": 1, "min_keep": 10}"#,
            times: &["2021-01-03T10:00", "2021-01-02T10:00", "2021-01-01T10:00"],
            expect: &[
                "keep 2021-01-03T10:00: keep_last",
                "keep 2021-01-02T10:00: min_keep 10",
                "keep 2021-01-01T10:00: min_keep 10",
            ],
            ..ROW
        },
        Case {
            name: "min_keep 0 adds nothing",
            spec: r#"{"keep_last": 1, "min_keep": 0}"#,
            times: &["2021-01-03T10:00", "2021-01-02T10:00", "2021-01-01T10:00"],
            expect: &[
                "keep 2021-01-03T10:00: keep_last",
                "remove 2021-01-02T10:00 2021-01-01T10:00",
            ],
            ..ROW
        },
        Case {
            name: "min_keep takes the newest of those the rules remove",
            spec: r#"{"keep_daily": 2, "min_keep": 4}"#,
            times: &TWO_A_DAY[..5],
            expect: &[
                "keep 2021-01-03T12:00: keep_daily",
                "keep 2021-01-03T10:00: min_keep 4",
                "keep 2021-01-02T12:00: keep_daily",
                "keep 2021-01-02T10:00: min_keep 4",
                "remove 2021-01-01T12:00",
            ],
            ..ROW
        },
    ]);
}

fn verdicts(rows: &[(&str, &[&str])]) -> Vec<Verdict> {
    let verdict = |(id, reasons): &(&str, &[&str])| Verdict {
        id: (*id).to_owned(),
        reasons: reasons.iter().map(|r| (*r).to_owned()).collect(),
    };
    rows.iter().map(verdict).collect()
}

#[test]
fn floors_over_any_verdicts() {
    type Row = (
        &'static str,
        &'static [(&'static str, &'static [&'static str])],
        u32,
        &'static [&'static str],
    );
    let rows: &[Row] = &[
        ("nothing to keep or remove", &[], 1, &[]),
        (
            "rules that keep nothing are refused",
            &[("a", &[]), ("b", &[]), ("c", &[])],
            1,
            &[
                "refused: the retention rules would remove all 3 backups; none is removed",
                "keep a: refused: the rules keep no backup",
                "keep b: refused: the rules keep no backup",
                "keep c: refused: the rules keep no backup",
            ],
        ),
        (
            "refused even with min_keep 0",
            &[("a", &[])],
            0,
            &[
                "refused: the retention rules would remove the only backup; none is removed",
                "keep a: refused: the rules keep no backup",
            ],
        ),
        (
            "the newest stays even with min_keep 0",
            &[("a", &[]), ("b", &["keep_daily"])],
            0,
            &["keep a: newest backup", "keep b: keep_daily"],
        ),
        (
            "the newest counts towards min_keep",
            &[("a", &[]), ("b", &[]), ("c", &["keep_daily"])],
            2,
            &["keep a: newest backup", "keep c: keep_daily", "remove b"],
        ),
        (
            "then the newest of the rest",
            &[("a", &[]), ("b", &[]), ("c", &["keep_daily"]), ("d", &[])],
            3,
            &[
                "keep a: newest backup",
                "keep b: min_keep 3",
                "keep c: keep_daily",
                "remove d",
            ],
        ),
        (
            "min_keep beyond the list",
            &[("a", &["keep_last"]), ("b", &[]), ("c", &[])],
            5,
            &[
                "keep a: keep_last",
                "keep b: min_keep 5",
                "keep c: min_keep 5",
            ],
        ),
    ];
    let failures: Vec<String> = rows
        .iter()
        .filter_map(|(name, given, min_keep, expect)| {
            let got = render(&apply_floors(verdicts(given), *min_keep));
            (got != *expect).then(|| format!("case {name:?}: expected {expect:#?}, got {got:#?}"))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn refused_plans_remove_nothing() {
    let refused = apply_floors(verdicts(&[("a", &[]), ("b", &[])]), 1);
    assert!(refused.refused.is_some());
    assert_eq!(refused.kept_ids(), ["a", "b"]);
    assert!(refused.remove.is_empty());
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

#[test]
fn within_parses_restic_durations() {
    let within = |years, months, days, hours| Within {
        years,
        months,
        days,
        hours,
    };
    let good = [
        ("1y2m3d4h", within(1, 2, 3, 4), "1y2m3d4h"),
        ("4h3d2m1y", within(1, 2, 3, 4), "1y2m3d4h"),
        ("7d", within(0, 0, 7, 0), "7d"),
        (" 36h\n", within(0, 0, 0, 36), "36h"),
        ("1y0m", within(1, 0, 0, 0), "1y"),
        ("007d", within(0, 0, 7, 0), "7d"),
        ("0y1h", within(0, 0, 0, 1), "1h"),
        ("4294967295h", within(0, 0, 0, u32::MAX), "4294967295h"),
    ];
    for (text, expect, shown) in good {
        let got: Within = text.parse().unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!((got, got.to_string().as_str()), (expect, shown), "{text:?}");
    }
    let bad = [
        (
            "",
            "a keep_within duration is empty: write one such as 1y6m",
        ),
        (
            "   ",
            "a keep_within duration is empty: write one such as 1y6m",
        ),
        ("-1d", "\"-1d\" is negative: write how long, such as 1y6m"),
        (
            "1d-2h",
            "\"1d-2h\" is negative: write how long, such as 1y6m",
        ),
        (
            "7",
            "7 has no unit: use y (years), m (months), d (days) or h (hours), e.g. 1y6m",
        ),
        (
            "1y7",
            "7 has no unit: use y (years), m (months), d (days) or h (hours), e.g. 1y6m",
        ),
        ("2w", "\"w\" is not a unit: write weeks as days, e.g. 14d"),
        (
            "30min",
            "\"min\" is not a unit: m is months here, and this rule has no unit for minutes (the smallest is h)",
        ),
        (
            "7x",
            "\"x\" is not a unit: use y (years), m (months), d (days) or h (hours), e.g. 1y6m",
        ),
        (
            "7D",
            "\"D\" is not a unit: use y (years), m (months), d (days) or h (hours), e.g. 1y6m",
        ),
        (
            "1dh",
            "\"dh\" is not a unit: use y (years), m (months), d (days) or h (hours), e.g. 1y6m",
        ),
        (
            "1d2d",
            "\"1d2d\" gives d twice: give each unit once, e.g. 1y6m",
        ),
        (
            "4294967296h",
            "4294967296h is too large: at most 4294967295",
        ),
        (
            "1d 2h",
            "unexpected ' ' in \"1d 2h\": write each number right before its unit, e.g. 1y6m",
        ),
        (
            "+7d",
            "unexpected '+' in \"+7d\": write each number right before its unit, e.g. 1y6m",
        ),
        (
            "1.5d",
            "\"1.5d\" has a fraction: use whole numbers, e.g. 1y6m",
        ),
        ("d", "\"d\" needs a number before it, e.g. 1y6m"),
        ("0d", ZERO_WITHIN),
        ("0y0m0d0h", ZERO_WITHIN),
    ];
    for (text, expect) in bad {
        match text.parse::<Within>() {
            Ok(got) => panic!("{text:?} parsed as {got:?}"),
            Err(e) => assert_eq!(e.to_string(), expect, "{text:?}"),
        }
    }
    assert_eq!(Within::default().to_string(), "0h");
}

#[test]
fn within_serde_is_the_string() {
    let w: Within = serde_json::from_str(r#""1y6m""#).unwrap();
    assert_eq!(serde_json::to_string(&w).unwrap(), r#""1y6m""#);
    let err = serde_json::from_str::<Within>("7").unwrap_err().to_string();
    assert!(
        err.starts_with("invalid type: integer `7`, expected a string"),
        "{err}"
    );
    let err = serde_json::from_str::<Within>(r#""0d""#)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with(ZERO_WITHIN), "{err}");
}

#[test]
fn count_parses_and_prints() {
    let good = [
        ("7", Count::N(7)),
        ("0", Count::N(0)),
        ("unlimited", Count::Unlimited),
        ("4294967295", Count::N(u32::MAX)),
    ];
    for (text, expect) in good {
        assert_eq!(text.parse::<Count>(), Ok(expect), "{text:?}");
        assert_eq!(expect.to_string(), text);
    }
    let not_a_count =
        |shown: &str| format!("{shown} is not a count: write a number such as 7, or \"unlimited\"");
    let bad = [
        (
            "4294967296",
            "4294967296 is too large for a count: write \"unlimited\" to keep them all".to_owned(),
        ),
        ("-1", RESTIC_MINUS_ONE.to_owned()),
        ("-2", not_a_count("\"-2\"")),
        ("", not_a_count("\"\"")),
        ("Unlimited", not_a_count("\"Unlimited\"")),
        ("+7", not_a_count("\"+7\"")),
        (" 7", not_a_count("\" 7\"")),
        ("all", not_a_count("\"all\"")),
    ];
    for (text, expect) in bad {
        assert_eq!(
            text.parse::<Count>().map_err(|e| e.to_string()),
            Err(expect),
            "{text:?}"
        );
    }
}

#[test]
fn count_serde() {
    let good = [
        ("7", Count::N(7)),
        ("0", Count::N(0)),
        (r#""unlimited""#, Count::Unlimited),
    ];
    for (json, expect) in good {
        assert_eq!(
            serde_json::from_str::<Count>(json).unwrap(),
            expect,
            "{json}"
        );
        assert_eq!(serde_json::to_string(&expect).unwrap(), json);
    }
    let bad = [
        (
            "-1",
            "-1 is not a count: write \"unlimited\" for restic's -1, or a number such as 7",
        ),
        (
            "-5",
            "-5 is not a count: write a number such as 7, or \"unlimited\"",
        ),
        (
            "4294967296",
            "4294967296 is too large for a count: write \"unlimited\" to keep them all",
        ),
        (
            r#""7""#,
            "\"7\" is not a count: write the number without quotes, or \"unlimited\"",
        ),
        (
            r#""all""#,
            "\"all\" is not a count: write a number such as 7, or \"unlimited\"",
        ),
        (
            "1.5",
            "invalid type: floating point `1.5`, expected a number such as 7, or \"unlimited\"",
        ),
        (
            "true",
            "invalid type: boolean `true`, expected a number such as 7, or \"unlimited\"",
        ),
        (
            "null",
            "invalid type: null, expected a number such as 7, or \"unlimited\"",
        ),
    ];
    for (json, expect) in bad {
        let err = serde_json::from_str::<Count>(json).unwrap_err().to_string();
        assert!(err.starts_with(expect), "{json}: {err}");
    }
}

#[test]
fn trash_for_parses() {
    let good = [
        ("0s", 0),
        ("24h", 86_400),
        ("1d12h", 129_600),
        ("12h1d", 129_600),
        ("90m", 5_400),
        ("1d1h1m1s", 90_061),
        (" 2d ", 172_800),
        ("3650d", 3650 * 86_400),
    ];
    for (text, seconds) in good {
        assert_eq!(
            parse_trash_for(text),
            Ok(Duration::from_secs(seconds)),
            "{text:?}"
        );
    }
    let bad = [
        ("", "trash_for is empty: write one such as 1d12h"),
        (
            "24",
            "24 has no unit: use d (days), h (hours), m (minutes) or s (seconds), e.g. 1d12h",
        ),
        ("1w", "\"w\" is not a unit: write weeks as days, e.g. 14d"),
        (
            "1y",
            "\"y\" is not a unit: use d (days), h (hours), m (minutes) or s (seconds), e.g. 1d12h",
        ),
        ("-1h", "\"-1h\" is negative: write how long, such as 1d12h"),
        (
            "1h1h",
            "\"1h1h\" gives h twice: give each unit once, e.g. 1d12h",
        ),
        (
            "1.5h",
            "\"1.5h\" has a fraction: use whole numbers, e.g. 1d12h",
        ),
        (
            "3650d1s",
            "\"3650d1s\" is longer than 3650 days: a trash is a grace period, not an archive (keep_yearly keeps backups for years)",
        ),
    ];
    for (text, expect) in bad {
        assert_eq!(
            parse_trash_for(text).map_err(|e| e.to_string()),
            Err(expect.to_owned()),
            "{text:?}"
        );
    }
}

#[test]
fn spec_round_trips_and_refuses_unknown_keys() {
    let written = r#"{"keep_last": 3, "keep_daily": "unlimited", "keep_within": "4h3d",
        "keep_within_yearly": "10y", "min_keep": 2, "trash_for": "1d12h"}"#;
    let spec: RetentionSpec = serde_json::from_str(written).unwrap();
    let printed = serde_json::to_string(&spec).unwrap();
    assert_eq!(
        printed,
        r#"{"keep_last":3,"keep_daily":"unlimited","keep_within":"3d4h","keep_within_yearly":"10y","min_keep":2,"trash_for":"1d12h"}"#
    );
    assert_eq!(
        serde_json::from_str::<RetentionSpec>(&printed).unwrap(),
        spec
    );
    assert_eq!(
        serde_json::from_str::<RetentionSpec>("{}").unwrap(),
        RetentionSpec::default()
    );
    assert_eq!(
        serde_json::to_string(&RetentionSpec::default()).unwrap(),
        "{}"
    );
    let errors = [
        (r#"{"keep_dialy": 7}"#, "unknown field `keep_dialy`"),
        (
            r#"{"keep_daily": -1}"#,
            "-1 is not a count: write \"unlimited\"",
        ),
        (r#"{"keep_within": "7"}"#, "7 has no unit"),
        (r#"{"min_keep": "3"}"#, "invalid type: string \"3\""),
    ];
    for (json, expect) in errors {
        let err = serde_json::from_str::<RetentionSpec>(json)
            .unwrap_err()
            .to_string();
        assert!(err.contains(expect), "{json}: {err}");
    }
}

#[test]
fn validate_reports_every_error() {
    let ok = [
        ("{}", Policy::default()),
        (
            r#"{"min_keep": 0, "trash_for": "0s"}"#,
            Policy {
                min_keep: 0,
                trash_for: Duration::ZERO,
                ..Policy::default()
            },
        ),
        (
            r#"{"min_keep": 10000}"#,
            Policy {
                min_keep: 10_000,
                ..Policy::default()
            },
        ),
        (
            r#"{"keep_daily": 7, "keep_within": "1y"}"#,
            Policy {
                rules: Rules {
                    daily: Count::N(7),
                    within: Some(Within {
                        years: 1,
                        ..Within::default()
                    }),
                    ..Rules::default()
                },
                ..Policy::default()
            },
        ),
    ];
    for (json, expect) in ok {
        let spec: RetentionSpec = serde_json::from_str(json).unwrap();
        assert_eq!(spec.validate(), Ok(expect), "{json}");
    }
    assert_eq!(Policy::default().trash_for, Duration::from_secs(86_400));
    let errors = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, m)| ((*k).to_owned(), (*m).to_owned()))
            .collect()
    };
    let bad = [
        (
            RetentionSpec {
                min_keep: Some(10_001),
                ..RetentionSpec::default()
            },
            errors(&[("min_keep", "min_keep is at most 10000, not 10001")]),
        ),
        (
            RetentionSpec {
                min_keep: Some(20_000),
                trash_for: Some("1w".into()),
                ..RetentionSpec::default()
            },
            errors(&[
                ("min_keep", "min_keep is at most 10000, not 20000"),
                (
                    "trash_for",
                    "\"w\" is not a unit: write weeks as days, e.g. 14d",
                ),
            ]),
        ),
        (
            RetentionSpec {
                keep_within_daily: Some(Within::default()),
                keep_within: Some(Within::default()),
                ..RetentionSpec::default()
            },
            errors(&[
                ("keep_within", ZERO_WITHIN),
                ("keep_within_daily", ZERO_WITHIN),
            ]),
        ),
    ];
    for (spec, expect) in bad {
        assert_eq!(spec.validate(), Err(expect), "{spec:?}");
    }
}

#[test]
fn empty_rules() {
    let rows = [
        (r#"{}"#, true),
        (r#"{"keep_daily": 0}"#, true),
        (r#"{"min_keep": 3, "trash_for": "1h"}"#, true),
        (r#"{"keep_daily": 1}"#, false),
        (r#"{"keep_last": "unlimited"}"#, false),
        (r#"{"keep_within": "1d"}"#, false),
        (r#"{"keep_within_yearly": "1h"}"#, false),
    ];
    for (json, expect) in rows {
        let spec: RetentionSpec = serde_json::from_str(json).unwrap();
        assert_eq!(spec.is_empty_rules(), expect, "{json}");
    }
    let zero = RetentionSpec {
        keep_within: Some(Within::default()),
        ..RetentionSpec::default()
    };
    assert!(zero.is_empty_rules());
}

#[test]
fn destination_tables_override_the_job() {
    let job = r#"{"keep_daily": 7, "keep_monthly": 12, "min_keep": 2, "trash_for": "48h"}"#;
    let rows = [
        ("an empty table inherits everything", job, "{}", job),
        (
            "any keep rule replaces all of the job's",
            job,
            r#"{"keep_within": "7d"}"#,
            r#"{"keep_within": "7d", "min_keep": 2, "trash_for": "48h"}"#,
        ),
        (
            "min_keep alone keeps the job's rules",
            job,
            r#"{"min_keep": 5}"#,
            r#"{"keep_daily": 7, "keep_monthly": 12, "min_keep": 5, "trash_for": "48h"}"#,
        ),
        (
            "trash_for alone keeps the job's rules",
            job,
            r#"{"trash_for": "0s"}"#,
            r#"{"keep_daily": 7, "keep_monthly": 12, "min_keep": 2, "trash_for": "0s"}"#,
        ),
        (
            "a rule set to 0 still replaces them: keep everything here",
            job,
            r#"{"keep_daily": 0}"#,
            r#"{"keep_daily": 0, "min_keep": 2, "trash_for": "48h"}"#,
        ),
        (
            "a full table wins whole",
            job,
            r#"{"keep_last": 3, "min_keep": 1, "trash_for": "1h"}"#,
            r#"{"keep_last": 3, "min_keep": 1, "trash_for": "1h"}"#,
        ),
        (
            "a job with no table",
            "{}",
            r#"{"keep_daily": 3}"#,
            r#"{"keep_daily": 3}"#,
        ),
    ];
    for (name, job, dest, expect) in rows {
        let spec = |json| serde_json::from_str::<RetentionSpec>(json).unwrap();
        assert_eq!(
            spec(job).override_with(&spec(dest)),
            spec(expect),
            "case {name:?}"
        );
    }
}

#[test]
fn candidate_and_plan_json() {
    let c: Candidate =
        serde_json::from_str(r#"{"id": "a", "time": "2024-05-01T02:00:00Z"}"#).unwrap();
    let same: Candidate =
        serde_json::from_str(r#"{"id": "a", "time": "2024-05-01T04:00:00+02:00"}"#).unwrap();
    assert_eq!(c, same);
    assert_eq!(c.time, "2024-05-01T02:00:00Z".parse::<Timestamp>().unwrap());
    for bad in [
        r#"{"id": "a", "time": "2024-05-01T02:00:00Z", "size": 1}"#,
        r#"{"id": "a"}"#,
        r#"{"id": "a", "time": "2024-05-01T02:00:00"}"#,
    ] {
        assert!(serde_json::from_str::<Candidate>(bad).is_err(), "{bad}");
    }
    let kept = apply_floors(verdicts(&[("a", &["keep_last"]), ("b", &[])]), 0);
    assert_eq!(
        serde_json::to_string(&kept).unwrap(),
        r#"{"keep":[{"id":"a","reasons":["keep_last"]}],"remove":[{"id":"b"}]}"#
    );
    let refused = apply_floors(verdicts(&[("a", &[])]), 0);
    assert_eq!(
        serde_json::to_string(&refused).unwrap(),
        r#"{"keep":[{"id":"a","reasons":["refused: the rules keep no backup"]}],"remove":[],"refused":"the retention rules would remove the only backup; none is removed"}"#
    );
}

#[test]
fn json_schema() {
    let schema = serde_json::to_value(schemars::schema_for!(RetentionSpec)).unwrap();
    let props = &schema["properties"];
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(props.as_object().unwrap().len(), 14);
    assert_eq!(props["min_keep"]["maximum"], 10000);
    assert_eq!(props["trash_for"]["pattern"], TRASH_FOR_PATTERN);
    assert!(
        props["keep_daily"]["description"]
            .as_str()
            .unwrap()
            .contains("--keep-daily")
    );
    let defs = &schema["$defs"];
    assert_eq!(
        defs["Count"]["oneOf"][0],
        serde_json::json!({"type": "integer", "minimum": 0, "maximum": u32::MAX})
    );
    assert_eq!(
        defs["Count"]["oneOf"][1],
        serde_json::json!({"const": "unlimited"})
    );
    assert_eq!(defs["Within"]["pattern"], WITHIN_PATTERN);
}

/// xorshift64*: deterministic, so a failing seed can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn count(&mut self) -> Count {
        match self.below(4) {
            0 => Count::Unlimited,
            _ => Count::N(self.below(6) as u32),
        }
    }

    fn within(&mut self) -> Option<Within> {
        let mut small = |odds| {
            if self.below(odds) == 0 {
                self.below(4) as u32
            } else {
                0
            }
        };
        let within = Within {
            years: small(6),
            months: small(3),
            days: small(2),
            hours: small(2) * 7,
        };
        (self.below(3) == 0 && !within.is_zero()).then_some(within)
    }

    fn maybe_count(&mut self) -> Count {
        if self.below(2) == 0 {
            Count::N(0)
        } else {
            self.count()
        }
    }

    fn rules(&mut self) -> Rules {
        Rules {
            last: self.maybe_count(),
            hourly: self.maybe_count(),
            daily: self.maybe_count(),
            weekly: self.maybe_count(),
            monthly: self.maybe_count(),
            yearly: self.maybe_count(),
            within: self.within(),
            within_hourly: self.within(),
            within_daily: self.within(),
            within_weekly: self.within(),
            within_monthly: self.within(),
            within_yearly: self.within(),
        }
    }

    /// The same rules with one rule turned on or widened.
    fn with_one_more(&mut self, rules: Rules) -> Rules {
        let mut more = rules;
        let within = Some(Within {
            days: 1 + self.below(60) as u32,
            ..Within::default()
        });
        match self.below(12) {
            0 => more.last = Count::Unlimited,
            1 => more.hourly = Count::Unlimited,
            2 => more.daily = Count::Unlimited,
            3 => more.weekly = Count::Unlimited,
            4 => more.monthly = Count::Unlimited,
            5 => more.yearly = Count::Unlimited,
            6 => more.within = more.within.or(within),
            7 => more.within_hourly = more.within_hourly.or(within),
            8 => more.within_daily = more.within_daily.or(within),
            9 => more.within_weekly = more.within_weekly.or(within),
            10 => more.within_monthly = more.within_monthly.or(within),
            _ => more.within_yearly = more.within_yearly.or(within),
        }
        more
    }
}

const ZONES: [&str; 5] = [
    "UTC",
    "Europe/Paris",
    "Asia/Kolkata",
    "America/New_York",
    "Australia/Lord_Howe",
];

type Times = std::collections::HashMap<String, Timestamp>;

/// A plan with ids replaced by times: what must not depend on input order.
fn shape(plan: &Plan, times: &Times) -> Vec<(bool, Timestamp, Vec<String>)> {
    let kept = plan
        .keep
        .iter()
        .map(|k| (true, times[&k.id], k.reasons.clone()));
    let removed = plan
        .remove
        .iter()
        .map(|r| (false, times[&r.id], Vec::new()));
    kept.chain(removed).collect()
}

/// Up to 40 backups over three years, every fourth at an earlier one's time
/// (an exact tie), and an instant that may come before some of them.
fn random_case(rng: &mut Rng) -> (Vec<Candidate>, Timestamp, Policy) {
    let base: Timestamp = "2021-06-01T00:00:00Z".parse().unwrap();
    let minutes_back = |minutes: i64| {
        base.checked_sub(SignedDuration::from_mins(minutes))
            .unwrap()
    };
    let mut list: Vec<Candidate> = Vec::new();
    for i in 0..rng.below(40) as usize {
        let time = match (i, rng.below(4)) {
            (1.., 0) => list[rng.below(i as u64) as usize].time,
            _ => minutes_back(rng.below(3 * 365 * 24 * 60) as i64),
        };
        list.push(Candidate {
            id: format!("c{i}"),
            time,
        });
    }
    let now = minutes_back(rng.below(400 * 24 * 60) as i64 - 30 * 24 * 60);
    let policy = Policy {
        rules: rng.rules(),
        min_keep: rng.below(6) as u32,
        ..Policy::default()
    };
    (list, now, policy)
}

fn newest_first(list: &[Candidate]) -> Vec<&Candidate> {
    let mut sorted: Vec<&Candidate> = list.iter().collect();
    sorted.sort_by_key(|c| std::cmp::Reverse(c.time));
    sorted
}

/// What holds of every plan, given what the rules alone kept.
fn check_plan(policy: &Policy, list: &[Candidate], rules_kept: usize, got: &Plan, context: &str) {
    let mut seen: Vec<&str> = got
        .kept_ids()
        .into_iter()
        .chain(got.removed_ids())
        .collect();
    let mut ids: Vec<&str> = list.iter().map(|c| c.id.as_str()).collect();
    seen.sort_unstable();
    ids.sort_unstable();
    assert_eq!(seen, ids, "every candidate exactly once; {context}");
    let times: Times = list.iter().map(|c| (c.id.clone(), c.time)).collect();
    let order = shape(got, &times);
    let sorted =
        |part: &[(bool, Timestamp, Vec<String>)]| part.windows(2).all(|w| w[0].1 >= w[1].1);
    let (kept, removed) = order.split_at(got.keep.len());
    assert!(sorted(kept) && sorted(removed), "newest first; {context}");
    assert!(
        got.keep.iter().all(|k| !k.reasons.is_empty()),
        "reasons; {context}"
    );
    if let Some(newest) = newest_first(list).first() {
        assert!(
            got.kept_ids().contains(&newest.id.as_str()),
            "newest kept; {context}"
        );
    }
    let floor = list.len().min(policy.min_keep as usize);
    if got.refused.is_some() {
        assert!(
            got.remove.is_empty() && rules_kept == 0,
            "refused; {context}"
        );
    } else if !list.is_empty() {
        // The newest floors add one each when the rules missed it (the
        // newest, and the newest not in the future); min_keep tops up.
        let floors = got
            .keep
            .iter()
            .filter(|k| k.reasons == [NEWEST] || k.reasons == [NEWEST_PRESENT])
            .count();
        let expect = floor.max(rules_kept + floors);
        assert_eq!(got.keep.len(), expect, "floors; {context}");
    }
}

#[test]
fn invariants_over_random_plans() {
    let zones: Vec<TimeZone> = ZONES.iter().map(|z| zone(z)).collect();
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    for round in 0..2_000 {
        let tz = &zones[rng.below(zones.len() as u64) as usize];
        let (list, now, policy) = random_case(&mut rng);
        let context = format!("round {round}: {policy:?} in {tz:?} at {now}, {list:?}");
        let sorted = newest_first(&list);
        let by_rules = apply_rules(&policy.rules, &sorted, tz, now);
        let rules_kept = by_rules.iter().filter(|r| !r.is_empty()).count();
        let got = plan(&policy, &list, tz, now);
        check_plan(&policy, &list, rules_kept, &got, &context);

        // Any input order gives the same plan up to which of two equal times is which.
        let mut shuffled = list.clone();
        for i in (1..shuffled.len()).rev() {
            shuffled.swap(i, rng.below(i as u64 + 1) as usize);
        }
        let again = plan(&policy, &shuffled, tz, now);
        let times: Times = list.iter().map(|c| (c.id.clone(), c.time)).collect();
        assert_eq!(
            shape(&again, &times),
            shape(&got, &times),
            "order; {context}"
        );
        if times.values().collect::<BTreeSet<_>>().len() == list.len() {
            assert_eq!(again, got, "order without ties; {context}");
        }

        // One more rule: the rules keep a superset, so the plan removes no
        // more, counted (min_keep may then pick others), unless the first plan
        // removed nothing at all as an empty or refused one.
        if policy.rules.is_empty() {
            continue;
        }
        let more = Policy {
            rules: rng.with_one_more(policy.rules),
            ..policy.clone()
        };
        let by_more = apply_rules(&more.rules, &sorted, tz, now);
        let superset = by_rules
            .iter()
            .zip(&by_more)
            .all(|(b, a)| b.is_empty() || !a.is_empty());
        assert!(superset, "rules monotone; {context}");
        if got.refused.is_none() {
            let wider = plan(&more, &list, tz, now);
            assert!(
                wider.remove.len() <= got.remove.len(),
                "plan monotone; {context}"
            );
        }
    }
}

/// A backup dated a year ahead (an instance whose clock is wrong) takes
/// keep_last 1 and the newest floor; the newest one not in the future stays
/// all the same.
#[test]
fn a_backup_from_the_future_does_not_push_out_the_real_newest() {
    let now: Timestamp = "2026-12-02T12:00:00Z".parse().unwrap();
    let at = |s: &str| -> Timestamp { s.parse().unwrap() };
    let candidates = vec![
        Candidate {
            id: "future".into(),
            time: at("2027-12-02T02:00:00Z"),
        },
        Candidate {
            id: "today".into(),
            time: at("2026-12-02T02:00:00Z"),
        },
        Candidate {
            id: "yesterday".into(),
            time: at("2026-12-01T02:00:00Z"),
        },
    ];
    let policy = RetentionSpec {
        keep_last: Some(Count::N(1)),
        ..Default::default()
    }
    .validate()
    .unwrap();
    let p = plan(&policy, &candidates, &TimeZone::UTC, now);
    assert_eq!(p.kept_ids(), ["future", "today"]);
    assert_eq!(p.keep[1].reasons, [NEWEST_PRESENT]);
    assert_eq!(p.removed_ids(), ["yesterday"]);
    // With nothing in the future, nothing changes.
    let p = plan(&policy, &candidates[1..], &TimeZone::UTC, now);
    assert_eq!(p.kept_ids(), ["today"]);
    assert_eq!(p.keep[0].reasons, ["keep_last"]);
}
