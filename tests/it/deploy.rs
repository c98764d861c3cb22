//! Deploying Sauve: `--config` files and their precedence against variables
//! and flags, systemd's notify protocol (readiness, watchdog, stopping)
//! against a socket of our own as systemd would hold it, `--base-path` end to
//! end over HTTP, and the schema check that keeps an older binary off a store
//! a newer one migrated. The units, the image, the chart and the browser
//! suite behind nginx are checked by scripts/test's own steps.

use crate::api::{Client, add_user, token};
use crate::common::{PgDb, Sauve, ServerOpts, pg_url, psql};
use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

/// A config file in the test's dir.
fn config(sauve: &Sauve, toml: &str) -> String {
    let path = sauve.dest("sauve.toml");
    std::fs::write(&path, toml).unwrap();
    path.to_string_lossy().into_owned()
}

/// The prefix the server says it serves under (after its address).
fn served_under(base: &str) -> String {
    let rest = base.trim_start_matches("http://");
    rest.find('/')
        .map(|i| rest[i..].to_string())
        .unwrap_or_default()
}

#[test]
fn a_config_file_gives_way_to_variables_and_flags() {
    let sauve = Sauve::new();
    let file = config(
        &sauve,
        "base_path = \"/fromfile\"\nworkers = 0\nkeep_runs = \"30d\"\n",
    );
    let serve = |opts: ServerOpts| served_under(&sauve.spawn_server(opts).base);
    let with_file = || ServerOpts::new().args(["--config", file.as_str()]);
    assert_eq!(serve(with_file()), "/fromfile", "the file alone");
    assert_eq!(
        serve(ServerOpts::new().env("SAUVE_CONFIG", &file)),
        "/fromfile",
        "the file named by SAUVE_CONFIG"
    );
    assert_eq!(
        serve(with_file().env("SAUVE_BASE_PATH", "/fromenv")),
        "/fromenv",
        "a variable wins over the file"
    );
    assert_eq!(
        serve(
            with_file()
                .env("SAUVE_BASE_PATH", "/fromenv")
                .args(["--base-path", "/fromflag"])
        ),
        "/fromflag",
        "a flag wins over both"
    );
    // The file's workers = 0 took effect: an API-only instance says so.
    let mut server = sauve.spawn_server(with_file());
    let said: Vec<String> = (0..5).map(|_| server.read_line()).collect();
    assert!(
        said.iter().any(|l| l.contains("API only")),
        "workers = 0 from the file: {said:?}"
    );

    // Unknown keys and inline secrets stop serve before it starts, named.
    let bad = config(&sauve, "listne = \"127.0.0.1:1\"\n");
    sauve
        .run(&["--config", &bad, "serve"])
        .fails(2, &["`listne` is not an option of serve", "sauve.toml"]);
    let secret = config(
        &sauve,
        "cron_secret = \"0123456789abcdef0123456789abcdef\"\n",
    );
    let out = sauve
        .run(&["--config", &secret, "serve"])
        .fails(2, &["`cron_secret` is a secret", "cron_secret_file"]);
    assert!(
        !out.stderr().contains("0123456789abcdef"),
        "the refusal must not echo the secret: {}",
        out.stderr()
    );
}

/// Reads datagrams until one holds `line` or the deadline passes.
fn wait_for(socket: &UnixDatagram, line: &str, deadline: Instant) -> Vec<String> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        if let Ok(n) = socket.recv(&mut buf) {
            let message = String::from_utf8_lossy(&buf[..n]).into_owned();
            let found = message.lines().any(|l| l == line);
            seen.push(message);
            if found {
                return seen;
            }
        }
    }
    panic!("no {line:?} before the deadline; received {seen:?}");
}

