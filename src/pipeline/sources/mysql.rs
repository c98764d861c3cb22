//! MySQL and MariaDB: `mariadb-dump` (or `mysqldump`) with
//! `--single-transaction --routines --triggers --events`, a consistent InnoDB
//! snapshot without locking the tables. Restore feeds the SQL to the client.
//! MySQL cannot roll back DDL, so unlike PostgreSQL a failed restore can leave the
//! target half-written: restore into a new database and switch over.

use super::super::process::clean_command;
use super::super::process::{
    Cancel, SourceError, classify_db_error, require_tool, run_capture, run_dump, run_feed,
    tool_version,
};
use super::Db as DbConn;
use super::{check_reachable, sql_literal};
use crate::domain::proof::TableCount;
use crate::storage::manifest::SourceInfo;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

const KIND: &str = "MySQL/MariaDB";
const HINT: &str =
    "install the MariaDB or MySQL client tools (Debian/Ubuntu: apt-get install mariadb-client)";

fn dump_tool() -> Result<PathBuf, SourceError> {
    require_tool(&["mariadb-dump", "mysqldump"], "mariadb-dump", HINT)
}

fn client_tool() -> Result<PathBuf, SourceError> {
    require_tool(&["mariadb", "mysql"], "mariadb", HINT)
}

fn command(tool: &Path, c: &DbConn) -> Result<Command, SourceError> {
    let mut cmd = clean_command(tool);
    // --protocol=TCP: "localhost" would otherwise mean the local socket, not the
    // host:port the URI names.
    cmd.arg(format!("--host={}", c.host))
        .arg(format!("--port={}", c.port))
        .arg("--protocol=TCP")
        .arg("--default-character-set=utf8mb4");
    if let Some(u) = &c.user {
        cmd.arg(format!("--user={u}"));
    }
    if let Some(pw) = &c.password {
        cmd.env("MYSQL_PWD", pw.expose());
    }
    Ok(cmd)
}

fn classify(c: &DbConn, e: SourceError) -> SourceError {
    let user = c
        .user
        .clone()
        .unwrap_or_else(|| "(the current user)".into());
    classify_db_error(e, KIND, &c.address(), &user, &c.database, "MYSQL_PWD")
}

fn query(c: &DbConn, sql: &str) -> Result<String, SourceError> {
    let mut cmd = command(&client_tool()?, c)?;
    cmd.args([
        "--connect-timeout=10",
        "--batch",
        "--skip-column-names",
        "--execute",
        sql,
    ]);
    run_capture(&mut cmd, "mariadb").map_err(|e| classify(c, e))
}

pub fn preflight(c: &DbConn) -> Result<SourceInfo, SourceError> {
    let dump = dump_tool()?;
    check_reachable(KIND, c)?;
    let version = query(c, "SELECT VERSION()")?;
    let exists = query(
        c,
        &format!(
            "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = {}",
            sql_literal(&c.database)
        ),
    )?;
    if exists.trim() == "0" {
        return Err(SourceError::NoDatabase {
            kind: KIND,
            address: c.address(),
            database: c.database.clone(),
        });
    }
    Ok(SourceInfo {
        kind: "mysql".into(),
        name: c.database.clone(),
        server_version: Some(version),
        tool: tool_version(&dump),
    })
}

pub fn dump(c: &DbConn, cancel: &Cancel, out: &mut dyn Write) -> Result<String, SourceError> {
    let mut cmd = command(&dump_tool()?, c)?;
    cmd.args([
        "--single-transaction",
        "--routines",
        "--triggers",
        "--events",
        "--hex-blob",
        "--no-tablespaces",
    ])
    .arg(&c.database);
    run_dump(&mut cmd, "mariadb-dump", out, cancel).map_err(|e| classify(c, e))
}

/// A dump starts with the tool's banner and ends with `-- Dump completed`; a
/// stream that stops anywhere in between was cut short.
pub fn check_format(input: &mut dyn Read) -> Result<String, SourceError> {
    let mut reader = BufReader::with_capacity(256 * 1024, input);
    let mut first = String::new();
    reader
        .read_line(&mut first)
        .map_err(|e| SourceError::io("reading the dump", e))?;
    let bad = |detail: String| SourceError::Format {
        format: "mariadb-dump/mysqldump output",
        detail,
    };
    // MariaDB 11 puts a sandbox-mode comment before the banner.
    if !(first.starts_with("-- MariaDB dump")
        || first.starts_with("-- MySQL dump")
        || first.starts_with("/*M!999999"))
    {
        return Err(bad(format!("unexpected first line {:?}", first.trim_end())));
    }
    let mut last = String::new();
    let mut line = String::new();
    let mut lines = 1u64;
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) => break,
            Ok(_) => {
                lines += 1;
                if !line.trim().is_empty() {
                    std::mem::swap(&mut last, &mut line);
                }
            }
            Err(e) => return Err(SourceError::io("reading the dump", e)),
        }
    }
    if !last.starts_with("-- Dump completed") {
        return Err(bad(
            "it does not end with \"-- Dump completed\": the dump was cut short".into(),
        ));
    }
    Ok(format!("SQL dump of {lines} lines, complete"))
}

