//! What re-reading a backup proves, kept on the backup: `verified_at` when
//! a full re-read found it good, `damaged_at` and why when it did not, and
//! retention that never counts a damaged backup toward what it keeps.

use crate::common::*;

fn listed(sauve: &Sauve, id: &str) -> serde_json::Value {
    let all = sauve.run(&["backup", "list", "--json"]).ok().json();
    all.as_array()
        .unwrap()
        .iter()
        .find(|b| b["id"] == id)
        .unwrap_or_else(|| panic!("{id} listed: {all}"))
        .clone()
}

#[test]
fn a_verify_proves_a_backup_good_or_marks_it_damaged_and_retention_does_not_count_it() {
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
    let good = sauve.backup("app");
    let bad = sauve.backup("app");
    for id in [&good, &bad] {
        let b = listed(&sauve, id);
        assert!(
            b["verified_at"].is_null() && b["damaged_at"].is_null(),
            "{b}"
        );
    }

    sauve.run(&["verify", &good]).ok();
    let b = listed(&sauve, &good);
    assert!(b["verified_at"].as_str().is_some(), "{b}");
    assert!(
        b["damaged_at"].is_null() && b["verify_error"].is_null(),
        "{b}"
    );

    flip_byte(&sauve.artifact_path(&bad));
    sauve.run(&["verify", &bad]).fails(1, &["is corrupted"]);
    let b = listed(&sauve, &bad);
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
    let b = listed(&sauve, &bad);
    assert!(
        b["damaged_at"].is_null() && b["verified_at"].as_str().is_some(),
        "{b}"
    );
}
