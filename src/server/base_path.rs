//! The URL prefix Sauve is served under (`--base-path /backup`), so a web
//! app's reverse proxy can mount it at `https://app.example.com/backup/…`.
//! Parsed once into [`BasePath`]; every link, redirect, cookie path and the
//! script's API calls are written from it, and the proxy passes paths through
//! unchanged (Sauve's routes themselves live under the prefix).

use std::fmt;
use std::str::FromStr;

/// A validated prefix: empty (served at the root) or `/seg[/seg…]`, each
/// segment of URL-safe characters, no trailing slash. It goes into HTML
/// attributes, a script and `Set-Cookie` unescaped, so nothing else is let in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BasePath(String);

/// Longer than any real mount point; keeps cookie and link sizes sane.
const MAX_LEN: usize = 200;

/// Paths the server answers at the root whatever the prefix (probes ask
/// there): a prefix equal to one would shadow it.
const ROOT_ROUTES: [&str; 2] = ["/healthz", "/readyz"];

impl BasePath {
    /// `""` at the root, else `/backup`: prepend it to an absolute path.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// `path` (absolute, starting with `/`) under the prefix.
    pub fn join(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }

    /// The `Path=` attribute of cookies: only the prefix's requests carry them.
    pub fn cookie_path(&self) -> &str {
        if self.0.is_empty() { "/" } else { &self.0 }
    }
}

impl fmt::Display for BasePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for BasePath {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        let refuse = |why: &str| {
            Err(format!(
                "base path {raw:?} {why}; write it like /backup or /admin/backup (or / for none)"
            ))
        };
        if raw.is_empty() || raw == "/" {
            return Ok(BasePath::default());
        }
        if !raw.starts_with('/') {
            return refuse("must start with /");
        }
        if raw.len() > MAX_LEN {
            return refuse(&format!("is longer than {MAX_LEN} characters"));
        }
        let trimmed = raw.strip_suffix('/').unwrap_or(raw);
        for segment in trimmed[1..].split('/') {
            if segment.is_empty() {
                return refuse("has an empty segment (//)");
            }
            if segment == "." || segment == ".." {
                return refuse("has a . or .. segment");
            }
            if let Some(c) = segment
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~')))
            {
                return refuse(&format!(
                    "holds {c:?}; only letters, digits, - _ . ~ and / are allowed"
                ));
            }
        }
        if ROOT_ROUTES.contains(&trimmed) {
            return refuse("is a path Sauve answers at the root (health checks)");
        }
        Ok(BasePath(trimmed.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_plain_path_segments_or_refused() {
        let long = format!("/{}", "a".repeat(MAX_LEN));
        let cases: &[(&str, Option<&str>)] = &[
            ("", Some("")),
            ("/", Some("")),
            ("/backup", Some("/backup")),
            ("/backup/", Some("/backup")),
            ("/admin/backup", Some("/admin/backup")),
            ("/a-b_c.d~e/F9", Some("/a-b_c.d~e/F9")),
            ("backup", None),
            ("//backup", None),
            ("/backup//x", None),
            ("/backup//", None),
            ("/..", None),
            ("/a/../b", None),
            ("/.", None),
            ("/back up", None),
            ("/back%20up", None),
            ("/b\"><script>", None),
            ("/b'", None),
            ("/b;Path=/", None),
            ("/b?x=1", None),
            ("/b#x", None),
            ("/b\\c", None),
            ("/café", None),
            ("/b\n", None),
            ("https://evil.example/", None),
            ("/healthz", None),
            ("/readyz/", None),
            ("/healthz/sauve", Some("/healthz/sauve")),
            (long.as_str(), None),
        ];
        for (raw, want) in cases {
            let got = raw.parse::<BasePath>();
            match want {
                Some(w) => assert_eq!(got.as_ref().map(|b| b.as_str()), Ok(*w), "{raw:?}"),
                None => assert!(got.is_err(), "{raw:?} should be refused, got {got:?}"),
            }
        }
    }

    #[test]
    fn links_and_cookies_follow_the_prefix() {
        let root = BasePath::default();
        assert_eq!(root.join("/login"), "/login");
        assert_eq!(root.cookie_path(), "/");
        let b: BasePath = "/backup".parse().unwrap();
        assert_eq!(b.join("/login"), "/backup/login");
        assert_eq!(b.cookie_path(), "/backup");
        assert!(
            "/healthz"
                .parse::<BasePath>()
                .unwrap_err()
                .contains("health"),
            "the refusal says why"
        );
    }
}
