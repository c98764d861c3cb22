//! The hardened edge of `sauve serve`, each test against the real server:
//! silent and half-sent connections closed, a connection limit, thousands of
//! idle connections under a low open-files limit, security headers, cookies,
//! the sign-in origin check, `next=`, sign-in throttling, trusted proxies, the
//! cron secret, and JSON for every 4xx.

use crate::common::*;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Reads until the server closes `s` and says how long that took; fails the
/// test if it stays open for `limit`.
#[track_caller]
fn closed_within(s: &mut TcpStream, limit: Duration) -> Duration {
    let started = Instant::now();
    s.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return started.elapsed(),
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!("the connection was still open after {limit:?}")
            }
            // A reset is closed too.
            Err(_) => return started.elapsed(),
        }
    }
}

/// One raw HTTP/1.1 request (`Connection: close` added); answers the status
/// line's code, the head, and the body.
pub(crate) fn raw(addr: &str, request: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let request = request.replacen("\r\n", "\r\nConnection: close\r\n", 1);
    s.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    (status, head.to_string(), body.to_string())
}

/// `GET /healthz` answers 200 (false on any failure, for `wait_until`).
fn healthz_answers(addr: &str) -> bool {
    let attempt = || -> std::io::Result<bool> {
        let mut s = TcpStream::connect(addr)?;
        s.set_read_timeout(Some(Duration::from_secs(5)))?;
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
        let mut out = Vec::new();
        s.read_to_end(&mut out)?;
        Ok(out.starts_with(b"HTTP/1.1 200"))
    };
    attempt().unwrap_or(false)
}

#[test]
fn edge_silent_half_sent_and_idle_connections_are_closed() {
    let sauve = Sauve::new();
    let server = sauve.spawn_server(
        ServerOpts::new()
            .workers(0)
            .args(["--header-timeout-ms", "1000"]),
    );
    let limit = Duration::from_secs(10);

    let mut silent = TcpStream::connect(&server.addr).unwrap();
    let t = closed_within(&mut silent, limit);
    assert!(t >= Duration::from_millis(800), "closed too soon: {t:?}");
    eprintln!("silent connection closed after {t:?}");

    let mut half = TcpStream::connect(&server.addr).unwrap();
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .unwrap();
    let t = closed_within(&mut half, limit);
    eprintln!("half-sent header closed after {t:?}");

    // Kept alive after a full answer, then silent: closed as well.
    let mut idle = TcpStream::connect(&server.addr).unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 1024];
    idle.set_read_timeout(Some(limit)).unwrap();
    let n = idle.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let t = closed_within(&mut idle, limit);
    eprintln!("idle kept-alive connection closed after {t:?}");
}

#[test]
fn edge_connections_beyond_the_limit_are_closed_at_once() {
    let sauve = Sauve::new();
    let server = sauve.spawn_server(
        ServerOpts::new()
            .workers(0)
            .args(["--max-connections", "4"]),
    );
    let held: Vec<TcpStream> = (0..4)
        .map(|_| TcpStream::connect(&server.addr).unwrap())
        .collect();
    // The server accepts in order; give it the four before the fifth arrives.
    let mut probe = TcpStream::connect(&server.addr).unwrap();
    probe
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .ok();
    let t = closed_within(&mut probe, Duration::from_secs(5));
    eprintln!("fifth connection closed after {t:?}");
    drop(held);
    wait_until(
        Duration::from_secs(10),
        "healthz after the held connections closed",
        || healthz_answers(&server.addr),
    );
}

/// Raises this test process's own soft limit: it opens the connections.
fn raise_own_nofile(want: u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain getrlimit/setrlimit on structs we own.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0);
        assert!(
            lim.rlim_max >= want,
            "hard open-files limit {} < {want}",
            lim.rlim_max
        );
        if lim.rlim_cur < want {
            lim.rlim_cur = want;
            assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &lim), 0);
        }
    }
}

fn hard_nofile() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    lim.rlim_max
}

#[test]
fn edge_1500_idle_connections_under_a_1024_soft_limit_leave_healthz_answering() {
    let hard = hard_nofile();
    assert!(
        hard >= 4096,
        "this machine's hard open-files limit is {hard}"
    );
    raise_own_nofile(4096);
    let sauve = Sauve::new();
    let server = sauve.spawn_server(
        ServerOpts::new()
            .workers(0)
            .nofile(1024, hard)
            .env("SAUVE_LOG", "info"),
    );
    let started = Instant::now();
    let held: Vec<TcpStream> = (0..1500)
        .map(|i| TcpStream::connect(&server.addr).unwrap_or_else(|e| panic!("connection {i}: {e}")))
        .collect();
    eprintln!("1500 connections opened in {:?}", started.elapsed());
    let asked = Instant::now();
    let (status, _, _) = raw(&server.addr, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    let took = asked.elapsed();
    eprintln!("healthz beside 1500 idle connections answered in {took:?}");
    assert_eq!(status, 200);
    assert!(took < Duration::from_secs(5), "healthz took {took:?}");
    assert!(
        server.log().contains("before=1024"),
        "the raise is logged: {}",
        server.log()
    );
    drop(held);
}

#[test]
fn edge_accept_loop_survives_running_out_of_descriptors() {
    raise_own_nofile(1024);
    let sauve = Sauve::new();
    // A hard limit it cannot raise: accepts fail with EMFILE.
    let server = sauve.spawn_server(
        ServerOpts::new()
            .workers(0)
            .nofile(96, 96)
            .args(["--header-timeout-ms", "1500"])
            .env("SAUVE_LOG", "info"),
    );
    let held: Vec<TcpStream> = (0..200)
        .filter_map(|_| TcpStream::connect(&server.addr).ok())
        .collect();
    wait_until(Duration::from_secs(10), "the EMFILE warning", || {
        server.log().contains("out of file descriptors")
    });
    drop(held);
    wait_until(Duration::from_secs(20), "healthz after EMFILE", || {
        healthz_answers(&server.addr)
    });
}
