//! Object storage against a real S3-compatible server on loopback (Garage,
//! started by `scripts/garage`, found through `SAUVE_TEST_S3_*`): a backup fanned
//! out to local disk and S3 in one read, listed and restored from S3 alone with
//! the metadata store gone, and each way of getting the credentials or the
//! bucket wrong giving its own error.

use crate::common::*;

pub(crate) struct S3 {
    endpoint: String,
    bucket: String,
    region: String,
    key_id: String,
    secret: String,
}

pub(crate) fn s3() -> S3 {
    let var = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| {
            panic!("{name} is not set: run the tests with scripts/test, which starts Garage (scripts/garage)")
        })
    };
    S3 {
        endpoint: var("SAUVE_TEST_S3_ENDPOINT"),
        bucket: var("SAUVE_TEST_S3_BUCKET"),
        region: var("SAUVE_TEST_S3_REGION"),
        key_id: var("SAUVE_TEST_S3_KEY_ID"),
        secret: var("SAUVE_TEST_S3_SECRET"),
    }
}

impl S3 {
    /// A destination URI under a prefix of its own, with the keys in TEST_S3_* variables.
    pub(crate) fn uri(&self, prefix: &str) -> String {
        format!(
            "s3://{}/{prefix}?endpoint={}&region={}&access_key_env=TEST_S3_KEY&secret_key_env=TEST_S3_SECRET",
            self.bucket, self.endpoint, self.region
        )
    }

    pub(crate) fn with_keys(&self, sauve: &mut Sauve) {
        sauve.env.push(("TEST_S3_KEY".into(), self.key_id.clone()));
        sauve
            .env
            .push(("TEST_S3_SECRET".into(), self.secret.clone()));
    }
}

fn sqlite_source(sauve: &Sauve) -> String {
    let db = sauve.dest("app.db");
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute_batch(
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
         INSERT INTO notes (body) SELECT 'note ' || i || ' ' || hex(randomblob(32)) FROM n;",
    )
    .unwrap();
    format!("sqlite://{}", db.display())
}

fn count_notes(path: &std::path::Path) -> i64 {
    rusqlite::Connection::open(path)
        .unwrap()
        .query_row("SELECT count(*) FROM notes", [], |r| r.get(0))
        .unwrap()
}

/// A job `notes` backing a SQLite file up to a local folder and to S3
/// under a prefix of its own: the harness, S3, the prefix, the folder.
fn notes_to_disk_and_s3(prefix: &str) -> (Sauve, S3, String, std::path::PathBuf) {
    let s3 = s3();
    let mut sauve = Sauve::new();
    s3.with_keys(&mut sauve);
    let prefix = unique(prefix);
    let source = sqlite_source(&sauve);
    let local = sauve.dest("local");
    sauve.create_job(
        "notes",
        &source,
        &[local.to_str().unwrap(), &s3.uri(&prefix)],
    );
    (sauve, s3, prefix, local)
}

#[test]
fn verify_after_backup_can_be_turned_off_or_on_for_local_destinations_too() {
    let (sauve, _, _, _) = notes_to_disk_and_s3("readback");
    // Turned off, nothing is read back; turned on, the local copy is too.
    for (setting, reads) in [("false", 0), ("true", 2)] {
        let toml = sauve.run(&["job", "export"]).ok().stdout();
        let toml: String = toml
            .lines()
            .filter(|l| !l.starts_with("verify_after_backup"))
            .map(|l| match l {
                "[[job]]" => format!("[[job]]\nverify_after_backup = {setting}\n"),
                other => format!("{other}\n"),
            })
            .collect();
        std::fs::write(sauve.dest("jobs.toml"), toml).unwrap();
        sauve
            .run(&["job", "apply", sauve.dest("jobs.toml").to_str().unwrap()])
            .ok();
        let report = sauve.run(&["backup", "run", "notes", "--json"]).ok().json();
        assert_eq!(
            report["verified"].as_array().unwrap().len(),
            reads,
            "{setting}: {report}"
        );
    }
}

