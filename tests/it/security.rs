//! The findings of issue 11's abuse review, each reproduced against the real
//! server and kept fixed: no secret reaches a host the caller picks, a
//! `jobs:write` token runs no code, children get a scrubbed environment,
//! paths stay under the allowed roots and off Sauve's own data, and the
//! smaller holes (scopes, test endpoints, restore keys, never-firing
//! schedules, click floods) stay closed.

use crate::api::{Client, add_user, token};
use crate::common::*;
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const PASSPHRASE: &str = "passphrase-never-to-be-sent-3141";
const CRON_SECRET: &str = "cron-secret-never-to-be-sent-2718281828";
const APP_PW: &str = "operator-db-password-1618";
const DAV_PW: &str = "implicit-webdav-password-4669";

/// A loopback listener that records every byte anyone sends it, answering
/// each connection with a 401 so HTTP clients give up quickly.
struct Trap {
    port: u16,
    got: Arc<Mutex<Vec<u8>>>,
}

impl Trap {
    fn new() -> Trap {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let got = Arc::new(Mutex::new(Vec::new()));
        let sink = got.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let sink = sink.clone();
                std::thread::spawn(move || {
                    let mut conn = conn;
                    conn.set_read_timeout(Some(Duration::from_millis(500))).ok();
                    let mut buf = [0u8; 4096];
                    while let Ok(n) = conn.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        sink.lock().unwrap().extend_from_slice(&buf[..n]);
                        let _ = conn.write_all(
                            b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                        );
                    }
                });
            }
        });
        Trap { port, got }
    }

    fn received(&self) -> String {
        String::from_utf8_lossy(&self.got.lock().unwrap()).into_owned()
    }
}

fn b64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// Everything that must never reach the trap, in the forms it would take.
fn leaked(got: &str) -> Vec<&'static str> {
    [PASSPHRASE, CRON_SECRET, APP_PW, DAV_PW]
        .into_iter()
        .filter(|s| got.contains(s) || got.contains(&b64(&format!("u:{s}"))))
        .collect()
}

fn server_env(opts: ServerOpts) -> ServerOpts {
    opts.env("SAUVE_PASSPHRASE", PASSPHRASE)
        .env("SAUVE_CRON_SECRET", CRON_SECRET)
        .env("APP_PW", APP_PW)
        .env("WEBDAV_PASSWORD", DAV_PW)
        .env("AWS_ACCESS_KEY_ID", "AKIAOPERATORKEY")
        .env("AWS_SECRET_ACCESS_KEY", APP_PW)
}

fn set_secret(sauve: &Sauve, name: &str, value: &str, hosts: &[&str]) {
    let args: Vec<&str> = hosts.iter().flat_map(|h| ["--host", h]).collect();
    sauve.set_secret(name, value, &args);
}

