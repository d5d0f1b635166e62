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

/// A small secondary button (mark read, rename, revoke).
pub const SMALL_BUTTON: &str = "rounded-md border border-slate-300 bg-white px-2.5 py-1.5 text-sm font-medium text-slate-700 hover:bg-slate-100 focus:outline-none focus:ring-2 focus:ring-indigo-500";

/// A time for people: `2026-11-22 14:05 UTC`.
pub fn when(time: &chrono::DateTime<chrono::Utc>) -> String {
    time.format("%Y-%m-%d %H:%M UTC").to_string()
}
