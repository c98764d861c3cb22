//! The scheduler and the queue with real `sauve serve` processes: restarts,
//! several instances on one store (PostgreSQL and SQLite), a worker killed with
//! SIGKILL mid-backup, cancellation, timeouts and graceful shutdown.

use crate::common::*;
use jiff::Timestamp;
use std::time::{Duration, Instant};

/// `sauve serve` with short ticks and leases, and quick retries.
fn opts() -> ServerOpts {
    ServerOpts::new()
        .tick_ms(100)
        .args(["--lease-secs", "2", "--retry-base-secs", "1"])
}

fn runs(sauve: &Sauve) -> Vec<serde_json::Value> {
    sauve
        .run(&["run", "list", "--json", "--limit", "10000"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .clone()
}

fn ts_of(v: &serde_json::Value) -> Option<Timestamp> {
    v.as_str().map(|s| s.parse().unwrap())
}

/// How many scheduled runs of `job` have succeeded.
fn succeeded_slots(runs: &[serde_json::Value], job: &str) -> usize {
    runs.iter()
        .filter(|r| {
            r["job"] == job
                && r["kind"] == "backup"
                && r["trigger"] == "schedule"
                && r["state"] == "succeeded"
        })
        .count()
}

/// Waits until every one of `jobs` has had `n` scheduled runs succeed.
#[track_caller]
fn wait_for_slots(sauve: &Sauve, jobs: &[&str], n: usize, timeout: Duration) {
    wait_until(
        timeout,
        &format!("{n} scheduled runs of each of {jobs:?} to succeed"),
        || {
            let all = runs(sauve);
            jobs.iter().all(|job| succeeded_slots(&all, job) >= n)
        },
    );
}

fn apply(sauve: &Sauve, toml: &str) {
    let file = sauve.dest("jobs.toml");
    std::fs::write(&file, toml).unwrap();
    sauve.run(&["job", "apply", file.to_str().unwrap()]).ok();
}

fn command_job(name: &str, dest: &std::path::Path, command: &str, extra: &str) -> String {
    format!(
        "[[job]]\nname = \"{name}\"\ndestinations = [\"{}\"]\n{extra}\n[job.source]\nkind = \"command\"\ncommand = [\"sh\", \"-c\", {command:?}]\n\n",
        dest.display()
    )
}

/// Scheduled runs of `job`, by slot: each slot once, consecutive slots `step` apart.
fn assert_each_slot_once(runs: &[serde_json::Value], job: &str, step_ms: i64) -> usize {
    let mut slots: Vec<i64> = runs
        .iter()
        // Backups: the prune that follows each has no slot of its own.
        .filter(|r| r["job"] == job && r["kind"] == "backup" && r["trigger"] == "schedule")
        .map(|r| ts_of(&r["scheduled_for"]).unwrap().as_millisecond())
        .collect();
    slots.sort();
    let mut dedup = slots.clone();
    dedup.dedup();
    assert_eq!(
        dedup.len(),
        slots.len(),
        "{job}: a slot ran twice: {slots:?}"
    );
    for w in slots.windows(2) {
        assert_eq!(
            w[1] - w[0],
            step_ms,
            "{job}: a slot is missing between {} and {}",
            w[0],
            w[1]
        );
    }
    slots.len()
}

#[test]
fn a_restart_runs_the_latest_missed_slot_once() {
    let sauve = Sauve::new();
    let dest = sauve.dest("b");
    apply(
        &sauve,
        &command_job("tick", &dest, "echo tick", "schedule = \"every 2s\""),
    );
    let mut server = sauve.spawn_server(opts());
    wait_until(Duration::from_secs(20), "two scheduled runs", || {
        runs(&sauve)
            .iter()
            .filter(|r| r["trigger"] == "schedule" && r["state"] == "succeeded")
            .count()
            >= 2
    });
    assert!(server.terminate().success());
    let stopped = Timestamp::now();
    // Kept: the server being down while three or four slots go by is what is
    // tested; there is nothing to wait for but the clock.
    std::thread::sleep(Duration::from_secs(7));
    let restarted = Timestamp::now();
    let mut server = sauve.spawn_server(opts());
    wait_until(
        Duration::from_secs(15),
        "a run queued after the restart",
        || {
            runs(&sauve)
                .iter()
                .any(|r| ts_of(&r["queued_at"]).unwrap() > restarted && r["state"] == "succeeded")
        },
    );
    // The schedule goes on after the catch-up: a second run after the restart.
    wait_until(
        Duration::from_secs(15),
        "a scheduled run after the catch-up",
        || {
            runs(&sauve)
                .iter()
                .filter(|r| {
                    ts_of(&r["queued_at"]).unwrap() > restarted && r["state"] == "succeeded"
                })
                .count()
                >= 2
        },
    );
    assert!(server.terminate().success());

    let all = runs(&sauve);
    // The first run queued after the restart is the catch-up; every slot up to
    // the moment it was queued was either run before the stop or is that one run.
    let first_after = all
        .iter()
        .filter_map(|r| ts_of(&r["queued_at"]))
        .filter(|q| *q > restarted)
        .min()
        .unwrap();
    let caught_up: Vec<_> = all
        .iter()
        .filter(|r| {
            let s = ts_of(&r["scheduled_for"]);
            s.is_some_and(|s| s > stopped && s <= first_after)
        })
        .collect();
    assert_eq!(
        caught_up.len(),
        1,
        "exactly one catch-up run, not a burst: {caught_up:?}"
    );
    // Slots are unique; after the catch-up, the schedule goes on every 2 s.
    let mut slots: Vec<_> = all
        .iter()
        .filter_map(|r| ts_of(&r["scheduled_for"]))
        .collect();
    let n = slots.len();
    slots.sort();
    slots.dedup();
    assert_eq!(slots.len(), n);
    assert!(
        all.iter().all(|r| r["state"] != "running"),
        "nothing left running"
    );
}

#[test]
fn three_instances_on_postgres_run_each_slot_once_and_take_over_a_killed_worker() {
    let db = PgDb::create("sauve_multi");
    let mut sauve = Sauve::new();
    sauve.env.push(("SAUVE_DATABASE_URL".into(), pg_url(&db.0)));
    let dest = sauve.dest("b");
    let mut jobs = String::new();
    for name in ["alpha", "beta", "gamma"] {
        // alpha also rotates: each backup is followed by a prune, which any
        // instance may take; every removed backup is purged exactly once.
        let retention = if name == "alpha" {
            "\n[job.retention]\nkeep_last = 2\ntrash_for = \"0s\""
        } else {
            ""
        };
        jobs += &command_job(
            name,
            &dest,
            "echo $RANDOM",
            &format!("schedule = \"every 2s\"\noverlap = \"queue\"{retention}"),
        );
    }
    jobs += &command_job("slow", &dest, "sleep 5; echo slow done", "max_attempts = 3");
    apply(&sauve, &jobs);

    let mut servers: Vec<Server> = (0..3)
        .map(|_| sauve.spawn_server(opts().workers(2)))
        .collect();
    // The three instances share the schedule for a few slots before the kill.
    wait_for_slots(
        &sauve,
        &["alpha", "beta", "gamma"],
        3,
        Duration::from_secs(30),
    );

    // Kill -9 the instance running the slow backup, mid-run.
    let slow = sauve
        .run(&["backup", "run", "slow", "--queue"])
        .ok()
        .stdout()
        .trim()
        .to_string();
    let mut owner = String::new();
    wait_until(Duration::from_secs(15), "the slow run to start", || {
        let r = sauve.run(&["run", "show", &slow, "--json"]).ok().json();
        owner = r["owner"].as_str().unwrap_or_default().to_string();
        r["state"] == "running" && !owner.is_empty()
    });
    let pid: u32 = owner.split(':').nth(1).unwrap().parse().unwrap();
    let victim = servers
        .iter()
        .position(|s| s.pid() == pid)
        .expect("the owner is one of ours");
    servers[victim].kill_9();
    servers.remove(victim);

    wait_until(
        Duration::from_secs(40),
        "another instance to finish the slow run",
        || sauve.run(&["run", "show", &slow, "--json"]).ok().json()["state"] == "succeeded",
    );
    // The two survivors go on sharing the schedule, to the 8 slots checked below.
    wait_for_slots(
        &sauve,
        &["alpha", "beta", "gamma"],
        8,
        Duration::from_secs(60),
    );
    for s in &mut servers {
        assert!(s.terminate().success());
    }

    let all = runs(&sauve);
    let slow_run = all.iter().find(|r| r["id"] == slow.as_str()).unwrap();
    assert!(slow_run["attempt"].as_i64().unwrap() >= 2, "{slow_run}");
    assert!(
        slow_run["log"].as_str().unwrap().contains("expired"),
        "{slow_run}"
    );
    for name in ["alpha", "beta", "gamma"] {
        let n = assert_each_slot_once(&all, name, 2000);
        assert!(n >= 8, "{name}: only {n} slots ran");
    }
    let stuck: Vec<_> = all.iter().filter(|r| r["state"] == "running").collect();
    assert!(stuck.is_empty(), "runs stuck in running: {stuck:?}");
    let failed: Vec<_> = all.iter().filter(|r| r["state"] == "failed").collect();
    assert!(failed.is_empty(), "failed runs: {failed:?}");

    // Rotation across instances: prunes ran (never more than backups), and
    // after a last one every alpha backup but the newest two is purged, each
    // audited once, whichever instance purged it.
    let kind_of = |k: &str| {
        all.iter()
            .filter(|r| r["job"] == "alpha" && r["kind"] == k)
            .count()
    };
    let (backups, prunes) = (kind_of("backup"), kind_of("prune"));
    assert!(
        prunes >= 1 && prunes <= backups,
        "{prunes} prunes for {backups} backups"
    );
    sauve.run(&["retention", "apply", "alpha"]).ok();
    let live = sauve
        .run(&["backup", "list", "--job", "alpha", "--json"])
        .ok()
        .json();
    assert_eq!(live.as_array().unwrap().len(), 2, "{live}");
    let purges = psql(
        &db.0,
        "SELECT COUNT(*), COUNT(DISTINCT target) FROM audit WHERE action = 'backup.purge'",
    );
    let stored = psql(
        &db.0,
        "SELECT COUNT(*) FROM backups WHERE job_name = 'alpha' AND deleted_at IS NOT NULL",
    );
    let n = stored.trim();
    assert_eq!(purges.trim(), format!("{n}|{n}"), "each purge audited once");
    assert!(n.parse::<usize>().unwrap() >= 6, "{n} purged");
}

#[test]
fn two_instances_on_sqlite_run_each_slot_once() {
    let sauve = Sauve::new();
    let dest = sauve.dest("b");
    let jobs = command_job(
        "one",
        &dest,
        "echo 1",
        "schedule = \"every 1s\"\noverlap = \"queue\"",
    ) + &command_job(
        "two",
        &dest,
        "echo 2",
        "schedule = \"every 1s\"\noverlap = \"queue\"",
    );
    apply(&sauve, &jobs);
    let mut servers = [sauve.spawn_server(opts()), sauve.spawn_server(opts())];
    // Both instances compete for about seven slots (at least four are checked).
    wait_for_slots(&sauve, &["one", "two"], 7, Duration::from_secs(30));
    for s in &mut servers {
        assert!(s.terminate().success());
    }
    let all = runs(&sauve);
    for name in ["one", "two"] {
        let n = assert_each_slot_once(&all, name, 1000);
        assert!(n >= 4, "{name}: only {n} slots ran");
    }
    assert!(all.iter().all(|r| r["state"] != "running"));
}

#[test]
fn timeouts_cancellation_and_graceful_shutdown() {
    let sauve = Sauve::new();
    let dest = sauve.dest("b");
    let jobs = command_job(
        "hang",
        &dest,
        "sleep 30",
        "timeout = \"2s\"\nmax_attempts = 1",
    ) + &command_job("long", &dest, "sleep 30", "")
        + &command_job("short", &dest, "sleep 2; echo done", "");
    apply(&sauve, &jobs);

    // A hung dump is killed at the job's timeout and the run fails, saying so.
    let started = Instant::now();
    sauve
        .run(&["backup", "run", "hang"])
        .fails(1, &["timed out after 2s"]);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "the dump was not killed"
    );

    // Cancelling a running run stops it within a few seconds.
    let mut server = sauve.spawn_server(opts().args(["--grace-secs", "10"]));
    let long = sauve
        .run(&["backup", "run", "long", "--queue"])
        .ok()
        .stdout()
        .trim()
        .to_string();
    wait_until(Duration::from_secs(10), "the long run to start", || {
        sauve.run(&["run", "show", &long, "--json"]).ok().json()["state"] == "running"
    });
    sauve.run(&["run", "cancel", &long]).ok();
    wait_until(Duration::from_secs(10), "the cancellation", || {
        sauve.run(&["run", "show", &long, "--json"]).ok().json()["state"] == "cancelled"
    });
    // A queued run is cancelled at once.
    let queued = sauve
        .run(&["backup", "run", "long", "--queue", "--idempotency-key", "k"])
        .ok()
        .stdout()
        .trim()
        .to_string();
    let out = sauve.run(&["run", "cancel", &queued]).ok().stdout();
    assert!(
        out.contains("cancelled") || out.contains("running"),
        "{out}"
    );

    // SIGTERM lets a running backup finish within the grace period.
    let short = sauve
        .run(&["backup", "run", "short", "--queue"])
        .ok()
        .stdout()
        .trim()
        .to_string();
    wait_until(Duration::from_secs(10), "the short run to start", || {
        sauve.run(&["run", "show", &short, "--json"]).ok().json()["state"] == "running"
    });
    assert!(server.terminate().success());
    assert_eq!(
        sauve.run(&["run", "show", &short, "--json"]).ok().json()["state"],
        "succeeded"
    );

    // With a short grace period, a long backup is stopped and handed back.
    let mut server = sauve.spawn_server(opts().args(["--grace-secs", "1"]));
    let long2 = sauve
        .run(&["backup", "run", "long", "--queue"])
        .ok()
        .stdout()
        .trim()
        .to_string();
    wait_until(
        Duration::from_secs(10),
        "the second long run to start",
        || sauve.run(&["run", "show", &long2, "--json"]).ok().json()["state"] == "running",
    );
    let stopping = Instant::now();
    assert!(server.terminate().success());
    assert!(stopping.elapsed() < Duration::from_secs(10));
    let r = sauve.run(&["run", "show", &long2, "--json"]).ok().json();
    assert_eq!(r["state"], "queued", "released for another instance: {r}");
    assert_eq!(r["attempt"], 0, "a released run's attempt does not count");

    // One job never runs twice at once, CLI included.
    let mut server = sauve.spawn_server(opts());
    wait_until(
        Duration::from_secs(10),
        "the released run to start again",
        || sauve.run(&["run", "show", &long2, "--json"]).ok().json()["state"] == "running",
    );
    sauve
        .run(&["backup", "run", "long"])
        .fails(2, &["already running"]);
    sauve.run(&["run", "cancel", &long2]).ok();
    wait_until(Duration::from_secs(10), "the cancellation", || {
        sauve.run(&["run", "show", &long2, "--json"]).ok().json()["state"] == "cancelled"
    });
    assert!(server.terminate().success());
}
