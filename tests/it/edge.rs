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
    raw_from("127.0.0.1", addr, request)
}

/// [`raw`] from a loopback address of our choosing (`127.0.0.N`): another
/// client, as far as the server can tell.
fn raw_from(from: &str, addr: &str, request: &str) -> (u16, String, String) {
    use socket2::{Domain, Socket, Type};
    let sock = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    let local: std::net::SocketAddr = format!("{from}:0").parse().unwrap();
    sock.bind(&local.into()).unwrap();
    let remote: std::net::SocketAddr = addr.parse().unwrap();
    sock.connect(&remote.into()).unwrap();
    let mut s: TcpStream = sock.into();
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

/// `POST /login` as JSON with extra header lines (each ending in `\r\n`).
pub(crate) fn login(addr: &str, name: &str, password: &str, extra: &str) -> (u16, String, String) {
    login_from("127.0.0.1", addr, name, password, extra)
}

fn login_from(
    from: &str,
    addr: &str,
    name: &str,
    password: &str,
    extra: &str,
) -> (u16, String, String) {
    let body = serde_json::json!({ "name": name, "password": password }).to_string();
    raw_from(
        from,
        addr,
        &format!(
            "POST /login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{extra}\r\n{body}",
            body.len()
        ),
    )
}

/// The value of `name` in a response head (first one, case-insensitive).
pub(crate) fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// `name=value` of the response's Set-Cookie.
pub(crate) fn session_cookie(head: &str) -> String {
    let c = header(head, "set-cookie").expect("a session cookie");
    c.split(';').next().unwrap().to_string()
}

pub(crate) fn get(addr: &str, path: &str, extra: &str) -> (u16, String, String) {
    raw(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}\r\n"),
    )
}

#[test]
fn edge_every_response_carries_the_security_headers() {
    let sauve = Sauve::new();
    crate::api::add_user(&sauve, "ada", "admin", "ada-password-long");
    let server = sauve.spawn_server(ServerOpts::new().workers(0));
    let a = server.addr.as_str();
    let (_, head, _) = login(a, "ada", "ada-password-long", "");
    let cookie = format!("Cookie: {}\r\n", session_cookie(&head));
    let big = "x".repeat((1 << 20) + 1);
    let oversized = format!(
        "POST /api/admin/jobs HTTP/1.1\r\nHost: {a}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{big}",
        big.len()
    );
    let answers = [
        ("login page", get(a, "/login", ""), 200, true),
        (
            "dashboard, signed out",
            get(a, "/dashboard/admin/backup", ""),
            303,
            true,
        ),
        (
            "dashboard",
            get(a, "/dashboard/admin/backup", &cookie),
            200,
            true,
        ),
        ("script", get(a, "/assets/app.js", ""), 200, false),
        ("stylesheet", get(a, "/assets/app.css", ""), 200, false),
        ("API, signed out", get(a, "/api/admin/jobs", ""), 401, true),
        ("API", get(a, "/api/admin/jobs", &cookie), 200, true),
        ("health", get(a, "/healthz", ""), 200, true),
        ("no such route", get(a, "/nope", ""), 404, true),
        ("too large", raw(a, &oversized), 413, true),
    ];
    for (what, (status, head, _), want, no_store) in &answers {
        assert_eq!(status, want, "{what}: {head}");
        let csp =
            header(head, "content-security-policy").unwrap_or_else(|| panic!("{what}: no CSP"));
        for d in [
            "default-src 'self'",
            "script-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(d), "{what}: CSP {csp:?} lacks {d}");
        }
        assert_eq!(
            header(head, "x-content-type-options"),
            Some("nosniff"),
            "{what}"
        );
        assert_eq!(
            header(head, "referrer-policy"),
            Some("same-origin"),
            "{what}"
        );
        assert_eq!(header(head, "x-frame-options"), Some("DENY"), "{what}");
        if *no_store {
            assert_eq!(header(head, "cache-control"), Some("no-store"), "{what}");
        }
    }
    // The policy forbids inline code: the pages must not need any.
    for (what, (_, _, html), _, _) in &answers[..3] {
        let lower = html.to_lowercase();
        assert!(
            !lower.contains("<script>") && !lower.contains("<style"),
            "{what} has inline code"
        );
        for attr in [
            " style=",
            " onclick=",
            " onload=",
            " onsubmit=",
            " onchange=",
            "javascript:",
        ] {
            assert!(!lower.contains(attr), "{what} has {attr}");
        }
    }
}

