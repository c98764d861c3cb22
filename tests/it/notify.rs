//! Notifications against real receivers on loopback: a webhook receiver that
//! verifies the Standard Webhooks signature itself, an SMTP server (aiosmtpd
//! from PyPI), pings; one alert per failure streak and one recovery; the
//! watchdog's `backup.stale` when nothing runs; retries of a failing channel
//! recorded without changing the run; and what an API caller may not do
//! with a channel.

use crate::api::{Client, token};
use crate::common::*;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use std::time::Duration;

/// A Standard Webhooks key, as `echo whsec_$(openssl rand -base64 32)` makes.
const HOOK_KEY: &str = "whsec_c2F1dmUtdGVzdC1zaWduaW5nLWtleS0wMTIzNDU2Nzg5YWI=";

/// The receiver's own check of a webhook, written from the scheme's text,
/// not from Sauve's code: HMAC-SHA256 of "id.timestamp.body" under the
/// key's bytes, base64, after `v1,`; and a timestamp near now.
fn verify_signature(r: &Request) {
    let key = STANDARD
        .decode(HOOK_KEY.trim_start_matches("whsec_"))
        .unwrap();
    let (id, ts) = (r.header("webhook-id"), r.header("webhook-timestamp"));
    assert!(!id.is_empty(), "webhook-id missing: {r:?}");
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{ts}.{}", r.body).as_bytes());
    let want = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    let got = r.header("webhook-signature");
    assert!(
        got.split(' ').any(|s| s == want),
        "signature {got:?}, expected {want:?}"
    );
    let sent: i64 = ts.parse().expect("a timestamp in seconds");
    let now = jiff::Timestamp::now().as_second();
    assert!(
        (now - sent).abs() < 300,
        "timestamp {sent} is not near {now}"
    );
}

fn events(reqs: &[Request]) -> Vec<String> {
    reqs.iter()
        .map(|r| r.json()["type"].as_str().unwrap_or("?").to_string())
        .collect()
}

/// How many runs of `job` are in `state` (the store shared by every instance).
fn runs_in(sauve: &Sauve, job: &str, state: &str) -> usize {
    sauve
        .run(&[
            "run", "list", "--job", job, "--state", state, "--limit", "1000", "--json",
        ])
        .ok()
        .json()
        .as_array()
        .map_or(0, Vec::len)
}

fn write_jobs(sauve: &Sauve, toml: &str) {
    let file = sauve.dest("jobs.toml");
    std::fs::write(&file, toml).unwrap();
    sauve.run(&["job", "apply", file.to_str().unwrap()]).ok();
}

fn make_db(path: &std::path::Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")
        .unwrap();
}

