//! systemd's service protocol for `serve` under `Type=notify`
//! (deploy/systemd/sauve.service): `READY=1` once the port listens, the
//! store has answered and the queue runs; `WATCHDOG=1` at half the unit's
//! `WatchdogSec` while the async runtime still runs tasks; `STOPPING=1` when
//! a signal starts the drain. Outside systemd (`NOTIFY_SOCKET` unset) every
//! call is a no-op. A failed send is logged, never fatal: the protocol is
//! advice to the service manager, and Sauve must not stop for it.
//!
//! The protocol is one datagram of `KEY=value` lines to a Unix socket
//! (sd_notify(3)); written here rather than pulled in as a crate: it is these
//! few lines, abstract socket names (`@…`) included.

use std::os::linux::net::SocketAddrExt;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

pub(super) fn ready(addr: &str) {
    send(&format!("READY=1\nSTATUS=serving on {addr}\n"));
}

pub(super) fn stopping() {
    send("STOPPING=1\nSTATUS=draining running runs\n");
}

/// Pings the watchdog at half its period until `stop`, when the unit asked
/// for one. What it proves is that the runtime is not wedged: a task that no
/// longer gets scheduled stops pinging and systemd restarts the process. A
/// store that does not answer is not a reason to restart (a restart cannot
/// mend it and would loop): that is /readyz's and the alerts' business.
pub(super) fn watchdog(
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Option<tokio::task::JoinHandle<()>> {
    let period = watchdog_period()?;
    let every = (period / 2).max(Duration::from_millis(50));
    tracing::info!(?period, "systemd watchdog enabled");
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => send("WATCHDOG=1\n"),
                _ = stop.changed() => return,
            }
        }
    }))
}

/// `WATCHDOG_USEC`, when `WATCHDOG_PID` is absent or this process (systemd
/// sets both; a process started by ours must not ping on our behalf).
fn watchdog_period() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    let for_us = std::env::var("WATCHDOG_PID")
        .map(|pid| pid.parse() == Ok(std::process::id()))
        .unwrap_or(true);
    (usec > 0 && for_us).then(|| Duration::from_micros(usec))
}

fn send(message: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let sent =
        UnixDatagram::unbound().and_then(|socket| match path.as_bytes().strip_prefix(b"@") {
            Some(name) => {
                socket.send_to_addr(message.as_bytes(), &SocketAddr::from_abstract_name(name)?)
            }
            None => socket.send_to(message.as_bytes(), &path),
        });
    // Once: a socket that is gone stays gone, and the watchdog would say so
    // twice a period.
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if let Err(e) = sent
        && !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed)
    {
        tracing::warn!(error = %e, socket = ?path, "cannot tell systemd our state (NOTIFY_SOCKET); not said again");
    }
}
