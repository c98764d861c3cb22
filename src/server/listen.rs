//! The accept loop of `sauve serve`: our own instead of `axum::serve`, which
//! has no knobs for what a hostile or broken client can do to a listener. Each
//! connection gets a header-read deadline (which hyper also applies while a
//! kept-alive connection waits for its next request, so a silent connection is
//! closed either way), connections beyond a limit are closed at once, running
//! out of file descriptors (EMFILE/ENFILE) backs off instead of ending the
//! server, and shutdown stops accepting, then lets in-flight requests finish.

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// How the listener treats connections.
#[derive(Debug, Clone)]
pub struct ConnLimits {
    /// Time a connection may take to send a request's headers, counted from
    /// when it connects or finishes its previous response (keep-alive idle).
    pub header_timeout: Duration,
    /// Connections served at once; more are closed as soon as accepted.
    pub max_connections: usize,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits {
            header_timeout: Duration::from_secs(20),
            max_connections: 4096,
        }
    }
}

/// After EMFILE/ENFILE: accepting again at once would spin; a short pause lets
/// connections close (their header deadline frees them) while the ones we
/// already have are served.
const FD_BACKOFF: Duration = Duration::from_millis(100);

/// Serves `app` on `listener` until `shutdown` turns true, then waits for the
/// connections' in-flight requests to finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: ConnLimits,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let mut refused_logged = false;
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.wait_for(|stop| *stop) => break,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) if out_of_descriptors(&e) => {
                tracing::warn!(error = %e, "out of file descriptors; pausing accepts briefly (raise the open-files limit or lower --max-connections)");
                tokio::time::sleep(FD_BACKOFF).await;
                continue;
            }
            // A connection reset before we accepted it, and the like: that
            // client's problem, not the listener's.
            Err(e) => {
                tracing::debug!(error = %e, "accept failed");
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            if !refused_logged {
                tracing::warn!(
                    max = limits.max_connections,
                    "connection limit reached; closing new connections until some end (--max-connections)"
                );
                refused_logged = true;
            }
            drop(stream);
            continue;
        };
        refused_logged = false;
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(req)
        });
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    // In-flight requests finish; a connection that never would (an event
    // stream following a run that stays queued) must not hold the stop past
    // the service manager's patience: after this long the rest are left to
    // end with the process.
    if tokio::time::timeout(CONNECTION_DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            secs = CONNECTION_DRAIN.as_secs(),
            "connections still open at shutdown (event streams); closing them"
        );
    }
    Ok(())
}

/// How long shutdown waits for open connections to finish.
const CONNECTION_DRAIN: Duration = Duration::from_secs(10);

fn out_of_descriptors(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}

/// Raises the soft open-files limit to the hard one: each connection is a
/// descriptor, and the usual soft default (1024) is far below what a listener
/// meets. Returns (before, after) for the log.
pub fn raise_open_files_limit() -> std::io::Result<(libc::rlim_t, libc::rlim_t)> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let before = lim.rlim_cur;
    if lim.rlim_cur < lim.rlim_max {
        lim.rlim_cur = lim.rlim_max;
        // SAFETY: setrlimit reads the struct we own; raising the soft limit
        // up to the hard one needs no privilege.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok((before, lim.rlim_cur))
}
