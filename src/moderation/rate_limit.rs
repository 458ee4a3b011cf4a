//! Per-user rate limits (GCRA via governor), keyed by tenant and user so that
//! all of a user's sockets share one budget.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

/// `count` events per `period`, with bursts of up to `count`.
pub struct UserRateLimiter {
    limiter: DefaultKeyedRateLimiter<(i32, i32)>,
    clock: DefaultClock,
}

impl UserRateLimiter {
    /// `count` and `period` must be non-zero (checked by the config).
    pub fn new(count: u32, period: Duration) -> Self {
        let count = count.max(1);
        Self::with_burst(period / count, count)
    }

    /// `per_second` events per second sustained, bursts of up to `burst`.
    pub fn per_second(per_second: u32, burst: u32) -> Self {
        Self::with_burst(Duration::from_secs(1) / per_second.max(1), burst)
    }

    /// One event per `interval` sustained, bursts of up to `burst`.
    fn with_burst(interval: Duration, burst: u32) -> Self {
        let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(interval.max(Duration::from_nanos(1)))
            .unwrap_or_else(|| Quota::per_second(burst))
            .allow_burst(burst);
        Self {
            limiter: DefaultKeyedRateLimiter::keyed(quota),
            clock: DefaultClock::default(),
        }
    }

    /// `Ok` if the user may act now; otherwise how long until they may.
    pub fn check(&self, tenant_id: i32, user_id: i32) -> Result<(), Duration> {
        self.limiter
            .check_key(&(tenant_id, user_id))
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Drops state of users whose budget is full again, bounding memory.
    pub fn shrink(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_burst_then_refuses() {
        let limiter = UserRateLimiter::new(3, Duration::from_secs(30));
        for _ in 0..3 {
            assert!(limiter.check(1, 7).is_ok());
        }
        let wait = limiter.check(1, 7).unwrap_err();
        assert!(
            wait > Duration::from_secs(5) && wait <= Duration::from_secs(10),
            "{wait:?}"
        );
        // Other users, and the same user id in another tenant, are unaffected.
        assert!(limiter.check(1, 8).is_ok());
        assert!(limiter.check(2, 7).is_ok());
    }

    #[test]
    fn per_second_allows_its_burst() {
        let limiter = UserRateLimiter::per_second(10, 20);
        for _ in 0..20 {
            assert!(limiter.check(1, 1).is_ok());
        }
        let wait = limiter.check(1, 1).unwrap_err();
        assert!(wait <= Duration::from_millis(100), "{wait:?}");
    }
}