#[test]
fn a_job_failing_every_2s_sends_one_signed_alert_then_one_recovery() {
    let sauve = Sauve::new();
    let hooks = Receiver::start();
    sauve.set_secret("hook", HOOK_KEY, &["--host", "127.0.0.1"]);
    let db = sauve.dest("app.db");
    let dest = sauve.dest("backups");
    // The source does not exist yet: every run fails until it does.
    write_jobs(
        &sauve,
        &format!(
            r#"[[job]]
name = "app"
source = "sqlite://{db}"
destinations = ["{dest}"]
schedule = "every 2s"
max_attempts = 1
notify = [
  "webhook+http://{hook}?secret=secret:hook",
  "ping+http://{ping}",
  "webhook+http://{fail}?events=run.failed,run.recovered",
]
"#,
            db = db.display(),
            dest = dest.display(),
            hook = hooks.url("/hook"),
            ping = hooks.url("/ping/check-1"),
            fail = hooks.url("/fail/hook"),
        ),
    );
    let server = sauve.spawn_server(ServerOpts::new().tick_ms(100).args([
        "--retry-base-secs",
        "1",
        "--watchdog-secs",
        "1",
    ]));
    let api = Client::bearer(&server.base, &token(&sauve, "t", "all"));
    let failed_runs = || runs_in(&sauve, "app", "failed");
    wait_until(Duration::from_secs(30), "four failed runs", || {
        failed_runs() >= 4
    });
    wait_until(Duration::from_secs(10), "the alert", || {
        !hooks.requests("/hook").is_empty()
    });
    make_db(&db);
    let ok_runs = || runs_in(&sauve, "app", "succeeded");
    wait_until(Duration::from_secs(30), "a succeeded run", || ok_runs() > 0);
    wait_until(Duration::from_secs(10), "the recovery", || {
        hooks.requests("/hook").len() >= 2
    });
    // Two more slots succeed: nothing more to say.
    let before = ok_runs();
    wait_until(Duration::from_secs(20), "two more successes", || {
        ok_runs() >= before + 2
    });
    let failures = failed_runs();
    let got = hooks.requests("/hook");
    assert_eq!(
        events(&got),
        ["run.failed", "run.recovered"],
        "{failures} failed runs; {got:?}"
    );
    for r in &got {
        assert_eq!(r.method, "POST");
        verify_signature(r);
        assert_eq!(r.header("content-type"), "application/json");
    }
    assert_ne!(got[0].header("webhook-id"), got[1].header("webhook-id"));
    let failed = got[0].json();
    assert_eq!(failed["data"]["job"], "app");
    assert_eq!(failed["data"]["kind"], "backup");
    assert_eq!(failed["data"]["state"], "failed");
    assert!(
        failed["data"]["error"].as_str().unwrap().contains("app.db"),
        "{failed}"
    );
    assert!(failed["data"]["log_tail"].as_str().is_some(), "{failed}");
    assert_eq!(failed["data"]["streak"]["failures"], 1);
    let recovered = got[1].json();
    assert!(recovered["data"]["streak"]["failures"].as_u64().unwrap() >= 4);

    // Pings follow every run: a start, then a success or a failure, paired by rid.
    let pings = hooks.requests("/ping/check-1");
    let count = |suffix: &str| {
        pings
            .iter()
            .filter(|p| p.path.split('?').next().unwrap().ends_with(suffix))
            .count()
    };
    let starts = count("/start");
    assert!(
        starts >= failures + 3,
        "{starts} starts for {failures} failures: {pings:?}"
    );
    assert!(count("/fail") >= failures, "{pings:?}");
    assert!(pings.iter().all(|p| p.path.contains("rid=")), "{pings:?}");

    // The failing channel: retried with back-off, each attempt recorded,
    // the runs unchanged; the list says the channel is failing.
    wait_until(
        Duration::from_secs(20),
        "retries of the failing channel",
        || hooks.requests("/fail/hook").len() >= 3,
    );
    let n = api
        .get("/api/admin/notifications?limit=200")
        .expect(200)
        .json();
    let failing: Vec<&serde_json::Value> = n["channels"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["failing"] == true)
        .collect();
    assert_eq!(failing.len(), 1, "{n}");
    assert!(
        failing[0]["channel"]
            .as_str()
            .unwrap()
            .contains("/fail/hook")
    );
    let retried = n["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| {
            d["channel"].as_str().unwrap().contains("/fail/hook")
                && d["attempts"].as_i64() >= Some(2)
        })
        .unwrap_or_else(|| panic!("a retried delivery: {n}"));
    assert_eq!(retried["last_status"], 500);
    let attempts = api
        .get(&format!(
            "/api/admin/notifications/{}/attempts",
            retried["id"].as_str().unwrap()
        ))
        .expect(200)
        .json();
    assert!(attempts.as_array().unwrap().len() >= 2, "{attempts}");
    assert_eq!(attempts[0]["status"], 500);
    let sent = n["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["channel"].as_str().unwrap().contains("/hook?") && d["state"] == "sent")
        .count();
    assert_eq!(sent, 2, "{n}");
    assert!(!server.log().contains(HOOK_KEY.trim_start_matches("whsec_")));
    let metrics = api.get("/metrics").expect(200).body;
    assert!(
        metrics.contains("sauve_notifications_total{channel=\"webhook\",outcome=\"sent\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("sauve_notifications_total{channel=\"webhook\",outcome=\"retry\"}"));
}

/// aiosmtpd on a free loopback port, writing each message to a Maildir.
struct Smtp {
    port: u16,
    maildir: tempfile::TempDir,
    child: std::process::Child,
}

impl Smtp {
    fn start() -> Smtp {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let maildir = tempfile::tempdir().unwrap();
        let child = std::process::Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            // A path that does not exist yet: Python's Maildir creates its
            // cur/new/tmp only when it creates the folder itself.
            .arg(maildir.path().join("mail"))
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("python3 -m aiosmtpd (scripts/setup installs it)");
        wait_until(Duration::from_secs(20), "aiosmtpd to listen", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        Smtp {
            port,
            maildir,
            child,
        }
    }

    /// The messages received, oldest first.
    fn messages(&self) -> Vec<String> {
        let dir = self.maildir.path().join("mail/new");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        files
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn header<'a>(message: &'a str, name: &str) -> &'a str {
    message
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or("")
}

#[test]
fn email_once_per_streak_from_foreground_runs() {
    let smtp = Smtp::start();
    let sauve = Sauve::new();
    let db = sauve.dest("shop.db");
    let channel = format!(
        "smtp://127.0.0.1:{}?from=sauve@backup.test&to=ops@backup.test,cto@backup.test&tls=none",
        smtp.port
    );
    sauve
        .run(&[
            "job",
            "create",
            "shop",
            "--source",
            &format!("sqlite://{}", db.display()),
            "--dest",
            sauve.dest("b").to_str().unwrap(),
            "--notify",
            &channel,
        ])
        .ok();
    // Three failures in a row, from `backup run` with no server: the first
    // opens the streak and mails; the next two say nothing.
    for _ in 0..3 {
        sauve.run(&["backup", "run", "shop"]).fails(1, &["shop.db"]);
    }
    wait_until(Duration::from_secs(10), "one message", || {
        !smtp.messages().is_empty()
    });
    make_db(&db);
    sauve.run(&["backup", "run", "shop"]).ok();
    wait_until(Duration::from_secs(10), "the recovery message", || {
        smtp.messages().len() >= 2
    });
    sauve.run(&["backup", "run", "shop"]).ok();
    let messages = smtp.messages();
    assert_eq!(messages.len(), 2, "{messages:#?}");
    let (failed, recovered) = (&messages[0], &messages[1]);
    assert_eq!(header(failed, "Subject"), "[Sauve] shop: backup failed");
    assert_eq!(
        header(recovered, "Subject"),
        "[Sauve] shop: backups work again"
    );
    assert!(header(failed, "To").contains("ops@backup.test"), "{failed}");
    assert!(header(failed, "To").contains("cto@backup.test"), "{failed}");
    assert!(failed.contains("multipart/alternative") && failed.contains("text/html"));
    // The body says what failed, to which job, and shows the log's end.
    assert!(failed.contains("shop.db"), "{failed}");
    assert!(failed.contains("last lines of the log"), "{failed}");
    let list = sauve
        .run(&["notify", "list", "--job", "shop", "--json"])
        .ok()
        .json();
    let states: Vec<&str> = list["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["sent", "sent"], "{list}");
    // The failed run's log says what became of its alert.
    let run = list["deliveries"][1]["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    let log = sauve.run(&["run", "log", &run]).ok().stdout();
    assert!(
        log.contains("notification run.failed to smtp 127.0.0.1: sent (250)"),
        "{log}"
    );
    // Each line of Sauve's own is stamped with when it was written.
    let first = log.lines().next().unwrap();
    assert!(
        first
            .split(' ')
            .next()
            .unwrap()
            .parse::<jiff::Timestamp>()
            .is_ok(),
        "{first}"
    );
}

#[test]
fn the_watchdog_says_when_nothing_ran_once_per_staleness() {
    let sauve = Sauve::new();
    let hooks = Receiver::start();
    let db = sauve.dest("app.db");
    make_db(&db);
    // Scheduled for once a year: nothing will run. max_age 3s says when
    // that is too long; the watchdog, not a run, must notice.
    write_jobs(
        &sauve,
        &format!(
            r#"[[job]]
name = "quiet"
source = "sqlite://{db}"
destinations = ["{dest}"]
schedule = "cron \"0 3 1 1 *\""
max_age = "3s"
remind_every = "1h"
notify = ["webhook+http://{hook}"]
"#,
            db = db.display(),
            dest = sauve.dest("b").display(),
            hook = hooks.url("/hook"),
        ),
    );
    let server = sauve.spawn_server(
        ServerOpts::new()
            .tick_ms(100)
            .args(["--watchdog-secs", "1"]),
    );
    let api = Client::bearer(&server.base, &token(&sauve, "t", "all"));
    wait_until(Duration::from_secs(15), "backup.stale", || {
        !hooks.requests("/hook").is_empty()
    });
    let stale = hooks.requests("/hook")[0].json();
    assert_eq!(stale["type"], "backup.stale", "{stale}");
    assert_eq!(stale["data"]["job"], "quiet");
    assert_eq!(
        stale["data"]["stale"]["last_backup_at"],
        serde_json::Value::Null
    );
    assert_eq!(stale["data"]["stale"]["max_age_secs"], 3);
    let metrics = api.get("/metrics").expect(200).body;
    assert!(
        metrics.contains("sauve_job_stale{job=\"quiet\"} 1"),
        "{metrics}"
    );
    // Still stale a few ticks later: no second alert (remind_every is 1h).
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(events(&hooks.requests("/hook")), ["backup.stale"]);
    // A backup clears it, and says so.
    sauve.run(&["backup", "run", "quiet"]).ok();
    wait_until(Duration::from_secs(10), "run.recovered", || {
        hooks.requests("/hook").len() >= 2
    });
    wait_until(Duration::from_secs(10), "the gauge back to 0", || {
        api.get("/metrics")
            .expect(200)
            .body
            .contains("sauve_job_stale{job=\"quiet\"} 0")
    });
    // 3 s after that backup it is stale again: a new staleness, a new alert.
    wait_until(Duration::from_secs(15), "the second staleness", || {
        hooks.requests("/hook").len() >= 3
    });
    let got = hooks.requests("/hook");
    assert_eq!(
        events(&got),
        ["backup.stale", "run.recovered", "backup.stale"]
    );
    assert!(got[2].json()["data"]["stale"]["last_backup_at"].is_string());
}

#[test]
fn channel_kinds_speak_their_receivers_formats() {
    let sauve = Sauve::new();
    let rx = Receiver::start();
    // The webhook URLs of Slack and Discord are secrets; bound to this
    // receiver's host for the test, as an operator binds hooks.slack.com.
    sauve.set_secret(
        "slack",
        &format!("http://{}", rx.url("/slack/T1/B2/x")),
        &["--host", "127.0.0.1"],
    );
    sauve.set_secret(
        "discord",
        &format!("http://{}", rx.url("/discord/1/x")),
        &["--host", "127.0.0.1"],
    );
    sauve.set_secret("ntfy", "tk_test_token", &["--host", "127.0.0.1"]);
    for uri in [
        "slack://secret:slack".to_string(),
        "discord://secret:discord".to_string(),
        format!("ntfy+http://{}?token=secret:ntfy", rx.url("/backups")),
        format!("ping+http://{}", rx.url("/ping/abc")),
        format!("webhook+http://{}", rx.url("/plain")),
    ] {
        let out = sauve.run(&["notify", "test", &uri, "--json"]).ok().json();
        assert_eq!(out["status"], 200, "{uri}: {out}");
    }
    let slack = rx.requests("/slack/T1/B2/x")[0].json();
    assert!(
        slack["text"]
            .as_str()
            .unwrap()
            .starts_with("*[Sauve] sauve: test notification*"),
        "{slack}"
    );
    let discord = rx.requests("/discord/1/x")[0].json();
    assert!(
        discord["content"]
            .as_str()
            .unwrap()
            .contains("test notification")
    );
    assert_eq!(discord["allowed_mentions"]["parse"], serde_json::json!([]));
    let ntfy = &rx.requests("/backups")[0];
    assert_eq!(ntfy.header("title"), "[Sauve] sauve: test notification");
    assert_eq!(ntfy.header("authorization"), "Bearer tk_test_token");
    assert_eq!(rx.requests("/ping/abc").len(), 1);
    let plain = &rx.requests("/plain")[0];
    assert_eq!(plain.json()["type"], "notify.test");
    assert_eq!(
        plain.header("webhook-signature"),
        "",
        "no key, no signature"
    );

    // A failing receiver: the command says so and exits 1.
    sauve
        .run(&[
            "notify",
            "test",
            &format!("webhook+http://{}", rx.url("/fail/x")),
        ])
        .fails(1, &["answered HTTP 500"]);
    // Nobody listening: unreachable, exit 1.
    sauve
        .run(&["notify", "test", "webhook+http://127.0.0.1:9/x"])
        .fails(1, &["cannot reach 127.0.0.1"]);
}

#[test]
fn channels_never_carry_a_secret_where_the_caller_points() {
    let sauve = Sauve::new();
    let rx = Receiver::start();
    // A trap on another loopback address: nothing may reach it.
    let trap = Receiver::start_on("127.0.0.2");
    sauve.set_secret("hook", HOOK_KEY, &["--host", "127.0.0.1"]);
    // A Slack secret whose URL points at a host it is not bound to.
    sauve.set_secret(
        "slack",
        &format!("http://127.0.0.2:{}/steal", trap.port),
        &["--host", "hooks.slack.com"],
    );
    let trap_hook = format!(
        "webhook+http://127.0.0.2:{}/x?secret=secret:hook",
        trap.port
    );
    sauve
        .run(&["notify", "test", &trap_hook])
        .fails(2, &["not bound to 127.0.0.2"]);
    sauve
        .run(&["notify", "test", "slack://secret:slack"])
        .fails(2, &["not bound to the host its value points to"]);
    // Inline values are refused before anything is sent.
    for (uri, needle) in [
        (
            "webhook+https://h.example/x?secret=whsec_abc",
            "secret:NAME",
        ),
        ("slack://hooks.slack.com/services/T/B/X", "never inline"),
        (
            "webhook+http://10.1.2.3/x",
            "only for a receiver on this machine",
        ),
        (
            "webhook+https://h.example/x?secret_env=SAUVE_MASTER_KEY",
            "SAUVE_",
        ),
    ] {
        sauve.run(&["notify", "test", uri]).fails(2, &[needle]);
    }
    assert_eq!(trap.count(), 0, "the trap received {:?}", trap.requests(""));

    // Through the API: named secrets only, no clear-text channel, admins only.
    let server = sauve.spawn_server(ServerOpts::new().workers(0));
    let writer = Client::bearer(&server.base, &token(&sauve, "w", "jobs:read,jobs:write"));
    let job = |notify: &str| {
        serde_json::json!({
            "name": "j",
            "source": format!("sqlite://{}", sauve.dest("a.db").display()),
            "destinations": [sauve.dest("b").display().to_string()],
            "notify": [notify],
        })
    };
    for (notify, needle) in [
        (format!("webhook+http://{}", rx.url("/x")), "clear text"),
        ("slack://env:HOME".to_string(), "through the API"),
        (
            "webhook+https://h.example/x?secret_env=HOOK".to_string(),
            "through the API",
        ),
        (
            "ntfy://ntfy.sh/t?token=tk_inline".to_string(),
            "secret:NAME",
        ),
        ("gopher://x".to_string(), "not a channel kind"),
        // Sauve's own API, a database's HTTP port, the cloud's metadata service.
        (
            format!("webhook+https://{}", rx.url("/x")),
            "private network",
        ),
        (
            "ping+https://169.254.169.254/latest/meta-data".to_string(),
            "private network",
        ),
    ] {
        let r = writer
            .post("/api/admin/jobs", job(&notify))
            .expect(422)
            .json();
        assert_eq!(r["field"], "notify[0]", "{notify}: {r}");
        assert!(r.to_string().contains(needle), "{notify}: {r}");
    }
    // A named secret is fine to write (it goes only where it is bound).
    writer
        .post(
            "/api/admin/jobs",
            job("webhook+https://hooks.example.com/x?secret=secret:hook"),
        )
        .expect(201);
    // The test button is an admin's, and a clear-text channel is refused.
    writer
        .post(
            "/api/admin/notifications/test",
            serde_json::json!({"channel": "ntfy://ntfy.sh/t"}),
        )
        .expect(403);
    let admin = Client::bearer(&server.base, &token(&sauve, "a", "all"));
    let r = admin
        .post(
            "/api/admin/notifications/test",
            serde_json::json!({"channel": format!("webhook+http://{}", rx.url("/x"))}),
        )
        .expect(422)
        .json();
    assert!(r.to_string().contains("clear text"), "{r}");
    let r = admin
        .post(
            "/api/admin/notifications/test",
            serde_json::json!({"channel": format!("webhook+https://{}", rx.url("/x"))}),
        )
        .expect(422)
        .json();
    assert!(r.to_string().contains("private network"), "{r}");
    admin
        .post(
            "/api/admin/notifications/test",
            serde_json::json!({"uri": "x"}),
        )
        .expect(422);
    assert_eq!(rx.count(), 0);
    assert_eq!(trap.count(), 0);
}

#[test]
fn the_alerting_rules_file_parses_and_names_metrics_sauve_exports() {
    const RULES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/prometheus/alerts.yml");
    let rules = std::fs::read_to_string(RULES).unwrap();
    // promtool when it is installed; else YAML parsed by Python (PyYAML).
    let checked = std::process::Command::new("promtool")
        .args(["check", "rules"])
        .arg(RULES)
        .output();
    match checked {
        Ok(out) => assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        ),
        Err(_) => {
            let out = std::process::Command::new("python3")
                .args([
                    "-c",
                    "import sys, yaml, json; d = yaml.safe_load(open(sys.argv[1])); \
                     rules = [r for g in d['groups'] for r in g['rules']]; \
                     assert rules and all('alert' in r and 'expr' in r for r in rules); \
                     print(json.dumps([r['expr'] for r in rules]))",
                ])
                .arg(RULES)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    // Every metric an alert reads is one Sauve exports.
    let sauve = Sauve::new();
    let server = sauve.spawn_server(ServerOpts::new().workers(0));
    let metrics = Client::bearer(&server.base, &token(&sauve, "m", "metrics:read"))
        .get("/metrics")
        .expect(200)
        .body;
    let names: Vec<&str> = rules
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("sauve_"))
        .collect();
    assert!(!names.is_empty());
    for name in names {
        let base = name
            .trim_end_matches("_bucket")
            .trim_end_matches("_count")
            .trim_end_matches("_sum");
        assert!(
            metrics.contains(&format!("# TYPE {base} ")),
            "alerts.yml reads {name}, which /metrics does not export"
        );
    }
}

#[test]
fn three_instances_on_postgres_send_each_alert_once() {
    let db = PgDb::create("sauve_notify");
    let mut sauve = Sauve::new();
    sauve.env.push(("SAUVE_DATABASE_URL".into(), pg_url(&db.0)));
    let hooks = Receiver::start();
    let src = sauve.dest("app.db");
    let quiet = sauve.dest("quiet.db");
    make_db(&quiet);
    write_jobs(
        &sauve,
        &format!(
            r#"[[job]]
name = "app"
source = "sqlite://{src}"
destinations = ["{dest}"]
schedule = "every 2s"
max_attempts = 1
notify = ["webhook+http://{hook}"]

[[job]]
name = "quiet"
source = "sqlite://{quiet}"
destinations = ["{dest}"]
schedule = "cron \"0 3 1 1 *\""
max_age = "2s"
notify = ["webhook+http://{hook}"]
"#,
            src = src.display(),
            quiet = quiet.display(),
            dest = sauve.dest("b").display(),
            hook = hooks.url("/hook"),
        ),
    );
    let opts = || {
        ServerOpts::new().tick_ms(100).args([
            "--retry-base-secs",
            "1",
            "--watchdog-secs",
            "1",
            "--lease-secs",
            "2",
        ])
    };
    let mut servers: Vec<Server> = (0..3).map(|_| sauve.spawn_server(opts())).collect();
    let of = |job: &str, kind: &str| {
        hooks
            .requests("/hook")
            .iter()
            .filter(|r| {
                let v = r.json();
                v["type"] == kind && v["data"]["job"] == job
            })
            .count()
    };
    let failed_runs = || runs_in(&sauve, "app", "failed");
    wait_until(
        Duration::from_secs(40),
        "four failed runs and the alerts",
        || failed_runs() >= 4 && of("app", "run.failed") >= 1 && of("quiet", "backup.stale") >= 1,
    );
    // One instance dies; the others carry on. A run it held fails once its
    // lease expires: inside the open streak, so no second alert.
    let dead = format!(":{}:", servers[0].pid());
    servers[0].kill_9();
    servers.remove(0);
    wait_until(
        Duration::from_secs(20),
        "the dead instance's run to be taken over",
        || {
            let running = sauve
                .run(&[
                    "run", "list", "--job", "app", "--state", "running", "--json",
                ])
                .ok()
                .json();
            !running.to_string().contains(&dead)
        },
    );
    make_db(&src);
    wait_until(Duration::from_secs(40), "the recovery", || {
        of("app", "run.recovered") >= 1
    });
    // A few more slots and watchdog ticks on every instance: still once each.
    let ok = || runs_in(&sauve, "app", "succeeded");
    let before = ok();
    wait_until(Duration::from_secs(30), "three more successes", || {
        ok() >= before + 3
    });
    let failures = failed_runs();
    assert!(failures >= 4);
    assert_eq!(
        of("app", "run.failed"),
        1,
        "{failures} failures: {:?}",
        events(&hooks.requests("/hook"))
    );
    assert_eq!(of("app", "run.recovered"), 1);
    assert_eq!(of("quiet", "backup.stale"), 1);
    assert_eq!(
        hooks.requests("/hook").len(),
        3,
        "{:?}",
        events(&hooks.requests("/hook"))
    );
}

#[test]
fn server_logs_can_be_one_json_object_per_line_without_secrets() {
    let sauve = Sauve::new();
    let hooks = Receiver::start();
    sauve.set_secret("hook", HOOK_KEY, &["--host", "127.0.0.1"]);
    let channel = format!("webhook+http://{}?secret=secret:hook", hooks.url("/fail/x"));
    let server = sauve.spawn_server(ServerOpts::new().workers(1).env("SAUVE_LOG", "info").args([
        "--log-format",
        "json",
        // Quick retries: the run's three attempts, then the alert.
        "--retry-base-secs",
        "0",
        "--notify",
        &channel,
    ]));
    // A failing job: its alert is refused by the receiver, so the log has a
    // warning with fields, and the signing key must not be in it.
    sauve.create_job(
        "j",
        &format!("sqlite://{}", sauve.dest("missing.db").display()),
        &[sauve.dest("b").to_str().unwrap()],
    );
    sauve.run(&["backup", "run", "j", "--queue"]).ok();
    wait_until(Duration::from_secs(20), "the refused notification", || {
        !hooks.requests("/fail/x").is_empty()
    });
    wait_until(Duration::from_secs(10), "its log line", || {
        server.log().contains("notification not sent")
    });
    let log = server.log();
    for line in log.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not one JSON object ({e}): {line}"));
        assert!(
            v["timestamp"].is_string() && v["level"].is_string(),
            "{line}"
        );
    }
    let refused = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["message"] == "notification not sent")
        .unwrap();
    assert_eq!(refused["channel"], "webhook");
    assert_eq!(refused["event"], "run.failed");
    assert_eq!(refused["job"], "j");
    assert!(
        refused["error"].as_str().unwrap().contains("HTTP 500"),
        "{refused}"
    );
    assert!(!log.contains(HOOK_KEY.trim_start_matches("whsec_")));
}

#[test]
fn a_cron_driven_backup_run_tells_the_servers_channels() {
    let sauve = Sauve::new();
    let hooks = Receiver::start();
    let hook = format!("webhook+http://{}", hooks.url("/hook"));
    // The server publishes its --notify channels when it starts…
    let mut server = sauve.spawn_server(ServerOpts::new().workers(0).args(["--notify", &hook]));
    server.terminate();
    // …and a `backup run` from cron, with no SAUVE_NOTIFY of its own, tells them.
    sauve.create_job(
        "nightly",
        &format!("sqlite://{}", sauve.dest("gone.db").display()),
        &[sauve.dest("b").to_str().unwrap()],
    );
    sauve
        .run(&["backup", "run", "nightly"])
        .fails(1, &["gone.db"]);
    let got = hooks.requests("/hook");
    assert_eq!(events(&got), ["run.failed"]);
    assert_eq!(got[0].json()["data"]["job"], "nightly");
}

#[test]
fn a_damaged_backup_found_by_verify_is_told_once() {
    let sauve = Sauve::new();
    let hooks = Receiver::start();
    let db = sauve.dest("app.db");
    make_db(&db);
    sauve
        .run(&[
            "job",
            "create",
            "app",
            "--source",
            &format!("sqlite://{}", db.display()),
            "--dest",
            sauve.dest("b").to_str().unwrap(),
            "--notify",
            &format!("webhook+http://{}", hooks.url("/hook")),
        ])
        .ok();
    let id = sauve.backup("app");
    assert_eq!(hooks.count(), 0, "a success after nothing is not news");
    flip_byte(&sauve.artifact_path(&id));
    sauve.run(&["verify", &id]).fails(1, &["is corrupted"]);
    sauve.run(&["verify", &id]).fails(1, &["is corrupted"]);
    let got = hooks.requests("/hook");
    // One per failed verify run: each is its own finding, on its own run.
    assert_eq!(events(&got), ["verify.failed", "verify.failed"]);
    let first = got[0].json();
    assert_eq!(first["data"]["kind"], "verify");
    assert!(
        first["data"]["error"]
            .as_str()
            .unwrap()
            .contains("is corrupted"),
        "{first}"
    );
    assert_ne!(first["data"]["run_id"], got[1].json()["data"]["run_id"]);
}
