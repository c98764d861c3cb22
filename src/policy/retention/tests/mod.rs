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

fn verdicts(rows: &[(&str, &[&str])]) -> Vec<Verdict> {
    let verdict = |(id, reasons): &(&str, &[&str])| Verdict {
        id: (*id).to_owned(),
        reasons: reasons.iter().map(|r| (*r).to_owned()).collect(),
    };
    rows.iter().map(verdict).collect()
}

mod calendar;
mod floors;
mod properties;
mod rules;
mod spec;
