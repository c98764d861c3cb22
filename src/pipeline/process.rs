//! Running the external tools (pg_dump, mariadb-dump, psql, pg_restore, the user's
//! commands): finding them on PATH with an install hint when missing, streaming
//! their stdout/stdin, capturing their stderr (capped) for the run's log, and
//! turning their failures into [`SourceError`]s that say what to do.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

const STDERR_CAP: usize = 32 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{tool} was not found in PATH: {hint}")]
    ToolMissing {
        tool: &'static str,
        hint: &'static str,
    },
    #[error(
        "cannot reach the {kind} server at {address}: {detail}. Is it running, and are the host and port right?"
    )]
    Unreachable {
        kind: &'static str,
        address: String,
        detail: String,
    },
    #[error(
        "the {kind} server at {address} refused user {user:?}: wrong password or no access. Name its password in the URI: ?password=secret:NAME (a secret bound to this host), or ?password_env=VAR where the operator writes the job"
    )]
    Auth {
        kind: &'static str,
        address: String,
        user: String,
        env: &'static str,
    },
    #[error("database {database:?} does not exist on the {kind} server at {address}")]
    NoDatabase {
        kind: &'static str,
        address: String,
        database: String,
    },
    #[error("{0}")]
    Config(String),
    /// A credential that may not be used here (not bound to this host,
    /// unknown, unset): the job's or the caller's to fix.
    #[error(transparent)]
    Credential(#[from] crate::domain::CredentialError),
    #[error("{tool} failed ({status}): {stderr}")]
    ToolFailed {
        tool: String,
        status: String,
        stderr: String,
    },
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
    #[error("refusing to restore into {target}: {why}")]
    TargetRefused { target: String, why: String },
    #[error("the backup is not valid {format}: {detail}")]
    Format {
        format: &'static str,
        detail: String,
    },
}

impl SourceError {
    pub fn io(what: impl Into<String>, source: io::Error) -> Self {
        SourceError::Io {
            what: what.into(),
            source,
        }
    }
}

/// Stops a run from another thread: sets a flag the pipeline checks at every
/// chunk, and kills the dump tool it is waiting on (a hung `pg_dump` writes no
/// chunk, so the flag alone would never be seen).
#[derive(Clone, Default)]
pub struct Cancel {
    flag: Arc<AtomicBool>,
    child: Arc<Mutex<Option<Child>>>,
}

impl Cancel {
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.kill_parked();
    }

    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    pub fn flag(&self) -> Arc<AtomicBool> {
        self.flag.clone()
    }

    /// Keeps the running tool where `cancel` can kill it; a cancel that came
    /// while it was starting kills it at once.
    fn park(&self, child: Child) {
        *self.child.lock().unwrap_or_else(|p| p.into_inner()) = Some(child);
        if self.is_cancelled() {
            self.cancel();
        }
    }

    /// Kills the parked tool (not the run: the flag stays as it is).
    fn kill_parked(&self) {
        if let Some(child) = self
            .child
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_mut()
        {
            kill_group(child);
        }
    }

    /// Waits for the parked tool to exit, leaving it killable meanwhile.
    fn wait_parked(&self) -> io::Result<std::process::ExitStatus> {
        loop {
            {
                let mut slot = self.child.lock().unwrap_or_else(|p| p.into_inner());
                let child = slot.as_mut().expect("the child was parked here");
                if let Some(status) = child.try_wait()? {
                    slot.take();
                    return Ok(status);
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    fn unpark(&self) -> Child {
        self.child
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .expect("the child was parked here")
    }

    fn cancelled_error(label: &str) -> SourceError {
        SourceError::io(
            format!("{label} was stopped"),
            io::Error::new(io::ErrorKind::Interrupted, "run cancelled"),
        )
    }
}

/// A reader that fails once the run is cancelled, so whatever it feeds stops at
/// its next read.
pub struct CancellableReader<'a, R: ?Sized> {
    pub inner: &'a mut R,
    pub cancel: &'a Cancel,
}

impl<R: Read + ?Sized> Read for CancellableReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.cancel.is_cancelled() {
            // Not ErrorKind::Interrupted: copy loops retry those.
            return Err(io::Error::other("run cancelled"));
        }
        self.inner.read(buf)
    }
}

