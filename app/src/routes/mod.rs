//! One file per page.

pub mod account;
pub mod alert_settings;
pub mod admin;
pub mod dashboard;
pub mod keys;
pub mod not_found;
pub mod notifications;
pub mod signin;
pub mod welcome;
pub mod analytics;
pub mod export;
pub mod plans;
pub mod upgrade;