#[test]
fn a_backup_goes_to_disk_and_s3_in_one_pass_and_restores_from_s3_alone() {
    let (sauve, s3, prefix, local) = notes_to_disk_and_s3("roundtrip");
    let report = sauve.run(&["backup", "run", "notes", "--json"]).ok().json();
    let backups = report["backups"].as_array().unwrap();
    assert_eq!(backups.len(), 2, "{report}");
    let in_s3 = backups
        .iter()
        .find(|b| b["destination"].as_str().unwrap().starts_with("s3://"))
        .unwrap();
    assert!(
        !in_s3["destination"].as_str().unwrap().contains(&s3.secret),
        "no secret in the URI"
    );
    let on_disk = backups
        .iter()
        .find(|b| b["destination"].as_str().unwrap().starts_with("file://"))
        .unwrap();
    assert_eq!(
        in_s3["sha256"], on_disk["sha256"],
        "the same bytes, read once"
    );
    // Read back at once where it is remote (verify_after_backup's
    // default), not where it was just written to this machine's disk.
    let verified = report["verified"].as_array().unwrap();
    assert_eq!(verified.len(), 1, "{report}");
    assert_eq!(verified[0]["state"], "succeeded", "{report}");
    let listed = sauve.run(&["backup", "list", "--json"]).ok().json();
    let at = |scheme: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["destination"].as_str().unwrap().starts_with(scheme))
            .unwrap()
            .clone()
    };
    assert!(at("s3://")["verified_at"].as_str().is_some(), "{listed}");
    assert!(at("file://")["verified_at"].is_null(), "{listed}");
    sauve.run(&["verify", in_s3["id"].as_str().unwrap()]).ok();
    // The server holding the metadata is gone: list and restore from S3 alone.
    std::fs::remove_dir_all(sauve.data_dir()).unwrap();
    std::fs::remove_dir_all(&local).unwrap();
    let listed = sauve
        .run(&["backup", "list", "--dest", &s3.uri(&prefix), "--json"])
        .ok()
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["sha256"], in_s3["sha256"]);
    let target = sauve.dest("restored.db");
    sauve.restore_latest(&s3.uri(&prefix), "notes", target.to_str().unwrap());
    assert_eq!(count_notes(&target), 20000);
}

/// The keys as named secrets bound to Garage's host and bucket: the form an
/// API caller must use. Bound elsewhere (another bucket), they are not sent.
#[test]
fn s3_keys_as_named_secrets_bound_to_the_endpoint_and_bucket() {
    let s3 = s3();
    let sauve = Sauve::new();
    let host = url::Url::parse(&s3.endpoint).unwrap();
    let host = format!(
        "{}:{}",
        host.host_str().unwrap(),
        host.port_or_known_default().unwrap()
    );
    let set = |name: &str, value: &str, bucket: &str| {
        sauve.set_secret(name, value, &["--host", &host, "--bucket", bucket]);
    };
    set("s3-id", &s3.key_id, &s3.bucket);
    set("s3-secret", &s3.secret, &s3.bucket);
    set("s3-other", &s3.secret, "another-bucket");
    let prefix = unique("named");
    let uri = |secret: &str| {
        format!(
            "s3://{}/{prefix}?endpoint={}&region={}&access_key=secret:s3-id&secret_key=secret:{secret}",
            s3.bucket, s3.endpoint, s3.region
        )
    };
    let source = sqlite_source(&sauve);
    sauve.create_job("named", &source, &[&uri("s3-secret")]);
    let id = sauve.backup("named");
    sauve.run(&["verify", &id]).ok();
    sauve.create_job("wrong", &source, &[&uri("s3-other")]);
    sauve
        .run(&["backup", "run", "wrong"])
        .fails(1, &["s3-other", "not bound", "another-bucket"]);
}

#[test]
fn one_failing_destination_does_not_stop_the_others() {
    let s3 = s3();
    let mut sauve = Sauve::new();
    s3.with_keys(&mut sauve);
    let source = sqlite_source(&sauve);
    let missing_bucket = s3
        .uri("x")
        .replace(&format!("s3://{}/", s3.bucket), "s3://no-such-bucket-here/");
    let local = sauve.dest("local");
    sauve.create_job(
        "notes",
        &source,
        &[local.to_str().unwrap(), &missing_bucket],
    );
    let r = sauve
        .run(&["backup", "run", "notes", "--json"])
        .fails(1, &["partial"]);
    let report = r.json();
    assert_eq!(report["state"], "partial");
    assert_eq!(report["backups"].as_array().unwrap().len(), 1);
    let failure = report["failures"][0]["error"].as_str().unwrap().to_string();
    assert!(failure.contains("the bucket does not exist"), "{failure}");
}

