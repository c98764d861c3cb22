//! Sauve's floors over the rules: empty policies, min_keep, the newest backups, refusals.

use super::*;

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
