//! A directory tree as a tar stream (modes, mtimes, owners and symlinks kept;
//! symlinks are stored as links, never followed), with `exclude` globs matched
//! against paths relative to the root. Restore unpacks into a temp directory
//! beside the target and renames it into place, so a failed restore leaves no
//! half-filled target.

use super::super::process::{SourceError, copy_large};
use super::sibling_temp;
use crate::domain::proof::{FileSample, FilesCount};
use crate::storage::manifest::SourceInfo;
use globset::{Glob, GlobSet, GlobSetBuilder};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

pub fn preflight(root: &Path) -> Result<SourceInfo, SourceError> {
    match std::fs::metadata(root) {
        Ok(m) if m.is_dir() => Ok(SourceInfo {
            kind: "files".into(),
            name: root.display().to_string(),
            server_version: None,
            tool: Some("tar (ustar/GNU) written by Sauve".into()),
        }),
        Ok(_) => Err(SourceError::Config(format!(
            "{} is not a directory; a files source names a directory",
            root.display()
        ))),
        Err(e) => Err(SourceError::io(
            format!("cannot read the directory {}", root.display()),
            e,
        )),
    }
}

fn globs(exclude: &[String]) -> Result<GlobSet, SourceError> {
    let mut b = GlobSetBuilder::new();
    for g in exclude {
        b.add(Glob::new(g).map_err(|e| SourceError::Config(format!("exclude glob {g:?}: {e}")))?);
    }
    b.build()
        .map_err(|e| SourceError::Config(format!("exclude globs: {e}")))
}

/// Which of `dirs` lie inside `root`, relative to it: what the archive leaves
/// out (a destination inside its own source, Sauve's data directory).
fn inside(root: &Path, dirs: &[PathBuf]) -> Vec<PathBuf> {
    let Ok(real) = root.canonicalize() else {
        return vec![];
    };
    dirs.iter()
        .filter_map(|d| d.canonicalize().ok())
        .filter_map(|d| d.strip_prefix(&real).ok().map(Path::to_path_buf))
        .filter(|rel| !rel.as_os_str().is_empty())
        .collect()
}

/// Archives `root`. `leave_out` are directories never archived, wherever
/// they are (the job's own destinations, Sauve's data). Unreadable entries
/// are skipped and counted in the log, not a failed run.
pub fn dump(
    root: &Path,
    exclude: &[String],
    leave_out: &[PathBuf],
    out: &mut dyn Write,
) -> Result<String, SourceError> {
    let excluded = globs(exclude)?;
    let left_out = inside(root, leave_out);
    let mut log = Vec::new();
    let mut unreadable = 0u64;
    let mut builder = tar::Builder::new(out);
    builder.follow_symlinks(false);
    builder.mode(tar::HeaderMode::Complete);
    let mut walker = walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .min_depth(1)
        .into_iter();
    let (mut files, mut skipped) = (0u64, 0u64);
    while let Some(entry) = walker.next() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                // A file deleted while we walk is normal on a live system.
                if e.io_error()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::NotFound)
                {
                    log.push(format!("vanished during the backup: {e}"));
                    continue;
                }
                if e.io_error()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::PermissionDenied)
                {
                    unreadable += 1;
                    log.push(format!("skipped, not readable by Sauve: {e}"));
                    continue;
                }
                return Err(SourceError::Config(format!(
                    "cannot read {}: {e}",
                    root.display()
                )));
            }
        };
        let rel = entry
            .path()
            .strip_prefix(root)
            .expect("walkdir stays under the root");
        if left_out.iter().any(|d| d == rel) {
            walker.skip_current_dir();
            log.push(format!(
                "left out {}: a destination of this job or Sauve's own data",
                rel.display()
            ));
            continue;
        }
        if excluded.is_match(rel) {
            if entry.file_type().is_dir() {
                walker.skip_current_dir();
            }
            skipped += 1;
            continue;
        }
        let ft = entry.file_type();
        if !(ft.is_file() || ft.is_dir() || ft.is_symlink()) {
            log.push(format!(
                "skipped special file (socket, fifo or device): {}",
                rel.display()
            ));
            continue;
        }
        match append(&mut builder, entry.path(), rel, ft.is_file()) {
            Ok(()) => files += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                log.push(format!("vanished during the backup: {}", rel.display()));
            }
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                unreadable += 1;
                log.push(format!("skipped, not readable by Sauve: {}", rel.display()));
            }
            Err(e) => {
                return Err(SourceError::io(
                    format!("adding {} to the archive", entry.path().display()),
                    e,
                ));
            }
        }
    }
    builder
        .finish()
        .map_err(|e| SourceError::io("finishing the archive", e))?;
    log.push(format!(
        "{files} entries archived, {skipped} excluded{}",
        if unreadable > 0 {
            format!(", {unreadable} unreadable skipped (warning: they are not in this backup)")
        } else {
            String::new()
        }
    ));
    Ok(log.join("\n"))
}

