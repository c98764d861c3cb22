//! A Job is a backup plan. [`JobSpec`] is its written form (TOML files, the
//! metadata store, later the API's JSON); [`JobSpec::validate`] turns it into a
//! [`Job`] whose fields are parsed and checked, or into every field error at once.

use super::channel::Channel;
use super::destination::Destination;
use super::destinations::DestinationSpec;
use super::source::{Source, SourceSpec, is_env_name};
use super::validation::ValidationErrors;
use crate::policy::retention::{Policy, RetentionSpec};
use crate::schedule::Schedule;
use serde::{Deserialize, Serialize};

pub const DEFAULT_COMPRESSION_LEVEL: i32 = 3;

/// The job as written by a person. Field names are the TOML keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    pub name: String,
    pub source: SourceSpec,
    /// One or more destinations (a URI, or `{ uri, retention }`); the source
    /// is read once and written to all.
    pub destinations: Vec<DestinationSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression_level: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<EncryptionSpec>,
    /// When the job runs by itself, e.g. `daily at 02:00`; none: only on demand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// IANA time zone of the schedule [default: UTC].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// A slot comes while the job still runs: `skip` it (default) or `queue` it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlap: Option<Overlap>,
    /// Slots missed while Sauve was down: run the `latest` once (default), or `skip`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catch_up: Option<CatchUp>,
    /// A run taking longer is killed and fails, e.g. `2h` [default: 6h].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// Tries per run, the first included, before it is failed [default: 3].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    /// Which backups to keep (restic's rules); none: every backup is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<RetentionSpec>,
    /// Channels told when the job fails, recovers or goes stale (URIs:
    /// webhook+https://…, slack://secret:NAME, ntfy://…, smtp://…, ping+https://…).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notify: Vec<String>,
    /// Stale when no backup was stored for this long, e.g. `26h` [default:
    /// twice the schedule's interval plus 1h; none without a schedule].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<String>,
    /// How often an open failure streak or a staleness is alerted again [default: 24h].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remind_every: Option<String>,
    /// Scheduled re-reads of the stored backups (`[job.verify]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<VerifySpec>,
    /// Re-read each new backup right after it is written [default: true at
    /// remote destinations (S3, SFTP, WebDAV, GCS, Azure), false at local ones].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_after_backup: Option<bool>,
}

/// `[job.verify]`: re-read the job's stored backups on a schedule, so that
/// each is proven readable at least once per `coverage`; test-restore the
/// newest into a scratch target and run the job's checks on it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifySpec {
    /// When to verify, in the job's time zone, e.g. `daily at 05:00`
    /// (none: only `sauve verify` and the dashboard's buttons verify).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// Every stored backup is re-read at least once per this period [default: 30d].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<String>,
    /// Each scheduled verification also test-restores the newest backup not
    /// yet test-restored [default: false].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_restore: Option<bool>,
    /// Another server of the source's kind to test-restore on (a database
    /// URI; its database name is not used) [default: the source's server].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_restore_to: Option<String>,
    /// What a test-restored database must pass: `{ sql = "…", min = 1 }` or
    /// `{ command = ["./check.sh"] }`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<super::proof::CheckSpec>,
}

/// A validated `[job.verify]`.
#[derive(Debug, Clone)]
pub struct VerifyPlan {
    pub schedule: Option<Schedule>,
    pub coverage: std::time::Duration,
    pub test_restore: bool,
    /// The server test restores go to instead of the source's.
    pub test_restore_to: Option<super::DbConn>,
    pub checks: Vec<super::proof::CheckSpec>,
}

pub const DEFAULT_COVERAGE: std::time::Duration = std::time::Duration::from_secs(30 * 86_400);

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Overlap {
    #[default]
    Skip,
    Queue,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CatchUp {
    #[default]
    Latest,
    Skip,
}

pub const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(6 * 3600);
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;

/// age encryption: to a passphrase held in an environment variable, or to public
/// keys (`age1…`). Never the passphrase itself: specs are stored and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EncryptionSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passphrase_env: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipients: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encryption {
    Passphrase { env: String },
    Recipients(Vec<String>),
}

