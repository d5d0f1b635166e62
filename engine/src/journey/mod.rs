//! The customer's journey: what the dashboard shows (overview), what it suggests, what
//! the account may use (features), the upgrade requests, refusals counted for the
//! suggestions, and the account's own alert thresholds.

pub mod features;
pub mod overview;
pub mod refusals;
pub mod requests;
pub mod suggestions;
pub mod thresholds;
