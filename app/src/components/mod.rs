//! Reusable pieces of the UI.

pub mod chart;
pub mod error_panel;
pub mod frame;
pub mod license;
pub mod meter;
pub mod plan_card;
pub mod plan_history;
pub mod status_header;
pub mod suggestions;
pub mod tiers;
pub mod upgrade_modal;

/// A time for people: `2026-11-22 14:05 UTC`.
pub fn when(time: &chrono::DateTime<chrono::Utc>) -> String {
    time.format("%Y-%m-%d %H:%M UTC").to_string()
}