/// A validated job.
#[derive(Debug, Clone)]
pub struct Job {
    pub name: String,
    pub source: Source,
    pub destinations: Vec<Destination>,
    pub compression_level: i32,
    pub encryption: Option<Encryption>,
    pub schedule: Option<Schedule>,
    /// The job's time zone (its schedule's; retention's days and weeks).
    pub timezone: jiff::tz::TimeZone,
    pub overlap: Overlap,
    pub catch_up: CatchUp,
    pub timeout: std::time::Duration,
    pub max_attempts: u32,
    /// The retention policy in force at each destination (same order as
    /// `destinations`): the destination's own rules, else the job's.
    pub retention: Vec<Policy>,
    /// The job's own channels (the server's defaults are added when sending).
    pub notify: Vec<Channel>,
    /// `max_age` as written; see [`Job::max_age_ms`] for the one in force.
    pub max_age: Option<std::time::Duration>,
    pub remind_every: std::time::Duration,
    pub verify: Option<VerifyPlan>,
    /// `verify_after_backup` as written; see [`Job::verifies_after_backup`].
    pub verify_after_backup: Option<bool>,
}

impl Job {
    /// Whether a new backup at `destination` is re-read right after it is
    /// written: as the job says, else at remote destinations only (a local
    /// one was just written through this machine's own file system).
    pub fn verifies_after_backup(&self, destination: &str) -> bool {
        self.verify_after_backup.unwrap_or_else(|| {
            !matches!(
                Destination::parse(destination),
                Ok(Destination::Local { .. })
            )
        })
    }

    /// Whether any destination has keep rules (else retention removes nothing).
    pub fn has_retention(&self) -> bool {
        self.retention.iter().any(|p| !p.rules.is_empty())
    }

    /// How long the job may go without a stored backup before it is stale:
    /// its `max_age`, else twice its schedule's longest gap (seen from `now`)
    /// plus an hour; None for a job with neither (nothing to expect).
    pub fn max_age_ms(&self, now: jiff::Timestamp) -> Option<i64> {
        if let Some(d) = self.max_age {
            return Some(d.as_millis() as i64);
        }
        let fires: Vec<i64> = self
            .schedule
            .as_ref()?
            .upcoming(now, 8)
            .iter()
            .map(|t| t.as_millisecond())
            .collect();
        crate::policy::alerts::default_max_age(&fires)
    }

    pub fn remind_ms(&self) -> i64 {
        self.remind_every.as_millis() as i64
    }
}

/// Job names appear in object keys, URLs and file names: keep them plain.
pub fn validate_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a valid job name: use 1 to 63 lowercase letters, digits, '-', '_' or '.', starting with a letter or digit (e.g. app-db)"
        ))
    }
}

impl JobSpec {
    /// A spec with the given source and destinations and every option at its
    /// default (no schedule, no encryption, default level, timeout, attempts).
    pub fn new(name: impl Into<String>, source: SourceSpec, destinations: Vec<String>) -> JobSpec {
        JobSpec {
            name: name.into(),
            source,
            destinations: destinations.into_iter().map(DestinationSpec::Uri).collect(),
            compression_level: None,
            encryption: None,
            schedule: None,
            timezone: None,
            overlap: None,
            catch_up: None,
            timeout: None,
            max_attempts: None,
            retention: None,
            notify: vec![],
            max_age: None,
            remind_every: None,
            verify: None,
            verify_after_backup: None,
        }
    }

    /// The destination URIs, in order.
    pub fn destination_uris(&self) -> impl Iterator<Item = &str> {
        self.destinations.iter().map(DestinationSpec::uri)
    }

