//! What a job backs up, parsed from the URI forms users write
//! (`postgres://…`, `mysql://…`, `sqlite:///…`, `files:///…`) or from a TOML table
//! (`command`). Parsing is pure; nothing here connects to anything.
//!
//! Passwords never live in a URI: a URI with one is refused, and the password is
//! named indirectly, by a secret (`password=secret:NAME`, bound to the hosts it
//! may go to) or, where the operator writes the job, by an environment variable
//! (`password_env=VAR`), so a source string can be logged and shown safely.

use super::secret::{Credential, CredentialError, Endpoint, Keyring, SecretValue};
use super::validation::ValidationErrors;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use url::Url;

/// A connection to a database server, as the dump tools need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbConn {
    pub host: String,
    pub port: u16,
    pub user: Option<String>,
    pub database: String,
    /// Where the password comes from, if the server needs one.
    pub password: Option<Credential>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Postgres(DbConn),
    Mysql(DbConn),
    Sqlite {
        path: PathBuf,
    },
    Files {
        root: PathBuf,
        exclude: Vec<String>,
    },
    Command {
        command: Vec<String>,
        restore_command: Option<Vec<String>>,
        /// File extension of the raw stream (`rdb`, `json`…), before `.zst`.
        extension: String,
    },
}

/// The source as written by a user: a URI string, or a table for `command`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum SourceSpec {
    Uri(String),
    Command(CommandSpec),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandSpec {
    /// Always `"command"`; present so the TOML reads as what it is.
    pub kind: String,
    pub command: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_command: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
}

impl Source {
    /// The short kind name used in manifests, the API and the UI.
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Postgres(_) => "postgres",
            Source::Mysql(_) => "mysql",
            Source::Sqlite { .. } => "sqlite",
            Source::Files { .. } => "files",
            Source::Command { .. } => "command",
        }
    }

    /// Extension of the artifact before compression and encryption.
    pub fn extension(&self) -> &str {
        match self {
            Source::Postgres(_) => "dump",
            Source::Mysql(_) => "sql",
            Source::Sqlite { .. } => "sqlite",
            Source::Files { .. } => "tar",
            Source::Command { extension, .. } => extension,
        }
    }
}

impl SourceSpec {
    pub fn parse(&self) -> Result<Source, ValidationErrors> {
        match self {
            SourceSpec::Uri(uri) => parse_uri(uri),
            SourceSpec::Command(c) => parse_command(c),
        }
    }
}

fn err(message: impl Into<String>) -> ValidationErrors {
    ValidationErrors::single("", message)
}

fn parse_command(c: &CommandSpec) -> Result<Source, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    if c.kind != "command" {
        errors.push(
            "kind",
            format!(
                "unknown source kind {:?}: a source table must have kind = \"command\"; other sources are URIs",
                c.kind
            ),
        );
    }
    if c.command.is_empty() || c.command[0].trim().is_empty() {
        errors.push(
            "command",
            "must name a program, e.g. command = [\"redis-cli\", \"--rdb\", \"-\"]",
        );
    }
    if let Some(r) = &c.restore_command
        && (r.is_empty() || r[0].trim().is_empty())
    {
        errors.push(
            "restore_command",
            "must name a program, or be left out if this backup is restored by hand",
        );
    }
    let extension = c.extension.clone().unwrap_or_else(|| "bin".to_string());
    if extension.is_empty()
        || extension.len() > 16
        || !extension.chars().all(|ch| ch.is_ascii_alphanumeric())
    {
        errors.push(
            "extension",
            "must be 1 to 16 letters or digits, e.g. \"rdb\" (no leading dot)",
        );
    }
    errors.into_result(Source::Command {
        command: c.command.clone(),
        restore_command: c.restore_command.clone(),
        extension,
    })
}

pub fn parse_uri(uri: &str) -> Result<Source, ValidationErrors> {
    let url = Url::parse(uri).map_err(|e| {
        err(format!(
            "{uri:?} is not a URI ({e}); write e.g. postgres://user@host:5432/db, mysql://user@host:3306/db, sqlite:///abs/path.db or files:///abs/dir"
        ))
    })?;
    match url.scheme() {
        "postgres" | "postgresql" => parse_db(&url, 5432, "PostgreSQL").map(Source::Postgres),
        "mysql" | "mariadb" => parse_db(&url, 3306, "MySQL/MariaDB").map(Source::Mysql),
        "sqlite" => {
            let path = local_path(&url, "sqlite")?;
            Ok(Source::Sqlite { path })
        }
        "files" | "file" => {
            let root = local_path(&url, "files")?;
            let mut exclude = Vec::new();
            for (k, v) in url.query_pairs() {
                match k.as_ref() {
                    "exclude" => {
                        for g in v.split(',').filter(|g| !g.is_empty()) {
                            globset::Glob::new(g).map_err(|e| {
                                err(format!("exclude glob {g:?} is not valid: {e}"))
                            })?;
                            exclude.push(g.to_string());
                        }
                    }
                    other => {
                        return Err(err(format!(
                            "unknown parameter {other:?} for a files source; the only one is exclude=GLOB[,GLOB…]"
                        )));
                    }
                }
            }
            Ok(Source::Files { root, exclude })
        }
        "command" => Err(err(
            "a command source is written as a TOML table (kind = \"command\", command = [...]) and loaded with `sauve job apply FILE`",
        )),
        other => Err(err(format!(
            "unknown source scheme {other:?}: use postgres://, mysql://, mariadb://, sqlite:// or files://"
        ))),
    }
}