#[test]
fn edge_the_session_cookie_is_host_prefixed_with_secure_cookies() {
    for secure in [false, true] {
        let sauve = Sauve::new();
        crate::api::add_user(&sauve, "ada", "admin", "ada-password-long");
        let mut opts = ServerOpts::new().workers(0);
        if secure {
            opts = opts.args(["--secure-cookies"]);
        }
        let server = sauve.spawn_server(opts);
        let a = server.addr.as_str();
        // Behind TLS the browser's Origin is https: curl-like, send none.
        let (status, head, body) = login(a, "ada", "ada-password-long", "");
        assert_eq!(status, 200, "{body}");
        let set = header(&head, "set-cookie").unwrap().to_string();
        let (name, other) = if secure {
            ("__Host-sauve_session", "sauve_session")
        } else {
            ("sauve_session", "__Host-sauve_session")
        };
        assert!(
            set.starts_with(&format!("{name}=")),
            "secure={secure}: {set}"
        );
        assert!(
            set.contains("Path=/") && !set.to_lowercase().contains("domain="),
            "{set}"
        );
        assert_eq!(set.contains("; Secure"), secure, "{set}");
        let value = session_cookie(&head).split_once('=').unwrap().1.to_string();
        let session = |cookie_name: &str| {
            get(
                a,
                "/api/session",
                &format!("Cookie: {cookie_name}={value}\r\n"),
            )
            .0
        };
        assert_eq!(session(name), 200, "the name in force is read");
        assert_eq!(session(other), 401, "the other name is not");
        let (_, _, doc) = get(a, "/api/openapi.json", "");
        let doc: serde_json::Value = serde_json::from_str(&doc).unwrap();
        assert_eq!(
            doc["components"]["securitySchemes"]["session"]["name"], name,
            "the API document names the cookie in force"
        );
        let csrf: serde_json::Value = serde_json::from_str(&body).unwrap();
        let csrf = csrf["csrf_token"].as_str().unwrap();
        let (status, head, _) = raw(
            a,
            &format!(
                "POST /logout HTTP/1.1\r\nHost: {a}\r\nCookie: {name}={value}\r\nX-CSRF-Token: {csrf}\r\nContent-Length: 0\r\n\r\n"
            ),
        );
        assert_eq!(status, 204);
        let cleared = header(&head, "set-cookie").unwrap();
        assert!(
            cleared.starts_with(&format!("{name}=;")) && cleared.contains("Max-Age=0"),
            "{cleared}"
        );
        assert_eq!(cleared.contains("; Secure"), secure, "{cleared}");
        assert_eq!(session(name), 401, "signed out");
    }
}