    pub fn validate(&self) -> Result<Job, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if let Err(m) = validate_name(&self.name) {
            errors.push("name", m);
        }
        let source = match self.source.parse() {
            Ok(s) => Some(s),
            Err(e) => {
                errors.extend_prefixed("source", e);
                None
            }
        };
        if self.destinations.is_empty() {
            errors.push(
                "destinations",
                "a job needs at least one destination, e.g. file:///var/backups/sauve",
            );
        }
        let mut destinations = Vec::new();
        for (i, d) in self.destination_uris().enumerate() {
            match Destination::parse(d) {
                Ok(d) => {
                    if destinations.contains(&d) {
                        errors.push(
                            format!("destinations[{i}]"),
                            format!("{} is listed twice", d.uri()),
                        );
                    }
                    destinations.push(d)
                }
                Err(e) => errors.extend_prefixed(&format!("destinations[{i}]"), e),
            }
        }
        let compression_level = self.compression_level.unwrap_or(DEFAULT_COMPRESSION_LEVEL);
        if !(1..=19).contains(&compression_level) {
            errors.push(
                "compression_level",
                format!(
                    "{compression_level} is out of range: zstd levels go from 1 (fastest) to 19 (smallest); 3 is a good default"
                ),
            );
        }
        let encryption = match &self.encryption {
            None => None,
            Some(spec) => match spec.validate() {
                Ok(e) => Some(e),
                Err(e) => {
                    errors.extend_prefixed("encryption", e);
                    None
                }
            },
        };
        let tz = self.timezone.as_deref().unwrap_or("UTC");
        let schedule = match &self.schedule {
            None => {
                if self.timezone.is_some() && jiff::tz::TimeZone::get(tz).is_err() {
                    errors.push(
                        "timezone",
                        format!("{tz:?} is not a known IANA time zone (e.g. UTC, Europe/Paris)"),
                    );
                }
                None
            }
            Some(spec) => match Schedule::parse(spec, tz) {
                Ok(s) => Some(s),
                Err(e) => {
                    let field = if e.token.as_deref() == Some(tz) {
                        "timezone"
                    } else {
                        "schedule"
                    };
                    errors.push(field, e.to_string());
                    None
                }
            },
        };
        let timeout = match &self.timeout {
            None => DEFAULT_TIMEOUT,
            Some(t) => super::parse_duration(t).unwrap_or_else(|| {
                errors.push(
                    "timeout",
                    format!("{t:?} is not a duration; write e.g. 30m, 2h or 1d"),
                );
                DEFAULT_TIMEOUT
            }),
        };
        let max_attempts = self.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS);
        if !(1..=20).contains(&max_attempts) {
            errors.push(
                "max_attempts",
                format!("{max_attempts} is out of range: 1 (no retry) to 20"),
            );
        }
        let retention = self.validate_retention(&mut errors);
        let mut notify = Vec::new();
        for (i, uri) in self.notify.iter().enumerate() {
            match Channel::parse(uri) {
                Ok(c) if notify.contains(&c) => errors.push(
                    format!("notify[{i}]"),
                    format!("{} is listed twice", c.uri()),
                ),
                Ok(c) => notify.push(c),
                Err(e) => errors.extend_prefixed(&format!("notify[{i}]"), e),
            }
        }
        let duration = |field: &str, v: &Option<String>, errors: &mut ValidationErrors| {
            v.as_ref().and_then(|t| {
                let d = super::parse_duration(t);
                if d.is_none() {
                    errors.push(
                        field,
                        format!("{t:?} is not a duration; write e.g. 26h, 90m or 7d"),
                    );
                }
                d
            })
        };
        let max_age = duration("max_age", &self.max_age, &mut errors);
        let remind_every = duration("remind_every", &self.remind_every, &mut errors).unwrap_or(
            std::time::Duration::from_millis(crate::policy::alerts::DEFAULT_REMIND_MS as u64),
        );
        let verify = self.verify.as_ref().and_then(|v| {
            // Every field checked, so every error is reported at once.
            let schedule = match &v.schedule {
                None => Some(None),
                Some(s) => Schedule::parse(s, tz)
                    .map_err(|e| errors.push("verify.schedule", e.to_string()))
                    .ok()
                    .map(Some),
            };
            let coverage = match &v.coverage {
                None => Some(DEFAULT_COVERAGE),
                Some(c) => {
                    let d = super::parse_duration(c);
                    if d.is_none() {
                        errors.push(
                            "verify.coverage",
                            format!("{c:?} is not a duration; write e.g. 30d or 7d"),
                        );
                    }
                    d
                }
            };
            let test_restore_to = match (&v.test_restore_to, &source) {
                (None, _) => Some(None),
                (Some(uri), Some(src)) => match (super::source::parse_uri(uri), src) {
                    (Ok(Source::Postgres(c)), Source::Postgres(_))
                    | (Ok(Source::Mysql(c)), Source::Mysql(_)) => Some(Some(c)),
                    (Ok(_), _) => {
                        errors.push(
                            "verify.test_restore_to",
                            format!(
                                "must be a server of the source's kind ({}): a PostgreSQL or MySQL URI such as postgres://user@scratch-host:5432/postgres",
                                src.kind()
                            ),
                        );
                        None
                    }
                    (Err(e), _) => {
                        errors.extend_prefixed("verify.test_restore_to", e);
                        None
                    }
                },
                (Some(_), None) => None,
            };
            for (i, c) in v.checks.iter().enumerate() {
                if let Some(problem) = c.problem() {
                    errors.push(format!("verify.checks[{i}]"), problem);
                }
                if c.sql.is_some()
                    && matches!(
                        source,
                        Some(Source::Files { .. } | Source::Command { .. })
                    )
                {
                    errors.push(
                        format!("verify.checks[{i}].sql"),
                        "a sql check needs a database source; check files with a command",
                    );
                }
            }
            Some(VerifyPlan {
                schedule: schedule?,
                coverage: coverage?,
                test_restore: v.test_restore.unwrap_or(false),
                test_restore_to: test_restore_to?,
                checks: v.checks.clone(),
            })
        });
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Job {
            name: self.name.clone(),
            source: source.expect("no errors means the source parsed"),
            destinations,
            compression_level,
            encryption,
            schedule,
            timezone: jiff::tz::TimeZone::get(tz).unwrap_or(jiff::tz::TimeZone::UTC),
            overlap: self.overlap.unwrap_or_default(),
            catch_up: self.catch_up.unwrap_or_default(),
            timeout,
            max_attempts,
            retention,
            notify,
            max_age,
            remind_every,
            verify,
            verify_after_backup: self.verify_after_backup,
        })
    }

    /// The policy of each destination: its own table over the job's.
    fn validate_retention(&self, errors: &mut ValidationErrors) -> Vec<Policy> {
        let job = self.retention.clone().unwrap_or_default();
        if let Err(e) = job.validate() {
            for (field, message) in e {
                errors.push(format!("retention.{field}"), message);
            }
        }
        let mut policies = Vec::new();
        for (i, d) in self.destinations.iter().enumerate() {
            let spec = match d.retention() {
                None => job.clone(),
                Some(own) => job.override_with(own),
            };
            match spec.validate() {
                Ok(p) => policies.push(p),
                Err(e) => {
                    // The job's own errors are reported once, above.
                    if d.retention().is_some() {
                        for (field, message) in e {
                            errors.push(format!("destinations[{i}].retention.{field}"), message);
                        }
                    }
                }
            }
        }
        policies
    }
}