#[test]
fn storage_check_proves_a_destination_or_says_which_step_failed() {
    let s3 = s3();
    let mut sauve = Sauve::new();
    s3.with_keys(&mut sauve);
    let ok = sauve
        .run(&["storage", "check", &s3.uri(&unique("check")), "--json"])
        .ok()
        .json();
    let ops: Vec<_> = ok["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s[0].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ops, ["write", "read", "list", "delete"]);
    let local = sauve
        .run(&["storage", "check", sauve.dest("local").to_str().unwrap()])
        .ok()
        .stdout();
    assert!(local.contains("works: write"), "{local}");
    let mut wrong = Sauve::new();
    wrong.env.push(("TEST_S3_KEY".into(), s3.key_id.clone()));
    wrong.env.push(("TEST_S3_SECRET".into(), "0".repeat(64)));
    wrong
        .run(&["storage", "check", &s3.uri("x")])
        .fails(1, &["write", "check the access key and secret"]);
    assert!(
        !wrong.data_dir().exists(),
        "checking storage needs no metadata store"
    );
}

#[test]
fn credential_and_bucket_mistakes_each_say_what_is_wrong() {
    let s3 = s3();
    let source_sauve = Sauve::new();
    let source = sqlite_source(&source_sauve);
    // (what, environment, destination URI, phrase of the error)
    type Case<'a> = (&'a str, Vec<(&'a str, String)>, String, &'a str);
    let cases: [Case; 3] = [
        ("unset", vec![], s3.uri("e"), "TEST_S3_KEY is not set"),
        (
            "wrong secret",
            vec![
                ("TEST_S3_KEY", s3.key_id.clone()),
                ("TEST_S3_SECRET", "0".repeat(64)),
            ],
            s3.uri("e"),
            "check the access key and secret",
        ),
        (
            "missing bucket",
            vec![
                ("TEST_S3_KEY", s3.key_id.clone()),
                ("TEST_S3_SECRET", s3.secret.clone()),
            ],
            s3.uri("e")
                .replace(&format!("s3://{}/", s3.bucket), "s3://no-such-bucket-here/"),
            "no-such-bucket-here",
        ),
    ];
    for (what, env, uri, needle) in cases {
        let mut sauve = Sauve::new();
        for (k, v) in env {
            sauve.env.push((k.into(), v));
        }
        sauve
            .run(&["job", "create", "j", "--source", &source, "--dest", &uri])
            .ok();
        let r = sauve
            .run(&["backup", "run", "j"])
            .fails(1, &["no destination could store the backup", needle]);
        assert!(
            !r.stderr().contains(&s3.secret),
            "{what}: the secret leaked"
        );
    }
}

#[test]
fn a_postgres_backup_round_trips_through_s3_only() {
    let s3 = s3();
    let mut sauve = Sauve::new();
    s3.with_keys(&mut sauve);
    let src = PgDb::create("sauve_s3src");
    psql(
        &src.0,
        "CREATE TABLE items (id bigserial PRIMARY KEY, body jsonb, blob bytea);
         INSERT INTO items (body, blob) SELECT jsonb_build_object('n', g), decode(md5(g::text), 'hex')
         FROM generate_series(1, 5000) g;",
    );
    let content =
        "SELECT count(*) || ':' || md5(string_agg(i::text, ',' ORDER BY id)) FROM items i";
    let prefix = unique("pg");
    sauve.create_job("pg", &pg_url(&src.0), &[&s3.uri(&prefix)]);
    sauve.backup("pg");
    std::fs::remove_dir_all(sauve.data_dir()).unwrap();
    let restored = PgDb::reserve("sauve_s3dst");
    sauve.restore_latest(&s3.uri(&prefix), "pg", &pg_url(&restored.0));
    assert_eq!(psql(&restored.0, content), psql(&src.0, content));
}

// ---- faults ---------------------------------------------------------------------

/// What the fault-injecting proxy does to the requests passing through it.
#[derive(Clone, Copy, PartialEq)]
enum Faults {
    /// Some requests answered 503 SlowDown, some held without an answer.
    Transient,
    /// Every request answered 503.
    Persistent,
}

/// A loopback HTTP proxy in front of the S3 server that injects faults, one
/// request per connection (it adds `Connection: close`) so each request can be
/// judged on its own. SigV4 signs the Host header, which passes unchanged.
struct FaultyProxy {
    port: u16,
    requests: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    faults: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl FaultyProxy {
    fn start(upstream: &str, mode: Faults) -> FaultyProxy {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(AtomicUsize::new(0));
        let faults = Arc::new(AtomicUsize::new(0));
        let (seen, faulted) = (requests.clone(), faults.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let n = seen.fetch_add(1, Ordering::SeqCst);
                let upstream = upstream.clone();
                let faulted = faulted.clone();
                std::thread::spawn(move || {
                    let _ = relay(client, &upstream, n, mode, &faulted);
                });
            }
        });
        FaultyProxy {
            port,
            requests,
            faults,
        }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn relay(
    mut client: std::net::TcpStream,
    upstream: &str,
    n: usize,
    mode: Faults,
    faulted: &std::sync::atomic::AtomicUsize,
) -> std::io::Result<()> {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::sync::atomic::Ordering;
    let mut reader = BufReader::new(client.try_clone()?);
    let mut head = Vec::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if line == "\r\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if !lower.starts_with("connection:") {
            head.push(line);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    // Requests 2, 7, 12… fail with 503; 4, 15, 26… get no answer at all.
    let fault = match mode {
        Faults::Persistent => Some(true),
        Faults::Transient if n % 5 == 2 => Some(true),
        Faults::Transient if n % 11 == 4 => Some(false),
        Faults::Transient => None,
    };
    match fault {
        Some(true) => {
            faulted.fetch_add(1, Ordering::SeqCst);
            let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>injected fault</Message></Error>";
            write!(
                client,
                "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{xml}",
                xml.len()
            )?;
            return Ok(());
        }
        Some(false) => {
            // A stall: longer than the destination's timeout=2s. This sleep is
            // the fault being injected, not a wait for something.
            faulted.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_secs(4));
            return Ok(());
        }
        None => {}
    }
    let mut up = std::net::TcpStream::connect(upstream)?;
    let mut request = head.concat().into_bytes();
    request.extend_from_slice(b"Connection: close\r\n\r\n");
    request.extend_from_slice(&body);
    up.write_all(&request)?;
    std::io::copy(&mut up, &mut client)?;
    Ok(())
}

/// A files source of `mib` MiB of random bytes (incompressible, so the artifact
/// is as large and spans several 16 MiB parts).
fn random_tree(sauve: &Sauve, mib: usize) -> std::path::PathBuf {
    let dir = sauve.dest("tree");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    let mut f = std::fs::File::open("/dev/urandom").unwrap();
    let mut buf = vec![0u8; mib << 20];
    std::io::Read::read_exact(&mut f, &mut buf).unwrap();
    std::fs::write(dir.join("sub/blob.bin"), &buf).unwrap();
    std::fs::write(dir.join("readme.txt"), "hello from the tree\n").unwrap();
    dir
}

fn same_tree(a: &std::path::Path, b: &std::path::Path) {
    for rel in ["sub/blob.bin", "readme.txt"] {
        assert!(
            std::fs::read(a.join(rel)).unwrap() == std::fs::read(b.join(rel)).unwrap(),
            "{rel} differs after the round trip"
        );
    }
}

#[test]
fn transient_faults_are_retried_and_the_backup_is_whole() {
    let s3 = s3();
    let proxy = FaultyProxy::start(&s3.endpoint, Faults::Transient);
    let mut sauve = Sauve::new();
    s3.with_keys(&mut sauve);
    let tree = random_tree(&sauve, 56);
    let uri = s3
        .uri(&unique("faults"))
        .replace(&s3.endpoint, &proxy.endpoint())
        + "&timeout=2s";
    sauve.create_job("tree", &format!("files://{}", tree.display()), &[&uri]);
    // 56 MiB: an upload of four parts, the first three sent concurrently.
    sauve.backup("tree");
    let written = proxy.faults.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        written >= 2,
        "faults were injected ({written} of {} requests)",
        proxy.requests.load(std::sync::atomic::Ordering::SeqCst)
    );
    // Reads go through the faults too: restore (which verifies the whole
    // artifact first) from the bucket alone.
    std::fs::remove_dir_all(sauve.data_dir()).unwrap();
    let target = sauve.dest("restored");
    sauve.restore_latest(&uri, "tree", target.to_str().unwrap());
    assert!(proxy.faults.load(std::sync::atomic::Ordering::SeqCst) > written);
    same_tree(&tree, &target);
}

