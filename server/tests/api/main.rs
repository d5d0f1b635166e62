//! The HTTP surface, in-process on loopback, against a fresh SQLite file per test.

mod alerts;
mod auth;
mod dashboard;
mod delivery;
mod hardening;
mod helpers;
mod isolation;
mod keys;
mod live;
mod metering;
mod openapi;
mod pages;
mod sinks;
mod suggestions;
mod upgrades;
mod webhooks;
