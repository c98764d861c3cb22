//! The HTTP API against the real `sauve serve` on a random port: every route's
//! happy path and refusals, scopes and roles, sessions with CSRF and login rate
//! limits, the cron trigger, idempotency under concurrency, metrics, and that no
//! secret ever shows up in a response or a log.

use crate::common::*;
use serde_json::{Value, json};
use std::io::BufRead;
use std::process::Stdio;
use std::time::{Duration, Instant};

const CRON_SECRET: &str = "cron-secret-0123456789abcdef01234567";
const ADMIN_PASSWORD: &str = "admin-password-for-tests";

/// The API tests' server: quick ticks, and an info-level log for the check that
/// no secret reaches it.
fn opts() -> ServerOpts {
    ServerOpts::new().tick_ms(100).env("SAUVE_LOG", "info")
}

/// A tiny client: every call returns (status, body, headers).
pub(crate) struct Client {
    agent: ureq::Agent,
    base: String,
    pub(crate) auth: Vec<(String, String)>,
}

pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: String,
    pub(crate) headers: ureq::http::HeaderMap,
}

impl Reply {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    #[track_caller]
    pub(crate) fn expect(self, status: u16) -> Self {
        assert_eq!(self.status, status, "body: {}", self.body);
        self
    }
}

impl Client {
    pub(crate) fn new(base: &str) -> Client {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        Client {
            agent,
            base: base.to_string(),
            auth: vec![],
        }
    }

    pub(crate) fn bearer(base: &str, token: &str) -> Client {
        let mut c = Client::new(base);
        c.auth
            .push(("Authorization".into(), format!("Bearer {token}")));
        c
    }

    pub(crate) fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        extra: &[(&str, &str)],
    ) -> Reply {
        let url = format!("{}{path}", self.base);
        let headers: Vec<(String, String)> = self
            .auth
            .iter()
            .cloned()
            .chain(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())))
            .collect();
        macro_rules! with_headers {
            ($req:expr) => {{
                let mut r = $req;
                for (k, v) in &headers {
                    r = r.header(k.as_str(), v.as_str());
                }
                r
            }};
        }
        let result = match method {
            "GET" => with_headers!(self.agent.get(&url)).call(),
            "DELETE" => with_headers!(self.agent.delete(&url)).call(),
            "POST" | "PUT" => {
                let req = if method == "POST" {
                    self.agent.post(&url)
                } else {
                    self.agent.put(&url)
                };
                let req = with_headers!(req);
                match body {
                    Some(b) => req.send_json(b),
                    None => req.send(""),
                }
            }
            m => panic!("method {m}"),
        };
        let mut resp = result.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.body_mut().read_to_string().unwrap_or_default();
        Reply {
            status,
            body,
            headers,
        }
    }

    pub(crate) fn get(&self, path: &str) -> Reply {
        self.call("GET", path, None, &[])
    }
    pub(crate) fn post(&self, path: &str, body: Value) -> Reply {
        self.call("POST", path, Some(body), &[])
    }
}

pub(crate) fn token(sauve: &Sauve, name: &str, scopes: &str) -> String {
    sauve
        .run(&["token", "create", name, "--scope", scopes])
        .ok()
        .stdout()
        .trim()
        .to_string()
}

