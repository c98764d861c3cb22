//! Pure decisions over history: which backups a retention policy keeps
//! (`retention`). No clock, no I/O: every function takes the instant it
//! reasons from, so each is a table test.

pub mod retention;
