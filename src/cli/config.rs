//! `--config sauve.toml`: every `serve` option in one file, keys named like
//! the flags (`--allow-path` is `allow_path`). Precedence, highest first:
//! flags, `SAUVE_*` environment variables, the file, the built-in defaults.
//!
//! The file adds nothing of its own to parse: each key becomes the flag it
//! names, appended to the command line only when neither the command line
//! nor the environment gave that option, and clap parses the result once
//! more with the very value parsers the flags use. So a value is checked the
//! same way wherever it comes from, and a new flag is a new key.

use super::args::{Cli, Command, FileDefaults};
use clap::parser::ValueSource;
use clap::{Arg, ArgAction, CommandFactory, FromArgMatches};
use std::ffi::OsString;
use std::path::Path;

/// The command line, with `--config`'s file applied; exits with clap's
/// message and code 2 on a bad flag, key or value.
pub(crate) fn parse_args() -> Cli {
    parse_from(std::env::args_os().collect()).unwrap_or_else(|e| e.exit())
}

pub(crate) fn parse_from(argv: Vec<OsString>) -> Result<Cli, clap::Error> {
    let given = Cli::command().try_get_matches_from(&argv)?;
    let cli = Cli::from_arg_matches(&given)?;
    let Some(path) = cli.config.clone() else {
        return Ok(cli);
    };
    let file = File::read(&path)?;
    let serve = matches!(cli.command, Command::Serve(_));
    let mut argv = argv;
    // Appended tokens must stay options: after a `--` they would be values.
    let at = argv.iter().position(|a| a == "--").unwrap_or(argv.len());
    let mut extra = Vec::new();
    let root = Cli::command();
    let serve_cmd = root
        .find_subcommand("serve")
        .expect("serve is a subcommand");
    for (key, arg, scope) in file.keys()? {
        let tokens = file.tokens(key, &arg, scope)?;
        // Given by a flag or a variable (or an option it excludes, such as
        // SAUVE_CRON_SECRET for cron_secret_file): that one wins.
        let overridden = |id: &str| {
            let source = match scope {
                Scope::Global => given.value_source(id),
                Scope::Serve if serve => given
                    .subcommand_matches("serve")
                    .and_then(|m| m.value_source(id)),
                // Checked, but the file's serve options do not apply elsewhere.
                Scope::Serve => Some(ValueSource::CommandLine),
            };
            matches!(
                source,
                Some(ValueSource::CommandLine | ValueSource::EnvVariable)
            )
        };
        let cmd = if scope == Scope::Serve {
            serve_cmd
        } else {
            &root
        };
        // clap records a conflict on one side (cron_secret_file names
        // cron_secret): ask both.
        let conflicts = |a: &Arg, b: &Arg| {
            cmd.get_arg_conflicts_with(a)
                .iter()
                .any(|c| c.get_id() == b.get_id())
        };
        let excluded = cmd
            .get_arguments()
            .filter(|other| arg.get_id() != other.get_id())
            .filter(|other| conflicts(other, &arg) || conflicts(&arg, other))
            .any(|other| overridden(other.get_id().as_str()));
        if !overridden(arg.get_id().as_str()) && !excluded {
            extra.extend(tokens);
        }
    }
    argv.splice(at..at, extra);
    let matches = Cli::command().try_get_matches_from(&argv)?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    if !serve {
        cli.from_file = file.defaults();
    }
    Ok(cli)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// `--data-dir`, `--database-url`: every command's.
    Global,
    Serve,
}

struct File<'a> {
    path: &'a Path,
    table: toml::Table,
}