fn local_path(url: &Url, kind: &str) -> Result<PathBuf, ValidationErrors> {
    if url.host_str().is_some_and(|h| !h.is_empty()) {
        return Err(err(format!(
            "a {kind} path must be absolute with three slashes, e.g. {kind}:///var/lib/app/{}; {:?} was read as a host name",
            if kind == "sqlite" {
                "app.db"
            } else {
                "uploads"
            },
            url.host_str().unwrap_or_default()
        )));
    }
    let path = url.to_file_path().map_err(|_| {
        err(format!(
            "{kind} source needs an absolute path, e.g. {kind}:///abs/path"
        ))
    })?;
    if path.as_os_str().len() <= 1 {
        return Err(err(format!(
            "{kind} source needs a path, e.g. {kind}:///abs/path"
        )));
    }
    Ok(path)
}

fn parse_db(url: &Url, default_port: u16, what: &str) -> Result<DbConn, ValidationErrors> {
    if url.password().is_some() {
        return Err(err(format!(
            "the {what} URI contains a password; keep it out of configuration: define a secret bound to this host (`sauve secret set NAME --host HOST`) and add ?password=secret:NAME to the URI"
        )));
    }
    let host = match url.host_str() {
        Some(h) if !h.is_empty() => h.trim_start_matches('[').trim_end_matches(']').to_string(),
        _ => {
            return Err(err(format!(
                "the {what} URI needs a host, e.g. {}://user@127.0.0.1:{default_port}/dbname",
                url.scheme()
            )));
        }
    };
    let database = url.path().trim_start_matches('/').to_string();
    if database.is_empty() || database.contains('/') {
        return Err(err(format!(
            "the {what} URI must name one database as its path, e.g. {}://user@{host}:{default_port}/dbname",
            url.scheme()
        )));
    }
    let database = percent_decode(&database);
    // The tools read their arguments as options and conninfo too: a name that
    // starts with `-`, holds a control character, or a host list (`a,b`)
    // could send the password to another server than the one checked.
    if database.starts_with('-') || database.chars().any(char::is_control) {
        return Err(err(format!(
            "the {what} database name {database:?} cannot start with '-' or hold control characters"
        )));
    }
    if host.contains(',') {
        return Err(err(format!(
            "the {what} URI names one host; {host:?} is a list"
        )));
    }
    let user = (!url.username().is_empty()).then(|| percent_decode(url.username()));
    if user
        .as_deref()
        .is_some_and(|u| u.starts_with('-') || u.chars().any(char::is_control))
    {
        return Err(err(format!(
            "the {what} user name cannot start with '-' or hold control characters"
        )));
    }
    let mut password = None;
    for (k, v) in url.query_pairs() {
        let cred = match k.as_ref() {
            "password_env" => Credential::env(&k, &v),
            "password" => Credential::secret(&k, &v),
            other => {
                return Err(err(format!(
                    "unknown parameter {other:?} in the {what} URI; supported: password=secret:NAME, password_env=VAR"
                )));
            }
        };
        if password.is_some() {
            return Err(err(
                "give the password once: password=secret:NAME or password_env=VAR",
            ));
        }
        password = Some(cred.map_err(err)?);
    }
    Ok(DbConn {
        host,
        port: url.port().unwrap_or(default_port),
        user,
        database,
        password,
    })
}

pub(crate) use super::secret::is_env_name;

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_string())
}

impl DbConn {
    /// `host:port`, for error messages about reaching the server.
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Where the password goes: this server.
    pub fn endpoint(&self) -> Endpoint {
        Endpoint::host(&self.host, Some(self.port))
    }

