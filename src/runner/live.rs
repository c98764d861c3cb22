//! The byte counters of the runs executing in this process, by run id: what
//! the live progress stream (SSE) and the page read while a run is going.

use crate::pipeline::Progress;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::Instant;

#[derive(Default)]
pub struct LiveRuns {
    runs: Mutex<HashMap<String, (Progress, Instant)>>,
}

/// A snapshot of a live run's progress.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LiveProgress {
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub elapsed_secs: f64,
    /// Bytes read from the source per second, since the start.
    pub rate: f64,
}

impl LiveRuns {
    pub fn start(&self, run_id: &str, progress: Progress) {
        self.runs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(run_id.to_string(), (progress, Instant::now()));
    }

    pub fn end(&self, run_id: &str) {
        self.runs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(run_id);
    }

    pub fn get(&self, run_id: &str) -> Option<LiveProgress> {
        let runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        let (p, started) = runs.get(run_id)?;
        let elapsed = started.elapsed().as_secs_f64();
        let bytes_in = p.bytes_in.load(Ordering::Relaxed);
        Some(LiveProgress {
            bytes_in,
            bytes_out: p.bytes_out.load(Ordering::Relaxed),
            elapsed_secs: elapsed,
            rate: if elapsed > 0.0 {
                bytes_in as f64 / elapsed
            } else {
                0.0
            },
        })
    }
}
