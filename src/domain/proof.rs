//! What proves a backup restorable: a test restore's report (the tables and
//! their exact rows, or the files, the job's own checks), the `checks` a job
//! asks for, and the one comparison rule between two test restores: a table
//! that disappeared, or shrank by more than half, is flagged.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// One of `[job.verify]`'s `checks`: a query run on the restored database
/// whose single value must lie within `min..=max`, or a command run with the
/// scratch target in `SAUVE_TEST_RESTORE_TARGET` that must exit 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    /// A query returning one value, e.g. `select count(*) from orders`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    /// A program and its arguments (operator-written only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// The query's value must be at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    /// The query's value must be at most this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
}

impl CheckSpec {
    /// Why this check cannot run as written, if it cannot.
    pub fn problem(&self) -> Option<&'static str> {
        match (&self.sql, &self.command) {
            (None, None) | (Some(_), Some(_)) => {
                Some("give exactly one of sql = \"select …\" or command = [\"program\", …]")
            }
            (Some(q), None) if q.trim().is_empty() => Some("sql must not be empty"),
            (None, Some(c)) if c.is_empty() || c[0].trim().is_empty() => {
                Some("command must name a program")
            }
            (None, Some(_)) if self.min.is_some() || self.max.is_some() => {
                Some("min and max apply to a sql check; a command passes when it exits 0")
            }
            (Some(_), None) if self.min.zip(self.max).is_some_and(|(a, b)| a > b) => {
                Some("min is greater than max: no value could pass")
            }
            _ => None,
        }
    }

    /// Whether a sql check's value passes: within `min..=max` when either is
    /// given, else any value but empty, 0, `f` or `false`.
    pub fn passes(&self, value: &str) -> bool {
        let v = value.trim();
        if self.min.is_none() && self.max.is_none() {
            return !matches!(v.to_ascii_lowercase().as_str(), "" | "0" | "f" | "false");
        }
        match v.parse::<i64>() {
            Ok(n) => self.min.is_none_or(|m| n >= m) && self.max.is_none_or(|m| n <= m),
            Err(_) => false,
        }
    }

    /// The check as people read it: its query or its command.
    pub fn describe(&self) -> String {
        match (&self.sql, &self.command) {
            (Some(q), _) => q.clone(),
            (_, Some(c)) => c.join(" "),
            _ => String::new(),
        }
    }
}

/// A restored table: its exact row count and, where the server says, its size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TableCount {
    /// `schema.table` (PostgreSQL), or the table's name.
    pub name: String,
    pub rows: u64,
    /// Bytes on disk, data and indexes (None: SQLite says nothing per table).
    pub bytes: Option<u64>,
}

/// What a files backup restored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FilesCount {
    pub files: u64,
    pub bytes: u64,
    /// The sha256 of a few restored files, chosen by their path (the same
    /// files from one test restore to the next while they exist).
    pub sample: Vec<FileSample>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FileSample {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CheckResult {
    /// The query or the command.
    pub check: String,
    pub ok: bool,
    /// The query's value, or the command's exit status.
    pub value: Option<String>,
    /// Why it did not pass, in words.
    pub error: Option<String>,
}

/// A test restore, as `sauve verify --test-restore --json` prints it and the
/// backup keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TestRestoreReport {
    /// Restored, every check passed, nothing flagged.
    pub ok: bool,
    /// The backup's id.
    pub backup: String,
    pub destination: String,
    #[schemars(with = "String")]
    pub started_at: Timestamp,
    pub duration_ms: u64,
    /// The scratch target it was restored into, and whether it is gone.
    pub scratch: String,
    pub dropped: bool,
    /// SQLite's `PRAGMA integrity_check` (`ok`), where there is one.
    #[serde(default)]
    pub integrity: Option<String>,
    #[serde(default)]
    pub tables: Vec<TableCount>,
    #[serde(default)]
    pub files: Option<FilesCount>,
    #[serde(default)]
    pub checks: Vec<CheckResult>,
    /// What changed for the worse since the previous test restore.
    #[serde(default)]
    pub flags: Vec<String>,
    /// The backup whose test restore this was compared with.
    #[serde(default)]
    pub compared_with: Option<String>,
    /// Why it failed, when it did.
    #[serde(default)]
    pub error: Option<String>,
}

impl TestRestoreReport {
    /// Rows in every table: the number a person looks for first.
    pub fn total_rows(&self) -> u64 {
        self.tables.iter().map(|t| t.rows).sum()
    }
}