/// Adds one entry. Regular files go through a 1 MiB `BufReader`, so `io::copy`
/// hands zstd large writes instead of the 8 KiB pieces `append_path` uses
/// (measurably faster on big trees); the rest keeps the tar crate's own handling.
fn append(
    builder: &mut tar::Builder<&mut dyn Write>,
    path: &Path,
    rel: &Path,
    is_file: bool,
) -> std::io::Result<()> {
    if !is_file {
        return builder.append_path_with_name(path, rel);
    }
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    let mut header = tar::Header::new_gnu();
    header.set_metadata_in_mode(&meta, tar::HeaderMode::Complete);
    // The size read now is the size archived: a file growing meanwhile is cut
    // at that size rather than corrupting the archive.
    let reader = std::io::BufReader::with_capacity(1 << 20, file.take(meta.len()));
    builder.append_data(&mut header, rel, reader)
}

/// Reads every entry header and body: a truncated or damaged archive fails here.
pub fn check_format(input: &mut dyn Read) -> Result<String, SourceError> {
    let bad = |detail: String| SourceError::Format {
        format: "tar archive",
        detail,
    };
    let mut archive = tar::Archive::new(input);
    let mut entries = 0u64;
    for entry in archive.entries().map_err(|e| bad(e.to_string()))? {
        let mut entry = entry.map_err(|e| bad(e.to_string()))?;
        copy_large(&mut entry, &mut std::io::sink()).map_err(|e| bad(e.to_string()))?;
        entries += 1;
    }
    Ok(format!("tar archive of {entries} entries read completely"))
}

fn is_empty_dir(p: &Path) -> std::io::Result<bool> {
    Ok(std::fs::read_dir(p)?.next().is_none())
}

pub fn prepare_target(target: &Path, force: bool) -> Result<(), SourceError> {
    let refuse = |why: String| SourceError::TargetRefused {
        target: target.display().to_string(),
        why,
    };
    match std::fs::symlink_metadata(target) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let parent = target.parent().unwrap_or(Path::new("/"));
            if !parent.is_dir() {
                return Err(refuse(format!(
                    "its parent {} does not exist",
                    parent.display()
                )));
            }
            Ok(())
        }
        Err(e) => Err(SourceError::io(
            format!("cannot inspect {}", target.display()),
            e,
        )),
        Ok(m) if !m.is_dir() => Err(refuse("it exists and is not a directory".into())),
        Ok(_) => {
            let empty = is_empty_dir(target)
                .map_err(|e| SourceError::io(format!("cannot read {}", target.display()), e))?;
            if !empty && !force {
                return Err(refuse(
                    "the directory is not empty. Restore into a new or empty directory, or pass --force to replace its content with the backup's".into(),
                ));
            }
            Ok(())
        }
    }
}

/// Unpacks like `tar::Archive::unpack`, and also restores directory mtimes, which
/// the tar crate leaves at "now": directories are applied last, deepest first, so
/// creating their children does not bump their times again.
fn unpack(input: &mut dyn Read, dir: &Path) -> Result<(), SourceError> {
    let err = |e: std::io::Error| SourceError::io(format!("unpacking into {}", dir.display()), e);
    let mut archive = tar::Archive::new(input);
    archive.set_preserve_permissions(true);
    archive.set_preserve_mtime(true);
    archive.set_overwrite(true);
    let mut directories = Vec::new();
    for entry in archive.entries().map_err(err)? {
        let mut entry = entry.map_err(err)?;
        if entry.header().entry_type() == tar::EntryType::Directory {
            directories.push(entry);
        } else {
            entry.unpack_in(dir).map_err(err)?;
        }
    }
    directories.sort_by(|a, b| b.path_bytes().cmp(&a.path_bytes()));
    for mut d in directories {
        let mtime = d.header().mtime().ok();
        let rel = d.path().map_err(err)?.into_owned();
        d.unpack_in(dir).map_err(err)?;
        if let Some(secs) = mtime {
            let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
            std::fs::File::open(dir.join(&rel))
                .and_then(|f| {
                    f.set_times(std::fs::FileTimes::new().set_modified(t).set_accessed(t))
                })
                .map_err(err)?;
        }
    }
    Ok(())
}