/// Kills a dump tool and everything it started: `sh -c "a | b"` or a script's
/// children would otherwise keep the pipe open after their parent died.
fn kill_group(child: &mut Child) {
    // The child leads its own process group (see `run_dump`), so -pid names it.
    // SAFETY: kill(2) with a negative pid only sends a signal; no memory is touched.
    unsafe {
        libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL);
    }
    let _ = child.kill();
}

/// Finds the first of `names` on PATH.
pub fn find_tool(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for name in names {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if is_executable(&candidate) {
                return Some(candidate);
            }
        }
    }
    None
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

pub fn require_tool(
    names: &[&str],
    tool: &'static str,
    hint: &'static str,
) -> Result<PathBuf, SourceError> {
    find_tool(names).ok_or(SourceError::ToolMissing { tool, hint })
}

/// What a child process keeps of Sauve's environment. Everything else (the
/// cron secret, the master key, every credential variable) stays behind; a
/// tool gets the one credential it needs added by its caller.
pub const KEPT_ENV: [&str; 4] = ["PATH", "HOME", "LANG", "TZ"];

/// A command for `program` with a scrubbed environment (see [`KEPT_ENV`]).
pub fn clean_command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_clear();
    for var in KEPT_ENV {
        if let Some(v) = std::env::var_os(var) {
            cmd.env(var, v);
        }
    }
    cmd
}

/// `TOOL --version`, first line, for manifests.
pub fn tool_version(tool: &Path) -> Option<String> {
    let out = clean_command(tool).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .next()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
}

/// Collects a child's stderr on a thread, keeping the first `STDERR_CAP` bytes.
pub struct StderrCapture {
    handle: Option<JoinHandle<()>>,
    text: Arc<Mutex<Vec<u8>>>,
}

impl StderrCapture {
    pub fn start(child: &mut Child) -> Self {
        let text = Arc::new(Mutex::new(Vec::new()));
        let handle = child.stderr.take().map(|mut err| {
            let text = text.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                loop {
                    match err.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            let mut t = text.lock().unwrap_or_else(|p| p.into_inner());
                            let room = STDERR_CAP.saturating_sub(t.len());
                            t.extend_from_slice(&buf[..n.min(room)]);
                        }
                    }
                }
            })
        });
        Self { handle, text }
    }

    pub fn finish(mut self) -> String {
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        let t = self.text.lock().unwrap_or_else(|p| p.into_inner());
        String::from_utf8_lossy(&t).trim_end().to_string()
    }
}

fn spawn(
    cmd: &mut Command,
    label: &str,
    stdin: Stdio,
    stdout: Stdio,
) -> Result<Child, SourceError> {
    cmd.stdin(stdin)
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| SourceError::io(format!("cannot start {label}"), e))
}

fn failed(label: &str, status: std::process::ExitStatus, stderr: &str) -> SourceError {
    let status = match status.code() {
        Some(c) => format!("exit status {c}"),
        None => "killed by a signal".to_string(),
    };
    let stderr = if stderr.is_empty() {
        "it printed nothing on stderr".to_string()
    } else {
        stderr.to_string()
    };
    SourceError::ToolFailed {
        tool: label.to_string(),
        status,
        stderr,
    }
}

/// Runs `cmd`, copying its stdout into `out`. Returns its stderr (for the log).
/// If `out` fails (storage gone, run cancelled) the child is killed.
pub fn run_dump(
    cmd: &mut Command,
    label: &str,
    out: &mut dyn Write,
    cancel: &Cancel,
) -> Result<String, SourceError> {
    if cancel.is_cancelled() {
        return Err(Cancel::cancelled_error(label));
    }
    // Its own process group, so a cancel can kill the tool and its children.
    std::os::unix::process::CommandExt::process_group(cmd, 0);
    let mut child = spawn(cmd, label, Stdio::null(), Stdio::piped())?;
    let capture = StderrCapture::start(&mut child);
    let mut stdout = child.stdout.take().expect("stdout is piped");
    // While we copy, the child sits where `Cancel` can kill it.
    cancel.park(child);
    let copied = copy_large(&mut stdout, out);
    let mut child = cancel.unpark();
    if copied.is_err() {
        kill_group(&mut child);
    }
    drop(stdout);
    let status = child
        .wait()
        .map_err(|e| SourceError::io(format!("waiting for {label}"), e))?;
    let stderr = capture.finish();
    if cancel.is_cancelled() {
        return Err(Cancel::cancelled_error(label));
    }
    if let Err(e) = copied {
        // The write side failed first: that is the real error, not the kill.
        return Err(SourceError::io(
            format!("streaming the output of {label}"),
            e,
        ));
    }
    if !status.success() {
        return Err(failed(label, status, &stderr));
    }
    Ok(stderr)
}

