//! Scratch targets: where a test restore restores a backup to prove it
//! opens. A database on the source's server (or the job's
//! `test_restore_to`), named `sauve_scratch_<run id>`, or a file or
//! directory under Sauve's data directory. Described by a small JSON
//! location (a password by its name, never its value) so the store can keep
//! it and a later process can drop it.

use super::super::process::{Cancel, SourceError, clean_command, run_feed};
use super::{Db, RestoreTarget, files, mysql, postgres, sqlite};
use crate::domain::proof::{FilesCount, TableCount};
use crate::domain::{Credential, DbConn, Keyring};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The prefix of every scratch database: nothing else is ever dropped.
pub const PREFIX: &str = "sauve_scratch_";

#[derive(Debug, Clone, PartialEq)]
pub enum Scratch {
    Postgres(DbConn),
    Mysql(DbConn),
    Sqlite(PathBuf),
    Files(PathBuf),
}

/// What a restored scratch target holds.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub integrity: Option<String>,
    pub tables: Vec<TableCount>,
    pub files: Option<FilesCount>,
}

/// A scratch target as the store keeps it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Location {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    database: Option<String>,
    /// `env:VAR` or `secret:NAME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    path: Option<PathBuf>,
}

impl Scratch {
    /// The scratch target of attempt `attempt` of run `run_id` for a backup
    /// of `kind`: on `server` for a database, under `dir` for a file or
    /// directory. None: this kind has nothing to restore into (a command's
    /// output). Each attempt has its own, so a sweep dropping what a dead
    /// attempt left never meets the next attempt's.
    pub fn new(
        kind: &str,
        server: Option<&DbConn>,
        run_id: &str,
        attempt: i64,
        dir: &Path,
    ) -> Option<Scratch> {
        // Run ids are ULIDs: letters and digits only, nothing to quote.
        let name = format!("{PREFIX}{}_{attempt}", run_id.to_ascii_lowercase());
        let on = |c: &DbConn| DbConn {
            database: name.clone(),
            ..c.clone()
        };
        match kind {
            "postgres" => server.map(|c| Scratch::Postgres(on(c))),
            "mysql" => server.map(|c| Scratch::Mysql(on(c))),
            "sqlite" => Some(Scratch::Sqlite(dir.join(format!("{name}.db")))),
            "files" => Some(Scratch::Files(dir.join(name))),
            _ => None,
        }
    }

    /// Its name: the database's, or the path.
    pub fn name(&self) -> String {
        match self {
            Scratch::Postgres(c) | Scratch::Mysql(c) => format!("{}@{}", c.database, c.address()),
            Scratch::Sqlite(p) | Scratch::Files(p) => p.display().to_string(),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Scratch::Postgres(_) => "postgres",
            Scratch::Mysql(_) => "mysql",
            Scratch::Sqlite(_) => "sqlite",
            Scratch::Files(_) => "files",
        }
    }

    /// The JSON the store keeps: where it is, a password by its name.
    pub fn location(&self) -> String {
        let loc = match self {
            Scratch::Postgres(c) | Scratch::Mysql(c) => Location {
                host: Some(c.host.clone()),
                port: Some(c.port),
                user: c.user.clone(),
                database: Some(c.database.clone()),
                password: c.password.as_ref().map(|p| match p {
                    Credential::Env(v) => format!("env:{v}"),
                    Credential::Secret(n) => format!("secret:{n}"),
                }),
                path: None,
            },
            Scratch::Sqlite(p) | Scratch::Files(p) => Location {
                host: None,
                port: None,
                user: None,
                database: None,
                password: None,
                path: Some(p.clone()),
            },
        };
        serde_json::to_string(&loc).expect("a location serialises")
    }

