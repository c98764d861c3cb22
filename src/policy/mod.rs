//! Pure decisions over history: which backups a retention policy keeps
//! (`retention`), when a job's failures or silence deserve an alert (`alerts`), which
//! backups a scheduled verification re-reads (`verification`). No clock, no I/O: every function takes the instant it
//! reasons from, so each is a table test.

pub mod alerts;
pub mod retention;
pub mod verification;