#[test]
fn systemd_hears_ready_then_watchdog_pings_then_stopping() {
    let sauve = Sauve::new();
    let path = sauve.dest("notify.sock");
    let socket = UnixDatagram::bind(&path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut server = sauve.spawn_server(
        ServerOpts::new()
            .env("NOTIFY_SOCKET", &path.to_string_lossy())
            // 300 ms: pings every 150 ms.
            .env("WATCHDOG_USEC", "300000"),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let first = wait_for(&socket, "READY=1", deadline);
    assert_eq!(first.len(), 1, "READY=1 comes first: {first:?}");
    assert!(
        first[0].contains(&format!("STATUS=serving on {}", server.addr)),
        "{first:?}"
    );
    // Ready means ready: the port answers at once.
    Client::new(&server.base).get("/readyz").expect(200);
    let mut pings = 0;
    while pings < 3 {
        wait_for(&socket, "WATCHDOG=1", deadline);
        pings += 1;
    }
    assert!(server.terminate().success());
    wait_for(
        &socket,
        "STOPPING=1",
        Instant::now() + Duration::from_secs(5),
    );

    // A watchdog meant for another process (WATCHDOG_PID) is not ours to ping.
    let mut other = sauve.spawn_server(
        ServerOpts::new()
            .env("NOTIFY_SOCKET", &path.to_string_lossy())
            .env("WATCHDOG_USEC", "100000")
            .env("WATCHDOG_PID", "1"),
    );
    let ready = wait_for(&socket, "READY=1", Instant::now() + Duration::from_secs(20));
    assert!(ready.iter().all(|m| !m.contains("WATCHDOG=1")), "{ready:?}");
    assert!(other.terminate().success());
    let after = wait_for(
        &socket,
        "STOPPING=1",
        Instant::now() + Duration::from_secs(5),
    );
    assert!(
        after.iter().all(|m| !m.contains("WATCHDOG=1")),
        "pinged for another pid: {after:?}"
    );
}

/// A client that shows redirects instead of following them.
fn no_redirects() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

fn get(
    agent: &ureq::Agent,
    url: &str,
    headers: &[(&str, &str)],
) -> (u16, String, ureq::http::HeaderMap) {
    let mut req = agent.get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let mut resp = req.call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let headers = resp.headers().clone();
    let body = resp.body_mut().read_to_string().unwrap_or_default();
    (resp.status().as_u16(), body, headers)
}

fn header<'a>(h: &'a ureq::http::HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

#[test]
fn a_base_path_puts_pages_api_assets_and_cookies_under_the_prefix() {
    let sauve = Sauve::new();
    add_user(&sauve, "ada", "admin", "correct horse battery");
    let server = sauve.spawn_server(ServerOpts::new().args(["--base-path", "/backup/"]));
    let base = server.base.clone();
    let root = format!("http://{}", server.addr.split('/').next().unwrap());
    assert_eq!(base, format!("{root}/backup"), "the trailing / is dropped");
    let agent = no_redirects();

    // Probes answer at the root and under the prefix; nothing else at the root.
    for url in [
        format!("{root}/healthz"),
        format!("{root}/readyz"),
        format!("{base}/healthz"),
        format!("{base}/api/openapi.json"),
        format!("{base}/assets/app.js"),
        format!("{base}/assets/app.css"),
    ] {
        assert_eq!(get(&agent, &url, &[]).0, 200, "{url}");
    }
    for path in [
        "/api/admin/jobs",
        "/login",
        "/assets/app.js",
        "/backupx/healthz",
    ] {
        assert_eq!(get(&agent, &format!("{root}{path}"), &[]).0, 404, "{path}");
    }
    let (_, doc, _) = get(&agent, &format!("{base}/api/openapi.json"), &[]);
    let doc: serde_json::Value = serde_json::from_str(&doc).unwrap();
    assert_eq!(doc["servers"][0]["url"], "/backup");

    // Every way in leads to the prefixed pages.
    let (status, _, h) = get(&agent, &format!("{root}/"), &[]);
    assert_eq!(
        (status, header(&h, "location")),
        (303, "/backup/dashboard/admin/backup")
    );
    // `/backup/` too: nginx's `location /backup/` sends `/backup` there.
    for path in ["", "/"] {
        let (status, _, h) = get(&agent, &format!("{base}{path}"), &[]);
        assert!(status == 303 || status == 308, "{base}{path}: {status}");
        let to = header(&h, "location");
        assert!(to.starts_with("/backup/"), "{base}{path} -> {to}");
    }
    // A next= outside the prefix (the app's own pages) is not followed.
    let (_, login, _) = get(&agent, &format!("{base}/login?next=/other/app"), &[]);
    assert!(
        login.contains("data-next=\"/backup/dashboard/admin/backup\""),
        "{login}"
    );
    let (status, _, h) = get(&agent, &format!("{base}/dashboard/admin/backup"), &[]);
    assert_eq!(
        (status, header(&h, "location")),
        (303, "/backup/login?next=/backup/dashboard/admin/backup")
    );
    let (status, login, h) = get(&agent, &format!("{base}/login?lang=fr"), &[]);
    assert_eq!(status, 200);
    for needle in [
        "data-base=\"/backup\"",
        "href=\"/backup/assets/app.css\"",
        "src=\"/backup/assets/app.js\"",
        "data-next=\"/backup/dashboard/admin/backup\"",
    ] {
        assert!(login.contains(needle), "login page lacks {needle}");
    }
    assert!(
        header(&h, "set-cookie").contains("Path=/backup;"),
        "the language cookie stays under the prefix: {h:?}"
    );

    // Sign in: the session cookie is the prefix's only.
    let origin = [("Origin", root.as_str())];
    let login = Client::new(&base).call(
        "POST",
        "/login",
        Some(serde_json::json!({ "name": "ada", "password": "correct horse battery" })),
        &origin,
    );
    assert_eq!(login.status, 200, "{}", login.body);
    let cookie = header(&login.headers, "set-cookie").to_string();
    assert!(cookie.starts_with("sauve_session="), "{cookie}");
    assert!(cookie.contains("; Path=/backup"), "{cookie}");
    let session = cookie.split(';').next().unwrap().to_string();
    let (status, page, _) = get(
        &agent,
        &format!("{base}/dashboard/admin/backup"),
        &[("Cookie", session.as_str())],
    );
    assert_eq!(status, 200);
    for needle in [
        "action=\"/backup/dashboard/admin/backup\"",
        "href=\"/backup/api/openapi.json\"",
        "data-base=\"/backup\"",
    ] {
        assert!(page.contains(needle), "the page lacks {needle}");
    }

    // The API under the prefix, with a token, as an app's server calls it.
    let t = token(&sauve, "app", "jobs:read");
    Client::bearer(&base, &t).get("/api/admin/jobs").expect(200);
    assert_eq!(Client::bearer(&root, &t).get("/api/admin/jobs").status, 404);
}

#[test]
fn secure_cookies_under_a_prefix_are_secure_prefixed_and_scoped() {
    let sauve = Sauve::new();
    add_user(&sauve, "ada", "admin", "correct horse battery");
    let server = sauve.spawn_server(ServerOpts::new().args([
        "--base-path",
        "/admin/backup",
        "--secure-cookies",
    ]));
    // No Origin, as a script signs in: a browser's would have to be https.
    let login = Client::new(&server.base).post(
        "/login",
        serde_json::json!({ "name": "ada", "password": "correct horse battery" }),
    );
    assert_eq!(login.status, 200, "{}", login.body);
    // Plain HTTP here, yet the browser-side rules are what is checked: the
    // name's prefix, Secure, and the path.
    let cookie = header(&login.headers, "set-cookie");
    assert!(cookie.starts_with("__Secure-sauve_session="), "{cookie}");
    assert!(cookie.contains("; Path=/admin/backup; Secure"), "{cookie}");
    let (_, doc, _) = get(
        &no_redirects(),
        &format!("{}/api/openapi.json", server.base),
        &[],
    );
    assert!(
        doc.contains("\"__Secure-sauve_session\""),
        "the document names the cookie in force"
    );
}

#[test]
fn base_paths_that_could_escape_are_refused_before_serving() {
    let sauve = Sauve::new();
    for bad in [
        "backup",
        "/b\"><script>",
        "/a/../b",
        "//evil.example",
        "/b;Path=/",
        "/healthz",
    ] {
        sauve
            .run(&["serve", "--listen", "127.0.0.1:0", "--base-path", bad])
            .fails(2, &["base path"]);
    }
}

#[test]
fn a_store_a_newer_sauve_migrated_is_refused_on_sqlite() {
    let sauve = Sauve::new();
    sauve.run(&["job", "list"]).ok();
    let db = rusqlite::Connection::open(sauve.data_dir().join("sauve.db")).unwrap();
    db.execute(
        "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time) \
         VALUES (99990101000000, 'from the future', CURRENT_TIMESTAMP, 1, x'00', 0)",
        [],
    )
    .unwrap();
    drop(db);
    let newer = [
        "version 99990101000000",
        "newer Sauve",
        "Upgrade this instance",
    ];
    sauve.run(&["job", "list"]).fails(2, &newer);
    sauve
        .run(&["serve", "--listen", "127.0.0.1:0"])
        .fails(2, &newer);
}

#[test]
fn a_store_a_newer_sauve_migrated_is_refused_on_postgres() {
    let db = PgDb::create("schema");
    let url = pg_url(&db.0);
    let sauve = Sauve::new();
    sauve.run(&["--database-url", &url, "job", "list"]).ok();
    let before = psql(&db.0, "SELECT MAX(version) FROM _sqlx_migrations");
    psql(
        &db.0,
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99990101000000, 'from the future', true, '\\x00', 0)",
    );
    sauve
        .run(&["--database-url", &url, "job", "list"])
        .fails(2, &["version 99990101000000", &format!("up to {before}")]);
    // Nothing was touched: the newer schema's row is still the newest.
    assert_eq!(
        psql(&db.0, "SELECT MAX(version) FROM _sqlx_migrations"),
        "99990101000000"
    );
}

#[test]
fn the_shipped_example_config_is_one_sauve_accepts() {
    // Every key of deploy/systemd/sauve.toml goes through the parsers of the
    // flags it names (serve's too, whatever the command); the flag keeps the
    // test's data dir.
    let sauve = Sauve::new();
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/systemd/sauve.toml");
    sauve.run(&["--config", example, "job", "list"]).ok();
}
