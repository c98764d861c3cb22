//! RESTORE.md, followed literally: its command blocks, as written, restore
//! the newest backup of a job of each source kind with standard tools only
//! (jq, sha256sum, age, zstd, pg_restore, mariadb, sqlite3, tar), and what
//! they restore is compared with what was backed up.

use crate::common::*;
use std::path::Path;
use std::process::Command;

/// The blocks of RESTORE.md marked `<!-- recipe: common -->`, then those
/// marked for `kind`, as one script.
fn recipe(kind: &str) -> String {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("RESTORE.md"))
        .expect("RESTORE.md");
    let mut script = String::new();
    let mut found = 0;
    for wanted in ["common", kind] {
        let marker = format!("<!-- recipe: {wanted} -->\n```sh\n");
        for (at, _) in doc.match_indices(&marker) {
            let body = &doc[at + marker.len()..];
            let end = body.find("\n```").expect("a closed block");
            script.push_str(&body[..end]);
            script.push('\n');
            found += 1;
        }
    }
    assert!(
        found >= 5,
        "RESTORE.md has a {kind} recipe ({found} blocks)"
    );
    script
}

/// Runs the recipe for `kind` in bash with `env`; it must succeed.
fn follow(kind: &str, env: &[(&str, &str)]) -> String {
    let out = Command::new("bash")
        .arg("-c")
        .arg(recipe(kind))
        .envs(env.iter().copied())
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "the {kind} recipe failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("checksum and size match"), "{stdout}");
    stdout
}

#[test]
fn restore_md_restores_every_source_kind_with_standard_tools() {
    let sauve = Sauve::new();
    let dest = sauve.dest("b");
    let dest_s = dest.to_str().unwrap();

    // PostgreSQL, into a database created by the recipe.
    let pg = PgDb::create("recipe_pg");
    psql(
        &pg.0,
        "CREATE TABLE orders (id int PRIMARY KEY, note text);
         INSERT INTO orders SELECT i, 'n' || i FROM generate_series(1, 500) i;",
    );
    sauve.create_job("pgjob", &pg_url(&pg.0), &[dest_s]);
    sauve.backup("pgjob");
    psql(&pg.0, "INSERT INTO orders VALUES (501, 'after')");
    let newest = sauve.backup("pgjob");
    let restored = PgDb::reserve("recipe_pg_new");
    let url = url::Url::parse(&pg_admin_url()).unwrap();
    let port = url.port().unwrap_or(5432).to_string();
    let said = follow(
        "postgres",
        &[
            ("DEST", dest_s),
            ("JOB", "pgjob"),
            ("NEW_DB", &restored.0),
            ("PGHOST", url.host_str().unwrap()),
            ("PGPORT", &port),
            ("PGUSER", "postgres"),
        ],
    );
    assert!(
        said.contains(&newest),
        "the newest backup was picked: {said}"
    );
    let q = "SELECT count(*) || ':' || sum(id) || ':' || max(note) FROM orders";
    assert_eq!(psql(&restored.0, q), psql(&pg.0, q));

    // MariaDB.
    let my = MyDb::create("recipe_my");
    mysql(
        Some(&my.0),
        "CREATE TABLE items (id INT PRIMARY KEY, name TEXT);
         INSERT INTO items VALUES (1, 'é'), (2, 'two');",
    );
    sauve.create_job("myjob", &mysql_url(&my.0), &[dest_s]);
    sauve.backup("myjob");
    let restored_my = MyDb::reserve("recipe_my_new");
    let murl = url::Url::parse(&mysql_admin_url()).unwrap();
    let opts = format!(
        "--host={} --port={} --protocol=TCP --user={}",
        murl.host_str().unwrap(),
        murl.port().unwrap_or(3306),
        if murl.username().is_empty() {
            "root"
        } else {
            murl.username()
        }
    );
    follow(
        "mysql",
        &[
            ("DEST", dest_s),
            ("JOB", "myjob"),
            ("NEW_DB", &restored_my.0),
            ("MARIADB_OPTS", &opts),
        ],
    );
    let q = "SELECT GROUP_CONCAT(id, '=', name ORDER BY id) FROM items";
    assert_eq!(mysql(Some(&restored_my.0), q), mysql(Some(&my.0), q));

    // SQLite, encrypted to an age recipient: the identity file decrypts it.
    let key = sauve.dest("age.key");
    let keygen = Command::new("age-keygen")
        .arg("-o")
        .arg(&key)
        .output()
        .expect("age-keygen runs");
    let public = String::from_utf8_lossy(&keygen.stderr)
        .trim()
        .trim_start_matches("Public key: ")
        .to_string();
    assert!(public.starts_with("age1"), "{public}");
    let db = sauve.dest("app.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch(
            "CREATE TABLE t (x INTEGER, y TEXT); INSERT INTO t VALUES (1, 'a'), (2, 'b');",
        )
        .unwrap();
    sauve
        .run(&[
            "job",
            "create",
            "litejob",
            "--source",
            &format!("sqlite://{}", db.display()),
            "--dest",
            dest_s,
            "--encrypt-recipient",
            &public,
        ])
        .ok();
    let id = sauve.backup("litejob");
    assert!(sauve.artifact_path(&id).to_str().unwrap().ends_with(".age"));
    let new_file = sauve.dest("restored.db");
    follow(
        "sqlite",
        &[
            ("DEST", dest_s),
            ("JOB", "litejob"),
            ("NEW_FILE", new_file.to_str().unwrap()),
            ("AGE_IDENTITY", key.to_str().unwrap()),
        ],
    );
    let dump = |p: &Path| {
        let out = Command::new("sqlite3")
            .arg(p)
            .arg(".dump")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    assert_eq!(dump(&new_file), dump(&db));

    // Files: the same tree, modes included.
    let tree = sauve.dest("tree");
    std::fs::create_dir_all(tree.join("sub/deeper")).unwrap();
    std::fs::write(tree.join("a.txt"), "alpha").unwrap();
    std::fs::write(tree.join("sub/deeper/b.bin"), [0u8, 1, 2, 255]).unwrap();
    std::os::unix::fs::symlink("a.txt", tree.join("link")).unwrap();
    sauve.create_job(
        "filesjob",
        &format!("files://{}", tree.display()),
        &[dest_s],
    );
    sauve.backup("filesjob");
    let new_dir = sauve.dest("restored-tree");
    follow(
        "files",
        &[
            ("DEST", dest_s),
            ("JOB", "filesjob"),
            ("NEW_DIR", new_dir.to_str().unwrap()),
        ],
    );
    let diff = Command::new("diff")
        .args(["-r", "--no-dereference"])
        .arg(&tree)
        .arg(&new_dir)
        .output()
        .unwrap();
    assert!(
        diff.status.success(),
        "{}",
        String::from_utf8_lossy(&diff.stdout)
    );
}
