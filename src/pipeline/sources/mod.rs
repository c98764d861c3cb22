//! The sources, both ways: each module knows how to describe its source
//! (preflight: reachable? tool present? versions), dump it as one byte stream, check
//! that a stream is well-formed (for `verify`), and restore a stream into a target.
//! All of it is blocking code, run on the pipeline's blocking thread.

mod command;
mod files;
mod mysql;
mod postgres;
pub mod scratch;
mod sqlite;

use super::process::{Cancel, CancellableReader, SourceError};
use crate::domain::{DbConn, Keyring, SecretValue, Source, ValidationErrors, source::parse_uri};
use crate::storage::manifest::SourceInfo;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A database connection with its password revealed for that server alone.
pub struct Db {
    conn: DbConn,
    pub password: Option<SecretValue>,
}

impl Db {
    pub fn open(conn: &DbConn, keys: &Keyring) -> Result<Db, SourceError> {
        let password = conn.password(keys)?;
        Ok(Db {
            conn: conn.clone(),
            password,
        })
    }
}

impl std::ops::Deref for Db {
    type Target = DbConn;
    fn deref(&self) -> &DbConn {
        &self.conn
    }
}

/// What a source needs from its surroundings.
pub struct SourceContext {
    /// Where a source may stage a snapshot (SQLite only); removed afterwards.
    pub staging_dir: PathBuf,
    /// Stops the dump tool when the run is cancelled or times out.
    pub cancel: super::process::Cancel,
    /// The operator's secrets, revealed only to the hosts they are bound to.
    pub keys: Keyring,
    /// Directories never archived by a files source: the job's local
    /// destinations and Sauve's data directory.
    pub leave_out: Vec<PathBuf>,
}

/// Checks the source can be read and returns what the manifest records of it.
pub fn preflight(source: &Source, keys: &Keyring) -> Result<SourceInfo, SourceError> {
    match source {
        Source::Postgres(c) => postgres::preflight(&Db::open(c, keys)?),
        Source::Mysql(c) => mysql::preflight(&Db::open(c, keys)?),
        Source::Sqlite { path } => sqlite::preflight(path),
        Source::Files { root, .. } => files::preflight(root),
        Source::Command { command, .. } => command::preflight(command),
    }
}

/// Writes the whole source into `out`. Returns what the tool said (its stderr).
pub fn dump(
    source: &Source,
    ctx: &SourceContext,
    out: &mut dyn Write,
) -> Result<String, SourceError> {
    match source {
        Source::Postgres(c) => postgres::dump(&Db::open(c, &ctx.keys)?, &ctx.cancel, out),
        Source::Mysql(c) => mysql::dump(&Db::open(c, &ctx.keys)?, &ctx.cancel, out),
        Source::Sqlite { path } => sqlite::dump(path, ctx, out),
        Source::Files { root, exclude } => files::dump(root, exclude, &ctx.leave_out, out),
        Source::Command { command, .. } => command::dump(command, &ctx.cancel, out),
    }
}

/// Reads a whole decompressed stream and checks it is what `kind` produces.
/// Returns a one-line description of what was checked.
pub fn check_format(kind: &str, input: &mut dyn Read) -> Result<String, SourceError> {
    match kind {
        "postgres" => postgres::check_format(input),
        "mysql" => mysql::check_format(input),
        "sqlite" => sqlite::check_format(input),
        "files" => files::check_format(input),
        _ => {
            let n = super::process::copy_large(input, &mut std::io::sink())
                .map_err(|e| SourceError::io("reading the backup", e))?;
            Ok(format!(
                "{n} bytes read (a command's output has no format to check)"
            ))
        }
    }
}

/// Where a restore goes, parsed from `--to` for a backup of a given kind.
#[derive(Debug, Clone)]
pub enum RestoreTarget {
    Postgres(DbConn),
    Mysql(DbConn),
    Sqlite(PathBuf),
    Files(PathBuf),
    /// The job's restore command, with `--to` passed as `SAUVE_RESTORE_TARGET`.
    Command {
        restore_command: Vec<String>,
        to: Option<String>,
    },
}

