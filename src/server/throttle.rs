//! Sign-in throttling. Failures are counted per (user name, address): after
//! three, that pair waits 1 s, then 2 s, 4 s… (capped at five minutes) before
//! its next try, so a guesser at one address slows only itself, and the real
//! admin signing in from elsewhere is never locked out. A success clears the
//! pair. A looser limit per address across all names stops one address from
//! spraying guesses over many accounts.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures of a pair allowed before delays start.
const FREE_FAILURES: u32 = 3;
const FIRST_DELAY: Duration = Duration::from_secs(1);
const MAX_DELAY: Duration = Duration::from_secs(300);
/// A pair or address quiet this long starts from zero again.
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failures per address across every user name within the window.
const MAX_PER_ADDRESS: usize = 30;
/// Past this many tracked keys, forgotten ones are swept first.
const SWEEP_AT: usize = 10_000;

struct Pair {
    failures: u32,
    last: Instant,
}

impl Pair {
    fn wait(&self, now: Instant) -> Option<Duration> {
        let over = self.failures.checked_sub(FREE_FAILURES)?;
        let delay = FIRST_DELAY.saturating_mul(1 << over.min(16)).min(MAX_DELAY);
        (self.last + delay).checked_duration_since(now)
    }
}

#[derive(Default)]
pub struct SignInThrottle {
    pairs: Mutex<HashMap<(String, IpAddr), Pair>>,
    addresses: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

impl SignInThrottle {
    /// `Err(seconds to wait)` if this pair or this address must wait.
    pub fn check(&self, user: &str, ip: IpAddr) -> Result<(), u64> {
        let now = Instant::now();
        let wait = {
            let pairs = self.pairs.lock().unwrap_or_else(|p| p.into_inner());
            pairs.get(&(user.to_string(), ip)).and_then(|p| p.wait(now))
        };
        let wait = wait.or_else(|| {
            let mut addresses = self.addresses.lock().unwrap_or_else(|p| p.into_inner());
            let q = addresses.get_mut(&ip)?;
            while q.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
                q.pop_front();
            }
            let oldest = *q.front()?;
            (q.len() >= MAX_PER_ADDRESS).then(|| WINDOW.saturating_sub(now.duration_since(oldest)))
        });
        match wait {
            // Round up: a client that waits what we said must get through.
            Some(w) => Err(w.as_secs() + u64::from(w.subsec_nanos() > 0)),
            None => Ok(()),
        }
    }

    pub fn failed(&self, user: &str, ip: IpAddr) {
        let now = Instant::now();
        {
            let mut pairs = self.pairs.lock().unwrap_or_else(|p| p.into_inner());
            if pairs.len() > SWEEP_AT {
                pairs.retain(|_, p| now.duration_since(p.last) < WINDOW);
            }
            let pair = pairs.entry((user.to_string(), ip)).or_insert(Pair {
                failures: 0,
                last: now,
            });
            if now.duration_since(pair.last) >= WINDOW {
                pair.failures = 0;
            }
            pair.failures = pair.failures.saturating_add(1);
            pair.last = now;
        }
        let mut addresses = self.addresses.lock().unwrap_or_else(|p| p.into_inner());
        if addresses.len() > SWEEP_AT {
            addresses.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < WINDOW));
        }
        addresses.entry(ip).or_default().push_back(now);
    }

    pub fn succeeded(&self, user: &str, ip: IpAddr) {
        self.pairs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&(user.to_string(), ip));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_start_after_three_failures_and_double() {
        let now = Instant::now();
        let waits: Vec<Option<u64>> = (0..6)
            .map(|failures| {
                Pair {
                    failures,
                    last: now,
                }
                .wait(now)
                .map(|d| d.as_secs())
            })
            .collect();
        assert_eq!(waits, [None, None, None, Some(1), Some(2), Some(4)]);
        let far = Pair {
            failures: 60,
            last: now,
        }
        .wait(now);
        assert_eq!(far, Some(MAX_DELAY), "capped");
    }

    #[test]
    fn a_pair_is_throttled_alone_and_cleared_by_success() {
        let t = SignInThrottle::default();
        let (attacker, admin): (IpAddr, IpAddr) =
            ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        for _ in 0..3 {
            assert!(t.check("ada", attacker).is_ok());
            t.failed("ada", attacker);
        }
        assert_eq!(t.check("ada", attacker), Err(1));
        assert!(t.check("ada", admin).is_ok(), "another address");
        assert!(t.check("bob", attacker).is_ok(), "another name");
        t.succeeded("ada", attacker);
        assert!(t.check("ada", attacker).is_ok(), "cleared");
    }

    #[test]
    fn one_address_spraying_many_names_is_stopped() {
        let t = SignInThrottle::default();
        let ip: IpAddr = "192.0.2.9".parse().unwrap();
        for i in 0..MAX_PER_ADDRESS {
            assert!(t.check(&format!("u{i}"), ip).is_ok());
            t.failed(&format!("u{i}"), ip);
        }
        assert!(t.check("someone-new", ip).is_err());
    }
}