#[test]
fn a_destination_that_keeps_failing_is_named_and_the_other_still_succeeds() {
    let s3 = s3();
    let proxy = FaultyProxy::start(&s3.endpoint, Faults::Persistent);
    let mut sauve = Sauve::new();
    s3.with_keys(&mut sauve);
    let tree = random_tree(&sauve, 20);
    let broken = s3
        .uri(&unique("down"))
        .replace(&s3.endpoint, &proxy.endpoint())
        + "&timeout=2s";
    let local = sauve.dest("local");
    sauve.create_job(
        "tree",
        &format!("files://{}", tree.display()),
        &[local.to_str().unwrap(), &broken],
    );
    let report = sauve
        .run(&["backup", "run", "tree", "--json"])
        .fails(1, &["partial"])
        .json();
    assert_eq!(report["state"], "partial", "{report}");
    let failure = &report["failures"][0];
    let named = failure["destination"].as_str().unwrap();
    assert!(named.contains(&proxy.port.to_string()), "{failure}");
    let error = failure["error"].as_str().unwrap();
    assert!(
        error.contains("503") || error.contains("SlowDown"),
        "{error}"
    );
    assert!(
        proxy.requests.load(std::sync::atomic::Ordering::SeqCst) > 1,
        "the failing requests were retried"
    );
    let id = report["backups"][0]["id"].as_str().unwrap();
    sauve.run(&["verify", id]).ok();
}

/// `storage sweep --dry-run --older-than 0s --json`: the multipart uploads
/// pending under `uri`.
fn pending_uploads(sauve: &Sauve, uri: &str) -> Vec<serde_json::Value> {
    sauve
        .run(&[
            "storage",
            "sweep",
            uri,
            "--dry-run",
            "--older-than",
            "0s",
            "--json",
        ])
        .ok()
        .json()["uploads"]
        .as_array()
        .unwrap()
        .clone()
}

