//! Why a run stops before its work is done. Shared by the executor, its
//! heartbeat, the pool's drain and a CLI's Ctrl-C: the first reason wins, then
//! the run's work is cancelled (the dump or restore tool is killed).

use crate::pipeline::Progress;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub(super) enum Stop {
    None = 0,
    UserCancel = 1,
    Timeout = 2,
    Shutdown = 3,
    LostLease = 4,
}

#[derive(Clone, Default)]
pub struct Stopper {
    reason: Arc<AtomicU8>,
    pub(super) progress: Progress,
}

impl Stopper {
    /// A stopper for a run whose progress the caller watches.
    pub fn new(progress: Progress) -> Self {
        Self {
            reason: Arc::default(),
            progress,
        }
    }

    /// Stops the run as a person asked: it ends `cancelled`.
    pub fn cancel(&self) {
        self.stop(Stop::UserCancel);
    }

    /// Stops the run because the process is shutting down: its lease is
    /// released and the attempt does not count.
    pub fn shutdown(&self) {
        self.stop(Stop::Shutdown);
    }

    pub(super) fn stop(&self, why: Stop) {
        let _ = self.reason.compare_exchange(
            Stop::None as u8,
            why as u8,
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
        self.progress.cancel.cancel();
    }

    pub(super) fn reason(&self) -> Stop {
        match self.reason.load(Ordering::SeqCst) {
            1 => Stop::UserCancel,
            2 => Stop::Timeout,
            3 => Stop::Shutdown,
            4 => Stop::LostLease,
            _ => Stop::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_reason_wins_and_cancels_the_work() {
        let s = Stopper::default();
        assert_eq!(s.reason(), Stop::None);
        s.stop(Stop::Timeout);
        s.cancel();
        s.shutdown();
        assert_eq!(s.reason(), Stop::Timeout);
        assert!(s.progress.cancel.is_cancelled());
    }
}
