//! Plain types and their validation: jobs, sources, destinations, runs, backups.
//! Everything else points inward to this module; it depends on nothing of ours and
//! does no I/O.

pub mod authority;
pub mod channel;
pub mod destination;
pub mod destinations;
pub mod job;
pub mod proof;
pub mod run;
pub mod secret;
pub mod source;
pub mod validation;

pub use authority::{Authority, PathRules, PathUse};
pub use channel::{Channel, ChannelKind, EventKind};
pub use destination::Destination;
pub use destinations::{DestinationSpec, DestinationTable};
pub use job::{CatchUp, Encryption, EncryptionSpec, Job, JobSpec, Overlap, VerifyPlan, VerifySpec};
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

/// The same syntax without the year's cap, in seconds (128 bits: a huge
/// count is a huge span), for windows callers bound themselves.
pub fn parse_span_secs(s: &str) -> Option<u128> {
    crate::schedule::parse_span(s.trim())
}

/// Whether `host` is written as an address of this machine or of a network
/// that is not the public Internet (loopback, RFC 1918, CGNAT, link-local,
/// benchmarking, IETF, unique and site local, NAT64 of those, `localhost`):
/// somewhere a remote caller must not make Sauve connect to. Hosts come
/// normalised the http way (`url::Host`), so `127.1` or `0x7f.1` arrive as
/// `127.0.0.1`.
pub fn is_internal(host: &str) -> bool {
    let h = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase();
    if is_loopback(&h) || h.ends_with(".localhost") {
        return true;
    }
    match h.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => internal_v4(ip),
        Ok(std::net::IpAddr::V6(ip)) => {
            let s = ip.segments();
            ip.is_unspecified()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
                || ip.to_ipv4_mapped().is_some_and(internal_v4)
                // NAT64 (64:ff9b::/96) carrying an internal IPv4
                || (s[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
                    && internal_v4(std::net::Ipv4Addr::new(
                        (s[6] >> 8) as u8,
                        s[6] as u8,
                        (s[7] >> 8) as u8,
                        s[7] as u8,
                    )))
        }
        Err(_) => false,
    }
}

fn internal_v4(ip: std::net::Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // CGNAT, Tailscale
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
}

/// Whether `host` is this machine: the only place plain http may go.
pub fn is_loopback(host: &str) -> bool {
    let h = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.');
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

/// The smallest id [`new_id`] can make at `ms` (Unix milliseconds): every id
/// made earlier sorts below it, so "made before t" is a range of ids.
pub fn first_id_at(ms: i64) -> String {
    ulid::Ulid::from_parts(ms.max(0) as u64, 0)
        .to_string()
        .to_ascii_lowercase()
}

#[cfg(test)]
mod internal_tests {
    use super::is_internal;

    #[test]
    fn internal_hosts_are_known_whatever_their_spelling() {
        let internal = [
            "127.0.0.1",
            "127.8.9.1",
            "localhost",
            "LOCALHOST.",
            "x.localhost",
            "x.localhost.",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "198.18.0.1",
            "192.0.0.8",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "[::1]",
            "::",
            "[fd12::1]",
            "fe80::1",
            "fec0::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "64:ff9b::7f00:1",
        ];
        for h in internal {
            assert!(is_internal(h), "{h}");
        }
        let public = [
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.1",
            "198.20.0.1",
            "hooks.slack.com",
            "2001:4860::8888",
            "64:ff9b::808:808",
            "localhost.example.com",
        ];
        for h in public {
            assert!(!is_internal(h), "{h}");
        }
        // What the URL parser hands over for odd spellings of 127.0.0.1.
        for odd in ["127.1", "0x7f.1", "2130706433", "0177.0.0.1"] {
            let h = url::Host::parse(odd).unwrap().to_string();
            assert!(is_internal(&h), "{odd} -> {h}");
        }
    }
}
