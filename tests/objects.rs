//! Object storage against a real S3-compatible server on loopback (Garage,
//! started by `scripts/garage`, found through `SAUVE_TEST_S3_*`): a backup fanned
//! out to local disk and S3 in one read, listed and restored from S3 alone with
//! the metadata store gone, and each way of getting the credentials or the
//! bucket wrong giving its own error.

mod common;
use common::*;

struct S3 {
    endpoint: String,
    bucket: String,
    region: String,
    key_id: String,
    secret: String,
}

fn s3() -> S3 {
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
    fn uri(&self, prefix: &str) -> String {
        format!(
            "s3://{}/{prefix}?endpoint={}&region={}&access_key_env=TEST_S3_KEY&secret_key_env=TEST_S3_SECRET",
            self.bucket, self.endpoint, self.region
        )
    }

    fn with_keys(&self, sauve: &mut Sauve) {
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

#[test]
fn a_backup_goes_to_disk_and_s3_in_one_pass_and_restores_from_s3_alone() {
    let s3 = s3();
    let mut sauve = Sauve::new();
    s3.with_keys(&mut sauve);
    let prefix = unique("roundtrip");
    let source = sqlite_source(&sauve);
    let local = sauve.dest("local");
    sauve
        .run(&[
            "job",
            "create",
            "notes",
            "--source",
            &source,
            "--dest",
            local.to_str().unwrap(),
            "--dest",
            &s3.uri(&prefix),
        ])
        .ok();
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
    sauve
        .run(&[
            "restore",
            "--from",
            &s3.uri(&prefix),
            "--latest",
            "--job",
            "notes",
            "--to",
            target.to_str().unwrap(),
        ])
        .ok();
    assert_eq!(count_notes(&target), 20000);
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
    sauve
        .run(&[
            "job",
            "create",
            "notes",
            "--source",
            &source,
            "--dest",
            local.to_str().unwrap(),
            "--dest",
            &missing_bucket,
        ])
        .ok();
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
    sauve
        .run(&[
            "job",
            "create",
            "pg",
            "--source",
            &pg_url(&src.0),
            "--dest",
            &s3.uri(&prefix),
        ])
        .ok();
    sauve.backup("pg");
    std::fs::remove_dir_all(sauve.data_dir()).unwrap();
    let restored = PgDb::reserve("sauve_s3dst");
    sauve
        .run(&[
            "restore",
            "--from",
            &s3.uri(&prefix),
            "--latest",
            "--job",
            "pg",
            "--to",
            &pg_url(&restored.0),
        ])
        .ok();
    assert_eq!(psql(&restored.0, content), psql(&src.0, content));
}
