//! The engine's clock. The system clock in production; a clock the tests set by hand, so
//! month rollover and period resets are tested at the boundary instead of waited for.

use chrono::{DateTime, Duration, Utc};
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
pub struct Clock {
    manual: Option<Arc<Mutex<DateTime<Utc>>>>,
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.manual.is_some() { "Clock::manual" } else { "Clock::system" })
    }
}

impl Clock {
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock that stands still at `at` until it is set or advanced.
    pub fn manual(at: DateTime<Utc>) -> Self {
        Self { manual: Some(Arc::new(Mutex::new(at))) }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.manual {
            Some(at) => *at.lock().unwrap_or_else(|p| p.into_inner()),
            None => Utc::now(),
        }
    }

    /// Moves a manual clock to `at`; a system clock ignores it.
    pub fn set(&self, at: DateTime<Utc>) {
        if let Some(now) = &self.manual {
            *now.lock().unwrap_or_else(|p| p.into_inner()) = at;
        }
    }

    pub fn advance(&self, by: Duration) {
        self.set(self.now() + by);
    }
}
