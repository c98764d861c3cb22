//! The real binary with local sources (SQLite, directories, commands) and local
//! destinations: round trips, encryption, damaged artifacts, listing a destination
//! without the metadata store, job files, `serve`, and user errors.

use crate::common::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::Path;
use std::time::{Duration, Instant};

#[test]
fn sqlite_snapshot_is_consistent_while_a_writer_commits() {
    let sauve = Sauve::new();
    let db_path = sauve.dest("app.db");
    let conn = rusqlite::Connection::open(&db_path).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         CREATE TABLE events (id INTEGER PRIMARY KEY, payload TEXT NOT NULL);
         CREATE TABLE counter (n INTEGER NOT NULL); INSERT INTO counter VALUES (0);",
    )
    .unwrap();
    drop(conn);

    // A writer inserts rows and bumps the counter in the same transaction: any
    // consistent snapshot has ids 1..=n with counter = n.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let committed = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(0));
    let writer = {
        let (path, stop, committed) = (db_path.clone(), stop.clone(), committed.clone());
        std::thread::spawn(move || {
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.busy_timeout(Duration::from_secs(10)).unwrap();
            let mut n = 0i64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                conn.execute_batch(&format!(
                    "BEGIN IMMEDIATE; INSERT INTO events VALUES ({n}, '{}'); UPDATE counter SET n = {n}; COMMIT;",
                    "p".repeat((n % 500) as usize)
                ))
                .unwrap();
                committed.store(n, std::sync::atomic::Ordering::Relaxed);
            }
            n
        })
    };
    // The backups start while the writer is busy, with rows already there.
    wait_until(
        Duration::from_secs(10),
        "the writer's first commits",
        || committed.load(std::sync::atomic::Ordering::Relaxed) >= 10,
    );
    let url = format!("sqlite://{}", db_path.display());
    let dest = sauve.dest("backups");
    sauve.create_job("app", &url, &[dest.to_str().unwrap()]);
    let first = sauve.backup("app");
    let second = sauve.backup("app");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let written = writer.join().unwrap();

    let mut seen = Vec::new();
    for id in [&first, &second] {
        sauve.run(&["verify", id]).ok();
        let target = sauve.dest(&format!("restored-{id}.db"));
        sauve
            .run(&["restore", id, "--to", target.to_str().unwrap()])
            .ok();
        let c = rusqlite::Connection::open(&target).unwrap();
        let check: String = c
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        let (count, max, counter): (i64, i64, i64) = c
            .query_row(
                "SELECT (SELECT count(*) FROM events), (SELECT coalesce(max(id), 0) FROM events), (SELECT n FROM counter)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!((count, max), (counter, counter), "a consistent prefix");
        assert!(counter > 0 && counter <= written);
        seen.push(counter);
    }
    assert!(
        seen[1] >= seen[0],
        "the second snapshot is not older than the first"
    );
    // Nothing staged is left behind.
    let staging = sauve.data_dir().join("staging");
    assert_eq!(
        std::fs::read_dir(&staging).map(|d| d.count()).unwrap_or(0),
        0
    );

    // Restoring over an existing file needs --force, and replaces it whole.
    let target = sauve.dest(&format!("restored-{first}.db"));
    sauve
        .run(&["restore", &first, "--to", target.to_str().unwrap()])
        .fails(2, &["exists", "--force"]);
    sauve
        .run(&[
            "restore",
            &second,
            "--to",
            target.to_str().unwrap(),
            "--force",
        ])
        .ok();
    let c = rusqlite::Connection::open(&target).unwrap();
    let n: i64 = c
        .query_row("SELECT n FROM counter", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, seen[1]);
}