    /// The password, if the source names one, for this server only.
    pub fn password(&self, keys: &Keyring) -> Result<Option<SecretValue>, CredentialError> {
        self.password
            .as_ref()
            .map(|c| keys.reveal(c, &self.endpoint(), "database password"))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(uri: &str) -> Source {
        parse_uri(uri).unwrap_or_else(|e| panic!("{uri}: {e}"))
    }

    fn bad(uri: &str) -> String {
        parse_uri(uri).unwrap_err().to_string()
    }

    #[test]
    fn database_uris() {
        let cases = [
            (
                "postgres://postgres@127.0.0.1:5432/app",
                "postgres",
                "127.0.0.1",
                5432,
                Some("postgres"),
                "app",
                None,
            ),
            (
                "postgresql://db.example/app",
                "postgres",
                "db.example",
                5432,
                None,
                "app",
                None,
            ),
            (
                "mysql://root@127.0.0.1/shop?password_env=SHOP_PW",
                "mysql",
                "127.0.0.1",
                3306,
                Some("root"),
                "shop",
                Some("SHOP_PW"),
            ),
            (
                "mariadb://u%40x@[::1]:3307/my%20db",
                "mysql",
                "::1",
                3307,
                Some("u@x"),
                "my db",
                None,
            ),
        ];
        assert_eq!(
            match ok("postgres://h/db?password=secret:app-db") {
                Source::Postgres(c) => c.password,
                _ => None,
            },
            Some(Credential::Secret(
                super::super::secret::SecretName::parse("app-db").unwrap()
            ))
        );
        for (uri, kind, host, port, user, db, pw) in cases {
            let s = ok(uri);
            assert_eq!(s.kind(), kind, "{uri}");
            let (Source::Postgres(c) | Source::Mysql(c)) = s else {
                panic!("{uri}")
            };
            assert_eq!(c.host, host, "{uri}");
            assert_eq!(c.port, port, "{uri}");
            assert_eq!(c.user.as_deref(), user, "{uri}");
            assert_eq!(c.database, db, "{uri}");
            assert_eq!(
                c.password,
                pw.map(|v| Credential::Env(v.to_string())),
                "{uri}"
            );
        }
    }

    #[test]
    fn local_uris() {
        assert_eq!(
            ok("sqlite:///var/lib/app.db"),
            Source::Sqlite {
                path: "/var/lib/app.db".into()
            }
        );
        assert_eq!(
            ok("files:///srv/up?exclude=*.tmp,cache/**"),
            Source::Files {
                root: "/srv/up".into(),
                exclude: vec!["*.tmp".into(), "cache/**".into()]
            }
        );
    }

    #[test]
    fn refusals_say_what_to_do() {
        let cases = [
            ("postgres://u:hunter2@h/db", "password=secret:NAME"),
            (
                "postgres://h/db?password_env=SAUVE_PASSPHRASE",
                "never sent",
            ),
            ("postgres://h/db?password=hunter2", "secret's name"),
            ("postgres://h/db?password=secret:a&password_env=B", "once"),
            ("mysql://h/--host=evil.example", "cannot start with '-'"),
            ("postgres://h/a%0Ab", "control characters"),
            ("postgres://%2Dx@h/db", "user name"),
            ("postgres://evil.example,db.example.com/db", "is a list"),
            ("postgres://h", "must name one database"),
            ("postgres://h/a/b", "must name one database"),
            ("postgres:///db", "needs a host"),
            ("postgres://h/db?sslmode=x", "unknown parameter"),
            (
                "postgres://h/db?password_env=1X",
                "not an environment variable",
            ),
            ("sqlite://relative/app.db", "three slashes"),
            ("sqlite:///", "needs a path"),
            ("files:///x?exclude=[", "not valid"),
            ("files:///x?depth=2", "unknown parameter"),
            ("ftp://h/x", "unknown source scheme"),
            ("command://x", "TOML table"),
            ("not a uri", "is not a URI"),
        ];
        for (uri, needle) in cases {
            let msg = bad(uri);
            assert!(msg.contains(needle), "{uri}: {msg:?} lacks {needle:?}");
            assert!(
                !msg.contains("hunter2"),
                "{uri}: message leaks the password"
            );
        }
    }

    #[test]
    fn command_tables() {
        let spec = |cmd: &[&str], ext: Option<&str>| CommandSpec {
            kind: "command".into(),
            command: cmd.iter().map(|s| s.to_string()).collect(),
            restore_command: None,
            extension: ext.map(String::from),
        };
        let s = SourceSpec::Command(spec(&["redis-cli", "--rdb", "-"], Some("rdb")))
            .parse()
            .unwrap();
        assert_eq!(s.extension(), "rdb");
        assert_eq!(
            SourceSpec::Command(spec(&["x"], None))
                .parse()
                .unwrap()
                .extension(),
            "bin"
        );
        let e = SourceSpec::Command(spec(&[], Some(".x")))
            .parse()
            .unwrap_err();
        let fields: Vec<_> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["command", "extension"]);
    }
}
