//! SQLite: the online backup API copies a consistent snapshot while other
//! processes keep writing. The snapshot is staged as a file in the data directory
//! (the one place the pipeline touches local disk), streamed, then removed.
//! Restore writes a temp file beside the target, checks `PRAGMA integrity_check`,
//! and renames it over the target: the target is replaced whole or not at all.

use super::super::process::{SourceError, copy_large};
use super::{SourceContext, sibling_temp};
use crate::domain::proof::TableCount;
use crate::storage::manifest::SourceInfo;
use rusqlite::{Connection, OpenFlags, backup::StepResult};
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Give up on a snapshot when writers keep the database locked this long.
const SNAPSHOT_PATIENCE: Duration = Duration::from_secs(60);

fn sqlite_err(what: String) -> impl FnOnce(rusqlite::Error) -> SourceError {
    move |e| SourceError::Config(format!("{what}: {e}"))
}

pub fn preflight(path: &Path) -> Result<SourceInfo, SourceError> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => {}
        Ok(_) => {
            return Err(SourceError::Config(format!(
                "{} is not a file; a sqlite source names the database file",
                path.display()
            )));
        }
        Err(e) => {
            return Err(SourceError::io(
                format!("cannot open the SQLite database {}", path.display()),
                e,
            ));
        }
    }
    Ok(SourceInfo {
        kind: "sqlite".into(),
        name: path.display().to_string(),
        server_version: None,
        tool: Some(format!(
            "SQLite {} (online backup API)",
            rusqlite::version()
        )),
    })
}

/// Removes the staged snapshot however the dump ends.
struct Staged(PathBuf);