    /// A scratch target from what the store kept; None for anything that is
    /// not one (a database without the prefix, a path outside `dir`).
    pub fn from_location(kind: &str, json: &str, dir: &Path) -> Option<Scratch> {
        let loc: Location = serde_json::from_str(json).ok()?;
        let conn = || -> Option<DbConn> {
            let database = loc.database.clone()?;
            let password = match loc.password.as_deref() {
                None => None,
                Some(p) => Some(match p.split_once(':')? {
                    ("env", v) => Credential::env("password_env", v).ok()?,
                    ("secret", _) => Credential::secret("password", p).ok()?,
                    _ => return None,
                }),
            };
            database.starts_with(PREFIX).then(|| DbConn {
                host: loc.host.clone().unwrap_or_default(),
                port: loc.port.unwrap_or_default(),
                user: loc.user.clone(),
                database,
                password,
            })
        };
        let inside = |p: &PathBuf| {
            let named = p
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(PREFIX));
            (p.parent() == Some(dir) && named).then(|| p.clone())
        };
        match kind {
            "postgres" => conn().map(Scratch::Postgres),
            "mysql" => conn().map(Scratch::Mysql),
            "sqlite" => loc.path.as_ref().and_then(inside).map(Scratch::Sqlite),
            "files" => loc.path.as_ref().and_then(inside).map(Scratch::Files),
            _ => None,
        }
    }

    /// Where a restore into it goes.
    pub fn target(&self) -> RestoreTarget {
        match self {
            Scratch::Postgres(c) => RestoreTarget::Postgres(c.clone()),
            Scratch::Mysql(c) => RestoreTarget::Mysql(c.clone()),
            Scratch::Sqlite(p) => RestoreTarget::Sqlite(p.clone()),
            Scratch::Files(p) => RestoreTarget::Files(p.clone()),
        }
    }

    /// Makes room: drops what an earlier attempt of the same run left.
    pub fn create(&self, keys: &Keyring) -> Result<(), SourceError> {
        self.drop_it(keys)?;
        if let Scratch::Sqlite(p) | Scratch::Files(p) = self
            && let Some(dir) = p.parent()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| SourceError::io(format!("cannot create {}", dir.display()), e))?;
        }
        Ok(())
    }

    /// What the restored target holds.
    pub fn inventory(&self, keys: &Keyring) -> Result<Inventory, SourceError> {
        Ok(match self {
            Scratch::Postgres(c) => Inventory {
                tables: postgres::inventory(&Db::open(c, keys)?)?,
                ..Inventory::default()
            },
            Scratch::Mysql(c) => Inventory {
                tables: mysql::inventory(&Db::open(c, keys)?)?,
                ..Inventory::default()
            },
            Scratch::Sqlite(p) => {
                let (integrity, tables) = sqlite::inventory(p)?;
                Inventory {
                    integrity: Some(integrity),
                    tables,
                    files: None,
                }
            }
            Scratch::Files(p) => Inventory {
                files: Some(files::inventory(p)?),
                ..Inventory::default()
            },
        })
    }

    /// A check's query, on the restored database, read-only.
    pub fn scalar(&self, sql: &str, keys: &Keyring) -> Result<String, SourceError> {
        match self {
            Scratch::Postgres(c) => postgres::scalar(&Db::open(c, keys)?, sql),
            Scratch::Mysql(c) => mysql::scalar(&Db::open(c, keys)?, sql),
            Scratch::Sqlite(p) => sqlite::scalar(p, sql),
            Scratch::Files(_) => Err(SourceError::Config(
                "a sql check needs a database; check files with a command".into(),
            )),
        }
    }

    /// A check's command, with the target in its environment:
    /// `SAUVE_TEST_RESTORE_TARGET` (a database URI without password, or
    /// the path) and, for a database, the client's usual variables
    /// (`PGHOST`…, `MYSQL_HOST`…) with the password. Returns its exit code.
    pub fn run_command(
        &self,
        argv: &[String],
        keys: &Keyring,
        cancel: &Cancel,
    ) -> Result<(), SourceError> {
        let mut cmd = clean_command(&argv[0]);
        cmd.args(&argv[1..]);
        match self {
            Scratch::Postgres(c) => {
                let db = Db::open(c, keys)?;
                cmd.env("SAUVE_TEST_RESTORE_TARGET", uri("postgres", c))
                    .env("PGHOST", &c.host)
                    .env("PGPORT", c.port.to_string())
                    .env("PGDATABASE", &c.database);
                if let Some(u) = &c.user {
                    cmd.env("PGUSER", u);
                }
                if let Some(pw) = &db.password {
                    cmd.env("PGPASSWORD", pw.expose());
                }
            }
            Scratch::Mysql(c) => {
                let db = Db::open(c, keys)?;
                cmd.env("SAUVE_TEST_RESTORE_TARGET", uri("mysql", c))
                    .env("MYSQL_HOST", &c.host)
                    .env("MYSQL_TCP_PORT", c.port.to_string())
                    .env("MYSQL_DATABASE", &c.database);
                if let Some(pw) = &db.password {
                    cmd.env("MYSQL_PWD", pw.expose());
                }
            }
            Scratch::Sqlite(p) | Scratch::Files(p) => {
                cmd.env("SAUVE_TEST_RESTORE_TARGET", p);
            }
        }
        run_feed(&mut cmd, &argv[0], &mut std::io::empty(), cancel).map(|_| ())
    }

    /// Drops the target; nothing there is not an error.
    pub fn drop_it(&self, keys: &Keyring) -> Result<(), SourceError> {
        let gone = |p: &Path, r: std::io::Result<()>| match r {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(SourceError::io(format!("cannot remove {}", p.display()), e))
            }
            _ => Ok(()),
        };
        match self {
            Scratch::Postgres(c) => postgres::drop_database(&Db::open(c, keys)?),
            Scratch::Mysql(c) => mysql::drop_database(&Db::open(c, keys)?),
            Scratch::Sqlite(p) => {
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    let mut f = p.as_os_str().to_owned();
                    f.push(suffix);
                    let f = PathBuf::from(f);
                    gone(&f, std::fs::remove_file(&f))?;
                }
                remove_siblings(p)
            }
            Scratch::Files(p) => {
                gone(p, std::fs::remove_dir_all(p))?;
                remove_siblings(p)
            }
        }
    }
}