/// Type, mode, mtime, link target and content digest of every entry under `root`.
fn describe_tree(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(root).sort_by_file_name().min_depth(1) {
        let entry = entry.unwrap();
        let rel = entry
            .path()
            .strip_prefix(root)
            .unwrap()
            .display()
            .to_string();
        let meta = entry.path().symlink_metadata().unwrap();
        let what = if meta.file_type().is_symlink() {
            format!(
                "link -> {}",
                std::fs::read_link(entry.path()).unwrap().display()
            )
        } else if meta.is_dir() {
            format!("dir {:o} {}", meta.mode() & 0o7777, meta.mtime())
        } else {
            use sha2::Digest;
            let mut h = sha2::Sha256::new();
            h.update(std::fs::read(entry.path()).unwrap());
            format!(
                "file {:o} {} {} {}",
                meta.mode() & 0o7777,
                meta.mtime(),
                meta.len(),
                hex::encode(h.finalize())
            )
        };
        out.push(format!("{rel}: {what}"));
    }
    out
}

fn make_tree(root: &Path, big_mib: usize) {
    std::fs::create_dir_all(root.join("docs/deep/er")).unwrap();
    std::fs::create_dir_all(root.join("empty")).unwrap();
    std::fs::create_dir_all(root.join("cache/tmp")).unwrap();
    std::fs::write(root.join("docs/readme.txt"), "hello\n".repeat(1000)).unwrap();
    std::fs::write(root.join("docs/deep/er/ünïcødé name.txt"), "x").unwrap();
    std::fs::write(root.join("cache/tmp/junk.bin"), vec![1u8; 4096]).unwrap();
    std::fs::write(root.join("notes.tmp"), "excluded").unwrap();
    std::fs::write(root.join("run.sh"), "#!/bin/sh\necho hi\n").unwrap();
    std::fs::set_permissions(root.join("run.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(root.join("secret.key"), "k").unwrap();
    std::fs::set_permissions(
        root.join("secret.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    std::fs::set_permissions(
        root.join("docs/deep"),
        std::fs::Permissions::from_mode(0o750),
    )
    .unwrap();
    symlink("docs/readme.txt", root.join("readme-link")).unwrap();
    symlink("/nonexistent/target", root.join("dangling-link")).unwrap();
    // A large incompressible file, generated fast (xorshift), streamed in pieces.
    let mut f = std::io::BufWriter::new(std::fs::File::create(root.join("big.bin")).unwrap());
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut block = vec![0u8; 1 << 20];
    for _ in 0..big_mib {
        for chunk in block.chunks_exact_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes());
        }
        std::io::Write::write_all(&mut f, &block).unwrap();
    }
    drop(f);
    // Fixed mtimes, so the comparison checks they are restored, not just "recent".
    let t = filetime_of(1_600_000_000);
    for entry in walkdir::WalkDir::new(root).contents_first(true) {
        let entry = entry.unwrap();
        if !entry.path_is_symlink() {
            let f = std::fs::File::options()
                .read(true)
                .open(entry.path())
                .unwrap();
            f.set_times(std::fs::FileTimes::new().set_modified(t))
                .unwrap();
        }
    }
}

fn filetime_of(secs: u64) -> std::time::SystemTime {
    std::time::UNIX_EPOCH + Duration::from_secs(secs)
}

#[test]
fn files_round_trip_keeps_modes_mtimes_links_and_excludes() {
    let sauve = Sauve::new();
    let root = sauve.dest("tree");
    make_tree(&root, 200);
    let dest = sauve.dest("backups");
    let url = format!("files://{}?exclude=*.tmp,cache", root.display());
    sauve.create_job("files", &url, &[dest.to_str().unwrap()]);
    let id = sauve.backup("files");
    let verified = sauve.run(&["verify", &id, "--json"]).ok().json();
    assert!(verified["format"].as_str().unwrap().contains("tar archive"));

    let target = sauve.dest("restored");
    sauve
        .run(&["restore", &id, "--to", target.to_str().unwrap()])
        .ok();
    let want: Vec<_> = describe_tree(&root)
        .into_iter()
        .filter(|l| !l.starts_with("notes.tmp") && !l.starts_with("cache"))
        .collect();
    assert!(
        want.iter().any(|l| l.starts_with("big.bin: file 644")),
        "{want:?}"
    );
    assert!(want.iter().any(|l| l.starts_with("empty: dir")));
    assert_eq!(describe_tree(&target), want);

    // The artifact is a standard tar.zst.
    let artifact = sauve.artifact_path(&id);
    let listing = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "zstd -dc '{}' | tar -tvf - readme-link",
            artifact.display()
        ))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&listing.stdout).contains("readme-link -> docs/readme.txt"));

    // A non-empty directory is refused.
    sauve
        .run(&["restore", &id, "--to", target.to_str().unwrap()])
        .fails(2, &["not empty"]);
    // With --force its content is replaced by the backup's, in one swap: a
    // file the backup does not have is gone, no temporary tree is left beside.
    std::fs::write(target.join("stray.txt"), "not in the backup").unwrap();
    std::fs::remove_file(target.join("docs/readme.txt")).unwrap();
    sauve
        .run(&["restore", &id, "--to", target.to_str().unwrap(), "--force"])
        .ok();
    assert!(!target.join("stray.txt").exists());
    assert_eq!(describe_tree(&target), want, "exactly the backup, again");
    let leftovers: Vec<_> = std::fs::read_dir(target.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".sauve-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn encrypted_backups_round_trip_and_refuse_wrong_keys() {
    let mut sauve = Sauve::new();
    let root = sauve.dest("tree");
    make_tree(&root, 1);
    let dest = sauve.dest("backups");
    let url = format!("files://{}", root.display());
    sauve
        .run(&[
            "job",
            "create",
            "enc",
            "--source",
            &url,
            "--dest",
            dest.to_str().unwrap(),
            "--encrypt-passphrase-env",
            "BACKUP_PASSPHRASE",
        ])
        .ok();
    sauve
        .run(&["backup", "run", "enc"])
        .fails(2, &["BACKUP_PASSPHRASE", "not set"]);
    sauve.env.push((
        "BACKUP_PASSPHRASE".into(),
        "correct horse battery staple".into(),
    ));
    let id = sauve.backup("enc");
    let artifact = sauve.artifact_path(&id);
    assert!(artifact.to_str().unwrap().ends_with(".tar.zst.age"));
    let head = std::fs::read(&artifact).unwrap();
    assert!(head.starts_with(b"age-encryption.org/v1"));
    sauve.run(&["verify", &id]).ok();
    let target = sauve.dest("restored");
    sauve
        .run(&["restore", &id, "--to", target.to_str().unwrap()])
        .ok();
    assert_eq!(describe_tree(&target), describe_tree(&root));

    sauve.env.pop();
    sauve.env.push(("BACKUP_PASSPHRASE".into(), "wrong".into()));
    sauve.run(&["verify", &id]).fails(2, &["wrong passphrase"]);
    let target2 = sauve.dest("never");
    sauve
        .run(&["restore", &id, "--to", target2.to_str().unwrap()])
        .fails(2, &["wrong passphrase"]);
    assert!(!target2.exists());

    // age recipients: encrypt to a public key, decrypt with the identity file.
    let identity = age::x25519::Identity::generate();
    let key_file = sauve.dest("key.txt");
    use age::secrecy::ExposeSecret;
    std::fs::write(
        &key_file,
        format!("{}\n", identity.to_string().expose_secret()),
    )
    .unwrap();
    let public = identity.to_public().to_string();
    sauve
        .run(&[
            "job",
            "create",
            "rcpt",
            "--source",
            &url,
            "--dest",
            dest.to_str().unwrap(),
            "--encrypt-recipient",
            &public,
        ])
        .ok();
    let id = sauve.backup("rcpt");
    sauve.run(&["verify", &id]).fails(2, &["--identity"]);
    sauve
        .run(&["verify", &id, "--identity", key_file.to_str().unwrap()])
        .ok();
    let target3 = sauve.dest("restored3");
    sauve
        .run(&[
            "restore",
            &id,
            "--to",
            target3.to_str().unwrap(),
            "--identity",
            key_file.to_str().unwrap(),
        ])
        .ok();
    assert_eq!(describe_tree(&target3), describe_tree(&root));
    // The standard tool opens it too.
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "age -d -i '{}' '{}' | zstd -dc | tar -tf - | sort | head -3",
            key_file.display(),
            sauve.artifact_path(&id).display()
        ))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("big.bin"),
        "{out:?}"
    );
}

