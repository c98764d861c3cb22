//! `smtp://host:port?from=…&to=…`: an email with a plain-text and an HTML
//! part, sent with lettre over STARTTLS, TLS, or (to a loopback or
//! password-less relay) plain SMTP.

use super::{Context, Event, SendError, Sent};
use crate::domain::channel::SmtpTls;
use crate::domain::{ChannelKind, Endpoint};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

pub(super) async fn send(
    kind: &ChannelKind,
    event: &Event,
    ctx: &Context<'_>,
) -> Result<Sent, SendError> {
    let ChannelKind::Smtp {
        host,
        port,
        tls,
        from,
        to,
        user,
        password,
    } = kind
    else {
        unreachable!("the registry sends only smtp channels here")
    };
    let invalid = |what: &str, e: String| SendError::Invalid(format!("{what}: {e}"));
    let mut message = Message::builder()
        .from(
            from.parse::<Mailbox>()
                .map_err(|e| invalid("from=", e.to_string()))?,
        )
        .subject(event.subject());
    for a in to {
        message = message.to(a
            .parse::<Mailbox>()
            .map_err(|e| invalid("to=", e.to_string()))?);
    }
    let message = message
        .multipart(MultiPart::alternative_plain_html(
            event.text(),
            event.html(),
        ))
        .map_err(|e| invalid("the message", e.to_string()))?;
    let builder = match tls {
        SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host),
        SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host),
        SmtpTls::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
            host,
        )),
    }
    .map_err(|e| invalid("the SMTP server", e.to_string()))?;
    let mut builder = builder.port(*port).timeout(Some(Duration::from_secs(20)));
    if let (Some(user), Some(cred)) = (user, password) {
        let to = Endpoint::host(host, Some(*port));
        let pw = ctx.keys.reveal(cred, &to, "SMTP password")?;
        builder = builder.credentials(Credentials::new(user.clone(), pw.expose().to_string()));
    }
    match builder.build().send(message).await {
        Ok(resp) => Ok(Sent {
            status: Some(i64::from(u16::from(resp.code()))),
        }),
        Err(e) => {
            let code = e.status().map(|c| i64::from(u16::from(c)));
            match code {
                Some(code) => Err(SendError::Smtp {
                    host: host.clone(),
                    code,
                    why: e.to_string().chars().take(200).collect(),
                    retryable: !e.is_permanent(),
                }),
                None => Err(SendError::Unreachable {
                    host: format!("{host}:{port}"),
                    why: e.to_string().chars().take(200).collect(),
                }),
            }
        }
    }
}