impl Drop for Staged {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

pub fn dump(path: &Path, ctx: &SourceContext, out: &mut dyn Write) -> Result<String, SourceError> {
    std::fs::create_dir_all(&ctx.staging_dir).map_err(|e| {
        SourceError::io(
            format!(
                "cannot create the staging directory {}",
                ctx.staging_dir.display()
            ),
            e,
        )
    })?;
    let staged = Staged(
        ctx.staging_dir
            .join(format!("sqlite-snapshot-{}.db", crate::domain::new_id())),
    );
    let pages = snapshot(path, &staged.0)?;
    let mut file = File::open(&staged.0).map_err(|e| {
        SourceError::io(
            format!("cannot read the snapshot {}", staged.0.display()),
            e,
        )
    })?;
    copy_large(&mut file, out).map_err(|e| SourceError::io("streaming the SQLite snapshot", e))?;
    Ok(format!(
        "snapshot of {} pages taken with the online backup API",
        pages
    ))
}

fn snapshot(src_path: &Path, dst_path: &Path) -> Result<i32, SourceError> {
    let name = src_path.display().to_string();
    let src = Connection::open_with_flags(
        src_path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite_err(format!(
        "cannot open the SQLite database {name}"
    )))?;
    src.busy_timeout(Duration::from_secs(10))
        .map_err(sqlite_err(format!("cannot configure {name}")))?;
    let mut dst = Connection::open(dst_path).map_err(sqlite_err(format!(
        "cannot create the snapshot file {}",
        dst_path.display()
    )))?;
    let backup = rusqlite::backup::Backup::new(&src, &mut dst)
        .map_err(sqlite_err(format!("cannot start the backup of {name}")))?;
    let started = Instant::now();
    // All pages in one step: the copy happens inside one read transaction, so it
    // is a consistent snapshot even while writers commit (in WAL mode they are
    // not even blocked). Busy/Locked means a writer holds an exclusive lock: wait.
    loop {
        match backup
            .step(-1)
            .map_err(sqlite_err(format!("backing up {name} failed")))?
        {
            StepResult::Done => break,
            _ => {
                if started.elapsed() > SNAPSHOT_PATIENCE {
                    return Err(SourceError::Config(format!(
                        "{name} stayed locked by another process for {}s; try again when it is less busy",
                        SNAPSHOT_PATIENCE.as_secs()
                    )));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
    let pages = backup.progress().pagecount;
    drop(backup);
    drop(dst);
    Ok(pages)
}

/// The header says "SQLite format 3", the page size, and how many pages the file
/// has; a stream of any other length was cut short or padded.
pub fn check_format(input: &mut dyn Read) -> Result<String, SourceError> {
    let bad = |detail: String| SourceError::Format {
        format: "SQLite database",
        detail,
    };
    let mut header = [0u8; 100];
    input
        .read_exact(&mut header)
        .map_err(|_| bad("shorter than a SQLite header".into()))?;
    if &header[..16] != b"SQLite format 3\0" {
        return Err(bad("the header does not say \"SQLite format 3\"".into()));
    }
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65536u64,
        n => n as u64,
    };
    let page_count = u32::from_be_bytes([header[28], header[29], header[30], header[31]]) as u64;
    let rest = copy_large(input, &mut std::io::sink())
        .map_err(|e| SourceError::io("reading the database", e))?;
    let total = 100 + rest;
    if page_size < 512
        || total % page_size != 0
        || (page_count != 0 && page_count * page_size != total)
    {
        return Err(bad(format!(
            "{total} bytes do not make the {page_count} pages of {page_size} bytes its header announces"
        )));
    }
    Ok(format!(
        "SQLite database of {} pages of {page_size} bytes",
        total / page_size
    ))
}

pub fn prepare_target(target: &Path, force: bool) -> Result<(), SourceError> {
    if target.exists() && !force {
        return Err(SourceError::TargetRefused {
            target: target.display().to_string(),
            why: "the file exists. Restore to a new path, or pass --force to replace it (stop the application using it first)".into(),
        });
    }
    let parent = target.parent().unwrap_or(Path::new("/"));
    if !parent.is_dir() {
        return Err(SourceError::TargetRefused {
            target: target.display().to_string(),
            why: format!("its directory {} does not exist", parent.display()),
        });
    }
    Ok(())
}

pub fn restore(target: &Path, input: &mut dyn Read) -> Result<String, SourceError> {
    // What a restore killed here earlier left beside the target.
    super::sweep_leftovers(target);
    let temp = sibling_temp(target, "restore");
    let result = (|| {
        let file = File::create(&temp)
            .map_err(|e| SourceError::io(format!("cannot create {}", temp.display()), e))?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        copy_large(input, &mut w).map_err(|e| SourceError::io("restoring the database file", e))?;
        let file = w
            .into_inner()
            .map_err(|e| SourceError::io("writing the database file", e.into_error()))?;
        file.sync_all()
            .map_err(|e| SourceError::io("syncing the database file", e))?;
        drop(file);
        let check: String = Connection::open_with_flags(&temp, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .and_then(|c| c.query_row("PRAGMA integrity_check", [], |r| r.get(0)))
            .map_err(sqlite_err("cannot check the restored database".into()))?;
        if check != "ok" {
            return Err(SourceError::Format {
                format: "SQLite database",
                detail: format!("PRAGMA integrity_check says: {check}"),
            });
        }
        // A WAL or journal left from the replaced database would be applied to the
        // restored one: move them aside, and remove them only once the restored
        // file is in place (if the rename fails they go back, committed data and
        // all).
        let sidecars: Vec<(PathBuf, PathBuf)> = ["-wal", "-shm", "-journal"]
            .iter()
            .filter_map(|suffix| {
                let mut p = target.as_os_str().to_owned();
                p.push(suffix);
                let p = PathBuf::from(p);
                let aside = sibling_temp(&p, "replaced");
                std::fs::rename(&p, &aside).ok().map(|()| (p, aside))
            })
            .collect();
        if let Err(e) = std::fs::rename(&temp, target) {
            for (p, aside) in &sidecars {
                let _ = std::fs::rename(aside, p);
            }
            return Err(SourceError::io(
                format!("cannot move the restored file to {}", target.display()),
                e,
            ));
        }
        for (_, aside) in &sidecars {
            let _ = std::fs::remove_file(aside);
        }
        Ok("integrity_check ok; file replaced atomically".to_string())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// What a restored database holds: `PRAGMA integrity_check`'s answer and
/// every table with its exact row count (sizes where SQLite's `dbstat` is
/// compiled in).
pub fn inventory(path: &Path) -> Result<(String, Vec<TableCount>), SourceError> {
    let what = || format!("cannot read the restored database {}", path.display());
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(sqlite_err(what()))?;
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(sqlite_err(what()))?;
    let names: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name",
        )
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(sqlite_err(what()))?;
    let mut tables = Vec::with_capacity(names.len());
    for name in names {
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        let rows: i64 = conn
            .query_row(&format!("SELECT count(*) FROM {quoted}"), [], |r| r.get(0))
            .map_err(sqlite_err(what()))?;
        let bytes = conn
            .query_row(
                "SELECT SUM(pgsize) FROM dbstat WHERE name = ?1",
                [&name],
                |r| r.get::<_, Option<i64>>(0),
            )
            .ok()
            .flatten()
            .map(|b| b as u64);
        tables.push(TableCount {
            name,
            rows: rows as u64,
            bytes,
        });
    }
    Ok((integrity, tables))
}

/// The first value a query returns, as text; the database opened read-only.
pub fn scalar(path: &Path, sql: &str) -> Result<String, SourceError> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(sqlite_err(format!("cannot open {}", path.display())))?;
    let value: rusqlite::types::Value = conn
        .query_row(sql, [], |r| r.get(0))
        .map_err(|e| SourceError::Config(format!("the query failed: {e}")))?;
    use rusqlite::types::Value;
    Ok(match value {
        Value::Null => String::new(),
        Value::Integer(i) => i.to_string(),
        Value::Real(f) => f.to_string(),
        Value::Text(t) => t,
        Value::Blob(b) => format!("{} bytes", b.len()),
    })
}
