//! The dashboard's retention parts: the job form's inputs (one per key of
//! `[job.retention]`), a policy in words for the job card, and the trash's
//! rows.

use crate::policy::retention::{Count, DEFAULT_TRASH_FOR, RetentionSpec, Within, parse_trash_for};

pub(super) struct DestinationRetention {
    pub(super) uri: String,
    pub(super) words: String,
}

/// One input of the job form's Retention fieldset: a key of `[job.retention]`.
pub(super) struct RuleField {
    pub(super) key: &'static str,
    pub(super) label: &'static str,
    pub(super) hint: &'static str,
    pub(super) placeholder: &'static str,
    /// `count` (a number or `unlimited`), `number`, or `duration`: how the
    /// script sends it.
    pub(super) kind: &'static str,
    pub(super) inputmode: &'static str,
    /// Shown under "More rules".
    pub(super) more: bool,
}

pub(super) const fn rule(
    key: &'static str,
    label: &'static str,
    hint: &'static str,
    placeholder: &'static str,
    kind: &'static str,
    more: bool,
) -> RuleField {
    let inputmode = if matches!(kind.as_bytes(), b"number") {
        "numeric"
    } else {
        "text"
    };
    RuleField {
        key,
        label,
        hint,
        placeholder,
        kind,
        inputmode,
        more,
    }
}

/// The keys of a retention policy, in the order the form shows them.
pub(super) const RULES: [RuleField; 14] = [
    rule(
        "keep_last",
        "Keep last",
        "keep_last: the N newest backups; a number or unlimited",
        "e.g. 3",
        "count",
        false,
    ),
    rule(
        "keep_daily",
        "Keep daily",
        "keep_daily: the newest backup of each of the last N days that have one; a number or unlimited",
        "e.g. 14",
        "count",
        false,
    ),
    rule(
        "keep_weekly",
        "Keep weekly",
        "keep_weekly: the newest of each of the last N ISO weeks (Monday to Sunday); a number or unlimited",
        "e.g. 8",
        "count",
        false,
    ),
    rule(
        "keep_monthly",
        "Keep monthly",
        "keep_monthly: the newest of each of the last N months; a number or unlimited",
        "e.g. 12",
        "count",
        false,
    ),
    rule(
        "keep_yearly",
        "Keep yearly",
        "keep_yearly: the newest of each of the last N years; a number or unlimited",
        "e.g. 3",
        "count",
        false,
    ),
    rule(
        "keep_within",
        "Keep within",
        "keep_within: every backup made within this long before the newest one, e.g. 30d, 1y2m (y, m months, d, h)",
        "e.g. 7d",
        "duration",
        false,
    ),
    rule(
        "min_keep",
        "Always keep at least",
        "min_keep: good backups that stay whatever the rules say; a number (default 1)",
        "1",
        "number",
        false,
    ),
    rule(
        "trash_for",
        "Trash for",
        "trash_for: how long a removed backup stays restorable before it is purged, e.g. 48h, 7d (default 24h; 0s purges at once)",
        "24h",
        "text",
        false,
    ),
    rule(
        "keep_hourly",
        "Keep hourly",
        "keep_hourly: the newest of each of the last N hours that have one; a number or unlimited",
        "e.g. 24",
        "count",
        true,
    ),
    rule(
        "keep_within_hourly",
        "Keep hourly within",
        "keep_within_hourly: the newest of each hour within this long before the newest backup, e.g. 2d",
        "e.g. 2d",
        "duration",
        true,
    ),
    rule(
        "keep_within_daily",
        "Keep daily within",
        "keep_within_daily: the newest of each day within this long before the newest backup, e.g. 30d",
        "e.g. 30d",
        "duration",
        true,
    ),
    rule(
        "keep_within_weekly",
        "Keep weekly within",
        "keep_within_weekly: the newest of each ISO week within this long before the newest backup, e.g. 3m",
        "e.g. 3m",
        "duration",
        true,
    ),
    rule(
        "keep_within_monthly",
        "Keep monthly within",
        "keep_within_monthly: the newest of each month within this long before the newest backup, e.g. 1y",
        "e.g. 1y",
        "duration",
        true,
    ),
    rule(
        "keep_within_yearly",
        "Keep yearly within",
        "keep_within_yearly: the newest of each year within this long before the newest backup, e.g. 5y",
        "e.g. 5y",
        "duration",
        true,
    ),
];

