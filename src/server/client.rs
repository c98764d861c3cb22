//! Who is at the other end: the TCP peer, or, when the peer is one of the
//! `--trusted-proxy` networks, the address it says it forwarded for (the
//! right-most `X-Forwarded-For` entry that is not itself a trusted proxy).
//! A header from anyone else is ignored: it is whatever the client wrote.
//! The audit log, the sign-in throttle and every per-address limit use this.

use super::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// The client's address, as far as we can trust it.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        Ok(ClientIp(client_ip(
            peer,
            &parts.headers,
            &state.config.trusted_proxies,
        )))
    }
}

/// The peer, or what trusted proxies in front of it say it forwarded for.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(&canonical(*ip)));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        // Garbage where an address should be: stop at the last hop we trust.
        let Ok(ip) = hop.parse::<IpAddr>() else {
            break;
        };
        client = canonical(ip);
        if !is_trusted(&client) {
            break;
        }
    }
    client
}

/// `::ffff:10.0.0.1` is `10.0.0.1`: a dual-stack listener shows IPv4 peers so.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()];
        let cases: &[(&str, &[&str], &str)] = &[
            ("203.0.113.5", &["198.51.100.1"], "203.0.113.5"),
            ("203.0.113.5", &[], "203.0.113.5"),
            ("10.0.0.2", &[], "10.0.0.2"),
            ("10.0.0.2", &["198.51.100.1"], "198.51.100.1"),
            ("10.0.0.2", &["1.1.1.1, 198.51.100.1"], "198.51.100.1"),
            ("10.0.0.2", &["198.51.100.1, 10.0.0.9"], "198.51.100.1"),
            ("10.0.0.2", &["198.51.100.1", "10.0.0.9"], "198.51.100.1"),
            ("10.0.0.2", &["10.0.0.7, 10.0.0.9"], "10.0.0.7"),
            ("10.0.0.2", &["1.1.1.1, nonsense"], "10.0.0.2"),
            ("10.0.0.2", &["nonsense, 198.51.100.1"], "198.51.100.1"),
            ("::ffff:10.0.0.2", &["198.51.100.1"], "198.51.100.1"),
            ("::1", &["2001:db8::1"], "2001:db8::1"),
        ];
        for (peer, xff, want) in cases {
            let mut h = HeaderMap::new();
            for v in *xff {
                h.append("x-forwarded-for", v.parse().unwrap());
            }
            let got = client_ip(peer.parse().unwrap(), &h, &trusted);
            assert_eq!(
                got,
                want.parse::<IpAddr>().unwrap(),
                "peer {peer}, X-Forwarded-For {xff:?}"
            );
        }
    }
}
