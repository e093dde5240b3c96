//! A small in-memory limiter for failed logins, keyed by email and by client
//! address. In-memory is enough for one process; replicas each keep their
//! own count, which still bounds guessing to (replicas × limit) per window.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct LoginLimiter {
    limit: usize,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginLimiter {
    pub fn new(limit: u32, window: Duration) -> Self {
        Self { limit: limit.max(1) as usize, window, failures: Mutex::new(HashMap::new()) }
    }

    /// `Some(wait)` if `key` is locked out now.
    pub fn blocked(&self, key: &str, now: Instant) -> Option<Duration> {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let entries = map.get_mut(key)?;
        while entries.front().is_some_and(|t| now.duration_since(*t) >= self.window) {
            entries.pop_front();
        }
        if entries.len() >= self.limit {
            entries.front().map(|first| self.window.saturating_sub(now.duration_since(*first)))
        } else {
            None
        }
    }

    pub fn record_failure(&self, key: &str, now: Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        // Bound memory under a flood of distinct keys: forget the oldest state.
        if map.len() > 100_000 {
            map.retain(|_, v| v.back().is_some_and(|t| now.duration_since(*t) < self.window));
        }
        map.entry(key.to_owned()).or_default().push_back(now);
    }

    pub fn clear(&self, key: &str) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_blocked_after_the_limit_until_the_window_passes() {
        let l = LoginLimiter::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        for i in 0..3 {
            assert!(l.blocked("ana", t0).is_none(), "attempt {i}");
            l.record_failure("ana", t0);
        }
        assert!(l.blocked("ana", t0 + Duration::from_secs(10)).is_some());
        assert!(l.blocked("bob", t0).is_none());
        assert!(l.blocked("ana", t0 + Duration::from_secs(61)).is_none());
    }

    #[test]
    fn success_clears_the_count() {
        let l = LoginLimiter::new(1, Duration::from_secs(60));
        let t0 = Instant::now();
        l.record_failure("ana", t0);
        assert!(l.blocked("ana", t0).is_some());
        l.clear("ana");
        assert!(l.blocked("ana", t0).is_none());
    }
}