#[test]
fn no_secret_reaches_a_host_the_caller_picks() {
    let sauve = Sauve::new();
    let trap = Trap::new();
    let p = trap.port;
    // A secret bound elsewhere, and one bound to the trap (the control that
    // shows the trap would see a leak).
    set_secret(&sauve, "db-elsewhere", APP_PW, &["db.internal:5432"]);
    set_secret(
        &sauve,
        "trap-ok",
        "bound-value-may-go-there",
        &[&format!("127.0.0.1:{p}")],
    );
    let server = sauve.spawn_server(server_env(ServerOpts::new()));
    let admin = Client::bearer(&server.base, &token(&sauve, "admin", "all,exec"));

    let destinations = [
        format!("webdav://127.0.0.1:{p}/x?tls=false&user=u&password_env=SAUVE_PASSPHRASE"),
        format!("webdav://127.0.0.1:{p}/x?tls=false&user=u&password_env=APP_PW"),
        format!("webdav://127.0.0.1:{p}/x?tls=false&user=u"),
        format!("webdav://127.0.0.1:{p}/x?tls=false&user=u&password=secret:db-elsewhere"),
        format!("s3://bkt/p?endpoint=http://127.0.0.1:{p}&access_key_env=SAUVE_CRON_SECRET"),
        format!("s3://bkt/p?endpoint=http://127.0.0.1:{p}"),
        format!(
            "s3://bkt/p?endpoint=http://127.0.0.1:{p}&access_key=secret:db-elsewhere&secret_key=secret:db-elsewhere"
        ),
        format!(
            "azblob://cont/p?account=acct&endpoint=http://127.0.0.1:{p}/acct&key=secret:db-elsewhere"
        ),
    ];
    for d in &destinations {
        let r = admin.post("/api/admin/destinations/test", json!({ "destination": d }));
        assert!(
            r.status == 422 || r.status == 403,
            "{d}: {} {}",
            r.status,
            r.body
        );
        assert!(
            leaked(&r.body).is_empty(),
            "{d}: the answer holds a secret: {}",
            r.body
        );
        // The same URI in a job is refused too, before anything is stored.
        let job = json!({ "name": "j", "source": "sqlite:///nowhere/app.db", "destinations": [d] });
        let r = admin.post("/api/admin/jobs", job);
        assert!(r.status == 422, "job with {d}: {} {}", r.status, r.body);
    }
    let sources = [
        format!("postgres://x@127.0.0.1:{p}/db?password_env=SAUVE_PASSPHRASE"),
        format!("postgres://x@127.0.0.1:{p}/db?password_env=APP_PW"),
        format!("mysql://x@127.0.0.1:{p}/db?password=secret:db-elsewhere"),
    ];
    for s in &sources {
        let r = admin.post("/api/admin/sources/test", json!({ "source": s }));
        assert!(r.status == 422, "{s}: {} {}", r.status, r.body);
        assert!(leaked(&r.body).is_empty(), "{s}: {}", r.body);
    }
    let seen = trap.received();
    assert!(
        leaked(&seen).is_empty(),
        "the trap received {:?}:\n{seen}",
        leaked(&seen)
    );
    assert!(
        !seen.contains("AKIAOPERATORKEY"),
        "the operator's AWS key id reached the trap"
    );

    // The control: a secret bound to the trap is sent there, and only then.
    let ok = format!("webdav://127.0.0.1:{p}/x?tls=false&user=u&password=secret:trap-ok");
    admin.post("/api/admin/destinations/test", json!({ "destination": ok }));
    wait_until(
        Duration::from_secs(10),
        "the bound secret to reach its host",
        || trap.received().contains(&b64("u:bound-value-may-go-there")),
    );
    assert!(leaked(&trap.received()).is_empty());
    assert!(
        !server.log().contains("bound-value-may-go-there"),
        "a secret was logged"
    );
}