#[test]
fn edge_sign_in_from_another_origin_is_refused() {
    let sauve = Sauve::new();
    crate::api::add_user(&sauve, "ada", "admin", "ada-password-long");
    let server = sauve.spawn_server(ServerOpts::new().workers(0));
    let a = server.addr.as_str();
    let (status, head, body) = login(
        a,
        "ada",
        "ada-password-long",
        "Origin: http://evil.example\r\n",
    );
    assert_eq!(status, 403, "{body}");
    assert!(
        header(&head, "content-type")
            .unwrap()
            .starts_with("application/json")
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["code"],
        "origin"
    );
    assert!(header(&head, "set-cookie").is_none());
    let own = format!("Origin: http://{a}\r\n");
    assert_eq!(login(a, "ada", "ada-password-long", &own).0, 200);
    assert_eq!(
        login(a, "ada", "ada-password-long", "").0,
        200,
        "no Origin: a script"
    );

    // Behind a proxy that rewrites Host: the configured public URL is the origin.
    let server = sauve.spawn_server(
        ServerOpts::new()
            .workers(0)
            .args(["--public-url", "https://backups.example/"]),
    );
    let a = server.addr.as_str();
    assert_eq!(
        login(
            a,
            "ada",
            "ada-password-long",
            "Origin: https://backups.example\r\n"
        )
        .0,
        200
    );
    assert_eq!(
        login(
            a,
            "ada",
            "ada-password-long",
            &format!("Origin: http://{a}\r\n")
        )
        .0,
        403
    );
}

#[test]
fn edge_login_next_never_leaves_the_origin() {
    let sauve = Sauve::new();
    let server = sauve.spawn_server(ServerOpts::new().workers(0));
    let next_of = |query: &str| {
        let (status, _, html) = get(&server.addr, &format!("/login?next={query}"), "");
        assert_eq!(status, 200, "{query}");
        let (_, rest) = html.split_once("data-next=\"").expect("data-next");
        rest.split_once('"').unwrap().0.to_string()
    };
    for hostile in [
        "/%5Cevil.example",
        "/%09/evil.example",
        "//evil.example",
        "/%255Cevil.example",
        "/%2509/evil.example",
        "https://evil.example",
        "%2F%2Fevil.example",
    ] {
        assert_eq!(
            next_of(hostile),
            "/dashboard/admin/backup",
            "next={hostile}"
        );
    }
    assert!(next_of("/dashboard/admin/backup%3Fjob%3Dnotes").contains("job=notes"));
}

const PW: &str = "ada-password-long";

#[test]
fn edge_a_guesser_is_throttled_while_the_admin_elsewhere_signs_in_at_once() {
    let sauve = Sauve::new();
    crate::api::add_user(&sauve, "ada", "admin", PW);
    let server = sauve.spawn_server(ServerOpts::new().workers(0));
    let a = server.addr.as_str();
    let (attacker, admin) = ("127.0.0.2", "127.0.0.3");
    for i in 0..3 {
        assert_eq!(
            login_from(attacker, a, "ada", "guess", "").0,
            401,
            "guess {i}"
        );
    }
    let (status, head, body) = login_from(attacker, a, "ada", "guess", "");
    assert_eq!(status, 429, "{body}");
    assert_eq!(header(&head, "retry-after"), Some("1"));
    assert_eq!(
        login_from(attacker, a, "ada", PW, "").0,
        429,
        "even the right password waits"
    );
    let started = Instant::now();
    assert_eq!(
        login_from(admin, a, "ada", PW, "").0,
        200,
        "the admin from elsewhere"
    );
    eprintln!(
        "admin signed in beside the guesser in {:?}",
        started.elapsed()
    );
    wait_until(
        Duration::from_secs(5),
        "the guesser's delay to pass",
        || login_from(attacker, a, "ada", PW, "").0 == 200,
    );
    assert_eq!(
        login_from(attacker, a, "ada", "guess", "").0,
        401,
        "a success cleared the pair's count"
    );
    // One address across many names: a looser limit, then it waits too.
    let sprayer = "127.0.0.4";
    let refused = (0..40)
        .position(|i| login_from(sprayer, a, &format!("user{i}"), "guess", "").0 == 429)
        .expect("the sprayer is stopped");
    assert!(
        (20..=35).contains(&refused),
        "stopped after {refused} names"
    );
    assert_eq!(login_from(admin, a, "ada", PW, "").0, 200);
}

