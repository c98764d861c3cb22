//! What a writer of a job (or of a test, or of a restore) may ask for. The
//! operator, at the command line or in a TOML file applied with the CLI, owns
//! the machine: environment variables, commands, any path. A remote caller
//! (the API, the dashboard) may use only named secrets, runs code only with
//! the `exec` permission, and reaches local paths only under the roots the
//! operator allowed, never Sauve's own data. What a remote caller leaves
//! unchanged in a job the operator wrote stays as the operator wrote it.
//!
//! Pure: paths arrive already resolved (symlinks followed) by the caller.

use super::channel::Channel;
use super::destination::Destination;
use super::job::{Encryption, Job};
use super::secret::Credential;
use super::source::Source;
use super::validation::ValidationErrors;
use std::path::{Path, PathBuf};

/// Who wrote what is being checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authority {
    /// The CLI, on the server's machine, as its OS user.
    Operator,
    /// An HTTP caller; `exec` when they hold the permission to run commands,
    /// `delete` when they may remove backups (which a retention policy does).
    Remote { exec: bool, delete: bool },
}

/// Directories no remote caller may read from or write to, whatever they hold.
pub const SYSTEM_DIRS: [&str; 5] = ["/", "/etc", "/proc", "/sys", "/dev"];

/// Where local paths may lie.
#[derive(Debug, Clone, Default)]
pub struct PathRules {
    /// Remote callers' paths must be inside one of these.
    pub allowed: Vec<PathBuf>,
    /// Sauve's own data (data directory, metadata store): never a restore
    /// target for anyone, never a source or destination for a remote caller.
    pub protected: Vec<PathBuf>,
}

/// What a local path is used as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathUse {
    Source,
    Destination,
    RestoreTarget,
}

impl PathUse {
    fn noun(self) -> &'static str {
        match self {
            PathUse::Source => "a source",
            PathUse::Destination => "a destination",
            PathUse::RestoreTarget => "a restore target",
        }
    }
}

/// `a` is `b` or inside it (both absolute, already resolved).
fn within(a: &Path, b: &Path) -> bool {
    a.starts_with(b)
}