/// What a restore killed mid-way left beside a scratch path: its
/// temporary file or tree (`.NAME.sauve-restore-…`, `.NAME.sauve-replaced-…`),
/// as big as the backup.
fn remove_siblings(p: &Path) -> Result<(), SourceError> {
    let (Some(dir), Some(name)) = (p.parent(), p.file_name().and_then(|n| n.to_str())) else {
        return Ok(());
    };
    let prefix = format!(".{name}.sauve-");
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(SourceError::io(format!("cannot list {}", dir.display()), e)),
    };
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(&prefix) {
            continue;
        }
        let path = entry.path();
        let removed = match entry.file_type() {
            Ok(t) if t.is_dir() => std::fs::remove_dir_all(&path),
            _ => std::fs::remove_file(&path),
        };
        removed.map_err(|e| SourceError::io(format!("cannot remove {}", path.display()), e))?;
    }
    Ok(())
}

fn uri(scheme: &str, c: &DbConn) -> String {
    let user = c
        .user
        .as_deref()
        .map(|u| format!("{u}@"))
        .unwrap_or_default();
    format!("{scheme}://{user}{}/{}", c.address(), c.database)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_round_trip_and_refuse_anything_else() {
        let dir = Path::new("/data/scratch");
        let conn = DbConn {
            host: "db".into(),
            port: 5432,
            user: Some("app".into()),
            database: "app".into(),
            password: Some(Credential::secret("password", "secret:pg").unwrap()),
        };
        for kind in ["postgres", "mysql", "sqlite", "files"] {
            let s = Scratch::new(kind, Some(&conn), "01ABCDEF", 2, dir).unwrap();
            let back = Scratch::from_location(kind, &s.location(), dir);
            assert_eq!(back.as_ref(), Some(&s), "{kind}");
            assert!(
                s.name().contains("sauve_scratch_01abcdef_2"),
                "{}",
                s.name()
            );
        }
        assert_eq!(Scratch::new("command", Some(&conn), "01A", 1, dir), None);
        assert_eq!(Scratch::new("postgres", None, "01A", 1, dir), None);
        // A row that names a database not made by a test restore, or a path
        // elsewhere, is never dropped.
        let refused = [
            ("postgres", r#"{"host":"db","port":5432,"database":"app"}"#),
            ("sqlite", r#"{"path":"/data/app.db"}"#),
            ("files", r#"{"path":"/data/scratch/../etc"}"#),
            ("files", r#"{"path":"/srv/sauve_scratch_x"}"#),
            (
                "postgres",
                r#"{"host":"db","database":"sauve_scratch_x","password":"hunter2"}"#,
            ),
            ("command", r#"{"path":"/data/scratch/sauve_scratch_x"}"#),
        ];
        for (kind, json) in refused {
            assert_eq!(Scratch::from_location(kind, json, dir), None, "{json}");
        }
    }
}