fn command_job(sauve: &Sauve, name: &str, script: &str, dest: &str) {
    let file = sauve.dest(&format!("{name}.toml"));
    std::fs::write(
        &file,
        format!(
            "[[job]]\nname = \"{name}\"\ndestinations = [\"{dest}\"]\n[job.source]\nkind = \"command\"\ncommand = [\"sh\", \"-c\", \"{script}\"]\n"
        ),
    )
    .unwrap();
    sauve.run(&["job", "apply", file.to_str().unwrap()]).ok();
}

#[test]
fn a_killed_upload_leaves_no_object_and_the_sweep_aborts_its_parts() {
    let s3 = s3();
    let mut sauve = Sauve::new();
    s3.with_keys(&mut sauve);
    let uri = s3.uri(&unique("killed"));
    // 80 MiB of noise (five parts), then the source hangs until killed.
    command_job(
        &sauve,
        "hang",
        "head -c 83886080 /dev/urandom; sleep 120",
        &uri,
    );
    let mut child = {
        use std::os::unix::process::CommandExt;
        let mut cmd = sauve.command();
        cmd.args(["backup", "run", "hang"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .process_group(0);
        cmd.spawn().unwrap()
    };
    wait_until(
        std::time::Duration::from_secs(60),
        "a multipart upload to start",
        || !pending_uploads(&sauve, &uri).is_empty(),
    );
    // SIGKILL to the whole group: Sauve gets no chance to abort anything.
    unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
    child.wait().unwrap();

    let listed = sauve
        .run(&["backup", "list", "--dest", &uri, "--json"])
        .ok()
        .json();
    assert_eq!(listed, serde_json::json!([]), "no backup is visible");
    let pending = pending_uploads(&sauve, &uri);
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert!(pending[0]["key"].as_str().unwrap().contains("hang"));

    // The sweep a backup does leaves a fresh upload alone (it could be another
    // instance's); the explicit sweep with --older-than 0s aborts it.
    let kept = sauve.run(&["storage", "sweep", &uri, "--json"]).ok().json();
    assert_eq!(kept["uploads"], serde_json::json!([]), "{kept}");
    assert_eq!(kept["remaining"], 1, "{kept}");
    let swept = sauve
        .run(&["storage", "sweep", &uri, "--older-than", "0s", "--json"])
        .ok()
        .json();
    assert_eq!(swept["uploads"].as_array().unwrap().len(), 1, "{swept}");
    assert_eq!(swept["remaining"], 0, "{swept}");
    assert!(pending_uploads(&sauve, &uri).is_empty());
}

#[test]
fn a_failed_upload_is_aborted_by_its_writer() {
    let s3 = s3();
    let mut sauve = Sauve::new();
    s3.with_keys(&mut sauve);
    let uri = s3.uri(&unique("failed"));
    // 50 MiB of noise (parts on their way), then the source fails.
    command_job(
        &sauve,
        "boom",
        "head -c 52428800 /dev/urandom; echo disk on fire >&2; exit 3",
        &uri,
    );
    sauve
        .run(&["backup", "run", "boom"])
        .fails(1, &["exit status 3", "disk on fire"]);
    assert!(
        pending_uploads(&sauve, &uri).is_empty(),
        "the writer aborted its upload"
    );
    let listed = sauve
        .run(&["backup", "list", "--dest", &uri, "--json"])
        .ok()
        .json();
    assert_eq!(listed, serde_json::json!([]));
}

// ---- SFTP and WebDAV ------------------------------------------------------------

/// A free loopback port (the server binds it right after; a clash with another
/// test is unlikely and fails loudly).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16, what: &str, log: &std::path::Path) {
    // Generous: a cold node start on a loaded 2-core machine takes a while.
    let listening = poll_until(std::time::Duration::from_secs(60), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(
        listening,
        "{what} did not start: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// A child process killed when the test ends, however it ends.
struct Daemon(std::process::Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn keygen(path: &std::path::Path) {
    let st = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .status()
        .expect("ssh-keygen runs (scripts/setup installs openssh-client)");
    assert!(st.success());
}

/// Debian's sshd on a loopback port, for this test only: its own host key,
/// and one client key allowed to log in as the user running the tests.
struct Sshd {
    _server: Daemon,
    port: u16,
    client_key: std::path::PathBuf,
    user: String,
}

fn start_sshd(dir: &std::path::Path) -> Sshd {
    keygen(&dir.join("host_key"));
    keygen(&dir.join("client_key"));
    std::fs::copy(dir.join("client_key.pub"), dir.join("authorized_keys")).unwrap();
    // sshd insists on its privilege separation directory.
    let _ = std::fs::create_dir_all("/run/sshd");
    let port = free_port();
    let config = dir.join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nAuthorizedKeysFile {d}/authorized_keys\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\nPidFile {d}/sshd.pid\nSubsystem sftp internal-sftp\n",
            d = dir.display()
        ),
    )
    .unwrap();
    let log = dir.join("sshd.log");
    let child = std::process::Command::new("/usr/sbin/sshd")
        .args(["-D", "-e", "-f"])
        .arg(&config)
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("sshd runs (scripts/setup installs openssh-server)");
    let server = Daemon(child);
    wait_for_port(port, "sshd", &log);
    let user = String::from_utf8(
        std::process::Command::new("id")
            .arg("-un")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_string();
    Sshd {
        _server: server,
        port,
        client_key: dir.join("client_key"),
        user,
    }
}

/// WsgiDAV (from PyPI, installed by scripts/setup) serving `root` on loopback,
/// with one user, `sauve`, whose password is `password`.
fn start_webdav(dir: &std::path::Path, root: &std::path::Path, password: &str) -> (Daemon, u16) {
    let port = free_port();
    let config = dir.join("wsgidav.yaml");
    std::fs::write(
        &config,
        format!(
            "host: 127.0.0.1\nport: {port}\nprovider_mapping:\n  \"/\": \"{root}\"\nhttp_authenticator:\n  accept_basic: true\n  accept_digest: false\n  default_to_digest: false\nsimple_dc:\n  user_mapping:\n    \"*\":\n      \"sauve\":\n        password: \"{password}\"\nverbose: 1\n",
            root = root.display()
        ),
    )
    .unwrap();
    let log = dir.join("wsgidav.log");
    let child = std::process::Command::new("python3")
        .args(["-m", "wsgidav.server.server_cli", "-c"])
        .arg(&config)
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::create(dir.join("wsgidav.err")).unwrap())
        .spawn()
        .expect("python3 runs");
    let server = Daemon(child);
    wait_for_port(port, "wsgidav", &dir.join("wsgidav.err"));
    (server, port)
}

/// Back up a tree to `uri`, list and restore it from `uri` alone (the metadata
/// store deleted), and compare.
fn round_trip_through(sauve: &Sauve, uri: &str) {
    let tree = random_tree(sauve, 24);
    sauve.create_job("tree", &format!("files://{}", tree.display()), &[uri]);
    let id = sauve.backup("tree");
    sauve.run(&["verify", &id]).ok();
    let check = sauve.run(&["storage", "check", uri, "--json"]).ok().json();
    assert_eq!(check["steps"].as_array().unwrap().len(), 4, "{check}");
    std::fs::remove_dir_all(sauve.data_dir()).unwrap();
    let listed = sauve
        .run(&["backup", "list", "--dest", uri, "--json"])
        .ok()
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["id"], id.as_str());
    let target = sauve.dest("restored");
    sauve.restore_latest(uri, "tree", target.to_str().unwrap());
    same_tree(&tree, &target);
}

#[test]
fn sftp_round_trip_with_a_key_and_the_metadata_store_gone() {
    let sauve = Sauve::new();
    let sshd = start_sshd(&sauve.dest(""));
    let remote_dir = sauve.dest("on-the-server");
    let uri = format!(
        "sftp://{}@127.0.0.1:{}{}?key={}&known_hosts=accept",
        sshd.user,
        sshd.port,
        remote_dir.display(),
        sshd.client_key.display()
    );
    round_trip_through(&sauve, &uri);
    // The backup really is on the server's disk, manifest beside artifact.
    let manifests = walkdir::WalkDir::new(&remote_dir)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".manifest.json"))
        .count();
    assert_eq!(manifests, 1);
    let partials = walkdir::WalkDir::new(&remote_dir)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".sauve-partial-"))
        .count();
    assert_eq!(partials, 0, "written beside the key, then renamed onto it");

    // A partial a killed process left over two days ago: the job's next backup
    // deletes it.
    let stale = remote_dir.join("again/again-old.tar.zst.sauve-partial-01m0000000000000000000000");
    std::fs::create_dir_all(stale.parent().unwrap()).unwrap();
    std::fs::write(&stale, b"half an upload").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 86400))
        .unwrap();
    let tree = sauve.dest("tree");
    sauve.create_job("again", &format!("files://{}", tree.display()), &[&uri]);
    sauve.backup("again");
    assert!(!stale.exists(), "the abandoned upload was swept");

    // A key the server does not know: the error says the login failed.
    let other = sauve.dest("other_key");
    keygen(&other);
    let refused = uri.replace(
        &sshd.client_key.display().to_string(),
        &other.display().to_string(),
    );
    sauve
        .run(&["storage", "check", &refused])
        .fails(1, &["sftp://", "Permission denied"]);
}

