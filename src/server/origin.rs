//! Same-origin rules of sign-in: which `Origin` a `POST /login` may come from
//! (this server's own: the configured public URL, else the scheme and `Host`
//! of the request), and which `next=` a signed-in browser may be sent to (a
//! path on this origin, nothing a browser could read as another host).

use super::error::ApiError;
use axum::http::{HeaderMap, StatusCode, header};

/// Refuses a request whose `Origin` is another site's. No `Origin` at all is
/// allowed: curl and scripts send none, and a browser always sends one on a
/// cross-site POST.
pub fn check_origin(
    headers: &HeaderMap,
    public_origin: Option<&str>,
    secure: bool,
) -> Result<(), ApiError> {
    let Some(sent) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let sent = sent.to_str().unwrap_or("");
    let expected = match public_origin {
        Some(o) => o.to_string(),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("");
            format!("{}://{host}", if secure { "https" } else { "http" })
        }
    };
    if sent.eq_ignore_ascii_case(&expected) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "origin",
            format!(
                "sign-in refused: it came from a page at {sent}, not from Sauve's own ({expected}); sign in from Sauve's page (behind a proxy, set --public-url)"
            ),
        ))
    }
}

/// `next` if it is a path on this origin, else `None` (the caller falls back
/// to the dashboard). A browser reads `/\host`, `/<tab>/host` and `//host` as
/// another host, so: exactly one leading `/`, no `\`, no control character or
/// whitespace, and the same again once percent-decoded.
pub fn safe_next(next: &str) -> Option<&str> {
    fn local_path(p: &str) -> bool {
        p.starts_with('/')
            && !p.starts_with("//")
            && !p.contains('\\')
            && !p.chars().any(|c| c.is_control() || c.is_whitespace())
    }
    let decoded = percent_encoding::percent_decode_str(next)
        .decode_utf8()
        .ok()?;
    (local_path(next) && local_path(&decoded)).then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_a_path_on_this_origin_or_nothing() {
        let cases: &[(&str, bool)] = &[
            ("/dashboard/admin/backup", true),
            ("/dashboard/admin/backup?job=a&state=failed", true),
            ("/", true),
            ("/a/b#frag", true),
            ("/a%20b", false),
            ("/caf%C3%A9", true),
            ("", false),
            ("dashboard", false),
            ("//evil.example", false),
            ("///evil.example", false),
            ("/\\evil.example", false),
            ("\\/evil.example", false),
            ("/%5Cevil.example", false),
            ("/%5cevil.example", false),
            ("/%2F/evil.example", false),
            ("/%2f%2fevil.example", false),
            ("/\t/evil.example", false),
            ("/%09/evil.example", false),
            ("/\n/evil.example", false),
            ("/%0A/evil.example", false),
            ("/%0d/evil.example", false),
            ("/ /evil.example", false),
            ("/%00", false),
            ("/\u{7f}", false),
            ("/\u{a0}/evil.example", false),
            ("/%E2%80%A8", false),
            ("/%ff", false),
            ("https://evil.example/", false),
            ("javascript:alert(1)", false),
            (" /dashboard", false),
        ];
        for (input, ok) in cases {
            assert_eq!(
                safe_next(input).is_some(),
                *ok,
                "safe_next({input:?}) should be {}",
                if *ok { "accepted" } else { "refused" }
            );
        }
    }

    fn with(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, host.parse().unwrap());
        if let Some(o) = origin {
            h.insert(header::ORIGIN, o.parse().unwrap());
        }
        h
    }

    /// Origin sent, Host, --public-url, --secure-cookies, allowed.
    type OriginCase<'a> = (Option<&'a str>, &'a str, Option<&'a str>, bool, bool);

    #[test]
    fn sign_in_comes_from_this_origin_or_from_no_page() {
        let cases: &[OriginCase] = &[
            (None, "127.0.0.1:8080", None, false, true),
            (
                Some("http://127.0.0.1:8080"),
                "127.0.0.1:8080",
                None,
                false,
                true,
            ),
            (
                Some("http://127.0.0.1:8081"),
                "127.0.0.1:8080",
                None,
                false,
                false,
            ),
            (
                Some("https://127.0.0.1:8080"),
                "127.0.0.1:8080",
                None,
                false,
                false,
            ),
            (
                Some("https://sauve.example"),
                "sauve.example",
                None,
                true,
                true,
            ),
            (
                Some("http://sauve.example"),
                "sauve.example",
                None,
                true,
                false,
            ),
            (Some("null"), "127.0.0.1:8080", None, false, false),
            (
                Some("https://evil.example"),
                "127.0.0.1:8080",
                None,
                false,
                false,
            ),
            (
                Some("https://backups.example"),
                "127.0.0.1:8080",
                Some("https://backups.example"),
                false,
                true,
            ),
            (
                Some("http://127.0.0.1:8080"),
                "127.0.0.1:8080",
                Some("https://backups.example"),
                false,
                false,
            ),
        ];
        for (origin, host, public, secure, ok) in cases {
            assert_eq!(
                check_origin(&with(*origin, host), *public, *secure).is_ok(),
                *ok,
                "Origin {origin:?}, Host {host}, public {public:?}, secure {secure}"
            );
        }
    }
}
