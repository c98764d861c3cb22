//! The dashboard's retention parts: the job form's inputs (one per key of
//! `[job.retention]`), a policy in words for the job card, and the trash's
//! rows.

use crate::policy::retention::{Count, DEFAULT_TRASH_FOR, RetentionSpec, Within, parse_trash_for};
use crate::server::i18n::{Arg, Lang};

pub(super) struct DestinationRetention {
    pub(super) uri: String,
    pub(super) words: String,
}

/// One input of the job form's Retention fieldset: a key of `[job.retention]`.
pub(super) struct RuleField {
    pub(super) key: &'static str,
    pub(super) label: String,
    pub(super) hint: String,
    pub(super) placeholder: String,
    /// `count` (a number or `unlimited`), `number`, or `duration`: how the
    /// script sends it.
    pub(super) kind: &'static str,
    pub(super) inputmode: &'static str,
    /// Shown under "More rules".
    pub(super) more: bool,
}

/// The keys of a retention policy, in the order the form shows them: key,
/// placeholder ("e.g. 3" when it starts with `e.g. `), kind, under "More
/// rules". Labels and hints are the catalog's `rule-KEY` and `rule-KEY-hint`.
pub(super) const RULES: [(&str, &str, &str, bool); 14] = [
    ("keep_last", "e.g. 3", "count", false),
    ("keep_daily", "e.g. 14", "count", false),
    ("keep_weekly", "e.g. 8", "count", false),
    ("keep_monthly", "e.g. 12", "count", false),
    ("keep_yearly", "e.g. 3", "count", false),
    ("keep_within", "e.g. 7d", "duration", false),
    ("min_keep", "1", "number", false),
    ("trash_for", "24h", "text", false),
    ("keep_hourly", "e.g. 24", "count", true),
    ("keep_within_hourly", "e.g. 2d", "duration", true),
    ("keep_within_daily", "e.g. 30d", "duration", true),
    ("keep_within_weekly", "e.g. 3m", "duration", true),
    ("keep_within_monthly", "e.g. 1y", "duration", true),
    ("keep_within_yearly", "e.g. 5y", "duration", true),
];

/// The form's inputs in the page's language.
pub(super) fn rule_fields(lang: Lang) -> Vec<RuleField> {
    RULES
        .iter()
        .map(|&(key, placeholder, kind, more)| RuleField {
            key,
            label: lang.t(&format!("rule-{key}")),
            hint: lang.t(&format!("rule-{key}-hint")),
            placeholder: match placeholder.strip_prefix("e.g. ") {
                Some(v) => lang.ta("example", &[("value", Arg::S(v))]),
                None => placeholder.to_string(),
            },
            kind,
            inputmode: if kind == "number" { "numeric" } else { "text" },
            more,
        })
        .collect()
}

/// A retention policy in words, for the job card: "Keeps the last 3, 14
/// daily, one a month forever; trash 48h", or "Keeps every backup".
pub(super) fn retention_words(lang: Lang, spec: Option<&RetentionSpec>) -> String {
    let Some(spec) = spec.filter(|s| !s.is_empty_rules()) else {
        return lang.t("ret-every");
    };
    let count = |c: Option<Count>, id: &str| match c {
        None | Some(Count::N(0)) => None,
        Some(Count::N(n)) => Some(lang.ta(id, &[("n", Arg::N(n.into()))])),
        Some(Count::Unlimited) => Some(lang.t(&format!("{id}-forever"))),
    };
    let within = |w: Option<Within>, id: &str| {
        w.filter(|w| !w.is_zero())
            .map(|w| lang.ta(id, &[("span", Arg::S(&w.to_string()))]))
    };
    let last = match spec.keep_last {
        Some(Count::Unlimited) => Some(lang.t("ret-last-all")),
        c => count(c, "ret-last"),
    };
    let mut rules: Vec<String> = [
        last,
        count(spec.keep_hourly, "ret-hourly"),
        count(spec.keep_daily, "ret-daily"),
        count(spec.keep_weekly, "ret-weekly"),
        count(spec.keep_monthly, "ret-monthly"),
        count(spec.keep_yearly, "ret-yearly"),
        within(spec.keep_within, "ret-within"),
        within(spec.keep_within_hourly, "ret-within-hourly"),
        within(spec.keep_within_daily, "ret-within-daily"),
        within(spec.keep_within_weekly, "ret-within-weekly"),
        within(spec.keep_within_monthly, "ret-within-monthly"),
        within(spec.keep_within_yearly, "ret-within-yearly"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if let Some(n) = spec.min_keep.filter(|n| *n > 1) {
        rules.push(lang.ta("ret-min-keep", &[("n", Arg::N(n.into()))]));
    }
    let trash = match spec.trash_for.as_deref().map(str::trim) {
        None => lang.ta(
            "ret-trash",
            &[(
                "span",
                Arg::S(&format!("{}h", DEFAULT_TRASH_FOR.as_secs() / 3600)),
            )],
        ),
        Some(t) => match parse_trash_for(t) {
            Ok(d) if d.is_zero() => lang.t("ret-no-trash"),
            _ => lang.ta("ret-trash", &[("span", Arg::S(t))]),
        },
    };
    lang.ta(
        "ret-and-trash",
        &[
            (
                "keeps",
                Arg::S(&lang.ta("ret-keeps", &[("rules", Arg::S(&rules.join(", ")))])),
            ),
            ("trash", Arg::S(&trash)),
        ],
    )
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
    /// "Undelete the backup of app made 2026-…", for a screen reader.
    pub(super) undelete_label: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(json: &str) -> String {
        let spec: RetentionSpec = serde_json::from_str(json).expect("a policy");
        retention_words(Lang::En, Some(&spec))
    }

    #[test]
    fn a_policy_in_words() {
        assert_eq!(retention_words(Lang::En, None), "Keeps every backup");
        assert_eq!(
            retention_words(Lang::Fr, None),
            "Garde toutes les sauvegardes"
        );
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
        let mut inputs: Vec<&str> = RULES.iter().map(|r| r.0).collect();
        keys.sort_unstable();
        inputs.sort_unstable();
        assert_eq!(inputs, keys, "the job form's Retention inputs");
    }
}
