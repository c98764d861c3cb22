//! Sauve: scheduled, verified backups of databases and files, to local disk and
//! object storage. See ARCHITECTURE.md for the map and the layering table
//! (tests/it/tidy.rs enforces it); `main.rs` and `cli/` are the command line.

// Layer 0: plain types and pure logic.
pub mod auth;
pub mod domain;
pub mod policy;
pub mod schedule;
// Layer 1: the metadata store, storage and the master key.
pub mod secrets;
pub mod storage;
pub mod store;
// Layer 2: moving bytes, both ways; telling people.
pub mod notify;
pub mod pipeline;
pub mod restore;
// Layer 3: executing runs of every kind.
pub mod runner;
// Layer 4: every operation, once.
pub mod service;
// Layer 5: the serve loop and HTTP.
pub mod scheduler;
pub mod server;
