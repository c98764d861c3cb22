//! Sliding-window rate limits for what is costly or worth guessing at: the
//! test endpoints (each one connects somewhere) and the cron trigger. Keys
//! are the caller (a user, a token, an address); the map forgets keys whose
//! window has passed, so an attacker cycling keys grows it only for a window.

use super::error::ApiError;
use axum::http::StatusCode;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct RateLimit {
    max: usize,
    window: Duration,
    hits: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateLimit {
    pub fn new(max: usize, window: Duration) -> RateLimit {
        RateLimit {
            max,
            window,
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one hit for `key`; the error says how long to wait.
    pub fn hit(&self, key: &str, what: &str) -> Result<(), ApiError> {
        self.take(key, what, true)
    }

    /// Refuses like [`RateLimit::hit`] when `key` is over its budget, without
    /// counting: for limits on failures, checked before the attempt is judged.
    pub fn check(&self, key: &str, what: &str) -> Result<(), ApiError> {
        self.take(key, what, false)
    }

    fn take(&self, key: &str, what: &str, count: bool) -> Result<(), ApiError> {
        let now = Instant::now();
        let mut map = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, q| {
                q.back()
                    .is_some_and(|t| now.duration_since(*t) < self.window)
            });
        }
        let q = map.entry(key.to_string()).or_default();
        while q
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            q.pop_front();
        }
        if q.len() >= self.max {
            let wait = q
                .front()
                .map(|t| self.window.saturating_sub(now.duration_since(*t)))
                .unwrap_or(self.window)
                .as_secs()
                .max(1);
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "too many {what} ({} per {} s); try again in {wait} s",
                    self.max,
                    self.window.as_secs()
                ),
            )
            .retry_after(wait));
        }
        if count {
            q.push_back(now);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_limited_alone_and_recovers() {
        let l = RateLimit::new(2, Duration::from_millis(200));
        assert!(l.hit("a", "tests").is_ok());
        assert!(l.hit("a", "tests").is_ok());
        assert!(l.hit("a", "tests").is_err());
        assert!(
            l.hit("b", "tests").is_ok(),
            "another key has its own budget"
        );
        std::thread::sleep(Duration::from_millis(250));
        assert!(l.hit("a", "tests").is_ok());
    }
}
