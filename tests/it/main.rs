//! Sauve's integration tests, in one binary so the library and its dependencies
//! are linked once, not once per file. Every test drives the real thing: the
//! `sauve` binary, or `sauve serve` on port 0, against real services on loopback
//! (SQLite files, the machine's PostgreSQL and MariaDB, Garage for S3, sshd,
//! WsgiDAV, Azurite), never mocks. `common` is the shared harness; each other
//! module is one area, named in its own first paragraph.

mod common;

mod api;
mod databases;
mod deploy;
mod edge;
mod i18n;
mod local;
mod notify;
mod objects;
mod proofs;
mod recipes;
mod retention;
mod scheduler;
mod security;
mod store;
mod tidy;
mod verification;