#[test]
fn damaged_artifact_fails_verify_and_restore_leaves_target_untouched() {
    let sauve = Sauve::new();
    let root = sauve.dest("tree");
    make_tree(&root, 2);
    let dest = sauve.dest("backups");
    sauve.create_job(
        "f",
        &format!("files://{}", root.display()),
        &[dest.to_str().unwrap()],
    );
    let id = sauve.backup("f");
    flip_byte(&sauve.artifact_path(&id));
    sauve
        .run(&["verify", &id])
        .fails(1, &["corrupted", "sha256"]);
    let target = sauve.dest("existing-empty");
    std::fs::create_dir(&target).unwrap();
    sauve
        .run(&["restore", &id, "--to", target.to_str().unwrap()])
        .fails(1, &["corrupted"]);
    assert_eq!(
        std::fs::read_dir(&target).unwrap().count(),
        0,
        "target untouched"
    );
    let leftovers: Vec<_> = std::fs::read_dir(sauve.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("sauve-restore"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "no temp restore dirs left: {leftovers:?}"
    );
    // Download refuses to produce a damaged file.
    let out = sauve.dest("download.tar.zst");
    sauve
        .run(&["backup", "download", &id, "-o", out.to_str().unwrap()])
        .fails(1, &["corrupted"]);
    assert!(!out.exists());
}

#[test]
fn destinations_are_listed_from_manifests_alone() {
    let sauve = Sauve::new();
    let root = sauve.dest("tree");
    make_tree(&root, 1);
    let dest_a = sauve.dest("a");
    let dest_b = sauve.dest("b");
    sauve.create_job(
        "two",
        &format!("files://{}", root.display()),
        &[
            dest_a.to_str().unwrap(),
            &format!("file://{}", dest_b.display()),
        ],
    );
    let report = sauve.run(&["backup", "run", "two", "--json"]).ok().json();
    assert_eq!(
        report["backups"].as_array().unwrap().len(),
        2,
        "one backup per destination, one read"
    );
    let a_id = report["backups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["destination"].as_str().unwrap().ends_with("/a"))
        .unwrap()["id"]
        .clone();
    let from_store = sauve.run(&["backup", "list", "--json"]).ok().json();

    // Download the artifact, as stored, and check it against the listing.
    let file = sauve.dest("dl.tar.zst");
    sauve
        .run(&[
            "backup",
            "download",
            a_id.as_str().unwrap(),
            "-o",
            file.to_str().unwrap(),
        ])
        .ok();
    use sha2::Digest;
    let digest = hex::encode(sha2::Sha256::digest(std::fs::read(&file).unwrap()));
    let listed = from_store
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["id"] == a_id)
        .unwrap();
    assert_eq!(digest, listed["sha256"].as_str().unwrap());

    // Lose the metadata store entirely.
    std::fs::remove_dir_all(sauve.data_dir()).unwrap();
    let alone = sauve
        .run(&[
            "backup",
            "list",
            "--dest",
            &format!("file://{}", dest_a.display()),
            "--json",
        ])
        .ok()
        .json();
    assert!(
        !sauve.data_dir().join("sauve.db").exists(),
        "listing a destination must not create a store"
    );
    let alone = alone.as_array().unwrap();
    assert_eq!(alone.len(), 1);
    assert_eq!(
        &alone[0], listed,
        "the manifest alone gives the same record"
    );
    for field in [
        "id",
        "job",
        "created_at",
        "size",
        "sha256",
        "destination",
        "key",
    ] {
        assert!(!alone[0][field].is_null(), "{field}");
    }

    // Verify, download and restore from the destination alone, by id and by job.
    let from = format!("file://{}", dest_a.display());
    let id = a_id.as_str().unwrap();
    sauve.run(&["verify", &id[..12], "--from", &from]).ok();
    let file2 = sauve.dest("dl2.tar.zst");
    sauve
        .run(&[
            "backup",
            "download",
            id,
            "--from",
            &from,
            "-o",
            file2.to_str().unwrap(),
        ])
        .ok();
    assert_eq!(
        std::fs::read(&file2).unwrap(),
        std::fs::read(&file).unwrap()
    );
    let target = sauve.dest("restored-from-storage");
    sauve.restore_latest(&from, "two", target.to_str().unwrap());
    assert_eq!(describe_tree(&target), describe_tree(&root));
    sauve
        .run(&[
            "restore", "--from", &from, "--latest", "--job", "nope", "--to", "/tmp/x",
        ])
        .fails(2, &["no backup matches"]);
    sauve
        .run(&["restore", "--latest", "--to", "/tmp/x"])
        .fails(2, &["--from"]);
}

#[test]
fn command_sources_and_job_files() {
    let sauve = Sauve::new();
    let dest = sauve.dest("backups");
    let out_file = sauve.dest("restored-output.txt");
    let file = sauve.dest("jobs.toml");
    std::fs::write(
        &file,
        format!(
            r#"
[[job]]
name = "cmd"
destinations = ["{dest}"]
compression_level = 9
[job.source]
kind = "command"
command = ["sh", "-c", "seq 1 100000"]
restore_command = ["sh", "-c", "cat > \"$SAUVE_RESTORE_TARGET\""]
extension = "txt"

[[job]]
name = "docs"
source = "files:///usr/share/doc/zstd"
destinations = ["{dest}"]
"#,
            dest = dest.display()
        ),
    )
    .unwrap();
    let applied = sauve
        .run(&["job", "apply", file.to_str().unwrap()])
        .ok()
        .stdout();
    assert!(applied.contains("created job cmd") && applied.contains("created job docs"));
    let again = sauve
        .run(&["job", "apply", file.to_str().unwrap()])
        .ok()
        .stdout();
    assert!(again.contains("updated job cmd"));

    // export → apply is a fixed point.
    let exported = sauve.run(&["job", "export"]).ok().stdout();
    std::fs::write(&file, &exported).unwrap();
    sauve.run(&["job", "apply", file.to_str().unwrap()]).ok();
    assert_eq!(sauve.run(&["job", "export"]).ok().stdout(), exported);

    let id = sauve.backup("cmd");
    sauve.run(&["verify", &id]).ok();
    sauve
        .run(&["restore", &id, "--to", out_file.to_str().unwrap()])
        .ok();
    let restored = std::fs::read_to_string(&out_file).unwrap();
    assert_eq!(restored.lines().count(), 100000);
    assert_eq!(restored.lines().last(), Some("100000"));

    // One bad job in a file changes nothing, and the error names the field.
    std::fs::write(
        &file,
        format!("[[job]]\nname = \"ok\"\nsource = \"files:///tmp\"\ndestinations = [\"{}\"]\n\n[[job]]\nname = \"Bad\"\nsource = \"ftp://x\"\ndestinations = []\n", dest.display()),
    )
    .unwrap();
    sauve
        .run(&["job", "apply", file.to_str().unwrap()])
        .fails(2, &["job[1].name", "job[1].source", "job[1].destinations"]);
    assert!(!sauve.run(&["job", "list"]).ok().stdout().contains("ok "));
    std::fs::write(&file, "[[job]]\nname = \"x\"\nsoruce = \"files:///tmp\"\n").unwrap();
    sauve
        .run(&["job", "apply", file.to_str().unwrap()])
        .fails(2, &["soruce"]);

    // A failing command fails the run, with its stderr in the error.
    std::fs::write(
        &file,
        format!("[[job]]\nname = \"boom\"\ndestinations = [\"{}\"]\n[job.source]\nkind = \"command\"\ncommand = [\"sh\", \"-c\", \"echo partial; echo disk on fire >&2; exit 3\"]\n", dest.display()),
    )
    .unwrap();
    sauve.run(&["job", "apply", file.to_str().unwrap()]).ok();
    sauve
        .run(&["backup", "run", "boom"])
        .fails(1, &["exit status 3", "disk on fire"]);
    let listed = sauve
        .run(&["backup", "list", "--job", "boom", "--json"])
        .ok()
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 0);
    // Nothing that looks like a backup was left in storage.
    let files: Vec<_> = walkdir::WalkDir::new(&dest)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file() && e.path().to_string_lossy().contains("boom"))
        .map(|e| e.path().display().to_string())
        .collect();
    assert!(
        files.is_empty(),
        "a failed run leaves no artifact or manifest: {files:?}"
    );
    let staged = std::fs::read_dir(dest.join(".sauve-tmp"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(staged, 0, "nor a partial write");
}

#[test]
fn user_errors_are_clear_and_not_panics() {
    let sauve = Sauve::new();
    sauve
        .run(&["backup", "run", "nope"])
        .fails(2, &["no job matches \"nope\""]);
    sauve
        .run(&["verify", "zzzz"])
        .fails(2, &["no backup matches"]);
    sauve
        .run(&[
            "job",
            "create",
            "Bad Name",
            "--source",
            "sqlite:///x.db",
            "--dest",
            "/tmp/x",
        ])
        .fails(2, &["name:", "not a valid job name"]);
    sauve
        .run(&[
            "job",
            "create",
            "a",
            "--source",
            "sqlite:///x.db",
            "--dest",
            "/tmp/x",
            "--compression-level",
            "42",
        ])
        .fails(2, &["compression_level"]);
    sauve.create_job("a", "sqlite:///x.db", &["/tmp/x"]);
    sauve
        .run(&[
            "job",
            "create",
            "a",
            "--source",
            "sqlite:///x.db",
            "--dest",
            "/tmp/x",
        ])
        .fails(2, &["already exists"]);
    sauve
        .run(&["backup", "run", "a"])
        .fails(1, &["cannot open the SQLite database /x.db"]);

    // A destination that cannot be written: a path below a regular file.
    let blocker = sauve.dest("a-file");
    std::fs::write(&blocker, "x").unwrap();
    let db = sauve.dest("s.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("CREATE TABLE t (x)")
        .unwrap();
    sauve.create_job(
        "blocked",
        &format!("sqlite://{}", db.display()),
        &[&format!("{}/sub", blocker.display())],
    );
    sauve
        .run(&["backup", "run", "blocked"])
        .fails(1, &["no destination could store the backup", "a-file/sub"]);
}

#[test]
fn schedule_next_shows_dst_aware_fire_times() {
    let sauve = Sauve::new();
    let out = sauve
        .run(&[
            "schedule",
            "next",
            "daily at 02:30",
            "--tz",
            "Europe/Paris",
            "--from",
            "2026-03-27T12:00:00Z",
            "--count",
            "3",
        ])
        .ok()
        .stdout();
    assert_eq!(
        out,
        "every day at 02:30 (Europe/Paris)\n  2026-03-28T02:30:00+01:00\n  2026-03-29T03:00:00+02:00\n  2026-03-30T02:30:00+02:00\n"
    );
    let v = sauve
        .run(&[
            "schedule",
            "next",
            "every 6h",
            "--json",
            "--from",
            "2026-11-24T05:00:00Z",
            "--count",
            "2",
        ])
        .ok()
        .json();
    assert_eq!(
        v["next"],
        serde_json::json!(["2026-11-24T06:00:00+00:00", "2026-11-24T12:00:00+00:00"])
    );
    sauve
        .run(&["schedule", "next", "weekly on mon,thx at 02:00"])
        .fails(2, &["schedule:", "\"thx\" is not a weekday"]);
    sauve
        .run(&["schedule", "next", "daily at 02:00", "--tz", "Mars/Olympus"])
        .fails(2, &["timezone:", "Mars/Olympus"]);
    assert!(
        !sauve.data_dir().exists(),
        "checking a schedule touches no store"
    );

    // Jobs take a schedule, validated the same way, and show their next run.
    let create = |extra: &[&str]| {
        let mut args = vec![
            "job",
            "create",
            "s",
            "--source",
            "sqlite:///x.db",
            "--dest",
            "/tmp/x",
        ];
        args.extend_from_slice(extra);
        sauve.run(&args)
    };
    create(&["--schedule", "weekly on mon,thx at 02:00"])
        .fails(2, &["schedule:", "\"thx\" is not a weekday"]);
    create(&["--schedule", "daily at 02:00", "--tz", "Nowhere/City"])
        .fails(2, &["timezone:", "Nowhere/City"]);
    let created = create(&["--schedule", "daily at 02:00", "--tz", "Europe/Paris"])
        .ok()
        .stdout();
    assert!(
        created.contains("runs every day at 02:00 (Europe/Paris); next: "),
        "{created}"
    );
    let list = sauve.run(&["job", "list"]).ok().stdout();
    assert!(
        list.contains("daily at 02:00 (Europe/Paris)") && list.contains(" 02:00:00 +0"),
        "{list}"
    );
    sauve
        .run(&["job", "set-schedule", "s", "every 2x"])
        .fails(2, &["\"2x\" is not an interval"]);
    let changed = sauve
        .run(&["job", "set-schedule", "s", "every 6h"])
        .ok()
        .stdout();
    assert!(changed.contains("runs every 6 hours"), "{changed}");
    let cleared = sauve
        .run(&["job", "set-schedule", "s", "--clear"])
        .ok()
        .stdout();
    assert!(cleared.contains("runs only on demand"), "{cleared}");
    assert!(
        sauve
            .run(&["job", "list"])
            .ok()
            .stdout()
            .contains("on demand")
    );
}

/// `--keep-runs` shorter than a day would delete the history the page and
/// the alerting read: refused before anything starts, with the fix in words.
#[test]
fn serve_refuses_a_keep_runs_window_under_a_day() {
    let sauve = Sauve::new();
    // Too short, not a window, negative, and a count so large that it would
    // wrap around to one day if multiplied unchecked.
    for bad in ["1h", "23h", "soon", "-1d", "36601d", "144115188075855873d"] {
        let flag = format!("--keep-runs={bad}");
        let run = sauve.run(&["serve", "--listen", "127.0.0.1:0", &flag]);
        assert_eq!(run.code(), 2, "--keep-runs {bad}: {}", run.stderr());
        assert!(run.stderr().contains("--keep-runs"), "{}", run.stderr());
    }
    let run = sauve.run(&["serve", "--listen", "127.0.0.1:0", "--keep-runs", "1h"]);
    assert!(
        run.stderr().contains("keep at least 1d"),
        "{}",
        run.stderr()
    );
    let run = sauve.run(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--keep-runs",
        "144115188075855873d",
    ]);
    assert!(run.stderr().contains("hundred years"), "{}", run.stderr());
}

#[test]
fn serve_answers_health_checks() {
    let sauve = Sauve::new();
    let mut server = sauve.spawn_server(ServerOpts::new());
    // A first start with no user says how to create one (never a default password).
    let mut banner = String::new();
    while !banner.contains("user add") && banner.lines().count() < 10 {
        banner.push_str(&server.read_line());
        banner.push('\n');
    }
    assert!(
        banner.contains("no user yet") && banner.contains("user add"),
        "{banner}"
    );
    let addr = server.addr.clone();
    let get = |path: &str| -> String {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    };
    let health = get("/healthz");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.contains("\"status\":\"ok\""));
    assert!(get("/readyz").starts_with("HTTP/1.1 200"));
    assert!(get("/nope").starts_with("HTTP/1.1 404"));
    // SIGTERM stops it cleanly.
    let started = Instant::now();
    let status = server.terminate();
    assert!(status.success(), "{status:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_relative_destination_is_taken_from_the_working_directory() {
    let sauve = Sauve::new();
    let here = sauve.dest("work");
    std::fs::create_dir_all(&here).unwrap();
    let out = sauve
        .command()
        .current_dir(&here)
        .args([
            "job",
            "create",
            "rel",
            "--source",
            "files:///usr/share/doc/zstd",
        ])
        .args(["--dest", "./backups"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = sauve.run(&["job", "show", "rel", "--json"]).ok().json();
    let expected = here.join("backups");
    assert_eq!(
        shown["destinations"][0],
        expected.to_str().unwrap(),
        "stored absolute: {shown}"
    );
    sauve.backup("rel");
    assert!(here.join("backups/rel").is_dir());
}