#[test]
fn edge_forwarded_for_is_believed_only_from_a_trusted_proxy() {
    let sauve = Sauve::new();
    crate::api::add_user(&sauve, "ada", "admin", PW);
    let audit = crate::api::token(&sauve, "audit", "audit:read");
    let server = sauve.spawn_server(
        ServerOpts::new()
            .workers(0)
            .args(["--trusted-proxy", "127.0.0.2/32"]),
    );
    let a = server.addr.as_str();
    let spoof = |ip: &str| format!("X-Forwarded-For: {ip}\r\n");
    // Untrusted peer: the header is ignored, so a new one each try buys nothing.
    for i in 0..3 {
        assert_eq!(
            login_from(
                "127.0.0.5",
                a,
                "ada",
                "guess",
                &spoof(&format!("198.51.100.{i}"))
            )
            .0,
            401
        );
    }
    assert_eq!(
        login_from("127.0.0.5", a, "ada", "guess", &spoof("198.51.100.99")).0,
        429
    );
    // The trusted proxy: the forwarded address is the client.
    for _ in 0..3 {
        assert_eq!(
            login_from("127.0.0.2", a, "ada", "guess", &spoof("203.0.113.7")).0,
            401
        );
    }
    assert_eq!(
        login_from("127.0.0.2", a, "ada", "guess", &spoof("203.0.113.7")).0,
        429
    );
    assert_eq!(
        login_from("127.0.0.2", a, "ada", PW, &spoof("203.0.113.8, 127.0.0.2")).0,
        200,
        "another client behind the same proxy"
    );
    let (_, _, body) = get(
        a,
        "/api/admin/audit",
        &format!("Authorization: Bearer {audit}\r\n"),
    );
    let entries: serde_json::Value = serde_json::from_str(&body).unwrap();
    let ips: Vec<(&str, &str)> = entries
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| Some((e["action"].as_str()?, e["ip"].as_str()?)))
        .collect();
    assert!(ips.contains(&("login", "203.0.113.8")), "{ips:?}");
    assert!(ips.contains(&("login.failed", "203.0.113.7")), "{ips:?}");
    assert!(ips.contains(&("login.failed", "127.0.0.5")), "{ips:?}");
    assert!(
        !ips.iter().any(|(_, ip)| ip.starts_with("198.51.100.")),
        "spoofed: {ips:?}"
    );
}

const CRON: &str = "cron-secret-for-the-edge-tests-0123456789";

#[test]
fn edge_a_short_cron_secret_refuses_to_start() {
    let sauve = Sauve::new();
    let serve = ["serve", "--listen", "127.0.0.1:0", "--workers", "0"];
    let by_flag = sauve
        .command()
        .args(serve)
        .args(["--cron-secret", "too-short"])
        .output()
        .unwrap();
    let by_env = sauve
        .command()
        .args(serve)
        .env("SAUVE_CRON_SECRET", "also-too-short-0123456789")
        .output()
        .unwrap();
    for (how, out) in [("flag", by_flag), ("env", by_env)] {
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{how}: it started");
        assert!(err.contains("at least 32"), "{how}: {err}");
        assert!(
            !err.contains("too-short"),
            "{how}: the secret is echoed: {err}"
        );
    }
}

#[test]
fn edge_a_cron_secret_in_argv_is_warned_about_and_a_file_works() {
    let sauve = Sauve::new();
    let bearer = format!("Authorization: Bearer {CRON}\r\n");
    let warned = "shows in `ps`";
    let argv = sauve.spawn_server(ServerOpts::new().workers(0).args(["--cron-secret", CRON]));
    assert_eq!(get(&argv.addr, "/api/cron/backup", &bearer).0, 200);
    assert!(argv.log().contains(warned), "{}", argv.log());
    assert!(
        argv.log().contains("--cron-secret-file"),
        "the warning says what to do"
    );

    let env = sauve.spawn_server(ServerOpts::new().workers(0).env("SAUVE_CRON_SECRET", CRON));
    assert_eq!(get(&env.addr, "/api/cron/backup", &bearer).0, 200);
    assert!(!env.log().contains(warned), "{}", env.log());

    let file = sauve.dest("cron-secret");
    std::fs::write(&file, format!("{CRON}\n")).unwrap();
    let from_file = sauve.spawn_server(
        ServerOpts::new()
            .workers(0)
            .args(["--cron-secret-file".to_string(), file.display().to_string()]),
    );
    assert_eq!(get(&from_file.addr, "/api/cron/backup", &bearer).0, 200);
    assert!(!from_file.log().contains(warned));
}