impl EncryptionSpec {
    fn validate(&self) -> Result<Encryption, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        match (&self.passphrase_env, self.recipients.is_empty()) {
            (Some(_), false) => errors.push(
                "",
                "choose either passphrase_env or recipients, not both (age cannot mix them in one file)",
            ),
            (None, true) => errors.push(
                "",
                "set passphrase_env = \"VAR\" (a variable holding the passphrase) or recipients = [\"age1…\"]",
            ),
            (Some(env), true) => {
                if !is_env_name(env) {
                    errors.push(
                        "passphrase_env",
                        format!("{env:?} is not an environment variable name"),
                    );
                }
                return errors.into_result(Encryption::Passphrase { env: env.clone() });
            }
            (None, false) => {
                for (i, r) in self.recipients.iter().enumerate() {
                    if r.parse::<age::x25519::Recipient>().is_err() {
                        errors.push(
                            format!("recipients[{i}]"),
                            format!(
                                "{r:?} is not an age public key (it starts with age1; `age-keygen -y KEYFILE` prints it)"
                            ),
                        );
                    }
                }
                return errors.into_result(Encryption::Recipients(self.recipients.clone()));
            }
        }
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str) -> JobSpec {
        JobSpec::new(
            name,
            SourceSpec::Uri("sqlite:///data/app.db".into()),
            vec!["file:///backups".into()],
        )
    }

    #[test]
    fn verification_is_a_schedule_and_a_coverage() {
        let mut s = spec("v");
        s.verify = Some(VerifySpec {
            schedule: Some("daily at 05:00".into()),
            coverage: None,
            ..Default::default()
        });
        let j = s.validate().unwrap();
        let plan = j.verify.unwrap();
        assert_eq!(plan.coverage, DEFAULT_COVERAGE);
        assert_eq!(
            plan.schedule.unwrap().describe(),
            "every day at 05:00 (UTC)"
        );
        s.verify = Some(VerifySpec {
            schedule: Some("whenever".into()),
            coverage: Some("a while".into()),
            ..Default::default()
        });
        let e = s.validate().unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["verify.schedule", "verify.coverage"]);
        let toml_job: JobSpec = toml::from_str(
            "name = \"t\"\nsource = \"sqlite:///a.db\"\ndestinations = [\"/b\"]\n[verify]\nschedule = \"every 6h\"\ncoverage = \"7d\"\n",
        )
        .unwrap();
        assert_eq!(
            toml_job
                .validate()
                .unwrap()
                .verify
                .unwrap()
                .coverage
                .as_secs(),
            7 * 86_400
        );
        let unknown = toml::from_str::<JobSpec>(
            "name = \"t\"\nsource = \"sqlite:///a.db\"\ndestinations = [\"/b\"]\n[verify]\nschedule = \"every 6h\"\ntest_restores = true\n",
        );
        assert!(unknown.unwrap_err().to_string().contains("test_restores"));
    }

    #[test]
    fn new_backups_are_read_back_at_remote_destinations_unless_told() {
        let remote = "s3://bkt/app?endpoint=https://s3.example.com&region=x";
        // (verify_after_backup as written, destination, read back?)
        let cases = [
            (None, "file:///srv/b", false),
            (None, remote, true),
            (None, "sftp://backup@nas/srv", true),
            (Some(false), remote, false),
            (Some(true), "file:///srv/b", true),
        ];
        for (written, dest, want) in cases {
            let mut s = spec("app");
            s.verify_after_backup = written;
            let job = s.validate().unwrap();
            assert_eq!(job.verifies_after_backup(dest), want, "{written:?} {dest}");
        }
    }

    #[test]
    fn test_restores_name_a_server_of_the_sources_kind_and_checks_that_can_run() {
        let with = |source: &str, verify: &str| {
            let toml = format!(
                "name = \"t\"\nsource = \"{source}\"\ndestinations = [\"/b\"]\n[verify]\n{verify}\n"
            );
            toml::from_str::<JobSpec>(&toml).unwrap().validate()
        };
        let pg = "postgres://app@db:5432/app";
        let ok = with(
            pg,
            "test_restore = true\ntest_restore_to = \"postgres://sauve@scratch:5432/postgres?password=secret:scratch\"\nchecks = [{ sql = \"select 1\", min = 1 }, { command = [\"./check.sh\"] }]",
        )
        .unwrap();
        let plan = ok.verify.unwrap();
        assert!(plan.test_restore && plan.schedule.is_none());
        assert_eq!(plan.test_restore_to.unwrap().host, "scratch");
        assert_eq!(plan.checks.len(), 2);
        // (source, [job.verify] body, field at fault)
        let refused = [
            (
                pg,
                "test_restore_to = \"mysql://db/x\"",
                "verify.test_restore_to",
            ),
            (
                pg,
                "test_restore_to = \"postgres://u:pw@db/x\"",
                "verify.test_restore_to",
            ),
            (
                pg,
                "checks = [{ sql = \"select 1\", command = [\"x\"] }]",
                "verify.checks[0]",
            ),
            (
                pg,
                "checks = [{ command = [\"x\"], min = 1 }]",
                "verify.checks[0]",
            ),
            (
                pg,
                "checks = [{ sql = \"select 1\", min = 5, max = 1 }]",
                "verify.checks[0]",
            ),
            (
                "files:///srv",
                "checks = [{ sql = \"select 1\" }]",
                "verify.checks[0].sql",
            ),
            (
                "sqlite:///a.db",
                "test_restore_to = \"postgres://db/x\"",
                "verify.test_restore_to",
            ),
        ];
        for (source, body, field) in refused {
            let e = with(source, body).unwrap_err();
            assert!(
                e.0.iter().any(|f| f.field.starts_with(field)),
                "{body}: {e}"
            );
        }
    }

    #[test]
    fn names() {
        for good in ["a", "app-db", "app_db.v2", "0day", &"x".repeat(63)] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        for bad in ["", "App", "-x", ".x", "a b", "a/b", &"x".repeat(64), "é"] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn collects_every_field_error() {
        let mut s = spec("Bad Name");
        s.source = SourceSpec::Uri("ftp://x".into());
        s.destinations = vec!["file:///b".into(), "nope".into(), "/b".into()];
        s.compression_level = Some(30);
        s.encryption = Some(EncryptionSpec {
            passphrase_env: None,
            recipients: vec!["age1nope".into()],
        });
        s.schedule = Some("weekly on mon,thx at 02:00".into());
        s.timeout = Some("soon".into());
        s.max_attempts = Some(0);
        let e = s.validate().unwrap_err();
        let fields: Vec<_> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "name",
                "source",
                "destinations[1]",
                "destinations[2]",
                "compression_level",
                "encryption.recipients[0]",
                "schedule",
                "timeout",
                "max_attempts"
            ]
        );
        let mut tz = spec("ok");
        tz.schedule = Some("daily at 02:00".into());
        tz.timezone = Some("Mars/Olympus".into());
        let e = tz.validate().unwrap_err();
        assert_eq!(e.0[0].field, "timezone");
        tz.timezone = Some("Europe/Paris".into());
        tz.overlap = Some(Overlap::Queue);
        tz.timeout = Some("90m".into());
        let job = tz.validate().unwrap();
        assert_eq!(
            job.schedule.unwrap().describe(),
            "every day at 02:00 (Europe/Paris)"
        );
        assert_eq!(
            (
                job.overlap,
                job.catch_up,
                job.timeout.as_secs(),
                job.max_attempts
            ),
            (Overlap::Queue, CatchUp::Latest, 5400, 3)
        );
    }

    #[test]
    fn encryption_choices() {
        let key = age::x25519::Identity::generate().to_public().to_string();
        // (passphrase_env, recipients, expected encryption or a phrase of the error)
        type Case = (
            Option<&'static str>,
            Vec<String>,
            Result<Encryption, &'static str>,
        );
        let cases: [Case; 5] = [
            (
                Some("PW"),
                vec![],
                Ok(Encryption::Passphrase { env: "PW".into() }),
            ),
            (
                None,
                vec![key.clone()],
                Ok(Encryption::Recipients(vec![key.clone()])),
            ),
            (Some("PW"), vec![key.clone()], Err("not both")),
            (None, vec![], Err("set passphrase_env")),
            (Some("P W"), vec![], Err("not an environment variable")),
        ];
        for (env, recipients, want) in cases {
            let got = EncryptionSpec {
                passphrase_env: env.map(String::from),
                recipients,
            }
            .validate();
            match (got, want) {
                (Ok(g), Ok(w)) => assert_eq!(g, w),
                (Err(g), Err(needle)) => assert!(g.to_string().contains(needle), "{g}"),
                (g, w) => panic!("got {g:?}, want {w:?}"),
            }
        }
    }

    #[test]
    fn toml_round_trip() {
        let text = r#"
            name = "cache"
            destinations = ["file:///b"]
            compression_level = 9
            [source]
            kind = "command"
            command = ["redis-cli", "--rdb", "-"]
            extension = "rdb"
            [encryption]
            passphrase_env = "SAUVE_PASSPHRASE"
        "#;
        let s: JobSpec = toml::from_str(text).unwrap();
        let job = s.validate().unwrap();
        assert_eq!(job.source.kind(), "command");
        assert_eq!(job.compression_level, 9);
        let again: JobSpec = toml::from_str(&toml::to_string(&s).unwrap()).unwrap();
        assert_eq!(again, s);
        let typo = text.replace("compression_level", "compresion_level");
        let err = toml::from_str::<JobSpec>(&typo).unwrap_err().to_string();
        assert!(err.contains("compresion_level"), "{err}");
    }
}
