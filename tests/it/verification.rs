//! What re-reading a backup proves, kept on the backup: `verified_at` when
//! a full re-read found it good, `damaged_at` and why when it did not, and
//! retention that never counts a damaged backup toward what it keeps.

use crate::common::*;
use std::time::Duration;

/// A job `app` backing a small SQLite file up to a local folder: the
/// harness, the database and the destination.
fn sqlite_job() -> (Sauve, std::path::PathBuf, std::path::PathBuf) {
    let sauve = Sauve::new();
    let db = sauve.dest("app.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")
        .unwrap();
    let dest = sauve.dest("b");
    sauve.create_job(
        "app",
        &format!("sqlite://{}", db.display()),
        &[dest.to_str().unwrap()],
    );
    (sauve, db, dest)
}

#[test]
fn a_verify_proves_a_backup_good_or_marks_it_damaged_and_retention_does_not_count_it() {
    let (sauve, _, _) = sqlite_job();
    let good = sauve.backup("app");
    let bad = sauve.backup("app");
    for id in [&good, &bad] {
        let b = sauve.listed(id);
        assert!(
            b["verified_at"].is_null() && b["damaged_at"].is_null(),
            "{b}"
        );
    }

    sauve.run(&["verify", &good]).ok();
    let b = sauve.listed(&good);
    assert!(b["verified_at"].as_str().is_some(), "{b}");
    assert!(
        b["damaged_at"].is_null() && b["verify_error"].is_null(),
        "{b}"
    );

    flip_byte(&sauve.artifact_path(&bad));
    sauve.run(&["verify", &bad]).fails(1, &["is corrupted"]);
    let b = sauve.listed(&bad);
    assert!(b["damaged_at"].as_str().is_some(), "{b}");
    assert!(
        b["verify_error"].as_str().unwrap().contains("is corrupted"),
        "{b}"
    );
    assert!(b["verified_at"].is_null(), "{b}");

    // The newest backup is damaged: retention keeps the good one by its
    // rules and leaves the damaged one out of the count (never removed by
    // the policy, never standing in for a good one).
    let plan = sauve
        .run(&["retention", "plan", "app", "--json"])
        .ok()
        .json();
    let dest_plan = &plan[0];
    let kept: Vec<&str> = dest_plan["keep"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["id"].as_str().unwrap())
        .collect();
    assert_eq!(kept, [good.as_str()], "{plan}");
    let not_counted = dest_plan["not_counted"].as_array().unwrap();
    assert_eq!(not_counted.len(), 1, "{plan}");
    assert_eq!(not_counted[0]["id"], bad.as_str());
    assert!(
        not_counted[0]["why"].as_str().unwrap().contains("damaged"),
        "{plan}"
    );

    // A backup repaired in place (the bytes put back) is good again.
    flip_byte(&sauve.artifact_path(&bad));
    sauve.run(&["verify", &bad]).ok();
    let b = sauve.listed(&bad);
    assert!(
        b["damaged_at"].is_null() && b["verified_at"].as_str().is_some(),
        "{b}"
    );
}

#[test]
fn scheduled_verification_rereads_every_backup_within_its_coverage() {
    let (sauve, db, dest) = sqlite_job();
    let ids: Vec<String> = (0..6).map(|_| sauve.backup("app")).collect();
    // Every 2 s, each backup re-read at least once per 6 s.
    let file = sauve.dest("jobs.toml");
    std::fs::write(
        &file,
        format!(
            "[[job]]\nname = \"app\"\nsource = \"sqlite://{}\"\ndestinations = [\"{}\"]\n[job.verify]\nschedule = \"every 2s\"\ncoverage = \"6s\"\n",
            db.display(),
            dest.display()
        ),
    )
    .unwrap();
    sauve.run(&["job", "apply", file.to_str().unwrap()]).ok();
    let began = std::time::Instant::now();
    let _server = sauve.spawn_server(
        ServerOpts::new()
            .tick_ms(100)
            .args(["--watchdog-secs", "1"]),
    );
    let verified = |id: &str| sauve.listed(id)["verified_at"].as_str().map(String::from);
    wait_until(Duration::from_secs(20), "every backup verified", || {
        ids.iter().all(|id| verified(id).is_some())
    });
    let runs = sauve
        .run(&[
            "run", "list", "--job", "app", "--kind", "verify", "--json", "--limit", "100",
        ])
        .ok()
        .json();
    let runs = runs.as_array().unwrap();
    assert!(!runs.is_empty());
    assert!(runs.iter().all(|r| r["trigger"] == "schedule"), "{runs:?}");
    let started = runs.len();

    // A backup damaged in storage is found within the coverage, marked,
    // and its run fails (which is what raises verify.failed).
    flip_byte(&sauve.artifact_path(&ids[2]));
    wait_until(Duration::from_secs(20), "the damage found", || {
        sauve.listed(&ids[2])["damaged_at"].as_str().is_some()
    });
    let failed = sauve
        .run(&[
            "run", "list", "--job", "app", "--kind", "verify", "--state", "failed", "--json",
        ])
        .ok()
        .json();
    let failed = &failed.as_array().unwrap()[0];
    assert!(
        failed["error"].as_str().unwrap().contains(&ids[2]),
        "{failed}"
    );
    // The others are re-read again and stay good.
    let before = verified(&ids[5]).unwrap();
    wait_until(Duration::from_secs(20), "a second round", || {
        verified(&ids[5]).is_some_and(|t| t > before)
    });
    assert!(sauve.listed(&ids[0])["damaged_at"].is_null());
    let all = sauve
        .run(&[
            "run", "list", "--job", "app", "--kind", "verify", "--json", "--limit", "1000",
        ])
        .ok()
        .json();
    let slots = all.as_array().unwrap().len() as u64;
    assert!(slots > started as u64, "slots kept coming");
    // One run per 2 s slot at most, however many watchdog ticks saw it.
    let elapsed = began.elapsed().as_secs();
    assert!(
        slots <= elapsed / 2 + 2,
        "{slots} verify runs in {elapsed} s"
    );
}