#[test]
fn edge_failed_cron_authentications_are_rate_limited_per_address() {
    let sauve = Sauve::new();
    let server = sauve.spawn_server(ServerOpts::new().workers(0).env("SAUVE_CRON_SECRET", CRON));
    let a = server.addr.as_str();
    let cron = |from: &str, secret: &str| {
        raw_from(
            from,
            a,
            &format!(
                "GET /api/cron/backup HTTP/1.1\r\nHost: {a}\r\nAuthorization: Bearer {secret}\r\n\r\n"
            ),
        )
    };
    let guesser = "127.0.0.6";
    let first_429 = (0..20)
        .position(|i| cron(guesser, &format!("guess-{i}")).0 == 429)
        .expect("guesses are limited");
    assert_eq!(first_429, 10, "ten failures a minute, then 429");
    let (status, head, _) = cron(guesser, CRON);
    assert_eq!(
        status, 429,
        "even the right secret waits: guessing must not pay"
    );
    assert!(header(&head, "retry-after").is_some());
    assert_eq!(
        cron("127.0.0.7", CRON).0,
        200,
        "another address is not held up"
    );
}

#[test]
fn edge_every_4xx_is_the_documented_json_error() {
    let sauve = Sauve::new();
    let token = crate::api::token(&sauve, "all", "all");
    let server = sauve.spawn_server(ServerOpts::new().workers(0));
    let a = server.addr.as_str();
    let auth = format!("Authorization: Bearer {token}\r\n");
    let req = |method: &str, path: &str| {
        raw(
            a,
            &format!("{method} {path} HTTP/1.1\r\nHost: {a}\r\n{auth}Content-Length: 0\r\n\r\n"),
        )
    };
    let cases = [
        ("GET", "/api/admin/runs?limit=lots", 422, "invalid"),
        ("GET", "/api/admin/backups?limit=-x", 422, "invalid"),
        (
            "GET",
            "/api/admin/schedule/preview?count=many",
            422,
            "invalid",
        ),
        ("GET", "/api/admin/audit?limit=%FF", 422, "invalid"),
        ("GET", "/login?next=/a&next=/b", 422, "invalid"),
        ("GET", "/dashboard/admin/backup?limit=ten", 422, "invalid"),
        ("GET", "/api/admin/jobs/%FF", 400, "bad_path"),
        ("GET", "/api/admin/runs/%C0%AF", 400, "bad_path"),
        ("DELETE", "/healthz", 405, "method_not_allowed"),
        ("PUT", "/login", 405, "method_not_allowed"),
        ("PATCH", "/api/admin/jobs", 405, "method_not_allowed"),
        ("GET", "/no/such/route", 404, "not_found"),
    ];
    for (method, path, status, code) in cases {
        let (got, head, body) = req(method, path);
        assert_eq!(got, status, "{method} {path}: {body}");
        let ct = header(&head, "content-type").unwrap_or("");
        assert!(
            ct.starts_with("application/json"),
            "{method} {path}: Content-Type {ct:?}"
        );
        let v: serde_json::Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {body}"));
        assert_eq!(v["code"], code, "{method} {path}: {v}");
        assert!(
            v["message"].as_str().is_some_and(|m| m.len() > 10),
            "{method} {path}: {v}"
        );
    }
    let (_, head, _) = req("DELETE", "/healthz");
    assert!(
        header(&head, "allow").is_some_and(|m| m.contains("GET")),
        "Allow kept: {head}"
    );
}