#[test]
fn webdav_round_trip_with_a_password_from_the_environment() {
    let mut sauve = Sauve::new();
    let served = sauve.dest("dav-root");
    std::fs::create_dir_all(&served).unwrap();
    let (_server, port) = start_webdav(&sauve.dest(""), &served, "dav-secret");
    let uri = format!(
        "webdav://127.0.0.1:{port}/backups/app?tls=false&user=sauve&password_env=TEST_DAV_PASSWORD"
    );
    // No password in the environment: said before any request is made.
    sauve
        .run(&["storage", "check", &uri])
        .fails(2, &["TEST_DAV_PASSWORD is not set"]);
    sauve
        .env
        .push(("TEST_DAV_PASSWORD".into(), "nope-not-it-7731".into()));
    let r = sauve
        .run(&["storage", "check", &uri])
        .fails(1, &["webdav://"]);
    assert!(!r.stderr().contains("nope-not-it"), "the password leaked");
    sauve.env.pop();
    sauve
        .env
        .push(("TEST_DAV_PASSWORD".into(), "dav-secret".into()));
    round_trip_through(&sauve, &uri);
    assert!(served.join("backups/app").is_dir());
    // Nothing but the artifact and its manifest: no partial upload left over.
    let names: Vec<String> = walkdir::WalkDir::new(served.join("backups/app"))
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names.iter().all(|n| !n.contains("sauve-partial")),
        "{names:?}"
    );

    // Uploads a killed process left: the job's next backup deletes its own one
    // over a day old, and leaves a fresh one (it could be another instance's)
    // and another job's (whose timeout it does not know).
    let mine = served.join("backups/app/again/2026/11");
    std::fs::create_dir_all(&mine).unwrap();
    let stale = mine.join("again-old.tar.zst.sauve-partial-01m0000000000000000000000");
    let fresh = mine.join("again-new.tar.zst.sauve-partial-01m9999999999999999999999");
    let others =
        served.join("backups/app/tree/tree-old.tar.zst.sauve-partial-01m0000000000000000000001");
    let two_days_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 86400);
    for (path, old) in [(&stale, true), (&fresh, false), (&others, true)] {
        std::fs::write(path, b"half an upload").unwrap();
        if old {
            std::fs::File::options()
                .write(true)
                .open(path)
                .unwrap()
                .set_modified(two_days_ago)
                .unwrap();
        }
    }
    let tree = sauve.dest("tree");
    sauve.create_job("again", &format!("files://{}", tree.display()), &[&uri]);
    sauve.backup("again");
    assert!(!stale.exists(), "the job's abandoned upload was swept");
    assert!(fresh.exists(), "a recent upload is left alone");
    assert!(others.exists(), "another job's upload is left alone");

    // A slow source streams for longer than the timeout: the upload's deadline
    // is per chunk, not for the whole PUT, so it succeeds.
    let slow = format!("{uri}&timeout=2s");
    command_job(
        &sauve,
        "slow",
        "for i in 1 2 3 4 5 6; do head -c 1048576 /dev/urandom; sleep 0.7; done",
        &slow,
    );
    let started = std::time::Instant::now();
    let id = sauve.backup("slow");
    assert!(started.elapsed() > std::time::Duration::from_secs(4));
    sauve.run(&["verify", &id]).ok();
}