impl RestoreTarget {
    /// Parses `to` as a target for a backup of `kind`. A bare absolute path is
    /// accepted for `sqlite` and `files`.
    pub fn parse(kind: &str, to: &str) -> Result<RestoreTarget, ValidationErrors> {
        let err = |m: String| ValidationErrors::single("to", m);
        let parsed = if to.starts_with('/') {
            match kind {
                "sqlite" => return Ok(RestoreTarget::Sqlite(PathBuf::from(to))),
                "files" => return Ok(RestoreTarget::Files(PathBuf::from(to))),
                _ => {
                    return Err(err(format!(
                        "a {kind} backup restores into a database URI, not a path"
                    )));
                }
            }
        } else {
            parse_uri(to).map_err(|e| {
                let mut out = ValidationErrors::new();
                out.extend_prefixed("to", e);
                out
            })?
        };
        match (kind, parsed) {
            ("postgres", Source::Postgres(c)) => Ok(RestoreTarget::Postgres(c)),
            ("mysql", Source::Mysql(c)) => Ok(RestoreTarget::Mysql(c)),
            ("sqlite", Source::Sqlite { path }) => Ok(RestoreTarget::Sqlite(path)),
            ("files", Source::Files { root, exclude }) if exclude.is_empty() => {
                Ok(RestoreTarget::Files(root))
            }
            (kind, other) => Err(err(format!(
                "this is a {kind} backup; it cannot be restored into a {} target (write e.g. {})",
                other.kind(),
                example_target(kind)
            ))),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            RestoreTarget::Postgres(c) => {
                format!("PostgreSQL database {:?} at {}", c.database, c.address())
            }
            RestoreTarget::Mysql(c) => {
                format!("MySQL/MariaDB database {:?} at {}", c.database, c.address())
            }
            RestoreTarget::Sqlite(p) => format!("SQLite file {}", p.display()),
            RestoreTarget::Files(p) => format!("directory {}", p.display()),
            RestoreTarget::Command {
                restore_command, ..
            } => {
                format!("the restore command {:?}", restore_command.join(" "))
            }
        }
    }

    /// Checks the target before any byte is read: reachable, tools present, and
    /// not holding data unless `force`. Returns whether it created the
    /// target database (PostgreSQL), which `drop_created` undoes.
    pub fn prepare(&self, force: bool, keys: &Keyring) -> Result<bool, SourceError> {
        match self {
            RestoreTarget::Postgres(c) => postgres::prepare_target(&Db::open(c, keys)?, force),
            RestoreTarget::Mysql(c) => {
                mysql::prepare_target(&Db::open(c, keys)?, force).map(|()| false)
            }
            RestoreTarget::Sqlite(p) => sqlite::prepare_target(p, force).map(|()| false),
            RestoreTarget::Files(p) => files::prepare_target(p, force).map(|()| false),
            RestoreTarget::Command {
                restore_command, ..
            } => command::preflight(restore_command).map(|_| false),
        }
    }

    /// Whether a failed restore leaves the target as it was (a transaction,
    /// a temporary path renamed into place at the end): then it can read the
    /// artifact once, committing only after the checksum.
    pub fn rolls_back(&self) -> bool {
        matches!(
            self,
            RestoreTarget::Postgres(_) | RestoreTarget::Sqlite(_) | RestoreTarget::Files(_)
        )
    }

    /// Drops the database `prepare` created, after a restore into it failed.
    pub fn drop_created(&self, keys: &Keyring) -> Result<(), SourceError> {
        match self {
            RestoreTarget::Postgres(c) => postgres::drop_database(&Db::open(c, keys)?),
            _ => Ok(()),
        }
    }

    /// The checks of `prepare` that touch nothing (a file or directory target),
    /// so a caller can refuse at once instead of failing later in the background.
    /// Database targets are checked by `prepare`, after verification.
    pub fn precheck(&self, force: bool) -> Result<(), SourceError> {
        match self {
            RestoreTarget::Sqlite(p) => sqlite::prepare_target(p, force),
            RestoreTarget::Files(p) => files::prepare_target(p, force),
            _ => Ok(()),
        }
    }

    /// Restores the decompressed stream into the target. Returns the tools'
    /// stderr. `cancel` stops it at the next read and kills the restore tool;
    /// what was written so far is rolled back (PostgreSQL's transaction) or
    /// removed (the temporary file or directory of SQLite and files).
    pub fn restore(
        &self,
        force: bool,
        input: &mut dyn Read,
        cancel: &Cancel,
        keys: &Keyring,
    ) -> Result<String, SourceError> {
        let input = &mut CancellableReader {
            inner: input,
            cancel,
        };
        match self {
            RestoreTarget::Postgres(c) => {
                postgres::restore(&Db::open(c, keys)?, force, input, cancel)
            }
            RestoreTarget::Mysql(c) => mysql::restore(&Db::open(c, keys)?, input, cancel),
            RestoreTarget::Sqlite(p) => sqlite::restore(p, input),
            RestoreTarget::Files(p) => files::restore(p, force, input),
            RestoreTarget::Command {
                restore_command,
                to,
            } => command::restore(restore_command, to.as_deref(), input, cancel),
        }
    }
}

fn example_target(kind: &str) -> &'static str {
    match kind {
        "postgres" => "postgres://user@host:5432/new_db",
        "mysql" => "mysql://user@host:3306/new_db",
        "sqlite" => "sqlite:///path/restored.db",
        "files" => "files:///path/empty-dir",
        _ => "the job's restore_command",
    }
}