#[test]
fn jobs_write_runs_no_code_and_children_see_no_secrets() {
    let sauve = Sauve::new();
    let server = sauve.spawn_server(server_env(ServerOpts::new()));
    let writer = Client::bearer(&server.base, &token(&sauve, "w", "jobs:read,jobs:write"));
    let cmd = json!({
        "name": "shell",
        "source": { "kind": "command", "command": ["sh", "-c", "id"] },
        "destinations": [sauve.dest("b").display().to_string()],
        "schedule": "every 1m",
    });
    let r = writer.post("/api/admin/jobs", cmd.clone());
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(
        r.body.contains("exec"),
        "the refusal names the permission: {}",
        r.body
    );
    let r = writer.post(
        "/api/admin/sources/test",
        json!({ "source": cmd["source"] }),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    // `all` is not enough either; exec is handed out by name.
    let all = Client::bearer(&server.base, &token(&sauve, "a", "all"));
    assert_eq!(all.post("/api/admin/jobs", cmd.clone()).status, 403);
    let exec = Client::bearer(&server.base, &token(&sauve, "x", "jobs:write,exec"));
    exec.post("/api/admin/jobs", cmd).expect(201);

    // What a command (or a dump tool) sees of Sauve's environment.
    let out = sauve.dest("env.txt");
    let toml = format!(
        "[[job]]\nname = \"env\"\ndestinations = [\"{}\"]\n[job.source]\nkind = \"command\"\ncommand = [\"env\"]\nrestore_command = [\"sh\", \"-c\", \"cat > \\\"$SAUVE_RESTORE_TARGET\\\"\"]\n",
        sauve.dest("envb").display()
    );
    std::fs::write(sauve.dest("env.toml"), toml).unwrap();
    let run = |args: &[&str]| {
        let out = sauve
            .command()
            .args(args)
            .env("SAUVE_CRON_SECRET", CRON_SECRET)
            .env("APP_PW", APP_PW)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    run(&[
        "job",
        "apply",
        &sauve.dest("env.toml").display().to_string(),
    ]);
    let id = run(&["backup", "run", "env"]);
    run(&["restore", &id, "--to", &out.display().to_string()]);
    let seen = std::fs::read_to_string(&out).unwrap();
    assert!(seen.contains("PATH="), "{seen}");
    for bad in [CRON_SECRET, APP_PW, "SAUVE_DATA_DIR", "SAUVE_LOG"] {
        assert!(!seen.contains(bad), "a child saw {bad}:\n{seen}");
    }
}

#[test]
fn paths_stay_under_the_allowed_roots_and_off_sauves_data() {
    let sauve = Sauve::new();
    let root = sauve.dir.path().canonicalize().unwrap();
    std::fs::create_dir_all(root.join("app/uploads")).unwrap();
    std::fs::write(root.join("app/uploads/a.txt"), "a").unwrap();
    std::os::unix::fs::symlink("/etc", root.join("app/etc-link")).unwrap();
    let server = sauve.spawn_server(ServerOpts::new().workers(1));
    let admin = Client::bearer(&server.base, &token(&sauve, "admin", "all"));
    let data = sauve.data_dir().canonicalize().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let refused = [
        ("files:///etc", "b1"),
        ("files:///proc/self", "b2"),
        (&*format!("files://{}", data.display()), "b3"),
        (&*format!("sqlite://{}/sauve.db", data.display()), "b4"),
        (
            &*format!("files://{}", root.join("app/etc-link").display()),
            "b5",
        ),
        (&*format!("files://{}", outside.path().display()), "b6"),
        (&*format!("files://{}", root.display()), "b7"),
        // `link/..` is where the kernel says, not where the text says.
        (
            &*format!("files://{}/app/etc-link%2F..%2Froot", root.display()),
            "b8",
        ),
    ];
    for (source, dest) in refused {
        let job = json!({ "name": "p", "source": source, "destinations": [root.join(dest).display().to_string()] });
        let r = admin.post("/api/admin/jobs", job);
        assert_eq!(r.status, 422, "{source}: {}", r.body);
        assert_eq!(r.json()["field"], "source", "{source}: {}", r.body);
    }
    for dest in [
        "/",
        "file:///",
        "/etc/sauve",
        &*data.join("backups").display().to_string(),
        &*outside.path().display().to_string(),
    ] {
        let job = json!({ "name": "p", "source": format!("files://{}", root.join("app/uploads").display()), "destinations": [dest] });
        let r = admin.post("/api/admin/jobs", job);
        assert_eq!(r.status, 422, "{dest}: {}", r.body);
    }
    // Inside the allowed root, a job is fine; its destination inside its
    // own source is left out of the archive.
    let job = json!({
        "name": "app",
        "source": format!("files://{}", root.join("app").display()),
        "destinations": [root.join("app/backups").display().to_string()],
    });
    let r = admin.post("/api/admin/jobs", job);
    assert_eq!(r.status, 201, "{}", r.body);
    let id = sauve.backup("app");
    sauve.backup("app");
    let restored = root.join("restored");
    sauve
        .run(&["restore", &id, "--to", &restored.display().to_string()])
        .ok();
    assert!(restored.join("uploads/a.txt").exists());
    assert!(
        !restored.join("backups").exists(),
        "the destination was archived into itself"
    );
    // Restores into Sauve's data are refused for everyone, whatever --force says.
    let r = admin.post(
        &format!("/api/admin/backups/{id}/restore"),
        json!({ "to": data.display().to_string(), "force": true }),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    sauve
        .run(&[
            "restore",
            &id,
            "--to",
            &data.display().to_string(),
            "--force",
        ])
        .fails(2, &["Sauve's own data"]);
    sauve
        .run(&[
            "restore",
            &id,
            "--to",
            &root.display().to_string(),
            "--force",
        ])
        .fails(2, &["Sauve's own data"]);
    // Nor where backups are kept: a forced restore would replace them.
    for target in [root.join("app/backups"), root.join("app")] {
        let to = target.display().to_string();
        let args = ["restore", id.as_str(), "--to", to.as_str(), "--force"];
        sauve.run(&args).fails(2, &["keeps its backups"]);
    }
    assert!(data.join("sauve.db").exists());
    // An API caller names no variable of the server to decrypt with.
    let r = admin.post(
        &format!("/api/admin/backups/{id}/restore"),
        json!({ "to": root.join("r2").display().to_string(), "passphrase_env": "SAUVE_CRON_SECRET" }),
    );
    assert_eq!(r.status, 422, "{}", r.body);
}

#[test]
fn scopes_test_endpoints_and_small_holes() {
    let sauve = Sauve::new();
    let root = sauve.dir.path().canonicalize().unwrap();
    std::fs::create_dir_all(root.join("src")).unwrap();
    let server = sauve.spawn_server(ServerOpts::new().workers(0));
    add_user(&sauve, "viewer", "viewer", "viewer-password-long");
    let reader = Client::bearer(
        &server.base,
        &token(&sauve, "r", "backups:read,jobs:read,jobs:write"),
    );
    let r = reader.post(
        "/api/admin/destinations/test",
        json!({ "destination": root.join("d").display().to_string() }),
    );
    assert_eq!(
        r.status, 403,
        "the test endpoints are for admins: {}",
        r.body
    );
    let r = reader.post(
        "/api/admin/sources/test",
        json!({ "source": format!("files://{}", root.join("src").display()) }),
    );
    assert_eq!(r.status, 403, "{}", r.body);

    // The test endpoints are rate-limited per caller.
    let admin = Client::bearer(&server.base, &token(&sauve, "admin", "all"));
    let probe = json!({ "destination": root.join("probe").display().to_string() });
    let statuses: Vec<u16> = (0..20)
        .map(|_| {
            admin
                .post("/api/admin/destinations/test", probe.clone())
                .status
        })
        .collect();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let limited = admin.post("/api/admin/destinations/test", probe);
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert!(limited.headers.contains_key("retry-after"));
    assert_eq!(limited.json()["code"], "rate_limited");

    // Twenty clicks queue one backup.
    sauve.create_job(
        "j",
        &format!("files://{}", root.join("src").display()),
        &[&root.join("d").display().to_string()],
    );
    let writer = Client::bearer(&server.base, &token(&sauve, "w", "backups:write,runs:read"));
    let ids: std::collections::HashSet<String> = (0..20)
        .map(|_| {
            writer
                .post("/api/admin/backups", json!({ "job": "j" }))
                .json()["run_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");

    // Viewing is not downloading; verify is work.
    sauve
        .run(&[
            "job",
            "create",
            "k",
            "--source",
            &format!("files://{}", root.join("src").display()),
            "--dest",
            &root.join("d").display().to_string(),
        ])
        .ok();
    let id = sauve.backup("k");
    assert_eq!(
        reader
            .get(&format!("/api/admin/backups/{id}/download"))
            .status,
        403
    );
    assert_eq!(
        reader
            .post(&format!("/api/admin/backups/{id}/verify"), json!({}))
            .status,
        403
    );
    let dl = Client::bearer(&server.base, &token(&sauve, "dl", "backups:download"));
    assert_eq!(
        dl.get(&format!("/api/admin/backups/{id}/download")).status,
        200
    );

    // A schedule that never fires is refused.
    sauve
        .run(&[
            "job",
            "create",
            "never",
            "--source",
            "sqlite:///x/a.db",
            "--dest",
            "/tmp/never",
            "--schedule",
            "cron \"0 0 30 2 *\"",
        ])
        .fails(2, &["matches no date"]);
    // `/` and `file:///` are the same refusal.
    for root in ["/", "file:///"] {
        let args = [
            "job",
            "create",
            "slash",
            "--source",
            "sqlite:///x/a.db",
            "--dest",
            root,
        ];
        sauve.run(&args).fails(2, &["root directory"]);
    }
    // Sauve's own variables are no credential, even for the operator.
    sauve
        .run(&[
            "job",
            "create",
            "own",
            "--source",
            "postgres://u@h/db?password_env=SAUVE_CRON_SECRET",
            "--dest",
            "/tmp/own",
        ])
        .fails(2, &["never sent"]);
}

#[test]
fn secrets_are_sealed_listed_without_values_and_operator_only() {
    let sauve = Sauve::new();
    set_secret(
        &sauve,
        "app-db",
        "sealed-value-577215",
        &["db.example.com:5432"],
    );
    // Nowhere in the data directory in clear: the store, its WAL, anything.
    for entry in std::fs::read_dir(sauve.data_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains("sealed-value-577215"),
                "the value is in {} in clear",
                path.display()
            );
        }
    }
    use std::os::unix::fs::PermissionsExt;
    let mode_of = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode_of(&sauve.data_dir()),
        0o700,
        "a new data directory is private"
    );
    let key = sauve.data_dir().join("master.key");
    assert_eq!(mode_of(&key), 0o600);
    let list = sauve.run(&["secret", "list", "--json"]).ok();
    assert!(
        !list.stdout().contains("sealed-value-577215"),
        "{}",
        list.stdout()
    );
    assert_eq!(
        list.json()[0]["bindings"]["hosts"][0],
        "db.example.com:5432"
    );
    // Another master key cannot open it, and says what to do.
    let other = sauve
        .command()
        .args([
            "job",
            "create",
            "x",
            "--source",
            "postgres://u@db.example.com/app?password=secret:app-db",
            "--dest",
            "/tmp/x",
        ])
        .output()
        .unwrap();
    assert!(
        other.status.success(),
        "{}",
        String::from_utf8_lossy(&other.stderr)
    );
    std::fs::rename(&key, sauve.data_dir().join("master.key.moved")).unwrap();
    sauve
        .run(&["backup", "run", "x"])
        .fails(2, &["app-db", "master key"]);
    std::fs::rename(sauve.data_dir().join("master.key.moved"), &key).unwrap();
    sauve.run(&["secret", "rm", "app-db"]).ok();
    sauve
        .run(&["secret", "rm", "app-db"])
        .fails(2, &["no secret matches"]);
    sauve
        .run(&["secret", "set", "Bad Name"])
        .fails(2, &["not a secret name"]);
}

#[test]
fn disabled_or_removed_users_and_expired_tokens_are_refused() {
    let sauve = Sauve::new();
    let server = sauve.spawn_server(ServerOpts::new());
    add_user(&sauve, "bob", "admin", "bob-password-long-enough");
    let anon = Client::new(&server.base);
    let login = || {
        anon.post(
            "/login",
            json!({ "name": "bob", "password": "bob-password-long-enough" }),
        )
    };
    let r = login().expect(200);
    let cookie = r.headers["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let mut session = Client::new(&server.base);
    session.auth.push(("Cookie".into(), cookie));
    session.get("/api/session").expect(200);

    sauve.run(&["user", "disable", "bob"]).ok();
    assert_eq!(
        session.get("/api/session").status,
        401,
        "a disabled user's session ends"
    );
    assert_eq!(login().status, 401, "a disabled user cannot sign in");
    sauve.run(&["user", "enable", "bob"]).ok();
    login().expect(200);
    sauve.run(&["user", "rm", "bob"]).ok();
    assert_eq!(login().status, 401);
    sauve
        .run(&["user", "rm", "bob"])
        .fails(2, &["no user matches"]);
    let audit = sauve.run(&["user", "list"]).ok().stdout();
    assert!(!audit.contains("bob"), "{audit}");

    let short = token(&sauve, "short", "jobs:read");
    let brief = sauve
        .run(&[
            "token",
            "create",
            "brief",
            "--scope",
            "jobs:read",
            "--expires",
            "2s",
        ])
        .ok()
        .stdout()
        .trim()
        .to_string();
    let api = Client::bearer(&server.base, &brief);
    api.get("/api/admin/jobs").expect(200);
    wait_until(Duration::from_secs(10), "the token to expire", || {
        api.get("/api/admin/jobs").status == 401
    });
    Client::bearer(&server.base, &short)
        .get("/api/admin/jobs")
        .expect(200);
    sauve
        .run(&[
            "token",
            "create",
            "x",
            "--scope",
            "jobs:read",
            "--expires",
            "soon",
        ])
        .fails(2, &["90d"]);
}

/// Files Sauve may not read are skipped with a warning, not a failed run.
/// The test runs the CLI as `nobody` (setpriv), since root reads everything.
#[test]
fn unreadable_files_are_counted_and_skipped() {
    let sauve = Sauve::new();
    let root = sauve.dir.path().canonicalize().unwrap();
    let src = root.join("src");
    std::fs::create_dir_all(src.join("locked")).unwrap();
    std::fs::write(src.join("open.txt"), "readable").unwrap();
    std::fs::write(src.join("secret.txt"), "not for nobody").unwrap();
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
    };
    mode(&src.join("secret.txt"), 0o600);
    mode(&src.join("locked"), 0o700);
    // nobody may walk to everything else, and write the data dir and backups.
    mode(sauve.dir.path(), 0o777);
    std::fs::create_dir_all(sauve.data_dir()).unwrap();
    mode(&sauve.data_dir(), 0o777);
    let as_nobody = |args: &[&str]| {
        let mut cmd = std::process::Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_sauve"))
            .arg("--data-dir")
            .arg(sauve.data_dir())
            .args(args)
            .env("SAUVE_LOG", "warn");
        cmd.output().unwrap()
    };
    let dest = root.join("b").display().to_string();
    let source = format!("files://{}", src.display());
    let out = as_nobody(&["job", "create", "f", "--source", &source, "--dest", &dest]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = as_nobody(&["backup", "run", "f", "--json"]);
    assert!(
        out.status.success(),
        "an unreadable file failed the run: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let runs = as_nobody(&["run", "list", "--json"]);
    let runs: serde_json::Value = serde_json::from_slice(&runs.stdout).unwrap();
    let run_id = runs[0]["id"].as_str().unwrap().to_string();
    let shown = as_nobody(&["run", "show", &run_id, "--json"]);
    let run: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    let log = run["log"].as_str().unwrap_or_default();
    assert!(log.contains("2 unreadable skipped"), "{log}");
    assert!(
        log.contains("secret.txt") && log.contains("locked"),
        "{log}"
    );
}

/// libpq reads a `--dbname` holding `=` as connection settings: a database
/// name must not carry a `host=` that takes the password elsewhere.
#[test]
fn a_database_name_cannot_redirect_the_password() {
    let sauve = Sauve::new();
    let trap = Trap::new();
    set_secret(&sauve, "pg", APP_PW, &["127.0.0.1:5432"]);
    let server = sauve.spawn_server(ServerOpts::new());
    let admin = Client::bearer(&server.base, &token(&sauve, "admin", "all"));
    let sneaky = format!(
        "postgres://postgres@127.0.0.1:5432/host%3D127.0.0.1%20port%3D{}%20dbname%3Dx?password=secret:pg",
        trap.port
    );
    let r = admin.post("/api/admin/sources/test", json!({ "source": sneaky }));
    assert!(r.status >= 400, "{}", r.body);
    assert_eq!(trap.received(), "", "psql connected to the trap");
}

/// The default data directory is relative (`./sauve-data`): it is protected
/// as the absolute path it is.
#[test]
fn a_relative_data_dir_is_protected() {
    let sauve = Sauve::new();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sauve"))
        .current_dir(sauve.dir.path())
        .args(["--data-dir", "data", "serve", "--listen", "127.0.0.1:0"])
        .env_remove("SAUVE_DATABASE_URL")
        .env("SAUVE_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    use std::io::BufRead;
    // Kept open while the server runs: it writes to it.
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    stdout.read_line(&mut line).unwrap();
    let base = format!(
        "http://{}",
        line.split_once("listening on http://").unwrap().1.trim()
    );
    let admin = Client::bearer(&base, &token(&sauve, "admin", "all"));
    let root = sauve.dir.path().canonicalize().unwrap();
    for source in [
        format!("files://{}/data", root.display()),
        format!("sqlite://{}/data/sauve.db", root.display()),
        format!("files://{}", root.display()),
    ] {
        let job = json!({ "name": "d", "source": source, "destinations": [root.join("b").display().to_string()] });
        let r = admin.post("/api/admin/jobs", job);
        assert_eq!(r.status, 422, "{source}: {}", r.body);
    }
    let _ = child.kill();
    let _ = child.wait();
}
