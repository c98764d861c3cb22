//! The command line, one module per subcommand. Each opens what it needs,
//! calls the service as `Actor::cli()` (so the audit log names the OS user),
//! and prints text or, with `--json`, the same shapes the API returns.
//! Commands about a destination or a schedule alone (`backup list --dest`,
//! `storage`, `schedule next`) run without the metadata store: the day the
//! store is lost is the day they matter.

pub mod args;
mod backup;
pub mod config;
mod job;
mod notify;
pub mod output;
mod restore;
mod retention;
mod run;
mod schedule;
mod secret;
mod serve;
mod storage;
mod systemd;
mod user;

use args::{BackupCommand, Cli, Command, RetentionCommand, StorageCommand};
use sauve::service::{Config, Sauve};

/// Where notifications' links point: `--public-url` names the site
/// (`https://app.example.com`); under a `--base-path` the pages are below it,
/// unless the URL already says where.
fn links_url(public_url: Option<String>, base: &sauve::server::BasePath) -> Option<String> {
    let url = public_url?;
    let bare = url::Url::parse(&url).is_ok_and(|u| u.path() == "/");
    Some(if bare && !base.is_root() {
        format!("{}{base}", url.trim_end_matches('/'))
    } else {
        url
    })
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut config = Config::new(cli.data_dir.clone(), cli.database_url.clone());
    if let Command::Serve(args) = &cli.command {
        config.allowed_paths = args.allow_paths.clone();
        config.notify = args.notify.clone();
        config.public_url = links_url(args.public_url.clone(), &args.base_path);
    } else {
        // A foreground run (`backup run` from cron) tells the server's channels too.
        // The variable wins over --config's file, as for serve.
        config.notify = std::env::var("SAUVE_NOTIFY")
            .map(|v| v.split_whitespace().map(String::from).collect())
            .ok()
            .or(cli.from_file.notify.clone())
            .unwrap_or_default();
        let public_url = std::env::var("SAUVE_PUBLIC_URL")
            .ok()
            .or(cli.from_file.public_url.clone());
        // Refused as serve would refuse it, not dropped: links would point
        // elsewhere than the pages.
        let base = std::env::var("SAUVE_BASE_PATH")
            .ok()
            .or(cli.from_file.base_path.clone())
            .map(|b| b.parse::<sauve::server::BasePath>())
            .transpose()
            .map_err(anyhow::Error::msg)?
            .unwrap_or_default();
        config.public_url = links_url(public_url, &base);
    }
    match cli.command {
        Command::Backup(BackupCommand::List {
            dest: Some(dest),
            json,
            job,
            ..
        }) => return storage::list_destination(&config, &dest, job.as_deref(), json).await,
        Command::Retention(RetentionCommand::Simulate { keep, tz, now }) => {
            return retention::simulate(&keep, &tz, now);
        }
        // Reconcile compares with the store: it opens it, below.
        Command::Storage(StorageCommand::Reconcile { .. }) => {}
        Command::Storage(cmd) => return storage::command(&config, cmd).await,
        Command::Schedule(cmd) => return schedule::command(cmd),
        Command::Serve(args) => return serve::command(&config, args).await,
        _ => {}
    }
    let sauve = Sauve::open(&config).await?;
    match cli.command {
        Command::Job(cmd) => job::command(&sauve, cmd).await,
        Command::Backup(cmd) => backup::command(&sauve, cmd).await,
        Command::Verify {
            which,
            keys,
            test_restore: true,
            json,
        } => restore::test_restore(&sauve, &which, &keys, json).await,
        Command::Verify {
            which, keys, json, ..
        } => restore::verify(&sauve, &which, &keys, json).await,
        Command::Restore {
            which,
            to,
            force,
            keys,
            json,
        } => restore::restore(&sauve, &which, to.as_deref(), force, &keys, json).await,
        Command::Run(cmd) => run::command(&sauve, cmd).await,
        Command::User(cmd) => user::user_command(&sauve, cmd).await,
        Command::Token(cmd) => user::token_command(&sauve, cmd).await,
        Command::Secret(cmd) => secret::command(&sauve, cmd).await,
        Command::Retention(cmd) => retention::command(&sauve, cmd).await,
        Command::Notify(cmd) => notify::command(&sauve, cmd).await,
        Command::Storage(StorageCommand::Reconcile {
            uri,
            job,
            apply,
            json,
        }) => retention::reconcile(&sauve, &uri, job.as_deref(), apply, json).await,
        Command::Serve(_) | Command::Schedule(_) | Command::Storage(_) => {
            unreachable!("handled before opening the store")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::links_url;

    #[test]
    fn links_follow_the_base_path_unless_the_url_names_one() {
        let base = "/backup".parse().unwrap();
        let root = Default::default();
        let cases: &[(Option<&str>, &sauve::server::BasePath, Option<&str>)] = &[
            (None, &base, None),
            (
                Some("https://app.example.com"),
                &root,
                Some("https://app.example.com"),
            ),
            (
                Some("https://app.example.com"),
                &base,
                Some("https://app.example.com/backup"),
            ),
            (
                Some("https://app.example.com/"),
                &base,
                Some("https://app.example.com/backup"),
            ),
            (
                Some("https://app.example.com/backup"),
                &base,
                Some("https://app.example.com/backup"),
            ),
            (
                Some("https://app.example.com/sauve/"),
                &base,
                Some("https://app.example.com/sauve/"),
            ),
        ];
        for (url, base, want) in cases {
            assert_eq!(
                links_url(url.map(String::from), base).as_deref(),
                *want,
                "{url:?} under {base}"
            );
        }
    }
}