/// Runs `cmd`, feeding `input` to its stdin. Returns its stderr. A cancel
/// kills the tool (and its process group) even while it is not reading: a
/// restore stopped mid-way must not leave `pg_restore` running.
pub fn run_feed(
    cmd: &mut Command,
    label: &str,
    input: &mut dyn Read,
    cancel: &Cancel,
) -> Result<String, SourceError> {
    if cancel.is_cancelled() {
        return Err(Cancel::cancelled_error(label));
    }
    std::os::unix::process::CommandExt::process_group(cmd, 0);
    let mut child = spawn(cmd, label, Stdio::piped(), Stdio::null())?;
    let capture = StderrCapture::start(&mut child);
    let mut stdin = child.stdin.take().expect("stdin is piped");
    cancel.park(child);
    let copied = copy_large(
        &mut CancellableReader {
            inner: input,
            cancel,
        },
        &mut stdin,
    );
    if copied
        .as_ref()
        .is_err_and(|e| e.kind() != io::ErrorKind::BrokenPipe)
    {
        // The input failed (storage gone, a damaged artifact): the tool must
        // not see a clean end of a truncated stream and apply it as whole.
        cancel.kill_parked();
    }
    drop(stdin);
    // The tool may work long after its input ended (pg_restore building
    // indexes): it stays parked, killable, until it exits.
    let status = cancel
        .wait_parked()
        .map_err(|e| SourceError::io(format!("waiting for {label}"), e))?;
    let stderr = capture.finish();
    if cancel.is_cancelled() {
        return Err(Cancel::cancelled_error(label));
    }
    match copied {
        // A reader error (corrupt artifact, decryption failure, a refused
        // checksum) is the cause, and the tool was killed for it: that is
        // the error, not the kill.
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            Err(SourceError::io(format!("feeding {label}"), e))
        }
        // A broken pipe means the tool stopped reading early, which it
        // reports itself.
        _ if !status.success() => Err(failed(label, status, &stderr)),
        Err(e) => Err(SourceError::io(format!("feeding {label}"), e)),
        Ok(_) => Ok(stderr),
    }
}

