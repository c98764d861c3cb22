//! `sauve secret set|list|rm`: the operator's named credentials. A value is
//! read from standard input (never an argument: arguments show in `ps`) and
//! sealed before it is stored; `list` never shows one.

use super::args::SecretCommand;
use super::output;
use anyhow::Context;
use sauve::service::{Actor, Sauve, SecretInput};
use std::io::Read;

pub(super) async fn command(sauve: &Sauve, cmd: SecretCommand) -> anyhow::Result<()> {
    match cmd {
        SecretCommand::Set {
            name,
            hosts,
            buckets,
            from_env,
            from_file,
        } => {
            let input = match (from_env, from_file) {
                (Some(var), _) => SecretInput::Env(var),
                (None, Some(path)) => SecretInput::File(path),
                (None, None) => {
                    let mut value = String::new();
                    std::io::stdin()
                        .read_to_string(&mut value)
                        .context("cannot read the secret's value from standard input")?;
                    SecretInput::Value(value)
                }
            };
            let created = sauve
                .set_secret(&Actor::cli(), &name, input, &hosts, &buckets)
                .await?;
            let bound = if hosts.is_empty() {
                "bound to no host: usable only locally (an encryption passphrase)".to_string()
            } else {
                format!("bound to {}", hosts.join(", "))
            };
            println!(
                "{} secret {name}, {bound}; refer to it as secret:{name}",
                if created { "defined" } else { "replaced" }
            );
        }
        SecretCommand::List { json } => {
            let secrets = sauve.secrets().await?;
            if json {
                return output::json(&secrets);
            }
            if secrets.is_empty() {
                println!(
                    "no secrets yet: printf %s \"$PW\" | sauve secret set app-db --host db.example.com"
                );
            }
            for s in secrets {
                let from = match &s.source {
                    sauve::domain::SecretSource::Stored(_) => "sealed".to_string(),
                    sauve::domain::SecretSource::Env(v) => format!("env:{v}"),
                    sauve::domain::SecretSource::File(p) => format!("file:{p}"),
                };
                println!("{:<24} {:<28} {}", s.name, from, s.bindings.describe());
            }
        }
        SecretCommand::Rm { name } => {
            sauve.delete_secret(&Actor::cli(), &name).await?;
            println!("deleted secret {name}");
        }
    }
    Ok(())
}
