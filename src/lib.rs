//! Sauve: scheduled, verified backups of databases and files, to local disk and
//! object storage. See ARCHITECTURE.md for the map; `main.rs` is the CLI.

pub mod auth;
pub mod domain;
pub mod pipeline;
pub mod restore;
pub mod schedule;
pub mod server;
pub mod service;
pub mod storage;
pub mod store;
pub mod worker;
