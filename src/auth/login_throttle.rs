//! Failed-login throttling, keyed by client address (across tenants) and
//! by (address, tenant, username). Only failures count: a family behind one NAT logging in
//! successfully all day is never throttled. There is deliberately no key by
//! username alone, so an attacker cannot lock a victim out from elsewhere.
//!
//! Each key keeps the times of its failures within the window (at most the
//! limit of them), which makes "N failures in 15 minutes" exact and gives a
//! precise `Retry-After`. (A GCRA limiter such as governor's cannot look at a
//! key without spending a cell, and here successes must spend nothing.)

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One limit: at most `max` failures per key within `window`.
struct Window<K> {
    max: usize,
    window: Duration,
    failures: Mutex<HashMap<K, VecDeque<Instant>>>,
}

impl<K: Hash + Eq + Clone> Window<K> {
    fn new(max: u32, window: Duration) -> Self {
        Self {
            max: max as usize,
            window,
            failures: Mutex::default(),
        }
    }

    /// How long until `key` may try again, if it may not now.
    fn blocked_for(&self, key: &K, now: Instant) -> Option<Duration> {
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let times = map.get(key)?;
        let recent = times
            .iter()
            .filter(|t| now.duration_since(**t) < self.window)
            .count();
        if recent < self.max {
            return None;
        }
        // The oldest failure still in the window frees a slot when it leaves.
        let oldest = times[times.len() - recent];
        Some(self.window.saturating_sub(now.duration_since(oldest)))
    }

    fn record(&self, key: K, now: Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let times = map.entry(key).or_default();
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            times.pop_front();
        }
        if times.len() == self.max {
            times.pop_front();
        }
        times.push_back(now);
    }

    /// Forgets keys with no failure left in the window.
    fn shrink(&self, now: Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, times| {
            times
                .back()
                .is_some_and(|t| now.duration_since(*t) < self.window)
        });
    }
}

/// The address a limit is keyed by: IPv4 as is, IPv6 by its /64, since one
/// host usually holds a whole /64 and could otherwise rotate through it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddrKey {
    V4(u32),
    /// The top 64 bits.
    V6(u64),
}

impl From<IpAddr> for AddrKey {
    fn from(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => AddrKey::V4(u32::from(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => AddrKey::V4(u32::from(v4)),
                None => AddrKey::V6((u128::from(v6) >> 64) as u64),
            },
        }
    }
}

/// Failed logins per address and per (address, username).
pub struct LoginThrottle {
    per_ip: Window<AddrKey>,
    per_user: Window<(AddrKey, i32, String)>,
}

impl LoginThrottle {
    pub fn new(per_user: u32, per_ip: u32, window: Duration) -> Self {
        Self {
            per_ip: Window::new(per_ip, window),
            per_user: Window::new(per_user, window),
        }
    }

    /// `Err(wait)` if this address, or this address for this username, has
    /// failed too often: the attempt is refused whatever the password.
    pub fn check(&self, ip: IpAddr, tenant_id: i32, username: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let addr = AddrKey::from(ip);
        let by_ip = self.per_ip.blocked_for(&addr, now);
        let by_user = self
            .per_user
            .blocked_for(&(addr, tenant_id, fold(username)), now);
        match by_ip.max(by_user) {
            Some(wait) => Err(wait),
            None => Ok(()),
        }
    }

    /// Counts a failed attempt against both keys.
    pub fn record_failure(&self, ip: IpAddr, tenant_id: i32, username: &str) {
        let now = Instant::now();
        let addr = AddrKey::from(ip);
        self.per_ip.record(addr, now);
        self.per_user.record((addr, tenant_id, fold(username)), now);
    }

    /// Drops keys whose failures have all left the window.
    pub fn shrink(&self) {
        let now = Instant::now();
        self.per_ip.shrink(now);
        self.per_user.shrink(now);
    }
}

/// Usernames are looked up case-sensitively, but `Alice` and `alice` must
/// share one budget; a long name is cut so keys stay small.
fn fold(username: &str) -> String {
    username
        .chars()
        .take(150)
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    #[test]
    fn the_sixth_attempt_is_refused_for_that_user_from_that_address_only() {
        let t = LoginThrottle::new(5, 30, Duration::from_secs(900));
        for _ in 0..5 {
            assert!(t.check(A, 1, "alice").is_ok());
            t.record_failure(A, 1, "Alice");
        }
        let wait = t.check(A, 1, "alice").unwrap_err();
        assert!(wait > Duration::from_secs(890) && wait <= Duration::from_secs(900));
        assert!(
            t.check(B, 1, "alice").is_ok(),
            "another address is not locked out"
        );
        assert!(
            t.check(A, 1, "bob").is_ok(),
            "another user from A is not locked out"
        );
        assert!(t.check(A, 2, "alice").is_ok(), "alice of another tenant");
    }

    #[test]
    fn an_address_trying_many_names_is_refused() {
        let t = LoginThrottle::new(5, 30, Duration::from_secs(900));
        for i in 0..30 {
            assert!(t.check(A, 1, &format!("user{i}")).is_ok());
            t.record_failure(A, 1, &format!("user{i}"));
        }
        assert!(t.check(A, 1, "someone-new").is_err());
        assert!(t.check(B, 1, "someone-new").is_ok());
    }

    #[test]
    fn failures_leave_the_window() {
        let t = LoginThrottle::new(2, 30, Duration::from_millis(0));
        t.record_failure(A, 1, "alice");
        t.record_failure(A, 1, "alice");
        assert!(t.check(A, 1, "alice").is_ok());
        t.shrink();
        assert!(t.per_user.failures.lock().unwrap().is_empty());
    }

    #[test]
    fn ipv6_is_keyed_by_its_64() {
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let other: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let elsewhere: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(AddrKey::from(one), AddrKey::from(other));
        assert_ne!(AddrKey::from(one), AddrKey::from(elsewhere));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(AddrKey::from(mapped), AddrKey::from(A));
        assert_ne!(
            AddrKey::from("::c000:201".parse::<IpAddr>().unwrap()),
            AddrKey::from(A)
        );
    }
}