/// SHA-256 of a file, streamed (the files here are too big to hold).
fn file_sha256(path: &std::path::Path) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    let mut f = std::fs::File::open(path).unwrap();
    let mut block = vec![0u8; 1 << 20];
    loop {
        let n = std::io::Read::read(&mut f, &mut block).unwrap();
        if n == 0 {
            break;
        }
        h.update(&block[..n]);
    }
    hex::encode(h.finalize())
}

#[test]
fn a_one_gib_tree_round_trips_through_s3_alone() {
    let s3 = s3();
    let mut sauve = Sauve::new();
    s3.with_keys(&mut sauve);
    // 1 GiB: half noise, half text, written in 8 MiB blocks (never held whole).
    let tree = sauve.dest("big");
    std::fs::create_dir_all(tree.join("logs")).unwrap();
    {
        use std::io::{Read, Write};
        let mut noise = std::fs::File::open("/dev/urandom").unwrap();
        let mut out = std::fs::File::create(tree.join("noise.bin")).unwrap();
        let mut block = vec![0u8; 8 << 20];
        for _ in 0..64 {
            noise.read_exact(&mut block).unwrap();
            out.write_all(&block).unwrap();
        }
        let mut text =
            std::io::BufWriter::new(std::fs::File::create(tree.join("logs/app.log")).unwrap());
        let mut written = 0usize;
        let mut n = 0u64;
        while written < 512 << 20 {
            let line = format!(
                "2026-11-24T10:{:02}:{:02}Z INFO request {n} served in {} ms\n",
                n % 60,
                n % 59,
                n % 997
            );
            text.write_all(line.as_bytes()).unwrap();
            written += line.len();
            n += 1;
        }
    }
    let prefix = unique("big");
    sauve.create_job(
        "big",
        &format!("files://{}", tree.display()),
        &[&s3.uri(&prefix)],
    );
    let report = sauve.run(&["backup", "run", "big", "--json"]).ok().json();
    assert_eq!(report["state"], "succeeded", "{report}");
    let backup = &report["backups"][0];
    assert!(backup["raw_size"].as_u64().unwrap() >= 1 << 30, "{report}");
    // Over 16 MiB × 3: a multipart upload of many parts, four in flight.
    assert!(backup["size"].as_u64().unwrap() > 48 << 20, "{report}");
    std::fs::remove_dir_all(sauve.data_dir()).unwrap();
    let target = sauve.dest("restored");
    sauve.restore_latest(&s3.uri(&prefix), "big", target.to_str().unwrap());
    for rel in ["noise.bin", "logs/app.log"] {
        assert_eq!(
            file_sha256(&tree.join(rel)),
            file_sha256(&target.join(rel)),
            "{rel}"
        );
    }
}

