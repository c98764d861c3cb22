//! PostgreSQL: `pg_dump --format=custom` (one consistent snapshot, restorable
//! selectively with `pg_restore`), uncompressed by pg_dump since zstd does it
//! better downstream. Restore runs `pg_restore --single-transaction`, so a failed
//! restore leaves the target database as it was.

use super::super::process::clean_command;
use super::super::process::{
    Cancel, SourceError, classify_db_error, require_tool, run_capture, run_dump, run_feed,
    tool_version,
};
use super::Db as DbConn;
use super::{check_reachable, sql_literal};
use crate::domain::proof::TableCount;
use crate::storage::manifest::SourceInfo;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

const KIND: &str = "PostgreSQL";
const HINT: &str = "install the PostgreSQL client tools (Debian/Ubuntu: apt-get install postgresql-client), at least as new as the server";

fn tool(name: &'static str) -> Result<PathBuf, SourceError> {
    require_tool(&[name], name, HINT)
}

fn command(tool: &Path, c: &DbConn, database: &str) -> Result<Command, SourceError> {
    let mut cmd = clean_command(tool);
    // --no-password: a missing password must fail, never wait on a prompt.
    cmd.arg("--host")
        .arg(&c.host)
        .arg("--port")
        .arg(c.port.to_string())
        .arg("--no-password")
        .arg("--dbname")
        // As a conninfo string with the name quoted: libpq reads a bare
        // `--dbname` holding `=` (or a URI) as connection settings, whose
        // `host=` would override `--host` and take the password elsewhere.
        .arg(conninfo_dbname(database));
    if let Some(u) = &c.user {
        cmd.arg("--username").arg(u);
    }
    if let Some(pw) = &c.password {
        cmd.env("PGPASSWORD", pw.expose());
    }
    cmd.env("PGCONNECT_TIMEOUT", "10");
    Ok(cmd)
}

/// `dbname='NAME'` with `\` and `'` escaped, as libpq's conninfo wants.
fn conninfo_dbname(database: &str) -> String {
    format!(
        "dbname='{}'",
        database.replace('\\', "\\\\").replace('\'', "\\'")
    )
}

fn classify(c: &DbConn, database: &str, e: SourceError) -> SourceError {
    let user = c.user.clone().unwrap_or_else(whoami);
    classify_db_error(e, KIND, &c.address(), &user, database, "PGPASSWORD")
}

fn whoami() -> String {
    std::env::var("USER").unwrap_or_else(|_| "(the current user)".into())
}

fn psql(c: &DbConn, database: &str, sql: &str) -> Result<String, SourceError> {
    let mut cmd = command(&tool("psql")?, c, database)?;
    cmd.args([
        "--no-psqlrc",
        "--tuples-only",
        "--no-align",
        "--quiet",
        "--command",
        sql,
    ]);
    run_capture(&mut cmd, "psql").map_err(|e| classify(c, database, e))
}

pub fn preflight(c: &DbConn) -> Result<SourceInfo, SourceError> {
    let pg_dump = tool("pg_dump")?;
    check_reachable(KIND, c)?;
    let server_version = psql(c, &c.database, "SHOW server_version")?;
    Ok(SourceInfo {
        kind: "postgres".into(),
        name: c.database.clone(),
        server_version: Some(server_version),
        tool: tool_version(&pg_dump),
    })
}

pub fn dump(c: &DbConn, cancel: &Cancel, out: &mut dyn Write) -> Result<String, SourceError> {
    let mut cmd = command(&tool("pg_dump")?, c, &c.database)?;
    cmd.args(["--format=custom", "--compress=0"]);
    run_dump(&mut cmd, "pg_dump", out, cancel).map_err(|e| classify(c, &c.database, e))
}

/// The custom format starts with `PGDMP`; `pg_restore --file=/dev/null` then reads
/// the whole archive (TOC and every data block) and fails on any damage.
pub fn check_format(input: &mut dyn Read) -> Result<String, SourceError> {
    let mut magic = [0u8; 5];
    input
        .read_exact(&mut magic)
        .map_err(|e| SourceError::io("reading the dump header", e))?;
    if &magic != b"PGDMP" {
        return Err(SourceError::Format {
            format: "pg_dump custom-format archive",
            detail: "it does not start with PGDMP".into(),
        });
    }
    let mut rest = std::io::Cursor::new(magic).chain(input);
    let mut cmd = clean_command(tool("pg_restore")?);
    cmd.args(["--file=/dev/null", "--exit-on-error"]);
    run_feed(&mut cmd, "pg_restore", &mut rest, &Cancel::default()).map_err(|e| match e {
        SourceError::ToolFailed { stderr, .. } => SourceError::Format {
            format: "pg_dump custom-format archive",
            detail: stderr,
        },
        other => other,
    })?;
    Ok("pg_dump archive read completely by pg_restore".into())
}

