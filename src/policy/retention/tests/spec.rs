//! The written form: counts, durations, trash_for, RetentionSpec and its JSON and schema.

use super::*;

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