#[test]
fn gcs_and_azure_destinations_are_validated_and_say_what_is_missing() {
    let sauve = Sauve::new();
    // (destination, phrase of the error): no server is needed to get these right.
    let cases = [
        (
            "gcs://my-backups/app",
            "GOOGLE_APPLICATION_CREDENTIALS is not set",
        ),
        (
            "gcs://my-backups/app?credential_env=GCS_KEY_FILE",
            "GCS_KEY_FILE is not set",
        ),
        (
            "azblob://backups/app?account=acme01",
            "AZURE_STORAGE_KEY is not set",
        ),
        ("azblob://backups/app", "needs its storage account"),
        ("gcs://No_Such/x", "not a bucket name"),
        ("webdav://u:pw@host/x", "holds no password"),
    ];
    for (uri, needle) in cases {
        sauve
            .run(&["storage", "check", uri])
            // A missing variable is the caller's to fix, like a malformed URI.
            .fails(2, &[needle]);
    }
    // A job is refused whole, naming the field, before anything is stored.
    sauve
        .run(&[
            "job",
            "create",
            "j",
            "--source",
            "files:///tmp",
            "--dest",
            "azblob://backups/app?account=Bad-Name",
        ])
        .fails(2, &["not a storage account name"]);
}

/// Azurite's well-known development account (public, documented by Microsoft).
const AZURITE_ACCOUNT: &str = "devstoreaccount1";
const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// Azurite (npm, installed by scripts/setup under ~/.cache/sauve/npm) serving
/// Azure Blob on loopback, with one container, `backups`.
fn start_azurite(dir: &std::path::Path) -> (Daemon, String) {
    let bin = std::env::var("SAUVE_AZURITE_BLOB").unwrap_or_else(|_| {
        format!(
            "{}/.cache/sauve/npm/node_modules/.bin/azurite-blob",
            std::env::var("HOME").unwrap()
        )
    });
    let port = free_port();
    let log = dir.join("azurite.log");
    let child = std::process::Command::new(&bin)
        .args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string()])
        .arg("--location")
        .arg(dir.join("azurite"))
        .args(["--silent", "--skipApiVersionCheck"])
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::create(dir.join("azurite.err")).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("{bin} runs (scripts/setup installs it): {e}"));
    let server = Daemon(child);
    wait_for_port(port, "azurite", &dir.join("azurite.err"));
    let endpoint = format!("http://127.0.0.1:{port}/{AZURITE_ACCOUNT}");
    // Create the container: a SharedKey-signed PUT ?restype=container.
    let url = format!("{endpoint}/backups?restype=container");
    let mut parts = http::Request::builder()
        .method("PUT")
        .uri(&url)
        .header("x-ms-version", "2021-08-06")
        .header("content-length", "0")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    let signer = reqsign_core::Signer::new(
        reqsign_core::Context::new(),
        reqsign_azure_storage::StaticCredentialProvider::new_shared_key(
            AZURITE_ACCOUNT,
            AZURITE_KEY,
        ),
        reqsign_azure_storage::RequestSigner::new(),
    );
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(signer.sign(&mut parts, None))
        .unwrap();
    let mut req = ureq::put(&url);
    for (name, value) in &parts.headers {
        if name != "content-length" {
            req = req.header(name.as_str(), value.to_str().unwrap());
        }
    }
    let resp = req.send_empty().expect("the container is created");
    assert_eq!(resp.status(), 201);
    (server, endpoint)
}

#[test]
fn azure_blob_round_trip_against_azurite() {
    let mut sauve = Sauve::new();
    let (_server, endpoint) = start_azurite(&sauve.dest(""));
    let uri = format!(
        "azblob://backups/app?account={AZURITE_ACCOUNT}&endpoint={endpoint}&key_env=TEST_AZ_KEY"
    );
    sauve
        .env
        .push(("TEST_AZ_KEY".into(), AZURITE_KEY.to_string()));
    round_trip_through(&sauve, &uri);
    // A wrong key is refused, and said to be the credentials' fault.
    let mut wrong = Sauve::new();
    wrong
        .env
        .push(("TEST_AZ_KEY".into(), AZURITE_KEY.replace('E', "F")));
    let r = wrong
        .run(&["storage", "check", &uri])
        .fails(1, &["azblob://"]);
    assert!(!r.stderr().contains(AZURITE_KEY), "the key leaked");
}
