//! `sauve serve`: the HTTP server and the serve loop (scheduler and workers)
//! side by side, until SIGINT or SIGTERM; then in-flight requests finish and
//! running runs are drained (see `runner::work`).

use super::args::ServeArgs;
use anyhow::Context;
use sauve::runner::PoolConfig;
use sauve::scheduler::serve_queue;
use sauve::service::{Config, QueueTiming, Sauve};
use std::path::Path;
use std::time::Duration;

pub(super) async fn command(config: &Config, a: ServeArgs) -> anyhow::Result<()> {
    let cron_secret = cron_secret(a.cron_secret.clone(), a.cron_secret_file.as_deref())?;
    let timing = QueueTiming {
        lease: Duration::from_secs(a.lease_secs.max(1)),
        retry_base: Duration::from_secs(a.retry_base_secs),
    };
    match sauve::server::listen::raise_open_files_limit() {
        Ok((before, after)) => tracing::info!(before, after, "open-files limit (soft)"),
        Err(e) => {
            tracing::warn!(error = %e, "cannot raise the open-files limit; connections beyond it will wait")
        }
    }
    let sauve = Sauve::open_with(config, timing).await?;
    // Validated by open_with: every process that finishes a run reads them.
    sauve.publish_default_channels(&config.notify).await?;
    let listener = tokio::net::TcpListener::bind(&a.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {}; is another process using it? (--listen ADDR)",
                a.listen
            )
        })?;
    let addr = listener.local_addr()?;
    let base = &a.base_path;
    println!(
        "Sauve {} listening on http://{addr}{base}",
        env!("CARGO_PKG_VERSION")
    );
    println!("  data directory: {}", config.data_dir.display());
    println!(
        "  dashboard:      http://{addr}{}",
        base.join(sauve::server::DASHBOARD)
    );
    println!("  health check:   http://{addr}/healthz");
    if a.workers == 0 {
        println!("  API only: no scheduler, no workers (--workers 0)");
    } else {
        println!("  scheduler and {} workers running", a.workers);
    }
    if sauve.users().await?.is_empty() {
        println!(
            "  no user yet: create the first admin with\n    sauve --data-dir {} user add NAME --role admin --password-stdin",
            config.data_dir.display()
        );
    }
    let public_origin = a.public_url.as_deref().map(public_origin).transpose()?;
    let server_config = sauve::server::ServerConfig {
        public_origin,
        trusted_proxies: a.trusted_proxies,
        cron_secret,
        secure_cookies: a.secure_cookies,
        base_path: a.base_path.clone(),
        limits: sauve::server::listen::ConnLimits {
            header_timeout: Duration::from_millis(a.header_timeout_ms.max(100)),
            max_connections: a.max_connections.max(1),
        },
    };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // --workers 0: an API-only instance, no scheduler and no workers.
    let queue = (a.workers > 0).then(|| {
        let cfg = PoolConfig {
            workers: a.workers,
            tick: Duration::from_millis(a.tick_ms.max(10)),
            grace: Duration::from_secs(a.grace_secs),
        };
        let watchdog = Duration::from_secs(a.watchdog_secs.max(1));
        let keep_runs = (!a.keep_runs.is_zero()).then_some(a.keep_runs);
        tokio::spawn(serve_queue(
            sauve.clone(),
            cfg,
            watchdog,
            keep_runs,
            stop_rx.clone(),
        ))
    });
    // Listening for the signals before READY=1: systemd may send SIGTERM the
    // moment it hears it, and a signal that arrives before the handler is
    // installed kills the process without its drain.
    let signals = Signals::install()?;
    let signal = tokio::spawn(async move {
        signals.wait().await;
        super::systemd::stopping();
        let _ = stop_tx.send(true);
    });
    // Everything is up: the port listens, the store answered, the queue runs.
    super::systemd::ready(&addr.to_string());
    let watchdog = super::systemd::watchdog(stop_rx.clone());
    let served = sauve::server::serve(sauve, listener, server_config, stop_rx).await;
    signal.abort();
    if let Some(w) = watchdog {
        w.abort();
    }
    if let Some(queue) = queue {
        let _ = queue.await;
    }
    Ok(served?)
}

/// Anything shorter is guessable over the network.
const MIN_CRON_SECRET: usize = 32;

/// The cron secret from `--cron-secret`, `SAUVE_CRON_SECRET` or
/// `--cron-secret-file`; empty is off. Too short refuses to start.
fn cron_secret(given: Option<String>, file: Option<&Path>) -> anyhow::Result<Option<String>> {
    let secret = match file {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| {
                    format!(
                        "cannot read --cron-secret-file {}; check the path and its permissions",
                        path.display()
                    )
                })?
                .trim_end_matches(['\r', '\n'])
                .to_string(),
        ),
        None => {
            if given.as_deref().is_some_and(|s| !s.is_empty()) && cron_secret_on_command_line() {
                tracing::warn!(
                    "--cron-secret on the command line shows in `ps` to every user of this machine; set SAUVE_CRON_SECRET or use --cron-secret-file PATH instead"
                );
            }
            given
        }
    };
    let secret = secret.filter(|s| !s.is_empty());
    if let Some(s) = &secret {
        let n = s.chars().count();
        if n < MIN_CRON_SECRET {
            anyhow::bail!(
                "the cron secret is {n} characters; it must be at least {MIN_CRON_SECRET} (e.g. `openssl rand -hex 32`) — set SAUVE_CRON_SECRET or --cron-secret-file PATH"
            );
        }
    }
    Ok(secret)
}

/// Whether `--cron-secret` came from argv rather than the environment: clap
/// knows where each value came from, so ask it again about our own argv.
fn cron_secret_on_command_line() -> bool {
    use clap::CommandFactory;
    let Ok(m) = super::args::Cli::command().try_get_matches_from(std::env::args_os()) else {
        return false;
    };
    m.subcommand_matches("serve")
        .and_then(|s| s.value_source("cron_secret"))
        == Some(clap::parser::ValueSource::CommandLine)
}

/// `https://host[:port]` of `--public-url`, as a browser's `Origin` names it.
fn public_origin(raw: &str) -> anyhow::Result<String> {
    let url = url::Url::parse(raw)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .with_context(|| {
            format!("--public-url {raw:?} is not an http(s) URL; give it as https://host[:port]")
        })?;
    Ok(url.origin().ascii_serialization())
}

/// SIGINT and SIGTERM, handled from the moment they are installed.
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> anyhow::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        let handler = |kind| {
            signal(kind).context("cannot install the SIGINT/SIGTERM handlers serve drains on")
        };
        Ok(Signals {
            interrupt: handler(SignalKind::interrupt())?,
            terminate: handler(SignalKind::terminate())?,
        })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {},
            _ = self.terminate.recv() => {},
        }
        tracing::info!("shutting down");
    }
}
