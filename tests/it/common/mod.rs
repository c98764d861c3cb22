//! Test harness shared by the integration tests: runs the real `sauve` binary in a
//! fresh data directory, and makes throwaway databases on the machine's PostgreSQL
//! and MariaDB (`SAUVE_TEST_PG_URL`, `SAUVE_TEST_MYSQL_URL`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn pg_admin_url() -> String {
    std::env::var("SAUVE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub fn mysql_admin_url() -> String {
    std::env::var("SAUVE_TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into())
}

/// A unique lowercase name for databases and jobs.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}",
        ulid::Ulid::generate().to_string().to_lowercase()
    )
}

/// The `sauve` binary with its own data directory.
pub struct Sauve {
    pub dir: tempfile::TempDir,
    pub env: Vec<(String, String)>,
}

pub struct Run {
    pub out: Output,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }
    pub fn code(&self) -> i32 {
        self.out.status.code().unwrap_or(-1)
    }
    #[track_caller]
    pub fn ok(self) -> Self {
        assert!(
            self.out.status.success(),
            "sauve failed ({}):\nstdout: {}\nstderr: {}",
            self.code(),
            self.stdout(),
            self.stderr()
        );
        self
    }
    /// Asserts failure with `code` and a stderr mentioning every needle.
    #[track_caller]
    pub fn fails(self, code: i32, needles: &[&str]) -> Self {
        let err = self.stderr();
        assert_eq!(
            self.code(),
            code,
            "exit code; stderr: {err}\nstdout: {}",
            self.stdout()
        );
        for n in needles {
            assert!(err.contains(n), "stderr lacks {n:?}:\n{err}");
        }
        assert!(!err.contains("panicked"), "sauve panicked:\n{err}");
        self
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.out.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout()))
    }
}

impl Sauve {
    pub fn new() -> Self {
        Sauve {
            dir: tempfile::tempdir().expect("temp dir"),
            env: Vec::new(),
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A destination folder inside this test's temp dir.
    pub fn dest(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sauve"));
        cmd.arg("--data-dir").arg(self.data_dir());
        cmd.env_remove("SAUVE_DATABASE_URL");
        cmd.env("SAUVE_LOG", "warn");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        let out = self.command().args(args).output().expect("sauve runs");
        Run { out }
    }

    /// `job create NAME --source SOURCE --dest D…`, which must succeed.
    pub fn create_job(&self, name: &str, source: &str, dests: &[&str]) {
        let mut args = vec!["job", "create", name, "--source", source];
        for d in dests {
            args.extend(["--dest", d]);
        }
        self.run(&args).ok();
    }

    /// `restore --from URI --latest --job JOB --to TARGET`, which must succeed:
    /// the restore from a destination alone, with no metadata store.
    pub fn restore_latest(&self, from: &str, job: &str, target: &str) {
        self.run(&[
            "restore", "--from", from, "--latest", "--job", job, "--to", target,
        ])
        .ok();
    }

    /// `backup run JOB --json` → the first backup's id.
    pub fn backup(&self, job: &str) -> String {
        let r = self.run(&["backup", "run", job, "--json"]).ok();
        let v = r.json();
        assert_eq!(v["state"], "succeeded", "{v}");
        v["backups"][0]["id"]
            .as_str()
            .expect("backup id")
            .to_string()
    }

    /// Path of a backup's artifact in a local destination.
    pub fn artifact_path(&self, id: &str) -> PathBuf {
        let v = self.run(&["backup", "list", "--json"]).ok().json();
        let b = v
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["id"] == id)
            .expect("backup listed");
        let dest = b["destination"]
            .as_str()
            .unwrap()
            .trim_start_matches("file://")
            .to_string();
        Path::new(&dest).join(b["key"].as_str().unwrap())
    }
}

pub fn psql(db: &str, sql: &str) -> String {
    let url = url::Url::parse(&pg_admin_url()).unwrap();
    let out = Command::new("psql")
        .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
        .arg("-h")
        .arg(url.host_str().unwrap())
        .arg("-p")
        .arg(url.port().unwrap_or(5432).to_string())
        .arg("-U")
        .arg(if url.username().is_empty() {
            "postgres"
        } else {
            url.username()
        })
        .arg("-d")
        .arg(db)
        .arg("-c")
        .arg(sql)
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A PostgreSQL URL for database `db` on the test server.
pub fn pg_url(db: &str) -> String {
    let mut url = url::Url::parse(&pg_admin_url()).unwrap();
    url.set_path(&format!("/{db}"));
    url.to_string()
}

/// A fresh PostgreSQL database, dropped when the guard goes.
pub struct PgDb(pub String);

impl PgDb {
    pub fn create(prefix: &str) -> PgDb {
        let name = unique(prefix);
        psql("postgres", &format!("CREATE DATABASE {name}"));
        PgDb(name)
    }
    /// A name for a database the test expects Sauve to create; dropped at the end.
    pub fn reserve(prefix: &str) -> PgDb {
        PgDb(unique(prefix))
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let _ = std::panic::catch_unwind(|| {
            psql(
                "postgres",
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.0),
            )
        });
    }
}

pub fn mysql(db: Option<&str>, sql: &str) -> String {
    let url = url::Url::parse(&mysql_admin_url()).unwrap();
    let mut cmd = Command::new("mariadb");
    cmd.arg(format!("--host={}", url.host_str().unwrap()))
        .arg(format!("--port={}", url.port().unwrap_or(3306)))
        .arg("--protocol=TCP")
        .arg(format!(
            "--user={}",
            if url.username().is_empty() {
                "root"
            } else {
                url.username()
            }
        ))
        .args([
            "--batch",
            "--skip-column-names",
            "--default-character-set=utf8mb4",
        ]);
    if let Some(db) = db {
        cmd.arg(db);
    }
    let out = cmd
        .arg("--execute")
        .arg(sql)
        .output()
        .expect("mariadb runs");
    assert!(
        out.status.success(),
        "mariadb failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

pub fn mysql_url(db: &str) -> String {
    let mut url = url::Url::parse(&mysql_admin_url()).unwrap();
    url.set_path(&format!("/{db}"));
    url.to_string()
}

pub struct MyDb(pub String);

impl MyDb {
    pub fn create(prefix: &str) -> MyDb {
        let name = unique(prefix);
        mysql(
            None,
            &format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4"),
        );
        MyDb(name)
    }
    pub fn reserve(prefix: &str) -> MyDb {
        MyDb(unique(prefix))
    }
}

impl Drop for MyDb {
    fn drop(&mut self) {
        let _ = std::panic::catch_unwind(|| {
            mysql(None, &format!("DROP DATABASE IF EXISTS `{}`", self.0))
        });
    }
}

/// Flips one bit in the middle of a file.
pub fn flip_byte(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}
