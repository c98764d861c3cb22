//! Retention end to end, with the real binary: the prune after each backup,
//! policies per destination (local and S3) over two years of backups, the
//! trash and its undelete, a purge interrupted by a storage fault and then
//! finished, a job whose runs fail for a month keeping its last good
//! backups, `storage reconcile`, and the plan agreeing with `simulate`.
//! Backup times are moved through the store (the test plays the calendar);
//! everything else is what a user would do.

use crate::common::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// A small directory to back up; each call changes its content.
fn source_dir(sauve: &Sauve, version: usize) -> String {
    let dir = sauve.dest("src");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), format!("version {version}\n")).unwrap();
    format!("files://{}", dir.display())
}

/// A job `app` backing up a small directory to a local folder, created with
/// these extra `job create` flags; returns the folder.
fn app_job(flags: &[&str]) -> (Sauve, PathBuf) {
    let sauve = Sauve::new();
    let dest = sauve.dest("backups");
    let source = source_dir(&sauve, 0);
    let mut args = vec!["job", "create", "app", "--source", &source, "--dest"];
    args.push(dest.to_str().unwrap());
    args.extend(flags);
    sauve.run(&args).ok();
    (sauve, dest)
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap().to_string())
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Object files under a local destination, split into (manifests, artifacts).
fn objects(root: &Path) -> (usize, usize) {
    let (mut manifests, mut artifacts) = (0, 0);
    for e in walkdir::WalkDir::new(root) {
        let e = e.unwrap();
        let p = e.path().to_string_lossy().into_owned();
        if !e.file_type().is_file() || p.contains(".sauve-tmp") {
            continue;
        }
        if p.ends_with(".manifest.json") {
            manifests += 1;
        } else {
            artifacts += 1;
        }
    }
    (manifests, artifacts)
}

/// Sets the created time of every backup of `run_id` (all its destinations).
fn set_created(sauve: &Sauve, run_id: &str, at: jiff::Timestamp) {
    let db = rusqlite::Connection::open(sauve.data_dir().join("sauve.db")).unwrap();
    db.execute(
        "UPDATE backups SET created_at = ?1 WHERE run_id = ?2",
        rusqlite::params![at.as_millisecond(), run_id],
    )
    .unwrap();
}

fn sql_count(sauve: &Sauve, sql: &str) -> i64 {
    let db = rusqlite::Connection::open(sauve.data_dir().join("sauve.db")).unwrap();
    db.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn live(sauve: &Sauve, job: &str, dest: &str) -> Vec<String> {
    let v = sauve
        .run(&["backup", "list", "--job", job, "--json"])
        .ok()
        .json();
    v.as_array()
        .unwrap()
        .iter()
        .filter(|b| b["destination"] == dest)
        .map(|b| b["id"].as_str().unwrap().to_string())
        .collect()
}

fn write_jobs(sauve: &Sauve, toml: &str) {
    let file = sauve.dest("jobs.toml");
    std::fs::write(&file, toml).unwrap();
    sauve.run(&["job", "apply", file.to_str().unwrap()]).ok();
}

/// The issue's "done when": keep_last = 3 and trash_for = "0s", six runs →
/// three backups in the store, three manifests and three artifacts in
/// storage, three listed from storage alone; the plan and `simulate` agree.
#[test]
fn keep_last_3_and_no_grace_leave_exactly_three_backups_everywhere() {
    let (sauve, dest) = app_job(&["--keep-last", "3", "--trash-for", "0s"]);
    let d = dest.to_str().unwrap();
    let mut made = Vec::new();
    for i in 0..6 {
        source_dir(&sauve, i);
        let r = sauve.run(&["backup", "run", "app", "--json"]).ok().json();
        assert_eq!(r["prune"]["state"], "succeeded", "{r}");
        let b = &r["backups"][0];
        made.push(json!({ "id": b["id"], "time": b["created_at"] }));
    }
    let uri = format!("file://{d}");
    let kept = live(&sauve, "app", &uri);
    let newest: Vec<String> = made[3..]
        .iter()
        .rev()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kept, newest, "the three newest, in the store");
    assert_eq!(
        objects(&dest),
        (3, 3),
        "three manifests and three artifacts"
    );
    let from_storage = sauve
        .run(&["backup", "list", "--dest", d, "--json"])
        .ok()
        .json();
    assert_eq!(sorted(ids(&from_storage)), sorted(newest.clone()));

    // The plan on the real backups keeps the same three, for keep_last.
    let plan = sauve
        .run(&["retention", "plan", "app", "--json"])
        .ok()
        .json();
    assert_eq!(plan.as_array().unwrap().len(), 1);
    assert_eq!(ids(&plan[0]["keep"]), newest);
    assert_eq!(plan[0]["keep"][0]["reasons"][0], "keep_last");
    assert!(plan[0]["remove"].as_array().unwrap().is_empty());

    // simulate, on the six as they were made, removes the three the runs removed.
    let sim = simulate(&sauve, &["--keep-last", "3"], &json!(made));
    assert_eq!(ids(&sim["keep"]), newest);
    let removed: Vec<String> = made[..3]
        .iter()
        .rev()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids(&sim["remove"]), removed);

    // Each removal is in the audit log (trash, then purge) and in a run log.
    assert_eq!(
        sql_count(
            &sauve,
            "SELECT COUNT(*) FROM audit WHERE action = 'backup.trash' AND actor = 'system:retention'"
        ),
        3
    );
    assert_eq!(
        sql_count(
            &sauve,
            "SELECT COUNT(*) FROM audit WHERE action = 'backup.purge'"
        ),
        3
    );
    let runs = sauve
        .run(&["run", "list", "--job", "app", "--kind", "prune", "--json"])
        .ok()
        .json();
    assert_eq!(runs.as_array().unwrap().len(), 6, "one prune per backup");
    let logs: String = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["log"].as_str().unwrap().to_string())
        .collect();
    assert!(
        logs.contains("(keep_last)") && logs.contains("moved"),
        "{logs}"
    );
}