impl PathRules {
    /// Whether `path` (resolved) may be used as `what` by `who`.
    pub fn check(&self, path: &Path, what: PathUse, who: Authority) -> Result<(), String> {
        let shown = path.display();
        for p in &self.protected {
            let overlaps = within(path, p) || within(p, path);
            let refused = match (who, what) {
                (_, PathUse::RestoreTarget) => overlaps,
                (Authority::Remote { .. }, _) => overlaps,
                (Authority::Operator, _) => false,
            };
            if refused {
                return Err(format!(
                    "{shown} cannot be {}: it holds or lies inside Sauve's own data ({}), whatever --force says",
                    what.noun(),
                    p.display()
                ));
            }
        }
        let Authority::Remote { .. } = who else {
            return Ok(());
        };
        let system = SYSTEM_DIRS.iter().any(|d| {
            let d = Path::new(d);
            path == d || (d != Path::new("/") && within(path, d))
        });
        if system {
            return Err(format!(
                "{shown} is a system directory; Sauve does not use it as {} for a remote caller",
                what.noun()
            ));
        }
        if !self.allowed.iter().any(|root| within(path, root)) {
            let roots = if self.allowed.is_empty() {
                "none: the operator allowed no path".to_string()
            } else {
                self.allowed
                    .iter()
                    .map(|r| r.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Err(format!(
                "{shown} is outside the directories the operator allows ({roots}); ask them to start serve with --allow-path DIR, or use the CLI"
            ));
        }
        Ok(())
    }
}

/// Every local path a job reads or writes, with what it is used as.
pub fn job_paths(job: &Job) -> Vec<(String, PathBuf, PathUse)> {
    let mut out = Vec::new();
    match &job.source {
        Source::Sqlite { path } => out.push(("source".into(), path.clone(), PathUse::Source)),
        Source::Files { root, .. } => out.push(("source".into(), root.clone(), PathUse::Source)),
        _ => {}
    }
    for (i, d) in job.destinations.iter().enumerate() {
        if let Destination::Local { root } = d {
            out.push((
                format!("destinations[{i}]"),
                root.clone(),
                PathUse::Destination,
            ));
        }
    }
    out
}

/// The credentials a source sends, with what each is.
pub fn source_credentials(source: &Source) -> Vec<(&'static str, &Credential)> {
    match source {
        Source::Postgres(c) | Source::Mysql(c) => c
            .password
            .iter()
            .map(|p| ("database password", p))
            .collect(),
        _ => vec![],
    }
}

/// Whether writing `job` over `before` runs code on the server that was not
/// already there: a new or changed `command` source, or new or changed
/// test-restore `checks` (a command, or SQL run with the source's user).
pub fn job_needs_exec(job: &Job, before: Option<&Job>) -> bool {
    let checks = |j: &Job| {
        j.verify
            .as_ref()
            .map(|v| v.checks.clone())
            .unwrap_or_default()
    };
    let source_changed = before.is_none_or(|b| b.source != job.source);
    let new_command = matches!(job.source, Source::Command { .. }) && source_changed;
    // Checks kept as the operator wrote them run on what the operator's
    // source holds; over a source the caller chose, they are the caller's.
    let new_checks = !checks(job).is_empty()
        && (source_changed || before.is_some_and(|b| checks(b) != checks(job)));
    new_command || new_checks
}

/// What a remote caller may not write newly: environment credentials and
/// SFTP key files of the server's (code to run is `job_needs_exec`, a
/// permission rather than bad input). `before` is the job as stored, whose
/// unchanged parts are the operator's and stay allowed. Paths are checked by
/// the caller, which resolves them first.
pub fn check_remote_job(job: &Job, before: Option<&Job>) -> ValidationErrors {
    let mut errors = ValidationErrors::new();
    let source_kept = before.is_some_and(|b| b.source == job.source);
    if !source_kept {
        check_source(&job.source, "source", &mut errors);
    }
    for (i, d) in job.destinations.iter().enumerate() {
        if before.is_some_and(|b| b.destinations.contains(d)) {
            continue;
        }
        check_destination(d, &format!("destinations[{i}]"), &mut errors);
    }
    for (i, c) in job.notify.iter().enumerate() {
        if before.is_some_and(|b| b.notify.contains(c)) {
            continue;
        }
        check_channel(c, &format!("notify[{i}]"), &mut errors);
    }
    // The operator's scratch server credentials restore what the operator's
    // source holds: with another source, a dump the caller chose would be
    // restored with them.
    let scratch = |j: &Job| j.verify.as_ref().and_then(|v| v.test_restore_to.clone());
    if let Some(to) = scratch(job)
        && (!source_kept || before.is_none_or(|b| scratch(b).as_ref() != Some(&to)))
        && let Some(c) = &to.password
    {
        env_refused(
            c,
            "database password",
            "verify.test_restore_to",
            &mut errors,
        );
    }
    let enc_kept = before.is_some_and(|b| b.encryption == job.encryption);
    if !enc_kept && let Some(Encryption::Passphrase { env }) = &job.encryption {
        errors.push(
            "encryption.passphrase_env",
            format!(
                "{env}: through the API a job encrypts to public keys (recipients = [\"age1…\"]); a passphrase from Sauve's environment can only be set by the operator (CLI or TOML)"
            ),
        );
    }
    errors
}

/// A source given by a remote caller (in a job or to test).
pub fn check_source(source: &Source, field: &str, errors: &mut ValidationErrors) {
    for (what, c) in source_credentials(source) {
        env_refused(c, what, field, errors);
    }
}

/// A destination given by a remote caller (in a job or to test).
pub fn check_destination(d: &Destination, field: &str, errors: &mut ValidationErrors) {
    for (what, c) in d.credentials() {
        env_refused(c, what, field, errors);
    }
    if let Destination::Sftp(s) = d
        && s.key.is_some()
    {
        errors.push(
            field,
            "key= names a key file on the server: only the operator may choose one (CLI or TOML); through the API, SFTP uses the server's default keys",
        );
    }
}

/// A channel given by a remote caller (in a job or to test): named secrets
/// only, and nothing in clear text (plain http goes to this machine's own
/// services, which a remote caller must not be able to reach).
pub fn check_channel(c: &Channel, field: &str, errors: &mut ValidationErrors) {
    for (what, cred) in c.credentials() {
        env_refused(cred, what, field, errors);
    }
    if c.is_plaintext() {
        errors.push(
            field,
            "a channel in clear text (webhook+http://, ntfy+http://, ping+http://, smtp with tls=none) reaches this machine's own services: only the operator may set one (CLI or TOML)",
        );
    } else if let Some(host) = c.host().filter(|h| super::is_internal(h)) {
        errors.push(
            field,
            format!(
                "{host} is this machine or a private network: through the API a channel goes to a public host; only the operator may point one inward (CLI or TOML)"
            ),
        );
    }
}

fn env_refused(c: &Credential, what: &str, field: &str, errors: &mut ValidationErrors) {
    if let Credential::Env(var) = c {
        errors.push(
            field,
            format!(
                "the {what} would come from the variable {var} of Sauve's environment: through the API, name a secret the operator defined (…=secret:NAME); `sauve secret list` shows them"
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::JobSpec;

    fn rules() -> PathRules {
        PathRules {
            allowed: vec!["/srv".into(), "/home/app".into()],
            protected: vec!["/home/app/sauve-data".into()],
        }
    }

    #[test]
    fn paths_by_use_and_authority() {
        let remote = Authority::Remote {
            exec: false,
            delete: false,
        };
        let op = Authority::Operator;
        use PathUse::*;
        let cases: &[(&str, PathUse, Authority, Option<&str>)] = &[
            ("/srv/app/db.sqlite", Source, remote, None),
            ("/srv", Destination, remote, None),
            ("/srvx/db", Source, remote, Some("outside")),
            ("/var/backups", Destination, remote, Some("--allow-path")),
            ("/etc", Source, remote, Some("system")),
            ("/etc/shadow", Source, remote, Some("system")),
            ("/proc/self/environ", Source, remote, Some("system")),
            ("/", RestoreTarget, remote, Some("Sauve's own data")),
            ("/dev", Destination, remote, Some("system")),
            ("/sys/kernel", Destination, remote, Some("system")),
            (
                "/home/app/sauve-data",
                Source,
                remote,
                Some("Sauve's own data"),
            ),
            (
                "/home/app/sauve-data/master.key",
                Source,
                remote,
                Some("Sauve's own data"),
            ),
            ("/home/app", Source, remote, Some("Sauve's own data")),
            ("/home/app/uploads", Source, remote, None),
            (
                "/home/app/sauve-data",
                RestoreTarget,
                op,
                Some("whatever --force"),
            ),
            (
                "/home/app/sauve-data/x",
                RestoreTarget,
                op,
                Some("Sauve's own data"),
            ),
            ("/home", RestoreTarget, op, Some("Sauve's own data")),
            ("/home/app/sauve-data", Source, op, None),
            ("/etc", Source, op, None),
            ("/var/restore", RestoreTarget, op, None),
        ];
        for (path, what, who, want) in cases {
            let got = rules().check(Path::new(path), *what, *who);
            match want {
                None => assert!(got.is_ok(), "{path} {what:?} {who:?}: {got:?}"),
                Some(needle) => {
                    let e = got.expect_err(path);
                    assert!(e.contains(needle), "{path}: {e}");
                }
            }
        }
        let none = PathRules::default();
        let e = none.check(Path::new("/srv/x"), Source, remote).unwrap_err();
        assert!(e.contains("allowed no path"), "{e}");
    }

    fn job(toml_src: &str) -> Job {
        let spec: JobSpec = toml::from_str(toml_src).unwrap();
        spec.validate().unwrap()
    }

    #[test]
    fn remote_writers_use_named_secrets_and_need_exec_for_commands() {
        let cmd = job(
            "name = \"c\"\ndestinations = [\"/srv/b\"]\n[source]\nkind = \"command\"\ncommand = [\"sh\", \"-c\", \"id\"]\n",
        );
        assert!(job_needs_exec(&cmd, None));
        assert!(check_remote_job(&cmd, None).is_empty());
        // Left unchanged, the operator's command stays.
        assert!(!job_needs_exec(&cmd, Some(&cmd)));

        // Test-restore checks run code (a command, or SQL with the source's
        // user): new or changed ones need exec; kept ones stay the operator's.
        let base = "name = \"p\"\nsource = \"postgres://u@db/app?password=secret:app\"\ndestinations = [\"/srv/b\"]\n";
        let plain = job(base);
        let checked = job(&format!(
            "{base}[verify]\nchecks = [{{ sql = \"select 1\" }}]\n"
        ));
        let changed = job(&format!(
            "{base}[verify]\nchecks = [{{ sql = \"select 2\" }}]\n"
        ));
        assert!(!job_needs_exec(&plain, None));
        assert!(job_needs_exec(&checked, None));
        assert!(job_needs_exec(&checked, Some(&plain)));
        assert!(!job_needs_exec(&checked, Some(&checked)));
        assert!(job_needs_exec(&changed, Some(&checked)));
        assert!(
            !job_needs_exec(&plain, Some(&checked)),
            "removing checks runs nothing"
        );
        // The operator's checks over a source the caller swapped in: theirs now.
        let moved = job(
            "name = \"p\"\nsource = \"postgres://u@evil/app?password=secret:app\"\ndestinations = [\"/srv/b\"]\n[verify]\nchecks = [{ sql = \"select 1\" }]\n",
        );
        assert!(job_needs_exec(&moved, Some(&checked)));
        // A scratch server's password from Sauve's environment: operator only.
        let to = job(&format!(
            "{base}[verify]\ntest_restore_to = \"postgres://s@scratch/x?password_env=SCRATCH_PW\"\n"
        ));
        let e = check_remote_job(&to, None).to_string();
        assert!(
            e.contains("verify.test_restore_to") && e.contains("SCRATCH_PW"),
            "{e}"
        );
        assert!(check_remote_job(&to, Some(&to)).is_empty());
        let to_moved = job(
            "name = \"p\"\nsource = \"postgres://u@evil/app?password=secret:app\"\ndestinations = [\"/srv/b\"]\n[verify]\ntest_restore_to = \"postgres://s@scratch/x?password_env=SCRATCH_PW\"\n",
        );
        let e = check_remote_job(&to_moved, Some(&to)).to_string();
        assert!(
            e.contains("verify.test_restore_to"),
            "kept scratch credentials, new source: {e}"
        );

        let env = job(
            "name = \"p\"\nsource = \"postgres://u@db/app?password_env=APP_PW\"\ndestinations = [\"s3://bkt?endpoint=http://h:1\"]\n",
        );
        let e = check_remote_job(&env, None).to_string();
        assert!(
            e.contains("APP_PW") && e.contains("AWS_ACCESS_KEY_ID"),
            "{e}"
        );
        assert!(check_remote_job(&env, Some(&env)).is_empty());
        let moved = job(
            "name = \"p\"\nsource = \"postgres://u@evil/app?password_env=APP_PW\"\ndestinations = [\"s3://bkt?endpoint=http://h:1\"]\n",
        );
        let e = check_remote_job(&moved, Some(&env)).to_string();
        assert!(e.contains("APP_PW") && !e.contains("AWS"), "{e}");

        let named = job(
            "name = \"n\"\nsource = \"postgres://u@db/app?password=secret:app\"\ndestinations = [\"s3://bkt?endpoint=http://h:1&access_key=secret:k&secret_key=secret:s\", \"webdav://h/x\"]\n",
        );
        assert!(check_remote_job(&named, None).is_empty());
        let dav = job(
            "name = \"d\"\nsource = \"sqlite:///srv/a.db\"\ndestinations = [\"webdav://h/x?user=u\", \"sftp://u@h/x?key=/root/.ssh/id_ed25519\"]\n[encryption]\npassphrase_env = \"PW\"\n",
        );
        let e = check_remote_job(&dav, None).to_string();
        assert!(
            e.contains("WEBDAV_PASSWORD") && e.contains("key file") && e.contains("passphrase"),
            "{e}"
        );
    }

    #[test]
    fn remote_writers_name_channel_secrets_and_send_nothing_in_clear_text() {
        let with = |notify: &str| {
            job(&format!(
                "name = \"n\"\nsource = \"sqlite:///srv/a.db\"\ndestinations = [\"/srv/b\"]\nnotify = [\"{notify}\"]\n"
            ))
        };
        // (channel, refused for a remote writer with this in the message)
        let cases: &[(&str, Option<&str>)] = &[
            ("webhook+https://h.example/x?secret=secret:hook", None),
            ("slack://secret:ops", None),
            ("ntfy://ntfy.sh/t?token=secret:t", None),
            ("ping+https://hc-ping.com/x", None),
            ("slack://env:SLACK_URL", Some("SLACK_URL")),
            ("webhook+https://h.example/x?secret_env=HOOK", Some("HOOK")),
            (
                "smtp://m.example?from=a@x.test&to=b@x.test&user=u&password_env=PW",
                Some("PW"),
            ),
            ("webhook+http://127.0.0.1:9/x", Some("clear text")),
            ("ping+http://localhost/x", Some("clear text")),
            (
                "smtp://relay.internal?from=a@x.test&to=b@x.test&tls=none",
                Some("clear text"),
            ),
            (
                "webhook+https://127.0.0.1:8080/api/admin/jobs",
                Some("private network"),
            ),
            ("webhook+https://localhost/x", Some("private network")),
            ("ntfy://10.0.0.5/t", Some("private network")),
            ("ntfy://192.168.1.10/t", Some("private network")),
            (
                "ping+https://169.254.169.254/latest/meta-data",
                Some("private network"),
            ),
            ("webhook+https://[::1]/x", Some("private network")),
            ("webhook+https://[fd00::1]/x", Some("private network")),
            (
                "webhook+https://[::ffff:10.1.2.3]/x",
                Some("private network"),
            ),
            (
                "smtp://172.16.0.9?from=a@x.test&to=b@x.test",
                Some("private network"),
            ),
            ("webhook+https://8.8.8.8/x", None),
            // Spellings the resolver reads as this machine.
            (
                "smtp://127.1?from=a@x.test&to=b@x.test",
                Some("private network"),
            ),
            (
                "smtp://0x7f.1?from=a@x.test&to=b@x.test",
                Some("private network"),
            ),
            ("webhook+https://localhost.:8080/x", Some("private network")),
            ("webhook+https://2130706433/x", Some("private network")),
            ("ntfy://100.100.100.100/t", Some("private network")),
        ];
        for (uri, refused) in cases {
            let j = with(uri);
            let e = check_remote_job(&j, None);
            match refused {
                None => assert!(e.is_empty(), "{uri}: {e}"),
                Some(needle) => {
                    assert_eq!(e.0[0].field, "notify[0]", "{uri}");
                    assert!(e.to_string().contains(needle), "{uri}: {e}");
                }
            }
            // What the operator wrote stays when a remote caller keeps it.
            assert!(check_remote_job(&j, Some(&j)).is_empty(), "{uri}");
        }
    }
}
