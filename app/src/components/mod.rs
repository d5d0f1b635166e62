//! Reusable pieces of the UI.

pub mod chart;
pub mod error_panel;
pub mod meter;
pub mod plan_card;
pub mod status_header;