/// A quick TCP connect, so an unreachable server is reported as such (with its
/// address) instead of as whatever the client tool prints after its own timeout.
fn check_reachable(kind: &'static str, c: &DbConn) -> Result<(), SourceError> {
    let address = c.address();
    let unreachable = |detail: String| SourceError::Unreachable {
        kind,
        address: address.clone(),
        detail,
    };
    let addrs: Vec<_> = (c.host.as_str(), c.port)
        .to_socket_addrs()
        .map_err(|e| unreachable(format!("cannot resolve host {:?} ({e})", c.host)))?
        .collect();
    let mut last = None;
    for a in &addrs {
        match TcpStream::connect_timeout(a, Duration::from_secs(5)) {
            Ok(_) => return Ok(()),
            Err(e) => last = Some(e),
        }
    }
    Err(unreachable(match last {
        Some(e) => e.to_string().to_lowercase(),
        None => "the host name resolves to no address".to_string(),
    }))
}

/// SQL string literal (standard-conforming strings, as both servers default to).
fn sql_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// How old a restore's leftover beside its target must be before the next
/// restore there removes it: far older than any restore still going.
const LEFTOVER_AGE: Duration = Duration::from_secs(24 * 3600);

/// Removes what restores into `target` that were killed left beside it (their
/// `.NAME.sauve-restore-…` and `.NAME.sauve-replaced-…` paths) once older than
/// a day. Returns how many were removed; failures are only logged.
fn sweep_leftovers(target: &Path) -> usize {
    let (Some(parent), Some(name)) = (target.parent(), target.file_name()) else {
        return 0;
    };
    let name = name.to_string_lossy();
    let prefixes = [
        format!(".{name}.sauve-restore-"),
        format!(".{name}.sauve-replaced-"),
    ];
    let Ok(entries) = std::fs::read_dir(parent) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.filter_map(Result::ok) {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        if !prefixes.iter().any(|p| file_name.starts_with(p.as_str())) {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > LEFTOVER_AGE);
        if !old {
            continue;
        }
        let path = entry.path();
        let gone = if path.is_dir() && !path.is_symlink() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        match gone {
            Ok(()) => removed += 1,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "could not remove a killed restore's leftover")
            }
        }
    }
    removed
}

/// A temporary path beside `target`, so the final rename stays on one file system.
fn sibling_temp(target: &Path, what: &str) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "target".into());
    target.with_file_name(format!(".{name}.sauve-{what}-{}", crate::domain::new_id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_killed_restores_leftovers_are_swept_once_old() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("app");
        let day_and_more = std::time::SystemTime::now() - Duration::from_secs(25 * 3600);
        let make = |name: &str, old: bool| {
            let p = dir.path().join(name);
            std::fs::create_dir_all(p.join("sub")).unwrap();
            std::fs::write(p.join("sub/f"), "x").unwrap();
            if old {
                std::fs::File::open(&p)
                    .unwrap()
                    .set_modified(day_and_more)
                    .unwrap();
            }
            p
        };
        let old_restore = make(".app.sauve-restore-01old", true);
        let old_replaced = make(".app.sauve-replaced-01old", true);
        let fresh = make(".app.sauve-restore-01new", false);
        let other_target = make(".application.sauve-restore-01old", true);
        let unrelated = make("app-notes", true);
        assert_eq!(sweep_leftovers(&target), 2);
        assert!(!old_restore.exists() && !old_replaced.exists());
        assert!(fresh.exists(), "a restore still going may own it");
        assert!(
            other_target.exists() && unrelated.exists(),
            "not this target's"
        );
    }

    #[test]
    fn restore_targets() {
        let ok = [
            (
                "postgres",
                "postgres://u@h/db2",
                "PostgreSQL database \"db2\" at h:5432",
            ),
            (
                "mysql",
                "mariadb://root@127.0.0.1/x",
                "MySQL/MariaDB database \"x\" at 127.0.0.1:3306",
            ),
            ("sqlite", "/tmp/r.db", "SQLite file /tmp/r.db"),
            ("sqlite", "sqlite:///tmp/r.db", "SQLite file /tmp/r.db"),
            ("files", "/tmp/out", "directory /tmp/out"),
            ("files", "files:///tmp/out", "directory /tmp/out"),
        ];
        for (kind, to, want) in ok {
            assert_eq!(RestoreTarget::parse(kind, to).unwrap().describe(), want);
        }
        let bad = [
            ("postgres", "/tmp/x", "not a path"),
            (
                "postgres",
                "mysql://h/db",
                "cannot be restored into a mysql target",
            ),
            ("files", "files:///x?exclude=*.tmp", "cannot be restored"),
            ("sqlite", "postgres://u:pw@h/db", "password=secret:NAME"),
        ];
        for (kind, to, needle) in bad {
            let e = RestoreTarget::parse(kind, to).unwrap_err();
            assert_eq!(e.0[0].field, "to");
            assert!(e.to_string().contains(needle), "{kind} {to}: {e}");
        }
    }

    #[test]
    fn literals_are_quoted() {
        assert_eq!(sql_literal("o'brien"), "'o''brien'");
    }
}
