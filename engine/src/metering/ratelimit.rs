//! Rate limits, in memory (governor's GCRA).
//!
//! - Each plan allows so many requests per minute and per day, counted per account. This
//!   covers a customer's own traffic: `keys/verify` and calls made with a customer key.
//! - The operator's service keys fall under one separate limit per key, per second.
//!
//! Only authenticated requests reach these limiters, so a stranger's failed attempts never
//! spend anyone's allowance.

use crate::auth::throttle::quota;
use crate::catalog::Catalog;
use crate::AccountId;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::middleware::StateSnapshot;
use governor::{NotUntil, RateLimiter};
use std::collections::HashMap;
use std::hash::Hash;
use std::time::Duration;

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock, StateInformationMiddleware>;

/// One window's state after a decision, for the `RateLimit` headers and the verify answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// `minute`, `day` or `second`.
    pub name: &'static str,
    pub limit: u64,
    pub remaining: u64,
    /// Seconds until the window is whole again (or, when refused, until the next request
    /// may pass).
    pub reset_secs: u64,
    pub window_secs: u64,
}

/// The outcome of a rate-limit check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateDecision {
    pub allowed: bool,
    /// The windows checked, the tightest first.
    pub windows: Vec<Window>,
    /// When refused: seconds until a request may pass.
    pub retry_after_secs: u64,
}

impl RateDecision {
    /// A decision for a request no limit applies to.
    pub fn unlimited() -> Self {
        Self { allowed: true, windows: Vec::new(), retry_after_secs: 0 }
    }

    /// The window with the fewest requests left: the one the headers report.
    pub fn tightest(&self) -> Option<&Window> {
        self.windows.iter().min_by_key(|w| (w.remaining, std::cmp::Reverse(w.reset_secs)))
    }
}

struct Limiter<K: Hash + Eq + Clone> {
    name: &'static str,
    limit: u64,
    window: Duration,
    inner: Keyed<K>,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    fn new(name: &'static str, limit: u64, window: Duration) -> Self {
        let burst = u32::try_from(limit).unwrap_or(u32::MAX);
        let inner = RateLimiter::dashmap_with_clock(quota(burst, window), DefaultClock::default())
            .with_middleware::<StateInformationMiddleware>();
        Self { name, limit: u64::from(burst.max(1)), window, inner }
    }

    /// Seconds for `cells` cells to come back.
    fn refill_secs(&self, cells: u64) -> u64 {
        let per_cell = self.window.as_secs_f64() / self.limit as f64;
        (per_cell * cells as f64).ceil() as u64
    }

    fn check(&self, key: &K) -> Result<Window, Window> {
        match self.inner.check_key(key) {
            Ok(snapshot) => Ok(self.window_after(&snapshot)),
            Err(not_until) => Err(self.refused(&not_until)),
        }
    }

    fn window_after(&self, snapshot: &StateSnapshot) -> Window {
        let remaining = u64::from(snapshot.remaining_burst_capacity()).min(self.limit);
        Window {
            name: self.name,
            limit: self.limit,
            remaining,
            reset_secs: self.refill_secs(self.limit - remaining),
            window_secs: self.window.as_secs(),
        }
    }

    fn refused(&self, not_until: &NotUntil<<DefaultClock as Clock>::Instant>) -> Window {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        Window {
            name: self.name,
            limit: self.limit,
            remaining: 0,
            reset_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
            window_secs: self.window.as_secs(),
        }
    }
}

struct PlanLimiters {
    minute: Limiter<AccountId>,
    day: Limiter<AccountId>,
}

/// Every rate limiter the server keeps.
pub(crate) struct RateLimits {
    by_plan: HashMap<String, PlanLimiters>,
    service: Limiter<String>,
}

impl RateLimits {
    pub(crate) fn new(catalog: &Catalog, service_per_second: u64) -> Self {
        let by_plan = catalog
            .plans()
            .iter()
            .map(|plan| {
                let limits = PlanLimiters {
                    minute: Limiter::new("minute", plan.rate_limits.per_minute, Duration::from_secs(60)),
                    day: Limiter::new("day", plan.rate_limits.per_day, Duration::from_secs(86_400)),
                };
                (plan.id.clone(), limits)
            })
            .collect();
        Self { by_plan, service: Limiter::new("second", service_per_second.max(1), Duration::from_secs(1)) }
    }

    /// Counts one request of an account on its plan's limits.
    pub(crate) fn check_account(&self, plan_id: &str, account: &AccountId) -> RateDecision {
        let Some(limits) = self.by_plan.get(plan_id) else { return RateDecision::unlimited() };
        match limits.minute.check(account) {
            Err(minute) => RateDecision { allowed: false, retry_after_secs: minute.reset_secs, windows: vec![minute] },
            Ok(minute) => match limits.day.check(account) {
                Ok(day) => RateDecision { allowed: true, windows: vec![minute, day], retry_after_secs: 0 },
                Err(day) => RateDecision { allowed: false, retry_after_secs: day.reset_secs, windows: vec![minute, day] },
            },
        }
    }

    /// Counts one request of a service key on the service limit.
    pub(crate) fn check_service(&self, key_id: &str) -> RateDecision {
        match self.service.check(&key_id.to_owned()) {
            Ok(window) => RateDecision { allowed: true, windows: vec![window], retry_after_secs: 0 },
            Err(window) => RateDecision { allowed: false, retry_after_secs: window.reset_secs, windows: vec![window] },
        }
    }

    /// Drops the state of keys that are back to a full allowance.
    pub(crate) fn shrink(&self) {
        for limits in self.by_plan.values() {
            limits.minute.inner.retain_recent();
            limits.day.inner.retain_recent();
        }
        self.service.inner.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_allows_its_per_minute_requests_then_refuses_with_a_wait() {
        let catalog = Catalog::demo().expect("demo catalog");
        let limits = RateLimits::new(&catalog, 1000);
        let account = AccountId::parse("acc_rate").expect("id");
        let free = catalog.plan("free").expect("free plan");
        let per_minute = free.rate_limits.per_minute;
        for n in 0..per_minute {
            let decision = limits.check_account("free", &account);
            assert!(decision.allowed, "request {n} of {per_minute} is allowed");
            assert_eq!(decision.tightest().map(|w| w.remaining), Some(per_minute - n - 1));
        }
        let refused = limits.check_account("free", &account);
        assert!(!refused.allowed);
        assert!((1..=60).contains(&refused.retry_after_secs), "{refused:?}");
        // Another account has its own allowance.
        assert!(limits.check_account("free", &AccountId::parse("acc_other").expect("id")).allowed);
    }

    #[test]
    fn the_service_limit_is_per_key() {
        let catalog = Catalog::demo().expect("demo catalog");
        let limits = RateLimits::new(&catalog, 3);
        for _ in 0..3 {
            assert!(limits.check_service("key_a").allowed);
        }
        assert!(!limits.check_service("key_a").allowed);
        assert!(limits.check_service("key_b").allowed);
    }
}