pub(crate) fn add_user(sauve: &Sauve, name: &str, role: &str, password: &str) {
    let mut child = sauve
        .command()
        .args(["user", "add", name, "--role", role, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    assert!(child.wait().unwrap().success());
}

fn wait_run(api: &Client, run_id: &str, state: &str) -> Value {
    let mut r = Value::Null;
    let reached = poll_until(Duration::from_secs(30), || {
        r = api
            .get(&format!("/api/admin/runs/{run_id}"))
            .expect(200)
            .json();
        r["state"] == state
    });
    assert!(reached, "run {run_id} never reached {state}: {r}");
    r
}

fn sqlite_db(sauve: &Sauve) -> std::path::PathBuf {
    let db = sauve.dest("app.db");
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute_batch("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('hello'), ('world');")
        .unwrap();
    db
}

#[test]
fn jobs_backups_runs_and_restore_over_the_api() {
    let sauve = Sauve::new();
    let all = token(&sauve, "admin-all", "all");
    let server = sauve.spawn_server(opts());
    let api = Client::bearer(&server.base, &all);
    let db = sqlite_db(&sauve);
    let dest = sauve.dest("backups");

    // Jobs: create, refuse bad input with the field, read, change, preview.
    let spec = json!({
        "name": "notes", "source": format!("sqlite://{}", db.display()),
        "destinations": [dest.display().to_string()],
    });
    let created = api.post("/api/admin/jobs", spec.clone()).expect(201).json();
    assert_eq!(created["source_kind"], "sqlite");
    api.post("/api/admin/jobs", spec.clone()).expect(409);
    let bad = api
        .post(
            "/api/admin/jobs",
            json!({"name": "Bad", "source": "ftp://x", "destinations": []}),
        )
        .expect(422)
        .json();
    assert_eq!(bad["code"], "invalid");
    assert_eq!(bad["field"], "name");
    let fields: Vec<_> = bad["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "source", "destinations"]);
    let typo = api
        .post("/api/admin/jobs", json!({"name": "x", "soruce": "y"}))
        .expect(422)
        .json();
    assert!(
        typo["message"].as_str().unwrap().contains("soruce"),
        "{typo}"
    );
    api.call("POST", "/api/admin/jobs", None, &[]).expect(422);
    let mut scheduled = spec.clone();
    scheduled["schedule"] = json!("daily at 02:00");
    scheduled["timezone"] = json!("Europe/Paris");
    let put = api
        .call("PUT", "/api/admin/jobs/notes", Some(scheduled.clone()), &[])
        .expect(200)
        .json();
    assert_eq!(
        put["schedule_description"],
        "every day at 02:00 (Europe/Paris)"
    );
    assert!(put["next_run"].is_string());
    api.call("PUT", "/api/admin/jobs/other", Some(scheduled), &[])
        .expect(422);
    let listed = api.get("/api/admin/jobs").expect(200).json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    api.get("/api/admin/jobs/notes").expect(200);
    api.get("/api/admin/jobs/nope").expect(404);
    let preview = api
        .get("/api/admin/schedule/preview?spec=every%206h&tz=UTC&count=3")
        .expect(200)
        .json();
    assert_eq!(preview["next"].as_array().unwrap().len(), 3);
    let wrong = api
        .get("/api/admin/schedule/preview?spec=weekly%20on%20thx%20at%2002:00")
        .expect(422)
        .json();
    assert_eq!(wrong["field"], "schedule");

    // Back up now: 202 with the run; the same Idempotency-Key answers the same run.
    let first = api
        .call(
            "POST",
            "/api/admin/backups",
            Some(json!({"job": "notes"})),
            &[("Idempotency-Key", "k-1")],
        )
        .expect(202)
        .json();
    let again = api
        .call(
            "POST",
            "/api/admin/backups",
            Some(json!({"job": "notes"})),
            &[("Idempotency-Key", "k-1")],
        )
        .expect(202)
        .json();
    assert_eq!(first["run_id"], again["run_id"]);
    assert_eq!(
        (first["created"].clone(), again["created"].clone()),
        (json!(true), json!(false))
    );
    api.post("/api/admin/backups", json!({"job": "nope"}))
        .expect(404);
    wait_run(&api, first["run_id"].as_str().unwrap(), "succeeded");
    let second = api
        .post("/api/admin/backups", json!({"job": "notes"}))
        .expect(202)
        .json();
    wait_run(&api, second["run_id"].as_str().unwrap(), "succeeded");

    // Pagination by cursor.
    let page1 = api
        .get("/api/admin/backups?job=notes&limit=1")
        .expect(200)
        .json();
    assert_eq!(page1["items"].as_array().unwrap().len(), 1);
    let cursor = page1["next_cursor"]
        .as_str()
        .expect("a second page")
        .to_string();
    let page2 = api
        .get(&format!(
            "/api/admin/backups?job=notes&limit=1&cursor={cursor}"
        ))
        .expect(200)
        .json();
    assert_eq!(page2["items"].as_array().unwrap().len(), 1);
    assert!(page2["next_cursor"].is_null());
    assert_ne!(page1["items"][0]["id"], page2["items"][0]["id"]);
    let backup = page2["items"][0].clone();
    let id = backup["id"].as_str().unwrap();
    api.get(&format!("/api/admin/backups/{id}")).expect(200);

    // Download: streamed, with length and checksum headers that match the bytes.
    let dl = api
        .get(&format!("/api/admin/backups/{id}/download"))
        .expect(200);
    assert_eq!(
        dl.headers["x-checksum-sha256"].to_str().unwrap(),
        backup["sha256"].as_str().unwrap()
    );
    assert_eq!(
        dl.headers["content-length"].to_str().unwrap(),
        backup["size"].to_string()
    );

    // Restore into a new file; a second restore there is refused (409).
    let target = sauve.dest("restored.db");
    let r = api
        .post(
            &format!("/api/admin/backups/{id}/restore"),
            json!({"to": target.display().to_string()}),
        )
        .expect(202)
        .json();
    wait_run(&api, r["run_id"].as_str().unwrap(), "succeeded");
    let c = rusqlite::Connection::open(&target).unwrap();
    let n: i64 = c
        .query_row("SELECT count(*) FROM notes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2);
    let refused = api
        .post(
            &format!("/api/admin/backups/{id}/restore"),
            json!({"to": target.display().to_string()}),
        )
        .expect(409)
        .json();
    assert_eq!(refused["code"], "target_not_empty");
    api.post(
        &format!("/api/admin/backups/{id}/restore"),
        json!({"to": "ftp://x"}),
    )
    .expect(422);

    // Runs: list, filter, show, cancel a finished one.
    let runs = api
        .get("/api/admin/runs?job=notes&state=succeeded")
        .expect(200)
        .json();
    let runs = runs["items"].as_array().unwrap();
    assert!(runs.len() >= 3);
    // Pages of one, newest first, each cursor the last id shown.
    let first = api
        .get("/api/admin/runs?job=notes&state=succeeded&limit=1")
        .expect(200)
        .json();
    assert_eq!(first["items"][0]["id"], runs[0]["id"]);
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_string();
    assert_eq!(cursor, runs[0]["id"].as_str().unwrap());
    let second = api
        .get(&format!(
            "/api/admin/runs?job=notes&state=succeeded&limit=1&cursor={cursor}"
        ))
        .expect(200)
        .json();
    assert_eq!(second["items"][0]["id"], runs[1]["id"]);
    let last = api
        .get(&format!(
            "/api/admin/runs?job=notes&state=succeeded&limit=1&cursor={}",
            runs.last().unwrap()["id"].as_str().unwrap()
        ))
        .expect(200)
        .json();
    assert_eq!(last["items"], json!([]));
    assert!(last["next_cursor"].is_null());
    // An empty cursor is the first page; anything that is not an id is
    // refused with the field named, never read as "the end".
    let again = api
        .get("/api/admin/runs?job=notes&state=succeeded&limit=1&cursor=")
        .expect(200)
        .json();
    assert_eq!(again["items"][0]["id"], runs[0]["id"]);
    for bad in [
        "ZZZ",
        "01KBZ0000000000000000000000",
        "%27%20OR%201%3D1",
        &"a".repeat(27),
    ] {
        for list in ["runs", "backups"] {
            let body = api
                .get(&format!("/api/admin/{list}?cursor={bad}"))
                .expect(422)
                .json();
            assert_eq!(body["field"], "cursor", "{list} {bad}: {body}");
        }
    }
    api.get("/api/admin/runs?state=bogus").expect(422);
    let cancel = api
        .call(
            "POST",
            &format!("/api/admin/runs/{}/cancel", r["run_id"].as_str().unwrap()),
            None,
            &[],
        )
        .expect(200)
        .json();
    assert_eq!(cancel["outcome"], "already_finished");
    api.get("/api/admin/runs/zzzz").expect(404);

    // Delete a backup: gone from the API and from storage.
    api.call("DELETE", &format!("/api/admin/backups/{id}"), None, &[])
        .expect(204);
    api.get(&format!("/api/admin/backups/{id}")).expect(404);
    let artifact = dest.join(backup["key"].as_str().unwrap());
    assert!(!artifact.exists());
    assert!(!std::path::Path::new(&format!("{}.manifest.json", artifact.display())).exists());

    // The audit log has who did what.
    let audit = api.get("/api/admin/audit").expect(200).json();
    let actions: Vec<_> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "job.create",
        "job.update",
        "backup.run",
        "backup.restore",
        "backup.delete",
        "backup.download",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    // What the API did is the token's; the set-up the CLI did is the CLI's.
    for e in audit.as_array().unwrap() {
        let actor = e["actor"].as_str().unwrap();
        if e["action"] == "token.create" {
            assert!(actor.starts_with("cli:"), "{e}");
        } else {
            assert_eq!(actor, "token:admin-all", "{e}");
        }
    }
    api.call("DELETE", "/api/admin/jobs/notes", None, &[])
        .expect(204);
    api.get("/api/admin/jobs/notes").expect(404);
    api.get("/api/admin/nothing-here").expect(404);
    // Test a destination before using it: a working directory, and one that cannot work.
    let checked = api
        .post(
            "/api/admin/destinations/test",
            json!({"destination": sauve.dest("probe").display().to_string()}),
        )
        .expect(200)
        .json();
    assert_eq!(checked["steps"].as_array().unwrap().len(), 4);
    let blocker = sauve.dest("a-file");
    std::fs::write(&blocker, "x").unwrap();
    let refused = api
        .post(
            "/api/admin/destinations/test",
            json!({"destination": format!("{}/sub", blocker.display())}),
        )
        .expect(422)
        .json();
    assert!(
        refused["message"].as_str().unwrap().contains("a-file/sub"),
        "{refused}"
    );
    // (The 1 MiB body limit is tested in-process in server/mod.rs: over a real
    // socket, a client still writing when refused sees a closed connection.)
    drop(server);
}

#[test]
fn run_events_stream_state_and_progress() {
    let sauve = Sauve::new();
    // A command source: code run on the server, so the token needs exec.
    let all = token(&sauve, "all", "all,exec");
    let server = sauve.spawn_server(opts());
    let api = Client::bearer(&server.base, &all);
    let dest = sauve.dest("b");
    // A source that streams 8 MiB over about 2 s, so progress is visible.
    let job = json!({"name": "slow", "destinations": [dest.display().to_string()],
        "source": {"kind": "command", "command": ["sh", "-c", "for i in 1 2 3 4 5 6 7 8; do head -c 1048576 /dev/urandom; sleep 0.25; done"]}});
    api.post("/api/admin/jobs", job).expect(201);
    let run = api
        .post("/api/admin/backups", json!({"job": "slow"}))
        .expect(202)
        .json();
    let run_id = run["run_id"].as_str().unwrap();
    let mut resp = api
        .agent
        .get(format!("{}/api/admin/runs/{run_id}/events", server.base))
        .header("Authorization", format!("Bearer {all}"))
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let reader = std::io::BufReader::new(resp.body_mut().as_reader());
    let (mut states, mut progress) = (Vec::new(), Vec::new());
    let mut name = String::new();
    for line in reader.lines() {
        let line = line.unwrap();
        if let Some(n) = line.strip_prefix("event: ") {
            name = n.to_string();
        } else if let Some(data) = line.strip_prefix("data: ") {
            let v: Value = serde_json::from_str(data).unwrap();
            match name.as_str() {
                "state" => states.push(v["state"].as_str().unwrap().to_string()),
                "progress" => progress.push(v["bytes_in"].as_u64().unwrap()),
                _ => {}
            }
        }
    }
    assert_eq!(
        states.last().map(String::as_str),
        Some("succeeded"),
        "{states:?}"
    );
    assert!(states.iter().any(|s| s == "running"), "{states:?}");
    assert!(progress.len() >= 2, "progress events: {progress:?}");
    assert!(
        progress.windows(2).all(|w| w[0] <= w[1]),
        "bytes only grow: {progress:?}"
    );
    assert!(*progress.last().unwrap() > 0);
    api.get("/api/admin/runs/zzzz/events").expect(404);
}

/// schemathesis generates requests from /api/openapi.json (every operation,
/// valid and invalid inputs, stateful sequences): no 5xx whatever it sends, and
/// every answer conforms to the document (status, content type, body schema). The
/// server runs API-only (`--workers 0`) and the token cannot back up or restore,
/// so no fuzzed job can ever execute on this machine.
#[test]
fn fuzzing_the_api_from_its_openapi_document_finds_no_server_error() {
    let sauve = Sauve::new();
    let fuzz = token(
        &sauve,
        "fuzz",
        "jobs:read,jobs:write,backups:read,runs:read,audit:read,metrics:read",
    );
    let server = sauve.spawn_server(ServerOpts::new().workers(0));
    // As a module of the python3 that scripts/setup installed it into, so it does
    // not depend on where pip put the `schemathesis` script.
    let out = std::process::Command::new("python3")
        // Its example cache goes to the working directory: keep it out of the repo.
        .current_dir(sauve.dir.path())
        .args([
            "-m",
            "schemathesis.cli",
            "run",
            &format!("{}/api/openapi.json", server.base),
        ])
        .args(["--header", &format!("Authorization: Bearer {fuzz}")])
        .args([
            // Not only "no 5xx": every answer's status, content type and body
            // must be what the document says.
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            "--max-examples",
            "25",
            "--seed",
            "1",
        ])
        .output()
        .expect("schemathesis is installed by scripts/setup");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found problems:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains(" passed"), "{report}");
    let runs = Client::bearer(&server.base, &fuzz)
        .get("/api/admin/runs")
        .expect(200)
        .json();
    assert!(
        runs["items"].as_array().unwrap().is_empty(),
        "nothing ran: {runs}"
    );
}

#[test]
fn put_names_the_jobs_own_fields_and_changes_nothing_on_error() {
    let sauve = Sauve::new();
    let db = sqlite_db(&sauve);
    let server = sauve.spawn_server(opts());
    let api = Client::bearer(&server.base, &token(&sauve, "t", "jobs:read,jobs:write"));
    let dest = sauve.dest("backups");
    let spec = |schedule: &str| {
        json!({ "name": "notes", "source": format!("sqlite://{}", db.display()),
                "destinations": [dest.to_string_lossy()], "schedule": schedule })
    };
    api.call(
        "PUT",
        "/api/admin/jobs/notes",
        Some(spec("daily at 02:00")),
        &[],
    )
    .expect(200);
    let refused = api
        .call(
            "PUT",
            "/api/admin/jobs/notes",
            Some(spec("daily at 25:99")),
            &[],
        )
        .expect(422)
        .json();
    assert_eq!(refused["field"], "schedule", "{refused}");
    assert!(
        refused["errors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| !e["field"].as_str().unwrap().starts_with("job[")),
        "{refused}"
    );
    let kept = api.get("/api/admin/jobs/notes").expect(200).json();
    assert_eq!(kept["schedule"], "daily at 02:00", "{kept}");
}

#[test]
fn every_route_refuses_whom_it_must() {
    let sauve = Sauve::new();
    add_user(&sauve, "vera", "viewer", "viewer-password-123");
    let narrow = token(&sauve, "narrow", "backups:read");
    let server = sauve.spawn_server(opts());
    let anonymous = Client::new(&server.base);
    let narrow = Client::bearer(&server.base, &narrow);
    let forged = Client::bearer(&server.base, "sauve_0000");
    // The viewer signs in with a session cookie, and sends the CSRF token.
    let login = Client::new(&server.base)
        .post(
            "/login",
            json!({"name": "vera", "password": "viewer-password-123"}),
        )
        .expect(200);
    let cookie = login.headers["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let csrf = login.json()["csrf_token"].as_str().unwrap().to_string();
    let mut viewer = Client::new(&server.base);
    viewer.auth = vec![("Cookie".into(), cookie), ("X-CSRF-Token".into(), csrf)];

    // Every route, from the API's own document: a route cannot be registered
    // without being documented, so this walks all of them.
    let doc = anonymous.get("/api/openapi.json").expect(200).json();
    assert_eq!(doc["openapi"], "3.0.3");
    let mut checked = 0;
    for (template, ops) in doc["paths"].as_object().unwrap() {
        let path = template.replace("{name}", "x").replace("{id}", "x");
        for (method, op) in ops.as_object().unwrap() {
            let method = method.to_uppercase();
            let scope = op["x-sauve-scope"].as_str().unwrap();
            let query = if path.ends_with("/preview") {
                "?spec=every%201h"
            } else {
                ""
            };
            let path = format!("{path}{query}");
            let body = (method == "POST" || method == "PUT").then(|| json!({}));
            let r = anonymous.call(&method, &path, body.clone(), &[]);
            if scope == "public" {
                assert_ne!(r.status, 401, "public {method} {path}: {}", r.body);
                continue;
            }
            checked += 1;
            assert_eq!(r.status, 401, "anonymous {method} {path}: {}", r.body);
            assert_eq!(r.json()["code"], "unauthorized");
            assert_eq!(
                forged.call(&method, &path, body.clone(), &[]).status,
                401,
                "forged token {method} {path}"
            );
            let is_read = scope == "signed-in" || scope.ends_with(":read");
            if path == "/logout" {
                continue; // it would end the viewer's session; the sessions test covers it
            }
            let as_viewer = viewer.call(&method, &path, body.clone(), &[]);
            if is_read {
                assert!(
                    ![401, 403].contains(&as_viewer.status),
                    "viewer {method} {path}: {}",
                    as_viewer.body
                );
            } else {
                assert_eq!(
                    as_viewer.status, 403,
                    "viewer {method} {path}: {}",
                    as_viewer.body
                );
            }
            let as_narrow = narrow.call(&method, &path, body, &[]);
            if scope == "signed-in" || scope == "backups:read" {
                assert!(
                    ![401, 403].contains(&as_narrow.status),
                    "narrow token {method} {path}: {}",
                    as_narrow.body
                );
            } else {
                assert_eq!(
                    as_narrow.status, 403,
                    "narrow token {method} {path}: {}",
                    as_narrow.body
                );
                assert_eq!(as_narrow.json()["code"], "forbidden");
            }
        }
    }
    assert!(
        checked >= 20,
        "only {checked} protected operations documented"
    );
    // Every schema reference in the document resolves.
    let text = doc.to_string();
    for piece in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = piece.split('"').next().unwrap();
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "dangling $ref {name}"
        );
    }
    // Public routes answer anyone.
    anonymous.get("/healthz").expect(200);
    anonymous.get("/readyz").expect(200);
    anonymous.get("/api/cron/backup").expect(404); // no cron secret configured: off
}

#[test]
fn sessions_csrf_rate_limits_and_logout() {
    let sauve = Sauve::new();
    add_user(&sauve, "ada", "admin", ADMIN_PASSWORD);
    let server = sauve.spawn_server(opts());
    let c = Client::new(&server.base);
    let bad = c
        .post(
            "/login",
            json!({"name": "ada", "password": "wrong-password!"}),
        )
        .expect(401)
        .json();
    assert_eq!(bad["code"], "bad_credentials");
    c.post(
        "/login",
        json!({"name": "nobody", "password": "wrong-password!"}),
    )
    .expect(401);

    let ok = c
        .post("/login", json!({"name": "ada", "password": ADMIN_PASSWORD}))
        .expect(200);
    let set_cookie = ok.headers["set-cookie"].to_str().unwrap().to_string();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(set_cookie.contains(flag), "{set_cookie}");
    }
    assert!(!set_cookie.contains("Secure"), "not behind TLS here");
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    let csrf = ok.json()["csrf_token"].as_str().unwrap().to_string();
    let mut session = Client::new(&server.base);
    session.auth = vec![("Cookie".into(), cookie.clone())];
    let me = session.get("/api/session").expect(200).json();
    assert_eq!(
        (me["name"].as_str(), me["role"].as_str()),
        (Some("ada"), Some("admin"))
    );
    assert_eq!(me["csrf_token"], csrf.as_str());

    // A state change without (or with a wrong) CSRF token is refused.
    // Paths under the directory serve started in: the default --allow-path.
    let job = json!({"name": "x",
        "source": format!("sqlite://{}", sauve.dest("x.db").display()),
        "destinations": [sauve.dest("x").display().to_string()]});
    let refused = session
        .post("/api/admin/jobs", job.clone())
        .expect(403)
        .json();
    assert_eq!(refused["code"], "csrf");
    session
        .call(
            "POST",
            "/api/admin/jobs",
            Some(job.clone()),
            &[("X-CSRF-Token", "nope")],
        )
        .expect(403);
    session
        .call(
            "POST",
            "/api/admin/jobs",
            Some(job),
            &[("X-CSRF-Token", &csrf)],
        )
        .expect(201);

    // Logout ends the session.
    session
        .call("POST", "/logout", None, &[("X-CSRF-Token", &csrf)])
        .expect(204);
    session.get("/api/session").expect(401);

    // Repeated failures are answered 429 with Retry-After, even with the right password.
    for _ in 0..5 {
        c.post(
            "/login",
            json!({"name": "ada", "password": "wrong-password!"}),
        );
    }
    let limited = c
        .post("/login", json!({"name": "ada", "password": ADMIN_PASSWORD}))
        .expect(429);
    assert!(limited.headers.contains_key("retry-after"));
    assert_eq!(limited.json()["code"], "too_many_attempts");
    // The form encoding works too (the dashboard's form posts it).
    let form = Client::new(&server.base)
        .agent
        .post(format!("{}/login", server.base))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send("name=ghost&password=whatever-else")
        .unwrap();
    assert_eq!(form.status().as_u16(), 401);
    let audit = Client::bearer(&server.base, &token(&sauve, "t", "audit:read"))
        .get("/api/admin/audit")
        .expect(200)
        .json();
    let actions: Vec<_> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    assert!(
        actions.contains(&"login".to_string())
            && actions.contains(&"login.failed".to_string())
            && actions.contains(&"logout".to_string())
    );
}

#[test]
fn cron_trigger_idempotency_metrics_and_no_secrets_leak() {
    let sauve = Sauve::new();
    let all = token(&sauve, "all", "all");
    let db = sqlite_db(&sauve);
    let dest = sauve.dest("b");
    let secret_pw = "s3cret-passphrase-never-shown";
    let mut server = sauve.spawn_server(
        opts()
            .env("SAUVE_CRON_SECRET", CRON_SECRET)
            .env("BACKUP_PASS", secret_pw),
    );
    let api = Client::bearer(&server.base, &all);
    // A passphrase from the server's environment is the operator's to name.
    let toml = format!(
        "[[job]]\nname = \"enc\"\nsource = \"sqlite://{}\"\ndestinations = [\"{}\"]\n[job.encryption]\npassphrase_env = \"BACKUP_PASS\"\n",
        db.display(),
        dest.display()
    );
    std::fs::write(sauve.dest("enc.toml"), toml).unwrap();
    sauve
        .run(&["job", "apply", sauve.dest("enc.toml").to_str().unwrap()])
        .ok();

    // Cron: wrong or missing secret 401; right secret queues once per minute.
    let anon = Client::new(&server.base);
    anon.get("/api/cron/backup?job=enc").expect(401);
    Client::bearer(&server.base, "wrong")
        .post("/api/cron/backup?job=enc", json!({}))
        .expect(401);
    let cron = Client::bearer(&server.base, CRON_SECRET);
    let first = cron
        .post("/api/cron/backup?job=enc", json!({}))
        .expect(200)
        .json();
    assert_eq!(first["enqueued"].as_array().unwrap().len(), 1);
    let run_id = first["enqueued"][0]["run_id"].as_str().unwrap().to_string();
    let second = cron.get("/api/cron/backup?job=enc").expect(200).json();
    let minute_rolled = second["enqueued"].as_array().unwrap().len() == 1;
    assert!(minute_rolled || second["enqueued"].as_array().unwrap().is_empty());
    cron.get("/api/cron/backup").expect(200); // the due jobs: none scheduled
    cron.get("/api/cron/backup?job=nope").expect(404);
    let run = wait_run(&api, &run_id, "succeeded");
    assert_eq!(run["trigger"], "cron");

    // 20 concurrent POSTs with one Idempotency-Key: one run.
    let threads: Vec<_> = (0..20)
        .map(|_| {
            let (base, all) = (server.base.clone(), all.clone());
            std::thread::spawn(move || {
                Client::bearer(&base, &all)
                    .call(
                        "POST",
                        "/api/admin/backups",
                        Some(json!({"job": "enc"})),
                        &[("Idempotency-Key", "same")],
                    )
                    .expect(202)
                    .json()["run_id"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
        })
        .collect();
    let ids: std::collections::BTreeSet<String> =
        threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    wait_run(&api, ids.iter().next().unwrap(), "succeeded");

    // Metrics, for a token with metrics:read.
    let m = Client::bearer(&server.base, &token(&sauve, "prom", "metrics:read"))
        .get("/metrics")
        .expect(200);
    assert!(
        m.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    for needle in [
        "sauve_up 1",
        "sauve_last_success_timestamp_seconds{job=\"enc\"}",
        "sauve_runs_total{job=\"enc\",kind=\"backup\",state=\"succeeded\"} 2",
        // No failure yet, but the series is there for increase() to see the first.
        "sauve_runs_total{job=\"enc\",kind=\"backup\",state=\"failed\"} 0",
        "sauve_backup_duration_seconds_count 2",
        "sauve_queue_depth 0",
        "sauve_lease_expiries_total 0",
    ] {
        assert!(m.body.contains(needle), "{needle} missing from\n{}", m.body);
    }

    // No secret in any response or in the server's log.
    let mut seen = String::new();
    for path in [
        "/api/admin/jobs",
        "/api/admin/jobs/enc",
        "/api/admin/backups",
        "/api/admin/runs",
        "/api/admin/audit",
        "/metrics",
    ] {
        seen.push_str(&api.get(path).expect(200).body);
    }
    server.kill_9();
    seen.push_str(&server.log());
    assert!(
        seen.contains("BACKUP_PASS"),
        "the variable's name is shown, which is fine"
    );
    for secret in [secret_pw, CRON_SECRET, all.as_str()] {
        assert!(!seen.contains(secret), "a secret leaked: {secret}");
    }
}

// ---- every kind of run through the one runner --------------------------------

/// A files job over a tree big enough that unpacking it takes a while (4 ×
/// 64 MiB, incompressible), backed up once: (source dir, backup id).
fn big_tree_backup(sauve: &Sauve) -> (std::path::PathBuf, String) {
    let src = sauve.dest("tree");
    std::fs::create_dir_all(&src).unwrap();
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for i in 0..4 {
        let mut data = vec![0u8; 64 << 20];
        for chunk in data.chunks_mut(8) {
            // xorshift: fast, and zstd cannot shrink it.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
        }
        std::fs::write(src.join(format!("part-{i}.bin")), data).unwrap();
    }
    let store = sauve.dest("store");
    sauve.create_job(
        "tree",
        &format!("files://{}", src.display()),
        &[store.to_str().unwrap()],
    );
    (src, sauve.backup("tree"))
}

/// The restore's temporary directory beside `target`, if it exists.
fn restore_temp(target: &std::path::Path) -> Option<std::path::PathBuf> {
    let prefix = format!(".{}.sauve-restore-", target.file_name()?.to_string_lossy());
    std::fs::read_dir(target.parent()?)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
        })
}

fn run_state(api: &Client, run_id: &str) -> Value {
    api.get(&format!("/api/admin/runs/{run_id}"))
        .expect(200)
        .json()
}

#[test]
fn a_restore_killed_with_its_server_ends_within_the_lease_and_leaves_no_half_target() {
    let sauve = Sauve::new();
    let (src, id) = big_tree_backup(&sauve);
    // The backup is a command's: restoring it runs the job's restore_command.
    let ops = token(&sauve, "ops", "restore,runs:read,runs:write,exec");
    let target = sauve.dest("restored");
    let opts = || ServerOpts::new().workers(1).args(["--lease-secs", "2"]);
    let mut server = sauve.spawn_server(opts());
    let api = Client::bearer(&server.base, &ops);
    let queued = api
        .post(
            &format!("/api/admin/backups/{id}/restore"),
            json!({"to": target.to_str().unwrap()}),
        )
        .expect(202)
        .json();
    let run_id = queued["run_id"].as_str().unwrap().to_string();
    // Killed while it unpacks, once its temporary directory exists. Polled
    // tightly: the window is a second or so, not a wait for a slow thing.
    let deadline = Instant::now() + Duration::from_secs(60);
    while restore_temp(&target).is_none() {
        assert!(
            Instant::now() < deadline,
            "the restore never started unpacking"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    server.kill_9();
    assert!(
        !target.exists(),
        "the target exists although the restore was killed mid-way"
    );

    // The next server's pool finds the dead worker's lease expired and ends the
    // run: a restore gets one attempt, it is not retried behind anyone's back.
    let server = sauve.spawn_server(opts());
    let api = Client::bearer(&server.base, &ops);
    let mut ended = Value::Null;
    wait_until(
        Duration::from_secs(30),
        "the dead worker's restore to end",
        || {
            ended = run_state(&api, &run_id);
            ended["state"] != "running"
        },
    );
    assert_eq!(ended["state"], "failed", "{ended}");
    assert_eq!(ended["kind"], "restore", "{ended}");
    assert!(
        ended["error"].as_str().unwrap().contains("worker died"),
        "{ended}"
    );
    assert!(!target.exists(), "still no half-written target");

    // Asked again, the same restore completes, byte for byte.
    let again = api
        .post(
            &format!("/api/admin/backups/{id}/restore"),
            json!({"to": target.to_str().unwrap()}),
        )
        .expect(202)
        .json();
    let again_id = again["run_id"].as_str().unwrap().to_string();
    let mut done = Value::Null;
    wait_until(
        Duration::from_secs(120),
        "the second restore to end",
        || {
            done = run_state(&api, &again_id);
            done["finished_at"].is_string()
        },
    );
    assert_eq!(done["state"], "succeeded", "{done}");
    for i in 0..4 {
        let name = format!("part-{i}.bin");
        assert!(
            std::fs::read(src.join(&name)).unwrap() == std::fs::read(target.join(&name)).unwrap(),
            "{name} differs from the source"
        );
    }
}

#[test]
fn cancelling_a_restore_stops_its_tool_at_once() {
    let sauve = Sauve::new();
    let store = sauve.dest("store");
    let jobs = sauve.dest("jobs.toml");
    // A restore command that takes the bytes, then hangs as a slow tool would.
    std::fs::write(
        &jobs,
        format!(
            r#"[[job]]
name = "slow"
destinations = ["{}"]
[job.source]
kind = "command"
command = ["sh", "-c", "echo hello"]
restore_command = ["sh", "-c", "cat > \"$SAUVE_RESTORE_TARGET\"; exec sleep 120"]
"#,
            store.display()
        ),
    )
    .unwrap();
    sauve.run(&["job", "apply", jobs.to_str().unwrap()]).ok();
    let id = sauve.backup("slow");
    // The backup is a command's: restoring it runs the job's restore_command.
    let ops = token(&sauve, "ops", "restore,runs:read,runs:write,exec");
    // A short lease: heartbeats, which carry the cancel, every second.
    let server = sauve.spawn_server(ServerOpts::new().workers(1).args(["--lease-secs", "3"]));
    let api = Client::bearer(&server.base, &ops);
    let out = sauve.dest("restored.txt");
    let run_id = api
        .post(
            &format!("/api/admin/backups/{id}/restore"),
            json!({"to": out.to_str().unwrap()}),
        )
        .expect(202)
        .json()["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    wait_until(
        Duration::from_secs(60),
        "the restore command to get the bytes",
        || std::fs::read_to_string(&out).is_ok_and(|t| t == "hello\n"),
    );
    let asked = Instant::now();
    let reply = api
        .post(&format!("/api/admin/runs/{run_id}/cancel"), json!({}))
        .expect(200)
        .json();
    assert_eq!(reply["outcome"], "requested", "{reply}");
    let mut ended = Value::Null;
    wait_until(Duration::from_secs(30), "the restore to stop", || {
        ended = run_state(&api, &run_id);
        ended["finished_at"].is_string()
    });
    assert_eq!(ended["state"], "cancelled", "{ended}");
    assert_eq!(ended["kind"], "restore", "{ended}");
    // Its tool (sleeping two minutes) was killed, not waited for.
    assert!(
        asked.elapsed() < Duration::from_secs(30),
        "{:?}",
        asked.elapsed()
    );
}

#[test]
fn the_cli_is_audited_and_means_what_the_api_means() {
    let sauve = Sauve::new();
    let src = sauve.dest("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("a.txt"), "a").unwrap();
    let source = format!("files://{}", src.display());
    let store = sauve.dest("store");
    let store = store.to_str().unwrap();
    sauve.create_job("app", &source, &[store]);
    // One mistake, a name that is taken, is a 2 at the CLI and a 409 at the API.
    sauve
        .run(&["job", "create", "app", "--source", &source, "--dest", store])
        .fails(2, &["already exists"]);
    add_user(&sauve, "ada", "admin", "a-long-enough-password");
    let mut cmd = sauve.command();
    cmd.args(["user", "add", "ada", "--role", "viewer", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"another-long-password\n")
        .unwrap();
    let twice = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&twice.stderr);
    assert_eq!(twice.status.code(), Some(2), "{said}");
    assert!(said.contains("already exists"), "{said}");

    let auditor = token(&sauve, "auditor", "audit:read,jobs:read,jobs:write");
    sauve.run(&["job", "delete", "app"]).ok();
    let server = sauve.spawn_server(ServerOpts::new().workers(0));
    let api = Client::bearer(&server.base, &auditor);
    let spec = json!({"name": "web", "source": source, "destinations": [store]});
    api.post("/api/admin/jobs", spec.clone()).expect(201);
    let taken = api.post("/api/admin/jobs", spec).expect(409).json();
    assert_eq!(taken["code"], "conflict", "{taken}");

    let audit = api.get("/api/admin/audit").expect(200).json();
    let entry = |action: &str, target: &str| {
        audit
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == action && e["target"] == target)
            .unwrap_or_else(|| panic!("no {action} of {target} in {audit:#}"))
            .clone()
    };
    let deleted = entry("job.delete", "app");
    let cli = deleted["actor"].as_str().unwrap().to_string();
    assert!(cli.starts_with("cli:") && cli.len() > 4, "{deleted}");
    for (action, target) in [
        ("job.create", "app"),
        ("user.add", "ada"),
        ("token.create", "auditor"),
    ] {
        assert_eq!(entry(action, target)["actor"], cli.as_str(), "{action}");
    }
    assert_eq!(entry("job.create", "web")["actor"], "token:auditor");
}
