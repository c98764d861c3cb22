//! Test restores: a backup restored into a scratch target Sauve creates and
//! always drops (PostgreSQL, MariaDB, SQLite, files), its tables' exact row
//! counts, the job's checks, the comparison with the previous test restore,
//! a corrupted backup refused with no scratch left, and a test restore killed
//! mid-way whose scratch database the next sweep drops.

use crate::common::*;
use std::process::Stdio;
use std::time::Duration;

fn pg_has_database(name: &str) -> bool {
    psql(
        "postgres",
        &format!("SELECT count(*) FROM pg_database WHERE datname = '{name}'"),
    ) != "0"
}

/// The scratch database the first attempt of a run of this id makes (a
/// foreground run has one attempt).
fn scratch_of(run_id: &str) -> String {
    format!("sauve_scratch_{}_1", run_id.to_ascii_lowercase())
}

/// The newest test_restore run of `job`.
fn last_test_restore_run(sauve: &Sauve, job: &str) -> serde_json::Value {
    let runs = sauve
        .run(&["run", "list", "--job", job, "--json"])
        .ok()
        .json();
    runs.as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "test_restore")
        .unwrap_or_else(|| panic!("a test_restore run of {job}: {runs}"))
        .clone()
}

fn apply(sauve: &Sauve, toml: &str) {
    let file = sauve.dest("job.toml");
    std::fs::write(&file, toml).unwrap();
    sauve.run(&["job", "apply", file.to_str().unwrap()]).ok();
}

