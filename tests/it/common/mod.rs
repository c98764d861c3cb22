//! Test harness shared by the integration tests: runs the real `sauve` binary in a
//! fresh data directory (and `sauve serve` on port 0, [`Sauve::spawn_server`]),
//! and makes throwaway databases on the machine's PostgreSQL and MariaDB
//! (`SAUVE_TEST_PG_URL`, `SAUVE_TEST_MYSQL_URL`).

mod receiver;
pub use receiver::{Receiver, Request};

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

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

    /// `secret set NAME ARGS…` with `value` on stdin, which must succeed.
    pub fn set_secret(&self, name: &str, value: &str, args: &[&str]) {
        let mut child = self
            .command()
            .args(["secret", "set", name])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(value.as_bytes()).unwrap();
        drop(stdin);
        assert!(child.wait().unwrap().success(), "secret set {name}");
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

    /// Backup `id` as `backup list --json` shows it.
    pub fn listed(&self, id: &str) -> serde_json::Value {
        let all = self.run(&["backup", "list", "--json"]).ok().json();
        all.as_array()
            .unwrap()
            .iter()
            .find(|b| b["id"] == id)
            .unwrap_or_else(|| panic!("{id} listed: {all}"))
            .clone()
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

/// What `sauve serve` is started with besides `--listen 127.0.0.1:0`: flags and
/// environment variables, added to the [`Sauve`]'s own.
#[derive(Default)]
pub struct ServerOpts {
    args: Vec<String>,
    env: Vec<(String, String)>,
    /// Soft and hard open-files limits the server starts under.
    nofile: Option<(u64, u64)>,
}

impl ServerOpts {
    pub fn new() -> Self {
        Self::default()
    }

    /// `--workers N`; 0 serves the API only, with no scheduler and no workers.
    pub fn workers(self, n: usize) -> Self {
        self.args(["--workers".to_string(), n.to_string()])
    }

    /// `--tick-ms MS`: how often the scheduler and the queue look for work.
    pub fn tick_ms(self, ms: u64) -> Self {
        self.args(["--tick-ms".to_string(), ms.to_string()])
    }

    /// Any other flags, in order.
    pub fn args<S: Into<String>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Starts the server under these open-files limits (soft, hard), as a
    /// login shell's `ulimit -n` would.
    pub fn nofile(mut self, soft: u64, hard: u64) -> Self {
        self.nofile = Some((soft, hard));
        self
    }

    /// An environment variable for the server only.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }
}

/// A running `sauve serve` on a port of its own, killed (SIGKILL) and reaped
/// when dropped, however the test ends.
pub struct Server {
    child: Child,
    /// The rest of its stdout, after the "listening on" line; kept open so the
    /// server never writes to a closed pipe.
    stdout: BufReader<ChildStdout>,
    /// Where its stderr (the log) goes.
    log: PathBuf,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// `http://127.0.0.1:PORT`, for clients.
    pub base: String,
}

impl Sauve {
    /// Starts `sauve serve --listen 127.0.0.1:0` with `opts`, and returns once it
    /// has said where it listens (it prints that after binding, so it already
    /// accepts connections).
    pub fn spawn_server(&self, opts: ServerOpts) -> Server {
        let log = self.dest(&format!("{}.log", unique("server")));
        let mut cmd = self.command();
        cmd.args(["serve", "--listen", "127.0.0.1:0"])
            // Where a newcomer starts it: the default --allow-path root.
            .current_dir(self.dir.path())
            .args(&opts.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("server log file"));
        for (k, v) in &opts.env {
            cmd.env(k, v);
        }
        if let Some((soft, hard)) = opts.nofile {
            use std::os::unix::process::CommandExt;
            let lim = libc::rlimit {
                rlim_cur: soft,
                rlim_max: hard,
            };
            // SAFETY: setrlimit is async-signal-safe and touches only the child.
            unsafe {
                cmd.pre_exec(move || {
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) == 0 {
                        Ok(())
                    } else {
                        Err(std::io::Error::last_os_error())
                    }
                });
            }
        }
        let mut child = cmd.spawn().expect("sauve serve starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut line = String::new();
        let read = stdout.read_line(&mut line);
        let addr = line
            .split_once("listening on http://")
            .map(|(_, addr)| addr.trim().to_string());
        let Some(addr) = addr.filter(|_| read.is_ok()) else {
            let _ = child.kill();
            let status = child.wait();
            panic!(
                "sauve serve {:?} did not say where it listens (first line {line:?}, {read:?}, exit {status:?}); its log:\n{}",
                opts.args,
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        };
        Server {
            child,
            stdout,
            log,
            base: format!("http://{addr}"),
            addr,
        }
    }
}

impl Server {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The next line the server prints on stdout (without its newline).
    pub fn read_line(&mut self) -> String {
        let mut line = String::new();
        self.stdout
            .read_line(&mut line)
            .expect("the server's stdout");
        line.trim_end_matches('\n').to_string()
    }

    /// Everything the server has logged (its stderr) so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).expect("server log")
    }

    /// SIGTERM, then waits for the exit: a graceful shutdown.
    pub fn terminate(&mut self) -> ExitStatus {
        self.signal(libc::SIGTERM);
        self.child.wait().expect("wait for sauve serve")
    }

    /// SIGKILL, then waits for the exit: a crash, with no chance to clean up.
    pub fn kill_9(&mut self) {
        self.signal(libc::SIGKILL);
        let _ = self.child.wait();
    }

    fn signal(&self, signal: libc::c_int) {
        let pid = libc::pid_t::try_from(self.pid()).expect("pid");
        // SAFETY: kill(2) only sends a signal; the pid is our own unreaped child.
        let rc = unsafe { libc::kill(pid, signal) };
        assert_eq!(rc, 0, "kill({pid}, {signal}) failed");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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

/// Checks `cond` every 100 ms until it holds (true), or until `timeout` has
/// passed (false, after one last check at the deadline).
pub fn poll_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until `cond` holds, checking every 100 ms; fails the test after
/// `timeout`, saying it was waiting for `what`. Use it instead of a sleep
/// that guesses how long something takes.
#[track_caller]
pub fn wait_until(timeout: Duration, what: &str, cond: impl FnMut() -> bool) {
    if !poll_until(timeout, cond) {
        panic!("timed out after {timeout:?} waiting for {what}");
    }
}

/// Flips one bit in the middle of a file.
pub fn flip_byte(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}
