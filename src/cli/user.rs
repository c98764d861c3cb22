//! `sauve user …` and `sauve token …`: people who sign in to the dashboard,
//! and API tokens for programs.

use super::args::{TokenCommand, UserCommand};
use super::output;
use anyhow::Context;
use sauve::service::{Actor, Sauve};

fn read_password_stdin() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

pub(super) async fn user_command(sauve: &Sauve, cmd: UserCommand) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Add { name, role, .. } => {
            let password = read_password_stdin()?;
            let user = sauve
                .add_user(&Actor::cli(), &name, role, &password)
                .await?;
            println!("added {} user {}", user.role, user.name);
        }
        UserCommand::List { json } => {
            let users = sauve.users().await?;
            if json {
                output::json(&users)?;
            } else if users.is_empty() {
                println!("no users yet: sauve user add NAME --role admin --password-stdin");
            } else {
                for u in users {
                    println!("{:<24} {:<7} since {}", u.name, u.role, u.created_at);
                }
            }
        }
        UserCommand::Passwd { name, .. } => {
            let password = read_password_stdin()?;
            sauve
                .set_user_password(&Actor::cli(), &name, &password)
                .await?;
            println!("password of {name} changed; their sessions were ended");
        }
        UserCommand::Disable { name } => {
            sauve.set_user_disabled(&Actor::cli(), &name, true).await?;
            println!("user {name} disabled; their sessions were ended");
        }
        UserCommand::Enable { name } => {
            sauve.set_user_disabled(&Actor::cli(), &name, false).await?;
            println!("user {name} may sign in again");
        }
        UserCommand::Rm { name } => {
            sauve.delete_user(&Actor::cli(), &name).await?;
            println!("user {name} deleted; their sessions were ended");
        }
    }
    Ok(())
}

pub(super) async fn token_command(sauve: &Sauve, cmd: TokenCommand) -> anyhow::Result<()> {
    match cmd {
        TokenCommand::Create {
            name,
            scope,
            expires,
        } => {
            let (token, secret) = sauve
                .create_token(&Actor::cli(), &name, &scope, expires)
                .await?;
            eprintln!(
                "created token {} ({}) with scopes {}; it is shown once, keep it now:",
                token.name,
                token.id,
                token
                    .scopes
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            );
            println!("{secret}");
        }
        TokenCommand::List { json } => {
            let tokens = sauve.tokens().await?;
            if json {
                output::json(&tokens)?;
            } else {
                for t in tokens {
                    println!(
                        "{:<26} {:<20} {:<8} {}",
                        t.id,
                        t.name,
                        if t.revoked_at.is_some() {
                            "revoked"
                        } else {
                            "live"
                        },
                        t.scopes
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(",")
                    );
                }
            }
        }
        TokenCommand::Revoke { id_or_name } => {
            let t = sauve.revoke_token(&Actor::cli(), &id_or_name).await?;
            println!("revoked token {} ({})", t.name, t.id);
        }
    }
    Ok(())
}