pub fn prepare_target(c: &DbConn, force: bool) -> Result<(), SourceError> {
    client_tool()?;
    check_reachable(KIND, c)?;
    let db = sql_literal(&c.database);
    let objects: u64 = query(
        c,
        &format!(
            "SELECT (SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = {db}) + \
                    (SELECT COUNT(*) FROM information_schema.routines WHERE routine_schema = {db})"
        ),
    )?
    .trim()
    .parse()
    .unwrap_or(0);
    if objects > 0 && !force {
        return Err(SourceError::TargetRefused {
            target: format!("database {:?} at {}", c.database, c.address()),
            why: format!(
                "it is not empty ({objects} tables, views or routines). Restore into a new database name, or pass --force to replace the objects the backup contains"
            ),
        });
    }
    query(
        c,
        &format!(
            "CREATE DATABASE IF NOT EXISTS `{}` CHARACTER SET utf8mb4",
            c.database.replace('`', "``")
        ),
    )?;
    Ok(())
}

pub fn restore(c: &DbConn, input: &mut dyn Read, cancel: &Cancel) -> Result<String, SourceError> {
    let mut cmd = command(&client_tool()?, c)?;
    cmd.arg("--binary-mode")
        .arg(format!("--database={}", c.database));
    run_feed(&mut cmd, "mariadb", input, cancel).map_err(|e| classify(c, e))
}

/// Every base table of the database with its exact row count (one
/// `COUNT(*)` per table, in one query) and its data and index size.
pub fn inventory(c: &DbConn) -> Result<Vec<TableCount>, SourceError> {
    let listed = query(
        c,
        &format!(
            "SELECT table_name, COALESCE(data_length, 0) + COALESCE(index_length, 0) \
             FROM information_schema.tables WHERE table_schema = {} AND table_type = 'BASE TABLE' \
             ORDER BY table_name",
            sql_literal(&c.database)
        ),
    )?;
    let tables: Vec<(String, Option<u64>)> = listed
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(n, b)| (n.to_string(), b.trim().parse().ok()))
        .collect();
    if tables.is_empty() {
        return Ok(vec![]);
    }
    let db = quote_ident(&c.database);
    // In batches: one command-line argument holds at most 128 KiB.
    let mut counts = String::new();
    for (b, batch) in tables.chunks(200).enumerate() {
        let sql = batch
            .iter()
            .enumerate()
            .map(|(i, (n, _))| {
                format!(
                    "SELECT {}, COUNT(*) FROM {db}.{}",
                    b * 200 + i,
                    quote_ident(n)
                )
            })
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        counts.push_str(&query(c, &sql)?);
        counts.push('\n');
    }
    let mut rows = vec![None; tables.len()];
    for line in counts.lines() {
        if let Some((i, n)) = line.split_once('\t')
            && let (Ok(i), Ok(n)) = (i.parse::<usize>(), n.trim().parse::<u64>())
            && i < rows.len()
        {
            rows[i] = Some(n);
        }
    }
    tables
        .into_iter()
        .zip(rows)
        .map(|((name, bytes), rows)| {
            let rows = rows.ok_or_else(|| SourceError::Format {
                format: "mariadb output",
                detail: format!("no row count for table {name}"),
            })?;
            Ok(TableCount { name, rows, bytes })
        })
        .collect()
}

/// The first value a query returns, as text, in a read-only transaction.
pub fn scalar(c: &DbConn, sql: &str) -> Result<String, SourceError> {
    let mut cmd = command(&client_tool()?, c)?;
    // The client runs each statement in turn: the transaction is read-only
    // before the check's query starts.
    cmd.arg(format!("--database={}", c.database)).args([
        "--connect-timeout=10",
        "--batch",
        "--skip-column-names",
        "--init-command=SET SESSION TRANSACTION READ ONLY",
        "--execute",
        sql,
    ]);
    let out = run_capture(&mut cmd, "mariadb").map_err(|e| classify(c, e))?;
    // The first column of the first row; the client prints NULL as `NULL`,
    // which must fail a check as PostgreSQL's and SQLite's empty value does.
    let value = out
        .lines()
        .next()
        .and_then(|l| l.split('\t').next())
        .unwrap_or("");
    Ok(if value == "NULL" {
        String::new()
    } else {
        value.to_string()
    })
}

/// Drops the database.
pub fn drop_database(c: &DbConn) -> Result<(), SourceError> {
    query(
        c,
        &format!("DROP DATABASE IF EXISTS {}", quote_ident(&c.database)),
    )
    .map(|_| ())
}

fn quote_ident(s: &str) -> String {
    format!("`{}`", s.replace('`', "``"))
}
