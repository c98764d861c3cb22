//! Plain types and their validation: jobs, sources, destinations, runs, backups.
//! Everything else points inward to this module; it depends on nothing of ours and
//! does no I/O.

pub mod authority;
pub mod channel;
pub mod destination;
pub mod destinations;
pub mod job;
pub mod run;
pub mod secret;
pub mod source;
pub mod validation;

pub use authority::{Authority, PathRules, PathUse};
pub use channel::{Channel, ChannelKind, EventKind};
pub use destination::Destination;
pub use destinations::{DestinationSpec, DestinationTable};
pub use job::{CatchUp, Encryption, EncryptionSpec, Job, JobSpec, Overlap};
pub use run::{Backup, BackupLocator, KeyNames, Run, RunKind, RunParams, RunState, Trigger};
pub use secret::{
    Binding, Credential, CredentialError, Endpoint, Keyring, SecretName, SecretSource, SecretValue,
};
pub use source::{CommandSpec, DbConn, Source, SourceSpec};
pub use validation::{FieldError, ValidationErrors};

/// `30s`, `15m`, `2h`, `1d`: a positive duration (the schedule grammar's
/// interval syntax, so a job's `timeout`, a destination's `timeout=` and
/// `every` read the same).
pub fn parse_duration(s: &str) -> Option<std::time::Duration> {
    crate::schedule::parse_interval(s.trim())
        .map(|secs| std::time::Duration::from_secs(secs as u64))
}

/// Whether `host` is written as an address of this machine or of a private
/// network (loopback, RFC 1918, link-local, unique local, `localhost`):
/// somewhere a remote caller must not make Sauve connect to.
pub fn is_internal(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    if is_loopback(h) || h.to_ascii_lowercase().ends_with(".localhost") {
        return true;
    }
    match h.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => {
            ip.is_private() || ip.is_link_local() || ip.is_unspecified() || ip.is_broadcast()
        }
        Ok(std::net::IpAddr::V6(ip)) => {
            let first = ip.segments()[0];
            ip.is_unspecified()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
                || ip.to_ipv4_mapped().is_some_and(|v4| is_internal(&v4.to_string()))
        }
        Err(_) => false,
    }
}

/// Whether `host` is this machine: the only place plain http may go.
pub fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `1.5 MiB`: a byte count for people (CLI and dashboard alike).
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// Time-sortable unique id (ULID, lower case) for runs, backups, audit entries.
/// Monotonic within this process, so "newest first" by id holds even for ids
/// made in the same millisecond.
pub fn new_id() -> String {
    static GENERATOR: std::sync::Mutex<Option<ulid::Generator>> = std::sync::Mutex::new(None);
    let mut guard = GENERATOR.lock().unwrap_or_else(|p| p.into_inner());
    let id = guard
        .get_or_insert_with(ulid::Generator::new)
        .generate()
        // Overflow of the 80 random bits within one millisecond: fall back to a
        // fresh random id (still unique, only not ordered).
        .unwrap_or_else(|_| ulid::Ulid::generate());
    id.to_string().to_ascii_lowercase()
}
