//! Failed sign-ins are limited per email and per client address (governor's GCRA).
//! Once a key's burst is spent it is blocked until a cell is free again.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub(crate) struct SignInThrottle {
    per_email: DefaultKeyedRateLimiter<String>,
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    blocked: Mutex<HashMap<String, Instant>>,
}

pub(crate) fn quota(burst: u32, window: Duration) -> Quota {
    let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
    // One attempt comes back every window / burst.
    Quota::with_period(window / burst.get()).map_or_else(|| Quota::per_minute(burst), |q| q.allow_burst(burst))
}

impl SignInThrottle {
    /// 5 failures per email and 20 per address, each refilling over 15 minutes.
    pub(crate) fn new() -> Self {
        let window = Duration::from_secs(15 * 60);
        Self {
            per_email: RateLimiter::keyed(quota(5, window)),
            per_ip: RateLimiter::keyed(quota(20, window)),
            blocked: Mutex::new(HashMap::new()),
        }
    }

    /// How long the caller must wait, if either key is blocked.
    pub(crate) fn check(&self, email: &str, ip: Option<IpAddr>) -> Result<(), Duration> {
        let now = Instant::now();
        let mut blocked = self.blocked.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        blocked.retain(|_, until| *until > now);
        let wait = [Some(format!("e:{email}")), ip.map(|ip| format!("i:{ip}"))]
            .into_iter()
            .flatten()
            .filter_map(|key| blocked.get(&key).map(|until| *until - now))
            .max();
        wait.map_or(Ok(()), Err)
    }

    /// Counts a failure; returns the wait if this failure spent the last attempt.
    pub(crate) fn record_failure(&self, email: &str, ip: Option<IpAddr>) -> Result<(), Duration> {
        let clock = DefaultClock::default();
        let mut waits = Vec::new();
        if let Err(not_until) = self.per_email.check_key(&email.to_owned()) {
            waits.push((format!("e:{email}"), not_until.wait_time_from(clock.now())));
        }
        if let Some(ip) = ip {
            if let Err(not_until) = self.per_ip.check_key(&ip) {
                waits.push((format!("i:{ip}"), not_until.wait_time_from(clock.now())));
            }
        }
        let mut blocked = self.blocked.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = Instant::now();
        let longest = waits.iter().map(|(_, wait)| *wait).max();
        for (key, wait) in waits {
            blocked.insert(key, now + wait);
        }
        longest.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sixth_failure_for_an_email_is_blocked_and_other_emails_are_not() {
        let throttle = SignInThrottle::new();
        let ip: IpAddr = [10, 0, 0, 1].into();
        for _ in 0..5 {
            assert!(throttle.check("a@example.com", Some(ip)).is_ok());
            assert!(throttle.record_failure("a@example.com", Some(ip)).is_ok());
        }
        let wait = throttle.record_failure("a@example.com", Some(ip)).expect_err("sixth");
        assert!(wait > Duration::from_secs(60) && wait <= Duration::from_secs(180), "{wait:?}");
        assert!(throttle.check("a@example.com", None).is_err());
        assert!(throttle.check("b@example.com", Some([10, 0, 0, 2].into())).is_ok());
    }

    #[test]
    fn one_address_trying_many_emails_is_blocked_too() {
        let throttle = SignInThrottle::new();
        let ip: IpAddr = [10, 0, 0, 9].into();
        let mut blocked_after = None;
        for n in 0..25 {
            if throttle.record_failure(&format!("u{n}@example.com"), Some(ip)).is_err() {
                blocked_after = Some(n);
                break;
            }
        }
        assert_eq!(blocked_after, Some(20));
        assert!(throttle.check("fresh@example.com", Some(ip)).is_err());
    }
}