impl<'a> File<'a> {
    fn read(path: &'a Path) -> Result<File<'a>, clap::Error> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            invalid(format!(
                "cannot read --config {}: {e}; check the path and its permissions",
                path.display()
            ))
        })?;
        // The message and where, never the snippet: the line may hold a
        // password (a database_url) and this goes to the journal.
        let table = text.parse::<toml::Table>().map_err(|e| {
            let at = e.span().map_or(String::new(), |span| {
                let before = &text[..span.start.min(text.len())];
                let line = before.matches('\n').count() + 1;
                let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                format!(" at line {line}, column {column}")
            });
            invalid(format!(
                "{} is not valid TOML{at}: {}",
                path.display(),
                e.message().trim_end()
            ))
        })?;
        let file = File { path, table };
        file.warn_of_passwords();
        Ok(file)
    }

    /// Each key with the flag it names, in key order; the first unknown or
    /// refused key is an error naming it.
    fn keys(&self) -> Result<Vec<(&str, Arg, Scope)>, clap::Error> {
        let root = Cli::command();
        let serve = root
            .find_subcommand("serve")
            .expect("serve is a subcommand")
            .clone();
        let known = |cmd: &clap::Command, key: &str| {
            cmd.get_arguments()
                .find(|a| !a.is_hide_set() && key_of(a).as_deref() == Some(key))
                .cloned()
        };
        self.table
            .keys()
            .map(|key| {
                let why = match key.as_str() {
                    "cron_secret" => Some(
                        "is a secret: a config file is read by more people than it should. Put the secret alone in a file only Sauve's user reads and set cron_secret_file to its path (or set SAUVE_CRON_SECRET)",
                    ),
                    "config" => Some("cannot name another file: write the options here"),
                    _ => None,
                };
                if let Some(why) = why {
                    return Err(self.refuse(key, why));
                }
                if let Some(arg) = known(&root, key) {
                    return Ok((key.as_str(), arg, Scope::Global));
                }
                if let Some(arg) = known(&serve, key) {
                    return Ok((key.as_str(), arg, Scope::Serve));
                }
                let mut names: Vec<String> = root
                    .get_arguments()
                    .chain(serve.get_arguments())
                    .filter(|a| !a.is_hide_set())
                    .filter_map(key_of)
                    .filter(|k| !matches!(k.as_str(), "config" | "cron_secret"))
                    .collect();
                names.dedup();
                Err(self.refuse(
                    key,
                    &format!("is not an option of serve; the keys are {}", names.join(", ")),
                ))
            })
            .collect()
    }

    /// The flag tokens for one key, checked alone first so that a bad value
    /// is reported with the key and file it came from.
    fn tokens(&self, key: &str, arg: &Arg, scope: Scope) -> Result<Vec<OsString>, clap::Error> {
        let value = &self.table[key];
        let long = arg.get_long().expect("keys come from long flags");
        let scalar = |v: &toml::Value| match v {
            toml::Value::String(s) => Ok(s.clone()),
            toml::Value::Integer(n) => Ok(n.to_string()),
            _ => Err(self.refuse(key, "takes a string or a whole number")),
        };
        let tokens: Vec<OsString> = match (arg.get_action(), value) {
            (ArgAction::SetTrue, toml::Value::Boolean(true)) => vec![format!("--{long}").into()],
            (ArgAction::SetTrue, toml::Value::Boolean(false)) => vec![],
            (ArgAction::SetTrue, _) => return Err(self.refuse(key, "takes true or false")),
            (ArgAction::Append, toml::Value::Array(items)) => {
                let delimiter = arg.get_value_delimiter();
                items
                    .iter()
                    .map(|item| {
                        let s = scalar(item)?;
                        // Not echoed: a channel's URI may carry a token.
                        if let Some(d) = delimiter.filter(|d| s.contains(*d)) {
                            return Err(self.refuse(
                                key,
                                &format!("has an item with a {d:?}: this option splits its values on it; give each value as its own list item without one"),
                            ));
                        }
                        Ok(format!("--{long}={s}").into())
                    })
                    .collect::<Result<_, _>>()?
            }
            (_, toml::Value::Array(_)) => {
                return Err(self.refuse(key, "takes one value, not a list"));
            }
            (_, v) => vec![format!("--{long}={}", scalar(v)?).into()],
        };
        // The same parsers as the flags, on this key alone.
        let mut check: Vec<OsString> = vec!["sauve".into()];
        match scope {
            Scope::Global => check.extend(tokens.iter().cloned().chain(["serve".into()])),
            Scope::Serve => {
                check.extend(std::iter::once("serve".into()).chain(tokens.iter().cloned()))
            }
        }
        // Without the environment: a variable is not the file's fault.
        let bare = Cli::command()
            .mut_args(|a| a.env(None::<&'static str>))
            .mut_subcommand("serve", |s| s.mut_args(|a| a.env(None::<&'static str>)));
        bare.try_get_matches_from(check).map_err(|e| {
            let said = e.kind().as_str().unwrap_or("invalid value").to_string();
            let detail = e.render().to_string();
            let detail = detail
                .lines()
                .next()
                .unwrap_or(&said)
                .trim_start_matches("error: ");
            self.refuse(key, &format!("is not accepted: {detail}"))
        })?;
        Ok(tokens)
    }

    fn defaults(&self) -> FileDefaults {
        let strings = |v: &toml::Value| match v {
            toml::Value::Array(items) => items
                .iter()
                .filter_map(|i| i.as_str().map(String::from))
                .collect(),
            toml::Value::String(s) => s.split_whitespace().map(String::from).collect(),
            _ => Vec::new(),
        };
        FileDefaults {
            notify: self.table.get("notify").map(strings),
            public_url: self
                .table
                .get("public_url")
                .and_then(|v| v.as_str().map(String::from)),
            base_path: self
                .table
                .get("base_path")
                .and_then(|v| v.as_str().map(String::from)),
        }
    }

    /// A store URL with a password in a file that is read more widely than
    /// a secret should be (a ConfigMap, /etc): said, not refused, since
    /// PostgreSQL's own files (~/.pgpass) are where it belongs.
    fn warn_of_passwords(&self) {
        let url = self.table.get("database_url").and_then(|v| v.as_str());
        if let Some(url) = url.and_then(|u| url::Url::parse(u).ok())
            && url.password().is_some()
        {
            eprintln!(
                "warning: {}: database_url holds a password; keep it out of the file (the server's ~/.pgpass, or SAUVE_DATABASE_URL from a secret)",
                self.path.display()
            );
        }
    }

    fn refuse(&self, key: &str, why: &str) -> clap::Error {
        invalid(format!("{}: `{key}` {why}", self.path.display()))
    }
}

/// The file's key for a flag: its long name with `_` for `-`.
fn key_of(arg: &Arg) -> Option<String> {
    let long = arg.get_long()?;
    (!matches!(long, "help" | "version")).then(|| long.replace('-', "_"))
}

fn invalid(message: String) -> clap::Error {
    clap::Error::raw(clap::error::ErrorKind::InvalidValue, format!("{message}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the parser on `args` with `toml` as the config file, with the
    /// environment as it is (tests below set no SAUVE_* variable).
    fn parse(toml: &str, args: &[&str]) -> Result<Cli, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sauve.toml");
        std::fs::write(&path, toml).unwrap();
        let mut argv: Vec<OsString> = vec!["sauve".into(), "--config".into(), path.clone().into()];
        argv.extend(args.iter().map(OsString::from));
        parse_from(argv).map_err(|e| e.render().to_string())
    }

    /// The message of a refusal (`Cli` has no Debug for `unwrap_err`).
    fn refused(toml: &str, args: &[&str]) -> String {
        match parse(toml, args) {
            Ok(_) => panic!("{toml:?} {args:?} should be refused"),
            Err(e) => e,
        }
    }

    fn serve_of(cli: &Cli) -> &super::super::args::ServeArgs {
        match &cli.command {
            Command::Serve(a) => a,
            _ => panic!("not serve"),
        }
    }

    #[test]
    fn the_file_fills_what_flags_leave_and_flags_win() {
        let toml = r#"
            listen = "127.0.0.1:9999"
            data_dir = "/var/lib/sauve"
            workers = 5
            secure_cookies = true
            allow_path = ["/srv/a", "/srv/b"]
            trusted_proxy = ["10.0.0.0/8"]
            notify = ["webhook+https://hooks.example.com/x"]
            keep_runs = "30d"
            base_path = "/backup"
        "#;
        let cli = parse(toml, &["serve", "--workers", "7"]).unwrap();
        let s = serve_of(&cli);
        assert_eq!(s.listen, "127.0.0.1:9999");
        assert_eq!(s.workers, 7, "the flag wins over the file");
        assert!(s.secure_cookies);
        assert_eq!(s.allow_paths.len(), 2);
        assert_eq!(s.trusted_proxies.len(), 1);
        assert_eq!(s.keep_runs, std::time::Duration::from_secs(30 * 86_400));
        assert_eq!(s.base_path.as_str(), "/backup");
        assert_eq!(cli.data_dir, Path::new("/var/lib/sauve"));
        // An option that excludes the file's (either side of a conflict).
        let both = "cron_secret_file = \"/etc/sauve/cron-secret\"\n";
        let cli = parse(
            both,
            &["serve", "--cron-secret", "0123456789abcdef0123456789abcdef"],
        )
        .expect("the flag's secret wins over the file's secret file");
        assert!(serve_of(&cli).cron_secret_file.is_none());
        // A global flag after the subcommand wins as well.
        let cli = parse(toml, &["serve", "--data-dir", "/tmp/x"]).unwrap();
        assert_eq!(cli.data_dir, Path::new("/tmp/x"));
    }

    #[test]
    fn other_commands_take_the_stores_place_but_not_serves_options() {
        let toml = "data_dir = \"/var/lib/sauve\"\nworkers = 5\nnotify = [\"ntfy://ntfy.sh/x\"]\n";
        let cli = parse(toml, &["job", "list"]).unwrap();
        assert_eq!(cli.data_dir, Path::new("/var/lib/sauve"));
        assert_eq!(
            cli.from_file.notify.as_deref(),
            Some(&["ntfy://ntfy.sh/x".to_string()][..])
        );
        // Still checked: a bad serve key is refused whatever the command.
        let err = refused("workers = \"many\"\n", &["job", "list"]);
        assert!(err.contains("`workers`"), "{err}");
    }

    #[test]
    fn unknown_secret_and_malformed_keys_are_refused_by_name() {
        let cases: &[(&str, &str)] = &[
            (
                "listne = \"x\"\n",
                "`listne` is not an option of serve; the keys are",
            ),
            (
                "cron_secret = \"0123456789abcdef0123456789abcdef\"\n",
                "`cron_secret` is a secret",
            ),
            (
                "config = \"/etc/other.toml\"\n",
                "`config` cannot name another file",
            ),
            (
                "header_timeout_ms = 5\n",
                "`header_timeout_ms` is not an option",
            ),
            ("workers = \"many\"\n", "`workers` is not accepted"),
            (
                "workers = 1.5\n",
                "`workers` takes a string or a whole number",
            ),
            (
                "workers = [1, 2]\n",
                "`workers` takes one value, not a list",
            ),
            (
                "secure_cookies = \"yes\"\n",
                "`secure_cookies` takes true or false",
            ),
            ("keep_runs = \"1h\"\n", "`keep_runs` is not accepted"),
            (
                "trusted_proxy = [\"not a net\"]\n",
                "`trusted_proxy` is not accepted",
            ),
            (
                "allow_path = [\"/a,/b\"]\n",
                "`allow_path` has an item with a ','",
            ),
            (
                "base_path = \"/b\\\"><script>\"\n",
                "`base_path` is not accepted",
            ),
            (
                "[listen]\nx = 1\n",
                "`listen` takes a string or a whole number",
            ),
            ("listen = \n", "is not valid TOML"),
        ];
        // A broken line is located, never shown: it may hold a password.
        let err = refused("database_url = \"postgres://u:hunter2@h/db\n", &["serve"]);
        assert!(err.contains("at line 1, column"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        for (toml, want) in cases {
            let err = refused(toml, &["serve"]);
            assert!(err.contains(want), "{toml:?}: {err}");
            assert!(
                err.contains("sauve.toml"),
                "the message names the file: {err}"
            );
        }
        let Err(err) = parse_from(vec![
            "sauve".into(),
            "--config".into(),
            "/nonexistent/s.toml".into(),
            "serve".into(),
        ]) else {
            panic!("a missing file is refused")
        };
        let err = err.render().to_string();
        assert!(
            err.contains("cannot read --config /nonexistent/s.toml"),
            "{err}"
        );
    }

    #[test]
    fn every_visible_serve_option_has_a_key() {
        let root = Cli::command();
        let serve = root.find_subcommand("serve").unwrap();
        for arg in serve.get_arguments().filter(|a| !a.is_hide_set()) {
            let Some(key) = key_of(arg) else { continue };
            if key == "cron_secret" {
                continue;
            }
            let value = match arg.get_action() {
                ArgAction::SetTrue => "true".to_string(),
                ArgAction::Append => "[]".to_string(),
                _ => continue,
            };
            parse(&format!("{key} = {value}\n"), &["serve"])
                .unwrap_or_else(|e| panic!("{key}: {e}"));
        }
    }
}