/// What got worse from `previous` to `current`: a table gone, a table with
/// fewer than half its rows, fewer than half the files. A table that was
/// empty cannot shrink; a new table is no concern.
pub fn compare(previous: &TestRestoreReport, current: &TestRestoreReport) -> Vec<String> {
    let mut flags = Vec::new();
    for before in &previous.tables {
        match current.tables.iter().find(|t| t.name == before.name) {
            None => flags.push(format!(
                "table {} disappeared (it had {} rows in backup {})",
                before.name, before.rows, previous.backup
            )),
            Some(now) if now.rows.saturating_mul(2) < before.rows => flags.push(format!(
                "table {} shrank from {} to {} rows since backup {} (by more than half)",
                before.name, before.rows, now.rows, previous.backup
            )),
            Some(_) => {}
        }
    }
    if let (Some(before), Some(now)) = (&previous.files, &current.files)
        && now.files.saturating_mul(2) < before.files
    {
        flags.push(format!(
            "{} files restored, {} in backup {} (fewer than half)",
            now.files, before.files, previous.backup
        ));
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(tables: &[(&str, u64)], files: Option<u64>) -> TestRestoreReport {
        TestRestoreReport {
            ok: true,
            backup: "01prev".into(),
            destination: "file:///b".into(),
            started_at: Timestamp::UNIX_EPOCH,
            duration_ms: 1,
            scratch: "s".into(),
            dropped: true,
            integrity: None,
            tables: tables
                .iter()
                .map(|(n, r)| TableCount {
                    name: n.to_string(),
                    rows: *r,
                    bytes: None,
                })
                .collect(),
            files: files.map(|f| FilesCount {
                files: f,
                bytes: 0,
                sample: vec![],
            }),
            checks: vec![],
            flags: vec![],
            compared_with: None,
            error: None,
        }
    }

    #[test]
    fn a_table_gone_or_halved_is_flagged() {
        // (previous, current, flags expected (substrings))
        type Tables = Vec<(&'static str, u64)>;
        let cases: Vec<(Tables, Tables, Vec<&str>)> = vec![
            (vec![("a", 10)], vec![("a", 10)], vec![]),
            (vec![("a", 10)], vec![("a", 5)], vec![]),
            (
                vec![("a", 10)],
                vec![("a", 4)],
                vec!["a shrank from 10 to 4"],
            ),
            (
                vec![("a", 10)],
                vec![],
                vec!["a disappeared (it had 10 rows"],
            ),
            (vec![("a", 0)], vec![("a", 0)], vec![]),
            (vec![("a", 1)], vec![("a", 0)], vec!["a shrank from 1 to 0"]),
            (vec![], vec![("new", 1)], vec![]),
            (
                vec![("a", 3), ("b", 8)],
                vec![("b", 100)],
                vec!["a disappeared"],
            ),
            (vec![("a", u64::MAX)], vec![("a", u64::MAX / 2 + 1)], vec![]),
        ];
        for (before, now, want) in cases {
            let got = compare(&report(&before, None), &report(&now, None));
            assert_eq!(got.len(), want.len(), "{before:?} -> {now:?}: {got:?}");
            for (g, w) in got.iter().zip(&want) {
                assert!(g.contains(w), "{g:?} should say {w:?}");
            }
        }
    }

    #[test]
    fn fewer_than_half_the_files_is_flagged() {
        let cases = [
            (Some(10), Some(5), 0),
            (Some(10), Some(4), 1),
            (None, Some(1), 0),
            (Some(3), None, 0),
        ];
        for (before, now, n) in cases {
            let got = compare(&report(&[], before), &report(&[], now));
            assert_eq!(got.len(), n, "{before:?} -> {now:?}: {got:?}");
        }
    }

    #[test]
    fn checks_say_what_is_wrong_and_what_passes() {
        let sql = |min, max| CheckSpec {
            sql: Some("select 1".into()),
            command: None,
            min,
            max,
        };
        assert_eq!(sql(None, None).problem(), None);
        assert!(sql(Some(5), Some(1)).problem().unwrap().contains("greater"));
        let both = CheckSpec {
            command: Some(vec!["true".into()]),
            ..sql(None, None)
        };
        assert!(both.problem().unwrap().contains("exactly one"));
        let cmd = CheckSpec {
            sql: None,
            command: Some(vec!["./check.sh".into()]),
            min: Some(1),
            max: None,
        };
        assert!(cmd.problem().unwrap().contains("min and max"));
        let empty = CheckSpec {
            sql: None,
            command: Some(vec![" ".into()]),
            min: None,
            max: None,
        };
        assert!(empty.problem().is_some());
        // (min, max, value, passes)
        let table = [
            (None, None, "1", true),
            (None, None, "t", true),
            (None, None, "0", false),
            (None, None, "f", false),
            (None, None, "", false),
            (Some(1000), None, "1000", true),
            (Some(1000), None, "999", false),
            (Some(1000), None, " 5000\n", true),
            (None, Some(10), "11", false),
            (Some(1), Some(10), "abc", false),
            (Some(-5), Some(-1), "-3", true),
        ];
        for (min, max, value, want) in table {
            assert_eq!(
                sql(min, max).passes(value),
                want,
                "{min:?}..{max:?} {value:?}"
            );
        }
    }
}