/// Runs `cmd` to completion and returns its stdout (for small queries).
pub fn run_capture(cmd: &mut Command, label: &str) -> Result<String, SourceError> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| SourceError::io(format!("cannot start {label}"), e))?;
    let stderr = String::from_utf8_lossy(&out.stderr).trim_end().to_string();
    if !out.status.success() {
        return Err(failed(label, out.status, &stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// `io::copy` with a buffer large enough for pipes to stay full.
pub fn copy_large(r: &mut dyn Read, w: &mut dyn Write) -> io::Result<u64> {
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        w.write_all(&buf[..n])?;
        total += n as u64;
    }
}

/// What a database client's stderr says went wrong, in terms a person can act on.
pub fn classify_db_error(
    err: SourceError,
    kind: &'static str,
    address: &str,
    user: &str,
    database: &str,
    password_env: &'static str,
) -> SourceError {
    let SourceError::ToolFailed { stderr, .. } = &err else {
        return err;
    };
    let s = stderr.to_ascii_lowercase();
    if s.contains("connection refused")
        || s.contains("can't connect")
        || s.contains("could not connect")
        || s.contains("timeout expired")
        || s.contains("no route to host")
        || s.contains("could not translate host name")
        || s.contains("unknown server host")
    {
        let detail = stderr
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim()
            .to_string();
        return SourceError::Unreachable {
            kind,
            address: address.to_string(),
            detail,
        };
    }
    if s.contains("password authentication failed")
        || s.contains("access denied for user")
        || s.contains("no password supplied")
        || s.contains("role \"") && s.contains("does not exist")
    {
        return SourceError::Auth {
            kind,
            address: address.to_string(),
            user: user.to_string(),
            env: password_env,
        };
    }
    if (s.contains("database \"") && s.contains("does not exist")) || s.contains("unknown database")
    {
        return SourceError::NoDatabase {
            kind,
            address: address.to_string(),
            database: database.to_string(),
        };
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool_failed(stderr: &str) -> SourceError {
        SourceError::ToolFailed {
            tool: "pg_dump".into(),
            status: "exit status 1".into(),
            stderr: stderr.into(),
        }
    }

    #[test]
    fn classifies_client_errors() {
        let cases = [
            (
                "pg_dump: error: connection to server at \"127.0.0.1\", port 5999 failed: Connection refused",
                "cannot reach",
            ),
            (
                "mariadb-dump: Got error: 2002: \"Can't connect to server on '127.0.0.1' (115)\"",
                "cannot reach",
            ),
            (
                "pg_dump: error: FATAL:  password authentication failed for user \"bob\"",
                "refused user",
            ),
            (
                "mariadb-dump: Got error: 1045: \"Access denied for user 'bob'@'localhost'\"",
                "refused user",
            ),
            (
                "pg_dump: error: FATAL:  database \"nope\" does not exist",
                "does not exist on",
            ),
            (
                "mariadb-dump: Got error: 1049: \"Unknown database 'nope'\"",
                "does not exist on",
            ),
            ("pg_dump: error: something else", "pg_dump failed"),
        ];
        for (stderr, needle) in cases {
            let e = classify_db_error(
                tool_failed(stderr),
                "PostgreSQL",
                "h:1",
                "bob",
                "nope",
                "PGPASSWORD",
            );
            assert!(e.to_string().contains(needle), "{stderr}: {e}");
        }
    }

    #[test]
    fn dump_and_feed_real_processes() {
        let mut out = Vec::new();
        let stderr = run_dump(
            Command::new("sh").args(["-c", "printf hello; echo warn >&2"]),
            "sh",
            &mut out,
            &Cancel::default(),
        )
        .unwrap();
        assert_eq!(out, b"hello");
        assert_eq!(stderr, "warn");

        let e = run_dump(
            Command::new("sh").args(["-c", "echo boom >&2; exit 3"]),
            "sh",
            &mut Vec::new(),
            &Cancel::default(),
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "sh failed (exit status 3): boom");

        // A hung tool is killed by a cancel from another thread.
        let cancel = Cancel::default();
        let c2 = cancel.clone();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(200));
            c2.cancel();
        });
        let started = std::time::Instant::now();
        let e = run_dump(
            Command::new("sleep").arg("30"),
            "sleep",
            &mut Vec::new(),
            &cancel,
        )
        .unwrap_err();
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        assert!(e.to_string().contains("stopped"), "{e}");

        let mut input: &[u8] = b"abc";
        run_feed(
            Command::new("sh").args(["-c", "test \"$(cat)\" = abc"]),
            "sh",
            &mut input,
            &Cancel::default(),
        )
        .unwrap();
        let mut input: &[u8] = b"abd";
        assert!(
            run_feed(
                Command::new("sh").args(["-c", "test \"$(cat)\" = abc"]),
                "sh",
                &mut input,
                &Cancel::default(),
            )
            .is_err()
        );

        // A restore tool that reads nothing is killed by a cancel all the same.
        let cancel = Cancel::default();
        let stopper = cancel.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            stopper.cancel();
        });
        let started = std::time::Instant::now();
        let mut input: &[u8] = b"abc";
        let e = run_feed(
            Command::new("sh").args(["-c", "sleep 30"]),
            "sh",
            &mut input,
            &cancel,
        )
        .unwrap_err();
        t.join().unwrap();
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        assert!(e.to_string().contains("stopped"), "{e}");
    }

    #[test]
    fn missing_tool_names_the_package() {
        let e = require_tool(
            &["sauve-no-such-tool"],
            "pg_dump",
            "install postgresql-client",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "pg_dump was not found in PATH: install postgresql-client"
        );
    }
}
