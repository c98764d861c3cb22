//! `sauve notify test|list`: try a channel now; see what was sent, what
//! waits for a retry, and which channels are failing.

use super::args::NotifyCommand;
use super::output;
use sauve::service::{Actor, Sauve};
use sauve::store::DeliveryFilter;

pub(super) async fn command(sauve: &Sauve, cmd: NotifyCommand) -> anyhow::Result<()> {
    match cmd {
        NotifyCommand::Test { uri, json } => {
            let sent = sauve.test_channel(&Actor::cli(), &uri).await?;
            if json {
                output::json(&sent)?;
            } else {
                println!(
                    "sent a test to {} ({}): answered {} in {} ms",
                    sent.channel,
                    sent.kind,
                    sent.status.map_or("ok".to_string(), |s| s.to_string()),
                    sent.duration_ms
                );
            }
        }
        NotifyCommand::List {
            job,
            state,
            limit,
            json,
        } => {
            let n = sauve
                .notifications(&DeliveryFilter {
                    job,
                    state,
                    limit,
                    ..Default::default()
                })
                .await?;
            if json {
                return output::json(&n);
            }
            println!(
                "{:<20} {:<18} {:<16} {:<8} {:>3} {:<6} CHANNEL",
                "CREATED", "EVENT", "JOB", "STATE", "TRY", "STATUS"
            );
            for d in &n.deliveries {
                println!(
                    "{:<20} {:<18} {:<16} {:<8} {:>3} {:<6} {}",
                    d.created_at.strftime("%Y-%m-%d %H:%M:%S").to_string(),
                    d.event,
                    d.job.as_deref().unwrap_or("-"),
                    d.state,
                    d.attempts,
                    d.last_status.map_or("-".into(), |s| s.to_string()),
                    d.channel
                );
            }
            for c in n.channels.iter().filter(|c| c.failing) {
                eprintln!(
                    "FAILING {}: {}",
                    c.channel,
                    c.last_error.as_deref().unwrap_or(&c.last_state)
                );
            }
        }
    }
    Ok(())
}