fn simulate(sauve: &Sauve, flags: &[&str], input: &Value) -> Value {
    use std::io::Write;
    let mut child = sauve
        .command()
        .args(["retention", "simulate"])
        .args(flags)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "simulate: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Sixty backups over two years at a local and an S3 destination, each with
/// its own policy: exactly the expected survivors, in the store and in
/// storage. The expected sets are computed here independently (the newest
/// of each month / year in the job's zone), not by Sauve.
#[test]
fn two_years_at_two_destinations_keep_what_each_policy_says() {
    let s3 = crate::objects::s3();
    let mut sauve = Sauve::new();
    s3.with_keys(&mut sauve);
    let local = sauve.dest("local");
    let local_uri = format!("file://{}", local.display());
    let s3_uri = s3.uri(&unique("rotation"));
    let source = source_dir(&sauve, 0);
    let job = |retention: &str| {
        format!(
            "[[job]]\nname = \"ledger\"\nsource = \"{source}\"\ntimezone = \"Europe/Paris\"\n\
             destinations = [{{ uri = \"{local_uri}\"{} }}, {{ uri = \"{s3_uri}\"{} }}]\n{}",
            if retention.is_empty() {
                ""
            } else {
                ", retention = { keep_last = 5 }"
            },
            if retention.is_empty() {
                ""
            } else {
                ", retention = { keep_monthly = 12, keep_yearly = 2 }"
            },
            retention
        )
    };
    write_jobs(&sauve, &job(""));
    let start: jiff::Timestamp = "2024-01-03T10:00:00Z".parse().unwrap();
    let mut times = Vec::new();
    for i in 0..60i64 {
        source_dir(&sauve, i as usize);
        let r = sauve
            .run(&["backup", "run", "ledger", "--json"])
            .ok()
            .json();
        assert_eq!(r["backups"].as_array().unwrap().len(), 2, "{r}");
        assert!(r["prune"].is_null(), "no policy yet, no prune: {r}");
        let at = start
            .checked_add(jiff::SignedDuration::from_hours(i * 12 * 24 + (i % 3)))
            .unwrap();
        set_created(&sauve, r["run_id"].as_str().unwrap(), at);
        let ids: Vec<(String, String)> = r["backups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                (
                    b["destination"].as_str().unwrap().to_string(),
                    b["id"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        times.push((at, ids));
    }
    write_jobs(&sauve, &job("[job.retention]\ntrash_for = \"0s\"\n"));
    // The destinations as the store records them (canonical URIs).
    let (local_uri, s3_uri) = {
        let d = |p: &str| {
            times[0]
                .1
                .iter()
                .find(|(d, _)| d.starts_with(p))
                .unwrap()
                .0
                .clone()
        };
        (d("file://"), d("s3://"))
    };
    let id_at = |dest: &str, i: usize| -> String {
        times[i]
            .1
            .iter()
            .find(|(d, _)| d == dest)
            .unwrap()
            .1
            .clone()
    };
    // Local: the five newest.
    let want_local: Vec<String> = (55..60).rev().map(|i| id_at(&local_uri, i)).collect();
    // S3: the newest of each of the 12 newest months, and of each of the 2
    // newest years, in Paris time.
    let paris = jiff::tz::TimeZone::get("Europe/Paris").unwrap();
    let newest_of = |key: fn(&jiff::ZonedDateTime) -> i32, n: usize| -> Vec<usize> {
        let mut seen = Vec::new();
        let mut picked = Vec::new();
        for i in (0..60).rev() {
            let k = key(&times[i].0.to_zoned_datetime(paris.clone()));
            if !seen.contains(&k) {
                seen.push(k);
                if picked.len() < n {
                    picked.push(i);
                }
            }
        }
        picked
    };
    let mut want: Vec<usize> = newest_of(|z| z.year() as i32 * 100 + z.month() as i32, 12);
    want.extend(newest_of(|z| z.year() as i32, 2));
    want.sort();
    want.dedup();
    let want_s3: Vec<String> = want.iter().rev().map(|&i| id_at(&s3_uri, i)).collect();
    assert!(want_s3.len() >= 12 && want_s3.len() <= 14, "{want:?}");

    let plan = sauve
        .run(&["retention", "plan", "ledger", "--json"])
        .ok()
        .json();
    let plan_of = |uri: &str| {
        plan.as_array()
            .unwrap()
            .iter()
            .find(|p| p["destination"] == uri)
            .unwrap()
            .clone()
    };
    assert_eq!(ids(&plan_of(&local_uri)["keep"]), want_local);
    assert_eq!(ids(&plan_of(&s3_uri)["keep"]), want_s3);
    assert_eq!(
        plan_of(&s3_uri)["remove"].as_array().unwrap().len(),
        60 - want_s3.len()
    );

    let applied = sauve
        .run(&["retention", "apply", "ledger", "--json"])
        .ok()
        .json();
    assert_eq!(applied["state"], "succeeded", "{applied}");
    assert_eq!(
        applied["report"]["purged"].as_array().unwrap().len(),
        55 + 60 - want_s3.len()
    );
    assert_eq!(live(&sauve, "ledger", &local_uri), want_local);
    assert_eq!(live(&sauve, "ledger", &s3_uri), want_s3);
    assert_eq!(objects(&local), (5, 5));
    let in_s3 = sauve
        .run(&["backup", "list", "--dest", &s3_uri, "--json"])
        .ok()
        .json();
    assert_eq!(sorted(ids(&in_s3)), sorted(want_s3.clone()));
    let reconciled = sauve
        .run(&["storage", "reconcile", &s3_uri, "--json"])
        .ok()
        .json();
    assert_eq!(reconciled["intact"], want_s3.len());
    assert!(
        reconciled["findings"].as_array().unwrap().is_empty(),
        "{reconciled}"
    );
}

/// Removed backups wait in the trash, restorable, listed, and can be taken
/// back; a purge that a storage fault stops half-way (the manifest deleted,
/// the artifact not) is retried by the next prune and finishes.
#[test]
fn the_trash_can_be_undone_and_an_interrupted_purge_finishes_later() {
    let (sauve, dest) = app_job(&["--keep-last", "1", "--trash-for", "24h"]);
    let d = dest.to_str().unwrap();
    let uri = format!("file://{d}");
    let mut made = Vec::new();
    for i in 0..3 {
        source_dir(&sauve, i);
        made.push(sauve.backup("app"));
    }
    assert_eq!(live(&sauve, "app", &uri), [made[2].clone()]);
    let trash = sauve
        .run(&["backup", "list", "--trash", "--json"])
        .ok()
        .json();
    assert_eq!(ids(&trash), [made[1].clone(), made[0].clone()]);
    assert!(
        trash[0]["reason"].as_str().unwrap().contains("retention"),
        "{trash}"
    );
    assert_eq!(objects(&dest), (3, 3), "the trash keeps the objects");
    // Restorable from storage alone while in the trash.
    let listed = sauve
        .run(&["backup", "list", "--dest", d, "--json"])
        .ok()
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 3);

    sauve.run(&["backup", "undelete", &made[0][..10]]).ok();
    assert_eq!(
        sorted(live(&sauve, "app", &uri)),
        sorted(vec![made[0].clone(), made[2].clone()])
    );
    sauve
        .run(&["backup", "undelete", &made[2]])
        .fails(2, &["no backup in the trash matches"]);
    sauve.run(&["verify", &made[0]]).ok();

    // Its grace period over, a trashed backup is purged by the next prune;
    // here its artifact cannot be deleted (a directory holds its name).
    let db = rusqlite::Connection::open(sauve.data_dir().join("sauve.db")).unwrap();
    db.execute(
        "UPDATE backups SET purge_after = 0 WHERE trashed_at IS NOT NULL",
        [],
    )
    .unwrap();
    let artifact = sauve.artifact_path(&made[2]);
    let _ = artifact; // the live one, untouched
    let key: String = db
        .query_row(
            "SELECT object_key FROM backups WHERE id = ?1",
            [&made[1]],
            |r| r.get(0),
        )
        .unwrap();
    let blocked = dest.join(&key);
    let content = std::fs::read(&blocked).unwrap();
    std::fs::remove_file(&blocked).unwrap();
    std::fs::create_dir_all(blocked.join("obstacle")).unwrap();
    std::fs::write(blocked.join("obstacle/file"), "x").unwrap();
    let r = sauve.run(&["retention", "apply", "app", "--json"]);
    assert_eq!(r.code(), 1, "a partial prune fails for scripts");
    let r = r.json();
    assert_eq!(r["state"], "partial", "{r}");
    assert_eq!(
        r["report"]["purge_failures"][0]["id"],
        made[1].as_str(),
        "{r}"
    );
    assert!(
        !PathBuf::from(format!("{}.manifest.json", blocked.display())).exists(),
        "the manifest went first"
    );
    let trash = sauve
        .run(&["backup", "list", "--trash", "--json"])
        .ok()
        .json();
    assert!(trash[0]["purge_error"].is_string(), "{trash}");
    // The fault is gone: the next prune finishes the purge.
    std::fs::remove_dir_all(&blocked).unwrap();
    std::fs::write(&blocked, content).unwrap();
    let r = sauve
        .run(&["retention", "apply", "app", "--json"])
        .ok()
        .json();
    assert_eq!(r["state"], "succeeded", "{r}");
    assert!(
        r["report"]["purged"]
            .as_array()
            .unwrap()
            .contains(&json!(made[1])),
        "{r}"
    );
    assert!(!blocked.exists());
    assert!(
        sauve
            .run(&["backup", "list", "--trash", "--json"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["id"] != made[1].as_str())
    );
}

/// A job whose runs fail for a month: `keep_within` counts back from the
/// newest good backup, not from now, so the last good backups stay.
#[test]
fn a_job_failing_for_a_month_keeps_its_last_good_backups() {
    let (sauve, dest) = app_job(&[]);
    let d = dest.to_str().unwrap();
    let uri = format!("file://{d}");
    let now = jiff::Timestamp::now();
    let mut made = Vec::new();
    // Ten daily backups, the newest 31 days ago.
    for i in 0..10 {
        source_dir(&sauve, i);
        let r = sauve.run(&["backup", "run", "app", "--json"]).ok().json();
        let at = now - jiff::SignedDuration::from_hours(24 * (40 - i as i64));
        set_created(&sauve, r["run_id"].as_str().unwrap(), at);
        made.push(r["backups"][0]["id"].as_str().unwrap().to_string());
    }
    // Since then every run failed: the source is gone.
    std::fs::remove_dir_all(sauve.dest("src")).unwrap();
    for _ in 0..3 {
        assert_ne!(sauve.run(&["backup", "run", "app"]).code(), 0);
    }
    write_jobs(
        &sauve,
        &format!(
            "[[job]]\nname = \"app\"\nsource = \"files://{}\"\ndestinations = [\"{uri}\"]\n\
             [job.retention]\nkeep_within = \"7d\"\ntrash_for = \"0s\"\n",
            sauve.dest("src").display()
        ),
    );
    let r = sauve
        .run(&["retention", "apply", "app", "--json"])
        .ok()
        .json();
    assert_eq!(r["state"], "succeeded", "{r}");
    // Within 7 days of the newest (40-9 = 31 days ago): days 31..37, i.e.
    // the backups made 31 to 37 days ago — seven of them, none removed for
    // being old relative to now.
    let kept = live(&sauve, "app", &uri);
    let want: Vec<String> = (3..10).rev().map(|i| made[i].clone()).collect();
    assert_eq!(kept, want);
}

/// `storage reconcile` finds what drifted apart and repairs it; until then
/// retention does not count what is not really there.
#[test]
fn reconcile_finds_and_repairs_what_the_store_and_storage_disagree_on() {
    let (sauve, dest) = app_job(&[]);
    let d = dest.to_str().unwrap();
    let uri = format!("file://{d}");
    let made: Vec<String> = (0..4)
        .map(|i| {
            source_dir(&sauve, i);
            sauve.backup("app")
        })
        .collect();
    let db = rusqlite::Connection::open(sauve.data_dir().join("sauve.db")).unwrap();
    let key = |id: &str| -> PathBuf {
        let k: String = db
            .query_row("SELECT object_key FROM backups WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .unwrap();
        dest.join(k)
    };
    let manifest = |p: &Path| PathBuf::from(format!("{}.manifest.json", p.display()));
    // 0: its manifest deleted by hand; 1: its artifact deleted;
    // 2: unknown to the store (a lost lease); 3: intact.
    std::fs::remove_file(manifest(&key(&made[0]))).unwrap();
    std::fs::remove_file(key(&made[1])).unwrap();
    let lost = key(&made[2]);
    db.execute("DELETE FROM backups WHERE id = ?1", [&made[2]])
        .unwrap();
    // An artifact without a manifest, from a crash between the two writes
    // a day ago.
    let crashed = lost.with_file_name("app-20240101T000000Z-01crash.tar.zst");
    std::fs::write(&crashed, "half").unwrap();
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(86_400);
    std::fs::File::options()
        .write(true)
        .open(&crashed)
        .unwrap()
        .set_modified(old)
        .unwrap();

    // A copy under another name of a backup the store knows (the same id):
    // not an orphan, whatever its age.
    let twin = lost.with_file_name(format!("app-20240101T000000Z-{}.tar.zst", made[3]));
    std::fs::write(&twin, "copy").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&twin)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let plan = sauve
        .run(&["retention", "plan", "app", "--json"])
        .ok()
        .json();
    let not_counted: Vec<&str> = plan[0]["not_counted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        sorted(not_counted.iter().map(|s| s.to_string()).collect()),
        sorted(vec![made[0].clone(), made[1].clone()])
    );

    let report = sauve
        .run(&["storage", "reconcile", d, "--json"])
        .ok()
        .json();
    let kinds: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        sorted(kinds),
        sorted(vec![
            "manifest_missing".into(),
            "artifact_missing".into(),
            "unknown_manifest".into(),
            "artifact_without_manifest".into(),
            "artifact_without_manifest".into()
        ]),
        "{report}"
    );
    assert_eq!(report["intact"], 1);
    assert!(
        manifest(&lost).exists() && crashed.exists(),
        "nothing changed without --apply"
    );

    let report = sauve
        .run(&["storage", "reconcile", d, "--apply", "--json"])
        .ok()
        .json();
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| (f["applied"] == true)
                != (f["key"].as_str().unwrap().contains(made[3].as_str()))),
        "all repaired but the twin: {report}"
    );
    assert!(
        manifest(&key(&made[0])).exists(),
        "written back from the store's copy"
    );
    assert!(!crashed.exists());
    assert!(
        twin.exists(),
        "an object naming a known backup is left alone"
    );
    let kept = sorted(live(&sauve, "app", &uri));
    assert_eq!(
        kept,
        sorted(vec![made[0].clone(), made[2].clone(), made[3].clone()]),
        "adopted, and the broken one gone"
    );
    let again = sauve
        .run(&["storage", "reconcile", d, "--json"])
        .ok()
        .json();
    assert_eq!(
        again["findings"].as_array().unwrap().len(),
        1,
        "only the twin: {again}"
    );
    assert_eq!(again["intact"], 3);
    sauve.run(&["verify", &made[2]]).ok();
}