/// A retention policy in words, for the job card: "Keeps the last 3, 14
/// daily, one a month forever; trash 48h", or "Keeps every backup".
pub(super) fn retention_words(spec: Option<&RetentionSpec>) -> String {
    let Some(spec) = spec.filter(|s| !s.is_empty_rules()) else {
        return "Keeps every backup".into();
    };
    let count = |c: Option<Count>, n_of: &dyn Fn(u32) -> String, forever: &str| match c {
        None | Some(Count::N(0)) => None,
        Some(Count::N(n)) => Some(n_of(n)),
        Some(Count::Unlimited) => Some(forever.to_string()),
    };
    let within = |w: Option<Within>, what: &str| {
        w.filter(|w| !w.is_zero())
            .map(|w| format!("{what} within {w} of the newest"))
    };
    let parts = [
        count(spec.keep_last, &|n| format!("the last {n}"), "all"),
        count(
            spec.keep_hourly,
            &|n| format!("{n} hourly"),
            "one an hour forever",
        ),
        count(
            spec.keep_daily,
            &|n| format!("{n} daily"),
            "one a day forever",
        ),
        count(
            spec.keep_weekly,
            &|n| format!("{n} weekly"),
            "one a week forever",
        ),
        count(
            spec.keep_monthly,
            &|n| format!("{n} monthly"),
            "one a month forever",
        ),
        count(
            spec.keep_yearly,
            &|n| format!("{n} yearly"),
            "one a year forever",
        ),
        within(spec.keep_within, "all"),
        within(spec.keep_within_hourly, "hourly"),
        within(spec.keep_within_daily, "daily"),
        within(spec.keep_within_weekly, "weekly"),
        within(spec.keep_within_monthly, "monthly"),
        within(spec.keep_within_yearly, "yearly"),
    ];
    let rules: Vec<String> = parts.into_iter().flatten().collect();
    let mut words = format!("Keeps {}", rules.join(", "));
    if let Some(n) = spec.min_keep.filter(|n| *n > 1) {
        words.push_str(&format!(", always at least {n}"));
    }
    match spec.trash_for.as_deref().map(str::trim) {
        None => words.push_str(&format!("; trash {}h", DEFAULT_TRASH_FOR.as_secs() / 3600)),
        Some(t) => match parse_trash_for(t) {
            Ok(d) if d.is_zero() => words.push_str("; no trash: purged at once"),
            _ => words.push_str(&format!("; trash {t}")),
        },
    }
    words
}

pub(super) struct TrashRow {
    pub(super) id: String,
    pub(super) job: String,
    pub(super) created: String,
    pub(super) size: String,
    pub(super) destination: String,
    pub(super) trashed: String,
    pub(super) purge_after: String,
    /// The grace period is over: the next prune purges it.
    pub(super) purge_due: bool,
    pub(super) reason: String,
    pub(super) purge_error: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(json: &str) -> String {
        let spec: RetentionSpec = serde_json::from_str(json).expect("a policy");
        retention_words(Some(&spec))
    }

    #[test]
    fn a_policy_in_words() {
        assert_eq!(retention_words(None), "Keeps every backup");
        for (json, want) in [
            ("{}", "Keeps every backup"),
            (
                r#"{"keep_daily": 0, "trash_for": "48h"}"#,
                "Keeps every backup",
            ),
            (
                r#"{"keep_daily": 14, "keep_weekly": 8, "keep_monthly": 12, "trash_for": "48h"}"#,
                "Keeps 14 daily, 8 weekly, 12 monthly; trash 48h",
            ),
            (r#"{"keep_last": 3}"#, "Keeps the last 3; trash 24h"),
            (
                r#"{"keep_monthly": "unlimited", "keep_within": "7d", "min_keep": 5}"#,
                "Keeps one a month forever, all within 7d of the newest, always at least 5; trash 24h",
            ),
            (
                r#"{"keep_within_daily": "1y2m", "trash_for": "0s"}"#,
                "Keeps daily within 1y2m of the newest; no trash: purged at once",
            ),
        ] {
            assert_eq!(words(json), want, "{json}");
        }
    }

    #[test]
    fn every_key_of_a_policy_has_an_input() {
        let schema = serde_json::to_value(schemars::schema_for!(RetentionSpec)).expect("schema");
        let mut keys: Vec<&str> = schema["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .map(String::as_str)
            .collect();
        let mut inputs: Vec<&str> = RULES.iter().map(|r| r.key).collect();
        keys.sort_unstable();
        inputs.sort_unstable();
        assert_eq!(inputs, keys, "the job form's Retention inputs");
    }
}