fn ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Objects that make a database "not empty": anything in a user schema.
const USER_OBJECTS: &str = "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') \
     AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
     AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'";

/// Returns whether it created the database.
pub fn prepare_target(c: &DbConn, force: bool) -> Result<bool, SourceError> {
    tool("pg_restore")?;
    check_reachable(KIND, c)?;
    let exists = psql(
        c,
        "postgres",
        &format!(
            "SELECT count(*) FROM pg_database WHERE datname = {}",
            sql_literal(&c.database)
        ),
    )?;
    if exists.trim() == "0" {
        psql(
            c,
            "postgres",
            &format!("CREATE DATABASE {}", ident(&c.database)),
        )?;
        return Ok(true);
    }
    let objects: u64 = psql(c, &c.database, USER_OBJECTS)?
        .trim()
        .parse()
        .unwrap_or(0);
    if objects > 0 && !force {
        return Err(SourceError::TargetRefused {
            target: format!("database {:?} at {}", c.database, c.address()),
            why: format!(
                "it is not empty ({objects} tables, views or sequences). Restore into a new database name, or pass --force to replace the objects the backup contains"
            ),
        });
    }
    Ok(false)
}

pub fn restore(
    c: &DbConn,
    force: bool,
    input: &mut dyn Read,
    cancel: &Cancel,
) -> Result<String, SourceError> {
    let mut cmd = command(&tool("pg_restore")?, c, &c.database)?;
    cmd.args(["--exit-on-error", "--single-transaction"]);
    if force {
        cmd.args(["--clean", "--if-exists"]);
    }
    run_feed(&mut cmd, "pg_restore", input, cancel).map_err(|e| classify(c, &c.database, e))
}

/// Every user table of the database with its exact row count (`count(*)`,
/// one query through `query_to_xml`) and its size with indexes and TOAST.
/// A partitioned table is counted once, through its parent.
pub fn inventory(c: &DbConn) -> Result<Vec<TableCount>, SourceError> {
    const SQL: &str = "SELECT n.nspname || '.' || c.relname, \
         (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text, \
         pg_total_relation_size(c.oid) \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition \
         AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
         AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%' \
         ORDER BY 1";
    let out = psql_rows(c, &c.database, SQL)?;
    out.lines()
        .filter(|l| !l.is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split(FIELD_SEP).collect();
            let bad = || SourceError::Format {
                format: "psql output",
                detail: format!("unexpected inventory line {line:?}"),
            };
            if f.len() != 3 {
                return Err(bad());
            }
            Ok(TableCount {
                name: f[0].to_string(),
                rows: f[1].trim().parse().map_err(|_| bad())?,
                bytes: f[2].trim().parse().ok(),
            })
        })
        .collect()
}

/// The first value a query returns, as text, run in a read-only transaction.
pub fn scalar(c: &DbConn, sql: &str) -> Result<String, SourceError> {
    let mut cmd = command(&tool("psql")?, c, &c.database)?;
    // Read-only by default: a check looks, it does not change what it checks.
    cmd.env("PGOPTIONS", "-c default_transaction_read_only=on")
        .args(["--no-psqlrc", "--tuples-only", "--no-align", "--quiet"])
        .arg(format!("--field-separator={FIELD_SEP}"))
        .args(["--set", "ON_ERROR_STOP=1", "--command", sql]);
    let out = run_capture(&mut cmd, "psql").map_err(|e| classify(c, &c.database, e))?;
    // The first column of the first row; NULL prints as nothing.
    Ok(out
        .lines()
        .next()
        .and_then(|l| l.split(FIELD_SEP).next())
        .unwrap_or("")
        .to_string())
}

/// Drops the database, disconnecting whoever is still in it (`WITH
/// (FORCE)`, PostgreSQL 13 and later; before, its sessions are ended first).
pub fn drop_database(c: &DbConn) -> Result<(), SourceError> {
    let db = ident(&c.database);
    match psql(
        c,
        "postgres",
        &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
    ) {
        Err(e) if e.to_string().contains("syntax error") => {
            psql(
                c,
                "postgres",
                &format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = {}",
                    sql_literal(&c.database)
                ),
            )?;
            psql(c, "postgres", &format!("DROP DATABASE IF EXISTS {db}")).map(|_| ())
        }
        other => other.map(|_| ()),
    }
}

/// Separates psql's columns: a byte no table name holds in practice.
const FIELD_SEP: char = '\u{1f}';

fn psql_rows(c: &DbConn, database: &str, sql: &str) -> Result<String, SourceError> {
    let mut cmd = command(&tool("psql")?, c, database)?;
    cmd.args(["--no-psqlrc", "--tuples-only", "--no-align", "--quiet"])
        .arg(format!("--field-separator={FIELD_SEP}"))
        .args(["--command", sql]);
    run_capture(&mut cmd, "psql").map_err(|e| classify(c, database, e))
}