/// Swaps two paths atomically (`renameat2(RENAME_EXCHANGE)`).
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        std::ffi::CString::new(p.as_os_str().as_bytes())
            .map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))
    };
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: both pointers are NUL-terminated paths that live across the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Unpacks into a temporary directory beside the target, then renames it into
/// place: whenever the process stops (a cancel, a crash, kill -9), the target
/// is either as it was or complete, never half-written. With `force` over a
/// non-empty directory, the restored tree is swapped in atomically and the old
/// one removed: the target then holds exactly the backup.
pub fn restore(target: &Path, force: bool, input: &mut dyn Read) -> Result<String, SourceError> {
    let io = |what: String| move |e| SourceError::io(what, e);
    let target_exists = target.exists();
    let replacing = target_exists
        && !is_empty_dir(target).map_err(io(format!("cannot read {}", target.display())))?;
    if replacing && !force {
        // prepare_target refused already; this is the last line of defence.
        return Err(SourceError::TargetRefused {
            target: target.display().to_string(),
            why: "the directory is not empty".into(),
        });
    }
    // What a restore killed here earlier left beside the target.
    super::sweep_leftovers(target);
    let temp = sibling_temp(target, "restore");
    std::fs::create_dir(&temp).map_err(io(format!("cannot create {}", temp.display())))?;
    let result = unpack(input, &temp).and_then(|()| {
        if replacing {
            // One atomic swap where the file system can (Linux renameat2): the
            // target is never absent; the old tree ends up at `temp`.
            match exchange(&temp, target) {
                Ok(()) => {
                    if let Err(e) = std::fs::remove_dir_all(&temp) {
                        tracing::warn!(path = %temp.display(), error = %e, "could not remove the replaced tree");
                    }
                    return Ok(());
                }
                Err(e) if e.raw_os_error() != Some(libc::EINVAL)
                    && e.raw_os_error() != Some(libc::ENOSYS) =>
                {
                    return Err(io(format!("cannot swap the restored tree into {}", target.display()))(e));
                }
                // Not supported here: two renames, the old tree kept aside between.
                Err(_) => {}
            }
            let old = sibling_temp(target, "replaced");
            std::fs::rename(target, &old)
                .map_err(io(format!("cannot move {} aside", target.display())))?;
            if let Err(e) = std::fs::rename(&temp, target) {
                // Put the old tree back rather than leave no target at all.
                let _ = std::fs::rename(&old, target);
                return Err(io(format!("cannot move the restored tree to {}", target.display()))(e));
            }
            if let Err(e) = std::fs::remove_dir_all(&old) {
                tracing::warn!(path = %old.display(), error = %e, "could not remove the replaced tree");
            }
            return Ok(());
        }
        // The target may exist only as an empty directory, which rename cannot replace.
        if target_exists {
            std::fs::remove_dir(target)
                .map_err(io(format!("cannot replace the empty {}", target.display())))?;
        }
        std::fs::rename(&temp, target)
            .map_err(io(format!("cannot move the restored tree to {}", target.display())))
    });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&temp);
    }
    let verb = if replacing {
        "replaced"
    } else {
        "unpacked into"
    };
    result.map(|()| format!("{verb} {}", target.display()))
}

/// What a restored tree holds: its regular files, their total size, and the
/// sha256 of a sample of `SAMPLE` files chosen by a hash of their path (so
/// the same files are sampled from one test restore to the next).
pub fn inventory(root: &Path) -> Result<FilesCount, SourceError> {
    const SAMPLE: usize = 5;
    let err =
        |p: &Path, e| SourceError::io(format!("reading the restored tree at {}", p.display()), e);
    let (mut files, mut bytes) = (0u64, 0u64);
    let mut picks: Vec<([u8; 32], PathBuf, u64)> = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).map_err(|e| err(&dir, e))? {
            let entry = entry.map_err(|e| err(&dir, e))?;
            let kind = entry.file_type().map_err(|e| err(&entry.path(), e))?;
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() {
                let size = entry.metadata().map_err(|e| err(&entry.path(), e))?.len();
                files += 1;
                bytes += size;
                let rel = entry
                    .path()
                    .strip_prefix(root)
                    .unwrap_or(&entry.path())
                    .to_path_buf();
                let key: [u8; 32] = Sha256::digest(rel.as_os_str().as_encoded_bytes()).into();
                picks.push((key, rel, size));
                picks.sort();
                picks.truncate(SAMPLE);
            }
        }
    }
    let sample = picks
        .into_iter()
        .map(|(_, rel, size)| {
            let path = root.join(&rel);
            let mut f = std::fs::File::open(&path).map_err(|e| err(&path, e))?;
            let mut h = Sha256::new();
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = f.read(&mut buf).map_err(|e| err(&path, e))?;
                if n == 0 {
                    break;
                }
                h.update(&buf[..n]);
            }
            Ok(FileSample {
                path: rel.display().to_string(),
                size,
                sha256: hex::encode(h.finalize()),
            })
        })
        .collect::<Result<Vec<_>, SourceError>>()?;
    Ok(FilesCount {
        files,
        bytes,
        sample,
    })
}