/// The flags, the TOML and the API refuse what is not a policy, naming the
/// field; the API's plan previews a policy before it is saved, reads only.
#[test]
fn bad_policies_are_refused_with_the_field_named() {
    let sauve = Sauve::new();
    let d = sauve.dest("b");
    let src = source_dir(&sauve, 0);
    for (flags, needle) in [
        (vec!["--keep-last=-1"], "--keep-last"),
        (vec!["--keep-daily", "lots"], "not a count"),
        (vec!["--keep-within", "7w"], "--keep-within"),
        (vec!["--keep-within", "0d"], "more than zero"),
        (vec!["--trash-for", "soon"], "trash_for"),
    ] {
        let mut args = vec![
            "job",
            "create",
            "x",
            "--source",
            &src,
            "--dest",
            d.to_str().unwrap(),
        ];
        args.extend(flags.iter());
        sauve.run(&args).fails(2, &[needle]);
    }
    let file = sauve.dest("jobs.toml");
    std::fs::write(
        &file,
        format!(
            "[[job]]\nname = \"x\"\nsource = \"{src}\"\ndestinations = [{{ uri = \"file://{}\", retention = {{ keep_lsat = 3 }} }}]\n",
            d.display()
        ),
    )
    .unwrap();
    sauve
        .run(&["job", "apply", file.to_str().unwrap()])
        .fails(2, &["keep_lsat"]);
    std::fs::write(
        &file,
        format!(
            "[[job]]\nname = \"x\"\nsource = \"{src}\"\ndestinations = [{{ uri = \"file://{}\", retention = {{ trash_for = \"nope\" }} }}]\n",
            d.display()
        ),
    )
    .unwrap();
    sauve
        .run(&["job", "apply", file.to_str().unwrap()])
        .fails(2, &["destinations[0].retention.trash_for"]);
    // simulate refuses input that is not a list of backups.
    let out = sauve
        .command()
        .args(["retention", "simulate", "--keep-last", "1"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("JSON array"));
}

/// Under `serve`, the prune after a queued backup is claimed by the pool like
/// any run; the API previews a policy before it is saved (reads only), lists
/// the trash and undeletes; each route refuses what it must.
#[test]
fn the_server_prunes_after_each_backup_and_the_api_previews_and_undoes() {
    use crate::api::{Client, token};
    let (sauve, dest) = app_job(&["--keep-last", "2", "--trash-for", "1h"]);
    let uri = format!("file://{}", dest.display());
    let writer = token(&sauve, "ops", "all");
    let reader = token(&sauve, "look", "jobs:read,backups:read");
    let server = sauve.spawn_server(ServerOpts::new().tick_ms(100));
    let api = Client::bearer(&server.base, &writer);
    let look = Client::bearer(&server.base, &reader);
    for i in 0..4 {
        source_dir(&sauve, i);
        let run = api
            .post("/api/admin/backups", json!({ "job": "app" }))
            .expect(202)
            .json();
        let id = run["run_id"].as_str().unwrap().to_string();
        wait_until(
            std::time::Duration::from_secs(30),
            "the backup and its prune",
            || {
                let runs = api.get("/api/admin/runs?job=app&limit=50").json()["items"].clone();
                let done = |kind: &str| {
                    runs.as_array()
                        .unwrap()
                        .iter()
                        .filter(|r| r["kind"] == kind && r["state"] == "succeeded")
                        .count()
                };
                runs.as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r["id"] == id.as_str() && r["state"] == "succeeded")
                    && done("prune") == i + 1
            },
        );
    }
    let live_ids = ids(&api.get("/api/admin/backups?job=app").expect(200).json()["items"]);
    assert_eq!(live_ids.len(), 2, "{live_ids:?}");
    let trash = look.get("/api/admin/trash?job=app").expect(200).json();
    assert_eq!(trash.as_array().unwrap().len(), 2, "{trash}");

    // The plan of a policy not saved yet: keep_last 1 would trash one more.
    let policy = percent_encode(r#"{"keep_last":1}"#);
    let preview = look
        .get(&format!(
            "/api/admin/jobs/app/retention-plan?policy={policy}"
        ))
        .expect(200)
        .json();
    assert_eq!(preview[0]["destination"], uri.as_str());
    assert_eq!(preview[0]["keep"].as_array().unwrap().len(), 1);
    assert_eq!(preview[0]["remove"].as_array().unwrap().len(), 1);
    // ... and nothing changed.
    assert_eq!(
        ids(&api.get("/api/admin/backups?job=app").json()["items"]),
        live_ids
    );
    let saved = look
        .get("/api/admin/jobs/app/retention-plan")
        .expect(200)
        .json();
    assert_eq!(saved[0]["keep"].as_array().unwrap().len(), 2);

    // Bad input is a 4xx naming the field, never a 5xx.
    for bad in [
        r#"{"keep_lsat":1}"#,
        r#"{"keep_daily":-3}"#,
        "not json",
        r#"{"keep_within":"7w"}"#,
    ] {
        let r = look.get(&format!(
            "/api/admin/jobs/app/retention-plan?policy={}",
            percent_encode(bad)
        ));
        assert!(
            (400..500).contains(&r.status),
            "{bad}: {} {}",
            r.status,
            r.body
        );
        assert!(
            r.body.contains("policy") || r.body.contains("retention"),
            "{bad}: {}",
            r.body
        );
    }
    look.get("/api/admin/jobs/nope/retention-plan").expect(404);
    look.get("/api/admin/jobs/..%2F..%2Fetc/retention-plan")
        .expect(404);
    look.get("/api/admin/trash?limit=abc").expect(422);

    // A retention policy removes backups: jobs:write alone cannot write one.
    let jobs_only = Client::bearer(&server.base, &token(&sauve, "jobs", "jobs:read,jobs:write"));
    let mut job = jobs_only.get("/api/admin/jobs/app").expect(200).json();
    for key in [
        "source_kind",
        "schedule_description",
        "next_run",
        "created_at",
        "updated_at",
    ] {
        job.as_object_mut().unwrap().remove(key);
    }
    job["retention"] = json!({ "keep_last": 1, "trash_for": "0s" });
    let refused = jobs_only.call("PUT", "/api/admin/jobs/app", Some(job.clone()), &[]);
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.body.contains("backups:write"), "{}", refused.body);
    let mut other = job.clone();
    other["name"] = json!("other");
    other["destinations"] = json!([{ "uri": uri, "retention": { "keep_last": 1 } }]);
    other.as_object_mut().unwrap().remove("retention");
    jobs_only.post("/api/admin/jobs", other.clone()).expect(403);
    // ... but may change the rest of a job whose policy it leaves alone.
    job["retention"] = json!({ "keep_last": 2, "trash_for": "1h" });
    job["compression_level"] = json!(9);
    jobs_only
        .call("PUT", "/api/admin/jobs/app", Some(job.clone()), &[])
        .expect(200);
    other["destinations"] = json!([uri]);
    jobs_only.post("/api/admin/jobs", other).expect(201);
    // The plan lists backups: jobs:read alone does not show it.
    jobs_only
        .get("/api/admin/jobs/app/retention-plan")
        .expect(403);

    // A reader cannot undo or prune; a writer can, once per request.
    let back = trash[0]["id"].as_str().unwrap();
    look.post(&format!("/api/admin/backups/{back}/undelete"), json!({}))
        .expect(403);
    look.post("/api/admin/jobs/app/prune", json!({}))
        .expect(403);
    let restored = api
        .post(&format!("/api/admin/backups/{back}/undelete"), json!({}))
        .expect(200)
        .json();
    assert_eq!(restored["id"], back);
    api.post(&format!("/api/admin/backups/{back}/undelete"), json!({}))
        .expect(404);
    api.post(
        &format!("/api/admin/backups/{}/undelete", live_ids[0]),
        json!({}),
    )
    .expect(404);
    assert_eq!(
        api.get("/api/admin/backups?job=app").json()["items"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let queued = api
        .post("/api/admin/jobs/app/prune", json!({}))
        .expect(202)
        .json();
    let prune_id = queued["run_id"].as_str().unwrap().to_string();
    wait_until(
        std::time::Duration::from_secs(30),
        "the prune asked for",
        || api.get(&format!("/api/admin/runs/{prune_id}")).json()["state"] == "succeeded",
    );
    assert_eq!(
        api.get("/api/admin/backups?job=app").json()["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let audit = api.get("/api/admin/audit?limit=200").expect(200).json();
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    for a in ["backup.trash", "backup.undelete", "retention.apply"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
