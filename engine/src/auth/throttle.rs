//! Failed sign-ins are limited per email and per client address (governor's GCRA).
//! Once a key's burst is spent it is blocked until a cell is free again. Sign-ups and
//! sign-in link redemptions are limited per address, and one sign-in per email is checked
//! at a time, so parallel guesses at one account cannot run ahead of the failure count.
//!
//! An email is public (an admin's especially), so strangers could keep it blocked for as
//! long as they keep failing. The addresses it has signed in from are therefore remembered
//! for 30 days (in memory, a few per email): from one of those, the email's own block does
//! not apply, only that address's. A stranger elsewhere cannot lock the owner out of their
//! usual address; from a new address the owner waits at most the block's time.

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
    sign_ups: DefaultKeyedRateLimiter<IpAddr>,
    redemptions: DefaultKeyedRateLimiter<IpAddr>,
    in_flight: Mutex<std::collections::HashSet<String>>,
    known: Mutex<HashMap<String, Vec<(IpAddr, Instant)>>>,
}

/// How long an address an email signed in from stays known, and how many are kept.
const KNOWN_FOR: Duration = Duration::from_secs(30 * 24 * 3600);
const KNOWN_PER_EMAIL: usize = 8;
/// Past this many emails, the least recently seen are forgotten first.
const KNOWN_EMAILS: usize = 100_000;

/// A sign-in being checked for one email; the email is free again when it drops.
pub(crate) struct InFlight<'a> {
    throttle: &'a SignInThrottle,
    email: String,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.throttle.in_flight.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.email);
    }
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
            sign_ups: RateLimiter::keyed(quota(5, Duration::from_secs(10 * 60))),
            redemptions: RateLimiter::keyed(quota(10, window)),
            in_flight: Mutex::new(std::collections::HashSet::new()),
            known: Mutex::new(HashMap::new()),
        }
    }

    /// Remembers that `email` signed in from `ip`.
    pub(crate) fn record_success(&self, email: &str, ip: Option<IpAddr>) {
        let Some(ip) = ip else { return };
        let now = Instant::now();
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        if known.len() >= KNOWN_EMAILS && !known.contains_key(email) {
            let stalest = known.iter().min_by_key(|(_, seen)| seen.iter().map(|(_, at)| *at).max()).map(|(email, _)| email.clone());
            if let Some(stalest) = stalest {
                known.remove(&stalest);
            }
        }
        let seen = known.entry(email.to_owned()).or_default();
        seen.retain(|(known_ip, at)| *known_ip != ip && now.duration_since(*at) < KNOWN_FOR);
        seen.push((ip, now));
        if seen.len() > KNOWN_PER_EMAIL {
            seen.remove(0);
        }
    }

    /// Whether `email` has signed in from `ip` within the last 30 days.
    fn is_known(&self, email: &str, ip: Option<IpAddr>) -> bool {
        let Some(ip) = ip else { return false };
        let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        known.get(email).is_some_and(|seen| seen.iter().any(|(known_ip, at)| *known_ip == ip && at.elapsed() < KNOWN_FOR))
    }

    /// Claims the email for one sign-in check; `None` while another is being checked.
    pub(crate) fn begin(&self, email: &str) -> Option<InFlight<'_>> {
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        in_flight.insert(email.to_owned()).then(|| InFlight { throttle: self, email: email.to_owned() })
    }

    /// Counts a sign-up from `ip`: 5 per 10 minutes per address.
    pub(crate) fn sign_up(&self, ip: Option<IpAddr>) -> Result<(), Duration> {
        Self::spend(&self.sign_ups, ip)
    }

    /// Counts a sign-in link redemption from `ip`: 10 per 15 minutes per address.
    pub(crate) fn redemption(&self, ip: Option<IpAddr>) -> Result<(), Duration> {
        Self::spend(&self.redemptions, ip)
    }

    fn spend(limiter: &DefaultKeyedRateLimiter<IpAddr>, ip: Option<IpAddr>) -> Result<(), Duration> {
        let Some(ip) = ip else { return Ok(()) };
        limiter.check_key(&ip).map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// Forgets keys whose limits are whole again, so attacker-chosen emails and addresses
    /// cannot grow memory without bound.
    pub(crate) fn shrink(&self) {
        self.per_email.retain_recent();
        self.per_ip.retain_recent();
        self.sign_ups.retain_recent();
        self.redemptions.retain_recent();
        let now = Instant::now();
        self.blocked.lock().unwrap_or_else(|p| p.into_inner()).retain(|_, until| *until > now);
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        known.retain(|_, seen| {
            seen.retain(|(_, at)| now.duration_since(*at) < KNOWN_FOR);
            !seen.is_empty()
        });
    }

    /// How long the caller must wait, if either key is blocked. The email's block does not
    /// apply from an address the email has signed in from.
    pub(crate) fn check(&self, email: &str, ip: Option<IpAddr>) -> Result<(), Duration> {
        let known = self.is_known(email, ip);
        let now = Instant::now();
        let mut blocked = self.blocked.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        blocked.retain(|_, until| *until > now);
        let wait = [(!known).then(|| format!("e:{email}")), ip.map(|ip| format!("i:{ip}"))]
            .into_iter()
            .flatten()
            .filter_map(|key| blocked.get(&key).map(|until| *until - now))
            .max();
        wait.map_or(Ok(()), Err)
    }

    /// Counts a failure; returns the wait if this failure spent the last attempt. A failure
    /// from a known address counts against that address only.
    pub(crate) fn record_failure(&self, email: &str, ip: Option<IpAddr>) -> Result<(), Duration> {
        let clock = DefaultClock::default();
        let mut waits = Vec::new();
        let known = self.is_known(email, ip);
        if let Some(not_until) = (!known).then(|| self.per_email.check_key(&email.to_owned()).err()).flatten() {
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

    #[test]
    fn strangers_cannot_lock_an_email_out_of_the_address_it_signs_in_from() {
        let throttle = SignInThrottle::new();
        let home: IpAddr = [10, 0, 0, 5].into();
        throttle.record_success("admin@example.com", Some(home));
        // Strangers, each from their own address, spend the email's attempts.
        for n in 0..10u8 {
            let _ = throttle.record_failure("admin@example.com", Some([192, 0, 2, n].into()));
        }
        assert!(throttle.check("admin@example.com", Some([198, 51, 100, 1].into())).is_err(), "blocked from a new address");
        assert!(throttle.check("admin@example.com", None).is_err());
        assert!(throttle.check("admin@example.com", Some(home)).is_ok(), "not from the address it signs in from");
        // A mistyped password at home counts against home only, and still runs out.
        let mut refused = 0;
        for _ in 0..21 {
            if throttle.record_failure("admin@example.com", Some(home)).is_err() {
                refused += 1;
            }
        }
        assert_eq!(refused, 1, "the address's own 20 attempts still apply: the 21st is refused");
        assert!(throttle.check("admin@example.com", Some(home)).is_err());
        // Another email never signed in from `home`, so `home` is not known for it.
        assert!(!throttle.is_known("other@example.com", Some(home)));
    }
}