#[test]
fn a_postgres_test_restore_counts_rows_runs_checks_drops_its_scratch_and_flags_a_shrink() {
    let sauve = Sauve::new();
    let db = PgDb::create("tr_pg");
    psql(
        &db.0,
        "CREATE TABLE customers (id serial PRIMARY KEY, name text);
         INSERT INTO customers (name) VALUES ('a'), ('b'), ('c');
         CREATE TABLE orders (id serial PRIMARY KEY, customer int, total numeric);
         INSERT INTO orders (customer, total) SELECT 1 + i % 3, i FROM generate_series(1, 1200) i;
         CREATE SCHEMA billing; CREATE TABLE billing.invoices (id int);",
    );
    let dest = sauve.dest("b");
    apply(
        &sauve,
        &format!(
            r#"[[job]]
name = "shop"
source = "{src}"
destinations = ["{dest}"]
[job.verify]
checks = [
  {{ sql = "select count(*) from orders", min = 1000 }},
  {{ command = ["sh", "-c", "test \"$(psql -X -tA -c 'select count(*) from customers')\" = 3 && test -n \"$SAUVE_TEST_RESTORE_TARGET\""] }},
]
"#,
            src = pg_url(&db.0),
            dest = dest.display()
        ),
    );
    let first = sauve.backup("shop");
    let report = sauve
        .run(&["verify", &first, "--test-restore", "--json"])
        .ok()
        .json();
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["backup"], first.as_str());
    assert!(report["duration_ms"].as_u64().is_some(), "{report}");
    let rows: Vec<(String, u64)> = report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_string(),
                t["rows"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("billing.invoices".to_string(), 0),
            ("public.customers".to_string(), 3),
            ("public.orders".to_string(), 1200)
        ]
    );
    assert!(
        report["tables"][2]["bytes"].as_u64().unwrap() > 0,
        "{report}"
    );
    let checks = report["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 2, "{report}");
    assert_eq!(checks[0]["value"], "1200");
    assert!(checks.iter().all(|c| c["ok"] == true), "{report}");
    assert_eq!(report["dropped"], true);
    let run = last_test_restore_run(&sauve, "shop");
    assert_eq!(run["state"], "succeeded", "{run}");
    assert!(!pg_has_database(&scratch_of(run["id"].as_str().unwrap())));
    let b = sauve.listed(&first);
    assert!(b["test_restored_at"].as_str().is_some(), "{b}");
    assert!(b["verified_at"].as_str().is_some(), "{b}");
    assert_eq!(b["test_restore"]["tables"][2]["rows"], 1200, "{b}");

    // The same backup's bytes damaged in storage: the command fails, the
    // backup is marked damaged, and no scratch database is left.
    let second = sauve.backup("shop");
    flip_byte(&sauve.artifact_path(&second));
    sauve
        .run(&["verify", &second, "--test-restore", "--json"])
        .fails(1, &["is corrupted"]);
    let run = last_test_restore_run(&sauve, "shop");
    assert_eq!(run["state"], "failed", "{run}");
    assert!(!pg_has_database(&scratch_of(run["id"].as_str().unwrap())));
    let b = sauve.listed(&second);
    assert!(b["damaged_at"].as_str().is_some(), "{b}");
    assert!(b["test_restored_at"].is_null(), "{b}");

    // Most orders gone from the source: the next test restore restores, but
    // its check and the comparison with the first one say so, and it fails
    // after printing its report.
    psql(
        &db.0,
        "DELETE FROM orders WHERE id > 100; DROP TABLE billing.invoices;",
    );
    let third = sauve.backup("shop");
    let out = sauve
        .run(&["verify", &third, "--test-restore", "--json"])
        .fails(1, &["did not pass"]);
    let report: serde_json::Value = serde_json::from_str(&out.stdout()).unwrap();
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(report["compared_with"], first.as_str());
    let flags: Vec<&str> = report["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(flags.len(), 2, "{flags:?}");
    assert!(
        flags[0].contains("billing.invoices disappeared"),
        "{flags:?}"
    );
    assert!(
        flags[1].contains("public.orders shrank from 1200 to 100"),
        "{flags:?}"
    );
    assert_eq!(report["checks"][0]["ok"], false);
    assert_eq!(report["checks"][0]["value"], "100");
    // Restored and read: the backup itself is good, and says what it held.
    let b = sauve.listed(&third);
    assert!(
        b["verified_at"].as_str().is_some() && b["damaged_at"].is_null(),
        "{b}"
    );
    assert_eq!(b["test_restore"]["ok"], false, "{b}");
}

#[test]
fn mariadb_sqlite_and_files_test_restores_take_their_inventory() {
    let sauve = Sauve::new();
    // MariaDB: exact counts, the scratch database dropped.
    let db = MyDb::create("tr_my");
    mysql(
        Some(&db.0),
        "CREATE TABLE items (id INT PRIMARY KEY AUTO_INCREMENT, name TEXT);
         INSERT INTO items (name) VALUES ('a'), ('b'), ('c'), ('d');
         CREATE TABLE empty_one (id INT);",
    );
    let dest = sauve.dest("b");
    sauve.create_job("my", &mysql_url(&db.0), &[dest.to_str().unwrap()]);
    let id = sauve.backup("my");
    let report = sauve
        .run(&["verify", &id, "--test-restore", "--json"])
        .ok()
        .json();
    assert_eq!(report["ok"], true, "{report}");
    let rows: Vec<(&str, u64)> = report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap(), t["rows"].as_u64().unwrap()))
        .collect();
    assert_eq!(rows, [("empty_one", 0), ("items", 4)]);
    let run = last_test_restore_run(&sauve, "my");
    let scratch = scratch_of(run["id"].as_str().unwrap());
    assert_eq!(
        mysql(
            None,
            &format!(
                "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '{scratch}'"
            )
        ),
        "0"
    );

    // SQLite: integrity_check and rows; the scratch file gone.
    let file = sauve.dest("app.db");
    rusqlite::Connection::open(&file)
        .unwrap()
        .execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2);")
        .unwrap();
    sauve.create_job(
        "lite",
        &format!("sqlite://{}", file.display()),
        &[dest.to_str().unwrap()],
    );
    let id = sauve.backup("lite");
    let report = sauve
        .run(&["verify", &id, "--test-restore", "--json"])
        .ok()
        .json();
    assert_eq!(report["integrity"], "ok", "{report}");
    assert_eq!(report["tables"][0]["name"], "t");
    assert_eq!(report["tables"][0]["rows"], 2);

    // Files: how many, how big, a sample's sha256 as restored.
    let tree = sauve.dest("tree");
    std::fs::create_dir_all(tree.join("sub")).unwrap();
    std::fs::write(tree.join("a.txt"), "hello").unwrap();
    std::fs::write(tree.join("sub/b.txt"), "world!").unwrap();
    sauve.create_job(
        "docs",
        &format!("files://{}", tree.display()),
        &[dest.to_str().unwrap()],
    );
    let id = sauve.backup("docs");
    let report = sauve
        .run(&["verify", &id, "--test-restore", "--json"])
        .ok()
        .json();
    assert_eq!(report["files"]["files"], 2, "{report}");
    assert_eq!(report["files"]["bytes"], 11, "{report}");
    let sample = report["files"]["sample"].as_array().unwrap();
    assert_eq!(sample.len(), 2);
    let hello = sample.iter().find(|s| s["path"] == "a.txt").unwrap();
    assert_eq!(
        hello["sha256"],
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    );
    // Nothing left under the data directory's scratch folder.
    let left: Vec<_> = std::fs::read_dir(sauve.data_dir().join("scratch"))
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_test_restore_killed_mid_way_leaves_a_scratch_database_the_next_sweep_drops() {
    let sauve = Sauve::new();
    let db = PgDb::create("tr_kill");
    psql(&db.0, "CREATE TABLE t (x int); INSERT INTO t VALUES (1);");
    let dest = sauve.dest("b");
    apply(
        &sauve,
        &format!(
            r#"[[job]]
name = "slow"
source = "{src}"
destinations = ["{dest}"]
[job.verify]
checks = [{{ command = ["sleep", "120"] }}]
"#,
            src = pg_url(&db.0),
            dest = dest.display()
        ),
    );
    let id = sauve.backup("slow");
    let mut cmd = sauve.command();
    cmd.args(["verify", &id, "--test-restore"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd.spawn().unwrap();
    // The restore is done and the check sleeps: the scratch database exists.
    let mut scratch = String::new();
    wait_until(Duration::from_secs(60), "the scratch database", || {
        let found = psql(
            "postgres",
            "SELECT datname FROM pg_database WHERE datname LIKE 'sauve_scratch_%' ORDER BY datname",
        );
        let run = sauve
            .run(&["run", "list", "--job", "slow", "--json"])
            .json();
        let Some(r) = run
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["kind"] == "test_restore")
        else {
            return false;
        };
        scratch = scratch_of(r["id"].as_str().unwrap());
        found.lines().any(|l| l == scratch)
    });
    // SIGKILL to the whole group: Sauve and its check get no chance to clean up.
    unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
    let _ = child.wait();
    assert!(pg_has_database(&scratch), "left behind by the kill");
    // A server starting up sweeps what the dead run left, once its lease
    // (30 s for a command's run) has expired.
    let _server = sauve.spawn_server(ServerOpts::new().args(["--watchdog-secs", "1"]));
    wait_until(Duration::from_secs(60), "the sweep", || {
        !pg_has_database(&scratch)
    });
}

/// Another backup's artifact put in place of this one's decodes cleanly:
/// only its sha256 tells. A one-pass restore holds the stream's tail back
/// until that is known, so nothing is committed: no SQLite file, no
/// PostgreSQL database left behind.
#[test]
fn a_swapped_artifact_that_decodes_cleanly_is_never_committed() {
    let sauve = Sauve::new();
    let dest = sauve.dest("b");
    let file = sauve.dest("app.db");
    let conn = rusqlite::Connection::open(&file).unwrap();
    conn.execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")
        .unwrap();
    sauve.create_job(
        "lite",
        &format!("sqlite://{}", file.display()),
        &[dest.to_str().unwrap()],
    );
    let first = sauve.backup("lite");
    conn.execute_batch("INSERT INTO t VALUES (2);").unwrap();
    let second = sauve.backup("lite");
    std::fs::copy(sauve.artifact_path(&second), sauve.artifact_path(&first)).unwrap();
    let target = sauve.dest("restored.db");
    sauve
        .run(&["restore", &first, "--to", target.to_str().unwrap()])
        .fails(1, &["is corrupted"]);
    assert!(!target.exists(), "nothing committed");
    let leftovers: Vec<_> = std::fs::read_dir(target.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("sauve-restore"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // The good one restores, in one pass.
    let out = sauve
        .run(&["restore", &second, "--to", target.to_str().unwrap()])
        .ok();
    assert!(target.exists(), "{}", out.stderr());
    // Each restore read every byte: what it found is kept on the backup.
    assert!(sauve.listed(&first)["damaged_at"].as_str().is_some());
    assert!(sauve.listed(&second)["verified_at"].as_str().is_some());

    let db = PgDb::create("onepass");
    psql(&db.0, "CREATE TABLE t (x int); INSERT INTO t VALUES (1);");
    sauve.create_job("pg", &pg_url(&db.0), &[dest.to_str().unwrap()]);
    let a = sauve.backup("pg");
    psql(&db.0, "INSERT INTO t VALUES (2);");
    let b = sauve.backup("pg");
    std::fs::copy(sauve.artifact_path(&b), sauve.artifact_path(&a)).unwrap();
    let never = PgDb::reserve("onepass_never");
    sauve
        .run(&["restore", &a, "--to", &pg_url(&never.0)])
        .fails(1, &["is corrupted"]);
    assert!(
        !pg_has_database(&never.0),
        "the database it created is dropped"
    );
    let fine = PgDb::reserve("onepass_fine");
    sauve.run(&["restore", &b, "--to", &pg_url(&fine.0)]).ok();
    assert_eq!(psql(&fine.0, "SELECT count(*) FROM t"), "2");
}

/// `[job.verify] test_restore = true`: each scheduled slot also
/// test-restores the newest backup not yet tested; a check that fails
/// fails the slot's run, which says so, and the backup keeps the report.
#[test]
fn a_scheduled_slot_test_restores_the_newest_backup_and_fails_on_a_failing_check() {
    let sauve = Sauve::new();
    let db = sauve.dest("app.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2);")
        .unwrap();
    let dest = sauve.dest("b");
    apply(
        &sauve,
        &format!(
            r#"[[job]]
name = "lite"
source = "sqlite://{}"
destinations = ["{}"]
[job.verify]
schedule = "every 2s"
test_restore = true
checks = [{{ sql = "select count(*) from t", min = 3 }}]
"#,
            db.display(),
            dest.display()
        ),
    );
    let older = sauve.backup("lite");
    let newest = sauve.backup("lite");
    let _server = sauve.spawn_server(
        ServerOpts::new()
            .tick_ms(100)
            .args(["--watchdog-secs", "1"]),
    );
    wait_until(
        Duration::from_secs(30),
        "the newest backup test-restored",
        || sauve.listed(&newest)["test_restored_at"].as_str().is_some(),
    );
    let b = sauve.listed(&newest);
    assert_eq!(b["test_restore"]["ok"], false, "{b}");
    assert_eq!(b["test_restore"]["checks"][0]["value"], "2", "{b}");
    assert!(sauve.listed(&older)["test_restored_at"].is_null());
    // The report is kept before the run ends: wait for the run.
    let mut error = String::new();
    wait_until(Duration::from_secs(10), "the slot's run failed", || {
        let failed = sauve
            .run(&[
                "run", "list", "--job", "lite", "--kind", "verify", "--state", "failed", "--json",
            ])
            .ok()
            .json();
        error = failed[0]["error"].as_str().unwrap_or_default().to_string();
        !error.is_empty()
    });
    let failed = &error;
    assert!(
        error.contains(&format!("the test restore of backup {newest} failed")),
        "{failed}"
    );
    assert!(
        !error.contains("failed verification"),
        "both backups read fine: {error}"
    );
}
